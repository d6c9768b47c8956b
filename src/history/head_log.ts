/**
 * The head log, `<dir>/head.log`: what is not yet in a segment, written at
 * every flush so a crash loses at most one flush interval. One record per
 * series that changed since the last flush holds its last sample time and,
 * for the tiers where they changed, its open (partial) chunk: whole, or,
 * when the log holds that chunk already, only what was added since (the
 * stream's bytes from the last byte the log has): a chunk's bit stream
 * only grows, so a flush writes the ~10 new samples of a series, not its
 * up to 120 (at 57,000 series: ~1.5 instead of ~6 MB a flush, and the CPU
 * to copy and checksum them). A later record of a series supersedes the
 * whole chunks it holds and continues them with its parts; the log is
 * rewritten whole (a checkpoint, whole chunks only) when it has grown well
 * past what it needs. The open window of the first downsampled tier is not
 * stored: the store rebuilds it at start from the raw samples, which are
 * all durable.
 *
 * Payload: type 3, id (varint), last sample time (float64), a mask (u8: bit
 * k for tier k), then per tier in the mask a mode (u8) and
 * - mode 0, a whole chunk: its length (varint, 0 for none), its columns
 *   (u8) and bytes;
 * - mode 1, a part: the rows the log holds of the chunk (varint), its
 *   rows now (varint), the stream byte the part starts at (varint: the
 *   log's last, partial byte is written again), the part's length
 *   (varint) and bytes.
 *
 * Type 2 records (whole chunks only, no mode byte) are still read.
 *
 * @module
 */
import { ByteReader, type ByteWriter } from "./_bytes.ts";
import { varintLength } from "./_bits.ts";
import { beginRecord, endRecord, RECORD_HEADER_BYTES } from "./record_frame.ts";

const HEAD_RECORD_WHOLE = 2;
const HEAD_RECORD = 3;

/** One tier's open chunk in a head record. */
export interface HeadChunk {
  /**
   * The open chunk's bytes (empty: the tier has no open chunk); for a
   * part (`base` set), the stream's bytes from `from` on.
   */
  chunk: Uint8Array;
  /** Its columns (a part: 0). */
  columns: number;
  /** A part: the rows of the chunk it continues. */
  base?: number;
  /** A part: the chunk's rows with it. */
  count?: number;
  /** A part: the stream byte it starts at. */
  from?: number;
}

/** A series' head record: what changed since its previous record. */
export interface HeadRecord {
  /** Series id. */
  id: number;
  /** Its last sample time (ms). */
  lastT: number;
  /** Per tier (raw first) its open chunk, or undefined when unchanged. */
  chunks: (HeadChunk | undefined)[];
}

/** An open chunk, or the part of it the log lacks, to write without copying it first. */
export interface HeadChunkSource {
  /** The bytes {@linkcode copyTo} writes (a whole chunk: 0 when there is none). */
  readonly length: number;
  /** Its columns. */
  readonly columns: number;
  /** 0: a whole chunk; else a part that continues the chunk of these rows. */
  readonly base: number;
  /** A part: the chunk's rows with it. */
  readonly count: number;
  /** A part: the stream byte it starts at. */
  readonly from: number;
  /** Writes the chunk's (or the part's) bytes into `out` at `at`; returns the end. */
  copyTo(out: Uint8Array, at: number): number;
}

/**
 * Applies a part (`base`, `count`, `from`, bytes) to `stream` (a chunk's
 * stream bytes, `length` of them used, `rows` rows), or returns undefined
 * when the part does not continue it (a record before it was lost).
 * Returns the new stream (grown when needed) and its length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyHeadPart } from "./head_log.ts";
 *
 * const s = new Uint8Array([1, 2, 0x30]);
 * const r = applyHeadPart(s, 3, 5, { chunk: new Uint8Array([0x3f, 9]), columns: 0, base: 5, count: 8, from: 2 })!;
 * assert.deepEqual([...r.stream.subarray(0, r.length)], [1, 2, 0x3f, 9]);
 * assert.equal(applyHeadPart(s, 3, 4, { chunk: new Uint8Array(1), columns: 0, base: 5, count: 8, from: 2 }), undefined);
 * ```
 */
export function applyHeadPart(
  stream: Uint8Array,
  length: number,
  rows: number,
  part: HeadChunk,
): { stream: Uint8Array; length: number } | undefined {
  const from = part.from!;
  // The part starts at the log's last byte (partial or whole): the stream
  // must end there or one byte after it.
  if (part.base !== rows || from > length || length > from + 1) {
    return undefined;
  }
  const end = from + part.chunk.length;
  if (end > stream.length) {
    const grown = new Uint8Array(Math.max(end, stream.length * 2));
    grown.set(stream.subarray(0, from));
    stream = grown;
  }
  stream.set(part.chunk, from);
  return { stream, length: end };
}

/**
 * Appends a framed head record to `w`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { scanRecords } from "./record_frame.ts";
 * import { encodeHeadRecord, parseHeadRecord } from "./head_log.ts";
 *
 * const w = new ByteWriter();
 * encodeHeadRecord(w, {
 *   id: 2,
 *   lastT: 5000,
 *   chunks: [{ chunk: new Uint8Array([1, 2]), columns: 1 }, undefined, { chunk: new Uint8Array(0), columns: 0 }],
 * });
 * scanRecords(w.bytes(), (b, s, e) => {
 *   const r = parseHeadRecord(b, s, e, 3)!;
 *   assert.equal(r.lastT, 5000);
 *   assert.deepEqual([...r.chunks[0]!.chunk], [1, 2]);
 *   assert.equal(r.chunks[1], undefined);
 *   assert.equal(r.chunks[2]!.chunk.length, 0);
 * });
 * ```
 */
