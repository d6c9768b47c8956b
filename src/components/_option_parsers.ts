/**
 * Parsers of the numeric options (control ports) that several built-in
 * component families share; each fails with a `RangeError` saying what it
 * expected.
 *
 * @module
 */
import { describeValue, parseDuration } from "../engine/component.ts";
import { LIMITS } from "../engine/limits.ts";

/**
 * Parses a non-negative integer option, where 0 means "no limit".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _nonNegativeInteger } from "./_option_parsers.ts";
 *
 * assert.equal(_nonNegativeInteger(0), 0);
 * assert.throws(() => _nonNegativeInteger(-1), RangeError);
 * ```
 */
export function _nonNegativeInteger(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    return value;
  }
  throw new RangeError(
    `expected a non-negative integer (0 for no limit), received ${
      describeValue(value)
    }`,
  );
}

/**
 * Parses a `core/Interval` interval: a duration of at least
 * `LIMITS.minIntervalMs` (1 ms), in milliseconds. Shorter ones (1e-9 ms
 * was accepted) would tick as fast as the host can run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _intervalDuration } from "./_option_parsers.ts";
 *
 * assert.equal(_intervalDuration("1s"), 1000);
 * assert.throws(() => _intervalDuration(0.5), /at least 1 ms, received number 0.5/);
 * ```
 */
export function _intervalDuration(value: unknown): number {
  const ms = parseDuration(value);
  if (ms >= LIMITS.minIntervalMs) return ms;
  throw new RangeError(
    `expected a duration of at least ${LIMITS.minIntervalMs} ms, received ${
      describeValue(value)
    }`,
  );
}

/**
 * Parses `flow/Batch`'s `size`: a positive integer up to
 * `LIMITS.maxBatchSize` (100,000), since a batch holds its messages as a
 * buffer does (a size of 1e12 held 12 million messages).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _batchSize } from "./_option_parsers.ts";
 *
 * assert.equal(_batchSize(10), 10);
 * assert.throws(() => _batchSize(1e12), /up to 100000, received number 1000000000000/);
 * ```
 */
export function _batchSize(value: unknown): number {
  if (
    typeof value === "number" && Number.isInteger(value) && value > 0 &&
    value <= LIMITS.maxBatchSize
  ) {
    return value;
  }
  throw new RangeError(
    `expected a positive integer up to ${LIMITS.maxBatchSize}, received ${
      describeValue(value)
    }`,
  );
}
