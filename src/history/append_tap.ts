/**
 * The newest samples of a store as they are appended, kept for a short
 * while: what remote write sends while it is caught up, instead of
 * decoding them back out of the raw tier's chunks (which, for a window of
 * a few seconds, decodes each series' open chunk of up to two minutes:
 * several points of a core at 57,000 series).
 *
 * @module
 */
import type { AppendListener } from "./store.ts";

/** What {@linkcode AppendTap.shared} tells of a window. */
export interface SharedWindow {
  /** The series, as every append of the window gave them (not to be changed). */
  refs: Int32Array;
  /** How many of `refs` (the first ones). */
  series: number;
  /** Samples per series (the appends in the window). */
  ticks: number;
}

interface Entry {
  t: number;
  refs: Int32Array;
  values: Float64Array;
  bits: Uint32Array;
  n: number;
}

/**
 * Keeps what a store's `onAppend` reports over the last `spanMs`, and
 * gives a time range of it back series by series, into the caller's
 * arrays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HistoryStore } from "./store.ts";
 * import { AppendTap } from "./append_tap.ts";
 *
 * const store = await HistoryStore.open();
 * const a = store.seriesRef({ __name__: "a" }, "gauge");
 * const b = store.seriesRef({ __name__: "b" }, "gauge");
 * const tap = new AppendTap((l) => store.onAppend(l), store.newestTime(), 10_000);
 * for (let s = 1; s <= 3; s++) {
 *   store.appendBatch(Int32Array.of(a, b), Float64Array.of(s, 10 * s), 2, s * 1000);
 * }
 * assert.equal(tap.covers(0), true);
 * const t = new Float64Array(tap.size(1000, 3000));
 * const v = new Float64Array(t.length);
 * const got: string[] = [];
 * tap.readInto(1000, 3000, t, v, (ref, off, n) =>
 *   got.push(`${ref}: ${[...t.subarray(off, off + n)]} ${[...v.subarray(off, off + n)]}`)
 * );
 * assert.deepEqual(got, [`${a}: 2000,3000 2,3`, `${b}: 2000,3000 20,30`]);
 * tap.release(3000);
 * tap.close();
 * await store.close();
 * ```
 */
export class AppendTap {
  #entries: Entry[] = [];
  /** Every sample appended after this time is held. */
  #from: number;
  readonly #spanMs: number;
  readonly #stop: () => void;
  /** Value arrays of released entries, for the next ones. */
  #free: Float64Array[] = [];
  // The transposition of a read, reused from one read to the next.
  #count = new Int32Array(0);
  #pos = new Int32Array(0);
  /** The last value array read into, and a view of its bits. */
  #vOut: Float64Array | undefined;
  #vBits: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  /** The refs of the newest append (kept when it is released). */
  #lastRefs = new Int32Array(0);
  /** A refs array known to hold each series once. */
  #distinct: Int32Array | undefined;

