/**
 * Timing and error counting for functions that run outside the engine's own
 * accounting (see `MetricsCollector.wrapProcess`).
 *
 * @module
 */
import type { Histogram } from "../engine/histogram.ts";
import { ProcessContext } from "../engine/process.ts";

/** What a wrapped function records into. */
export interface WrappedProcess {
  /** Call durations, seconds. */
  readonly histogram: Histogram;
  /** Calls that threw or rejected. */
  exceptions: number;
}

/**
 * Wraps `fn` so that each call is timed into `into.histogram` (a returned
 * promise until it settles) and each throw or rejection counted in
 * `into.exceptions`; the caller gets back exactly what `fn` returned. A call whose second argument is
 * a weir process context comes from the engine, which measures it already:
 * it is passed straight through.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Histogram } from "../engine/histogram.ts";
 * import { wrapProcess } from "./process_wrapper.ts";
 *
 * const into = { histogram: new Histogram(), exceptions: 0 };
 * const half = wrapProcess((n: number) => n / 2, into);
 * assert.deepEqual(half(4), 2);
 * assert.deepEqual(into.histogram.count, 1);
 * ```
 */
export function wrapProcess<A extends unknown[], R>(
  fn: (...args: A) => R,
  into: WrappedProcess,
): (...args: A) => R {
  const wrapped = function (this: unknown, ...args: A): R {
    if (
      args[1] instanceof ProcessContext || args[0] instanceof ProcessContext
    ) {
      return fn.apply(this, args);
    }
    const t0 = performance.now();
    const observe = () =>
      into.histogram.observe((performance.now() - t0) / 1000);
    let r: R;
    try {
      r = fn.apply(this, args);
    } catch (e) {
      into.exceptions++;
      observe();
      throw e;
    }
    if (!(r instanceof Promise)) {
      // Other thenables are left alone: a lazy one (a query builder) runs
      // when awaited, and would run early, or twice, if `then` were called
      // here. Its call is timed as a synchronous one.
      observe();
      return r;
    }
    // Observe on a side branch and hand back the caller's own promise.
    r.then(observe, () => {
      into.exceptions++;
      observe();
    });
    return r;
  };
  Object.defineProperty(wrapped, "name", { value: fn.name });
  return wrapped;
}
