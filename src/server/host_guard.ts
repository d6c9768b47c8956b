/**
 * The middleware that answers only requests addressed to one of the
 * server's own names: on a loopback server, a web page that makes its own
 * host name resolve to 127.0.0.1 (DNS rebinding) is refused.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { _guardMiddleware, type Guard } from "./_guard.ts";
import { isLoopback } from "./auth.ts";
import { HttpError } from "./http_error.ts";
import { _header } from "./_request.ts";

/**
 * The host name of a `Host` header (`name[:port]`, `[v6]:port`), lower
 * case, without the port, the IPv6 brackets or a final dot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostName } from "./host_guard.ts";
 *
 * assert.equal(hostName("LocalHost:9464"), "localhost");
 * assert.equal(hostName("[::1]:9464"), "::1");
 * assert.equal(hostName("example.com."), "example.com");
 * ```
 */
export function hostName(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    h = end < 0 ? h.slice(1) : h.slice(1, end);
  } else {
    const colon = h.indexOf(":");
    if (colon >= 0) h = h.slice(0, colon);
  }
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/**
 * The host of a request's URL, which the runtime's server made from the
 * `Host` header (checked on Deno 2.9: the header as sent; Bun 1.4: parsed,
 * in lower case, without a default port or a final dot, and no host at all
 * when the header is not a valid one). Read from the URL, which Hono reads
 * for every request anyway, rather than from the header: on Bun, the first
 * header read makes the request's whole `Headers` object, about 10% of a
 * trivial route's CPU time (bench/RESULTS.md "Server as shipped vs bare
 * Hono"). `undefined` for a URL without a host: then the header decides.
 */
function _urlHost(url: string): string | undefined {
  const start = url.indexOf("://");
  if (start < 0) return undefined;
  let end = url.indexOf("/", start + 3);
  if (end < 0) end = url.length;
  return end > start + 3 ? url.slice(start + 3, end) : undefined;
}

/**
 * Whether a host name can only ever mean this machine: `localhost` and its
 * subdomains (RFC 6761: browsers resolve them to loopback themselves),
 * `127.0.0.0/8` and `::1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopbackName } from "./host_guard.ts";
 *
 * assert.deepEqual(
 *   ["localhost", "app.localhost", "127.0.0.1", "::1", "evil.example", "0.0.0.0"].map(isLoopbackName),
 *   [true, true, true, true, false, false],
 * );
 * ```
 */
export function isLoopbackName(name: string): boolean {
  return isLoopback(name) || name.endsWith(".localhost");
}

/** Options of {@linkcode hostGuard}. */
export interface HostGuardOptions {
  /**
   * More host names (without a port) the server answers to besides the
   * loopback ones, e.g. a name in `/etc/hosts`. Default none.
   */
  allowedHosts?: readonly string[];
}

/**
 * Middleware that refuses, with 421 (Misdirected Request), a request whose
 * `Host` names neither a loopback name ({@linkcode isLoopbackName}) nor one
 * of `allowedHosts`; any port is accepted (a forwarded port such as
 * `ssh -L 8080:localhost:9464` keeps working). The host is read from the
 * request's URL, which the runtime's server makes from `Host` (from the
 * header itself when the URL has no host).
 *
 * Mount it on a server that listens on loopback only: a page of
 * `http://evil.example:9464` whose name the attacker later points at
 * 127.0.0.1 reaches the server as the same origin as itself, so only the
 * name it sends tells the request apart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { errorHandler } from "./error_handler.ts";
 * import { hostGuard } from "./host_guard.ts";
 *
 * const app = new Hono()
 *   .use(hostGuard())
 *   .get("/x", (c) => c.text("ok"))
 *   .onError(errorHandler(() => {}));
 * assert.equal((await app.request("http://127.0.0.1:9464/x")).status, 200);
 * const rebound = await app.request("http://evil.example:9464/x");
 * assert.equal(rebound.status, 421);
 * ```
 */
export function hostGuard(options: HostGuardOptions = {}): MiddlewareHandler {
  return _guardMiddleware(hostCheck(options));
}

/**
 * The check of {@linkcode hostGuard} as a guard: a function that throws
 * the 421 `HttpError`, to run inside a route's handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { hostCheck } from "./host_guard.ts";
 *
 * const check = hostCheck();
 * const app = new Hono().get("/x", (c) => {
 *   check(c);
 *   return c.text("ok");
 * });
 * assert.equal((await app.request("http://localhost:9464/x")).status, 200);
 * assert.equal((await app.request("http://evil.example/x")).status, 421);
 * ```
 */
export function hostCheck(options: HostGuardOptions = {}): Guard {
  const allowed = new Set(
    (options.allowedHosts ?? []).map((h) => hostName(h)),
  );
  // The last host accepted: a client sends the same one with every
  // request, and the same text always gets the same answer. `acceptedUrl`
  // is the start of a URL with that host (`http://localhost:9464/`): a
  // URL that starts with it is accepted without taking it apart.
  let accepted: string | undefined;
  let acceptedUrl: string | undefined;
  return (c) => {
    const url = c.req.url;
    if (acceptedUrl !== undefined && url.startsWith(acceptedUrl)) return;
    const fromUrl = _urlHost(url);
    const host = fromUrl ?? _header(c, "host") ?? "";
    if (host === accepted) return;
    const name = hostName(host);
    if (!isLoopbackName(name) && !allowed.has(name)) {
      const shown = host.length <= 100 ? host : `${host.slice(0, 100)}...`;
      throw new HttpError(
        421,
        `this server listens on loopback and answers only to localhost, 127.0.0.1 or [::1]${
          allowed.size > 0 ? ` (or ${[...allowed].join(", ")})` : ""
        }, received Host ${
          JSON.stringify(shown)
        }: a page of another site whose name resolves to this machine (DNS rebinding) must not reach it. Use http://localhost:PORT, or listen beyond loopback (with a token) to be reached by other names`,
      );
    }
    accepted = host;
    acceptedUrl = fromUrl === undefined
      ? undefined
      : url.slice(0, url.indexOf(fromUrl) + fromUrl.length) + "/";
  };
}