  /**
   * Starts listening through `listen` (a store's `onAppend`): from now
   * on it holds what is appended after `from` (the store's newest time),
   * at most `spanMs` before the newest append.
   */
  constructor(
    listen: (listener: AppendListener) => () => void,
    from: number,
    spanMs: number,
  ) {
    this.#from = from;
    this.#spanMs = spanMs;
    this.#stop = listen((t, refs, values, n) =>
      this.#record(t, refs, values, n)
    );
  }

  /** Whether it holds every sample appended after `start`. */
  covers(start: number): boolean {
    return start >= this.#from;
  }

  /** How many samples it holds in `(start, end]`. */
  size(start: number, end: number): number {
    let total = 0;
    for (const e of this.#entries) if (e.t > start && e.t <= end) total += e.n;
    return total;
  }

  /**
   * The samples it holds in `(start, end]` into `t` and `v` (at least
   * {@linkcode size} long) from their start, series by series (in ref
   * order, or, when every append held the same series in the same
   * order, in that order), each series' in time order (a NaN's bits kept):
   * `visit(ref, off, n)` for each series' `n` samples at `off`. Only valid
   * when {@linkcode covers}`(start)`.
   */
  readInto(
    start: number,
    end: number,
    t: Float64Array,
    v: Float64Array,
    visit: (ref: number, off: number, n: number) => void,
  ): void {
    const entries = this.#window(start, end, t, v);
    if (entries === undefined) return;
    if (this.#oneSetEach(entries)) {
      this.#lay(entries, undefined, entries[0].n, t);
      const { refs, n } = entries[0];
      const k = entries.length;
      for (let s = 0; s < n; s++) visit(refs[s], s * k, k);
      return;
    }
    // A counting sort by series: counts, then where each series starts,
    // then the samples in time order (entries are in time order).
    const count = this.#count;
    const touched: number[] = [];
    for (const e of entries) {
      for (let i = 0; i < e.n; i++) {
        const ref = e.refs[i];
        if (count[ref]++ === 0) touched.push(ref);
      }
    }
    touched.sort((a, b) => a - b);
    // Where each series' next sample goes, by ref.
    const pos = this.#pos;
    let off = 0;
    for (const ref of touched) {
      pos[ref] = off;
      off += count[ref];
    }
    const vb = this.#vBits;
    for (const e of entries) {
      const bits = e.bits;
      const refs = e.refs;
      for (let i = 0; i < e.n; i++) {
        const p = pos[refs[i]]++;
        t[p] = e.t;
        vb[2 * p] = bits[2 * i];
        vb[2 * p + 1] = bits[2 * i + 1];
      }
    }
    for (const ref of touched) {
      const n = count[ref];
      count[ref] = 0;
      visit(ref, pos[ref] - n, n);
    }
  }

  /**
   * Whether every entry holds the same series in the same order, each
   * once (a sampler's ticks): then no counting sort is needed.
   */
  #oneSetEach(entries: Entry[]): boolean {
    const refs = entries[0].refs;
    const n = entries[0].n;
    for (const e of entries) if (e.refs !== refs || e.n !== n) return false;
    if (this.#distinct !== refs) {
      // Checked once per refs array (ticks share it while nothing changes).
      const count = this.#count;
      let once = true;
      for (let i = 0; i < n; i++) if (count[refs[i]]++ !== 0) once = false;
      for (let i = 0; i < n; i++) count[refs[i]] = 0;
      if (!once) return false;
      this.#distinct = refs;
    }
    return true;
  }

  /** The entries appended in `(start, end]`. */
  #in(start: number, end: number): Entry[] {
    return this.#entries.filter((e) => e.t > start && e.t <= end);
  }

  /** Sizes the counts by ref for every ref of `entries`. */
  #fitCounts(entries: Entry[]): void {
    let maxRef = -1;
    let last: Int32Array | undefined;
    for (const e of entries) {
      // Ticks that appended the same series share one refs array; the
      // one checked distinct was sized for when it was checked.
      if (e.refs === last || e.refs === this.#distinct) continue;
      last = e.refs;
      maxRef = Math.max(maxRef, this.#maxOf(e.refs, e.n));
    }
    if (this.#count.length <= maxRef) {
      const size = Math.max(maxRef + 1, 2 * this.#count.length);
      this.#count = new Int32Array(size);
      this.#pos = new Int32Array(size);
    }
  }

  /** The largest ref of `refs[0, n)`. */
  #maxOf(refs: Int32Array, n: number): number {
    let max = -1;
    for (let i = 0; i < n; i++) if (refs[i] > max) max = refs[i];
    return max;
  }

  /**
   * Lays out entries that each hold the same series once, in the same
   * order: the samples of series `pick[p]` (an index into the entries'
   * refs; `p` itself without `pick`) at `p * entries.length`, for `p`
   * below `count`. A tick at a time: its values are read where `pick`
   * says (one tick's values stay in the cache), written a series apart.
   */
  #lay(
    entries: Entry[],
    pick: Int32Array | undefined,
    count: number,
    t: Float64Array,
  ): void {
    const k = entries.length;
    const vb = this.#vBits;
    for (let j = 0; j < k; j++) {
      const e = entries[j];
      const bits = e.bits;
      const time = e.t;
      for (let p = 0, at = j; p < count; p++, at += k) {
        const s = pick === undefined ? p : pick[p];
        t[at] = time;
        vb[2 * at] = bits[2 * s];
        vb[2 * at + 1] = bits[2 * s + 1];
      }
    }
  }

  /**
   * When every append in `(start, end]` held the same series in the same
   * order, each once (a sampler's ticks): those series (`refs`, the
   * appends' own array: not to be changed), and how many ticks; then
   * {@linkcode readPicked} lays them out in any order. Undefined
   * otherwise (then use {@linkcode readInto}). Reads nothing.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HistoryStore } from "./store.ts";
   * import { AppendTap } from "./append_tap.ts";
   *
   * const store = await HistoryStore.open();
   * const refs = Int32Array.of(
   *   store.seriesRef({ __name__: "a" }, "gauge"),
   *   store.seriesRef({ __name__: "b" }, "gauge"),
   * );
   * const tap = new AppendTap((l) => store.onAppend(l), store.newestTime(), 10_000);
   * store.appendBatch(refs, Float64Array.of(1, 10), 2, 1000);
   * store.appendBatch(refs, Float64Array.of(2, 20), 2, 2000);
   * const shared = tap.shared(0, 2000)!;
   * assert.deepEqual([...shared.refs], [...refs]);
   * assert.equal(shared.series, 2);
   * assert.equal(shared.ticks, 2);
   * // b first, then a: each series' two samples side by side.
   * const t = new Float64Array(4);
   * const v = new Float64Array(4);
   * tap.readPicked(0, 2000, Int32Array.of(1, 0), t, v);
   * assert.deepEqual([...v], [10, 20, 1, 2]);
   * assert.deepEqual([...t], [1000, 2000, 1000, 2000]);
   * tap.close();
   * await store.close();
   * ```
   */
  shared(start: number, end: number): SharedWindow | undefined {
    const entries = this.#in(start, end);
    if (entries.length === 0 || entries[0].n === 0) return undefined;
    this.#fitCounts(entries);
    if (!this.#oneSetEach(entries)) return undefined;
    return {
      refs: entries[0].refs,
      series: entries[0].n,
      ticks: entries.length,
    };
  }

  /**
   * Lays out a window that {@linkcode shared} says is shared: the samples
   * of series `refs[pick[p]]` at `p * ticks` of `t` and `v`, in time
   * order (a NaN's bits kept). Throws a RangeError when the window is not
   * shared, an index is not one of its series, or the arrays are short.
   */
  readPicked(
    start: number,
    end: number,
    pick: Int32Array,
    t: Float64Array,
    v: Float64Array,
  ): void {
    const entries = this.#window(start, end, t, v, pick.length);
    if (entries === undefined || !this.#oneSetEach(entries)) {
      throw new RangeError(
        `Cannot read the append tap by pick: (${start}, ${end}] is not a window of ticks that share their series`,
      );
    }
    const n = entries[0].n;
    for (let p = 0; p < pick.length; p++) {
      if (!(pick[p] >= 0 && pick[p] < n)) {
        throw new RangeError(
          `Cannot read the append tap by pick: index ${
            pick[p]
          } at ${p} is not one of the ${n} series`,
        );
      }
    }
    this.#lay(entries, pick, pick.length, t);
  }

  /**
   * The entries in `(start, end]`, checked to fit `t` and `v` (all their
   * samples, or `picked` series' of each), with the
   * value view and the counts sized; undefined when there are none.
   */
  #window(
    start: number,
    end: number,
    t: Float64Array,
    v: Float64Array,
    picked?: number,
  ): Entry[] | undefined {
    const entries = this.#in(start, end);
    let total = 0;
    for (const e of entries) total += e.n;
    if (total === 0) return undefined;
    // Picked series: that many a tick.
    const need = picked === undefined ? total : picked * entries.length;
    if (t.length < need || v.length < need) {
      throw new RangeError(
        `Cannot read the append tap: ${need} samples need longer arrays than ${t.length}`,
      );
    }
    if (this.#vOut !== v) {
      this.#vOut = v;
      this.#vBits = new Uint32Array(v.buffer, v.byteOffset, 2 * v.length);
    }
    this.#fitCounts(entries);
    return entries;
  }

  /** Forgets what was appended at or before `end`. */
  release(end: number): void {
    while (this.#entries.length > 0 && this.#entries[0].t <= end) {
      this.#drop();
    }
    if (end > this.#from) this.#from = end;
  }

  /** Stops listening and forgets everything. */
  close(): void {
    this.#stop();
    this.#entries = [];
    this.#free = [];
  }

  #record(t: number, refs: Int32Array, values: Float64Array, n: number) {
    // A sampler appends the same series in the same order every tick:
    // one refs array serves them all, also after the ticks before were
    // released (a reader's plan for those series holds while it does).
    const last = this.#lastRefs;
    const same = last.length === n && _sameRefs(last, refs, n);
    if (!same) this.#lastRefs = refs.slice(0, n);
    let v = this.#free.pop();
    if (v === undefined || v.length < n) v = new Float64Array(n);
    v.set(values.subarray(0, n));
    this.#entries.push({
      t,
      refs: this.#lastRefs,
      values: v,
      bits: new Uint32Array(v.buffer, v.byteOffset, 2 * n),
      n,
    });
    const oldest = t - this.#spanMs;
    while (this.#entries.length > 0 && this.#entries[0].t <= oldest) {
      const dropped = this.#entries[0].t;
      this.#drop();
      if (dropped > this.#from) this.#from = dropped;
    }
  }

  #drop(): void {
    const e = this.#entries.shift()!;
    if (this.#free.length < 4) this.#free.push(e.values);
  }
}

function _sameRefs(a: Int32Array, b: Int32Array, n: number): boolean {
  if (a.length < n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
