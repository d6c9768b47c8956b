/**
 * Prometheus's φ-quantile of a set of values (the `quantile` aggregation
 * and `quantile_over_time`): linear interpolation between the two nearest
 * ranks, NaN sorted first, `-Inf` below 0 and `+Inf` above 1.
 *
 * @module
 */

/**
 * The φ-quantile of `values` (sorted in place).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantile } from "./quantile.ts";
 *
 * assert.equal(quantile(0.5, [1, 3, 2]), 2);
 * assert.equal(quantile(0.75, [1, 2, 3, 4]), 3.25);
 * assert.equal(quantile(2, [1]), Infinity);
 * ```
 */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
    if (Number.isNaN(b)) return 1;
    return a - b;
  });
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower] * (1 - weight) + values[upper] * weight;
}
