/**
 * The one place weir relies on how Hono works inside rather than on its
 * documented API: {@linkcode captureMatches} observes an app's
 * `router.match()` to learn the route pattern a request matched, for
 * `httpMetricsFetch()`.
 *
 * Why: Hono documents the matched route only inside a handler or a
 * middleware (`routePath(c, -1)`, `matchedRoutes(c)` from `hono/route`,
 * which `httpMetrics()` uses), and a middleware is what the fetch wrapper
 * exists to avoid (on Bun a no-op middleware costs more than a trivial
 * route). Asking the router again after the response (`app.router.match()`
 * with `app.getPath()`, both public) costs 13 % (Bun) to 30 % (Deno) of a
 * trivial route's in-process `app.fetch()`, measured on Hono 4.13.19.
 *
 * What is relied on, checked against the installed version by
 * `tests/metrics/hono_internals_test.ts` (which fails with a message when
 * Hono's version changes):
 * - `app.fetch()` asks `app.router.match()` once, synchronously, before
 *   any handler runs, and a handler's nested `app.fetch()` matches after;
 * - Hono's routers replace their own `match` on first use
 *   (`this.match = ...`);
 * - `match()` returns the matched handlers first, each as
 *   `[[handler, { path, method }], params]`, in the order they run.
 *
 * @module
 */

/** What a router tells of the route it matched. */
export interface RouteInfo {
  /** The route's pattern, `/flows/:id`. */
  path: string;
  /** Its method; `ALL` for middleware and every-method routes. */
  method: string;
}

/** What Hono's routers return from `match()`: the handlers first. */
export type MatchResult = [[[unknown, RouteInfo], unknown][], ...unknown[]];

/** A router as Hono's `app.router` is one. */
export interface MatchingRouter {
  /** Hono's router method. */
  match(method: string, path: string): MatchResult;
}

/**
 * Sees the routes a router matches: {@linkcode MatchCapture.begin} before
 * the app's `fetch`, {@linkcode MatchCapture.end} once it returned.
 */
export interface MatchCapture {
  /** Captures the next match; returns what `end()` restores. */
  begin(): unknown;
  /**
   * The last route of the match made since `begin()` (`null` when none
   * was, or none matched), and restores the capture of an enclosing call.
   */
  end(outer: unknown): RouteInfo | null;
}

const PENDING = Symbol("pending");
const captures = new WeakMap<object, MatchCapture>();

/**
 * Observes `router.match()`, so that a request's route is the one Hono
 * itself found (no second match, no second parse of the URL). One
 * capture per router, however often it is asked for. An accessor keeps a
 * router's replacement of its own `match` as the function observed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { captureMatches } from "./_hono_internals.ts";
 *
 * const app = new Hono();
 * app.get("/flows/:id", (c) => c.text("ok"));
 * const matches = captureMatches(app.router);
 * const outer = matches.begin();
 * await app.fetch(new Request("http://localhost/flows/a"));
 * assert.deepEqual(matches.end(outer)?.path, "/flows/:id");
 * ```
 */
export function captureMatches(router: MatchingRouter): MatchCapture {
  const known = captures.get(router);
  if (known !== undefined) return known;
  let inner = router.match;
  let slot: MatchResult | typeof PENDING | undefined;
  const match = (method: string, path: string): MatchResult => {
    const result = inner.call(router, method, path);
    if (slot === PENDING) slot = result;
    return result;
  };
  Object.defineProperty(router, "match", {
    configurable: true,
    enumerable: true,
    get: () => match,
    set: (fn: typeof inner) => {
      inner = fn;
    },
  });
  const capture: MatchCapture = {
    begin() {
      const outer = slot;
      slot = PENDING;
      return outer;
    },
    end(outer) {
      const result = slot;
      slot = outer as typeof slot;
      if (result === PENDING || result === undefined) return null;
      const handlers = result[0];
      return handlers.length > 0 ? handlers[handlers.length - 1][0][1] : null;
    },
  };
  captures.set(router, capture);
  return capture;
}
