/**
 * The route group `/in/:flow/*`: the routes flows serve with `http/In`,
 * answered through the server's {@linkcode HttpInRouter}. One Hono route
 * per method, so the HTTP metrics label every request with the pattern
 * `/in/:flow/*`, never the raw path.
 *
 * @module
 */
import { Hono } from "hono";
import type { HttpInRouter } from "../components/http_in_router.ts";
import { _httpInError } from "../components/http_in_router.ts";
import { HTTP_COMPONENT_METHODS } from "../components/http_body.ts";

/** Options of {@linkcode httpInRoutes}. */
export interface HttpInRoutesOptions {
  /**
   * The state of flow `id` (`running`, `starting`, ...), or `undefined`
   * when there is no such flow: a request to a flow that serves no route
   * gets 503 while the flow starts, else 404. Default: always 404.
   */
  flowState?: (id: string) => string | undefined;
}

/** What a flow's state means for a request it serves no route for. */
function _missing(
  flow: string,
  path: string,
  state: string | undefined,
): Response {
  if (state === "starting" || state === "restarting") {
    return _httpInError(
      503,
      `flow "${flow}" is ${state}; retry in a moment`,
      { "Retry-After": "1" },
    );
  }
  const why = state === undefined
    ? `there is no flow "${flow}"`
    : state === "running"
    ? `flow "${flow}" serves no route for ${path} (see its http/In processes)`
    : `flow "${flow}" is ${state}, so it serves no routes`;
  return _httpInError(404, `no route for /in/${flow}${path}: ${why}`);
}

/**
 * The Hono routes `/in/:flow/*` for every method the HTTP components know:
 * each request goes to `router` with the path below `/in/<flow>`; a flow
 * that serves nothing there gets 404 (503 while it starts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpInRouter } from "../components/http_in_router.ts";
 * import { compileRoutePattern } from "../components/http_route_pattern.ts";
 * import { httpInRoutes } from "./http_in_routes.ts";
 *
 * const router = new HttpInRouter();
 * router.add({
 *   flow: "f", process: "In", methods: ["POST"], pattern: compileRoutePattern("/echo"),
 *   timeoutMs: 1000, maxBodyBytes: 1024, maxPending: 10,
 *   deliver: (m) => void router.respond("f", m.requestId, new Response(String(m.body))),
 * });
 * const app = httpInRoutes(router);
 * const res = await app.request("/in/f/echo", { method: "POST", body: "hi", headers: { "content-type": "text/plain" } });
 * assert.equal(await res.text(), "hi");
 * assert.equal((await app.request("/in/g/echo")).status, 404);
 * ```
 */
export function httpInRoutes(
  router: HttpInRouter,
  options: HttpInRoutesOptions = {},
): Hono {
  const flowState = options.flowState ?? (() => undefined);
  const app = new Hono();
  app.on([...HTTP_COMPONENT_METHODS], "/in/:flow/*", (c) => {
    // The raw path, as sent: Hono's path is decoded once already, and the
    // parameters are decoded once, by the router.
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", start);
    const full = q < 0 ? url.slice(start) : url.slice(start, q);
    const slash = full.indexOf("/", 4);
    const rawFlow = slash < 0 ? full.slice(4) : full.slice(4, slash);
    const path = slash < 0 ? "/" : full.slice(slash);
    let flow = rawFlow;
    try {
      if (rawFlow.includes("%")) flow = decodeURIComponent(rawFlow);
    } catch {
      return _httpInError(400, "the flow name is not valid percent-encoding");
    }
    const res = router.handle(flow, path, c.req.raw) ??
      _missing(flow, path, flowState(flow));
    return c.req.method === "HEAD" ? _sized(res) : res;
  });
  return app;
}

/**
 * The answer to a HEAD with the `Content-Length` of its body, which Hono
 * then leaves out: RFC 9110 (8.6) wants the GET's length in a HEAD, and the
 * runtime would say 0. A length the flow set itself is kept.
 */
async function _sized(answer: Response | Promise<Response>): Promise<Response> {
  const res = await answer;
  if (res.body === null || res.headers.has("content-length")) return res;
  const size = (await res.arrayBuffer()).byteLength;
  const headers = new Headers(res.headers);
  headers.set("Content-Length", String(size));
  return new Response(null, {
    status: res.status,
    statusText: res.statusText,
    headers,
  });
}
