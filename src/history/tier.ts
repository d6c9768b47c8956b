/**
 * One tier in memory: per series an open chunk (a codec encoder that grows
 * until `chunkRows` rows, then is sealed), the ring of recent sealed
 * chunks, the sealed chunks not yet on disk, and, for a downsampled tier,
 * the window aggregator that feeds it rows.
 *
 * @module
 */
import { ChunkEncoder, decodeChunk } from "./codec.ts";
import { WindowAggregator } from "./aggregator.ts";
import { ChunkRing, type StoredChunk } from "./ring.ts";
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

/** Columns of a window row: value, count, sum, min, max (+ increase for counters). */
export function windowColumns(counter: boolean): number {
  return counter ? 6 : 5;
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
  /** The window aggregator (downsampled tiers only). */
  readonly aggregator: WindowAggregator | undefined;
  /** Sealed chunks counted since start. */
  chunksSealed = 0;
  #open: (ChunkEncoder | undefined)[] = [];
  #openMin = new Float64Array(0);
  #openMax = new Float64Array(0);
  #openCols = new Uint8Array(0);
  #pending: PendingChunk[] = [];
  #keepPending: boolean;

  /**
   * @param index position among the tiers (0: raw, no aggregator)
   * @param info name, resolution, retention
   * @param chunkRows rows per chunk
   * @param ringChunks sealed chunks kept in memory per series
   * @param keepPending whether sealed chunks queue for the disk (false: memory only)
   */
  constructor(
    index: number,
    info: TierInfo,
    chunkRows: number,
    ringChunks: number,
    keepPending = true,
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
    this.aggregator = index === 0
      ? undefined
      : new WindowAggregator(info.resolutionMs);
    this.#keepPending = keepPending;
  }

  /** Makes room for ids below `n`. */
  ensure(n: number): void {
    this.aggregator?.ensure(n);
    if (n <= this.#openMin.length) return;
    const size = Math.max(n, this.#openMin.length * 2, 64);
    const min = new Float64Array(size);
    min.set(this.#openMin);
    this.#openMin = min;
    const max = new Float64Array(size);
    max.set(this.#openMax);
    this.#openMax = max;
    const cols = new Uint8Array(size);
    cols.set(this.#openCols);
    this.#openCols = cols;
  }

  /** Appends a raw sample to `id`'s open chunk. */
  appendSample(id: number, t: number, v: number): void {
    let e = this.#open[id];
    if (e === undefined) {
      e = this.#newEncoder(id, 1);
      this.#openMin[id] = t;
    }
    e.append(t, v);
    this.#openMax[id] = t;
    if (e.count >= this.chunkRows) this.seal(id);
  }

  /** Appends a window row (its first `columns` values) to `id`'s open chunk. */
  appendRow(id: number, t: number, row: Float64Array, columns: number): void {
    let e = this.#open[id];
    if (e === undefined) {
      e = this.#newEncoder(id, columns);
      this.#openMin[id] = t;
    }
    e.appendRow(t, columns === row.length ? row : row.subarray(0, columns));
    this.#openMax[id] = t;
    if (e.count >= this.chunkRows) this.seal(id);
  }

  /** The open encoder of `id`, if any (its rows are not yet sealed). */
  open(id: number): ChunkEncoder | undefined {
    return this.#open[id];
  }

  /** Replaces `id`'s open chunk with `rows` (restoring from the write-ahead log). */
  restoreOpen(
    id: number,
    t: Float64Array,
    columns: Float64Array[],
    from: number,
  ): void {
    this.#open[id] = undefined;
    const row = new Float64Array(columns.length);
    for (let i = from; i < t.length; i++) {
      if (columns.length === 1) this.appendSample(id, t[i], columns[0][i]);
      else {
        for (let c = 0; c < columns.length; c++) row[c] = columns[c][i];
        this.appendRow(id, t[i], row, columns.length);
      }
    }
  }

  /** Seals `id`'s open chunk: into the ring and the disk queue. */
  seal(id: number): void {
    const e = this.#open[id];
    if (e === undefined || e.count === 0) return;
    this.#open[id] = undefined;
    const chunk: StoredChunk = {
      minT: this.#openMin[id],
      maxT: this.#openMax[id],
      count: e.count,
      bytes: e.finish(),
    };
    this.chunksSealed++;
    if (this.#keepPending) {
      this.#pending.push({ id, chunk, columns: this.#openCols[id] });
    }
    this.ring.push(id, chunk);
  }

  /** Hands over the sealed chunks not yet written (and forgets them). */
  takePending(): PendingChunk[] {
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  /** Bytes held in memory: open chunks, ring, pending chunks not in the ring. */
  memoryBytes(): number {
    let bytes = this.ring.bytes;
    for (const e of this.#open) if (e) bytes += e.byteLength;
    return bytes;
  }

  /** Ids with an open chunk. */
  *openIds(): Generator<number> {
    for (let id = 0; id < this.#open.length; id++) {
      if (this.#open[id]) yield id;
    }
  }

  /**
   * Pushes onto `out` the memory pieces of `id` (ring, then open chunk)
   * that overlap `[start, end]`; returns `out`.
   */
  pieces(id: number, start: number, end: number, out: Piece[]): Piece[] {
    for (const c of this.ring.chunks(id)) {
      if (c.maxT >= start && c.minT <= end) out.push(decodeChunk(c.bytes));
    }
    const e = this.#open[id];
    if (e && e.count > 0 && this.#openMin[id] <= end) {
      const piece = decodeChunk(e.finish());
      if (piece.t[piece.t.length - 1] >= start) out.push(piece);
    }
    return out;
  }

  #newEncoder(id: number, columns: number): ChunkEncoder {
    const e = new ChunkEncoder(columns);
    this.#openCols[id] = columns;
    while (this.#open.length < id) this.#open.push(undefined);
    this.#open[id] = e;
    return e;
  }
}
