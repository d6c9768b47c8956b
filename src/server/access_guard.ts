/**
 * The middleware that lets a request through only with a token of the
 * scope its route needs.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { _setActor } from "./_actor.ts";
import { _guardMiddleware, type Guard } from "./_guard.ts";
import type { Access, Scope } from "./auth.ts";
import { HttpError } from "./http_error.ts";
import { _header } from "./_request.ts";

/**
 * The client address of a request, when the server knows it; `env` is the
 * app's `c.env` (what weir's `serve()` passes on from the runtime).
 */
export type ClientAddress = (
  request: Request,
  env: unknown,
) => string | undefined;

/**
 * Middleware that asks `access` whether the request's bearer token grants
 * `scope` (`"auto"`: `read` for GET and HEAD, else `write`; a list: any of
 * its scopes) and refuses it
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
  scope: Scope | "auto" | readonly Scope[],
  clientAddress?: ClientAddress,
): MiddlewareHandler {
  return _guardMiddleware(accessCheck(access, scope, clientAddress));
}

/** A guard that lets everything through. */
const _PASS: Guard = () => {};

/**
 * The check of {@linkcode accessGuard} as a guard: a function that throws
 * the 401, 403 or 429 `HttpError`, to run inside a route's handler. Where
 * no request can be refused (no token configured on a loopback server, or
 * the `metrics` scope without tokens), it does nothing, not even read the
 * `Authorization` header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { accessCheck } from "./access_guard.ts";
 * import { Access } from "./auth.ts";
 *
 * const check = accessCheck(new Access({ tokens: [{ token: "r".repeat(16), scopes: ["read"] }] }), "auto");
 * const app = new Hono().get("/x", (c) => {
 *   check(c);
 *   return c.text("ok");
 * });
 * assert.equal((await app.request("/x")).status, 401);
 * ```
 */
export function accessCheck(
  access: Access,
  scope: Scope | "auto" | readonly Scope[],
  clientAddress: ClientAddress = () => undefined,
): Guard {
  // A list: any one of its scopes will do (the first is the one asked for).
  const alternatives = typeof scope === "string" ? [] : scope.slice(1);
  const first = typeof scope === "string" ? scope : scope[0];
  // The tokens and the exposure are fixed when Access is made.
  if (
    !access.enabled &&
    (!access.exposed || first === "metrics" || alternatives.includes("metrics"))
  ) {
    return _PASS;
  }
  return (c) => {
    const need: Scope = first !== "auto"
      ? first
      : c.req.method === "GET" || c.req.method === "HEAD"
      ? "read"
      : "write";
    const authorization = _header(c, "authorization");
    // Only a request that tries a token can be a guess; one without is
    // told what to send, as before.
    const client = authorization !== undefined && access.enabled
      ? clientAddress(c.req.raw, c.env) ?? "an unknown address"
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
    let r = access.check(authorization, need);
    for (const other of alternatives) {
      if (r.ok || r.status !== 403 || !access.enabled) break;
      const again = access.check(authorization, other);
      r = again.ok ? again : {
        ...r,
        message: `the token lacks the ${
          [need, ...alternatives].map((s) => `"${s}"`).join(" or ")
        } scope this route needs`,
      };
    }
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
    if (r.token !== undefined) _setActor(c.req.raw, r.token);
  };
}
