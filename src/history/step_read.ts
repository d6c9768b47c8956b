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
import type {
  SeriesKind,
  SeriesLabels,
  SeriesPoints,
  WindowColumnName,
} from "./types.ts";

/** A sealed or open chunk of one series: its span and its bytes (either format). */
export interface ChunkSpan {
  /** First row's time (ms). */
  readonly minT: number;
  /** Last row's time (ms). */
  readonly maxT: number;
  /** The chunk's bytes: a frame chunk, or a Gorilla chunk. */
  readonly bytes: Uint8Array;
}

/**
 * The chunks of one series for a step read, as parallel arrays: chunk k
 * spans `minT[k]..maxT[k]` and its bytes are `bufs[bufOf[k]][start[k],
 * end[k])`
 * (a chunk in a ring's buffer, in a segment file's bytes, or on its own).
 * One list is reused series after series ({@linkcode SpanList.clear}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SpanList } from "./step_read.ts";
 *
 * const list = new SpanList();
 * list.add({ minT: 1, maxT: 2, bytes: new Uint8Array(3) });
 * assert.equal(list.n, 1);
 * assert.equal(list.end[0], 3);
 * list.clear();
 * assert.equal(list.n, 0);
 * ```
 */
export class SpanList {
  /** Chunks in the list. */
  n = 0;
  /** First times. */
  minT: Float64Array = new Float64Array(64);
  /** Last times. */
  maxT: Float64Array = new Float64Array(64);
  /** Where each chunk starts in its buffer. */
  start: Float64Array = new Float64Array(64);
  /** Where each chunk ends in its buffer. */
  end: Float64Array = new Float64Array(64);
  /** The buffers the chunks are in (a ring's is shared by its chunks). */
  bufs: Uint8Array[] = [];
  /** Each chunk's buffer, an index into `bufs`. */
  bufOf: Float64Array = new Float64Array(64);
  /**
   * Where each chunk's edge starts in its edge table: the time of the row
   * before its last, then its last row's 6 columns.
   */
  edgeAt: Float64Array = new Float64Array(64);
  /** Each chunk's edge table, an index into `edgeTables` (-1: no edge). */
  edgeOf: Float64Array = new Float64Array(64);
  /** 1 for a chunk still open (it grows: never cached), else 0. */
  open: Uint8Array = new Uint8Array(64);
  /** The tables holding the edges (a ring's span table), and their bits. */
  edgeTables: Float64Array[] = [];
  edgeTablesU32: Uint32Array[] = [];

  /** Empties the list (its arrays are kept). */
  clear(): void {
    this.n = 0;
    this.bufs.length = 0;
    this.edgeTables.length = 0;
    this.edgeTablesU32.length = 0;
  }

  /** Gives the chunk added last its edge: `EDGE` numbers at `at` of `spans` (`u32`: their bits). */
  edge(spans: Float64Array, u32: Uint32Array, at: number): void {
    const k = this.n - 1;
    const tables = this.edgeTables;
    if (tables.length === 0 || tables[tables.length - 1] !== spans) {
      tables.push(spans);
      this.edgeTablesU32.push(u32);
    }
    this.edgeOf[k] = tables.length - 1;
    this.edgeAt[k] = at;
  }

  /** Adds chunk `bytes[start, end)` spanning `minT..maxT`. */
  push(
    minT: number,
    maxT: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): void {
    const k = this.n;
    if (k === this.minT.length) this.#grow();
    this.minT[k] = minT;
    this.maxT[k] = maxT;
    this.start[k] = start;
    this.end[k] = end;
    const bufs = this.bufs;
    if (bufs.length === 0 || bufs[bufs.length - 1] !== bytes) bufs.push(bytes);
    this.bufOf[k] = bufs.length - 1;
    this.edgeOf[k] = -1;
    this.open[k] = 0;
    this.n = k + 1;
  }

  /** Marks the chunk added last as open (still growing). */
  markOpen(): void {
    this.open[this.n - 1] = 1;
  }

