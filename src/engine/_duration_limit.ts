/**
 * The longest durations weir takes, and the one check a duration setting
 * without a range of its own makes against them: a retention of
 * `99999999999999999999y` (3e30 ms, no safe integer) or a remote write
 * timeout of `1000h` (a timer that fires at once) was taken. The weir
 * command checks its settings with it, and the history its retentions
 * (`History.open`'s `retentionMs`, a tier's `retentionMs`), so it lives
 * where both may import it.
 *
 * @module
 */
import { MAX_TIMER_MS } from "./limits.ts";

/** A bound on a duration: its milliseconds, and how an error says it. */
export interface _DurationLimit {
  readonly ms: number;
  readonly text: string;
}

/**
 * A duration a timer waits (a timeout, a backoff): JavaScript fires a
 * longer timer at once.
 */
export const _TIMER_LIMIT: _DurationLimit = Object.freeze({
  ms: MAX_TIMER_MS,
  text: `${MAX_TIMER_MS} ms (about 24.8 days), the longest a timer waits`,
});

/**
 * A span of time kept or looked back over (a retention, a sample age):
 * 100 years of 365 days, far beyond a device's life and well within the
 * safe integers the store counts its milliseconds in.
 */
export const _SPAN_LIMIT: _DurationLimit = Object.freeze({
  ms: 100 * 365 * 86_400_000,
  text: "100 years (3153600000000 ms), the longest it may be",
});

/**
 * `ms` when it is a whole number of milliseconds from `min` to
 * `limit.ms`; else a RangeError whose message completes the setting's
 * name and value ("--history-retention ...; raw=200y is longer than
 * ...").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _checkDuration, _SPAN_LIMIT } from "./_duration_limit.ts";
 *
 * assert.equal(_checkDuration(86_400_000, 1, _SPAN_LIMIT), 86_400_000);
 * assert.throws(
 *   () => _checkDuration(3e30, 1, _SPAN_LIMIT),
 *   /^RangeError: is longer than 100 years \(3153600000000 ms\), the longest it may be$/,
 * );
 * ```
 */
export function _checkDuration(
  ms: number,
  min: number,
  limit: _DurationLimit,
): number {
  if (ms > limit.ms) {
    throw new RangeError(`is longer than ${limit.text}`);
  }
  if (!Number.isSafeInteger(ms) || ms < min) {
    throw new RangeError(
      `must be a whole number of milliseconds of at least ${min}`,
    );
  }
  return ms;
}
