/**
 * The disk part of one tier: `<dir>/<tier>/NNNNNN.seg` files of chunk
 * records, appended in time order and deleted whole (retention, byte
 * budget). Each segment remembers its time span, size and chunk count so
 * retention and reads decide without opening it.
 *
 * A chunk record's payload: type 1, series id (varint), first timestamp
 * (float64), last minus first (varint), rows (varint), columns (u8), then
 * the chunk's bytes, whose byte 0 says their format: 1, the Gorilla
 * stream of `codec.ts` (the raw tier, and every tier before the frame
 * format); 3, the random-access frame format of `frame_chunk.ts` (the
 * downsampled tiers' sealed chunks since issue 14's step reads; 2 was an
 * interim layout of it, see FRAME_VERSION). The record layout did not
 * change, so a store reads segments of either age and its segments mix
 * both; a store older than the frame format (or a chunk of format 2)
 * skips such a chunk at read with its one "does not decode (unknown
 * format version N)" warning, counted in corruptChunksSkipped, and reads
 * everything else.
 *
 * A footer record's payload (`segment_footer.ts` has the byte table):
 * type 2, version 1, the byte widths of its five columns, the segment's
 * first and last time (float64), the time unit (float64), where the
 * footer starts (float64), the entries (u32), then the columns, each on a
 * multiple of 8 bytes: series id, where the chunk's bytes start, their
 * length, first time less the segment's first / unit, last time less
 * first / unit; entries sorted by (id, first time); last, the payload's
 * length again (u32), so the footer is found from the file's end.
 *
 * A segment takes chunks until it reaches `segmentBytes`; then it is
 * closed, and the next write appends its index as a footer record and
 * drops the index from memory:
 * only the open segment keeps its index in memory, and a closed one's
 * footer is read back through a cache bounded in bytes
 * ({@linkcode FooterCache}, 8 MiB by default). The byte budget counts a
 * footer before it is written: {@linkcode SegmentDir.bytes} holds, besides
 * the files, the footer built and not yet written and the most the open
 * segment's footer can take ({@linkcode footerBound}), and
 * {@linkcode chunkRecordBytes} the most a chunk's entry adds to it. A
 * segment without a good footer at its end (written before footers, a
 * crash before its footer was written, a torn or corrupt footer) is read
 * record by record at load as before footers, its bad runs dropped (a
 * warning when they held chunk records, not for a footer alone), and its
 * footer written at the next write. A reader older than footers skips the
 * footer record (not a chunk record) and reads the segment record by
 * record. A closed segment's chunk records are not read at load, so their
 * CRCs are no longer checked there: a chunk whose bytes rot afterwards is
 * caught by its decoder or not at all, as any chunk after load before.
 *
 * @module
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import {
  beginRecord,
  endRecord,
  RECORD_HEADER_BYTES,
  scanRecords,
} from "./record_frame.ts";
import { RecordFile } from "./record_file.ts";
import {
  encodeFooter,
  Footer,
  FOOTER_ENTRY_MAX_BYTES,
  FOOTER_RECORD,
  footerBound,
  FooterCache,
  type FooterEntries,
  overlapsTest,
  readFooter,
  readRange,
  type StepWindows,
} from "./segment_footer.ts";
import type { PendingChunk } from "./tier.ts";

const CHUNK_RECORD = 1;

/** A column of {@linkcode SegmentIndex}: narrow until a value needs more. */
type _Column = Uint16Array | Uint32Array | Int32Array | Float64Array;
type _Type = new (n: number) => _Column;

/** `a` with room for `size` entries, of `type` when given (else its own). */
function _resize(a: _Column, size: number, type?: _Type): _Column {
  const b = new (type ?? (a.constructor as _Type))(size);
  b.set(a.subarray(0, Math.min(a.length, size)) as ArrayLike<number>);
  return b;
}

/** Whether `v` fits column `a` (its integer type, or any number for Float64Array). */
function _fits(a: _Column, v: number): boolean {
  if (a instanceof Float64Array) return true;
  if (a instanceof Uint16Array) return v >= 0 && v <= 0xffff;
  if (a instanceof Int32Array) return v >= -0x80000000 && v <= 0x7fffffff;
  return v >= 0 && v <= 0xffffffff;
}

