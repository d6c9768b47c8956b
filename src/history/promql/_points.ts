/**
 * Helpers over a series' points (time-sorted typed arrays): seeking a
 * time, staleness markers, the label order of selected series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seekAbove, seekAtLeast } from "./_points.ts";
 *
 * const t = new Float64Array([10, 20, 30, 40]);
 * assert.equal(seekAtLeast(t, 0, 20), 1);
 * assert.equal(seekAbove(t, 0, 20), 2);
 * assert.equal(seekAbove(t, 0, 99), 4);
 * ```
 *
 * @module
 */
import type { SeriesLabels, SeriesPoints } from "../types.ts";
import { utf8Rank } from "./series.ts";

/**
 * Whether `values[i]` is Prometheus's staleness marker (a NaN with payload
 * 2). Read through a 32-bit view of the array itself: a NaN read into a JS
 * number may lose its payload (Bun canonicalises it).
 */
export function isStaleAt(values: Float64Array, i: number): boolean {
  if (values.byteOffset % 4 !== 0) return false;
  const words = new Uint32Array(values.buffer, values.byteOffset + i * 8, 2);
  return words[1] === 0x7ff00000 && words[0] === 2;
}

/** Writes the staleness marker at `values[i]`, by its bits (see {@linkcode isStaleAt}). */
export function setStaleAt(values: Float64Array, i: number): void {
  const words = new Uint32Array(values.buffer, values.byteOffset + i * 8, 2);
  words[0] = 2;
  words[1] = 0x7ff00000;
}

/**
 * A query's step arrays (a series' value and presence at each step),
 * carved from shared buffers while they are small. Deno gives every new
 * typed array a buffer of its own for 0.6-1.3 µs (Bun 15-45 ns, V8 in
 * Node.js 0.2-0.4 µs): an instant query over 57,632 series made two a
 * series, about 40 ms of its 138 on Deno. A view of a shared buffer costs
 * about 0.1 µs on both. Arrays of more than 256 steps get buffers of their
 * own (the allocation is then a small part of filling them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StepArrays } from "./_points.ts";
 *
 * const steps = new StepArrays(3);
 * const a = steps.values();
 * const b = steps.values();
 * a[2] = 7;
 * assert.deepEqual([...a, ...b], [0, 0, 7, 0, 0, 0]);
 * assert.equal(a.buffer, b.buffer);
 * assert.equal(steps.flags().length, 3);
 * ```
 */
export class StepArrays {
  /** The steps of each array. */
  readonly n: number;
  readonly #per: number;
  #values = new Float64Array(0);
  #valuesAt = 0;
  #flags = new Uint8Array(0);
  #flagsAt = 0;

  constructor(n: number) {
    this.n = n;
    this.#per = n > 256 ? 0 : Math.floor(4096 / Math.max(n, 1));
  }

  /** A new array of `n` values, all 0. */
  values(): Float64Array {
    const n = this.n;
    if (this.#per === 0) return new Float64Array(n);
    if (this.#valuesAt + n > this.#values.length) {
      this.#values = new Float64Array(this.#per * n);
      this.#valuesAt = 0;
    }
    return this.#values.subarray(this.#valuesAt, this.#valuesAt += n);
  }

  /** A new array of `n` flags, all 0. */
  flags(): Uint8Array {
    const n = this.n;
    if (this.#per === 0) return new Uint8Array(n);
    if (this.#flagsAt + n > this.#flags.length) {
      this.#flags = new Uint8Array(this.#per * n);
      this.#flagsAt = 0;
    }
    return this.#flags.subarray(this.#flagsAt, this.#flagsAt += n);
  }
}

const _scratch = new Float64Array(1);

/**
 * Whether the number `v` is the staleness marker: on Deno a NaN keeps its
 * payload through a number; on Bun it does not, and this says false.
 */
export function isStaleNumber(v: number): boolean {
  if (v === v) return false;
  _scratch[0] = v;
  return isStaleAt(_scratch, 0);
}

/**
 * The first index `>= from` whose time is `>= x`. Steps
 * far apart (a 1 h step over minute windows skips 59 of 60) gallop
 * forward then bisect, staying near `from` in memory.
 */
export function seekAtLeast(t: Float64Array, from: number, x: number): number {
  const len = t.length;
  if (from >= len || t[from] >= x) return from;
  let lo = from + 1; // t[lo - 1] < x
  let gap = 1;
  let hi = lo;
  while (hi < len && t[hi] < x) {
    lo = hi + 1;
    gap *= 2;
    hi = lo + gap - 1;
  }
  if (hi > len) hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] >= x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** As {@linkcode seekAtLeast}, for the first time `> x`. */
export function seekAbove(t: Float64Array, from: number, x: number): number {
  const len = t.length;
  if (from >= len || t[from] > x) return from;
  let lo = from + 1; // t[lo - 1] <= x
  let gap = 1;
  let hi = lo;
  while (hi < len && t[hi] <= x) {
    lo = hi + 1;
    gap *= 2;
    hi = lo + gap - 1;
  }
  if (hi > len) hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The window aggregate columns of a downsampled tier. */
export type WindowColumn = "count" | "sum" | "min" | "max" | "increase";
/** Every {@linkcode WindowColumn}. */
export const WINDOW_COLUMNS: readonly WindowColumn[] = [
  "count",
  "sum",
  "min",
  "max",
  "increase",
];

/**
 * `points` in Prometheus's label order; each set's sort key is built once
 * (name and value pairs joined by NUL compare as labels.Compare does; a
 * key with code units from U+D800 up is remapped so that code-unit order
 * is Go's byte order).
 */
export function sortByLabels(points: SeriesPoints[]): SeriesPoints[] {
  return sortByLabelsOf([...points], points.map((p) => p.labels));
}

/**
 * Sorts `items` in place by `labels` (the label set of each item, same
 * index), in {@linkcode sortByLabels}'s order; returns `items`.
 */
export function sortByLabelsOf<T>(
  items: T[],
  labels: readonly SeriesLabels[],
): T[] {
  const keyed = items.map((item, i) => {
    const l = labels[i];
    const names = Object.keys(l).sort();
    let key = "";
    for (const n of names) key += n + "\0" + l[n] + "\0";
    if (HIGH_UNIT.test(key)) key = key.replace(HIGH_UNITS, utf8Order);
    return { key, item };
  });
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 0; i < items.length; i++) items[i] = keyed[i].item;
  return items;
}

const HIGH_UNIT = /[\ud800-\uffff]/;
const HIGH_UNITS = /[\ud800-\uffff]/g;

/** A code unit from U+D800 up at its {@linkcode utf8Rank}. */
function utf8Order(unit: string): string {
  return String.fromCharCode(utf8Rank(unit.charCodeAt(0)));
}

/** `p` without its staleness markers (range selectors skip them). */
export function withoutStale(p: SeriesPoints): SeriesPoints {
  if (p.noNaN === true) return p;
  const values = p.value;
  let stale = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x !== x && isStaleAt(values, i)) stale++;
  }
  if (stale === 0) return p;
  const t = new Float64Array(values.length - stale);
  const value = new Float64Array(values.length - stale);
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x !== x && isStaleAt(values, i)) continue;
    t[j] = p.t[i];
    value[j++] = x;
  }
  return { labels: p.labels, kind: p.kind, t, value };
}
