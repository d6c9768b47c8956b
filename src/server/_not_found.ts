/**
 * The answer of a request no route takes: one `notFound` for every app the
 * server and the weir command build, so that `weir serve`, `weir run` and
 * `weir demo` say it alike.
 *
 * @module
 */
import type { Context, Hono, NotFoundHandler } from "hono";
import type { Guard } from "./_guard.ts";
import { _otherMethod } from "./_method_not_allowed.ts";
import { _errorResponse } from "./_response.ts";

/**
 * `app`'s not-found handler: a method no route names (`PROPFIND`) on a
 * path that has routes gets that path's 405 (see `_methodNotAllowed`);
 * anything else, once `guards` pass, a 404 `{"error": "no route for
 * <path>"}`, never cached. The guards run before the 404 only: a foreign
 * Host learns nothing, not even which paths exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { _notFound } from "./_not_found.ts";
 *
 * const app = new Hono();
 * app.notFound(_notFound(app));
 * const res = await app.request("/nope");
 * assert.equal(res.status, 404);
 * assert.deepEqual(await res.json(), { error: "no route for /nope" });
 * ```
 */
export function _notFound(
  app: Hono,
  guards: readonly Guard[] = [],
): NotFoundHandler {
  return (c: Context) => {
    const other = _otherMethod(app, c);
    if (other !== undefined) return other(c) as Response;
    for (const g of guards) g(c);
    return _errorResponse(c, 404, `no route for ${c.req.path}`);
  };
}
