/**
 * One tier in memory: per series an open chunk (growing until it is
 * sealed), the ring of recent sealed chunks, the sealed chunks not yet on
 * disk, and, for the first downsampled tier, the window aggregator that
 * feeds it rows from the raw samples.
 *
 * Coarser tiers cascade: a downsampled tier that feeds a coarser one
 * folds each row it appends into the coarser window of that series (a
 * {@linkcode RowAggregator}, 57 bytes a series), which appends its row to
 * the coarser tier once a row of a later window comes, or a row lands on
 * its end. Its chunks are sealed by size like any other (a few rows):
 * an open chunk that had to hold a whole coarser window (an hour of
 * minute rows, ~1.2 KB a series) was most of the store's memory.
 *
 * @module
 */
import { HI, LO, SCRATCH, SCRATCH_U32 } from "./_bits.ts";
import { decodeChunk, RowBuffer } from "./codec.ts";
import { decodeAnyChunk, encodeFrameChunkTo } from "./frame_chunk.ts";
import { ByteWriter } from "./_bytes.ts";
import type { SpanList } from "./step_read.ts";
import type { HeadChunkSource } from "./head_log.ts";
import { RowAggregator, WindowAggregator } from "./aggregator.ts";
import { growCapacity, MAX_STREAM_BITS, OpenChunks } from "./open_chunks.ts";
import { ChunkRing, EDGE, SPAN, SPAN_EDGE, type StoredChunk } from "./ring.ts";
import { ChunkRecords } from "./segment_records.ts";
import type { TierInfo } from "./types.ts";

/** Samples {@linkcode Tier.appendSamples} hands the open chunks at a time. */
const _SLICE = 4096;

/** A downsampled chunk's rows while it is sealed (see Tier.seal). */
const SEAL_ROWS = new RowBuffer();
/** Decoded points of one chunk: timestamps and the columns. */
export interface Piece {
  /** Timestamps (ms), ascending. */
  readonly t: Float64Array;
  /** Columns: 1 (raw) or the window row's 5 (gauge) or 6 (counter). */
  readonly columns: Float64Array[];
}

/** A sealed chunk of one series waiting to be written. */
export interface PendingChunk {
  /** The series id. */
  readonly id: number;
  /** The chunk. */
  readonly chunk: StoredChunk;
  /** Its columns. */
  readonly columns: number;
}

/**
 * The in-memory part of one tier.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tier } from "./tier.ts";
 *
 * const raw = new Tier(0, { name: "raw", resolutionMs: 1000, retentionMs: 86_400_000 }, 2, 4);
 * raw.ensure(1);
 * for (let t = 1000; t <= 5000; t += 1000) raw.appendSample(0, t, t / 1000);
 * // Two sealed chunks of 2 rows, one open chunk with the fifth sample.
 * assert.equal(raw.takePending().length, 2);
 * const pieces = raw.pieces(0, 0, 10_000, []);
 * assert.deepEqual(pieces.flatMap((p) => [...p.t]), [1000, 2000, 3000, 4000, 5000]);
 * ```
 */
export class Tier {
  /** Its position among the store's tiers (0 is raw). */
  readonly index: number;
  /** Name, resolution and retention. */
  readonly info: TierInfo;
  /** Rows per chunk. */
  readonly chunkRows: number;
  /** Recent sealed chunks. */
  readonly ring: ChunkRing;
  /** The window aggregator (the first downsampled tier only). */
  readonly aggregator: WindowAggregator | undefined;
  /** The coarser tier this one's rows feed (downsampled tiers only; see {@linkcode feed}). */
  feeds: Tier | undefined;
  /** The coarser tier's open windows, built from this tier's rows (with `feeds`). */
  up: RowAggregator | undefined;
  /** Sealed chunks counted since start. */
  chunksSealed = 0;
  #open: OpenChunks;
  /** Sealed chunks waiting for the disk, framed as records as they are sealed. */
  #pending = new ChunkRecords();
  /**
   * The same chunks by series, so reads see them before they are on disk:
   * built by the first read after a flush took them (null until then),
   * then kept up as chunks are sealed. Most flush intervals see no read,
   * and a seal then does no map work (at 57,000 series a minute seals
   * 28,000 raw chunks).
   */
  #pendingById: Map<number, StoredChunk[]> | null = null;
  #edge = new Float64Array(EDGE);
  /** A sealed chunk's bytes on their way to the ring (a store without a data dir). */
  #scratch = new ByteWriter();
  #edgeBits = new Uint32Array(this.#edge.buffer);
  /** Per series: its open chunk changed since the head log last had it. */
  dirty = new Uint8Array(0);
  /**
   * Per series: the rows its open chunk is sealed at (`chunkRows`, or for
   * a series' first chunk when staggered from 1 to all of it), in
   * 16 bits as the open chunks' row counts (see #rowsLimit).
   */
  #limit = new Uint16Array(0);
  /**
   * `chunkRows` as a limit of 16 bits: a chunk passes
   * `MAX_STREAM_BITS` before 65,534 rows (2 bits a row at least), so a
   * larger `chunkRows` seals at the same row as 65,535 does.
   */
  #rowsLimit: number;
  /** The ids a batch of samples filled (to seal after the batch). */
  #full = new Int32Array(0);
  #stagger: boolean;
  /** Chunks end on times staggered by id (a tier that feeds another, by default). */
  #phased = false;
  #keepPending: boolean;

