/**
 * The rollup: the first downsampled tier's rows computed from the raw
 * samples, the same rows the window aggregator gives a sample at a time
 * (a {@linkcode WindowAggregator} of one series does the computing), for
 * windows that are complete.
 *
 * The store keeps no per-series window for a downsampled tier: every
 * series' rows up to its watermark are stored (chunks of a block of
 * windows, written by the rollup a block at a time, spread over the
 * passes after the block's end), and rows after it are computed from the
 * raw samples (or, for a coarser tier, the finer rows) when a read wants
 * them. A series' memory for a tier is its watermark (8 bytes) instead
 * of an open chunk with its encoder state and open windows (~470 bytes
 * for the minute and hour tiers together at 57,000 series).
 *
 * A window `(end - resolution, end]` is complete once the series has a
 * sample at or after `end` (times only go up), or, for a series that
 * stopped (its last sample `staleMs` before the newest of any series),
 * once the newest sample is at or past `end`. A counter's increase starts
 * from the sample before the window: the last one in the window before
 * the first computed one (one window back), as the store did when it
 * rebuilt its open windows at start.
 *
 * @module
 */
import type { WindowAggregator } from "./aggregator.ts";

/**
 * Rows of one series (times and 5 or 6 columns), grown as needed and
 * reused from one series to the next ({@linkcode WindowRows.clear}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WindowRows } from "./rollup.ts";
 *
 * const rows = new WindowRows();
 * rows.push(60_000, new Float64Array([1, 2, 3, 4, 5, 6]), 6);
 * assert.equal(rows.n, 1);
 * assert.equal(rows.columns[4][0], 5);
 * rows.clear();
 * assert.equal(rows.n, 0);
 * ```
 */
export class WindowRows {
  /** Rows held. */
  n = 0;
  /** Columns of the rows (5: gauge, 6: counter; 0 while empty). */
  width = 0;
  /** Row times (window ends), ascending. */
  t: Float64Array = new Float64Array(64);
  /** The six columns (the sixth unused for gauges). */
  columns: Float64Array[] = Array.from(
    { length: 6 },
    () => new Float64Array(64),
  );

  /** Empties the list (its arrays are kept). */
  clear(): void {
    this.n = 0;
    this.width = 0;
  }

  /** Appends row `(t, row)` of `width` columns. */
  push(t: number, row: Float64Array, width: number): void {
    const k = this.n;
    if (k === this.t.length) this.#grow();
    this.t[k] = t;
    for (let c = 0; c < width; c++) {
      // set() of a one-row view keeps a NaN's payload (a stale marker).
      this.columns[c].set(row.subarray(c, c + 1), k);
    }
    this.width = width;
    this.n = k + 1;
  }

  /** Times of rows `0..n-1` (a view). */
  times(): Float64Array {
    return this.t.subarray(0, this.n);
  }

  /** The `width` columns of rows `0..n-1` (views). */
  view(): Float64Array[] {
    return this.columns.slice(0, this.width).map((c) => c.subarray(0, this.n));
  }

  #grow(): void {
    const size = this.t.length * 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.t = grow(this.t);
    this.columns = this.columns.map(grow);
  }
}

/**
 * Computes into `out` the rows of the windows of `resolutionMs` that end
 * in `(after, upTo]` from samples `t[0..n-1]`, `v` (ascending times): the
 * last sample at or before `after` is the one before the first window (a
 * counter's increase starts from it); samples after `upTo` are ignored
 * and every window ending by `upTo` is taken as complete (the caller
 * knows it is). Without a sample at or before `after`, `seed` is the one
 * before the first window (NaN: none). `agg` is scratch (one series, id
 * 0). Returns the rows added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WindowAggregator } from "./aggregator.ts";
 * import { windowRows, WindowRows } from "./rollup.ts";
 *
 * const t = new Float64Array([30_000, 60_000, 90_000, 120_000, 150_000]);
 * const v = new Float64Array([1, 2, 5, 7, 8]);
 * const rows = new WindowRows();
 * // Windows (60 s, 120 s]: one row, whose increase starts from 2 (at 60 s).
 * windowRows(t, v, 5, 60_000, 60_000, 120_000, true, new WindowAggregator(60_000), rows);
 * assert.deepEqual([...rows.times()], [120_000]);
 * assert.deepEqual(rows.view().map((c) => c[0]), [7, 2, 12, 5, 7, 5]);
 * ```
 */
export function windowRows(
  t: Float64Array,
  v: Float64Array,
  n: number,
  resolutionMs: number,
  after: number,
  upTo: number,
  counter: boolean,
  agg: WindowAggregator,
  out: WindowRows,
  seed = NaN,
): number {
  if (agg.resolutionMs !== resolutionMs) {
    throw new RangeError(
      `Cannot compute window rows: the aggregator's windows are ${agg.resolutionMs} ms, not ${resolutionMs}`,
    );
  }
  agg.ensure(1);
  agg.seed(0, seed);
  const width = counter ? 6 : 5;
  const before = out.n;
  let i = 0;
  while (i < n && t[i] <= after) agg.seed(0, v[i++]);
  for (; i < n; i++) {
    const ti = t[i];
    if (ti > upTo) break;
    const end = agg.add(0, ti, v[i], counter);
    if (end !== 0) out.push(end, agg.row, width);
  }
  if (agg.isOpen(0) && agg.openEnd(0) <= upTo) {
    const end = agg.take(0);
    out.push(end, agg.row, width);
  }
  return out.n - before;
}
