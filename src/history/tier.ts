/**
 * One tier in memory. The raw tier: per series an open chunk (growing
 * until it is sealed), the ring of recent sealed chunks and the sealed
 * chunks not yet on disk. A downsampled tier has no open chunks: the
 * store's rollup (`rollup.ts`) computes its rows a block of windows at a
 * time and hands them over whole ({@linkcode Tier.addRows}); a series
 * costs it nothing between rollups.
 *
 * @module
 */
import { decodeChunk } from "./codec.ts";
import { decodeAnyChunk, encodeFrameChunk } from "./frame_chunk.ts";
import type { SpanList } from "./step_read.ts";
import type { HeadChunkSource } from "./head_log.ts";
import { growCapacity, MAX_STREAM_BITS, OpenChunks } from "./open_chunks.ts";
import { ChunkRing, EDGE, SPAN, SPAN_EDGE, type StoredChunk } from "./ring.ts";
import type { TierInfo } from "./types.ts";

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
  /**
   * No open chunks: rows come whole ({@linkcode addRows}), and a series
   * costs no chunk state (the downsampled tiers, fed by the rollup).
   */
  readonly rowsOnly: boolean;
  /** Recent sealed chunks. */
  readonly ring: ChunkRing;
  /** Sealed chunks counted since start. */
  chunksSealed = 0;
  #open: OpenChunks;
  #pending: PendingChunk[] = [];
  /** Bytes of the chunks in {@linkcode #pending}. */
  #pendingBytes = 0;
  /** The same chunks by series, so reads see them before they are on disk. */
  #pendingById = new Map<number, StoredChunk[]>();
  #edge = new Float64Array(EDGE);
  /** Per series: its open chunk changed since the head log last had it. */
  dirty = new Uint8Array(0);
  /**
   * Per series: the rows its open chunk is sealed at (`chunkRows`, or for
   * a series' first chunk when staggered between half and all of it).
   */
  #limit = new Int32Array(0);
  /** The ids a batch of samples filled (to seal after the batch). */
  #full = new Int32Array(0);
  #stagger: boolean;
  #half: number;
  #keepPending: boolean;

  /**
   * @param index position among the tiers (0: raw)
   * @param info name, resolution, retention
   * @param chunkRows rows per chunk
   * @param ringChunks sealed chunks kept in memory per series
   * @param keepPending whether sealed chunks queue for the disk (false: memory only)
   * @param stagger whether a series' first chunk is cut short by a share that depends on its id
   */
  constructor(
    index: number,
    info: TierInfo,
    chunkRows: number,
    ringChunks: number,
    keepPending = true,
    stagger = false,
  ) {
    if (!Number.isInteger(chunkRows) || chunkRows < 1) {
      throw new RangeError(
        `Cannot create tier ${info.name}: chunkRows must be a positive integer, received ${chunkRows}`,
      );
    }
    this.index = index;
    this.info = info;
    this.chunkRows = chunkRows;
    this.ring = new ChunkRing(ringChunks);
    this.rowsOnly = index > 0;
    this.#keepPending = keepPending;
    this.#stagger = stagger;
    this.#half = Math.ceil(chunkRows / 2);
    this.#open = new OpenChunks(1);
  }

  /** Makes room for ids below `n`. */
  ensure(n: number): void {
    if (this.rowsOnly) {
      if (n > this.dirty.length) {
        const d = new Uint8Array(Math.max(n, growCapacity(this.dirty.length)));
        d.set(this.dirty);
        this.dirty = d;
      }
      return;
    }
    this.#open.ensure(n);
    if (n > this.dirty.length) {
      const size = Math.max(n, growCapacity(this.dirty.length));
      const d = new Uint8Array(size);
      d.set(this.dirty);
      this.dirty = d;
      const l = new Int32Array(size);
      l.set(this.#limit);
      for (let id = this.#limit.length; id < size; id++) {
        l[id] = this.#stagger ? this.#firstRows(id) : this.chunkRows;
      }
      this.#limit = l;
    }
  }

  /** Appends a raw sample to `id`'s open chunk. */
  appendSample(id: number, t: number, v: number): void {
    const bits = this.#open.append(id, t, v);
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
    if (this.#full.length < n) {
      this.#full = new Int32Array(Math.max(n, 2 * this.#full.length));
    }
    const full = this.#full;
    const m = this.#open.appendSamples(ids, values, n, t, this.#limit, full);
    const dirty = this.dirty;
    for (let i = 0; i < n; i++) dirty[ids[i]] = 1;
    for (let j = 0; j < m; j++) this.seal(full[j]);
  }

  /**
   * Rows of a series' first chunk when staggered: between half and all of
   * `chunkRows`, spread by id, so series that start together do not all
   * seal (and hit the disk) in the same flush ever after.
   */
  #firstRows(id: number): number {
    return this.#half + (Math.imul(id, 0x9e3779b1) >>> 0) % this.#half;
  }

  /** The open chunks themselves (the head log writes from them). */
  get open(): OpenChunks {
    return this.#open;
  }

  /** Rows in `id`'s open chunk. */
  openCount(id: number): number {
    return this.rowsOnly ? 0 : this.#open.count(id);
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
    if (this.openCount(id) === 0) return undefined;
    return { bytes: this.#open.finish(id), columns: this.#open.columns(id) };
  }

  /**
   * Replaces `id`'s open raw chunk with samples `from..` of `t`/`columns`
   * (restoring from the head log).
   *
   * The chunk keeps the whole rows limit: the staggered first-chunk limit
   * set at open is shorter, and sealing part of a restored chunk at open
   * would write again what the head log's next checkpoint holds.
   */
  restoreOpen(
    id: number,
    t: Float64Array,
    columns: Float64Array[],
    from: number,
  ): void {
    this.#open.reset(id);
    this.#limit[id] = this.chunkRows;
    for (let i = from; i < t.length; i++) {
      this.appendSample(id, t[i], columns[0][i]);
    }
  }

  /** Seals `id`'s open chunk: into the ring and the disk queue. */
  seal(id: number): void {
    if (this.rowsOnly) return;
    const open = this.#open;
    const count = open.count(id);
    if (count === 0) return;
    const columns = open.columns(id);
    const bytes = open.finish(id);
    const minT = open.firstT(id);
    const maxT = open.lastT(id);
    open.reset(id);
    this.dirty[id] = 1;
    this.#limit[id] = this.chunkRows;
    this.#keep(id, { minT, maxT, count, bytes }, columns);
  }

  /**
   * Adds rows `from..to-1` of `t`/`columns` of series `id` as one sealed
   * chunk (ring and disk queue), times after any row it holds: how the
   * rollup hands over the rows it computed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tier } from "./tier.ts";
   *
   * const minute = new Tier(1, { name: "1m", resolutionMs: 60_000, retentionMs: 86_400_000 }, 60, 4);
   * minute.ensure(1);
   * const t = new Float64Array([60_000, 120_000]);
   * const cols = [1, 2, 3, 4, 5].map((c) => new Float64Array([c, c + 10]));
   * minute.addRows(0, t, cols, 0, 2);
   * assert.equal(minute.takePending().length, 1);
   * const [piece] = minute.pieces(0, 0, 200_000, []);
   * assert.deepEqual([...piece.t], [60_000, 120_000]);
   * assert.deepEqual([...piece.columns[4]], [5, 15]);
   * ```
   */
  addRows(
    id: number,
    t: Float64Array,
    columns: Float64Array[],
    from: number,
    to: number,
  ): void {
    if (to <= from) return;
    this.#keepRows(id, t, columns, from, to);
  }

  /** Rows `from..to-1` as a frame chunk, kept with its edge (see {@linkcode seal}). */
  #keepRows(
    id: number,
    t: Float64Array,
    columns: Float64Array[],
    from: number,
    to: number,
  ): void {
    const whole = from === 0 && to === t.length;
    const rt = whole ? t : t.subarray(from, to);
    const rc = whole ? columns : columns.map((c) => c.subarray(from, to));
    const count = to - from;
    const chunk: StoredChunk = {
      minT: rt[0],
      maxT: rt[count - 1],
      count,
      bytes: encodeFrameChunk(rt, rc),
    };
    // Its edge (the time before the last row, the last row) beside it in
    // the ring: a step read that needs only the last row reads no bytes.
    const edge = this.#edge;
    edge[0] = count > 1 ? rt[count - 2] : -Infinity;
    for (let c = 0; c < EDGE - 1; c++) {
      // set() of a one-row view keeps a NaN's payload (a stale marker).
      if (c < rc.length) edge.set(rc[c].subarray(count - 1, count), 1 + c);
      else edge[1 + c] = NaN;
    }
    this.#keep(id, chunk, rc.length, edge);
  }

  /** A sealed chunk into the disk queue and the ring (with its edge, for rows). */
  #keep(
    id: number,
    chunk: StoredChunk,
    columns: number,
    edge?: Float64Array,
  ): void {
    this.chunksSealed++;
    if (this.#keepPending) {
      this.#pendingBytes += chunk.bytes.length;
      this.#pending.push({ id, chunk, columns });
      const mine = this.#pendingById.get(id);
      if (mine) mine.push(chunk);
      else this.#pendingById.set(id, [chunk]);
    }
    if (edge) this.ring.push(id, chunk, edge);
    else this.ring.push(id, chunk);
  }

  /** Bytes of the sealed chunks waiting for the disk. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Whether sealed chunks of `id` wait for the disk. */
  hasPending(id: number): boolean {
    return this.#pendingById.has(id);
  }

  /** Hands over the sealed chunks not yet written (and forgets them). */
  takePending(): PendingChunk[] {
    const out = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#pendingById.clear();
    return out;
  }

  /** Bytes held in memory: open chunks (blocks and state), the ring and the chunks waiting for the disk. */
  memoryBytes(): number {
    return this.ring.allocatedBytes + this.#open.memoryBytes() +
      this.#pendingBytes;
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
    for (const c of this.#pendingById.get(id) ?? []) {
      // Also in the ring when it keeps chunks: the merge drops repeats.
      if (want(c)) out.push(decodeAnyChunk(c.bytes));
    }
    const open = this.#open;
    if (
      !this.rowsOnly && open.count(id) > 0 && open.firstT(id) <= end &&
      open.lastT(id) >= start
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
    for (const c of this.#pendingById.get(id) ?? []) {
      // Also in the ring when it keeps chunks: the step read drops repeats.
      if (c.maxT >= start && c.minT <= end) out.add(c);
    }
    const open = this.#open;
    if (
      !this.rowsOnly && open.count(id) > 0 && open.firstT(id) <= end &&
      open.lastT(id) >= start
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
