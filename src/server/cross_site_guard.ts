/**
 * The middleware that keeps a web page from changing flows: a request that
 * changes something must come from the server's own origin (or from a
 * client that is not a browser) and carry a media type a page cannot send
 * without asking first.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { _guardMiddleware, type Guard } from "./_guard.ts";
import { HttpError } from "./http_error.ts";
import { _header } from "./_request.ts";

/**
 * The media types a web page may send to any site without a CORS preflight
 * (the Fetch standard's "CORS-safelisted" `Content-Type` values): an HTML
 * form or a `fetch(..., { mode: "no-cors" })` posts them anywhere.
 */
export const SIMPLE_MEDIA_TYPES: readonly string[] = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
];

const _SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Middleware that refuses a request which changes something (any method
 * but GET, HEAD and OPTIONS) when a browser says it comes from another
 * site, or when its body has a media type a page can send cross-site
 * without a preflight:
 *
 * - `Sec-Fetch-Site: cross-site` or `same-site` (another port or
 *   subdomain of the same site is another origin, e.g. a dev server on
 *   `localhost:3000`) without an `Origin` that is the server's own: 403;
 * - an `Origin` that is not `http(s)://` + the request's `Host` (`null`
 *   included, as sent by sandboxed frames and `file:` pages): 403;
 * - a `Content-Type` of `text/plain`, `application/x-www-form-urlencoded`
 *   or `multipart/form-data`: 415, so that even a browser that sends
 *   neither header (an old one) cannot post a body without a preflight,
 *   which this server never grants.
 *
 * A request with neither header is not from a browser (curl, weir's own
 * clients, Prometheus) and passes. Not `hono/csrf`: it checks only form
 * media types, so a page could still `POST /flows/:id/stop` with no body,
 * and it lets `text/plain` through from the server's own origin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { crossSiteGuard } from "./cross_site_guard.ts";
 * import { errorHandler } from "./error_handler.ts";
 *
 * const app = new Hono()
 *   .use(crossSiteGuard())
 *   .post("/x", (c) => c.text("done"))
 *   .onError(errorHandler(() => {}));
 * const post = (headers: Record<string, string>) =>
 *   app.request("http://localhost:9464/x", { method: "POST", headers, body: "{}" });
 * assert.equal((await post({ "Content-Type": "application/json" })).status, 200);
 * assert.equal((await post({ "Content-Type": "text/plain" })).status, 415);
 * const evil = await post({ "Content-Type": "application/json", Origin: "https://evil.example" });
 * assert.equal(evil.status, 403);
 * const own = await post({ "Content-Type": "application/json", Origin: "http://localhost:9464" });
 * assert.equal(own.status, 200);
 * ```
 */
export function crossSiteGuard(): MiddlewareHandler {
  return _guardMiddleware(crossSiteCheck());
}

/**
 * The check of {@linkcode crossSiteGuard} as a guard: a function that
 * throws the 403 or 415 `HttpError`, to run inside a route's handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { crossSiteCheck } from "./cross_site_guard.ts";
 *
 * const check = crossSiteCheck();
 * const app = new Hono().post("/x", (c) => {
 *   check(c);
 *   return c.text("done");
 * });
 * const post = (type: string) =>
 *   app.request("/x", { method: "POST", headers: { "Content-Type": type }, body: "{}" });
 * assert.equal((await post("application/json")).status, 200);
 * assert.equal((await post("text/plain")).status, 415);
 * ```
 */
export function crossSiteCheck(): Guard {
  return (c) => {
    const method = c.req.method;
    if (!_SAFE_METHODS.has(method)) {
      const origin = _header(c, "origin");
      const site = _header(c, "sec-fetch-site")?.trim().toLowerCase();
      const host = _header(c, "host") ?? new URL(c.req.url).host;
      if (origin !== undefined) {
        if (!_sameOrigin(origin, host)) {
          throw new HttpError(
            403,
            `${method} ${c.req.path} refused: it comes from a web page of another origin (Origin ${
              _short(origin)
            }, this server is ${_short(host)}); a page cannot change flows. ` +
              "Send it from the server's own origin, or from a program (curl, weir) that sends no Origin header",
          );
        }
      } else if (site === "cross-site" || site === "same-site") {
        throw new HttpError(
          403,
          `${method} ${c.req.path} refused: the browser says it comes from another site (Sec-Fetch-Site: ${site}); a web page cannot change flows. ` +
            "Send it from a program (curl, weir) or from the server's own origin",
        );
      }
      const type = _header(c, "content-type");
      if (type !== undefined) {
        const media = type.split(";")[0].trim().toLowerCase();
        if (SIMPLE_MEDIA_TYPES.includes(media)) {
          throw new HttpError(
            415,
            `${method} ${c.req.path} refused: Content-Type ${media} is one a web page may send to any site without asking, so this server takes none of them on a request that changes something. ` +
              "Send a graph as application/json or text/vnd.fbp (.fbp text), a merge patch as application/merge-patch+json, and start or stop with no body",
          );
        }
      }
    }
  };
}

/** Whether an `Origin` header names the origin of a server reached at `host`. */
function _sameOrigin(origin: string, host: string): boolean {
  const m = /^(https?):\/\/([^/]+)$/i.exec(origin.trim());
  if (m === null) return false;
  return _authority(m[2], m[1].toLowerCase()) ===
    _authority(host, m[1].toLowerCase());
}

/** A host[:port] in one spelling: lower case, without the scheme's default port. */
function _authority(hostPort: string, scheme: string): string {
  const h = hostPort.trim().toLowerCase();
  const port = scheme === "https" ? ":443" : ":80";
  return h.endsWith(port) ? h.slice(0, -port.length) : h;
}

/** A header value short enough to quote in an error. */
function _short(value: string): string {
  return JSON.stringify(
    value.length <= 100 ? value : `${value.slice(0, 100)}...`,
  );
}
