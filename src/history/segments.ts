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
 * @module
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import { beginRecord, endRecord, RECORD_HEADER_BYTES } from "./record_frame.ts";
import { RecordFile } from "./record_file.ts";
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
 * Where a segment's chunk records are, kept in memory so a read picks
 * the chunks it wants without parsing every record, and reads the file
 * only when it needs bytes from it: entry k is series `id(k)`'s chunk
 * spanning `minT(k)..maxT(k)`, its codec bytes at `[from(k), to(k))` of
 * the file.
 *
 * 15 bytes an entry at 57,000 series (it was 28, and 40 before): the
 * index grows with what the disk holds (at the default 256 MiB budget
 * and 57,000 series about 1.7 million raw chunks), so every byte of an
 * entry is 1.7 MB. The columns: the id (16-bit while ids are below
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
export class SegmentIndex {
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
   * Its chunks' places; undefined when not known (a file rewritten at
   * load after dropping a corrupt run: reads then walk its records).
   */
  index?: SegmentIndex;
}

/** An empty buffer: the bytes of a chunk a read did not need to load. */
const NO_BYTES = new Uint8Array(0);

/** A chunk record read back. */
export interface ChunkRecord {
  /** Series id. */
  id: number;
  /** First timestamp (ms). */
  minT: number;
  /** Last timestamp (ms). */
  maxT: number;
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
  #nextSeq = 1;

