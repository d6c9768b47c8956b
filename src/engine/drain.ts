/**
 * Draining: stop the sources, let the backlog and the work in flight reach
 * zero, then stop, all within a timeout. The network runs the steps (see
 * `Network.drain`); this file holds the result, the timeout and the test
 * for "nothing left to do".
 *
 * @module
 */
import { allWaiting } from "./deadlock.ts";
import { MAX_TIMER_MS } from "./limits.ts";
import type { ProcessRuntime } from "./process.ts";

/** Result of {@linkcode Network.drain}. */
export interface DrainResult {
  /** Everything reached its sink before the timeout. */
  drained: boolean;
  /** Messages still buffered when the timeout struck (then discarded). */
  backlog: number;
  /**
   * Every message given up when the timeout struck: the backlog plus the
   * messages processes had taken and were still working on (e.g. waiting
   * inside `core/Delay`), each counted as dropped with reason `stopped`.
   * 0 when it drained.
   */
  discarded: number;
}

/**
 * Throws a `RangeError` unless `timeoutMs` is a non-negative number up to
 * the longest timer (2^31-1 ms: a longer one would fire at once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDrainTimeout } from "./drain.ts";
 *
 * assert.throws(() => checkDrainTimeout("n", -1), RangeError);
 * ```
 */
export function checkDrainTimeout(network: string, timeoutMs: number): void {
  if (
    typeof timeoutMs !== "number" ||
    !(timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS)
  ) {
    throw new RangeError(
      `Cannot drain network "${network}": timeoutMs must be a non-negative number of milliseconds up to ${MAX_TIMER_MS} (about 24.8 days, the longest timer), received ${timeoutMs}`,
    );
  }
}

/**
 * Whether `p` settles within `ms`: `true` once it does, `false` when the
 * time runs out first (the timer is cleared either way).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settlesWithin } from "./drain.ts";
 *
 * assert.deepEqual(await settlesWithin(Promise.resolve(), 1000), true);
 * assert.deepEqual(await settlesWithin(new Promise(() => {}), 1), false);
 * ```
 */
export async function settlesWithin(
  p: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([
    p.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]);
  clearTimeout(timer);
  return done;
}

/**
 * A draining network with nothing left to do: no work in flight, nothing
 * buffered, and every live process waiting (a cycle that never finishes by
 * itself has then drained, and may stop with nothing lost).
 */
export function drainedQuietly(
  inFlight: number,
  backlog: number,
  procs: readonly ProcessRuntime[],
): boolean {
  return inFlight === 0 && backlog === 0 && allWaiting(procs);
}
