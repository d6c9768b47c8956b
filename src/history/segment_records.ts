/**
 * The chunk records of segment files (`segments.ts`): their layout,
 * encoding and parsing, the scan that indexes a segment record by record
 * (a segment without a good footer), and the check of one record's CRC
 * found from its chunk's place (a read of a segment not yet verified).
 *
 * @module
 */
import { ByteReader, ByteWriter } from "./_bytes.ts";
import { varintLength } from "./_bits.ts";
import {
  beginRecord,
  endRecord,
  RECORD_HEADER_BYTES,
  recordEnd,
  scanRecords,
} from "./record_frame.ts";
import {
  FOOTER_ENTRY_MAX_BYTES,
  FOOTER_RECORD,
  type FooterEntries,
} from "./segment_footer.ts";
import type { PendingChunk } from "./tier.ts";

/** The record type of a chunk record. */
export const CHUNK_RECORD = 1;

/** Which chunk: its series and span. */
export interface ChunkSpan {
  /** Series id. */
  id: number;
  /** First timestamp (ms). */
  minT: number;
  /** Last timestamp (ms). */
  maxT: number;
}

/** A chunk record read back. */
export interface ChunkRecord extends ChunkSpan {
  /** Rows. */
  count: number;
  /** Columns. */
  columns: number;
  /** The codec's bytes (a view into the file's bytes). */
  bytes: Uint8Array;
}

/** Chunk records encoded for writing, with their spans. */
export interface EncodedChunks {
  /** The framed records back to back. */
  readonly bytes: Uint8Array;
  /** Where each record ends in `bytes`. */
  readonly ends: number[];
  /** Each record's first and last timestamp. */
  readonly minT: number[];
  /** Each record's last timestamp. */
  readonly maxT: number[];
  /** Each record's series id (else read back from the record). */
  readonly ids?: number[];
  /**
   * Where each record's chunk bytes start in `bytes` (they run to its
   * end); else read back from the record.
   */
  readonly dataAt?: number[];
}

/**
 * Parses a chunk record's payload at `[start, end)` of `bytes`, or
 * undefined for another record type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeChunks, parseChunkRecord } from "./segment_records.ts";
 *
 * const e = encodeChunks([{ id: 1, columns: 6, chunk: { minT: 0, maxT: 60_000, count: 2, bytes: new Uint8Array(2) } }]);
 * const r = parseChunkRecord(e.bytes, 8, e.bytes.length)!;
 * assert.deepEqual([r.id, r.columns, r.maxT], [1, 6, 60_000]);
 * assert.equal(parseChunkRecord(new Uint8Array([3]), 0, 1), undefined);
 * ```
 */
export function parseChunkRecord(
  bytes: Uint8Array,
  start: number,
  end: number,
): ChunkRecord | undefined {
  const r = new ByteReader(bytes, start, end);
  if (r.u8() !== CHUNK_RECORD) return undefined;
  const id = r.varint();
  const minT = r.f64();
  const maxT = minT + r.varint();
  const count = r.varint();
  const columns = r.u8();
  return { id, minT, maxT, count, columns, bytes: r.bytes(end - r.pos) };
}

/** The most bytes a chunk record adds to its chunk's (see encodeChunks). */
const RECORD_OVERHEAD = 40;

/**
 * Frames sealed chunks as records.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeChunks, parseChunkRecord } from "./segment_records.ts";
 * import { scanRecords } from "./record_frame.ts";
 *
 * const e = encodeChunks([{ id: 3, columns: 1, chunk: { minT: 10, maxT: 20, count: 2, bytes: new Uint8Array([9]) } }]);
 * scanRecords(e.bytes, (b, s, end) => {
 *   const r = parseChunkRecord(b, s, end)!;
 *   assert.deepEqual([r.id, r.minT, r.maxT, r.count, [...r.bytes]], [3, 10, 20, 2, [9]]);
 * });
 * ```
 */