  /**
   * @param dir the tier's folder (created when missing)
   * @param segmentBytes the size at which a new segment starts
   */
  constructor(dir: string, segmentBytes: number) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    mkdirSync(dir, { recursive: true });
  }

  /** Bytes the segments' indexes hold in memory. */
  get indexBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.index?.memoryBytes ?? 0;
    return n;
  }

  /** Bytes on disk. */
  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.file.bytes;
    return n;
  }

  /**
   * Reads every segment: `visit` sees each good chunk record; `corrupt`
   * hears of each file with bad runs (which were dropped from the file).
   */
  load(
    visit: (r: ChunkRecord) => void,
    corrupt: (path: string, runs: number) => void,
  ): void {
    const names = readdirSync(this.dir).filter((n) => /^\d{6,}\.seg$/.test(n))
      .sort();
    for (const name of names) {
      const seq = Number(name.slice(0, -4));
      const index = new SegmentIndex();
      const info: SegmentInfo = {
        seq,
        file: new RecordFile(join(this.dir, name)),
        minT: Infinity,
        maxT: -Infinity,
        chunks: 0,
        index,
      };
      let foreign = false;
      const runs = info.file.load((b, s, e) => {
        let r: ChunkRecord | undefined;
        try {
          r = parseChunkRecord(b, s, e);
        } catch {
          // A record with a good CRC but a bad layout: written by a newer version.
          foreign = true;
          return;
        }
        if (!r) {
          foreign = true;
          return;
        }
        info.chunks++;
        if (r.minT < info.minT) info.minT = r.minT;
        if (r.maxT > info.maxT) info.maxT = r.maxT;
        const at = r.bytes.byteOffset - b.byteOffset;
        index.add(r.id, r.minT, r.maxT, at, at - (s - RECORD_HEADER_BYTES));
        index.end = at + r.bytes.length;
        visit(r);
      });
      index.trim();
      // A record that is not a chunk: the chunks no longer lie back to
      // back (one would seem to end where the other record ends), so
      // reads walk this file's records.
      if (foreign) info.index = undefined;
      if (runs > 0) {
        // The file was rewritten without the bad runs: the offsets moved.
        info.index = undefined;
        corrupt(info.file.path, runs);
      }
      this.segments.push(info);
      this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
    }
  }

  /** Appends encoded chunks, starting new segments at `segmentBytes`. */
  write(e: EncodedChunks): void {
    let from = 0;
    let i = 0;
    while (i < e.ends.length) {
      let seg = this.segments[this.segments.length - 1];
      // Append only to the newest segment ever made: when it went (budget,
      // retention), an older one left must not take new data.
      if (
        !seg || seg.file.bytes >= this.segmentBytes ||
        seg.seq !== this.#nextSeq - 1
      ) {
        // The segment before takes no more chunks: its index, no more room.
        seg?.index?.trim();
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
      const index = seg.index;
      if (index !== undefined) {
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
        } else {
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
        index.end = base + to;
      }
      from = to;
    }
    this.chunksWritten += e.ends.length;
  }

  /** Deletes `seg`; returns its chunk count. */
  remove(seg: SegmentInfo): number {
    const at = this.segments.indexOf(seg);
    if (at < 0) return 0;
    this.segments.splice(at, 1);
    seg.file.remove();
    return seg.chunks;
  }

  /**
   * Calls `visit` for each chunk of a series `wanted` (by id) that
   * overlaps `[start, end]` and passes `overlaps` (finer: several
   * windows), segment by segment in time order, with its codec bytes at
   * `[from, to)` of `bytes` (a segment file's bytes, read once a call).
   * A segment's file is read only when some chunk in it is `needed`
   * (default: all are); else its chunks come with an empty `bytes` (and
   * their places, so `to - from` is their length).
   */
  readSpans(
    wanted: (id: number) => boolean,
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
    overlaps?: (minT: number, maxT: number) => boolean,
    needed?: (
      id: number,
      minT: number,
      maxT: number,
      length: number,
    ) => boolean,
  ): void {
    const picked: number[] = [];
    for (const seg of this.segments) {
      if (seg.maxT < start || seg.minT > end || seg.chunks === 0) continue;
      const index = seg.index;
      if (index === undefined) {
        this.#readSegment(seg, wanted, start, end, overlaps, (r) => {
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
      let need = needed === undefined;
      index.scan(start, end, (k, id, minT, maxT) => {
        if (!wanted(id)) return;
        if (overlaps && !overlaps(minT, maxT)) return;
        picked.push(k);
        if (!need && needed!(id, minT, maxT, index.to(k) - index.from(k))) {
          need = true;
        }
      });
      if (picked.length === 0) continue;
      let bytes = NO_BYTES;
      if (need) {
        try {
          bytes = readFileSync(seg.file.path);
        } catch {
          continue; // deleted by retention meanwhile
        }
      }
      for (const k of picked) {
        const to = index.to(k);
        if (need && to > bytes.length) continue; // not there (cut short?)
        visit(
          index.id(k),
          index.minT(k),
          index.maxT(k),
          bytes,
          index.from(k),
          to,
        );
      }
    }
  }

  /**
   * Calls `visit` for each chunk record of a series `wanted` (by id) that
   * overlaps `[start, end]` and passes `overlaps` (finer: several windows),
   * segment by segment in time order.
   */
  read(
    wanted: (id: number) => boolean,
    start: number,
    end: number,
    visit: (r: ChunkRecord) => void,
    overlaps?: (minT: number, maxT: number) => boolean,
  ): void {
    for (const seg of this.segments) {
      if (seg.maxT < start || seg.minT > end || seg.chunks === 0) continue;
      this.#readSegment(seg, wanted, start, end, overlaps, visit);
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
 * The framed size of a pending chunk's record, as {@linkcode encodeChunks}
 * writes it (the budget is checked before writing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkRecordBytes, encodeChunks } from "./segments.ts";
 *
 * const p = { id: 1000, columns: 1, chunk: { minT: 5, maxT: 9000, count: 300, bytes: new Uint8Array(77) } };
 * assert.equal(chunkRecordBytes(p), encodeChunks([p]).bytes.length);
 * ```
 */
export function chunkRecordBytes(p: PendingChunk): number {
  return RECORD_HEADER_BYTES + 1 + varintBytes(p.id) + 8 +
    varintBytes(p.chunk.maxT - p.chunk.minT) + varintBytes(p.chunk.count) + 1 +
    p.chunk.bytes.length;
}

function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}
