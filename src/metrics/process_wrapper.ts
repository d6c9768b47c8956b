/**
 * Timing and error counting for functions that run outside the engine's own
 * accounting (see `MetricsCollector.wrapProcess`).
 *
 * @module
 */
import { isThenable } from "../engine/component.ts";
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
 * Wraps `fn` so that each call is timed into `into.histogram` and each throw
 * or rejection counted in `into.exceptions`. A call whose second argument is
 * a weir process context comes from the engine, which measures it already:
 * it is passed straight through.
 *
 * @example
 * ```ts
 * import { Histogram } from "../engine/histogram.ts";
 * import { wrapProcess } from "./process_wrapper.ts";
 *
 * const into = { histogram: new Histogram(), exceptions: 0 };
 * const half = wrapProcess((n: number) => n / 2, into);
 * half(4); // 2
 * into.histogram.count; // 1
 * ```
 */
export function wrapProcess<A extends unknown[], R>(
  fn: (...args: A) => R,
  into: WrappedProcess,
): (...args: A) => R {
  const wrapped = function (this: unknown, ...args: A): R {
    if (args[1] instanceof ProcessContext) return fn.apply(this, args);
    const t0 = performance.now();
    let r: R;
    try {
      r = fn.apply(this, args);
    } catch (e) {
      into.exceptions++;
      into.histogram.observe((performance.now() - t0) / 1000);
      throw e;
    }
    if (!isThenable(r)) {
      into.histogram.observe((performance.now() - t0) / 1000);
      return r;
    }
    return Promise.resolve(r).then(
      (v) => {
        into.histogram.observe((performance.now() - t0) / 1000);
        return v;
      },
      (e) => {
        into.exceptions++;
        into.histogram.observe((performance.now() - t0) / 1000);
        throw e;
      },
    ) as R;
  };
  Object.defineProperty(wrapped, "name", { value: fn.name });
  return wrapped;
}
