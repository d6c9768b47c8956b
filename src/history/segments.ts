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
 * record.
 *
 * When CRCs are checked: a segment without a good footer, at load (each
 * record, as above). A segment loaded from its footer (its chunk records
 * unread, so that open stays fast) is unverified until
 * {@linkcode SegmentDir.verify} reads it, which the store calls at every
 * flush for a bounded slice ({@linkcode VERIFY_BYTES_PER_FLUSH}, the
 * newest segments first): a record whose CRC fails is dropped (the
 * segment rewritten without it, atomically, and its footer rebuilt), with
 * one warning naming the file, counted in `corruptChunksSkipped`. Until
 * then, a read checks the record of each chunk it takes from an
 * unverified segment before handing it on (once a chunk), and skips a bad
 * one (its segment is verified next). Chunks written since load were
 * framed from memory; nothing rereads a verified segment, so a byte that
 * rots while weir runs is caught by the chunk's decoder or not at all
 * until the next start.
 *
 * @module
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
} from "node:fs";
import { join } from "node:path";
import { ByteReader } from "./_bytes.ts";
import { RECORD_HEADER_BYTES, recordEnd, scanRecords } from "./record_frame.ts";
import { RecordFile } from "./record_file.ts";
import {
  encodeFooter,
  Footer,
  footerBound,
  FooterCache,
  type FooterEntries,
  overlapsTest,
  readFooter,
  readRange,
  type StepWindows,
} from "./segment_footer.ts";
import { SegmentIndex } from "./segment_index.ts";
import {
  CHUNK_HEAD_MAX,
  CHUNK_RECORD,
  type ChunkRecord,
  chunkRecordChecks,
  type ChunkRecords,
  type ChunkSpan,
  keptRecords,
  recordAt,
  scanSegment,
} from "./segment_records.ts";

export { SegmentIndex } from "./segment_index.ts";
export {
  type ChunkRecord,
  chunkRecordBytes,
  ChunkRecords,
  type ChunkSpan,
  encodeChunks,
  parseChunkRecord,
} from "./segment_records.ts";

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
  /**
   * Its chunk records' CRCs not checked yet: a segment loaded from its
   * footer, until {@linkcode SegmentDir.verify} reads it.
   */
  unverified?: boolean;
  /** A read met a chunk of it whose CRC failed: verified before the others. */
  suspect?: boolean;
  /**
   * Until it is verified, the entries of its footer a read found good (1),
   * so a chunk's record is checked once, not at every read.
   */
  good?: Uint8Array;
}

/**
 * The bytes {@linkcode SegmentDir.verify} checks a flush (the store's
 * call), at most (or one segment): 12 MiB, three segments of the default
 * 4 MiB, so a 256 MiB disk is checked in 22 flushes (under four minutes
 * at a flush every 10 s) without a long pause on a slow card. Measured
 * (2-core x86, load 4, page cache warm): 31-68 ms a slice of 24 MiB (six
 * segments), read included, on Bun and Deno; a slice of 12 MiB about
 * half.
 */
export const VERIFY_BYTES_PER_FLUSH = 12 * 1024 * 1024;

/** An empty buffer: the bytes of a chunk a read did not need to load. */
const NO_BYTES = new Uint8Array(0);

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

/** The first record of `r` from `k` on that is not dropped (`r.n` if none). */
function _nextLive(r: ChunkRecords, k: number): number {
  while (k < r.n && r.dropped(k)) k++;
  return k;
}

