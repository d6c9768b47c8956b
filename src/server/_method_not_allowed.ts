/**
 * The 405 of a route group's paths.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { HttpError } from "./http_error.ts";

/**
 * The methods a 405 is registered for one by one (HEAD is answered as
 * GET by Hono, unless `refuseHead`). Not `app.all()`: an
 * every-method route matches the allowed methods' requests too, and a
 * request that matches two handlers leaves Hono's fast path (see
 * `_guard.ts`).
 */
const _METHODS: readonly string[] = [
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "CONNECT",
  "TRACE",
];

const _KNOWN = new Set([..._METHODS, "HEAD"]);

/**
 * The method name under which the 405 of any other method (`PROPFIND`,
 * `FOO`) is registered, for {@linkcode _otherMethod} to find: a request's
 * method can never be this (it is not a valid token for a client to send
 * and get here, and it is looked up only for methods outside the list).
 */
const _OTHER = "WEIR-OTHER-METHOD";

/** Options of {@linkcode _methodNotAllowed}. */
export interface _MethodNotAllowedOptions {
  /**
   * Refuse HEAD too, rather than let Hono answer it with the path's GET
   * route (the body left out): Prometheus's API, whose router registers
   * no HEAD. Then call {@linkcode _methodNotAllowed} before the path's GET
   * route, which would answer the HEAD first; after one, it throws.
   *
   * @default {false}
   */
  refuseHead?: boolean;
}

/**
 * Answers every method not routed on `path` with a 405 that names the
 * allowed ones, also in `Allow`. A method outside the usual ones
 * (`PROPFIND`) gets it through the app's `notFound`, which must call
 * {@linkcode _otherMethod} (`flowApp` does).
 */
export function _methodNotAllowed(
  app: Hono,
  path: string,
  allow: string,
  { refuseHead = false }: _MethodNotAllowedOptions = {},
): void {
  const allowed = new Set(allow.split(",").map((m) => m.trim()));
  const methods = _METHODS.filter((m) => !allowed.has(m));
  const refuse = (c: Context) => {
    throw _notAllowed(c, allow);
  };
  if (refuseHead) {
    if (app.routes.some((r) => r.method === "GET" && r.path === path)) {
      throw new Error(
        `Cannot refuse HEAD on ${path}: its GET route, registered already, answers HEAD first; call _methodNotAllowed() before it`,
      );
    }
    app.get(path, (c, next) => c.req.method === "HEAD" ? refuse(c) : next());
  }
  app.on([...methods, _OTHER], path, refuse);
}

/**
 * The 405 of the request's method on its path, which takes the methods of
 * `allow` (`"GET, HEAD"`): one sentence and `Allow` header for every part
 * of the server (the metrics app answers it with its own error handler).
 */
export function _notAllowed(c: Context, allow: string): HttpError {
  return new HttpError(
    405,
    `method ${c.req.method} is not allowed on ${c.req.path}: use ${allow}`,
    { Allow: allow },
  );
}

/**
 * For an app's `notFound`: when the request's method is none of the usual
 * ones and its path has routes, the 405 handler of that path (with the
 * guards it was mounted with); else `undefined`.
 */
export function _otherMethod(
  app: Hono,
  c: Context,
): ((c: Context) => unknown) | undefined {
  if (_KNOWN.has(c.req.method)) return undefined;
  // Hono's routers answer [[handler, route], params][] first (the shape
  // src/metrics/_hono_internals.ts relies on and tests).
  const [handlers] = app.router.match(_OTHER, c.req.path) as unknown as [
    [
      [(c: Context, next: () => Promise<void>) => unknown, { method: string }],
      unknown,
    ][],
  ];
  for (let i = handlers.length - 1; i >= 0; i--) {
    const [handler, route] = handlers[i][0];
    if (route.method === _OTHER) {
      return (c) => handler(c, () => Promise.resolve());
    }
  }
  return undefined;
}
