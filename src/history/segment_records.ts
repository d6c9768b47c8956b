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
import type { StoredChunk } from "./ring.ts";

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

/** Scratch for reading a record's minT back (little-endian, as written). */
const _F64 = new DataView(new ArrayBuffer(8));

/**
 * Chunk records framed one after another in one buffer that is kept and
 * reused: a tier's sealed chunks waiting for the disk, framed as they are
 * sealed (see `Tier`), so that a flush hands the segment files views of
 * this buffer. At 57,632 series a flush writes about 4,700 raw chunks:
 * framed at the flush into a new buffer, with five arrays of numbers and
 * two objects and a view per chunk while they waited, that was about
 * 200 KB of garbage a second (issue 14, `bench/history_alloc_sites.ts`).
 *
 * A record can be dropped (the disk budget): it stays in the buffer and
 * is skipped. Views of the buffer ({@linkcode chunk}) are valid until the
 * next {@linkcode clear}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkRecords, parseChunkRecord } from "./segment_records.ts";
 *
 * const r = new ChunkRecords();
 * r.add(7, 1000, 5000, 5, 1, new Uint8Array([1, 2, 3]));
 * r.begin(8, 1000, 2000, 2, 1).raw(new Uint8Array([4, 5]));
 * r.commit();
 * assert.equal(r.n, 2);
 * const back = parseChunkRecord(r.bytes, r.start(1) + 8, r.end(1))!;
 * assert.deepEqual([back.id, back.maxT, [...back.bytes]], [8, 2000, [4, 5]]);
 * r.drop(0);
 * assert.deepEqual([r.live, r.liveBytes], [1, r.end(1) - r.start(1)]);
 * r.clear();
 * assert.equal(r.n, 0);
 * ```
 */
export class ChunkRecords {
  #w = new ByteWriter();
  /**
   * Where each record starts, and whether it was dropped: 5 bytes a
   * record. Its fields are read back from its bytes when asked for (a
   * flush reads each a few times); seven numbers a record kept beside
   * them were 56 bytes, 0.9 MB at 57,632 series two minutes in and 3.7
   * MB after an hour's end, when every series seals a minute chunk.
   */
  #at = new Uint32Array(8);
  #gone = new Uint8Array(8);
  #n = 0;
  /** The record whose fields were read back last (-1: none), and they. */
  #read = -1;
  #id = 0;
  #minT = 0;
  #maxT = 0;
  #count = 0;
  #columns = 0;
  #dataAt = 0;
  /** Where `#readBack` reads. */
  #p = 0;
  /** The most bytes and records held at a clear since the buffers were last sized, and the clears. */
  #peakBytes = 0;
  #peakRecords = 0;
  #clears = 0;
  /** Records not dropped. */
  live = 0;
  /** Bytes of the records not dropped. */
  liveBytes = 0;

  /** Records, dropped ones included. */
  get n(): number {
    return this.#n;
  }

  /** The buffer the records are in (valid until the next begin() or add()). */
  get buffer(): Uint8Array {
    return this.#w.buffer;
  }

  /** All records' bytes, dropped ones included. */
  get bytes(): Uint8Array {
    return this.#w.bytes();
  }

