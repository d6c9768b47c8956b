/**
 * The middleware that lets a request through only with a token of the
 * scope its route needs.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Access, Scope } from "./auth.ts";
import { HttpError } from "./http_error.ts";

/**
 * Middleware that asks `access` whether the request's bearer token grants
 * `scope` (`"auto"`: `read` for GET and HEAD, else `write`) and refuses it
 * with a 401 (with `WWW-Authenticate`) or a 403 {@linkcode HttpError}
 * otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { accessGuard } from "./access_guard.ts";
 * import { Access } from "./auth.ts";
 * import { errorHandler } from "./error_handler.ts";
 *
 * const access = new Access({ tokens: [{ token: "r".repeat(16), scopes: ["read"] }] });
 * const app = new Hono()
 *   .use(accessGuard(access, "auto"))
 *   .get("/x", (c) => c.text("ok"))
 *   .onError(errorHandler(() => {}));
 * assert.equal((await app.request("/x")).status, 401);
 * const ok = await app.request("/x", { headers: { Authorization: `Bearer ${"r".repeat(16)}` } });
 * assert.equal(ok.status, 200);
 * ```
 */
export function accessGuard(
  access: Access,
  scope: Scope | "auto",
): MiddlewareHandler {
  return async (c, next) => {
    const need: Scope = scope !== "auto"
      ? scope
      : c.req.method === "GET" || c.req.method === "HEAD"
      ? "read"
      : "write";
    const r = access.check(c.req.header("Authorization"), need);
    if (!r.ok) {
      throw new HttpError(
        r.status,
        r.message,
        r.status === 401 ? { "WWW-Authenticate": 'Bearer realm="weir"' } : {},
      );
    }
    await next();
  };
}