/**
 * Where the open segment's chunk records are, kept in memory so a read
 * picks the chunks it wants without parsing every record, and reads the
 * file only when it needs bytes from it: entry k is series `id(k)`'s
 * chunk spanning `minT(k)..maxT(k)`, its codec bytes at
 * `[from(k), to(k))` of the file. When the segment closes, its entries
 * become its footer (`segment_footer.ts`) and leave memory.
 *
 * 15 bytes an entry at 57,000 series (it was 28, and 40 before; every
 * segment had one in memory until footers, about 1.7 million raw chunks
 * at the default 256 MiB budget and 57,000 series). The columns: the id (16-bit while ids are below
 * 65,536), where the chunk's bytes start (32-bit), the bytes of its
 * record before them (8-bit: a chunk's bytes end its record and records
 * lie back to back, so a chunk ends where the next record starts), its
 * first time less the segment's first chunk's (32-bit signed) and its
 * last time less its first (32-bit). A column turns wider, entries kept,
 * when a value does not fit; {@linkcode trim} drops the room for growth
 * once the segment is full.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SegmentIndex } from "./segments.ts";
 *
 * const index = new SegmentIndex();
 * for (let k = 0; k < 40; k++) index.add(k, 1.7e12 + k * 1000, 1.7e12 + k * 1000 + 999, k * 50 + 20, 20);
 * index.end = 40 * 50;
 * assert.equal(index.n, 40);
 * assert.equal(index.to(39), 2000);
 * assert.equal(index.to(0), 50);
 * assert.equal(index.maxT(3), 1.7e12 + 3999);
 * index.add(2 ** 33, 1, 2, 2 ** 32 + 7, 30);
 * assert.equal(index.id(40), 2 ** 33);
 * assert.equal(index.minT(40), 1);
 * assert.equal(index.from(40), 2 ** 32 + 7);
 * ```
 */
export class SegmentIndex implements FooterEntries {
  /** Entries. */
  n = 0;
  /** Where the last entry's chunk bytes end (the segment's end). */
  end = 0;
  /** The first entry's first time: entries keep theirs less it. */
  base = NaN;
  #id: _Column = new Uint16Array(16);
  #at: _Column = new Uint32Array(16);
  #head = new Uint8Array(16);
  #min: _Column = new Int32Array(16);
  #span: _Column = new Uint32Array(16);