  /**
   * @param index position among the tiers (0: raw, no aggregator)
   * @param info name, resolution, retention
   * @param chunkRows rows per chunk
   * @param ringChunks sealed chunks kept in memory per series
   * @param keepPending whether sealed chunks queue for the disk (false: memory only)
   * @param stagger whether a series' first chunk is cut short by a share that depends on its id
   * @param lean keep the open chunks' column state for one series at a time (rows that come rarely; see `OpenChunks.lean`)
   */
  constructor(
    index: number,
    info: TierInfo,
    chunkRows: number,
    ringChunks: number,
    keepPending = true,
    stagger = false,
    lean = false,
  ) {
    if (!Number.isInteger(chunkRows) || chunkRows < 1) {
      throw new RangeError(
        `Cannot create tier ${info.name}: chunkRows must be a positive integer, received ${chunkRows}`,
      );
    }
    this.index = index;
    this.info = info;
    this.chunkRows = chunkRows;
    this.#rowsLimit = Math.min(chunkRows, 0xffff);
    this.ring = new ChunkRing(ringChunks);
    this.aggregator = index === 1
      ? new WindowAggregator(info.resolutionMs)
      : undefined;
    this.#keepPending = keepPending;
    this.#stagger = stagger;
    // Rows of a downsampled tier lie on its window ends: their times are
    // kept as counts of windows.
    this.#open = index === 0
      ? new OpenChunks(1)
      : new OpenChunks(6, lean, info.resolutionMs);
  }

  /**
   * Makes this tier's rows feed `next` (coarser, a whole multiple of this
   * tier's resolution) through an aggregator of `next`'s windows.
   */
  feed(next: Tier): void {
    this.feeds = next;
    // Staggered by time, not by a first chunk cut short: see #appendOwn.
    this.#phased = this.#stagger;
    this.#stagger = false;
    this.up = new RowAggregator(next.info.resolutionMs);
    this.up.ensure(this.dirty.length);
  }

