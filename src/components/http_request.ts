/**
 * `http/Request`: an HTTP client component. Each message makes one request
 * (method, URL, headers and body from the message or from the port's
 * settings), retried with backoff on 5xx answers and network errors; the
 * response goes to `out` as `{ status, headers, body }`, a failure (after
 * the retries) to `error`. The hosts it reaches can be limited by the
 * server and by a flow's `properties.allow.hosts`; a token for the target,
 * and any header whose value is a secret (`secretHeaders`), comes only as a
 * secret reference and never appears in an error or a log.
 *
 * @module
 */
import {
  fetchErrorText,
  urlShown,
  urlTextShown,
} from "../runtime/fetch_error.ts";
import {
  type Component,
  defineComponent,
  describeType,
  parseDuration,
} from "../engine/component.ts";
import { restrictable } from "../engine/flow_allow.ts";
import type { Meter } from "../engine/meters.ts";
import {
  _NO_SECRETS,
  _Secret,
  type _SecretRef,
  type SecretPolicy,
} from "./_secret.ts";
import {
  encodeBody,
  headersObject,
  parseBody,
  parseMethod,
  readLimited,
} from "./http_body.ts";
import { HostAllowList } from "./http_hosts.ts";

/** Options of {@linkcode httpRequest}. */
export interface HttpRequestOptions {
  /**
   * The hosts every flow may reach (the server's allow list), e.g.
   * `["api.example.com", "*.corp.example", "10.0.0.5:8080"]`. Default
   * every host; a flow's `properties.allow.hosts` narrows it further.
   */
  hosts?: readonly string[] | HostAllowList;
  /**
   * Where `token` may come from (the operator's secrets folder and
   * variables). Default nothing: every reference is refused at validation.
   */
  secrets?: SecretPolicy;
}

/** The message `http/Request` sends on `out`. */
export interface HttpResponseMessage {
  /** The HTTP status (2xx or 3xx: 4xx and 5xx go to `error`). */
  status: number;
  /** The response headers, names in lower case. */
  headers: Record<string, string>;
  /** The body by content type: JSON parsed, text, a form as an object, else bytes; `null` when empty. */
  body: unknown;
}

/** Default of `timeout`: 10 s. */
export const DEFAULT_HTTP_REQUEST_TIMEOUT_MS = 10_000;
/** Default of `maxBody`: 16 MiB. */
export const DEFAULT_HTTP_REQUEST_MAX_BODY = 16 * 1024 * 1024;
/** Redirects followed (each host checked) before it is an error. */
const MAX_REDIRECTS = 5;
/** The longest wait between two attempts, whatever the backoff. */
const MAX_BACKOFF_MS = 60_000;

/** Why one attempt failed. */
type _Outcome =
  | { kind: "ok"; response: HttpResponseMessage }
  | { kind: "http_error"; status: number; statusText: string }
  | { kind: "network_error"; message: string }
  | { kind: "timeout" }
  | { kind: "invalid"; message: string };

interface RequestState {
  /**
   * The headers made of secrets, read at setup: `Authorization` from the
   * token, and each of `secretHeaders`. Sent last, over any other value.
   */
  secretHeaders: readonly (readonly [string, _Secret])[];
  requests: Record<"ok" | "http_error" | "network_error" | "timeout", Meter>;
  retries: Meter;
}

/**
 * The value of header `name` made of `prefix` (a scheme such as `Bearer `)
 * and a secret, as a header carries it (whitespace at either end dropped,
 * as `Headers` does), or an error naming the reference alone: a value a
 * header cannot hold (a line break, a NUL or another control character
 * but a tab, a character past U+00FF, as a secret file with a stray line
 * in it has) would fail each request with the runtime's own message, which
 * on Deno quotes the value, secret included (`Invalid header value:
 * "Bearer ..."`); a control character Deno refuses at each request
 * ("failed to parse header value") and Bun sends, for the server to refuse.
 */
function _secretHeaderValue(
  name: string,
  prefix: string,
  secret: _Secret,
  what: string,
): _Secret {
  const value = `${prefix}${secret.reveal()}`.replace(
    /^[\t\n\r ]+|[\t\n\r ]+$/g,
    "",
  );
  const holds = /[\0\r\n]|[^\0-\xff]/.test(value)
    ? "a line break, a NUL or a character beyond U+00FF"
    : _CONTROL_RE.test(value)
    ? "a control character (other than a tab)"
    : undefined;
  if (holds !== undefined) {
    throw new TypeError(
      `Cannot use the ${what} ${secret.ref}: it holds ${holds}, which ${
        name === "authorization" ? "an Authorization" : `a ${name}`
      } header cannot carry (the ${what} is not shown)`,
    );
  }
  return new _Secret(value, secret.ref);
}

