/**
 * The window aggregator of a downsampled tier: per series, the open
 * window's count, sum, min, max, last value and (counters) increase, kept
 * in typed arrays indexed by series id so a series costs a few dozen bytes
 * and an update allocates nothing.
 *
 * A window point at `t` covers `(t - resolution, t]`. It is emitted when a
 * later sample falls past its end, or (by the store) as soon as a sample
 * lands exactly on its end: times only go up, so nothing more can fall in.
 *
 * @module
 */

/** Column of a window row: the window's last sample. */
export const COL_VALUE = 0;
/** Column of a window row: samples in the window. */
export const COL_COUNT = 1;
/** Column of a window row: their sum. */
export const COL_SUM = 2;
/** Column of a window row: their minimum. */
export const COL_MIN = 3;
/** Column of a window row: their maximum. */
export const COL_MAX = 4;
/** Column of a window row, counters only: the increase, resets handled. */
export const COL_INCREASE = 5;

/** The open window's state, as {@linkcode WindowAggregator.state} packs it. */
export const STATE_LENGTH = 8;

/**
 * Open windows of one resolution for every series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COL_INCREASE, COL_MAX, WindowAggregator } from "./aggregator.ts";
 *
 * const a = new WindowAggregator(60_000);
 * a.ensure(1);
 * // A counter: 5, 8, then a reset to 2 within (0, 60 s].
 * assert.equal(a.add(0, 10_000, 5, true), 0);
 * a.add(0, 20_000, 8, true);
 * a.add(0, 60_000, 2, true);
 * // The next sample crosses the window end: the row for t = 60 s comes out.
 * assert.equal(a.add(0, 61_000, 3, true), 60_000);
 * assert.equal(a.row[COL_MAX], 8);
 * assert.equal(a.row[COL_INCREASE], 3 + 2);
 * ```
 */
export class WindowAggregator {
  /** The window size (ms). */
  readonly resolutionMs: number;
  /** The row `add()` or `take()` emitted last: value, count, sum, min, max, increase. */
  readonly row: Float64Array = new Float64Array(6);
  #end = new Float64Array(0);
  #count = new Float64Array(0);
  #sum = new Float64Array(0);
  #min = new Float64Array(0);
  #max = new Float64Array(0);
  #last = new Float64Array(0);
  #inc = new Float64Array(0);
  /** The last sample before the open window (NaN: none yet). */
  #prev = new Float64Array(0);

  /** @param resolutionMs the window size (ms), a positive integer */
  constructor(resolutionMs: number) {
    if (!Number.isInteger(resolutionMs) || resolutionMs <= 0) {
      throw new RangeError(
        `Cannot create window aggregator: resolutionMs must be a positive integer, received ${resolutionMs}`,
      );
    }
    this.resolutionMs = resolutionMs;
  }