  /** Makes room for ids below `n`. */
  ensure(n: number): void {
    this.aggregator?.ensure(n);
    this.up?.ensure(n);
    this.#open.ensure(n);
    if (n > this.dirty.length) {
      const size = Math.max(n, growCapacity(this.dirty.length));
      const d = new Uint8Array(size);
      d.set(this.dirty);
      this.dirty = d;
      const l = new Uint16Array(size);
      l.set(this.#limit);
      for (let id = this.#limit.length; id < size; id++) {
        l[id] = this.#stagger
          ? Math.min(this.#firstRows(id), this.#rowsLimit)
          : this.#rowsLimit;
      }
      this.#limit = l;
    }
  }

  /** Appends a raw sample to `id`'s open chunk. */
  appendSample(id: number, t: number, v: number): void {
    SCRATCH[0] = v;
    this.#appendBits(id, t, SCRATCH_U32[HI] | 0, SCRATCH_U32[LO] | 0);
  }

  /** {@linkcode appendSample} of the value of float64 bits `hi:lo` (a NaN's payload kept). */
  #appendBits(id: number, t: number, hi: number, lo: number): void {
    const bits = this.#open.appendBits(id, t, hi, lo);
    this.dirty[id] = 1;
    if (this.#open.count(id) >= this.#limit[id] || bits > MAX_STREAM_BITS) {
      this.seal(id);
    }
  }

  /**
   * Appends one tick's raw samples: `values[i]` at `t` to series `ids[i]`
   * for `i < n`, each id once and `t` after each one's last (what a
   * sampling pass hands the store). The same as {@linkcode appendSample}
   * one by one, in one loop (see {@linkcode OpenChunks.appendSamples}).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tier } from "./tier.ts";
   *
   * const raw = new Tier(0, { name: "raw", resolutionMs: 1000, retentionMs: 86_400_000 }, 2, 4);
   * raw.ensure(2);
   * const ids = new Int32Array([0, 1]);
   * for (let s = 1; s <= 5; s++) {
   *   raw.appendSamples(ids, new Float64Array([s, -s]), 2, s * 1000);
   * }
   * assert.equal(raw.takePending().length, 4); // two sealed chunks each
   * const pieces = raw.pieces(1, 0, 10_000, []);
   * assert.deepEqual(pieces.flatMap((p) => [...p.columns[0]]), [-1, -2, -3, -4, -5]);
   * ```
   */
  appendSamples(
    ids: Int32Array,
    values: Float64Array,
    n: number,
    t: number,
  ): void {
    // In slices, sealing after each: the ids that fill need room for a
    // slice only (16 KB, not 4 bytes a series); seals come in the same
    // order.
    if (this.#full.length < Math.min(n, _SLICE)) {
      this.#full = new Int32Array(Math.min(Math.max(n, 1024), _SLICE));
    }
    const full = this.#full;
    const dirty = this.dirty;
    for (let from = 0; from < n; from += _SLICE) {
      const to = Math.min(n, from + _SLICE);
      const m = this.#open.appendSamples(
        ids,
        values,
        to,
        t,
        this.#limit,
        full,
        from,
      );
      for (let i = from; i < to; i++) dirty[ids[i]] = 1;
      for (let j = 0; j < m; j++) this.seal(full[j]);
    }
  }

