/**
 * The minute window aggregator as it was before its end and count shared
 * one number (2026-12-06: 8 numbers a series, each kept apart), and the
 * hour one as it was before the same (7 numbers): the references
 * `aggregator_test.ts` checks the packed ones against, row by row and
 * bit by bit.
 *
 * @module
 */
import { growCapacity } from "../../src/history/open_chunks.ts";
import {
  COL_COUNT,
  COL_INCREASE,
  COL_MAX,
  COL_MIN,
  COL_SUM,
  COL_VALUE,
} from "../../src/history/aggregator.ts";

const STATE_LENGTH = 8;
// A series' numbers in the aggregator's array (STATE_LENGTH of them, in
// the order state() packs them).
const _W = STATE_LENGTH;
const _END = 0;
const _COUNT = 1;
const _SUM = 2;
const _MIN = 3;
const _MAX = 4;
const _LAST = 5;
const _INC = 6;
const _PREV = 7;

/** Open windows of one resolution for every series (the old layout). */
export class ReferenceWindowAggregator {
  /** The window size (ms). */
  readonly resolutionMs: number;
  /** The row `add()` or `take()` emitted last: value, count, sum, min, max, increase. */
  readonly row: Float64Array = new Float64Array(6);
  /**
   * Per series, 8 numbers side by side (one 64-byte cache line): the open
   * window's end (0: none), count, sum, min, max, last sample, increase,
   * and the last sample before the window (NaN: none yet). Eight arrays
   * of 57,000 series meant eight cache misses a sample; this is one.
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
    for (let i = this.#n; i < size; i++) s[i * _W + _PREV] = NaN;
    this.#s = s;
    this.#n = size;
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
    const open = s[at + _END];
    let emitted = 0;
    if (open === end && open !== 0) {
      s[at + _COUNT]++;
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
    if (open !== 0) {
      emitted = this.#fill(at);
      s[at + _PREV] = s[at + _LAST];
    }
    s[at + _END] = end;
    s[at + _COUNT] = 1;
    s[at + _SUM] = v;
    s[at + _MIN] = v;
    s[at + _MAX] = v;
    const prev = s[at + _PREV];
    s[at + _INC] = counter && prev === prev ? (v >= prev ? v - prev : v) : 0;
    s[at + _LAST] = v;
    return emitted;
  }

  /** The end of `id`'s open window (0: none). */
  openEnd(id: number): number {
    return this.#s[id * _W + _END];
  }

  /** Whether `id` has an open window. */
  isOpen(id: number): boolean {
    return id < this.#n && this.#s[id * _W + _END] !== 0;
  }

  /** Closes `id`'s open window now: returns its end with the row in {@linkcode row}, or 0. */
  take(id: number): number {
    if (!this.isOpen(id)) return 0;
    const at = id * _W;
    const end = this.#fill(at);
    this.#s[at + _PREV] = this.#s[at + _LAST];
    this.#s[at + _END] = 0;
    return end;
  }

  /**
   * Forgets `id`'s open window and sets the sample before the next one
   * (rebuilding windows from stored samples at start).
   */
  seed(id: number, previous: number): void {
    const at = id * _W;
    this.#s[at + _END] = 0;
    this.#s[at + _PREV] = previous;
    this.#s[at + _LAST] = previous;
  }

  /** The open window of `id` packed in `out` (STATE_LENGTH numbers), for the write-ahead log. */
  state(id: number, out: Float64Array): void {
    out.set(this.#s.subarray(id * _W, id * _W + _W));
  }

  /** Restores what {@linkcode state} packed. */
  restore(id: number, s: ArrayLike<number>): void {
    this.ensure(id + 1);
    for (let i = 0; i < _W; i++) this.#s[id * _W + i] = s[i];
  }

  /** Bytes held. */
  memoryBytes(): number {
    return this.#s.byteLength;
  }

  #fill(at: number): number {
    const s = this.#s;
    const r = this.row;
    r[COL_VALUE] = s[at + _LAST];
    r[COL_COUNT] = s[at + _COUNT];
    r[COL_SUM] = s[at + _SUM];
    r[COL_MIN] = s[at + _MIN];
    r[COL_MAX] = s[at + _MAX];
    r[COL_INCREASE] = s[at + _INC];
    return s[at + _END];
  }
}

// A series' numbers in ReferenceRowAggregator's array.
const _R = 7;

/** Open coarser windows built from finer rows (the old layout: the end and count apart). */
export class ReferenceRowAggregator {
  /** The coarser window's size (ms). */
  readonly resolutionMs: number;
  /** The row `addRow()` or `take()` emitted last. */
  readonly row: Float64Array = new Float64Array(6);
  /** Its columns (5: gauge, 6: counter). */
  columns = 0;
  /**
   * Per series, 7 numbers side by side: the open window's end (0: none),
   * count, sum, min, max, last row's value, increase.
   */
  #s = new Float64Array(0);
  #cols = new Uint8Array(0);
  #n = 0;

  /** @param resolutionMs the coarser window's size (ms) */
  constructor(resolutionMs: number) {
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

  /** Folds a row of `id` whose coarser window ends at `end`; returns the end of a window this closed, or 0. */
  addRow(id: number, end: number, row: Float64Array, columns: number): number {
    const s = this.#s;
    const at = id * _R;
    let emitted = 0;
    if (s[at] !== end) {
      if (s[at] !== 0) emitted = this.#fill(id);
      s[at] = end;
      s[at + 1] = 0;
      s[at + 2] = 0;
      s[at + 3] = NaN;
      s[at + 4] = NaN;
      s[at + 6] = 0;
    }
    s[at + 1] += row[COL_COUNT];
    s[at + 2] += row[COL_SUM];
    const lo = row[COL_MIN];
    const hi = row[COL_MAX];
    const min = s[at + 3];
    const max = s[at + 4];
    if (lo < min || min !== min) s[at + 3] = lo;
    if (hi > max || max !== max) s[at + 4] = hi;
    if (columns > COL_INCREASE) s[at + 6] += row[COL_INCREASE];
    s[at + 5] = row[COL_VALUE];
    this.#cols[id] = columns;
    return emitted;
  }

  /** The end of `id`'s open window (0: none). */
  openEnd(id: number): number {
    return id < this.#n ? this.#s[id * _R] : 0;
  }

  /** Whether `id` has an open window. */
  isOpen(id: number): boolean {
    return id < this.#n && this.#s[id * _R] !== 0;
  }

  /** Closes `id`'s open window: its end with the row in `row`, or 0. */
  take(id: number): number {
    if (!this.isOpen(id)) return 0;
    const end = this.#fill(id);
    this.#s[id * _R] = 0;
    return end;
  }

  /** Forgets `id`'s open window. */
  clear(id: number): void {
    if (id < this.#n) this.#s[id * _R] = 0;
  }

  #fill(id: number): number {
    const s = this.#s;
    const r = this.row;
    const at = id * _R;
    r[COL_VALUE] = s[at + 5];
    r[COL_COUNT] = s[at + 1];
    r[COL_SUM] = s[at + 2];
    r[COL_MIN] = s[at + 3];
    r[COL_MAX] = s[at + 4];
    r[COL_INCREASE] = s[at + 6];
    this.columns = this.#cols[id];
    return s[at];
  }
}