/** The control characters a header value cannot hold besides NUL, CR, LF. */
// deno-lint-ignore no-control-regex
const _CONTROL_RE = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/** A header whose value is a secret: `prefix` (maybe empty), then the secret. */
interface _SecretHeader {
  readonly name: string;
  readonly prefix: string;
  readonly ref: _SecretRef;
}

/**
 * The parsed `secretHeaders` setting; none for its default (`{}`, which a
 * port's `parse` never sees).
 */
function _secretHeaders(setting: unknown): readonly _SecretHeader[] {
  return Array.isArray(setting) ? setting : [];
}

/** An optional scheme (an RFC 9110 token) and one space, then the reference. */
const _SECRET_HEADER_RE =
  /^(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+) )?((?:env|file):.*)$/s;

/**
 * The `secretHeaders` setting: header names to secret references, each
 * after an optional scheme and a space (`"env:API_KEY"`, `"Token
 * file:influx"`). Every reference is checked by the operator's policy; no
 * value, prefix or reference text is quoted in an error (a plain string
 * there is most likely the secret itself).
 */
function _secretHeadersSetting(
  value: unknown,
  secrets: SecretPolicy,
): readonly _SecretHeader[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      'expected secretHeaders as an object of header names to secret references, e.g. {"X-Api-Key": "env:API_KEY", "Authorization": "Token file:influx"}',
    );
  }
  const out: _SecretHeader[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const shown = JSON.stringify(k.slice(0, 60));
    try {
      new Headers({ [k]: "x" });
    } catch {
      throw new TypeError(`header ${shown} is not a valid header name`);
    }
    const name = k.toLowerCase();
    if (out.some((h) => h.name === name)) {
      throw new TypeError(`header ${shown} is given twice`);
    }
    const m = typeof v === "string" ? _SECRET_HEADER_RE.exec(v) : null;
    if (m === null) {
      throw new TypeError(
        `header ${shown}: expected a secret reference, "env:NAME" or "file:NAME", maybe after a scheme and a space ("Token env:NAME"); received ${
          typeof v === "string"
            ? `a string of ${v.length} characters`
            : describeType(v)
        } (not shown)`,
      );
    }
    let ref: _SecretRef;
    try {
      ref = secrets.parse(m[2]);
    } catch (e) {
      const error = e as Error;
      throw new (error instanceof RangeError ? RangeError : TypeError)(
        `header ${shown}: ${error.message}`,
      );
    }
    out.push(Object.freeze({ name, prefix: m[1] ? `${m[1]} ` : "", ref }));
  }
  return Object.freeze(out);
}

/**
 * Parses a URL `http/Request` may fetch. `from` says where it came from, so
 * a refused credential points to the right fix: a graph's setting is shown
 * by the flow API and the dashboard, a message's URL is data.
 */
