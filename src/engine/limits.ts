/**
 * The ranges weir accepts for the numbers of a graph (issue 18: a capacity
 * of 1e9, a retry of 1e9 attempts or a timeout of 35 days were accepted and
 * ran). Graph validation refuses a number outside its range with a problem
 * that names the range; the README lists them.
 *
 * @module
 */

/** The largest timer JavaScript keeps (2^31-1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The ranges of a graph's numeric settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LIMITS } from "./limits.ts";
 *
 * assert.equal(LIMITS.maxCapacity, 100_000);
 * assert.equal(LIMITS.maxTimerMs, 2 ** 31 - 1);
 * ```
 */
export const LIMITS: Readonly<{
  /** Most messages a connection buffers (`capacity`, `defaultCapacity`). */
  maxCapacity: number;
  /** Most activations of one process in flight at once (`concurrency`). */
  maxConcurrency: number;
  /** Longest `timeoutMs`, `retry.backoffMs` and `resetTimeoutMs`. */
  maxTimerMs: number;
  /** Most attempts of a message (`retry.attempts`, the first included). */
  maxRetryAttempts: number;
  /** Largest `circuitBreaker.failureThreshold`. */
  maxFailureThreshold: number;
  /** Largest batch (`flow/Batch`'s `size`). */
  maxBatchSize: number;
  /** Shortest `core/Interval` interval, ms. */
  minIntervalMs: number;
  /** Most processes of a graph (its own, a subgraph's inner ones apart). */
  maxProcesses: number;
  /** Most connections of a graph, its initial packets (IIPs) included. */
  maxConnections: number;
  /**
   * Longest process name, in characters (UTF-16 units), as a flow id's:
   * the name labels every metric series of its process.
   */
  maxNameLength: number;
}> = Object.freeze({
  maxCapacity: 100_000,
  maxConcurrency: 100_000,
  maxTimerMs: MAX_TIMER_MS,
  maxRetryAttempts: 1_000,
  maxFailureThreshold: 1_000_000,
  maxBatchSize: 100_000,
  minIntervalMs: 1,
  // Reading, checking and building a graph takes about 0.3 ms an element
  // on one core, the event loop held meanwhile: 25,000 processes in a
  // 1 MiB body held weir serve 6 s, 20,000 in a chain 12 s. The bounds are
  // the scale the graph tests build (5,000 processes in a ring).
  maxProcesses: 5_000,
  maxConnections: 10_000,
  // A process of a 100,000-character name put 57 lines of 100 KB into
  // each /metrics answer and the history's label index.
  maxNameLength: 128,
});