  /**
   * Rows of a series' first chunk when staggered: from 1 to `chunkRows`,
   * spread by id, so series that start together do not all seal (and hit
   * the disk) in the same flush ever after, and hold half a chunk each on
   * average at any time. Between half and all of it (until 2026-12-06)
   * left the series in step by half a chunk: at 57,632 series of raw
   * chunks of 120 rows, the open chunks held 30 rows each on average,
   * then 90 a minute later, and their blocks stayed allocated at the
   * high.
   */
  #firstRows(id: number): number {
    return 1 + (Math.imul(id, 0x9e3779b1) >>> 0) % this.chunkRows;
  }

  /**
   * Appends a window row (its first `columns` values) to `id`'s open
   * chunk, and folds it into the coarser tier's window (see
   * {@linkcode cascadeRow}).
   */
  appendRow(id: number, t: number, row: Float64Array, columns: number): void {
    this.#appendOwn(id, t, row, columns);
    if (this.up !== undefined) this.cascadeRow(id, t, row, columns);
  }

  /**
   * Folds row `(t, row)` of `id` into the coarser tier's open window: a
   * row past that window's end closes it first (its row goes to the
   * coarser tier), and a row on its end completes it (times only go up).
   * At open, the store rebuilds the windows with this from stored rows.
   */
  cascadeRow(id: number, t: number, row: Float64Array, columns: number): void {
    const up = this.up!;
    const next = this.feeds!;
    const res = up.resolutionMs;
    const end = Math.ceil(t / res) * res;
    const closed = up.addRow(id, end, row, columns);
    if (closed !== 0) next.appendRow(id, closed, up.row, up.columns);
    // A window ending at 0 reads as never open: no row (see the store).
    if (t === end && up.take(id) !== 0) {
      next.appendRow(id, end, up.row, up.columns);
    }
  }

  /**
   * Appends a row to `id`'s open chunk; seals it when full, and in a tier
   * that feeds a coarser one also on the coarser window's end (a step
   * read at the coarser windows' ends, `rate(x[1m])` at a 1 h step, then
   * finds its row as a chunk's last, kept beside it in the ring, and one
   * chunk per step reaches it) and, when phased, on the row times where
   * `t / resolution + phase(id)` is a multiple of `chunkRows` (series
   * then seal at different flushes, and hold a share of a chunk each on
   * average rather than all full at once).
   */
  #appendOwn(id: number, t: number, row: Float64Array, columns: number): void {
    const bits = this.#open.appendRow(id, t, row, columns);
    this.dirty[id] = 1;
    if (
      this.#open.count(id) >= this.#limit[id] || bits > MAX_STREAM_BITS ||
      (this.feeds !== undefined &&
        (t % this.feeds.info.resolutionMs === 0 ||
          (this.#phased &&
            (t / this.info.resolutionMs + this.#phase(id)) % this.chunkRows ===
              0)))
    ) {
      this.seal(id);
    }
  }

  /** A series' phase among `chunkRows` rows (by id). */
  #phase(id: number): number {
    return (Math.imul(id, 0x9e3779b1) >>> 0) % this.chunkRows;
  }

  /** The open chunks themselves (the head log writes from them). */
  get open(): OpenChunks {
    return this.#open;
  }

  /** Rows in `id`'s open chunk. */
  openCount(id: number): number {
    return this.#open.count(id);
  }

  /** Time of the first row of `id`'s open chunk. */
  openFirstT(id: number): number {
    return this.#open.firstT(id);
  }

  /** Time of the last row of `id`'s open chunk. */
  openLastT(id: number): number {
    return this.#open.lastT(id);
  }

  /** `id`'s open chunk in the codec's format and its columns, or undefined. */
  openChunk(id: number): { bytes: Uint8Array; columns: number } | undefined {
    if (this.#open.count(id) === 0) return undefined;
    return { bytes: this.#open.finish(id), columns: this.#open.columns(id) };
  }

  /**
   * Replaces `id`'s open chunk with rows `from..` of `t`/`columns`
   * (restoring from the head log). Rows are not folded into a coarser
   * window: the store rebuilds those once every tier is restored.
   *
   * The chunk keeps the whole rows limit: the staggered first-chunk limit
   * set at open is shorter, and sealing part of a restored chunk put those
   * rows in the write queue, where the minute window's rebuild (which
   * reads disk and the open chunk) missed them.
   */
  restoreOpen(
    id: number,
    t: Float64Array,
    columns: Float64Array[],
    from: number,
  ): void {
    this.#open.reset(id);
    this.#limit[id] = this.#rowsLimit;
    // Values copied by their bits, not as numbers: a NaN's payload (the
    // staleness marker) is kept on Bun too.
    const row = new Float64Array(columns.length);
    const rowBits = new Uint32Array(row.buffer);
    const bits = columns.map((c) =>
      new Uint32Array(c.buffer, c.byteOffset, 2 * c.length)
    );
    for (let i = from; i < t.length; i++) {
      if (columns.length === 1) {
        this.#appendBits(
          id,
          t[i],
          bits[0][2 * i + HI] | 0,
          bits[0][2 * i + LO] | 0,
        );
      } else {
        for (let c = 0; c < columns.length; c++) {
          rowBits[2 * c] = bits[c][2 * i];
          rowBits[2 * c + 1] = bits[c][2 * i + 1];
        }
        this.#appendOwn(id, t[i], row, columns.length);
      }
    }
  }

  /** Seals `id`'s open chunk: into the ring and the disk queue. */
  seal(id: number): void {
    const open = this.#open;
    const count = open.count(id);
    if (count === 0) return;
    const columns = open.columns(id);
    const minT = open.firstT(id);
    const maxT = open.lastT(id);
    // The chunk is written once: into its record (see ChunkRecords), or
    // (no disk) into a buffer kept for the ring to copy from.
    const w = this.#keepPending
      ? this.#pending.begin(id, minT, maxT, count, columns)
      : this.#scratch;
    if (w === this.#scratch) w.reset();
    const from = w.length;
    // Downsampled chunks are sealed in the frame format (random access
    // by row and column, see frame_chunk.ts): decoded once here, into
    // rows kept between seals (at an hour's end every series seals one).
    const rows = this.index > 0 ? SEAL_ROWS : undefined;
    try {
      if (rows !== undefined) {
        open.decodeInto(id, rows);
        encodeFrameChunkTo(w, rows.t, rows.columns, count, rows.words);
      } else {
        w.reserve(open.byteLength(id));
        w.length = open.copyTo(id, w.buffer, from);
      }
      if (this.#keepPending) this.#pending.commit();
    } catch (error) {
      // Nothing of it left in the queue; the chunk stays open.
      if (this.#keepPending) this.#pending.abort();
      throw error;
    }
    const bytes = w.buffer;
    const to = w.length;
    open.reset(id);
    this.dirty[id] = 1;
    this.#limit[id] = this.#rowsLimit;
    this.chunksSealed++;
    if (this.#keepPending && this.#pendingById !== null) {
      this.#byId(
        this.#pendingById,
        id,
        this.#pending.chunk(this.#pending.n - 1),
      );
    }
    if (this.ring.capacity === 0) return;
    if (rows) {
      // Its edge (the time before the last row, the last row) beside it in
      // the ring: a step read that needs only the last row reads no bytes.
      // The last row's values bit for bit (a stale marker's NaN).
      const edge = this.#edge;
      const edgeBits = this.#edgeBits;
      const { words, stride } = rows;
      edge[0] = count > 1 ? rows.t[count - 2] : -Infinity;
      for (let c = 0; c < EDGE - 1; c++) {
        if (c < rows.columns.length) {
          const k = 2 * (stride * (c + 1) + count - 1);
          edgeBits[2 * (1 + c)] = words[k];
          edgeBits[2 * (1 + c) + 1] = words[k + 1];
        } else edge[1 + c] = NaN;
      }
      this.ring.add(id, minT, maxT, count, bytes, from, to, edge);
    } else this.ring.add(id, minT, maxT, count, bytes, from, to);
  }

  /** Whether sealed chunks of `id` wait for the disk. */
  hasPending(id: number): boolean {
    return this.#pendingOf(id) !== undefined;
  }

  /**
   * The sealed chunks waiting for the disk, framed as chunk records (the
   * store writes them, then calls {@linkcode clearPending}; a write that
   * fails leaves them for the next flush).
   */
  get pending(): ChunkRecords {
    return this.#pending;
  }

  /** Drops sealed chunk `k` waiting for the disk (the disk budget): it is not written. */
  dropPending(k: number): void {
    this.#pending.drop(k);
    this.#pendingById = null;
  }

  /** Forgets the sealed chunks waiting for the disk (written). */
  clearPending(): void {
    this.#pending.clear();
    this.#pendingById = null;
  }

  /**
   * Hands over copies of the sealed chunks waiting for the disk, those
   * not dropped, and forgets them (to look at what a tier sealed).
   */
  takePending(): PendingChunk[] {
    const r = this.#pending;
    const out: PendingChunk[] = [];
    for (let k = 0; k < r.n; k++) {
      if (r.dropped(k)) continue;
      const chunk = r.chunk(k);
      out.push({
        id: r.id(k),
        columns: r.columns(k),
        chunk: { ...chunk, bytes: chunk.bytes.slice() },
      });
    }
    this.clearPending();
    return out;
  }

  /** `id`'s sealed chunks waiting for the disk, oldest first, or undefined. */
  #pendingOf(id: number): StoredChunk[] | undefined {
    let byId = this.#pendingById;
    if (byId === null) {
      byId = this.#pendingById = new Map();
      const r = this.#pending;
      for (let k = 0; k < r.n; k++) {
        if (!r.dropped(k)) this.#byId(byId, r.id(k), r.chunk(k));
      }
    }
    return byId.get(id);
  }

  /** Adds a pending chunk of `id` to `byId` (after its earlier ones). */
  #byId(
    byId: Map<number, StoredChunk[]>,
    id: number,
    chunk: StoredChunk,
  ): void {
    const mine = byId.get(id);
    if (mine) mine.push(chunk);
    else byId.set(id, [chunk]);
  }

  /** Bytes held in memory: open chunks (blocks and state), the window aggregators and the ring. */
  memoryBytes(): number {
    return this.ring.allocatedBytes + this.#open.memoryBytes() +
      (this.aggregator?.memoryBytes() ?? 0) + (this.up?.memoryBytes() ?? 0);
  }

  /**
   * Pushes onto `out` the memory pieces of `id` (ring, then open chunk)
   * that overlap `[start, end]`; returns `out`.
   */
  pieces(
    id: number,
    start: number,
    end: number,
    out: Piece[],
    overlaps?: (minT: number, maxT: number) => boolean,
  ): Piece[] {
    const want = (c: StoredChunk) =>
      c.maxT >= start && c.minT <= end &&
      (!overlaps || overlaps(c.minT, c.maxT));
    for (const c of this.ring.chunks(id)) {
      if (want(c)) out.push(decodeAnyChunk(c.bytes));
    }
    for (const c of this.#pendingOf(id) ?? []) {
      // Also in the ring when it keeps chunks: the merge drops repeats.
      if (want(c)) out.push(decodeAnyChunk(c.bytes));
    }
    const open = this.#open;
    if (
      open.count(id) > 0 && open.firstT(id) <= end && open.lastT(id) >= start
    ) {
      out.push(decodeChunk(open.finish(id)));
    }
    return out;
  }

  /**
   * Adds to `out` the chunks of `id` in memory (ring, write queue, then
   * the open chunk) that overlap `[start, end]`, undecoded and where they
   * lie (for step reads, `step_read.ts`); returns `out`.
   */
  spans(id: number, start: number, end: number, out: SpanList): SpanList {
    const view = this.ring.view(id);
    if (view) {
      // The ring's chunks are in time order: those overlapping [start,
      // end] are one run, found by search.
      const { spans } = view;
      let a = view.first;
      let b = view.n;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (spans[mid * SPAN + 1] < start) a = mid + 1;
        else b = mid;
      }
      let to = view.n;
      b = a;
      while (b < to) {
        const mid = (b + to) >>> 1;
        if (spans[mid * SPAN] <= end) b = mid + 1;
        else to = mid;
      }
      // Each chunk's last row is kept beside it (downsampled tiers).
      out.pushSpans(view.buf, spans, view.spansU32, SPAN, SPAN_EDGE, a, to);
    }
    for (const c of this.#pendingOf(id) ?? []) {
      // Also in the ring when it keeps chunks: the step read drops repeats.
      if (c.maxT >= start && c.minT <= end) out.add(c);
    }
    const open = this.#open;
    if (
      open.count(id) > 0 && open.firstT(id) <= end && open.lastT(id) >= start
    ) {
      out.add({
        minT: open.firstT(id),
        maxT: open.lastT(id),
        bytes: open.finish(id),
      });
      out.markOpen();
    }
    return out;
  }
}

