/**
 * Waiting in the built-in components: sleeping until a deadline on an
 * `AbortSignal`, and timers longer than `setTimeout` allows (`MAX_TIMER_MS`,
 * 2^31-1 ms, about 24.8 days: a longer delay fires at once on every
 * runtime, so longer waits are chained).
 *
 * @module
 */

import { MAX_TIMER_MS } from "../engine/limits.ts";

/**
 * Resolves `true` once `performance.now()` has reached `deadline`, or
 * `false` as soon as `signal` (or `wake`, when given) aborts; the timer is
 * cleared then. Timers may fire a little early, so it sleeps again until
 * the deadline has passed; a deadline beyond {@linkcode MAX_TIMER_MS} is
 * reached through several timers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _sleepUntil } from "./_timer.ts";
 *
 * const signal = new AbortController().signal;
 * assert.equal(await _sleepUntil(performance.now() + 5, signal), true);
 * assert.equal(await _sleepUntil(performance.now() + 5, AbortSignal.abort()), false);
 * ```
 */
export function _sleepUntil(
  deadline: number,
  signal: AbortSignal,
  wake?: AbortSignal,
): Promise<boolean> {
  if (signal.aborted || wake?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopListening = () => {
      signal.removeEventListener("abort", onAbort);
      wake?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      clearTimeout(timer);
      stopListening();
      resolve(false);
    };
    const wait = () => {
      const left = deadline - performance.now();
      if (left <= 0) {
        stopListening();
        resolve(true);
        return;
      }
      timer = setTimeout(wait, Math.min(Math.ceil(left), MAX_TIMER_MS));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    wake?.addEventListener("abort", onAbort, { once: true });
    wait();
  });
}

/** A timer from {@linkcode _setTimer}, cleared with {@linkcode _clearTimer}. */
export interface _Timer {
  /** The `setTimeout` currently armed, `undefined` once fired or cleared. */
  id: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Calls `fn` once after `ms` milliseconds, like `setTimeout`, but honours
 * delays beyond {@linkcode MAX_TIMER_MS} by chaining timers (one timer when
 * the delay fits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _clearTimer, _setTimer } from "./_timer.ts";
 *
 * const fired = await new Promise((resolve) => _setTimer(() => resolve(true), 5));
 * assert.equal(fired, true);
 * const later = _setTimer(() => assert.fail("cleared"), 600 * 3_600_000);
 * _clearTimer(later);
 * ```
 */
export function _setTimer(fn: () => void, ms: number): _Timer {
  const timer: _Timer = { id: undefined };
  let left = Math.max(0, ms);
  const step = () => {
    if (left <= 0) {
      timer.id = undefined;
      fn();
      return;
    }
    const delay = Math.min(left, MAX_TIMER_MS);
    left -= delay;
    timer.id = setTimeout(step, delay);
  };
  const first = Math.min(left, MAX_TIMER_MS);
  left -= first;
  timer.id = setTimeout(step, first);
  return timer;
}

/**
 * Clears a timer from {@linkcode _setTimer} (nothing happens for
 * `undefined` or a timer that has fired).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _clearTimer, _setTimer } from "./_timer.ts";
 *
 * const timer = _setTimer(() => assert.fail("cleared"), 10);
 * _clearTimer(timer);
 * assert.equal(timer.id, undefined);
 * ```
 */
export function _clearTimer(timer: _Timer | undefined): void {
  if (timer === undefined) return;
  clearTimeout(timer.id);
  timer.id = undefined;
}