export function encodeChunks(pending: readonly PendingChunk[]): EncodedChunks {
  // Sized once: a record is its chunk's bytes and at most 40 more (frame
  // header 8, type 1, id, minT 8, span, count, columns 1), so the writer
  // never grows (a flush of 57,000 series grew it through a dozen copies).
  let size = 0;
  for (const p of pending) size += p.chunk.bytes.length + RECORD_OVERHEAD;
  const w = new ByteWriter(Math.max(size, 64));
  const ends: number[] = [];
  const minT: number[] = [];
  const maxT: number[] = [];
  const ids: number[] = [];
  const dataAt: number[] = [];
  for (const p of pending) {
    const at = beginRecord(w);
    w.u8(CHUNK_RECORD);
    w.varint(p.id);
    w.f64(p.chunk.minT);
    w.varint(p.chunk.maxT - p.chunk.minT);
    w.varint(p.chunk.count);
    w.u8(p.columns);
    dataAt.push(w.length);
    w.raw(p.chunk.bytes);
    endRecord(w, at);
    ends.push(w.length);
    minT.push(p.chunk.minT);
    maxT.push(p.chunk.maxT);
    ids.push(p.id);
  }
  return { bytes: w.bytes(), ends, minT, maxT, ids, dataAt };
}

/**
 * The most a pending chunk costs the disk: its framed record, as
 * {@linkcode encodeChunks} writes it, and its entry in its segment's
 * footer (the budget is checked before writing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkRecordBytes, encodeChunks } from "./segment_records.ts";
 * import { FOOTER_ENTRY_MAX_BYTES } from "./segment_footer.ts";
 *
 * const p = { id: 1000, columns: 1, chunk: { minT: 5, maxT: 9000, count: 300, bytes: new Uint8Array(77) } };
 * assert.equal(chunkRecordBytes(p), encodeChunks([p]).bytes.length + FOOTER_ENTRY_MAX_BYTES);
 * ```
 */
export function chunkRecordBytes(p: PendingChunk): number {
  return RECORD_HEADER_BYTES + 1 + varintLength(p.id) + 8 +
    varintLength(p.chunk.maxT - p.chunk.minT) + varintLength(p.chunk.count) +
    1 +
    p.chunk.bytes.length + FOOTER_ENTRY_MAX_BYTES;
}

/** A segment's chunks found by a scan of its records, in file order. */
export class ScannedChunks implements FooterEntries {
  n = 0;
  readonly ids: number[] = [];
  readonly mins: number[] = [];
  readonly maxs: number[] = [];
  readonly ats: number[] = [];
  readonly ends: number[] = [];
  /** Where each chunk's record starts. */
  readonly starts: number[] = [];
  id(k: number): number {
    return this.ids[k];
  }
  minT(k: number): number {
    return this.mins[k];
  }
  maxT(k: number): number {
    return this.maxs[k];
  }
  from(k: number): number {
    return this.ats[k];
  }
  to(k: number): number {
    return this.ends[k];
  }
}

/** What {@linkcode scanSegment} found. */
export interface SegmentScan {
  chunks: ScannedChunks;
  /** Bad runs that may have held chunk records. */
  badRuns: number;
  /** Whether a bad run or a footer record is in it (the file is rewritten without them). */
  dirty: boolean;
  /** Whether a good record of another type is in it (chunks do not lie back to back). */
  foreign: boolean;
  /** Where the good records lie, footers left out: [start, end) pairs. */
  keep: number[];
}

/**
 * Whether the bad run at `at` of `bytes` (running to `end`) is a footer
 * only: it starts with a footer's header, or it is the file's tail and
 * its last 4 bytes say a footer's length that starts there.
 */
function _footerRun(bytes: Uint8Array, at: number, end: number): boolean {
  if (at + RECORD_HEADER_BYTES < end && bytes[at + 3] === 0xa7) {
    return bytes[at + RECORD_HEADER_BYTES] === FOOTER_RECORD;
  }
  if (end !== bytes.length || end - at < 4) return false;
  const n = bytes.length;
  const payload = (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) |
    (bytes[n - 1] << 24)) >>> 0;
  return at + RECORD_HEADER_BYTES + payload === n;
}

/** Reads a segment's records, as before footers (checking each CRC). */
export function scanSegment(bytes: Uint8Array): SegmentScan {
  const scan: SegmentScan = {
    chunks: new ScannedChunks(),
    badRuns: 0,
    dirty: false,
    foreign: false,
    keep: [],
  };
  const c = scan.chunks;
  let prev = 0;
  const bad = (at: number, end: number) => {
    scan.dirty = true;
    if (!_footerRun(bytes, at, end)) scan.badRuns++;
  };
  scanRecords(bytes, (b, s, e) => {
    const start = s - RECORD_HEADER_BYTES;
    if (start > prev) bad(prev, start);
    prev = e;
    if (b[s] === FOOTER_RECORD) {
      // A footer that did not end the file, or did not check out.
      scan.dirty = true;
      return;
    }
    scan.keep.push(start, e);
    let r: ChunkRecord | undefined;
    try {
      r = parseChunkRecord(b, s, e);
    } catch {
      // A record with a good CRC but a bad layout: written by a newer version.
    }
    if (!r) {
      scan.foreign = true;
      return;
    }
    c.ids.push(r.id);
    c.mins.push(r.minT);
    c.maxs.push(r.maxT);
    const at = r.bytes.byteOffset - b.byteOffset;
    c.ats.push(at);
    c.ends.push(e);
    c.starts.push(start);
    c.n++;
  });
  if (prev < bytes.length) bad(prev, bytes.length);
  return scan;
}