function _parseUrl(
  value: unknown,
  hosts: HostAllowList,
  from: "setting" | "message",
): URL {
  if (typeof value !== "string") {
    throw new TypeError(
      `expected a URL such as "https://api.example.com/readings", received ${
        value === null ? "null" : typeof value
      }`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RangeError(
      `Cannot use URL ${
        JSON.stringify(urlTextShown(value))
      }: it does not parse (write it whole, e.g. "https://api.example.com/readings")`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    // The scheme only: the rest of an opaque URL ("user:secret@host") is
    // no host and path that _shown could cut its credentials from.
    throw new RangeError(
      `Cannot use URL with scheme ${
        JSON.stringify(url.protocol.slice(0, 40))
      }: only http: and https: are supported (e.g. "https://api.example.com/readings")`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    // fetch() would send them as Authorization: Basic, and a setting would
    // keep the password in the graph the API shows: refused, never quoted.
    throw new RangeError(
      `Cannot use URL ${
        JSON.stringify(urlShown(url))
      }: it must not hold a user name or password (not shown); ${
        from === "message"
          ? "send a token from the token port or an authorization header in the message's headers"
          : 'give a bearer token as a secret reference on the token port, "env:NAME" or "file:NAME"'
      }`,
    );
  }
  hosts.check(url);
  return url;
}

const _BOTH_AUTHORIZATIONS =
  "both token and secretHeaders give the Authorization header: keep one (token sends it as Bearer; secretHeaders can give another scheme)";

/** Headers a graph may not hold: their values are secrets. */
const _SECRET_HEADERS = ["authorization", "proxy-authorization"];

/**
 * The `headers` setting: a graph is stored and shown by the API, so a
 * header carrying a secret is refused (the value never repeated), as the
 * `token` port refuses a literal token.
 */
function _headersSetting(value: unknown): Record<string, string> {
  const out = _headers(value);
  for (const name of _SECRET_HEADERS) {
    if (name in out) {
      throw new TypeError(
        `header ${
          JSON.stringify(name)
        } may not be set in headers (it would put a secret in the graph); give a bearer token as a secret reference on the token port, "env:NAME" or "file:NAME", never the secret itself`,
      );
    }
  }
  return out;
}

/**
 * Headers as an object of lower-case names to values. A message's may
 * carry a secret: they are data, not part of the graph.
 */
function _headers(value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      "expected headers as an object of header names to string values",
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string" && typeof v !== "number") {
      throw new TypeError(
        `header ${JSON.stringify(k.slice(0, 60))} must be a string or a number`,
      );
    }
    try {
      new Headers({ [k]: String(v) });
    } catch {
      throw new TypeError(
        `header ${JSON.stringify(k.slice(0, 60))} is not a valid header`,
      );
    }
    out[k.toLowerCase()] = String(v);
  }
  return out;
}

function _count(what: string, min: number, max: number) {
  return (value: unknown): number => {
    if (
      !Number.isSafeInteger(value) || (value as number) < min ||
      (value as number) > max
    ) {
      throw new RangeError(
        `expected ${what} as an integer from ${min} to ${max}, received ${
          JSON.stringify(value)
        }`,
      );
    }
    return value as number;
  };
}

function _duration(min: number) {
  return (value: unknown): number => {
    const ms = parseDuration(value);
    if (ms < min || ms > 2 ** 31 - 1) {
      throw new RangeError(
        `expected a duration from ${min} ms to 2147483647 ms, received ${
          JSON.stringify(value)
        }`,
      );
    }
    return ms;
  };
}

const _REQUEST_KEYS = ["url", "method", "headers", "body", "query"];

/** Whether a message describes a request (else it is the body). */
function _describesRequest(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return false;
  }
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return false;
  for (const k of _REQUEST_KEYS) if (k in value) return true;
  return false;
}