  /** Makes room for ids below `n`. */
  ensure(n: number): void {
    if (n <= this.#end.length) return;
    const size = Math.max(n, this.#end.length * 2, 64);
    const grow = (a: Float64Array, fill: number) => {
      const b = new Float64Array(size).fill(fill);
      b.set(a);
      return b;
    };
    this.#end = grow(this.#end, 0);
    this.#count = grow(this.#count, 0);
    this.#sum = grow(this.#sum, 0);
    this.#min = grow(this.#min, 0);
    this.#max = grow(this.#max, 0);
    this.#last = grow(this.#last, 0);
    this.#inc = grow(this.#inc, 0);
    this.#prev = grow(this.#prev, NaN);
  }

  /** The end of the window `t` falls in. */
  windowEnd(t: number): number {
    return Math.ceil(t / this.resolutionMs) * this.resolutionMs;
  }

  /**
   * Adds sample `(t, v)` of series `id` (t after its previous sample).
   * Returns the end of the window this closed, with its row in
   * {@linkcode row}, or 0.
   */
  add(id: number, t: number, v: number, counter: boolean): number {
    const end = Math.ceil(t / this.resolutionMs) * this.resolutionMs;
    const open = this.#end[id];
    let emitted = 0;
    if (open !== 0 && open !== end) {
      emitted = this.#fill(id);
      this.#prev[id] = this.#last[id];
    } else if (open !== 0) {
      this.#count[id]++;
      this.#sum[id] += v;
      if (v < this.#min[id] || this.#min[id] !== this.#min[id]) {
        this.#min[id] = v;
      }
      if (v > this.#max[id] || this.#max[id] !== this.#max[id]) {
        this.#max[id] = v;
      }
      if (counter) {
        const last = this.#last[id];
        this.#inc[id] += v >= last ? v - last : v;
      }
      this.#last[id] = v;
      return 0;
    }
    this.#end[id] = end;
    this.#count[id] = 1;
    this.#sum[id] = v;
    this.#min[id] = v;
    this.#max[id] = v;
    const prev = this.#prev[id];
    this.#inc[id] = counter && prev === prev ? (v >= prev ? v - prev : v) : 0;
    this.#last[id] = v;
    return emitted;
  }

  /** The end of `id`'s open window (0: none). */
  openEnd(id: number): number {
    return this.#end[id];
  }

  /** Whether `id` has an open window. */
  isOpen(id: number): boolean {
    return id < this.#end.length && this.#end[id] !== 0;
  }

  /** Closes `id`'s open window now: returns its end with the row in {@linkcode row}, or 0. */
  take(id: number): number {
    if (!this.isOpen(id)) return 0;
    const end = this.#fill(id);
    this.#prev[id] = this.#last[id];
    this.#end[id] = 0;
    return end;
  }

  /**
   * Forgets `id`'s open window and sets the sample before the next one
   * (rebuilding windows from stored samples at start).
   */
  seed(id: number, previous: number): void {
    this.#end[id] = 0;
    this.#prev[id] = previous;
    this.#last[id] = previous;
  }

  /** The open window of `id` packed in `out` (STATE_LENGTH numbers), for the write-ahead log. */
  state(id: number, out: Float64Array): void {
    out[0] = this.#end[id];
    out[1] = this.#count[id];
    out[2] = this.#sum[id];
    out[3] = this.#min[id];
    out[4] = this.#max[id];
    out[5] = this.#last[id];
    out[6] = this.#inc[id];
    out[7] = this.#prev[id];
  }

  /** Restores what {@linkcode state} packed. */
  restore(id: number, s: ArrayLike<number>): void {
    this.ensure(id + 1);
    this.#end[id] = s[0];
    this.#count[id] = s[1];
    this.#sum[id] = s[2];
    this.#min[id] = s[3];
    this.#max[id] = s[4];
    this.#last[id] = s[5];
    this.#inc[id] = s[6];
    this.#prev[id] = s[7];
  }

  #fill(id: number): number {
    const r = this.row;
    r[COL_VALUE] = this.#last[id];
    r[COL_COUNT] = this.#count[id];
    r[COL_SUM] = this.#sum[id];
    r[COL_MIN] = this.#min[id];
    r[COL_MAX] = this.#max[id];
    r[COL_INCREASE] = this.#inc[id];
    return this.#end[id];
  }
}

/**
 * Combines window rows `[from, to)` of `columns` (value, count, sum, min,
 * max[, increase]) into one row of a coarser window, into `out`: the
 * counts, sums and increases add up (each row's increase already starts
 * from the sample before it), min and max of the mins and maxes, the
 * value of the last row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { combineRows } from "./aggregator.ts";
 *
 * const cols = [[5, 7], [60, 60], [100, 200], [1, 0], [9, 8], [3, 4]].map((c) => new Float64Array(c));
 * const out = new Float64Array(6);
 * combineRows(cols, 0, 2, out);
 * assert.deepEqual([...out], [7, 120, 300, 0, 9, 7]);
 * ```
 */
export function combineRows(
  columns: readonly Float64Array[],
  from: number,
  to: number,
  out: Float64Array,
): void {
  let count = 0;
  let sum = 0;
  let min = NaN;
  let max = NaN;
  let inc = 0;
  const counter = columns.length > COL_INCREASE;
  for (let i = from; i < to; i++) {
    count += columns[COL_COUNT][i];
    sum += columns[COL_SUM][i];
    const lo = columns[COL_MIN][i];
    const hi = columns[COL_MAX][i];
    if (lo < min || min !== min) min = lo;
    if (hi > max || max !== max) max = hi;
    if (counter) inc += columns[COL_INCREASE][i];
  }
  out[COL_VALUE] = columns[COL_VALUE][to - 1];
  out[COL_COUNT] = count;
  out[COL_SUM] = sum;
  out[COL_MIN] = min;
  out[COL_MAX] = max;
  out[COL_INCREASE] = inc;
}
