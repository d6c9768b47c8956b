/**
 * Merging a series' decoded chunks (from disk, the ring, the open chunk)
 * into one sorted run of points without repeats, limited to a range or to
 * the windows of a step read.
 *
 * @module
 */
import {
  COL_COUNT,
  COL_INCREASE,
  COL_MAX,
  COL_MIN,
  COL_SUM,
  COL_VALUE,
} from "./aggregator.ts";
import type { Piece } from "./tier.ts";
import type { SeriesKind, SeriesLabels, SeriesPoints } from "./types.ts";

/** Merges a series' pieces (each sorted; pieces disjoint or repeated) within `[start, end]`. */
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
    // Step reads: only the points inside some step's window (both sorted:
    // one walk).
    const { ends, reachMs } = steps;
    let m = 0;
    let w = 0;
    for (let i = 0; i < n; i++) {
      const ti = t[i];
      while (w < ends.length && ends[w] < ti) w++;
      if (w === ends.length) break;
      if (ends[w] - reachMs > ti) continue;
      t[m] = t[i];
      for (let c = 0; c < cols; c++) out[c][m] = out[c][i];
      m++;
    }
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