/** Sleeps `ms`, or less when `signal` aborts. */
function _sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * `http/Request` reaching only the hosts `options.hosts` allows (every
 * host by default), narrowed further by a flow's `properties.allow.hosts`.
 *
 * Each message on `in` makes one request:
 * - an object with any of `url`, `method`, `headers`, `body`, `query`
 *   describes it (each overriding the port's setting; `headers` added to
 *   the setting's; `query` an object of parameters added to the URL);
 * - any other value is the body (not sent with GET or HEAD).
 *
 * A body is sent as text when a string, as bytes when a `Uint8Array`, else
 * as JSON, with that content type unless a header gives one. The request
 * is tried up to `attempts` times: again after a 5xx answer, a network
 * error or a timeout, waiting `backoff`, then twice that, and so on (at
 * most 60 s). A 2xx or 3xx answer goes to `out` as
 * `{ status, headers, body }` (body parsed by its content type); a 4xx, or
 * what still fails after the last attempt, goes to `error` with a message
 * that names the method, the URL without its query, and why. Redirects are
 * followed (up to 5) only to allowed hosts. With `token` set (a secret
 * reference, `env:NAME` or `file:NAME`), it is sent as `Authorization:
 * Bearer <token>`: the value is read when the flow starts and never
 * appears in an error, a log or a message. A URL with a user name or
 * password in it is refused (a setting at validation, a message's URL as
 * an error of that message), the password never shown: fetch() would send
 * it as Basic credentials, and a setting would keep it in the graph.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { httpRequest } from "./http_request.ts";
 * import { restrictComponent } from "../engine/flow_allow.ts";
 *
 * const Request = httpRequest();
 * assert.throws(() => Request.inPorts.url.parse?.("not a url"), /does not parse/);
 * const flow = restrictComponent(Request, { hosts: ["api.example.com"] });
 * assert.throws(() => flow.inPorts.url.parse?.("https://evil.example/x"), /not in the allow list/);
 * assert.throws(() => Request.inPorts.token.parse?.("hunter2"), (e: Error) => !e.message.includes("hunter2"));
 * assert.throws(
 *   () => Request.inPorts.url.parse?.("https://me:hunter2@api.example.com/x"),
 *   (e: Error) => /must not hold a user name or password/.test(e.message) && !e.message.includes("hunter2"),
 * );
 * ```
 */
export function httpRequest(options: HttpRequestOptions = {}): Component {
  const hosts = options.hosts instanceof HostAllowList
    ? options.hosts
    : new HostAllowList(options.hosts);
  return _make(hosts, options.secrets ?? _NO_SECRETS);
}

function _make(hosts: HostAllowList, secrets: SecretPolicy): Component {
  const component = defineComponent<RequestState>({
    name: "http/Request",
    description:
      "Makes an HTTP request per message (retried with backoff on 5xx and network errors); the response goes to out, failures to error.",
    concurrency: 1,
    inPorts: {
      in: {
        description:
          "A request { url?, method?, headers?, body?, query? } (each overriding the settings), or any other value as the body.",
      },
      url: {
        type: "string",
        control: true,
        parse: (v) => _parseUrl(v, hosts, "setting").href,
        description:
          'The URL, e.g. "https://api.example.com/readings" (unless each message gives its url); no user name or password in it: use token.',
      },
      method: {
        type: "string",
        control: true,
        default: "GET",
        parse: parseMethod,
        description:
          "GET (default), HEAD, POST, PUT, PATCH, DELETE or OPTIONS.",
      },
      headers: {
        type: "object",
        control: true,
        default: {},
        parse: _headersSetting,
        description:
          "Headers sent with every request (a message's headers are added to them). No secrets here: use token or secretHeaders.",
      },
      secretHeaders: {
        type: "object",
        control: true,
        default: {},
        parse: (value) => _secretHeadersSetting(value, secrets),
        secret: true,
        description:
          'Headers whose values are secrets, each a secret reference ("env:NAME" or "file:NAME", as token) after an optional scheme and a space, e.g. {"X-Api-Key": "env:API_KEY", "Authorization": "Token file:influx"}; read when the flow starts, sent over any other value of the header, never shown, and dropped on a redirect to another origin.',
      },
      token: {
        type: "string",
        control: true,
        parse: (value) => secrets.parse(value),
        secret: true,
        description:
          'A bearer token for the target as a secret reference, "env:NAME" (a variable the operator allowed with --secret-env) or "file:NAME" (a file in --secrets-dir), never the token itself; sent as Authorization: Bearer.',
      },
      timeout: {
        type: "duration",
        control: true,
        default: DEFAULT_HTTP_REQUEST_TIMEOUT_MS,
        parse: _duration(1),
        description:
          'How long one attempt may take, answer body included, e.g. "5s" (default 10 s).',
      },
      attempts: {
        type: "integer",
        control: true,
        default: 3,
        parse: _count("a number of attempts", 1, 100),
        description:
          "Tries in all for one message, the first included (default 3): again after a 5xx, a network error or a timeout.",
      },
      backoff: {
        type: "duration",
        control: true,
        default: 200,
        parse: _duration(0),
        description:
          'The wait before the second try, doubled before each next one (at most 60 s), e.g. "500ms" (default 200 ms).',
      },
      maxBody: {
        type: "integer",
        control: true,
        default: DEFAULT_HTTP_REQUEST_MAX_BODY,
        parse: _count("a body size in bytes", 1, 2 ** 30),
        description:
          "The largest response body read, in bytes; a larger one is an error (default 16 MiB).",
      },
    },
    outPorts: {
      out: {
        type: "object",
        description:
          "The response of each successful request (2xx, 3xx): { status, headers, body }.",
      },
    },
    meters: [
      {
        name: "http_client_requests_total",
        type: "counter",
        help: "Messages http/Request handled, by how the last attempt ended.",
        moves:
          "once per message, after its last attempt: ok (2xx or 3xx), http_error (4xx, 5xx after every attempt, or a body that does not parse or is larger than maxBody: neither retried), network_error, timeout",
        labels: [{
          name: "result",
          help: "How the last attempt ended.",
          values: ["ok", "http_error", "network_error", "timeout"],
        }],
      },
      {
        name: "http_client_retries_total",
        type: "counter",
        help:
          "Attempts http/Request made again after a 5xx answer, a network error or a timeout.",
        moves:
          "on each attempt after the first; a steady rise means the target is failing",
      },
    ],
    checkProcesses(processes) {
      return processes.flatMap(({ process, settings }) => {
        return settings.token !== undefined &&
            _secretHeaders(settings.secretHeaders).some((h) =>
              h.name === "authorization"
            )
          ? [{
            process,
            message: `process "${process}": ${_BOTH_AUTHORIZATIONS}`,
          }]
          : [];
      });
    },
    setup(ctx) {
      const token = ctx.control<_SecretRef | undefined>("token");
      const given = _secretHeaders(ctx.control("secretHeaders"));
      if (
        token !== undefined && given.some((h) => h.name === "authorization")
      ) {
        throw new TypeError(_BOTH_AUTHORIZATIONS);
      }
      const secretHeaders: [string, _Secret][] = given.map((h) => [
        h.name,
        _secretHeaderValue(h.name, h.prefix, secrets.resolve(h.ref), "secret"),
      ]);
      if (token !== undefined) {
        secretHeaders.push([
          "authorization",
          _secretHeaderValue(
            "authorization",
            "Bearer ",
            secrets.resolve(token),
            "token",
          ),
        ]);
      }
      return {
        secretHeaders,
        requests: {
          ok: ctx.meter("http_client_requests_total", { result: "ok" }),
          http_error: ctx.meter("http_client_requests_total", {
            result: "http_error",
          }),
          network_error: ctx.meter("http_client_requests_total", {
            result: "network_error",
          }),
          timeout: ctx.meter("http_client_requests_total", {
            result: "timeout",
          }),
        },
        retries: ctx.meter("http_client_retries_total"),
      };
    },
    async process(value, ctx) {
      const described = _describesRequest(value);
      const msg = described ? value : undefined;
      const rawUrl = msg?.url ?? ctx.control<string | undefined>("url");
      if (rawUrl === undefined) {
        throw new TypeError(
          "Cannot make a request: no URL (set the url port, or give the message a url)",
        );
      }
      const url = _parseUrl(
        rawUrl,
        hosts,
        msg?.url === undefined ? "setting" : "message",
      );
      if (msg?.query !== undefined) {
        if (
          msg.query === null || typeof msg.query !== "object" ||
          Array.isArray(msg.query)
        ) {
          throw new TypeError(
            "Cannot make a request: query must be an object of parameter names to values",
          );
        }
        for (const [k, v] of Object.entries(msg.query)) {
          for (const item of Array.isArray(v) ? v : [v]) {
            url.searchParams.append(k, String(item));
          }
        }
      }
      const method = msg?.method !== undefined
        ? parseMethod(msg.method)
        : ctx.control<string>("method");
      const headers = new Headers(
        ctx.control<Record<string, string>>("headers"),
      );
      if (msg?.headers !== undefined) {
        for (const [k, v] of Object.entries(_headers(msg.headers))) {
          headers.set(k, v);
        }
      }
      let body: string | Uint8Array | null = null;
      if (method !== "GET" && method !== "HEAD") {
        const encoded = encodeBody(described ? msg!.body : value);
        body = encoded.body;
        if (encoded.type !== null && !headers.has("content-type")) {
          headers.set("content-type", encoded.type);
        }
      }
      const state = ctx.state;
      for (const [name, secret] of state.secretHeaders) {
        headers.set(name, secret.reveal());
      }
      const attempts = ctx.control<number>("attempts");
      const timeoutMs = ctx.control<number>("timeout");
      const maxBody = ctx.control<number>("maxBody");
      let wait = ctx.control<number>("backoff");
      let outcome: _Outcome | undefined;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1) {
          state.retries.add(1);
          await _sleep(wait, ctx.signal);
          wait = Math.min(wait * 2, MAX_BACKOFF_MS);
        }
        if (ctx.signal.aborted) return;
        outcome = await _attempt(
          url,
          method,
          headers,
          state.secretHeaders,
          body,
          timeoutMs,
          maxBody,
          hosts,
          ctx.signal,
        );
        if (outcome.kind === "ok" || outcome.kind === "invalid") break;
        if (outcome.kind === "http_error" && outcome.status < 500) break;
        if (ctx.signal.aborted) return;
      }
      const o = outcome!;
      state.requests[o.kind === "invalid" ? "http_error" : o.kind].add(1);
      if (o.kind === "ok") return ctx.send("out", o.response);
      const tries = attempts === 1 ? "" : ` (${attempts} attempts)`;
      const what = `Cannot ${method} ${urlShown(url)}`;
      if (o.kind === "http_error") {
        throw new Error(
          `${what}: the server answered ${o.status}${
            o.statusText ? ` ${o.statusText}` : ""
          }${o.status >= 500 ? tries : ""}`,
        );
      }
      if (o.kind === "timeout") {
        throw new Error(`${what}: no answer within ${timeoutMs} ms${tries}`);
      }
      if (o.kind === "invalid") throw new Error(`${what}: ${o.message}`);
      throw new Error(`${what}: ${o.message}${tries}`);
    },
  });
  return restrictable(
    component,
    (allow) => _make(hosts.narrow(allow.hosts ?? []), secrets),
  );
}

/** One attempt, redirects followed to allowed hosts only. */
async function _attempt(
  start: URL,
  method: string,
  headers: Headers,
  secretHeaders: readonly (readonly [string, _Secret])[],
  body: string | Uint8Array | null,
  timeoutMs: number,
  maxBody: number,
  hosts: HostAllowList,
  stop: AbortSignal,
): Promise<_Outcome> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const signal = AbortSignal.any([stop, timeout.signal]);
  let url = start;
  // Each attempt starts from the message's headers: a redirect drops some.
  headers = new Headers(headers);
  try {
    for (let hop = 0;; hop++) {
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers,
          body: body as ConstructorParameters<typeof Response>[0],
          redirect: "manual",
          signal,
        });
      } catch (e) {
        if (timeout.signal.aborted) return { kind: "timeout" };
        return { kind: "network_error", message: fetchErrorText(e, url) };
      }
      const location = res.headers.get("location");
      if (
        res.status >= 300 && res.status < 400 && res.status !== 304 &&
        location !== null
      ) {
        await res.body?.cancel();
        if (hop >= MAX_REDIRECTS) {
          return {
            kind: "invalid",
            message: `more than ${MAX_REDIRECTS} redirects`,
          };
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          // Not retried, not quoted (it may hold a query).
          return {
            kind: "invalid",
            message:
              `the server answered ${res.status} with a Location that does not parse`,
          };
        }
        if (next.protocol !== "http:" && next.protocol !== "https:") {
          // fetch() reads file: URLs: a server must not make it read ours.
          return {
            kind: "invalid",
            message: `redirected to a ${
              JSON.stringify(next.protocol.slice(0, 40))
            } URL: only http: and https: are followed`,
          };
        }
        try {
          hosts.check(next);
        } catch (e) {
          // Not retried: the server would send it there again.
          return {
            kind: "invalid",
            message: `redirected to another host: ${(e as Error).message}`,
          };
        }
        if (next.origin !== url.origin) {
          // Another scheme, host or port (https to http included): the
          // credentials were for this origin only.
          for (const name of [..._SECRET_HEADERS, "cookie"]) {
            headers.delete(name);
          }
          for (const [name] of secretHeaders) headers.delete(name);
        }
        if (
          res.status === 303 ||
          ((res.status === 301 || res.status === 302) && method === "POST")
        ) {
          method = "GET";
          body = null;
          headers.delete("content-type");
        }
        url = next;
        continue;
      }
      if (res.status >= 400) {
        await res.body?.cancel();
        return {
          kind: "http_error",
          status: res.status,
          statusText: res.statusText,
        };
      }
      let bytes: Uint8Array;
      try {
        bytes = res.body === null
          ? new Uint8Array(0)
          : await readLimited(res.body, maxBody);
      } catch (e) {
        if (timeout.signal.aborted) return { kind: "timeout" };
        if (e instanceof RangeError) {
          // Larger than maxBody: not retried, the same server would send
          // the same body again.
          return {
            kind: "invalid",
            message: `the response ${
              e.message.replace(/^the body/, "body")
            } (status ${res.status})`,
          };
        }
        return { kind: "network_error", message: fetchErrorText(e, url) };
      }
      const responseHeaders = headersObject(res.headers);
      let parsed: unknown;
      try {
        parsed = parseBody(bytes, responseHeaders["content-type"]);
      } catch (e) {
        // Not retried: the same server would send the same body.
        return {
          kind: "invalid",
          message: `the response ${
            (e as Error).message.replace(/^the body/, "body")
          } (status ${res.status})`,
        };
      }
      return {
        kind: "ok",
        response: {
          status: res.status,
          headers: responseHeaders,
          body: parsed,
        },
      };
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `http/Request` reaching every host (narrowed only by a flow's
 * `properties.allow.hosts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpRequest } from "./http_request.ts";
 *
 * assert.equal(HttpRequest.inPorts.attempts.default, 3);
 * ```
 */
export const HttpRequest: Component = httpRequest();