/** The bytes of `keep`'s [start, end) pairs of `bytes`, back to back. */
export function keptRecords(bytes: Uint8Array, keep: number[]): Uint8Array {
  let n = 0;
  for (let i = 0; i < keep.length; i += 2) n += keep[i + 1] - keep[i];
  const out = new Uint8Array(n);
  let at = 0;
  for (let i = 0; i < keep.length; i += 2) {
    out.set(bytes.subarray(keep[i], keep[i + 1]), at);
    at += keep[i + 1] - keep[i];
  }
  return out;
}

/** Where the varint before `at` (ending at `at - 1`) starts. */
function _varintStart(bytes: Uint8Array, at: number): number {
  let j = at - 1;
  while (j > 0 && bytes[j - 1] >= 0x80) j--;
  return j;
}

/**
 * The chunk record whose codec bytes are `[from, to)` of `bytes`: its rows
 * and columns are the two fields before them (a varint and a byte; the
 * varint before those ends in a byte below 0x80).
 */
export function recordAt(
  bytes: Uint8Array,
  id: number,
  minT: number,
  maxT: number,
  from: number,
  to: number,
): ChunkRecord {
  const columns = bytes[from - 1];
  const r = new ByteReader(bytes, _varintStart(bytes, from - 1), from - 1);
  const count = r.varint();
  return { id, minT, maxT, count, columns, bytes: bytes.subarray(from, to) };
}

/** Bytes of a chunk record before its chunk's bytes, at least: header, type, four one-byte fields and the time. */
const CHUNK_HEAD_MIN = RECORD_HEADER_BYTES + 1 + 1 + 8 + 1 + 1 + 1;
/** ... and at most: the three varints of 8 bytes each (values below 2^53). */
/** The most bytes a chunk record has before its chunk bytes (frame header and fields). */
export const CHUNK_HEAD_MAX = RECORD_HEADER_BYTES + 1 + 8 + 8 + 8 + 8 + 1;

/**
 * Whether the chunk record whose codec bytes are `[from, to)` of `bytes`
 * (a segment file's bytes) is whole and its CRC holds: a record header
 * 21 to 42 bytes before `from` that says a record ending at `to`, and the
 * payload's CRC-32 the header holds (a flipped byte anywhere in the
 * record fails it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkRecordChecks, encodeChunks } from "./segment_records.ts";
 *
 * const e = encodeChunks([
 *   { id: 1, columns: 1, chunk: { minT: 0, maxT: 9, count: 2, bytes: new Uint8Array([1, 2, 3]) } },
 *   { id: 300, columns: 1, chunk: { minT: 5, maxT: 2 ** 40, count: 200, bytes: new Uint8Array([4, 5]) } },
 * ]);
 * const [a, b] = e.dataAt!;
 * assert.deepEqual([chunkRecordChecks(e.bytes, a, e.ends[0]), chunkRecordChecks(e.bytes, b, e.ends[1])], [true, true]);
 * const bad = e.bytes.slice();
 * bad[b + 1] ^= 0x10;
 * assert.deepEqual([chunkRecordChecks(bad, a, e.ends[0]), chunkRecordChecks(bad, b, e.ends[1])], [true, false]);
 * ```
 */
export function chunkRecordChecks(
  bytes: Uint8Array,
  from: number,
  to: number,
): boolean {
  // The varints' widths are not known from here: each place a header can
  // start is tried, nearest first; its length must end it at `to`.
  const last = Math.max(0, from - CHUNK_HEAD_MAX);
  for (let p = from - CHUNK_HEAD_MIN; p >= last; p--) {
    if (bytes[p + 3] !== 0xa7) continue; // the marker (record_frame.ts)
    const len = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16);
    if (p + RECORD_HEADER_BYTES + len !== to) continue;
    if (
      bytes[p + RECORD_HEADER_BYTES] === CHUNK_RECORD &&
      recordEnd(bytes, p) === to
    ) return true;
  }
  return false;
}
