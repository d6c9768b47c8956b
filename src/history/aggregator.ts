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

import { growCapacity } from "./open_chunks.ts";

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

// A series' numbers in the aggregator's array: the open window's end
// and count as one number (see _endOf), then sum, min, max, the last
// sample and the increase.
const _W = 6;
const _X = 0;
const _SUM = 1;
const _MIN = 2;
const _MAX = 3;
const _LAST = 4;
const _INC = 5;

/**
 * The end of the open window whose end and count `x` holds: `x` is `end
 * - res + count`, 0 for none. A window `(end - res, end]` holds from 1 to
 * `res` samples (times are integer ms, each after the last), so `x` lies
 * in the window and gives back both exactly; the same window is `x >
 * end - res && x <= end`, two comparisons a sample.
 */
function _endOf(x: number, res: number): number {
  const r = x % res;
  return r === 0 ? x : r > 0 ? x - r + res : x - r;
}

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
  /**
   * Per series, 6 numbers side by side: the open window's end and count
   * as one (see _endOf; 0: none), sum, min, max, the last sample, and
   * the increase. Eight arrays of 57,000 series meant eight cache misses
   * a sample; this is one. 48 bytes a series: the end and count apart
   * took 8 more, and so did the sample before the window, which is read
   * only as a window opens, when the last sample is that very one (while
   * no window is open, the last sample is the one before the next; NaN:
   * none yet).
   */
  #s = new Float64Array(0);
  #n = 0;

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
    if (n <= this.#n) return;
    const size = Math.max(n, growCapacity(this.#n));
    const s = new Float64Array(size * _W);
    s.set(this.#s);
    for (let i = this.#n; i < size; i++) s[i * _W + _LAST] = NaN;
    this.#s = s;
    this.#n = size;
  }

  /** The end of the window `t` falls in. */
  windowEnd(t: number): number {
    return Math.ceil(t / this.resolutionMs) * this.resolutionMs;
  }

  /**
   * Adds sample `(t, v)` of series `id` (t an integer number of ms after
   * its previous sample, as the store's samples are: see _endOf).
   * Returns the end of the window this closed, with its row in
   * {@linkcode row}, or 0.
   */
  add(id: number, t: number, v: number, counter: boolean): number {
    const res = this.resolutionMs;
    return this.addTo(id, Math.ceil(t / res) * res, v, counter);
  }

  /**
   * {@linkcode add} for a sample whose window ends at `end` (the caller
   * computed it once for a tick's many series).
   */
  addTo(id: number, end: number, v: number, counter: boolean): number {
    const s = this.#s;
    const at = id * _W;
    const x = s[at + _X];
    let emitted = 0;
    if (x !== 0) {
      if (x > end - this.resolutionMs && x <= end) {
        s[at + _X] = x + 1;
        s[at + _SUM] += v;
        const min = s[at + _MIN];
        if (v < min || min !== min) s[at + _MIN] = v;
        const max = s[at + _MAX];
        if (v > max || max !== max) s[at + _MAX] = v;
        if (counter) {
          const last = s[at + _LAST];
          s[at + _INC] += v >= last ? v - last : v;
        }
        s[at + _LAST] = v;
        return 0;
      }
      emitted = this.#fill(at);
    }
    // A window ending at 0 is never open (0 means none), as always, and
    // its samples leave the sample before the next window as it was.
    if (end === 0) {
      s[at + _X] = 0;
      return emitted;
    }
    // The sample before this window: the last one (see #s).
    const prev = s[at + _LAST];
    s[at + _X] = end - this.resolutionMs + 1;
    s[at + _SUM] = v;
    s[at + _MIN] = v;
    s[at + _MAX] = v;
    s[at + _INC] = counter && prev === prev ? (v >= prev ? v - prev : v) : 0;
    s[at + _LAST] = v;
    return emitted;
  }

  /** The end of `id`'s open window (0: none). */
  openEnd(id: number): number {
    const x = this.#s[id * _W + _X];
    return x === 0 ? 0 : _endOf(x, this.resolutionMs);
  }

  /** Whether `id` has an open window. */
  isOpen(id: number): boolean {
    return id < this.#n && this.#s[id * _W + _X] !== 0;
  }

  /** Closes `id`'s open window now: returns its end with the row in {@linkcode row}, or 0. */
  take(id: number): number {
    if (!this.isOpen(id)) return 0;
    const at = id * _W;
    const end = this.#fill(at);
    this.#s[at + _X] = 0;
    return end;
  }

  /**
   * Forgets `id`'s open window and sets the sample before the next one
   * (rebuilding windows from stored samples at start).
   */
  seed(id: number, previous: number): void {
    const at = id * _W;
    this.#s[at + _X] = 0;
    this.#s[at + _LAST] = previous;
  }

  /**
   * The open window of `id` packed in `out` (STATE_LENGTH numbers: end,
   * count, sum, min, max, last sample, increase, the sample before;
   * end and count 0 when none is open). The sample before an open
   * window is not kept (its part is in the increase): NaN.
   */
  state(id: number, out: Float64Array): void {
    const at = id * _W;
    const x = this.#s[at + _X];
    const end = x === 0 ? 0 : _endOf(x, this.resolutionMs);
    out[0] = end;
    out[1] = x === 0 ? 0 : x - end + this.resolutionMs;
    for (let i = 1; i < _W; i++) out[i + 1] = this.#s[at + i];
    out[7] = x === 0 ? this.#s[at + _LAST] : NaN;
  }

  /**
   * Restores what {@linkcode state} packed. Throws a RangeError for a
   * window that cannot be (an open one's end not a multiple of the
   * resolution, or a count outside 1 to the resolution in ms).
   */
  restore(id: number, s: ArrayLike<number>): void {
    const res = this.resolutionMs;
    const end = s[0];
    const count = s[1];
    if (
      end !== 0 &&
      !(end % res === 0 && Number.isInteger(count) && count >= 1 &&
        count <= res)
    ) {
      throw new RangeError(
        `Cannot restore a window: its end must be a multiple of ${res} and its count from 1 to ${res}, received ${end} and ${count}`,
      );
    }
    this.ensure(id + 1);
    const at = id * _W;
    this.#s[at + _X] = end === 0 ? 0 : end - res + count;
    for (let i = 1; i < _W; i++) this.#s[at + i] = s[i + 1];
    // No window open: the last sample is the one before the next.
    if (end === 0) this.#s[at + _LAST] = s[7];
  }

  /** Bytes held. */
  memoryBytes(): number {
    return this.#s.byteLength;
  }

  #fill(at: number): number {
    const s = this.#s;
    const r = this.row;
    const x = s[at + _X];
    const end = _endOf(x, this.resolutionMs);
    r[COL_VALUE] = s[at + _LAST];
    r[COL_COUNT] = x - end + this.resolutionMs;
    r[COL_SUM] = s[at + _SUM];
    r[COL_MIN] = s[at + _MIN];
    r[COL_MAX] = s[at + _MAX];
    r[COL_INCREASE] = s[at + _INC];
    return end;
  }
}

// A series' numbers in RowAggregator's array: the open window's end and
// count as one (see _endOf), sum, min, max, the last row's value and the
// increase.
const _R = 6;

/**
 * Open windows of a coarser tier for every series, built from the rows
 * of a finer one (each row a finer window: value, count, sum, min, max[,
 * increase]) as they come, 49 bytes a series in two typed arrays: the
 * finer tier's chunks can then be sealed at any size (a few rows, so
 * its open chunks stay small) and need not hold a whole coarser window.
 * A row folds in term by term: counts, sums and increases add up (each
 * row's increase already starts from the sample before it), min and max
 * of the rows' mins and maxes, the value of the last row; in row order,
 * so the coarser row is the same to the bit as one combined at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COL_COUNT, COL_INCREASE, COL_MAX, RowAggregator } from "./aggregator.ts";
 *
 * const h = new RowAggregator(3_600_000);
 * h.ensure(1);
 * const row = new Float64Array([7, 60, 300, 1, 9, 4]);
 * // Two minute rows of the hour ending at 1 h (the window's end is given).
 * assert.equal(h.addRow(0, 3_600_000, row, 6), 0);
 * assert.equal(h.addRow(0, 3_600_000, row, 6), 0);
 * // A row of the next hour closes the first one.
 * assert.equal(h.addRow(0, 7_200_000, row, 6), 3_600_000);
 * assert.deepEqual([h.row[COL_COUNT], h.row[COL_MAX], h.row[COL_INCREASE], h.columns], [120, 9, 8, 6]);
 * assert.equal(h.take(0), 7_200_000);
 * assert.equal(h.row[COL_COUNT], 60);
 * ```
 */
export class RowAggregator {
  /** The coarser window's size (ms). */
  readonly resolutionMs: number;
  /** The row `addRow()` or `take()` emitted last. */
  readonly row: Float64Array = new Float64Array(6);
  /** Its columns (5: gauge, 6: counter). */
  columns = 0;
  /**
   * Per series, 6 numbers side by side: the open window's end and count
   * as one, `end - res + count` as the minute window's (see _endOf; 0:
   * none), sum, min, max, the last row's value, and the increase. The
   * rows' counts add up to at most `res`: each counts the samples of a
   * finer window inside this one, at integer ms each after the last
   * (addRow refuses a row that would break that).
   */
  #s = new Float64Array(0);
  /** Per series: the last row's columns (a chunk's are at most 255). */
  #cols = new Uint8Array(0);
  #n = 0;

  /** @param resolutionMs the coarser window's size (ms), a positive integer */
  constructor(resolutionMs: number) {
    if (!Number.isInteger(resolutionMs) || resolutionMs <= 0) {
      throw new RangeError(
        `Cannot create row aggregator: resolutionMs must be a positive integer, received ${resolutionMs}`,
      );
    }
    this.resolutionMs = resolutionMs;
  }

  /** Makes room for ids below `n`. */
  ensure(n: number): void {
    if (n <= this.#n) return;
    const size = Math.max(n, growCapacity(this.#n));
    const s = new Float64Array(size * _R);
    s.set(this.#s);
    this.#s = s;
    const cols = new Uint8Array(size);
    cols.set(this.#cols);
    this.#cols = cols;
    this.#n = size;
  }

  /**
   * Folds row `row` (its first `columns` values) of series `id`, whose
   * coarser window ends at `end`, into that window. Returns the end of
   * the window this closed (a row of a later window came), with its row
   * in {@linkcode row}, or 0.
   */
  addRow(id: number, end: number, row: Float64Array, columns: number): number {
    const s = this.#s;
    const res = this.resolutionMs;
    const at = id * _R;
    const count = row[COL_COUNT];
    let x = s[at];
    // A window ending at 0 is "none" as before: its rows start afresh.
    const fresh = !(x > end - res && x <= end) || x === 0;
    // Checked before anything changes: a refused row leaves the open
    // window (and the row it would have closed) as they were.
    const before = fresh ? 0 : x - end + res;
    if (!(count >= 1 && Number.isInteger(count) && before + count <= res)) {
      throw new RangeError(
        `Cannot fold a row into a window of ${res} ms: its samples (count ${count}, ${before} before) must be a whole number from 1 up to one a ms`,
      );
    }
    let emitted = 0;
    if (fresh) {
      if (x !== 0) emitted = this.#fill(id);
      x = end - res;
      s[at + 1] = 0;
      s[at + 2] = NaN;
      s[at + 3] = NaN;
      s[at + 5] = 0;
    }
    s[at] = end === 0 ? 0 : x + count;
    s[at + 1] += row[COL_SUM];
    const lo = row[COL_MIN];
    const hi = row[COL_MAX];
    const min = s[at + 2];
    const max = s[at + 3];
    if (lo < min || min !== min) s[at + 2] = lo;
    if (hi > max || max !== max) s[at + 3] = hi;
    if (columns > COL_INCREASE) s[at + 5] += row[COL_INCREASE];
    s[at + 4] = row[COL_VALUE];
    this.#cols[id] = columns;
    return emitted;
  }

  /** The end of `id`'s open window (0: none). */
  openEnd(id: number): number {
    if (id >= this.#n) return 0;
    const x = this.#s[id * _R];
    return x === 0 ? 0 : _endOf(x, this.resolutionMs);
  }

  /** Whether `id` has an open window. */
  isOpen(id: number): boolean {
    return id < this.#n && this.#s[id * _R] !== 0;
  }

  /** Closes `id`'s open window now: returns its end with the row in {@linkcode row}, or 0. */
  take(id: number): number {
    if (!this.isOpen(id)) return 0;
    const at = id * _R;
    const end = this.#fill(id);
    this.#s[at] = 0;
    return end;
  }

  /** Forgets `id`'s open window (before rebuilding it at open). */
  clear(id: number): void {
    if (id < this.#n) this.#s[id * _R] = 0;
  }

  /** Bytes held. */
  memoryBytes(): number {
    return this.#s.byteLength + this.#cols.byteLength;
  }

  #fill(id: number): number {
    const s = this.#s;
    const r = this.row;
    const at = id * _R;
    const x = s[at];
    const end = _endOf(x, this.resolutionMs);
    r[COL_VALUE] = s[at + 4];
    r[COL_COUNT] = x - end + this.resolutionMs;
    r[COL_SUM] = s[at + 1];
    r[COL_MIN] = s[at + 2];
    r[COL_MAX] = s[at + 3];
    r[COL_INCREASE] = s[at + 5];
    this.columns = this.#cols[id];
    return end;
  }
}