  /**
   * Starts a record of series `id`'s chunk (`minT` to `maxT`, `count`
   * rows, `columns` columns): writes its fields and returns the writer to
   * append the chunk's bytes to (no copy of them made first); then call
   * {@linkcode commit}.
   */
  begin(
    id: number,
    minT: number,
    maxT: number,
    count: number,
    columns: number,
  ): ByteWriter {
    const w = this.#w;
    w.reserve(CHUNK_HEAD_MAX);
    const k = this.#n;
    if (k === this.#at.length) {
      const at = new Uint32Array(2 * k);
      at.set(this.#at);
      this.#at = at;
      const gone = new Uint8Array(2 * k);
      gone.set(this.#gone);
      this.#gone = gone;
    }
    if (this.#read === k) this.#read = -1;
    this.#at[k] = beginRecord(w);
    this.#gone[k] = 0;
    w.u8(CHUNK_RECORD);
    w.varint(id);
    w.f64(minT);
    w.varint(maxT - minT);
    w.varint(count);
    w.u8(columns);
    return w;
  }

  /** Ends the record {@linkcode begin} started (its chunk's bytes written). */
  commit(): void {
    const start = this.#at[this.#n];
    endRecord(this.#w, start);
    this.#n++;
    this.live++;
    this.liveBytes += this.#w.length - start;
  }

  /** Forgets the record {@linkcode begin} started (a chunk that could not be written). */
  abort(): void {
    this.#w.length = this.#at[this.#n];
  }

  /** A record of `bytes` (see {@linkcode begin}). */
  add(
    id: number,
    minT: number,
    maxT: number,
    count: number,
    columns: number,
    bytes: Uint8Array,
  ): void {
    this.begin(id, minT, maxT, count, columns).raw(bytes);
    this.commit();
  }

  /** Where record `k` starts in {@linkcode buffer}. */
  start(k: number): number {
    return this.#at[k];
  }
  /** Where record `k`'s chunk bytes start (they run to its end). */
  dataAt(k: number): number {
    this.#readBack(k);
    return this.#dataAt;
  }
  /** Where record `k` ends. */
  end(k: number): number {
    return k + 1 < this.#n ? this.#at[k + 1] : this.#w.length;
  }
  /** Record `k`'s series id. */
  id(k: number): number {
    this.#readBack(k);
    return this.#id;
  }
  /** Record `k`'s first time. */
  minT(k: number): number {
    this.#readBack(k);
    return this.#minT;
  }
  /** Record `k`'s last time. */
  maxT(k: number): number {
    this.#readBack(k);
    return this.#maxT;
  }
  /** Record `k`'s rows. */
  count(k: number): number {
    this.#readBack(k);
    return this.#count;
  }
  /** Record `k`'s columns (0 once dropped). */
  columns(k: number): number {
    if (this.#gone[k] === 1) return 0;
    this.#readBack(k);
    return this.#columns;
  }
  /** Whether record `k` was dropped. */
  dropped(k: number): boolean {
    return this.#gone[k] === 1;
  }

  /** Reads record `k`'s fields back from its bytes (as {@linkcode begin} wrote them). */
  #readBack(k: number): void {
    if (k === this.#read) return;
    const b = this.#w.buffer;
    this.#p = this.#at[k] + RECORD_HEADER_BYTES + 1;
    this.#id = this.#varint(b);
    for (let i = 0; i < 8; i++) _F64.setUint8(i, b[this.#p + i]);
    this.#p += 8;
    this.#minT = _F64.getFloat64(0, true);
    this.#maxT = this.#minT + this.#varint(b);
    this.#count = this.#varint(b);
    this.#columns = b[this.#p++];
    this.#dataAt = this.#p;
    this.#read = k;
  }

  /** The varint of `b` at the read-back position, which it moves past. */
  #varint(b: Uint8Array): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const x = b[this.#p++];
      v += (x & 0x7f) * scale;
      if (x < 0x80) return v;
      scale *= 0x80;
    }
  }

  /** Drops record `k`: it is skipped from now on. */
  drop(k: number): void {
    if (this.dropped(k)) return;
    this.#gone[k] = 1;
    this.live--;
    this.liveBytes -= this.end(k) - this.start(k);
  }

  /** Record `k`'s chunk, its bytes a view of the buffer (valid until {@linkcode clear}). */
  chunk(k: number): StoredChunk {
    return {
      minT: this.minT(k),
      maxT: this.maxT(k),
      count: this.count(k),
      bytes: this.#w.buffer.subarray(this.dataAt(k), this.end(k)),
    };
  }

  /**
   * Forgets every record, keeping the buffers for the next ones. Every
   * 32 clears (about five minutes of flushes) buffers more than four
   * times the most those clears held are made smaller: a burst, such as
   * every series sealing at an hour's end, is not kept for ever, and
   * flushes that hold more, then less, do not make a buffer each.
   */
  clear(): void {
    this.#peakBytes = Math.max(this.#peakBytes, this.#w.length);
    this.#peakRecords = Math.max(this.#peakRecords, this.#n);
    this.#w.reset();
    this.#n = this.live = this.liveBytes = 0;
    this.#read = -1;
    if (++this.#clears < 32) return;
    const bytes = Math.max(this.#peakBytes, 4096);
    if (this.#w.buffer.length > 4 * bytes) this.#w = new ByteWriter(bytes);
    const records = Math.max(this.#peakRecords, 64);
    if (this.#at.length > 4 * records) {
      this.#at = new Uint32Array(records);
      this.#gone = new Uint8Array(records);
    }
    this.#peakBytes = this.#peakRecords = this.#clears = 0;
  }
}

/**
 * Frames sealed chunks as records (see {@linkcode ChunkRecords}).
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
export function encodeChunks(pending: readonly PendingChunk[]): ChunkRecords {
  const r = new ChunkRecords();
  for (const p of pending) {
    r.add(
      p.id,
      p.chunk.minT,
      p.chunk.maxT,
      p.chunk.count,
      p.columns,
      p.chunk.bytes,
    );
  }
  return r;
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
 * const [a, b] = [e.dataAt(0), e.dataAt(1)];
 * assert.deepEqual([chunkRecordChecks(e.bytes, a, e.end(0)), chunkRecordChecks(e.bytes, b, e.end(1))], [true, true]);
 * const bad = e.bytes.slice();
 * bad[b + 1] ^= 0x10;
 * assert.deepEqual([chunkRecordChecks(bad, a, e.end(0)), chunkRecordChecks(bad, b, e.end(1))], [true, false]);
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