  /**
   * Adds chunks `from..to-1` of a ring's span table (`SPAN` numbers a
   * chunk: minT, maxT, count, end of its bytes in `buf`, then its edge at
   * `edgeAt`, NaN when it has none); chunk k's bytes start where chunk
   * k - 1's end (0 for k = 0). One loop instead of a push per chunk: a
   * month of a minute tier is 720 chunks a series.
   */
  pushSpans(
    buf: Uint8Array,
    spans: Float64Array,
    spansU32: Uint32Array,
    span: number,
    edgeAt: number,
    from: number,
    to: number,
  ): void {
    if (to <= from) return;
    const add = to - from;
    while (this.n + add > this.minT.length) this.#grow();
    const bufs = this.bufs;
    if (bufs.length === 0 || bufs[bufs.length - 1] !== buf) bufs.push(buf);
    const b = bufs.length - 1;
    let table = -1;
    let k = this.n;
    for (let c = from; c < to; c++, k++) {
      const s = c * span;
      this.minT[k] = spans[s];
      this.maxT[k] = spans[s + 1];
      this.start[k] = c === 0 ? 0 : spans[s - span + 3];
      this.end[k] = spans[s + 3];
      this.bufOf[k] = b;
      this.open[k] = 0;
      const e = s + edgeAt;
      if (spans[e] === spans[e]) {
        if (table < 0) {
          const tables = this.edgeTables;
          if (tables.length === 0 || tables[tables.length - 1] !== spans) {
            tables.push(spans);
            this.edgeTablesU32.push(spansU32);
          }
          table = tables.length - 1;
        }
        this.edgeOf[k] = table;
        this.edgeAt[k] = e;
      } else this.edgeOf[k] = -1;
    }
    this.n = k;
  }

  /** Doubles the arrays' room. */
  #grow(): void {
    const grow = (a: Float64Array) => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.minT = grow(this.minT);
    this.maxT = grow(this.maxT);
    this.start = grow(this.start);
    this.end = grow(this.end);
    this.bufOf = grow(this.bufOf);
    this.edgeAt = grow(this.edgeAt);
    this.edgeOf = grow(this.edgeOf);
    const open = new Uint8Array(this.open.length * 2);
    open.set(this.open);
    this.open = open;
  }

  /** Adds a chunk that has its own bytes. */
  add(chunk: ChunkSpan): void {
    this.push(chunk.minT, chunk.maxT, chunk.bytes, 0, chunk.bytes.length);
  }

  /** The chunks in order of first time (stable), when they are not already. */
  sort(): void {
    const n = this.n;
    let sorted = true;
    for (let k = 1; k < n && sorted; k++) {
      if (this.minT[k] < this.minT[k - 1]) sorted = false;
    }
    if (sorted) return;
    const order = Array.from({ length: n }, (_, k) => k);
    order.sort((a, b) => this.minT[a] - this.minT[b] || a - b);
    const pick = (a: Float64Array) => Float64Array.from(order, (k) => a[k]);
    const minT = pick(this.minT);
    const maxT = pick(this.maxT);
    const start = pick(this.start);
    const end = pick(this.end);
    const bufOf = pick(this.bufOf);
    const edgeAt = pick(this.edgeAt);
    const edgeOf = pick(this.edgeOf);
    const open = Uint8Array.from(order, (k) => this.open[k]);
    this.minT.set(minT);
    this.maxT.set(maxT);
    this.start.set(start);
    this.end.set(end);
    this.bufOf.set(bufOf);
    this.edgeAt.set(edgeAt);
    this.edgeOf.set(edgeOf);
    this.open.set(open);
  }
}

const READER = new FrameReader();

/** A window row's column by name. */
const COLUMN_OF: Readonly<Record<WindowColumnName, number>> = {
  count: COL_COUNT,
  sum: COL_SUM,
  min: COL_MIN,
  max: COL_MAX,
  increase: COL_INCREASE,
};

