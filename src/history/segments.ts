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

/** A column of {@linkcode SegmentIndex}: 32-bit until a value needs more. */
type _Column = Uint32Array | Float64Array;

/** `a` with room for `size` entries, as 64-bit floats when `wide`. */
function _column(a: _Column, size: number, wide: boolean): _Column {
  const b = wide || a instanceof Float64Array
    ? new Float64Array(size)
    : new Uint32Array(size);
  b.set(a.subarray(0, Math.min(a.length, size)));
  return b;
}

/**
 * Where a segment's chunk records are, kept in memory (28 bytes a chunk)
 * so a read picks the chunks it wants without parsing every record, and
 * reads the file only when it needs bytes from it: entry k is series
 * `id[k]`'s chunk spanning `minT[k]..maxT[k]`, its codec bytes at
 * `[from[k], to[k])` of the file. Ids and offsets are 32-bit (a column
 * turns 64-bit if one ever is not): the index grows with what the disk
 * holds (at the default 256 MiB budget and 57,000 series about 1.7
 * million raw chunks), so 40 bytes a chunk were tens of MB of memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SegmentIndex } from "./segments.ts";
 *
 * const index = new SegmentIndex();
 * for (let k = 0; k < 40; k++) index.add(k, k * 1000, k * 1000 + 999, k * 50, k * 50 + 50);
 * index.add(2 ** 33, 1, 2, 2 ** 32 + 7, 2 ** 32 + 9);
 * assert.equal(index.n, 41);
 * assert.equal(index.to[39], 2000);
 * assert.equal(index.id[40], 2 ** 33);
 * assert.equal(index.from[40], 2 ** 32 + 7);
 * ```
 */
export class SegmentIndex {
  /** Entries. */
  n = 0;
  id: _Column = new Uint32Array(16);
  minT: Float64Array = new Float64Array(16);
  maxT: Float64Array = new Float64Array(16);
  from: _Column = new Uint32Array(16);
  to: _Column = new Uint32Array(16);

  /** Adds a chunk record's entry. */
  add(id: number, minT: number, maxT: number, from: number, to: number): void {
    const k = this.n;
    if (k === this.minT.length) {
      const size = k * 2;
      const grow = (a: Float64Array) => {
        const b = new Float64Array(size);
        b.set(a);
        return b;
      };
      this.id = _column(this.id, size, false);
      this.minT = grow(this.minT);
      this.maxT = grow(this.maxT);
      this.from = _column(this.from, size, false);
      this.to = _column(this.to, size, false);
    }
    const size = this.minT.length;
    const big = 0xffffffff;
    if (!(id >= 0 && id <= big) && this.id instanceof Uint32Array) {
      this.id = _column(this.id, size, true);
    }
    if (!(to >= 0 && to <= big) && this.to instanceof Uint32Array) {
      this.from = _column(this.from, size, true);
      this.to = _column(this.to, size, true);
    }
    this.id[k] = id;
    this.minT[k] = minT;
    this.maxT[k] = maxT;
    this.from[k] = from;
    this.to[k] = to;
    this.n = k + 1;
  }

  /** Bytes it holds in memory. */
  get memoryBytes(): number {
    return this.id.byteLength + this.minT.byteLength + this.maxT.byteLength +
      this.from.byteLength + this.to.byteLength;
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
      const runs = info.file.load((b, s, e) => {
        let r: ChunkRecord | undefined;
        try {
          r = parseChunkRecord(b, s, e);
        } catch {
          return; // a record with a good CRC but a bad layout: written by a newer version
        }
        if (!r) return;
        info.chunks++;
        if (r.minT < info.minT) info.minT = r.minT;
        if (r.maxT > info.maxT) info.maxT = r.maxT;
        const at = r.bytes.byteOffset - b.byteOffset;
        index.add(r.id, r.minT, r.maxT, at, at + r.bytes.length);
        visit(r);
      });
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
        let at = from;
        const { ids, dataAt } = e;
        if (ids !== undefined && dataAt !== undefined) {
          // Known from encoding: no record parsed (and no object made) per
          // chunk, about 5,000 a flush at 57,000 series.
          for (let k = first; k < i; k++) {
            index.add(
              ids[k],
              e.minT[k],
              e.maxT[k],
              base + dataAt[k],
              base + e.ends[k],
            );
          }
        } else {
          for (let k = first; k < i; k++) {
            const r = parseChunkRecord(
              e.bytes,
              at + RECORD_HEADER_BYTES,
              e.ends[k],
            )!;
            const off = base + r.bytes.byteOffset - e.bytes.byteOffset;
            index.add(r.id, r.minT, r.maxT, off, off + r.bytes.length);
            at = e.ends[k];
          }
        }
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
      const { id, minT, maxT, from, to } = index;
      for (let k = 0; k < index.n; k++) {
        if (maxT[k] < start || minT[k] > end || !wanted(id[k])) continue;
        if (overlaps && !overlaps(minT[k], maxT[k])) continue;
        picked.push(k);
        if (!need && needed!(id[k], minT[k], maxT[k], to[k] - from[k])) {
          need = true;
        }
      }
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
        if (need && to[k] > bytes.length) continue; // not there (cut short?)
        visit(id[k], minT[k], maxT[k], bytes, from[k], to[k]);
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
