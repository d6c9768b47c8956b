/**
 * Merging a series' chunks (from disk, the ring, the open chunk) into one
 * sorted run of points without repeats, limited to a range or to the
 * windows of a step read: raw chunks are decoded straight into the
 * series' arrays ({@linkcode mergeSamples}), window rows from decoded
 * pieces ({@linkcode mergePieces}).
 *
 * @module
 */
import {
  chunkCount,
  CorruptChunkError,
  decodeSamplesInto,
  type SampleSpan,
} from "./codec.ts";
import {
  COL_COUNT,
  COL_INCREASE,
  COL_MAX,
  COL_MIN,
  COL_SUM,
  COL_VALUE,
} from "./aggregator.ts";
import type { DecodedChunk, DecodedChunks } from "./decoded_chunks.ts";
import type { SpanList } from "./step_read.ts";
import type { Piece } from "./tier.ts";
import type { SeriesKind, SeriesLabels, SeriesPoints } from "./types.ts";

/** Windows of a step read: `[ends[i] - reachMs, ends[i]]`, and which chunks reach one. */
export interface Steps {
  ends: Float64Array;
  reachMs: number;
  overlaps(minT: number, maxT: number): boolean;
}

/**
 * Merges `pieces` (each sorted by time; two pieces either do not overlap or
 * are the same chunk read twice) into the points of `[start, end]` (and of
 * the step windows, if given).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergePieces } from "./merge.ts";
 *
 * const piece = (t: number[]) => ({ t: new Float64Array(t), columns: [new Float64Array(t)] });
 * const p = mergePieces({}, "gauge", [piece([4, 5]), piece([1, 2, 3]), piece([4, 5])], 2, 9, false)!;
 * assert.deepEqual([...p.t], [2, 3, 4, 5]);
 * ```
 */
export function mergePieces(
  labels: SeriesLabels,
  kind: SeriesKind,
  pieces: Piece[],
  start: number,
  end: number,
  windows: boolean,
  steps?: Steps,
): SeriesPoints | undefined {
  pieces.sort((a, b) => a.t[0] - b.t[0]);
  // Each piece gives a run [lo, hi) of its points: inside [start, end] and
  // after the previous piece's last kept time (a chunk read from disk and
  // from memory comes twice; chunks of a series never interleave).
  const lo = new Int32Array(pieces.length);
  const hi = new Int32Array(pieces.length);
  let n = 0;
  let last = -Infinity;
  for (let k = 0; k < pieces.length; k++) {
    const t = pieces[k].t;
    const from = Math.max(start, last);
    let a = lowerBound(t, from);
    if (a < t.length && t[a] === last) a++;
    const b = lowerBound(t, end, true);
    lo[k] = a;
    hi[k] = Math.max(a, b);
    if (hi[k] > a) {
      n += hi[k] - a;
      last = t[hi[k] - 1];
    }
  }
  if (n === 0) return undefined;
  const cols = windows ? (kind === "counter" ? 6 : 5) : 1;
  let t = new Float64Array(n);
  let out = Array.from({ length: cols }, () => new Float64Array(n));
  let j = 0;
  for (let k = 0; k < pieces.length; k++) {
    const a = lo[k];
    const b = hi[k];
    if (b <= a) continue;
    const p = pieces[k];
    t.set(p.t.subarray(a, b), j);
    for (let c = 0; c < cols; c++) {
      // A chunk written with fewer columns (older data) reads as NaN there.
      if (c < p.columns.length) out[c].set(p.columns[c].subarray(a, b), j);
      else out[c].fill(NaN, j, j + b - a);
    }
    j += b - a;
  }
  if (steps) {
    const m = keepStepWindows(t, out, n, steps);
    if (m === 0) return undefined;
    if (m < n) {
      t = t.slice(0, m);
      out = out.map((col) => col.slice(0, m));
    }
  }
  if (!windows) return { labels, kind, t, value: out[0] };
  return {
    labels,
    kind,
    t,
    value: out[COL_VALUE],
    count: out[COL_COUNT],
    sum: out[COL_SUM],
    min: out[COL_MIN],
    max: out[COL_MAX],
    ...(kind === "counter" ? { increase: out[COL_INCREASE] } : {}),
  };
}

