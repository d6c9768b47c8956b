/// <reference lib="dom" />
/**
 * The dashboard's HTTP client: every request carries the bearer token kept
 * in `sessionStorage` (never in a URL, never logged); a 401 asks the page
 * for a token (the `weir:auth` event on `window`).
 *
 * @module
 */
import { ApiError, refusalText } from "./api_error.ts";

export { ApiError };

const TOKEN_KEY = "weir.token";

/**
 * Where the server is mounted (`""` at the root, `/weir` for an app that
 * mounts weir's routes there), as the page's `weir-base` meta tag says.
 */
const BASE = globalThis.document?.querySelector<HTMLMetaElement>(
  'meta[name="weir-base"]',
)?.content ?? "";

/** A server path (`/flows`) as the page must ask for it (`/weir/flows`). */
export function serverPath(path: string): string {
  return BASE + path;
}

/** The token of this tab, or `null`. */
export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Keeps (or, with `null`, forgets) the token of this tab. */
export function setToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage refused (private mode): the token lives as long as the page.
  }
}

/** Headers of a request: the bearer token when there is one. */
export function authHeaders(extra?: Record<string, string>): Headers {
  const headers = new Headers(extra);
  const token = getToken();
  if (token !== null) headers.set("Authorization", `Bearer ${token}`);
  return headers;
}

/** Fired on `window` when the server asks for a token (401). */
export const AUTH_EVENT = "weir:auth";

/** The error text of an answer: `{"error": ...}` (both weir's and Prometheus's shapes). */
export function errorText(status: number, body: unknown, fallback: string) {
  if (typeof body === "object" && body !== null) {
    const e = (body as Record<string, unknown>).error;
    if (typeof e === "string") return e;
  }
  return fallback || `HTTP ${status}`;
}

/**
 * Turns an error answer into an {@linkcode ApiError} (and tells the page
 * about a 401).
 */
export async function failure(res: Response): Promise<ApiError> {
  let body: unknown = undefined;
  let text = "";
  try {
    text = await res.text();
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  if (res.status === 401) {
    globalThis.dispatchEvent(new CustomEvent(AUTH_EVENT));
  }
  let message = errorText(res.status, body, text.slice(0, 300));
  message = refusalText(res.status, message, getToken() !== null);
  return new ApiError(res.status, message, body);
}

/** `fetch` with the token; throws {@linkcode ApiError} on an error status. */
export async function request(
  path: string,
  init: { method?: string; signal?: AbortSignal; accept?: string } = {},
): Promise<Response> {
  const res = await fetch(serverPath(path), {
    method: init.method ?? "GET",
    headers: authHeaders({ Accept: init.accept ?? "application/json" }),
    signal: init.signal,
    cache: "no-store",
  });
  if (!res.ok) throw await failure(res);
  return res;
}

/** GET a JSON document. */
export async function getJson<T>(
  path: string,
  signal?: AbortSignal,
): Promise<T> {
  const res = await request(path, { signal });
  return await res.json() as T;
}

/** POST or DELETE with no body (so no Content-Type); answers the JSON body when any. */
export async function send(
  method: "POST" | "DELETE",
  path: string,
): Promise<unknown> {
  const res = await request(path, { method });
  const text = await res.text();
  return text === "" ? null : JSON.parse(text);
}

/** What `GET /ui/access` answers. */
export interface Access {
  /** Whether the server has tokens configured. */
  tokens: boolean;
  /** Whether this page's token (or no token) may change flows. */
  write: boolean;
  /** Whether the server keeps a metric history (absent: unknown, ask the query API). */
  history?: boolean;
  /** The prefix of the engine's metric names (absent: `weir`). */
  namespace?: string;
}

/** A flow as `GET /flows` lists it. */
export interface FlowInfo {
  id: string;
  rev: number;
  format: string;
  running: boolean;
  state: string;
  restart: string;
  required: boolean;
  restarts: number;
  processes: number;
  createdAt: string;
  updatedAt: string;
  error?: string;
  reason?: string;
  startedAt?: string;
}

/** An end of a connection in fbp-graph JSON. */
export interface GraphEnd {
  process: string;
  port: string;
  index?: number;
}

/** fbp-graph JSON, as much as the dashboard reads. */
export interface FbpGraph {
  processes: Record<string, { component: string; metadata?: unknown }>;
  connections: Array<{ src?: GraphEnd; tgt: GraphEnd; data?: unknown }>;
}

/** `GET /flows/:id`. */
export interface FlowDetail extends FlowInfo {
  graph?: FbpGraph;
}

/** One component of `GET /components`. */
export interface ComponentInfo {
  name: string;
  description?: string;
  inPorts: Array<{ name: string }>;
  outPorts: Array<{ name: string }>;
}

let _components: Promise<Map<string, ComponentInfo>> | undefined;

/** The component catalogue by name (and alias), read once per page. */
export function components(): Promise<Map<string, ComponentInfo>> {
  if (_components === undefined) {
    _components = getJson<
      { components: Array<ComponentInfo & { aliases?: string[] }> }
    >(
      "/components",
    ).then((r) => {
      const m = new Map<string, ComponentInfo>();
      for (const c of r.components) {
        m.set(c.name, c);
        for (const a of c.aliases ?? []) m.set(a, c);
      }
      return m;
    }).catch(() => {
      _components = undefined;
      return new Map();
    });
  }
  return _components;
}