  /**
   * Adds a chunk record's entry: series `id`, times `minT..maxT`, its
   * bytes from `from` to the end of its record, which has `head` bytes
   * before them (set {@linkcode end} after the segment's last record).
   */
  add(
    id: number,
    minT: number,
    maxT: number,
    from: number,
    head: number,
  ): void {
    const k = this.n;
    if (k === 0) this.base = minT;
    if (k === this.#head.length) this.#resize(k * 2);
    const size = this.#head.length;
    const rel = minT - this.base;
    const span = maxT - minT;
    if (!_fits(this.#id, id)) {
      this.#id = _resize(
        this.#id,
        size,
        id >= 0 && id <= 0xffffffff ? Uint32Array : Float64Array,
      );
    }
    if (!_fits(this.#at, from)) {
      this.#at = _resize(this.#at, size, Float64Array);
    }
    if (!_fits(this.#min, rel)) {
      this.#min = _resize(this.#min, size, Float64Array);
    }
    if (!_fits(this.#span, span)) {
      this.#span = _resize(this.#span, size, Float64Array);
    }
    if (!(head >= 0 && head <= 255)) {
      throw new RangeError(
        `Cannot index a chunk record: its header must be 0..255 bytes, received ${head}`,
      );
    }
    this.#id[k] = id;
    this.#at[k] = from;
    this.#head[k] = head;
    this.#min[k] = rel;
    this.#span[k] = span;
    this.n = k + 1;
  }

  /** Entry k's series id. */
  id(k: number): number {
    return this.#id[k];
  }

  /** Entry k's first time. */
  minT(k: number): number {
    return this.base + this.#min[k];
  }

  /** Entry k's last time. */
  maxT(k: number): number {
    return this.base + this.#min[k] + this.#span[k];
  }

  /** Where entry k's chunk bytes start in the file. */
  from(k: number): number {
    return this.#at[k];
  }

  /** Where entry k's chunk bytes end: the next record's start, or {@linkcode end}. */
  to(k: number): number {
    return k + 1 < this.n ? this.#at[k + 1] - this.#head[k + 1] : this.end;
  }

  /**
   * Calls `visit(k, id, minT, maxT)` for each entry whose span overlaps
   * `[start, end]`, in order: the columns read in one loop.
   */
  scan(
    start: number,
    end: number,
    visit: (k: number, id: number, minT: number, maxT: number) => void,
  ): void {
    const ids = this.#id;
    const min = this.#min;
    const span = this.#span;
    const base = this.base;
    // Relative bounds: a chunk starting after `end` is skipped without
    // the addition (most entries of a segment that a range cuts).
    const relEnd = end - base;
    for (let k = 0; k < this.n; k++) {
      const m = min[k];
      if (m > relEnd) continue;
      const maxT = base + m + span[k];
      if (maxT < start) continue;
      visit(k, ids[k], base + m, maxT);
    }
  }

  /** Drops the room for growth (the segment takes no more chunks). */
  trim(): void {
    if (this.#head.length > this.n) this.#resize(Math.max(this.n, 1));
  }

  /** Bytes it holds in memory. */
  get memoryBytes(): number {
    return this.#id.byteLength + this.#at.byteLength + this.#head.byteLength +
      this.#min.byteLength + this.#span.byteLength;
  }

  #resize(size: number): void {
    this.#id = _resize(this.#id, size);
    this.#at = _resize(this.#at, size);
    const head = new Uint8Array(size);
    head.set(this.#head.subarray(0, Math.min(this.#head.length, size)));
    this.#head = head;
    this.#min = _resize(this.#min, size);
    this.#span = _resize(this.#span, size);
  }
}

/** One segment file and what it holds. */
export interface SegmentInfo {
  /** Its sequence number (the file name). */
  readonly seq: number;
  /** The file. */
  readonly file: RecordFile;
  /** Earliest point in it (ms). */
  minT: number;
  /** Latest point in it (ms). */
  maxT: number;
  /** Chunk records in it. */
  chunks: number;
  /**
   * Its chunks' places, in memory: the open segment's (and a closed
   * one's whose footer would not fit a record).
   */
  index?: SegmentIndex;
  /** Where its footer record starts in the file and its bytes, once written. */
  footer?: { readonly at: number; readonly bytes: number };
  /** Its footer, built when it closed, written by the next write. */
  pending?: Footer;
}

/** An empty buffer: the bytes of a chunk a read did not need to load. */
const NO_BYTES = new Uint8Array(0);

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
 * import { encodeChunks, parseChunkRecord } from "./segments.ts";
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

/**
 * Frames sealed chunks as records.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeChunks, parseChunkRecord } from "./segments.ts";
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
  const w = new ByteWriter(4096);
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

function segmentName(seq: number): string {
  return `${String(seq).padStart(6, "0")}.seg`;
}

/**
 * The test a read applies to a chunk's series id: a predicate, or the ids
 * wanted in ascending order (found in a closed segment's footer by binary
 * search rather than by looking at every entry).
 */
export type WantedIds = ((id: number) => boolean) | readonly number[];

/** `wanted` as ascending ids (sorted when they were not) or as it was. */
function _ascending(wanted: WantedIds): WantedIds {
  if (typeof wanted === "function") return wanted;
  for (let i = 1; i < wanted.length; i++) {
    if (!(wanted[i - 1] < wanted[i])) {
      return [...new Set(wanted)].sort((a, b) => a - b);
    }
  }
  return wanted;
}

/** `wanted` as a predicate. */
function _predicate(wanted: WantedIds): (id: number) => boolean {
  if (typeof wanted === "function") return wanted;
  const set = new Set(wanted);
  return (id) => set.has(id);
}

/** A segment's chunks found by a scan of its records, in file order. */
class _Scanned implements FooterEntries {
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

/** What {@linkcode _scanSegment} found. */
interface _Scan {
  chunks: _Scanned;
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
function _scanSegment(bytes: Uint8Array): _Scan {
  const scan: _Scan = {
    chunks: new _Scanned(),
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
function _kept(bytes: Uint8Array, keep: number[]): Uint8Array {
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
function _recordAt(
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

/** Options of a {@linkcode SegmentDir}. */
export interface SegmentDirOptions {
  /**
   * The cache of closed segments' footers read back (share one among a
   * store's tiers). Default: one of its own, of 8 MiB.
   */
  footers?: FooterCache;
}

/**
 * The segment files of one tier.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { encodeChunks, SegmentDir } from "./segments.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-seg-"));
 * try {
 *   const segs = new SegmentDir(join(dir, "raw"), 1 << 20);
 *   segs.write(encodeChunks([{ id: 0, columns: 1, chunk: { minT: 1, maxT: 2, count: 2, bytes: new Uint8Array(3) } }]));
 *   const again = new SegmentDir(join(dir, "raw"), 1 << 20);
 *   again.load(() => {}, () => {});
 *   assert.equal(again.segments.length, 1);
 *   assert.equal(again.segments[0].maxT, 2);
 * } finally {
 *   rmSync(dir, { recursive: true });
 * }
 * ```
 */
export class SegmentDir {
  /** The tier's folder. */
  readonly dir: string;
  /** A segment is closed once it reaches this size. */
  readonly segmentBytes: number;
  /** The segments, oldest (lowest seq) first. */
  readonly segments: SegmentInfo[] = [];
  /** Chunk records written since start. */
  chunksWritten = 0;
  /** The cache of footers read back. */
  readonly footers: FooterCache;
  #nextSeq = 1;

  /**
   * @param dir the tier's folder (created when missing)
   * @param segmentBytes the size at which a new segment starts
   * @param options the footer cache
   */
  constructor(
    dir: string,
    segmentBytes: number,
    options: SegmentDirOptions = {},
  ) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.footers = options.footers ?? new FooterCache();
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Bytes the segments' indexes hold in memory: the open segment's index,
   * footers built and not yet written, and this tier's share of the
   * footer cache.
   */
  get indexBytes(): number {
    let n = this.footers.bytesOf(this);
    for (const s of this.segments) {
      n += (s.index?.memoryBytes ?? 0) + (s.pending?.memoryBytes ?? 0);
    }
    return n;
  }

  /**
   * Bytes on disk, and the footers to come: those built and not yet
   * written, and the most the open segment's can take.
   */
  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += this.sizeOf(s);
    return n;
  }

  /** `seg`'s share of {@linkcode bytes}: its file and its footer to come. */
  sizeOf(seg: SegmentInfo): number {
    return seg.file.bytes + (seg.pending?.bytes.length ?? 0) +
      (seg.index && !seg.footer ? footerBound(seg.index.n) : 0);
  }

  /**
   * Reads every segment: `visit` sees each good chunk (the object is
   * valid during the call only); `corrupt` hears of each file with bad
   * runs that held chunk records (which were dropped from the file). A
   * closed segment's chunks come from its footer, its records unread.
   */
  load(
    visit: (r: ChunkSpan) => void,
    corrupt: (path: string, runs: number) => void,
  ): void {
    const names = readdirSync(this.dir).filter((n) => /^\d{6,}\.seg$/.test(n))
      .sort();
    const span: ChunkSpan = { id: 0, minT: 0, maxT: 0 };
    names.forEach((name, i) => {
      const seq = Number(name.slice(0, -4));
      const info: SegmentInfo = {
        seq,
        file: new RecordFile(join(this.dir, name)),
        minT: Infinity,
        maxT: -Infinity,
        chunks: 0,
      };
      const footer = readFooter(info.file.path, info.file.bytes);
      const entries = footer ??
        this.#rebuild(info, i === names.length - 1, corrupt);
      for (let k = 0; k < entries.n; k++) {
        span.id = entries.id(k);
        span.minT = entries.minT(k);
        span.maxT = entries.maxT(k);
        if (span.minT < info.minT) info.minT = span.minT;
        if (span.maxT > info.maxT) info.maxT = span.maxT;
        visit(span);
      }
      info.chunks = entries.n;
      // Not cached: only reads fill the cache.
      if (footer) {
        info.footer = { at: footer.dataEnd, bytes: footer.bytes.length };
      }
      this.segments.push(info);
      this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
    });
  }

  /**
   * Reads a segment without a good footer record by record, drops its bad
   * runs and footers from the file, and indexes it: in memory when it is
   * the newest and may take more chunks, else as a footer written by the
   * next write. Returns its chunks.
   */
  #rebuild(
    info: SegmentInfo,
    newest: boolean,
    corrupt: (path: string, runs: number) => void,
  ): FooterEntries {
    let bytes = info.file.read();
    let scan = _scanSegment(bytes);
    if (scan.dirty) {
      // Rewritten without them: later appends follow good data.
      bytes = _kept(bytes, scan.keep);
      info.file.replace(bytes);
      const runs = scan.badRuns;
      scan = _scanSegment(bytes);
      if (runs > 0) corrupt(info.file.path, runs);
    }
    const c = scan.chunks;
    if (newest && !scan.foreign && info.file.bytes < this.segmentBytes) {
      const index = new SegmentIndex();
      for (let k = 0; k < c.n; k++) {
        index.add(
          c.ids[k],
          c.mins[k],
          c.maxs[k],
          c.ats[k],
          c.ats[k] - c.starts[k],
        );
      }
      index.end = c.n > 0 ? c.ends[c.n - 1] : 0;
      info.index = index;
    } else if (c.n > 0) this.#close(info, c);
    return c;
  }

  /**
   * Closes `seg`: builds its footer from `entries` (its index's by default)
   * for the next write to append, and drops its index from memory. A
   * footer too big for a record leaves the index in memory.
   */
  #close(
    seg: SegmentInfo,
    entries: FooterEntries | undefined = seg.index,
  ): void {
    if (!entries || entries.n === 0 || seg.footer || seg.pending) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeFooter(entries, seg.file.bytes);
    } catch (error) {
      if (error instanceof RangeError) {
        seg.index?.trim();
        return;
      }
      throw error;
    }
    seg.pending = Footer.parse(bytes, seg.file.bytes);
    seg.index = undefined;
  }

  /** Appends the footers built since the last write (the budget counted them). */
  #writeFooters(): void {
    for (const seg of this.segments) {
      const footer = seg.pending;
      if (!footer) continue;
      seg.pending = undefined;
      // Appended to since (it should not be): the next load rebuilds it.
      if (seg.file.bytes !== footer.dataEnd) continue;
      seg.file.append(footer.bytes);
      // Not cached: only reads fill the cache.
      seg.footer = { at: footer.dataEnd, bytes: footer.bytes.length };
    }
  }

  /**
   * Appends encoded chunks, starting new segments at `segmentBytes`
   * (first, the footers of the segments closed before).
   */
  write(e: EncodedChunks): void {
    this.#writeFooters();
    let from = 0;
    let i = 0;
    while (i < e.ends.length) {
      let seg = this.segments[this.segments.length - 1];
      // Append only to the newest segment ever made: when it went (budget,
      // retention), an older one left must not take new data.
      if (
        !seg || !seg.index || seg.footer ||
        seg.file.bytes >= this.segmentBytes || seg.seq !== this.#nextSeq - 1
      ) {
        // The segment before takes no more chunks.
        if (seg?.index) this.#close(seg);
        const seq = this.#nextSeq++;
        seg = {
          seq,
          file: new RecordFile(join(this.dir, segmentName(seq))),
          minT: Infinity,
          maxT: -Infinity,
          chunks: 0,
          index: new SegmentIndex(),
        };
        this.segments.push(seg);
      }
      // Take records until the segment is full (at least one).
      let to = from;
      const room = this.segmentBytes - seg.file.bytes;
      const first = i;
      do {
        if (e.minT[i] < seg.minT) seg.minT = e.minT[i];
        if (e.maxT[i] > seg.maxT) seg.maxT = e.maxT[i];
        seg.chunks++;
        to = e.ends[i++];
      } while (i < e.ends.length && e.ends[i] - from <= room);
      const base = seg.file.bytes - from;
      seg.file.append(e.bytes.subarray(from, to));
      this.#index(seg.index!, e, first, i, from, base);
      seg.index!.end = base + to;
      // Full: its footer is built now and written by the next write,
      // once the budget has counted it.
      if (seg.file.bytes >= this.segmentBytes) this.#close(seg);
      from = to;
    }
    this.chunksWritten += e.ends.length;
  }

  /** Adds records `first..i-1` of `e`, which start at `from` and landed at `base + from`, to `index`. */
  #index(
    index: SegmentIndex,
    e: EncodedChunks,
    first: number,
    i: number,
    from: number,
    base: number,
  ): void {
    // Where each record's chunk bytes landed in the file.
    const { ids, dataAt } = e;
    if (ids !== undefined && dataAt !== undefined) {
      // Known from encoding: no record parsed (and no object made) per
      // chunk, about 5,000 a flush at 57,000 series.
      for (let k = first; k < i; k++) {
        const recordAt = k === 0 ? 0 : e.ends[k - 1];
        index.add(
          ids[k],
          e.minT[k],
          e.maxT[k],
          base + dataAt[k],
          dataAt[k] - recordAt,
        );
      }
      return;
    }
    let at = from;
    for (let k = first; k < i; k++) {
      const r = parseChunkRecord(
        e.bytes,
        at + RECORD_HEADER_BYTES,
        e.ends[k],
      )!;
      const data = r.bytes.byteOffset - e.bytes.byteOffset;
      index.add(r.id, r.minT, r.maxT, base + data, data - at);
      at = e.ends[k];
    }
  }

  /** Deletes `seg`; returns its chunk count. */
  remove(seg: SegmentInfo): number {
    const at = this.segments.indexOf(seg);
    if (at < 0) return 0;
    this.segments.splice(at, 1);
    this.footers.delete(seg);
    seg.pending = undefined;
    seg.index = undefined;
    seg.file.remove();
    return seg.chunks;
  }

  /**
   * A closed segment's footer: built and not yet written, cached, or read
   * from its file (and cached); undefined when it has none.
   */
  #footerOf(seg: SegmentInfo): Footer | undefined {
    if (seg.pending) return seg.pending;
    const where = seg.footer;
    if (!where) return undefined;
    const cached = this.footers.get(seg);
    if (cached) return cached;
    let footer: Footer | undefined;
    try {
      // Its CRC was checked at load or it was written since.
      footer = Footer.parse(
        readRange(seg.file.path, where.at, where.bytes),
        where.at,
      );
    } catch {
      return undefined; // deleted by retention meanwhile
    }
    if (footer) this.footers.set(this, seg, footer);
    return footer;
  }

  /**
   * Calls `visit` for each chunk of a series `wanted` (by id) that
   * overlaps `[start, end]` and passes `overlaps` (finer: several
   * windows), segment by segment in time order, with its codec bytes at
   * `[from, to)` of `bytes` (a segment file's bytes, read once a call);
   * `overlaps` is a test, or step windows (tested with a cursor).
   * A segment's file is read only when some chunk in it is `needed`
   * (default: all are); else its chunks come with an empty `bytes` (and
   * their places, so `to - from` is their length). Within a segment, a
   * series' chunks come in time order.
   */
  readSpans(
    wanted: WantedIds,
    start: number,
    end: number,
    visit: (
      id: number,
      minT: number,
      maxT: number,
      bytes: Uint8Array,
      from: number,
      to: number,
    ) => void,
    overlaps?: ((minT: number, maxT: number) => boolean) | StepWindows,
    needed?: (
      id: number,
      minT: number,
      maxT: number,
      length: number,
    ) => boolean,
  ): void {
    wanted = _ascending(wanted);
    let test: ((id: number) => boolean) | undefined;
    const picked: number[] = [];
    const reaches = overlapsTest(overlaps);
    for (const seg of this.segments) {
      if (seg.maxT < start || seg.minT > end || seg.chunks === 0) continue;
      const entries: FooterEntries | undefined = seg.index ??
        this.#footerOf(seg);
      if (entries === undefined) {
        test ??= _predicate(wanted);
        this.#readSegment(seg, test, start, end, reaches, (r) => {
          const at = r.bytes.byteOffset;
          visit(
            r.id,
            r.minT,
            r.maxT,
            new Uint8Array(r.bytes.buffer),
            at,
            at + r.bytes.length,
          );
        });
        continue;
      }
      picked.length = 0;
      if (entries instanceof SegmentIndex) {
        test ??= _predicate(wanted);
        const t = test;
        entries.scan(start, end, (k, id, minT, maxT) => {
          if (t(id) && (!reaches || reaches(minT, maxT))) picked.push(k);
        });
      } else {
        (entries as Footer).collect(wanted, start, end, overlaps, picked);
      }
      if (picked.length === 0) continue;
      let need = needed === undefined;
      for (let j = 0; j < picked.length && !need; j++) {
        const k = picked[j];
        const length = entries.to(k) - entries.from(k);
        need = needed!(entries.id(k), entries.minT(k), entries.maxT(k), length);
      }
      let bytes: Uint8Array = NO_BYTES;
      if (need) {
        try {
          // The footer comes along: one read, no buffer to zero first.
          bytes = readFileSync(seg.file.path);
        } catch {
          continue; // deleted by retention meanwhile
        }
      }
      for (const k of picked) {
        const to = entries.to(k);
        if (need && to > bytes.length) continue; // not there (cut short?)
        visit(
          entries.id(k),
          entries.minT(k),
          entries.maxT(k),
          bytes,
          entries.from(k),
          to,
        );
      }
    }
  }

  /**
   * Calls `visit` for each chunk record of a series `wanted` (by id) that
   * overlaps `[start, end]` and passes `overlaps` (finer: several windows),
   * segment by segment in time order; within a segment, a series' chunks
   * come in time order.
   */
  read(
    wanted: WantedIds,
    start: number,
    end: number,
    visit: (r: ChunkRecord) => void,
    overlaps?: (minT: number, maxT: number) => boolean,
  ): void {
    wanted = _ascending(wanted);
    let test: ((id: number) => boolean) | undefined;
    const picked: number[] = [];
    for (const seg of this.segments) {
      if (seg.maxT < start || seg.minT > end || seg.chunks === 0) continue;
      const footer = seg.index ? undefined : this.#footerOf(seg);
      if (!footer) {
        test ??= _predicate(wanted);
        this.#readSegment(seg, test, start, end, overlaps, visit);
        continue;
      }
      picked.length = 0;
      footer.pick(wanted, start, end, (k) => {
        if (!overlaps || overlaps(footer.minT(k), footer.maxT(k))) {
          picked.push(k);
        }
      });
      if (picked.length === 0) continue;
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(seg.file.path);
      } catch {
        continue; // deleted by retention meanwhile
      }
      for (const k of picked) {
        const to = footer.to(k);
        if (to > bytes.length) continue; // not there (cut short?)
        visit(
          _recordAt(
            bytes,
            footer.id(k),
            footer.minT(k),
            footer.maxT(k),
            footer.from(k),
            to,
          ),
        );
      }
    }
  }

  /** {@linkcode read} of one segment, walking its records. */
  #readSegment(
    seg: SegmentInfo,
    wanted: (id: number) => boolean,
    start: number,
    end: number,
    overlaps: ((minT: number, maxT: number) => boolean) | undefined,
    visit: (r: ChunkRecord) => void,
  ): void {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(seg.file.path);
    } catch {
      return; // deleted by retention meanwhile
    }
    // Framing was checked at load (bad runs were removed then), so reads
    // trust the lengths and skip the CRC: queries must be fast.
    let pos = 0;
    while (pos + RECORD_HEADER_BYTES <= bytes.length) {
      const len = bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16);
      const s = pos + RECORD_HEADER_BYTES;
      pos = s + len;
      if (pos > bytes.length) break;
      const r = new ByteReader(bytes, s, pos);
      if (r.u8() !== CHUNK_RECORD) continue;
      const id = r.varint();
      if (!wanted(id)) continue;
      const minT = r.f64();
      const maxT = minT + r.varint();
      if (maxT < start || minT > end) continue;
      if (overlaps && !overlaps(minT, maxT)) continue;
      const count = r.varint();
      const columns = r.u8();
      visit({ id, minT, maxT, count, columns, bytes: r.bytes(pos - r.pos) });
    }
  }
}

/**
 * The most a pending chunk costs the disk: its framed record, as
 * {@linkcode encodeChunks} writes it, and its entry in its segment's
 * footer (the budget is checked before writing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkRecordBytes, encodeChunks } from "./segments.ts";
 * import { FOOTER_ENTRY_MAX_BYTES } from "./segment_footer.ts";
 *
 * const p = { id: 1000, columns: 1, chunk: { minT: 5, maxT: 9000, count: 300, bytes: new Uint8Array(77) } };
 * assert.equal(chunkRecordBytes(p), encodeChunks([p]).bytes.length + FOOTER_ENTRY_MAX_BYTES);
 * ```
 */
export function chunkRecordBytes(p: PendingChunk): number {
  return RECORD_HEADER_BYTES + 1 + varintBytes(p.id) + 8 +
    varintBytes(p.chunk.maxT - p.chunk.minT) + varintBytes(p.chunk.count) + 1 +
    p.chunk.bytes.length + FOOTER_ENTRY_MAX_BYTES;
}

function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}