/** What {@linkcode mergeSamples} merges into, and how. */
export interface SampleMerge {
  /** The series' labels. */
  readonly labels: SeriesLabels;
  /** Its kind. */
  readonly kind: SeriesKind;
  /** Keep samples from this time (ms, inclusive). */
  readonly start: number;
  /** Keep samples up to this time (ms, inclusive). */
  readonly end: number;
  /** Keep only the samples inside these step windows. Default: all of the range. */
  readonly steps?: Steps;
  /** Called with each chunk that does not decode (it is skipped). Default: the error is thrown. */
  readonly onCorrupt?: (error: CorruptChunkError) => void;
  /**
   * A buffer to decode into, reused from one series to the next (grown,
   * replaced, when too small): the points returned are then views of it,
   * valid until the next merge into it. Default: a new buffer per series.
   */
  readonly buffer?: { data: Float64Array };
  /**
   * Decoded chunks to copy from, and to keep what is decoded in (sealed
   * chunks only: see `SpanList.open`), with the series' id. Default: none.
   */
  readonly cache?: { chunks: DecodedChunks; id: number };
}

/**
 * Merges a series' one-column chunks `parts` (raw samples, wherever they
 * lie: a ring's buffer, a segment's bytes; each sorted by time, two either
 * disjoint or the same chunk read twice) into the samples of `[start,
 * end]` (and of the step windows, if given), decoding each chunk straight
 * into place in one buffer for the series: no array per chunk, no merge
 * copy. Values keep their bits (a stale marker's NaN payload too);
 * `noNaN` says when no value is a NaN, `rises` when no value is below
 * the one before. Undefined when no sample is left.
 * Sorts `parts` (see `SpanList.sort`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder } from "./codec.ts";
 * import { mergeSamples } from "./merge.ts";
 * import { SpanList } from "./step_read.ts";
 *
 * const chunk = (t: number[]) => {
 *   const e = new ChunkEncoder();
 *   for (const x of t) e.append(x, x / 1000);
 *   return { minT: t[0], maxT: t[t.length - 1], bytes: e.finish() };
 * };
 * const a = chunk([1000, 2000, 3000]);
 * const parts = new SpanList();
 * for (const c of [chunk([4000, 5000]), a, a]) parts.add(c);
 * const p = mergeSamples(parts, {
 *   labels: {}, kind: "gauge", start: 2000, end: 4000,
 * })!;
 * assert.deepEqual([...p.t], [2000, 3000, 4000]);
 * assert.deepEqual([...p.value], [2, 3, 4]);
 * ```
 */
