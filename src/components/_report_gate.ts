/**
 * A warning that may come in a stream (a publisher sending one too large
 * or slow message after another) is let through at most once a period,
 * saying how many were held back since the last one.
 *
 * @module
 */

/**
 * Lets a report through at most once every `periodMs`, by `now()` (by
 * default `Date.now()`, looked up at each report).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _ReportGate } from "./_report_gate.ts";
 *
 * let now = 0;
 * const gate = new _ReportGate(60_000, () => now);
 * assert.equal(gate.pass(), 0); // the first goes through, none held back
 * now = 30_000;
 * assert.equal(gate.pass(), -1); // held back
 * assert.equal(gate.pass(), -1);
 * now = 60_000;
 * assert.equal(gate.pass(), 2); // through, two held back since
 * ```
 */
export class _ReportGate {
  readonly #periodMs: number;
  readonly #now: () => number;
  /** When a report last went through (ms), and how many were held back since. */
  #at = -Infinity;
  #held = 0;

  constructor(periodMs = 60_000, now: () => number = () => Date.now()) {
    this.#periodMs = periodMs;
    this.#now = now;
  }

  /**
   * -1 when this report is held back (one went through within the
   * period), else how many were held back since the last that went
   * through.
   */
  pass(): number {
    const now = this.#now();
    if (now - this.#at < this.#periodMs) {
      this.#held++;
      return -1;
    }
    const held = this.#held;
    this.#at = now;
    this.#held = 0;
    return held;
  }
}