/**
 * A tier's open chunk of one series, written straight into a head record
 * (no copy per series at every flush): the whole chunk, or, when the head
 * log holds it already, the part added since.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenChunkSource, Tier } from "./tier.ts";
 *
 * const raw = new Tier(0, { name: "raw", resolutionMs: 1000, retentionMs: 1 }, 10, 0);
 * raw.ensure(1);
 * raw.appendSample(0, 1000, 5);
 * const src = new OpenChunkSource(raw).of(0, false);
 * assert.equal(src.base, 0); // whole: the log has none of it
 * const out = new Uint8Array(src.length);
 * assert.equal(src.copyTo(out, 0), src.length);
 * src.logged();
 * raw.appendSample(0, 2000, 6);
 * assert.equal(new OpenChunkSource(raw).of(0, false).base, 1); // a part after row 1
 * ```
 */
export class OpenChunkSource implements HeadChunkSource {
  #open: OpenChunks;
  #id = 0;
  /** The bytes copyTo() writes (a whole chunk: 0 when there is none). */
  length = 0;
  /** Its columns. */
  columns = 0;
  /** 0: the whole chunk; else the rows of the chunk the log holds. */
  base = 0;
  /** A part: the chunk's rows now. */
  count = 0;
  /** A part: the stream byte it starts at. */
  from = 0;

  /** @param tier the tier to read open chunks of */
  constructor(tier: Tier) {
    this.#open = tier.open;
  }

  /** Points at series `id`, whole when `whole` or when the log lacks it; returns this. */
  of(id: number, whole: boolean): this {
    const open = this.#open;
    this.#id = id;
    this.count = open.count(id);
    this.base = whole || this.count === 0 ? 0 : open.loggedRows(id);
    if (this.base > 0) {
      this.from = open.loggedByte(id);
      this.length = open.partLength(id, this.from);
      this.columns = 0;
    } else {
      this.from = 0;
      this.length = open.byteLength(id);
      this.columns = this.length > 0 ? open.columns(id) : 0;
    }
    return this;
  }

  /** Writes the chunk (or the part) into `out` at `at`; returns the end. */
  copyTo(out: Uint8Array, at: number): number {
    return this.base > 0
      ? this.#open.copyPart(this.#id, this.from, out, at)
      : this.#open.copyTo(this.#id, out, at);
  }

  /** Notes that the head log holds the chunk as it is now. */
  logged(): void {
    this.#open.markLogged(this.#id);
  }
}
