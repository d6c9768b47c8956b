/**
 * Parsers of the numeric options (control ports) that several built-in
 * component families share; each fails with a `RangeError` saying what it
 * expected.
 *
 * @module
 */
import { describeValue, parseDuration } from "../engine/component.ts";

/**
 * Parses a positive integer option (a count or a size).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _positiveInteger } from "./_option_parsers.ts";
 *
 * assert.equal(_positiveInteger(3), 3);
 * assert.throws(() => _positiveInteger(0), RangeError);
 * ```
 */
export function _positiveInteger(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value > 0) {
    return value;
  }
  throw new RangeError(
    `expected a positive integer, received ${describeValue(value)}`,
  );
}

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
 * Parses a duration that must be longer than zero, in milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _positiveDuration } from "./_option_parsers.ts";
 *
 * assert.equal(_positiveDuration("1s"), 1000);
 * assert.throws(() => _positiveDuration(0), RangeError);
 * ```
 */
export function _positiveDuration(value: unknown): number {
  const ms = parseDuration(value);
  if (ms > 0) return ms;
  throw new RangeError(
    `expected a duration longer than 0, received ${describeValue(value)}`,
  );
}