export function mergeSamples(
  parts: SpanList,
  merge: SampleMerge,
): SeriesPoints | undefined {
  const { start, end, steps, onCorrupt, buffer } = merge;
  parts.sort();
  const { minT, maxT, bufs, bufOf, open } = parts;
  const chunks = merge.cache?.chunks;
  const id = merge.cache?.id ?? 0;
  const from = parts.start;
  const to = parts.end;
  const want = (k: number) =>
    maxT[k] >= start && minT[k] <= end &&
    (steps === undefined || steps.overlaps(minT[k], maxT[k]));
  let room = 0;
  const found = FOUND;
  found.length = parts.n;
  for (let k = 0; k < parts.n; k++) {
    if (!want(k)) continue;
    // A corrupt header's count is capped by what its bytes can hold (the
    // decoder refuses it later).
    // A chunk the cache holds may have no bytes here (a segment left
    // unread): its count comes from the cache.
    const held = chunks === undefined || open[k] === 1
      ? undefined
      : chunks.find(id, minT[k], maxT[k], to[k] - from[k]);
    found[k] = held;
    const c = held !== undefined
      ? held.n
      : chunkCount(bufs[bufOf[k]], from[k], to[k]);
    if (c > 0) room += Math.min(c, 4 * (to[k] - from[k]));
  }
  if (room === 0) return undefined;
  // One buffer: times, then values.
  let both: Float64Array;
  if (buffer === undefined) both = new Float64Array(2 * room);
  else {
    if (buffer.data.length < 2 * room) {
      buffer.data = new Float64Array(2 * room + (room >>> 2));
    }
    both = buffer.data;
  }
  const t = both.subarray(0, room);
  const v = both.subarray(room, 2 * room);
  let n = 0;
  let last = -Infinity;
  const span: SampleSpan = { from: 0, to: 0, nan: false };
  // Whether no kept value is below the one before (no counter reset).
  let rises = true;
  for (let k = 0; k < parts.n; k++) {
    if (maxT[k] <= last || !want(k)) continue;
    span.from = from[k];
    span.to = to[k];
    const held = found[k];
    let got: number;
    if (held !== undefined) {
      got = chunks!.copy(held, t, v, n);
      if (held.nan) span.nan = true;
      if (!held.rises) rises = false;
    } else {
      const nanBefore = span.nan;
      span.nan = false;
      try {
        got = decodeSamplesInto(bufs[bufOf[k]], t, v, n, span);
      } catch (error) {
        span.nan = nanBefore;
        if (!(error instanceof CorruptChunkError) || !onCorrupt) throw error;
        onCorrupt(error);
        continue;
      }
      const nan = span.nan;
      span.nan = nanBefore || nan;
      // Whether no value falls (about 1 ns a sample beside the decode's 10).
      let up = true;
      const keep = chunks !== undefined && open[k] === 0 &&
        chunks.admit(id);
      // With the cache, in the same pass: whether the times are a regular
      // grid (kept then as a first time and a step).
      let regular = keep;
      const t0 = t[n];
      const step = got > 1 ? t[n + 1] - t0 : 0;
      if (keep) {
        for (let i = 1; i < got; i++) {
          const j = n + i;
          if (v[j] < v[j - 1]) up = false;
          if (t[j] !== t0 + i * step) regular = false;
        }
      } else {
        for (let i = n + 1; i < n + got; i++) {
          if (v[i] < v[i - 1]) {
            up = false;
            break;
          }
        }
      }
      if (!up) rises = false;
      if (keep) {
        chunks!.put(
          id,
          minT[k],
          maxT[k],
          to[k] - from[k],
          both,
          n,
          room + n,
          got,
          nan,
          up,
          regular,
        );
      }
    }
    if (got === 0) continue;
    const lo = Math.max(start, last);
    if (!(t[n] >= lo && t[n] !== last && t[n + got - 1] <= end)) {
      // An edge chunk (or one repeating part of the last): keep its run
      // inside the range and after the last kept time, moved into place
      // bit for bit.
      const run = t.subarray(n, n + got);
      let a = lowerBound(run, lo);
      if (a < got && run[a] === last) a++;
      const b = Math.max(a, lowerBound(run, end, true));
      t.copyWithin(n, n + a, n + b);
      v.copyWithin(n, n + a, n + b);
      got = b - a;
      if (got === 0) continue;
    }
    if (n > 0 && v[n] < v[n - 1]) rises = false;
    n += got;
    last = t[n - 1];
  }
  if (steps) n = keepStepWindows(t, [v], n, steps);
  if (n === 0) return undefined;
  return {
    labels: merge.labels,
    kind: merge.kind,
    t: n < room ? t.subarray(0, n) : t,
    value: n < room ? v.subarray(0, n) : v,
    noNaN: !span.nan,
    // A NaN compares false both ways: dropping one (a stale marker) could
    // leave a fall, so only a series without NaN is known to rise.
    rises: !span.nan && rises,
  };
}

/** The cached chunks mergeSamples found, by chunk (reused: reads are synchronous). */
const FOUND: (DecodedChunk | undefined)[] = [];

/**
 * Keeps, in place, the first `n` points of `t` (and `columns`) that lie
 * in some step's window; returns how many. Both are sorted: one walk,
 * moving runs bit for bit (`copyWithin`).
 */
function keepStepWindows(
  t: Float64Array,
  columns: Float64Array[],
  n: number,
  steps: Steps,
): number {
  const { ends, reachMs } = steps;
  let m = 0;
  let w = 0;
  let i = 0;
  while (i < n) {
    // Skip to the next point inside a window.
    while (i < n) {
      const ti = t[i];
      while (w < ends.length && ends[w] < ti) w++;
      if (w === ends.length) return moveRun(t, columns, m, i, i);
      if (ends[w] - reachMs <= ti) break;
      i++;
    }
    // The run of points inside windows from i on.
    let j = i;
    while (j < n) {
      const tj = t[j];
      while (w < ends.length && ends[w] < tj) w++;
      if (w === ends.length || ends[w] - reachMs > tj) break;
      j++;
    }
    m = moveRun(t, columns, m, i, j);
    i = j;
  }
  return m;
}

/** Moves points `[a, b)` to `at` (`at <= a`); returns the new end. */
function moveRun(
  t: Float64Array,
  columns: Float64Array[],
  at: number,
  a: number,
  b: number,
): number {
  if (b > a && at !== a) {
    t.copyWithin(at, a, b);
    for (const col of columns) col.copyWithin(at, a, b);
  }
  return at + b - a;
}

/** The first index of sorted `t` with `t[i] >= x` (`> x` when `after`). */
function lowerBound(t: Float64Array, x: number, after = false): number {
  let a = 0;
  let b = t.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (t[mid] < x || (after && t[mid] === x)) a = mid + 1;
    else b = mid;
  }
  return a;
}
