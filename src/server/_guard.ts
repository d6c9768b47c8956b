/**
 * Guards: the checks a request must pass before a route answers it (the
 * Host, the cross-site and the access checks), run inside the route's own
 * handler rather than as Hono middleware.
 *
 * Why: Hono answers a request on its fast path only when exactly one
 * handler matches it (called directly, and a synchronous `Response` stays
 * synchronous); any middleware, or an every-method route on the same path,
 * sends every request through `compose()`, an `async` function per layer.
 * On `weir serve` that cost 3 to 5 µs of CPU a request on Deno 2.9 (of
 * about 10 µs for a bare Hono route), measured with `deno run --cpu-prof`
 * (see bench/RESULTS.md "Server as shipped vs bare Hono"). A guard is a
 * synchronous function that throws an `HttpError` to refuse, so the same
 * check serves as middleware too ({@linkcode _guardMiddleware}).
 *
 * @module
 */
import type { Context, Handler, Hono, MiddlewareHandler } from "hono";

/** A check a request must pass: throws an `HttpError` to refuse it. */
export type Guard = (c: Context) => void;

/** The guard as middleware, for apps that mount weir's route groups. */
export function _guardMiddleware(guard: Guard): MiddlewareHandler {
  return (c, next) => {
    guard(c);
    return next();
  };
}

/** A handler that runs `guards` in order, then `handler`. */
export function _guarded(
  guards: readonly Guard[],
  handler: Handler,
): Handler {
  if (guards.length === 0) return handler;
  const list = [...guards];
  return (c, next) => {
    for (let i = 0; i < list.length; i++) list[i](c);
    return handler(c, next);
  };
}

/**
 * Joins `sub`'s routes into `app` under `path`, as `app.route(path, sub)`
 * does, the first handler of each method and path running `guards` first
 * (`app.post("/", limited, handler)`: before `limited`). `sub` must leave
 * errors to `app`: its own `onError` is not carried over (use
 * `app.route()` and middleware for such a group) and should have no middleware of its own
 * (`app.use()`: the guards would run in it too).
 */
export function _mountGuarded(
  app: Hono,
  path: string,
  sub: Hono,
  guards: readonly Guard[],
): void {
  const target = path === "/" ? app : app.basePath(path);
  const seen = new Set<string>();
  for (const r of sub.routes) {
    const key = `${r.method} ${r.path}`;
    const first = !seen.has(key);
    seen.add(key);
    const handler = r.handler as Handler;
    target.on(r.method, r.path, first ? _guarded(guards, handler) : handler);
  }
}