export function encodeHeadRecord(
  w: ByteWriter,
  h: {
    id: number;
    lastT: number;
    chunks: readonly (HeadChunk | HeadChunkSource | undefined)[];
  },
): void {
  const at = beginRecord(w);
  w.u8(HEAD_RECORD);
  w.varint(h.id);
  w.f64(h.lastT);
  // Index loops, no closures: a flush encodes a record per series.
  const chunks = h.chunks;
  let mask = 0;
  for (let k = 0; k < chunks.length; k++) if (chunks[k]) mask |= 1 << k;
  w.u8(mask);
  for (let k = 0; k < chunks.length; k++) {
    const c = chunks[k];
    if (!c) continue;
    if ("chunk" in c) {
      if (c.base !== undefined) {
        w.u8(1);
        w.varint(c.base);
        w.varint(c.count!);
        w.varint(c.from!);
        w.varint(c.chunk.length);
        w.raw(c.chunk);
        continue;
      }
      w.u8(0);
      w.varint(c.chunk.length);
      if (c.chunk.length > 0) {
        w.u8(c.columns);
        w.raw(c.chunk);
      }
      continue;
    }
    if (c.base > 0) {
      w.u8(1);
      w.varint(c.base);
      w.varint(c.count);
      w.varint(c.from);
      w.varint(c.length);
    } else {
      w.u8(0);
      w.varint(c.length);
      if (c.length === 0) continue;
      w.u8(c.columns);
    }
    w.reserve(c.length);
    w.length = c.copyTo(w.buffer, w.length);
  }
  endRecord(w, at);
}

/**
 * The framed size of the record {@linkcode encodeHeadRecord} would write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { encodeHeadRecord, headRecordBytes } from "./head_log.ts";
 *
 * const h = {
 *   id: 300,
 *   lastT: 5,
 *   chunks: [
 *     { chunk: new Uint8Array(200), columns: 1 },
 *     undefined,
 *     { chunk: new Uint8Array(3), columns: 0, base: 200, count: 210, from: 150 },
 *   ],
 * };
 * const w = new ByteWriter();
 * encodeHeadRecord(w, h);
 * assert.equal(headRecordBytes(h), w.length);
 * ```
 */
export function headRecordBytes(
  h: {
    id: number;
    chunks: readonly (HeadChunk | HeadChunkSource | undefined)[];
  },
): number {
  let n = RECORD_HEADER_BYTES + 1 + varintLength(h.id) + 8 + 1;
  for (let k = 0; k < h.chunks.length; k++) {
    const c = h.chunks[k];
    if (!c) continue;
    const len = "chunk" in c ? c.chunk.length : c.length;
    const base = "chunk" in c ? c.base ?? 0 : c.base;
    if (base > 0) {
      const count = "chunk" in c ? c.count! : c.count;
      const from = "chunk" in c ? c.from! : c.from;
      n += 1 + varintLength(base) + varintLength(count) + varintLength(from) +
        varintLength(len) + len;
    } else n += 1 + varintLength(len) + (len > 0 ? 1 + len : 0);
  }
  return n;
}

/**
 * Parses a head record of a store with `tiers` tiers (at most 8), or
 * undefined when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { encodeHeadRecord, parseHeadRecord } from "./head_log.ts";
 *
 * const w = new ByteWriter();
 * encodeHeadRecord(w, { id: 9, lastT: 1, chunks: [undefined, undefined] });
 * const r = parseHeadRecord(w.bytes(), 8, w.length, 2)!;
 * assert.deepEqual(r, { id: 9, lastT: 1, chunks: [undefined, undefined] });
 * ```
 */
export function parseHeadRecord(
  bytes: Uint8Array,
  start: number,
  end: number,
  tiers: number,
): HeadRecord | undefined {
  const r = new ByteReader(bytes, start, end);
  const type = r.u8();
  if (type !== HEAD_RECORD && type !== HEAD_RECORD_WHOLE) return undefined;
  const id = r.varint();
  const lastT = r.f64();
  const mask = r.u8();
  const chunks: (HeadChunk | undefined)[] = [];
  for (let k = 0; k < tiers; k++) {
    if (!(mask & (1 << k))) {
      chunks.push(undefined);
      continue;
    }
    const mode = type === HEAD_RECORD ? r.u8() : 0;
    if (mode === 1) {
      const base = r.varint();
      const count = r.varint();
      const from = r.varint();
      const len = r.varint();
      chunks.push({ chunk: r.bytes(len), columns: 0, base, count, from });
      continue;
    }
    if (mode !== 0) {
      throw new RangeError(
        `Cannot read head record: unknown chunk mode, received ${mode}`,
      );
    }
    const len = r.varint();
    const columns = len > 0 ? r.u8() : 0;
    chunks.push({ chunk: r.bytes(len), columns });
  }
  return { id, lastT, chunks };
}