/** Hands `out` the records of `r` from `first` to `last` not dropped, as views of runs of them. */
function _runs(
  r: ChunkRecords,
  first: number,
  last: number,
  out: (bytes: Uint8Array) => void,
): void {
  let from = -1;
  for (let k = first; k <= last; k++) {
    if (r.dropped(k)) {
      if (from >= 0) out(r.buffer.subarray(from, r.start(k)));
      from = -1;
    } else if (from < 0) from = r.start(k);
  }
  if (from >= 0) out(r.buffer.subarray(from, r.end(last)));
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
  /** Who hears of bad records: the `corrupt` given to {@linkcode load}. */
  #corrupt?: (path: string, runs: number) => void;

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
   * footers built and not yet written, this tier's share of the footer
   * cache, and the chunks reads found good in segments not verified yet.
   */
  get indexBytes(): number {
    let n = this.footers.bytesOf(this);
    for (const s of this.segments) {
      n += (s.index?.memoryBytes ?? 0) + (s.pending?.memoryBytes ?? 0) +
        (s.good?.length ?? 0);
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
   * runs that held chunk records (which were dropped from the file), here
   * and later from {@linkcode verify}. A closed segment's chunks come
   * from its footer, its records unread (and unverified until
   * {@linkcode verify} reads them).
   */
  load(
    visit: (r: ChunkSpan) => void,
    corrupt: (path: string, runs: number) => void,
    unreadable: (path: string, error: Error) => void = (_, error) => {
      throw error;
    },
  ): void {
    this.#corrupt = corrupt;
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
      let footer: ReturnType<typeof readFooter>;
      let entries: FooterEntries;
      try {
        footer = readFooter(info.file.path, info.file.bytes);
        entries = footer ??
          this.#rebuild(info, i === names.length - 1, corrupt);
      } catch (error) {
        // A file that cannot be read (its permissions, a folder in its
        // place): left out and left as it is, told once; no new segment
        // takes its number.
        unreadable(info.file.path, error as Error);
        this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
        return;
      }
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
        info.unverified = true;
      }
      this.segments.push(info);
      this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
    });
  }

  /**
   * Reads a segment without a good footer record by record (its `bytes`,
   * read here by default), drops its bad runs and footers from the file,
   * and indexes it: in memory when it is the newest and may take more
   * chunks, else as a footer written by the next write. `corrupt` hears
   * of its bad runs of chunk records: those the scan finds, or `runs`
   * when more (found before, among records known to be chunks). Returns
   * its chunks.
   */
  #rebuild(
    info: SegmentInfo,
    newest: boolean,
    corrupt: (path: string, runs: number) => void,
    bytes: Uint8Array = info.file.read(),
    runs = 0,
  ): FooterEntries {
    let scan = scanSegment(bytes);
    if (scan.dirty) {
      // Rewritten without them: later appends follow good data.
      bytes = keptRecords(bytes, scan.keep);
      info.file.replace(bytes);
      const bad = Math.max(scan.badRuns, runs);
      scan = scanSegment(bytes);
      if (bad > 0) corrupt(info.file.path, bad);
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

  /**
   * Checks the CRCs of the chunk records of segments loaded from their
   * footers (a load reads only the footers), whole segments, the newest
   * first (one a read found a bad chunk in before the others), while the
   * bytes checked stay within `maxBytes` (at least one segment when
   * `maxBytes` is above 0). A segment with bad records is rewritten
   * without them (atomically, see `record_file.ts`), its footer rebuilt
   * and written by the next {@linkcode write}, and the `corrupt` given to
   * {@linkcode load} hears of it once. Returns the bytes checked.
   */
  verify(maxBytes: number): number {
    let checked = 0;
    while (checked < maxBytes) {
      const seg = this.#nextToVerify();
      if (!seg) break;
      const size = seg.footer?.at ?? 0;
      if (checked > 0 && checked + size > maxBytes) break;
      checked += this.#verifySegment(seg);
    }
    return checked;
  }

  /** Bytes of chunk records {@linkcode verify} has still to check. */
  get unverifiedBytes(): number {
    let n = 0;
    for (const s of this.segments) if (s.unverified) n += s.footer?.at ?? 0;
    return n;
  }

  /** The segment {@linkcode verify} checks next: a suspect, else the newest unverified. */
  #nextToVerify(): SegmentInfo | undefined {
    let newest: SegmentInfo | undefined;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i];
      if (!seg.unverified) continue;
      if (seg.suspect) return seg;
      newest ??= seg;
    }
    return newest;
  }

  /** Checks the CRCs of `seg`'s chunk records (see {@linkcode verify}); returns their bytes. */
  #verifySegment(seg: SegmentInfo): number {
    seg.unverified = seg.suspect = false;
    seg.good = undefined;
    const end = seg.footer?.at;
    if (end === undefined) return 0;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(seg.file.path);
    } catch {
      return 0; // deleted meanwhile
    }
    // Everything before the footer is chunk records back to back.
    const { corrupt, validEnd } = scanRecords(
      bytes.subarray(0, end),
      () => {},
    );
    if (corrupt === 0 && validEnd === end) return end;
    // Its footer names chunks that are gone: rebuilt from the records.
    this.footers.delete(seg);
    seg.footer = undefined;
    const entries = this.#rebuild(
      seg,
      false,
      (path, runs) => this.#corrupt?.(path, runs),
      bytes,
      Math.max(corrupt, 1),
    );
    seg.chunks = entries.n;
    return end;
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
   * Appends the records of `r` not dropped, in order, starting new
   * segments at `segmentBytes` (first, the footers of the segments closed
   * before). The bytes go to the files as views of `r`'s buffer.
   */
  write(r: ChunkRecords): void {
    this.#writeFooters();
    let k = _nextLive(r, 0);
    while (k < r.n) {
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
      const room = this.segmentBytes - seg.file.bytes;
      const first = k;
      let last = k;
      let bytes = 0;
      let chunks = 0;
      let minT = seg.minT;
      let maxT = seg.maxT;
      do {
        if (r.minT(k) < minT) minT = r.minT(k);
        if (r.maxT(k) > maxT) maxT = r.maxT(k);
        bytes += r.end(k) - r.start(k);
        chunks++;
        last = k;
        k = _nextLive(r, k + 1);
      } while (k < r.n && bytes + r.end(k) - r.start(k) <= room);
      const at = seg.file.bytes;
      // A failed append (a full disk) leaves the file as it was (see
      // RecordFile.append) and the segment's counts too.
      seg.file.appendWith((out) => _runs(r, first, last, out));
      seg.minT = minT;
      seg.maxT = maxT;
      seg.chunks += chunks;
      this.#index(seg.index!, r, first, last, at);
      seg.index!.end = at + bytes;
      // Full: its footer is built now and written by the next write,
      // once the budget has counted it.
      if (seg.file.bytes >= this.segmentBytes) this.#close(seg);
    }
    this.chunksWritten += r.live;
  }

  /** Adds the records of `r` from `first` to `last` not dropped, which landed from `at` on, to `index`. */
  #index(
    index: SegmentIndex,
    r: ChunkRecords,
    first: number,
    last: number,
    at: number,
  ): void {
    for (let k = first; k <= last; k++) {
      if (r.dropped(k)) continue;
      const head = r.dataAt(k) - r.start(k);
      index.add(r.id(k), r.minT(k), r.maxT(k), at + head, head);
      at += r.end(k) - r.start(k);
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
    seg.good = undefined;
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
      this.#visitPicked(seg, entries, picked, need, (k, bytes, from, to) => {
        visit(entries.id(k), entries.minT(k), entries.maxT(k), bytes, from, to);
      });
    }
  }

  /**
   * The bytes of chunks `picked` of `seg` (entries of `entries`): the
   * whole file when they are a large share of it (one read), else only
   * their records, read range by range (neighbours within 4 KiB read as
   * one) into one buffer, where chunk `picked[j]`'s bytes are at its
   * place in the file less `shift[j]`. A rollup or a query of a few
   * series in a segment of all of them reads what it needs, not the
   * file. Undefined when the file is gone (retention meanwhile).
   */
  #chunkBytes(
    seg: SegmentInfo,
    entries: FooterEntries,
    picked: readonly number[],
  ): { bytes: Uint8Array; shift: Float64Array | undefined } | undefined {
    const n = picked.length;
    // Each range from where its record can start (the header's widest).
    const starts = new Float64Array(n);
    let total = 0;
    for (let j = 0; j < n; j++) {
      const k = picked[j];
      starts[j] = Math.max(0, entries.from(k) - CHUNK_HEAD_MAX);
      total += entries.to(k) - starts[j];
    }
    const size = seg.file.bytes;
    if (total * 4 >= size || entries instanceof SegmentIndex) {
      try {
        // The footer comes along: one read, no buffer to zero first.
        return { bytes: readFileSync(seg.file.path), shift: undefined };
      } catch {
        return undefined;
      }
    }
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) =>
      starts[a] - starts[b]
    );
    // Runs of ranges: [fileFrom, fileTo) each, and where it lands.
    const runFrom: number[] = [];
    const runTo: number[] = [];
    const runOf = new Int32Array(n);
    for (const j of order) {
      const a = starts[j];
      const b = entries.to(picked[j]);
      const r = runFrom.length - 1;
      if (r >= 0 && a <= runTo[r] + 4096) {
        if (b > runTo[r]) runTo[r] = b;
      } else {
        runFrom.push(a);
        runTo.push(b);
      }
      runOf[j] = runFrom.length - 1;
    }
    const placed = new Float64Array(runFrom.length);
    let length = 0;
    for (let r = 0; r < runFrom.length; r++) {
      placed[r] = length;
      length += runTo[r] - runFrom[r];
    }
    const bytes = new Uint8Array(length);
    let fd: number;
    try {
      fd = openSync(seg.file.path, "r");
    } catch {
      return undefined;
    }
    try {
      for (let r = 0; r < runFrom.length; r++) {
        const want = runTo[r] - runFrom[r];
        let got = 0;
        while (got < want) {
          const m = readSync(
            fd,
            bytes,
            placed[r] + got,
            want - got,
            runFrom[r] + got,
          );
          if (m === 0) break;
          got += m;
        }
      }
    } finally {
      closeSync(fd);
    }
    const shift = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const r = runOf[j];
      shift[j] = runFrom[r] - placed[r];
    }
    return { bytes, shift };
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
      this.#visitPicked(seg, footer, picked, true, (k, bytes, from, to) => {
        visit(
          recordAt(
            bytes,
            footer.id(k),
            footer.minT(k),
            footer.maxT(k),
            from,
            to,
          ),
        );
      });
    }
  }

  /**
   * Hands `visit` each of entries `picked` of `seg` with where its chunk
   * bytes lie: read (#chunkBytes) when `read`, else an empty buffer and
   * the entry's place in the file. A chunk cut short is skipped, and so is
   * one whose record fails its check while the segment is not verified.
   */
  #visitPicked(
    seg: SegmentInfo,
    entries: FooterEntries,
    picked: readonly number[],
    read: boolean,
    visit: (k: number, bytes: Uint8Array, from: number, to: number) => void,
  ): void {
    let bytes: Uint8Array = NO_BYTES;
    let shift: Float64Array | undefined;
    if (read) {
      const got = this.#chunkBytes(seg, entries, picked);
      if (got === undefined) return; // deleted by retention meanwhile
      bytes = got.bytes;
      shift = got.shift;
    }
    // Not verified yet: each chunk's record checked before it is used.
    const check = read && seg.unverified === true;
    for (let j = 0; j < picked.length; j++) {
      const k = picked[j];
      const d = shift ? shift[j] : 0;
      const from = entries.from(k) - d;
      const to = entries.to(k) - d;
      if (read && to > bytes.length) continue; // not there (cut short?)
      if (check && !this.#checks(seg, k, bytes, from, to)) continue;
      visit(k, bytes, from, to);
    }
  }

  /**
   * Whether entry k of the footer of `seg` (not verified yet) names a
   * whole chunk record whose CRC holds, its codec bytes at `[from, to)` of
   * `bytes`: remembered once it does; else `seg` is verified first.
   */
  #checks(
    seg: SegmentInfo,
    k: number,
    bytes: Uint8Array,
    from: number,
    to: number,
  ): boolean {
    const good = seg.good ??= new Uint8Array(seg.chunks);
    if (good[k] === 1) return true;
    if (!chunkRecordChecks(bytes, from, to)) {
      seg.suspect = true;
      return false;
    }
    good[k] = 1;
    return true;
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
    // trust the lengths and skip the CRC (queries must be fast), unless
    // the segment is not verified yet.
    const check = seg.unverified === true;
    let pos = 0;
    while (pos + RECORD_HEADER_BYTES <= bytes.length) {
      const len = bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16);
      const s = pos + RECORD_HEADER_BYTES;
      const at = pos;
      pos = s + len;
      if (pos > bytes.length) break;
      if (check && recordEnd(bytes, at) !== pos) {
        seg.suspect = true;
        continue;
      }
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
