/**
 * The step-wise read of one series from a downsampled tier: the rows
 * inside `[ends[i] - reachMs, ends[i]]` for each step, read straight out
 * of the sealed chunks' frame format (`frame_chunk.ts`) row by row, so a
 * query reads the rows it needs and not the chunks around them: 30 days of
 * `rate(x[1m])` at a 1 h step reads 2 of each hour's 60 minute rows.
 *
 * Chunks in another format (the Gorilla stream of an open chunk, or a
 * downsampled chunk written before the frame format) are decoded whole,
 * then read the same way. Repeats (a chunk both in memory and on disk, or
 * in the ring and the write queue) are dropped as `merge.ts` drops them:
 * rows are kept only after the last time kept.
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
import { CorruptChunkError, decodeChunk } from "./codec.ts";
import { FRAME_VERSION, FrameReader } from "./frame_chunk.ts";
import type { Steps } from "./merge.ts";
import type { SeriesKind, SeriesLabels, SeriesPoints } from "./types.ts";

/** A sealed or open chunk of one series: its span and its bytes (either format). */
export interface ChunkSpan {
  /** First row's time (ms). */
  readonly minT: number;
  /** Last row's time (ms). */
  readonly maxT: number;
  /** The chunk's bytes: a frame chunk, or a Gorilla chunk. */
  readonly bytes: Uint8Array;
}

const READER = new FrameReader();

/** Growable output columns (times and window columns). */
class Rows {
  n = 0;
  t: Float64Array;
  cols: Float64Array[];
  u32: Uint32Array[];
  constructor(columns: number, capacity: number) {
    this.t = new Float64Array(capacity);
    this.cols = [];
    this.u32 = [];
    for (let c = 0; c < columns; c++) {
      const a = new Float64Array(capacity);
      this.cols.push(a);
      this.u32.push(new Uint32Array(a.buffer));
    }
  }
  /** Makes room for `k` more rows. */
  room(k: number): void {
    const need = this.n + k;
    if (need <= this.t.length) return;
    const size = Math.max(need, this.t.length * 2);
    const t = new Float64Array(size);
    t.set(this.t.subarray(0, this.n));
    this.t = t;
    for (let c = 0; c < this.cols.length; c++) {
      const a = new Float64Array(size);
      a.set(this.cols[c].subarray(0, this.n));
      this.cols[c] = a;
      this.u32[c] = new Uint32Array(a.buffer);
    }
  }
}

/** The first index of sorted `t` with `t[i] >= x` (`> x` when `after`). */
function bound(t: Float64Array, x: number, after: boolean): number {
  let a = 0;
  let b = t.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (t[mid] < x || (after && t[mid] === x)) a = mid + 1;
    else b = mid;
  }
  return a;
}

/**
 * The points of one series of a downsampled tier within the step windows
 * of `steps`, from its chunks `parts` (any order; repeats allowed), with
 * the window columns of `kind` (6 for a counter, 5 otherwise); a chunk
 * with fewer columns reads NaN in the others. `onCorrupt` hears of a chunk
 * that does not decode (it is skipped). Undefined when no row falls in a
 * window.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrameChunk } from "./frame_chunk.ts";
 * import { stepPoints } from "./step_read.ts";
 *
 * // One hour of minute rows (value, count, sum, min, max).
 * const t = Float64Array.from({ length: 60 }, (_, i) => (i + 1) * 60_000);
 * const col = Float64Array.from({ length: 60 }, (_, i) => i);
 * const bytes = encodeFrameChunk(t, [col, col, col, col, col]);
 * const steps = { ends: new Float64Array([1_800_000, 3_600_000]), reachMs: 60_000, overlaps: () => true };
 * const p = stepPoints({}, "gauge", [{ minT: 60_000, maxT: 3_600_000, bytes }], steps, () => {})!;
 * assert.deepEqual([...p.t], [1_740_000, 1_800_000, 3_540_000, 3_600_000]);
 * assert.deepEqual([...p.max!], [28, 29, 58, 59]);
 * ```
 */
export function stepPoints(
  labels: SeriesLabels,
  kind: SeriesKind,
  parts: ChunkSpan[],
  steps: Steps,
  onCorrupt: (error: CorruptChunkError, part: ChunkSpan) => void,
): SeriesPoints | undefined {
  const { ends, reachMs } = steps;
  const nEnds = ends.length;
  if (parts.length === 0 || nEnds === 0) return undefined;
  for (let k = 1; k < parts.length; k++) {
    if (parts[k].minT < parts[k - 1].minT) {
      parts.sort((a, b) => a.minT - b.minT);
      break;
    }
  }
  const cols = kind === "counter" ? 6 : 5;
  const rows = new Rows(cols, 64);
  let last = -Infinity;
  let w = 0;
  const reader = READER;
  for (const part of parts) {
    if (part.maxT <= last) continue; // a repeat, or all of it is kept already
    // The first window whose end reaches this chunk (chunks ascend).
    while (w < nEnds && ends[w] < part.minT) w++;
    if (w === nEnds) break;
    if (ends[w] - reachMs > part.maxT) continue;
    let frame = false;
    let t: Float64Array | undefined;
    let columns: Float64Array[] | undefined;
    try {
      if (part.bytes[0] === FRAME_VERSION) {
        reader.reset(part.bytes);
        frame = true;
      } else {
        const d = decodeChunk(part.bytes);
        t = d.t;
        columns = d.columns;
      }
    } catch (error) {
      if (!(error instanceof CorruptChunkError)) throw error;
      onCorrupt(error, part);
      continue;
    }
    const have = frame ? reader.columns : columns!.length;
    const count = frame ? reader.count : t!.length;
    for (let k = w; k < nEnds; k++) {
      const end = ends[k];
      const from = end - reachMs;
      if (from > part.maxT) break;
      // Rows in [from, end] after the last kept.
      const lo = from > last
        ? (frame ? reader.lowerBound(from) : bound(t!, from, false))
        : (frame ? reader.upperBound(last) : bound(t!, last, true));
      const hi = frame ? reader.upperBound(end) : bound(t!, end, true);
      if (hi <= lo) continue;
      rows.room(hi - lo);
      let j = rows.n;
      const out = rows.t;
      for (let i = lo; i < hi; i++, j++) {
        out[j] = frame ? reader.time(i) : t![i];
        for (let c = 0; c < cols; c++) {
          // A chunk written with fewer columns (older data) reads as NaN there.
          if (c >= have) rows.cols[c][j] = NaN;
          else if (frame) reader.copy(c + 1, i, rows.cols[c], rows.u32[c], j);
          else rows.cols[c][j] = columns![c][i];
        }
      }
      rows.n = j;
      last = out[j - 1];
      if (hi >= count) break;
    }
  }
  const n = rows.n;
  if (n === 0) return undefined;
  const col = (c: number) => rows.cols[c].subarray(0, n);
  return {
    labels,
    kind,
    t: rows.t.subarray(0, n),
    value: col(COL_VALUE),
    count: col(COL_COUNT),
    sum: col(COL_SUM),
    min: col(COL_MIN),
    max: col(COL_MAX),
    ...(kind === "counter" ? { increase: col(COL_INCREASE) } : {}),
  };
}
