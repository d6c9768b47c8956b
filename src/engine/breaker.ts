/**
 * The circuit breaker of a process: after `failureThreshold` consecutive
 * failures it opens and messages are rejected; after `resetTimeoutMs` it is
 * half-open and lets one trial message through, whose outcome closes it or
 * opens it again.
 *
 * @module
 */
import type { CircuitBreakerSpec } from "./spec.ts";

/** Breaker states, as reported in stats. */
export type BreakerState = "closed" | "open" | "half-open";

/**
 * One process's breaker. Times are milliseconds on one monotonic clock
 * (`performance.now()`), passed in by the caller.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CircuitBreaker } from "./breaker.ts";
 *
 * const b = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 100 });
 * b.failed(0);
 * b.failed(1);
 * assert.deepEqual(b.admit(50), false);
 * assert.deepEqual(b.stateAt(101), "half-open");
 * assert.deepEqual(b.admit(101), true);
 * b.succeeded();
 * assert.deepEqual(b.state, "closed");
 * ```
 */
export class CircuitBreaker {
  /** The state as last updated (see `stateAt` for the state at a time). */
  state: BreakerState = "closed";
  /** Failures since the last success. */
  consecutiveFailures = 0;
  /** When it last opened (ms). */
  openedAt = 0;
  /** A half-open trial is in flight. */
  trial = false;

  /** Creates a closed breaker. */
  constructor(readonly spec: CircuitBreakerSpec) {}

  /**
   * Whether a message may go through at `now`: not while open, nor while a
   * half-open trial is in flight. Past the reset timeout an open breaker
   * becomes half-open, and the message admitted then is its trial.
   */
  admit(now: number): boolean {
    if (
      this.state === "open" && now - this.openedAt >= this.spec.resetTimeoutMs
    ) {
      this.state = "half-open";
    }
    if (this.state === "open" || (this.state === "half-open" && this.trial)) {
      return false;
    }
    if (this.state === "half-open") this.trial = true;
    return true;
  }

  /** A message went through: the breaker closes. */
  succeeded(): void {
    this.consecutiveFailures = 0;
    this.state = "closed";
    this.trial = false;
  }

  /**
   * A message failed for good at `now`: the breaker opens on a failed
   * trial or once the failures in a row reach the threshold.
   */
  failed(now: number): void {
    this.consecutiveFailures++;
    if (
      this.state === "half-open" ||
      this.consecutiveFailures >= this.spec.failureThreshold
    ) {
      this.state = "open";
      this.openedAt = now;
    }
    this.trial = false;
  }

  /** The state at `now`: an open breaker past its reset timeout is half-open. */
  stateAt(now: number): BreakerState {
    if (
      this.state === "open" && now - this.openedAt >= this.spec.resetTimeoutMs
    ) return "half-open";
    return this.state;
  }
}