/**
 * Growable output columns of {@linkcode stepPoints} (times and the window
 * columns read): given to it, reused from one series to the next (the
 * points it returns are then views of these arrays, valid until the next
 * call with them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StepRows } from "./step_read.ts";
 *
 * const rows = new StepRows(1, 4);
 * rows.room(10);
 * assert.ok(rows.t.length >= 10 && rows.cols[0].length >= 10);
 * ```
 */
export class StepRows {
  /** Rows held. */
  n = 0;
  /** Their times. */
  t: Float64Array;
  /** Their columns. */
  cols: Float64Array[];
  /**
   * @param columns columns besides the times
   * @param capacity rows before the first growth
   */
  constructor(columns: number, capacity: number) {
    this.t = new Float64Array(capacity);
    this.cols = [];
    for (let c = 0; c < columns; c++) {
      this.cols.push(new Float64Array(capacity));
    }
  }
  /** Empties it for `columns` columns (kept arrays, new ones as needed). */
  reset(columns: number): void {
    this.n = 0;
    while (this.cols.length < columns) {
      this.cols.push(new Float64Array(this.t.length));
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
 * the window columns of `kind` (6 for a counter, 5 otherwise), or only
 * `value` and `columns` when given (without `count`, the windows are
 * `(ends[i] - reachMs, ends[i]]`); a chunk with fewer columns reads NaN
 * in the others. `onCorrupt` hears of a chunk that does not decode (it is
 * skipped). `capacity`: the rows expected (a first allocation), or a
 * {@linkcode StepRows} to fill (reused between series). Undefined when no
 * row falls in a window.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrameChunk } from "./frame_chunk.ts";
 * import { SpanList, stepPoints } from "./step_read.ts";
 *
 * // One hour of minute rows (value, count, sum, min, max).
 * const t = Float64Array.from({ length: 60 }, (_, i) => (i + 1) * 60_000);
 * const col = Float64Array.from({ length: 60 }, (_, i) => i);
 * const bytes = encodeFrameChunk(t, [col, col, col, col, col]);
 * const steps = { ends: new Float64Array([1_800_000, 3_600_000]), reachMs: 60_000, overlaps: () => true };
 * const parts = new SpanList();
 * parts.add({ minT: 60_000, maxT: 3_600_000, bytes });
 * const p = stepPoints({}, "gauge", parts, steps, () => {})!;
 * assert.deepEqual([...p.t], [1_740_000, 1_800_000, 3_540_000, 3_600_000]);
 * assert.deepEqual([...p.max!], [28, 29, 58, 59]);
 * ```
 */
export function stepPoints(
  labels: SeriesLabels,
  kind: SeriesKind,
  parts: SpanList,
  steps: Steps,
  onCorrupt: (error: CorruptChunkError, bytes: Uint8Array) => void,
  columns?: readonly WindowColumnName[],
  capacity: number | StepRows = 64,
): SeriesPoints | undefined {
  const { ends, reachMs } = steps;
  const nEnds = ends.length;
  if (parts.n === 0 || nEnds === 0) return undefined;
  parts.sort();
  const minTs = parts.minT;
  const maxTs = parts.maxT;
  const all = kind === "counter" ? 6 : 5;
  // The window row's columns read, value first.
  const read = [COL_VALUE];
  for (let c = 1; c < all; c++) {
    if (!columns || columns.some((name) => COLUMN_OF[name] === c)) read.push(c);
  }
  const cols = read.length;
  // Without count the window ending at a range's start is of no use (see
  // HistoryReader.selectSteps): the windows are (end - reach, end].
  const openStart = read.indexOf(COL_COUNT) < 0;
  let rows: StepRows;
  if (typeof capacity === "number") rows = new StepRows(cols, capacity);
  else {
    rows = capacity;
    rows.reset(cols);
  }
  let last = -Infinity;
  let w = 0;
  const reader = READER;
  for (let p = 0; p < parts.n; p++) {
    const partMax = maxTs[p];
    if (partMax <= last) continue; // a repeat, or all of it is kept already
    // The first window whose end reaches this chunk (chunks ascend).
    while (w < nEnds && ends[w] < minTs[p]) w++;
    if (w === nEnds) break;
    if (ends[w] - reachMs > partMax) continue;
    const buf = parts.bufs[parts.bufOf[p]];
    const a = parts.start[p];
    const b = parts.end[p];
    const edgeOf = openStart ? parts.edgeOf[p] : -1;
    const edgeAt = parts.edgeAt[p];
    let opened = false;
    let frame = false;
    let t: Float64Array | undefined;
    let decoded: Float64Array[] | undefined;
    let have = 0;
    let count = 0;
    for (let k = w; k < nEnds; k++) {
      const end = ends[k];
      const from = end - reachMs;
      if (from > partMax) break;
      if (edgeOf >= 0 && end >= partMax) {
        const edges = parts.edgeTables[edgeOf];
        if (edges[edgeAt] <= from) {
          // The chunk's one row in (from, end] is its last, kept beside
          // it: no byte of the chunk is read. Later windows start later.
          if (partMax > from && partMax > last) {
            rows.room(1);
            const j = rows.n;
            rows.t[j] = partMax;
            for (let c = 0; c < cols; c++) {
              const e = edgeAt + 1 + read[c];
              const x = edges[e];
              if (x === x) rows.cols[c][j] = x;
              else {
                // A NaN: its bits, payload and all.
                const out = rows.cols[c];
                const eu = parts.edgeTablesU32[edgeOf];
                const u = new Uint32Array(
                  out.buffer,
                  out.byteOffset + 8 * j,
                  2,
                );
                u[0] = eu[2 * e];
                u[1] = eu[2 * e + 1];
              }
            }
            rows.n = j + 1;
            last = partMax;
          }
          break;
        }
      }
      if (!opened) {
        opened = true;
        try {
          if (buf[a] === FRAME_VERSION) {
            reader.reset(buf, a, b);
            frame = true;
          } else {
            const d = decodeChunk(
              a === 0 && b === buf.length ? buf : buf.subarray(a, b),
            );
            t = d.t;
            decoded = d.columns;
          }
        } catch (error) {
          if (!(error instanceof CorruptChunkError)) throw error;
          onCorrupt(error, buf.subarray(a, b));
          break;
        }
        have = frame ? reader.columns : decoded!.length;
        count = frame ? reader.count : t!.length;
      }
      // Rows in [from, end] (or (from, end]) after the last kept.
      const lo = from > last
        ? openStart
          ? (frame ? reader.upperBound(from) : bound(t!, from, true))
          : (frame ? reader.lowerBound(from) : bound(t!, from, false))
        : (frame ? reader.upperBound(last) : bound(t!, last, true));
      const hi = frame ? reader.upperBound(end) : bound(t!, end, true);
      if (hi <= lo) continue;
      rows.room(hi - lo);
      let j = rows.n;
      const out = rows.t;
      for (let i = lo; i < hi; i++, j++) {
        out[j] = frame ? reader.time(i) : t![i];
        for (let k = 0; k < cols; k++) {
          const c = read[k];
          // A chunk written with fewer columns (older data) reads as NaN there.
          if (c >= have) rows.cols[k][j] = NaN;
          else if (frame) reader.copy(c + 1, i, rows.cols[k], j);
          else rows.cols[k][j] = decoded![c][i];
        }
      }
      rows.n = j;
      last = out[j - 1];
      if (hi >= count) break;
    }
  }
  const n = rows.n;
  if (n === 0) return undefined;
  const col = (c: number) => {
    const k = read.indexOf(c);
    return k < 0 ? undefined : rows.cols[k].subarray(0, n);
  };
  const out: {
    -readonly [K in keyof SeriesPoints]: SeriesPoints[K];
  } = { labels, kind, t: rows.t.subarray(0, n), value: col(COL_VALUE)! };
  const count = col(COL_COUNT);
  if (count) out.count = count;
  const sum = col(COL_SUM);
  if (sum) out.sum = sum;
  const min = col(COL_MIN);
  if (min) out.min = min;
  const max = col(COL_MAX);
  if (max) out.max = max;
  const increase = kind === "counter" ? col(COL_INCREASE) : undefined;
  if (increase) out.increase = increase;
  return out;
}
