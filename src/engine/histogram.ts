/**
 * Fixed-bucket histograms for the engine's hot path.
 *
 * @module
 */

/**
 * Default bucket upper bounds for durations, in seconds: 10 µs to 10 s.
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.00001,
  0.000025,
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** A histogram as read by the metrics layer. */
export interface HistogramSnapshot {
  /** Upper bounds (inclusive, `le`), ascending; `+Inf` is implied. */
  bounds: readonly number[];
  /** Count per bucket, NOT cumulative; one more entry than `bounds` (+Inf). */
  counts: number[];
  /** Sum of the observed values. */
  sum: number;
  /** Number of observations. */
  count: number;
}

/**
 * Bucket counts with bounds chosen once: observing is a short scan and two
 * additions, with no allocation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Histogram } from "./histogram.ts";
 *
 * const h = new Histogram([0.1, 1]);
 * h.observe(0.5);
 * h.observe(2);
 * assert.deepEqual(h.snapshot(), {
 *   bounds: [0.1, 1],
 *   counts: [0, 1, 1],
 *   sum: 2.5,
 *   count: 2,
 * });
 * ```
 */
export class Histogram {
  /** Upper bounds, ascending. */
  readonly bounds: Float64Array;
  /** Non-cumulative counts, `bounds.length + 1` entries. */
  readonly counts: Float64Array;
  /** Sum of observed values. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  /** Creates a histogram; bounds must be finite, ascending and distinct. */
  constructor(bounds: readonly number[] = DURATION_BUCKETS) {
    checkBuckets(bounds);
    this.bounds = Float64Array.from(bounds);
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value. */
  observe(value: number): void {
    const b = this.bounds;
    const n = b.length;
    let i = 0;
    while (i < n && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** A copy of the current state. */
  snapshot(): HistogramSnapshot {
    return {
      bounds: _toArray(this.bounds),
      counts: _toArray(this.counts),
      sum: this.sum,
      count: this.count,
    };
  }
}

/**
 * Throws a RangeError unless `bounds` is a non-empty list of finite numbers
 * in strictly ascending order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkBuckets } from "./histogram.ts";
 *
 * assert.deepEqual(checkBuckets([0.1, 1, 10]), undefined);
 * assert.throws(() => checkBuckets([1, 0.1]), RangeError);
 * ```
 */
export function checkBuckets(bounds: readonly number[]): void {
  if (!Array.isArray(bounds) || bounds.length === 0) {
    throw new RangeError(
      "Cannot create histogram: buckets must be a non-empty array of numbers",
    );
  }
  for (let i = 0; i < bounds.length; i++) {
    if (typeof bounds[i] !== "number" || !Number.isFinite(bounds[i])) {
      throw new RangeError(
        `Cannot create histogram: bucket ${i} must be a finite number, received ${
          String(bounds[i])
        }`,
      );
    }
    if (i > 0 && bounds[i] <= bounds[i - 1]) {
      throw new RangeError(
        `Cannot create histogram: buckets must ascend, but bucket ${i} (${
          bounds[i]
        }) is not above bucket ${i - 1} (${bounds[i - 1]})`,
      );
    }
  }
}

/**
 * A plain copy of a typed array: `Array.from()` walks the iterator
 * protocol, and a stats() read of 100 flows x 10 processes makes
 * thousands of these copies (2-4 ms of a sampling pass or a scrape).
 */
function _toArray(a: ArrayLike<number>): number[] {
  const n = a.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = a[i];
  return out;
}
