/**
 * The middleware that lets a request through only with a token of the
 * scope its route needs.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Access, Scope } from "./auth.ts";
import { HttpError } from "./http_error.ts";

/** The client address of a request, when the server knows it. */
export type ClientAddress = (request: Request) => string | undefined;

/**
 * Middleware that asks `access` whether the request's bearer token grants
 * `scope` (`"auto"`: `read` for GET and HEAD, else `write`) and refuses it
 * with a 401 (with `WWW-Authenticate`) or a 403 {@linkcode HttpError}
 * otherwise. A token that matches none is a failed attempt of the client
 * (by `clientAddress`, default one shared "unknown address") in
 * `access.attempts`; a client with too many gets 429 with `Retry-After`
 * whatever token it sends, until its window ends.
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
  clientAddress: ClientAddress = () => undefined,
): MiddlewareHandler {
  return async (c, next) => {
    const need: Scope = scope !== "auto"
      ? scope
      : c.req.method === "GET" || c.req.method === "HEAD"
      ? "read"
      : "write";
    const authorization = c.req.header("Authorization");
    // Only a request that tries a token can be a guess; one without is
    // told what to send, as before.
    const client = authorization !== undefined && access.enabled
      ? clientAddress(c.req.raw) ?? "an unknown address"
      : undefined;
    if (client !== undefined) {
      const wait = access.attempts.lockedFor(client);
      if (wait > 0) {
        // Refused before the token is compared: a locked-out client learns
        // nothing, not even from a right guess.
        const s = Math.ceil(wait / 1000);
        throw new HttpError(
          429,
          `too many failed token attempts from ${client}: retry in ${s} s`,
          { "Retry-After": String(s) },
        );
      }
    }
    const r = access.check(authorization, need);
    if (!r.ok && r.invalidToken && client !== undefined) {
      const path = c.req.path;
      access.attempts.fail(
        client,
        `${c.req.method} ${
          path.length <= 100 ? path : `${path.slice(0, 100)}...`
        }`,
      );
    }
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
