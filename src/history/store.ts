/**
 * The history store: series by id, their samples in a raw tier and window
 * aggregates in downsampled tiers, kept in memory (open chunks and rings
 * of sealed chunks) and, with a `dir`, on disk (segments per tier, a
 * series file, a head log for what is not yet in a segment).
 *
 * Writes: `append()` is the hot path (no allocation but a chunk's growth
 * and the sealed chunk). `flush()` (every `flushIntervalMs`, and at
 * `close()`) writes sealed chunks to segments and the open state to the
 * head log, each with `fdatasync`, then applies retention and the byte
 * budget. Reads merge disk and memory per series, sorted, without
 * duplicates.
 *
 * Windows: the first downsampled tier aggregates samples (one window open
 * per series); coarser tiers cascade from its rows (one window open per
 * series too, see `tier.ts`). A window is emitted when a sample (a row)
 * passes its end, or lands exactly on it. Open windows are not written:
 * at open they are rebuilt from the raw samples (disk and head log), and
 * the coarser ones from the finer tier's rows, which hold them exactly.
 *
 * Crash safety: what a flush wrote survives a SIGKILL or power cut (each
 * file synced before the next depends on it); samples since the last
 * flush are lost. A torn or corrupt record is dropped with one warning
 * per file and the file rewritten without it: at open for the head log,
 * the series file and open segments; for a closed segment (opened from
 * its footer) within the first flushes after open (`SegmentDir.verify`,
 * 12 MiB a flush), and a read that meets it before skips it.
 *
 * Over 800 lines on purpose: this file is the one place that orders the
 * writes (series before the chunks that name them, segments before the
 * head log), applies retention and the budget before writing, and
 * recovers at open; splitting it would spread that ordering over files.
 * The parts without that state live in `tier.ts`, `open_chunks.ts`,
 * `segments.ts`, `head_log.ts`, `merge.ts`, `store_options.ts` and
 * `store_stats.ts`.
 *
 * @module
 */
import { existsSync, mkdirSync } from "node:fs";
import { clearInterval, setInterval } from "node:timers";
import { join } from "node:path";
import { ByteWriter } from "./_bytes.ts";
import { LOCK_BYTES, lockDir } from "./dir_lock.ts";
import { HistoryOpenError, refusedWrite } from "./history_open_error.ts";
import { CorruptChunkError, decodeChunk } from "./codec.ts";
import { decodeAnyChunk } from "./frame_chunk.ts";
import { SpanList, stepPoints, StepRows } from "./step_read.ts";
import { DecodedChunks } from "./decoded_chunks.ts";
import {
  applyHeadPart,
  encodeHeadRecord,
  headRecordBytes,
  parseHeadRecord,
} from "./head_log.ts";
import { writeHeader } from "./_bits.ts";
import { RecordFile } from "./record_file.ts";
import { FOOTER_ENTRY_MAX_BYTES, FooterCache } from "./segment_footer.ts";
import {
  type ChunkRecord,
  type ChunkRecords,
  SegmentDir,
  VERIFY_BYTES_PER_FLUSH,
} from "./segments.ts";
import { growCapacity } from "./open_chunks.ts";
import { SeriesIndex } from "./series_index.ts";
import { isStaleAt, isStaleNumber } from "./promql/_points.ts";
import { encodeIndexedSeries, parseSeriesRecord } from "./series_file.ts";
import { OpenChunkSource, type Piece, Tier } from "./tier.ts";
import type {
  HistoryReader,
  LabelMatcher,
  SeriesKind,
  SeriesLabels,
  SeriesPoints,
  TierInfo,
  WindowColumnName,
} from "./types.ts";
import { mergePieces, mergeSamples, type Steps } from "./merge.ts";
import {
  checkTiers,
  defaultTiers,
  type HistoryStoreOptions,
  lastTierRows,
  MIB,
  MIDDLE_TIER_ROWS,
} from "./store_options.ts";
import {
  FLUSH_BUCKETS,
  type HistoryStats,
  type TierStats,
} from "./store_stats.ts";

export { defaultTiers, FLUSH_BUCKETS };

/** A downsampled tier this coarse or coarser keeps lean open chunks (`OpenChunks.lean`). */
const LEAN_RESOLUTION_MS = 600_000;
/**
 * So does one this coarse whose chunks hold at most
 * {@linkcode MIDDLE_TIER_ROWS} rows: a row a minute a series costs a
 * decode of its chunk so far (a few rows), about 40 ms a minute at 57,000
 * series, for 92 bytes a series (5 MB) less.
 */
const LEAN_SHORT_RESOLUTION_MS = 60_000;
export type { HistoryStats, HistoryStoreOptions, TierStats };

/** Head records are written out once this many bytes of them are buffered. */
const HEAD_FLUSH_BYTES = 256 * 1024;
/**
 * The most the head records' buffer is made: what it holds before it is
 * written out and a record of up to 4 KiB past that (a part of ~10 new
 * samples a tier takes tens of bytes; whole chunks, at a checkpoint, may
 * grow it further, as ByteWriter grows).
 */
const HEAD_BUFFER_BYTES = HEAD_FLUSH_BYTES + 4096;
/**
 * New series records are written in pieces of about this size, through
 * the head log's buffer, which then does not grow for them beyond where
 * it starts (a sixteenth of its most: the demo's flushes need no more).
 */
const SERIES_FLUSH_BYTES = 15 * 1024;
export type { TierOptions } from "./store_options.ts";

/** An open chunk as the head log holds it: its stream apart from its header. */
interface _LoggedChunk {
  columns: number;
  rows: number;
  stream: Uint8Array;
  length: number;
}

/** Splits a whole chunk from the head log into header fields and stream. */
function _loggedChunk(chunk: Uint8Array): _LoggedChunk {
  if (chunk.length < 3) {
    return { columns: 0, rows: 0, stream: new Uint8Array(0), length: 0 };
  }
  // Version, columns, then the row count as a varint (see codec.ts).
  let rows = 0;
  let scale = 1;
  let at = 2;
  while (at < chunk.length) {
    const b = chunk[at++];
    rows += (b & 127) * scale;
    scale *= 128;
    if (b < 128) break;
  }
  const stream = chunk.slice(at);
  return { columns: chunk[1], rows, stream, length: stream.length };
}

interface Disk {
  series: RecordFile;
  head: RecordFile;
  tiers: SegmentDir[];
  /** Head log size right after its last rewrite. */
  headBase: number;
}

/** What {@linkcode HistoryStore.onAppend} calls. */
export type AppendListener = (
  t: number,
  refs: Int32Array,
  values: Float64Array,
  n: number,
) => void;

/**
 * The on-device time-series store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HistoryStore } from "./store.ts";
 *
 * const store = await HistoryStore.open();
 * const ref = store.seriesRef({ __name__: "queue_depth", flow: "a" }, "gauge");
 * for (let s = 1; s <= 120; s++) store.append(ref, s * 1000, s % 7);
 * const [raw] = store.select([{ name: "flow", type: "=", value: "a" }], 0, 10_000, 0);
 * assert.deepEqual([...raw.value.subarray(0, 3)], [1, 2, 3]);
 * // The "1m" tier: the windows (0, 60 s] and (60 s, 120 s] are complete
 * // (the sample at 120 s is on the second one's end: nothing more can come).
 * const [minute] = store.select([{ name: "__name__", type: "=", value: "queue_depth" }], 0, 200_000, 1);
 * assert.deepEqual([...minute.t], [60_000, 120_000]);
 * assert.deepEqual([minute.count![0], minute.max![0]], [60, 6]);
 * await store.close();
 * ```
 */
export class HistoryStore implements HistoryReader {
  /**
   * The tiers, raw first. Without a `dir`, a tier's `retentionMs` is what
   * its ring of `memoryChunks` chunks reaches for sure when that is
   * shorter than the retention asked for (about an hour of raw at 1 s).
   */
  readonly tiers: readonly TierInfo[];
  #index = new SeriesIndex();
  #tiers: Tier[];
  #lastT = new Float64Array(0);
  #firstT = new Float64Array(0);
  #counter = new Uint8Array(0);
  #dirty = new Uint8Array(0);
  /**
   * By series: 1 once its last sample is a staleness marker (it left the
   * collector): its open windows are closed as soon as they are over, not
   * after `staleMs` of silence.
   */
  #ended = new Uint8Array(0);
  #disk: Disk | undefined;
  #seriesWritten = 0;
  #warn: (message: string) => void;
  #info: (message: string) => void;
  #now: () => number;
  #maxDiskBytes: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;
  #closed = false;
  #samples = 0;
  #outOfOrder = 0;
  #corrupt = 0;
  #dropped: { retention: number; budget: number }[];
  #flushes = 0;
  #lastFlush = 0;
  #flushSum = 0;
  #flushBuckets = FLUSH_BUCKETS.map(() => 0);
  #budgetWarned = false;
  /** A flush failed: the next one rewrites the head log whole. */
  #wholeHeadNext = false;
  /**
   * The buffer head records are written through, kept from flush to
   * flush (made lazily: a store without a dir writes none).
   */
  #headWriter: ByteWriter | undefined;
  #decodeWarned = false;
  /** The chunks of one series in a step read, reused (reads are synchronous). */
  #spanList = new SpanList();
  /** Decoded raw chunks, kept for the next query (`decoded_chunks.ts`). */
  #decoded: DecodedChunks;
  #staleMs: number;
  #unlock: (() => void) | undefined;
  /** The newest sample time of any series. */
  #latest = -Infinity;
  /** The last sample time appended, and the end of its first-tier window. */
  #windowT = NaN;
  #windowEnd = 0;
  /** appendBatch()'s samples that pass, handed to the raw tier at once. */
  /** See onAppend(). */
  #onAppend: AppendListener[] = [];
  #batchRefs = new Int32Array(0);
  #batchValues = new Float64Array(0);

  private constructor(options: HistoryStoreOptions) {
    const intervalMs = options.intervalMs ?? 1000;
    if (!Number.isInteger(intervalMs) || intervalMs <= 0) {
      throw new RangeError(
        `Cannot open history store: intervalMs must be a positive integer, received ${intervalMs}`,
      );
    }
    const tiers = options.tiers ?? defaultTiers(intervalMs);
    checkTiers(tiers, intervalMs);
    this.#maxDiskBytes = options.maxDiskBytes ?? 256 * MIB;
    if (!(this.#maxDiskBytes > 0)) {
      throw new RangeError(
        `Cannot open history store: maxDiskBytes must be positive, received ${this.#maxDiskBytes}`,
      );
    }
    this.#warn = options.onWarning ?? ((m) => console.warn(m));
    this.#info = options.onInfo ?? ((m) => console.info(m));
    this.#now = options.now ?? Date.now;
    this.#staleMs = options.staleMs ?? 300_000;
    this.#decoded = new DecodedChunks(options.decodedCacheBytes ?? 64 * MIB);
    // With a disk, sealed chunks are read back from it (the page cache keeps
    // recent ones warm): memory stays at the open chunks.
    const ring = options.memoryChunks ?? (options.dir ? 0 : 32);
    // Small chunks keep the open chunks small when sealed ones go to disk;
    // in a store without a dir the ring is all the history there is, and
    // a chunk of a coarser window each keeps its per-chunk cost (and the
    // time the ring's chunks reach) as it was.
    const onDisk = options.dir !== undefined;
    const rowsOf = tiers.map((t, k) =>
      t.chunkRows ??
        (k === 0
          ? 120
          : k === tiers.length - 1
          ? lastTierRows(t.resolutionMs, onDisk)
          : onDisk
          ? MIDDLE_TIER_ROWS
          : tiers[k + 1].resolutionMs / t.resolutionMs)
    );
    const configured = tiers.map((t) =>
      Object.freeze({
        name: t.name,
        resolutionMs: t.resolutionMs,
        retentionMs: t.retentionMs,
      })
    );
    // What readers are told a tier keeps: without a dir, no more than its
    // ring reaches for sure (all its chunks but one full: the first may be
    // short), whatever the retention says. The query's tier choice reads
    // it: a range longer than the ring reaches goes to a coarser tier,
    // where raw would have answered from part of it.
    this.tiers = onDisk ? configured : configured.map((t, k) => {
      const reach = Math.max(1, ring - 1) * rowsOf[k] * t.resolutionMs;
      return reach >= t.retentionMs
        ? t
        : Object.freeze({ ...t, retentionMs: reach });
    });
    this.#tiers = tiers.map((t, k) => {
      const rows = rowsOf[k];
      return new Tier(
        k,
        configured[k],
        rows,
        ring,
        onDisk,
        // Default-sized chunks are staggered (series that start together
        // would all fill their chunks at once, and the blocks they hold
        // then stay allocated); explicit sizes are kept exact, and so
        // are the coarser-window chunks of a store without a dir.
        t.chunkRows === undefined && (k === 0 || onDisk),
        // Rows that come at most every 10 minutes, or every minute into
        // chunks of a few rows: the column state of one series at a time,
        // rebuilt from its chunk (OpenChunks.lean).
        k > 0 &&
          (t.resolutionMs >= LEAN_RESOLUTION_MS ||
            (t.resolutionMs >= LEAN_SHORT_RESOLUTION_MS &&
              rows <= MIDDLE_TIER_ROWS)),
      );
    });
    for (let k = 1; k + 1 < this.#tiers.length; k++) {
      this.#tiers[k].feed(this.#tiers[k + 1]);
    }
    this.#dropped = tiers.map(() => ({ retention: 0, budget: 0 }));
    if (options.dir !== undefined) {
      const root = options.dir;
      try {
        mkdirSync(root, { recursive: true });
      } catch (e) {
        const code = (e as { code?: unknown })?.code;
        throw new HistoryOpenError(
          root,
          code === "EEXIST" || code === "ENOTDIR"
            ? "a file is in the way (it must be a folder)"
            : code === "EACCES" || code === "EPERM"
            ? `no permission to create it (${code}); create it for the user weir runs as, or run weir as a user who may`
            : code === "EROFS"
            ? `cannot create it: ${refusedWrite(e)}`
            : (e as Error)?.message ?? String(e),
          { cause: e },
        );
      }
      // Before anything is made in it: a folder another process holds, or
      // whose lock cannot be taken, is left as it was.
      const unlock = lockDir(join(root, "LOCK"));
      try {
        const segmentBytes = options.segmentBytes ??
          Math.min(
            4 * MIB,
            Math.max(4096, Math.floor(this.#maxDiskBytes / 32)),
          );
        // One cache of closed segments' footers for all tiers.
        const footers = new FooterCache();
        this.#disk = {
          series: new RecordFile(join(root, "series.log")),
          head: new RecordFile(join(root, "head.log")),
          tiers: tiers.map((t) =>
            new SegmentDir(join(root, t.name), segmentBytes, { footers })
          ),
          headBase: 0,
        };
      } catch (e) {
        unlock();
        throw e;
      }
      this.#unlock = unlock;
    }
  }

  /**
   * Opens a store: with a `dir`, takes its lock (`<dir>/LOCK`: a folder
   * another live process holds is refused; a crashed one's lock is taken
   * over), loads what is there (a corrupt or torn record is dropped with
   * one warning per file, a closed segment's within the first flushes;
   * everything else loads) and flushes every `flushIntervalMs`. A folder
   * that cannot be made, locked or read rejects with a
   * {@linkcode HistoryOpenError}; a bad option with a `RangeError`.
   */
  static open(options: HistoryStoreOptions = {}): Promise<HistoryStore> {
    let store: HistoryStore | undefined;
    try {
      store = new HistoryStore(options);
      if (store.#disk) store.#load(store.#disk);
    } catch (error) {
      if (store) store.#unlock?.();
      return Promise.reject(_openError(error, options.dir));
    }
    if (store.#disk) {
      const every = options.flushIntervalMs ?? 10_000;
      if (every > 0) {
        const opened = store;
        // A failure is said once, not at every flush while it lasts (a
        // full disk), and so is the first flush that works again.
        let failing: string | undefined;
        store.#timer = setInterval(() => {
          opened.flush().then(() => {
            if (failing === undefined) return;
            failing = undefined;
            opened.#info(
              "history: flushes work again; the samples held meanwhile are on disk",
            );
          }, (error) => {
            const message = (error as Error).message;
            if (message === failing) return;
            failing = message;
            opened.#warn(
              `history: flush failed: ${message}; recent samples are held in memory and written by the first flush that works (said once while it lasts)`,
            );
          });
        }, every);
        // Flushing must not keep a process alive that has nothing else to do
        // (node:timers gives an unref()-able timer on Deno and Bun alike).
        store.#timer.unref();
      }
    }
    return Promise.resolve(store);
  }

  /** The newest sample time of any series (ms); `-Infinity` when empty. */
  newestTime(): number {
    return this.#latest;
  }

  /**
   * The oldest raw sample time the store may still hold (ms): the first
   * sample of the oldest series, or the raw tier's retention before the
   * newest sample when that is later; `Infinity` when empty.
   */
  oldestRawTime(): number {
    const first = this.oldestTime();
    if (first === Infinity) return Infinity;
    return Math.max(first, this.#latest - this.tiers[0].retentionMs);
  }

  /**
   * The oldest sample time of any series (ms), in whichever tier it is
   * kept: no tier holds a point before it; `Infinity` when empty. Read
   * back from the points on disk at open, so it moves forward as
   * retention removes them, at the next start.
   */
  oldestTime(): number {
    let first = Infinity;
    const n = this.#index.size;
    for (let i = 0; i < n; i++) {
      if (this.#firstT[i] < first) first = this.#firstT[i];
    }
    return first;
  }

  /**
   * The id of a series (created on first use). A known series keeps the
   * kind it was created with.
   */
  seriesRef(labels: SeriesLabels, kind: SeriesKind): number {
    const known = this.#index.find(labels);
    if (known >= 0) return known;
    // Not ref(): that would look the labels up a second time.
    const id = this.#index.set(this.#index.size, labels, kind);
    this.#grow(id + 1);
    this.#counter[id] = kind === "counter" ? 1 : 0;
    return id;
  }

  /**
   * Sizes the per-series state for `n` series in all at once (see
   * `SampleTarget.reserveSeries`: the sampler's first pass) instead of
   * growing it series by series.
   */
  reserveSeries(n: number): void {
    if (n > this.#index.size) this.#grow(n);
  }

  /**
   * Appends sample `(t, v)` to series `ref`. A `t` not after the series'
   * last sample is dropped and counted.
   */
  append(ref: number, t: number, v: number): void {
    if (!(t > this.#lastT[ref])) {
      if (!(this.#index.has(ref))) {
        throw new RangeError(
          `Cannot append to history: no series has ref ${ref}`,
        );
      }
      this.#outOfOrder++;
      return;
    }
    if (Math.floor(t) !== t || t > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(
        `Cannot append to history: t must be an integer number of ms, received ${t}`,
      );
    }
    if (this.#lastT[ref] === -Infinity) this.#firstT[ref] = t;
    this.#lastT[ref] = t;
    if (t > this.#latest) this.#latest = t;
    if (this.#onAppend.length > 0) {
      const refs = Int32Array.of(ref);
      const values = Float64Array.of(v);
      for (const listener of this.#onAppend) listener(t, refs, values, 1);
    }
    this.#dirty[ref] = 1;
    this.#samples++;
    const tiers = this.#tiers;
    tiers[0].appendSample(ref, t, v);
    const stale = isStaleNumber(v);
    this.#ended[ref] = stale ? 1 : 0;
    if (tiers.length > 1 && !stale) {
      // Only the first downsampled tier sees samples; coarser ones cascade.
      const tier = tiers[1];
      const agg = tier.aggregator!;
      const counter = this.#counter[ref] === 1;
      // A tick's samples share a time: its window end is worked out once.
      if (t !== this.#windowT) {
        const res = agg.resolutionMs;
        this.#windowT = t;
        this.#windowEnd = Math.ceil(t / res) * res;
      }
      const windowEnd = this.#windowEnd;
      const end = agg.addTo(ref, windowEnd, v, counter);
      if (end !== 0) tier.appendRow(ref, end, agg.row, counter ? 6 : 5);
      // A sample on the window's end completes it: times only go up. (A
      // window ending at 0 reads as never open: a sample at t = 0 has no
      // minute row, rather than the row another series left in agg.row.)
      if (t === windowEnd && agg.take(ref) !== 0) {
        tier.appendRow(ref, t, agg.row, counter ? 6 : 5);
      }
    }
  }

  /**
   * Appends one tick's samples: `values[i]` at `t` to series `refs[i]`,
   * for `i < n`. The same as {@linkcode append} for each in turn (a ref
   * whose last sample is not before `t`, a repeated one included, is
   * dropped and counted; an unknown ref throws after the samples before
   * it), in one loop: what the sampler hands over after each pass.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HistoryStore } from "./store.ts";
   *
   * const store = await HistoryStore.open();
   * const a = store.seriesRef({ __name__: "a" }, "gauge");
   * const b = store.seriesRef({ __name__: "b" }, "counter");
   * const refs = new Int32Array([a, b, a]);
   * store.appendBatch(refs, new Float64Array([1, 2, 3]), 3, 1000);
   * const [got] = store.select([{ name: "__name__", type: "=", value: "a" }], 0, 2000, 0);
   * assert.deepEqual([...got.value], [1]);
   * assert.equal(store.stats().outOfOrderDropped, 1);
   * await store.close();
   * ```
   */
  appendBatch(
    refs: Int32Array,
    values: Float64Array,
    n: number,
    t: number,
  ): void {
    if (n <= 0) return;
    // Thrown at the first sample that is not dropped, as append() would.
    const badT = Math.floor(t) !== t || t > Number.MAX_SAFE_INTEGER;
    // The samples that pass go to the raw tier at once: `refs` and
    // `values` themselves while none was dropped (a pass's usual case: no
    // copy, no second buffer of 12 bytes a series), a copy from the first
    // drop on.
    let ok = refs;
    let okValues = values;
    let copying = false;
    const lastT = this.#lastT;
    const firstT = this.#firstT;
    const dirty = this.#dirty;
    const ended = this.#ended;
    const counters = this.#counter;
    const tiers = this.#tiers;
    const tier = tiers.length > 1 ? tiers[1] : undefined;
    const agg = tier?.aggregator;
    let windowEnd = 0;
    if (agg) {
      const res = agg.resolutionMs;
      windowEnd = Math.ceil(t / res) * res;
    }
    let m = 0;
    try {
      for (let i = 0; i < n; i++) {
        const ref = refs[i];
        const last = lastT[ref];
        if (!(t > last)) {
          if (
            !(this.#index.has(ref))
          ) {
            throw new RangeError(
              `Cannot append to history: no series has ref ${ref}`,
            );
          }
          this.#outOfOrder++;
          if (!copying) {
            copying = true;
            if (this.#batchRefs.length < n) {
              this.#batchRefs = new Int32Array(
                Math.max(n, 2 * this.#batchRefs.length),
              );
              this.#batchValues = new Float64Array(this.#batchRefs.length);
            }
            ok = this.#batchRefs;
            okValues = this.#batchValues;
            ok.set(refs.subarray(0, m));
            okValues.set(values.subarray(0, m));
          }
          continue;
        }
        if (badT) {
          throw new RangeError(
            `Cannot append to history: t must be an integer number of ms, received ${t}`,
          );
        }
        const v = values[i];
        if (last === -Infinity) firstT[ref] = t;
        lastT[ref] = t;
        dirty[ref] = 1;
        if (copying) {
          ok[m] = ref;
          // By its bits (a NaN's payload kept on Bun too); rare: only
          // after a sample of the batch was refused.
          okValues.set(values.subarray(i, i + 1), m);
        }
        m++;
        // A staleness marker (the series left the collector) ends the
        // series in the raw tier; it is no value of a window.
        if (v !== v && isStaleAt(values, i)) {
          ended[ref] = 1;
          continue;
        }
        if (ended[ref] !== 0) ended[ref] = 0;
        if (agg) {
          // As append(): only the first downsampled tier sees samples.
          const counter = counters[ref] === 1;
          const end = agg.addTo(ref, windowEnd, v, counter);
          if (end !== 0) tier!.appendRow(ref, end, agg.row, counter ? 6 : 5);
          if (t === windowEnd && agg.take(ref) !== 0) {
            tier!.appendRow(ref, t, agg.row, counter ? 6 : 5);
          }
        }
      }
    } finally {
      if (m > 0) {
        if (t > this.#latest) this.#latest = t;
        this.#samples += m;
        tiers[0].appendSamples(ok, okValues, m, t);
        for (const listener of this.#onAppend) listener(t, ok, okValues, m);
      }
    }
  }

  /**
   * Calls `listener` with the samples each append takes (those not
   * dropped as out of order), at time `t`: the first `n` of `refs` and
   * `values`, arrays the store may reuse after the call (copy what you
   * keep; `set()` keeps a NaN's bits). Returns the function that stops it.
   * Remote write reads the newest samples this way instead of decoding
   * them back.
   */
  onAppend(listener: AppendListener): () => void {
    this.#onAppend.push(listener);
    return () => {
      const i = this.#onAppend.indexOf(listener);
      if (i >= 0) this.#onAppend.splice(i, 1);
    };
  }

  /** The labels of series `ref`, or undefined when there is none. */
  seriesLabels(ref: number): SeriesLabels | undefined {
    return ref >= 0 && ref < this.#index.size
      ? this.#index.labels(ref)
      : undefined;
  }

  /** Writes what is not yet on disk (no-op without a `dir`), then applies retention and the budget. */
  flush(): Promise<void> {
    // One flush at a time: a timer flush and close() must not interleave.
    // The chain waits for the last flush whatever became of it: a failed
    // one (a full disk for a moment) must not fail every later one, and
    // its error goes to its caller only.
    const run = (this.#flushing ?? Promise.resolve()).then(() =>
      this.#flushNow()
    );
    const settled: Promise<void> = run.then(() => {}, () => {});
    this.#flushing = settled;
    settled.then(() => {
      if (this.#flushing === settled) this.#flushing = undefined;
    });
    return run;
  }

  /** Flushes and stops the timer; the store must not be used after. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      this.#unlock?.();
    }
  }

  /** The store's own figures. */
  stats(): HistoryStats {
    const disk = this.#disk;
    return {
      samplesAppended: this.#samples,
      outOfOrderDropped: this.#outOfOrder,
      series: this.#index.count,
      tiers: this.#tiers.map((tier, k) => ({
        name: tier.info.name,
        // The segment index is memory the tier's disk part needs.
        memoryBytes: tier.memoryBytes() + (disk ? disk.tiers[k].indexBytes : 0),
        diskBytes: disk ? disk.tiers[k].bytes : 0,
        chunksWritten: disk ? disk.tiers[k].chunksWritten : 0,
        chunksDropped: { ...this.#dropped[k] },
      })),
      metaDiskBytes: disk ? disk.series.bytes + disk.head.bytes : 0,
      corruptChunksSkipped: this.#corrupt,
      flushes: this.#flushes,
      lastFlushSeconds: this.#lastFlush,
      flushSecondsSum: this.#flushSum,
      flushSecondsBuckets: [...this.#flushBuckets],
    };
  }

  /** See {@linkcode HistoryReader.select}. */
  select(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
    tier: number,
  ): SeriesPoints[] {
    if (end < start) return [];
    return this.#read(matchers, tier, start, end, undefined);
  }

  /**
   * See {@linkcode HistoryReader.selectEach}; with `accept`, only the
   * series whose ref it accepts (remote write reads a window of every
   * series in slices this way, so as not to hold the event loop). On the
   * raw tier every
   * series is decoded into one buffer, reused (and grown) from one series
   * to the next; on a downsampled tier, select()'s series one by one.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HistoryStore } from "./store.ts";
   *
   * const store = await HistoryStore.open();
   * for (const flow of ["a", "b"]) {
   *   const ref = store.seriesRef({ __name__: "x", flow }, "counter");
   *   for (let s = 1; s <= 300; s++) store.append(ref, s * 1000, s);
   * }
   * const seen: string[] = [];
   * store.selectEach([], 100_000, 200_000, 0, (p) => {
   *   seen.push(`${p.labels.flow} ${p.t.length} ${p.value[0]}`);
   * });
   * assert.deepEqual(seen, ["a 101 100", "b 101 100"]);
   * await store.close();
   * ```
   */
  selectEach(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
    tier: number,
    visit: (points: SeriesPoints) => void,
    accept?: (ref: number) => boolean,
  ): void {
    if (end < start) return;
    if (tier !== 0) {
      for (
        const p of this.#read(
          matchers,
          tier,
          start,
          end,
          undefined,
          undefined,
          undefined,
          accept,
        )
      ) {
        visit(p);
      }
      return;
    }
    this.#read(matchers, tier, start, end, undefined, undefined, visit, accept);
  }

  /**
   * See {@linkcode HistoryReader.selectLatestEach}. A series whose open
   * raw chunk ends within `[at - lookbackMs, at]` is answered from the
   * chunk's encoder state (its last time and value, no decode: an
   * instant query over 57,632 series read and decoded each one's whole
   * 5-minute lookback to keep its last sample); one whose open chunk is
   * empty or ends after `at` (a query of the past) is read as
   * {@linkcode selectEach} reads it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HistoryStore } from "./store.ts";
   *
   * const store = await HistoryStore.open();
   * for (const flow of ["a", "b"]) {
   *   const ref = store.seriesRef({ __name__: "x", flow }, "gauge");
   *   for (let s = 1; s <= 300; s++) store.append(ref, s * 1000, flow === "a" ? s : -s);
   * }
   * const seen: string[] = [];
   * const visit = (p: { labels: Record<string, string>; t: Float64Array; value: Float64Array }) =>
   *   seen.push(`${p.labels.flow} ${p.t.at(-1)} ${p.value.at(-1)}`);
   * store.selectLatestEach([], 300_000, 60_000, visit);
   * store.selectLatestEach([], 200_000, 60_000, visit);
   * store.selectLatestEach([], 400_000, 60_000, visit);
   * assert.deepEqual(seen, ["a 300000 300", "b 300000 -300", "a 200000 200", "b 200000 -200"]);
   * await store.close();
   * ```
   */
  selectLatestEach(
    matchers: readonly LabelMatcher[],
    at: number,
    lookbackMs: number,
    visit: (points: SeriesPoints) => void,
  ): void {
    const start = at - lookbackMs;
    if (at < start) return;
    const ids = this.#index.match(matchers);
    const tier = this.#tiers[0];
    const open = tier.open;
    const point = this.#lastSample;
    const rest: number[] = [];
    for (const id of ids) {
      if (!open.lastBits(id, point.bits)) {
        rest.push(id);
        continue;
      }
      const t = open.lastT(id);
      if (t > at) rest.push(id);
      else if (t >= start) {
        point.t[0] = t;
        const value = point.value[0];
        visit({
          labels: this.#index.labels(id)!,
          kind: this.#index.kind(id),
          t: point.t,
          value: point.value,
          noNaN: value === value,
        });
      }
    }
    if (rest.length > 0) this.#readRaw(rest, tier, start, at, undefined, visit);
  }
  /** {@linkcode selectLatestEach}'s one sample, reused. */
  readonly #lastSample = (() => {
    const value = new Float64Array(1);
    return {
      t: new Float64Array(1),
      value,
      bits: new Uint32Array(value.buffer),
    };
  })();

  /** How many series the store knows (refs are 0 to this, less one). */
  seriesCount(): number {
    return this.#index.size;
  }

  /**
   * See {@linkcode HistoryReader.selectSteps}: the points within
   * `[ends[i] - reachMs, ends[i]]` for each of `ends` (ascending), in one
   * pass over the disk, decoding only the chunks that reach a window.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HistoryStore } from "./store.ts";
   *
   * const store = await HistoryStore.open();
   * const ref = store.seriesRef({ __name__: "x" }, "gauge");
   * for (let s = 1; s <= 600; s++) store.append(ref, s * 1000, s);
   * const [p] = store.selectSteps([], new Float64Array([100_000, 400_000]), 2000, 0);
   * assert.deepEqual([...p.t], [98_000, 99_000, 100_000, 398_000, 399_000, 400_000]);
   * await store.close();
   * ```
   */
  selectSteps(
    matchers: readonly LabelMatcher[],
    ends: Float64Array,
    reachMs: number,
    tier: number,
    columns?: readonly WindowColumnName[],
  ): SeriesPoints[] {
    return this.#selectSteps(matchers, ends, reachMs, tier, columns);
  }

  /**
   * See {@linkcode HistoryReader.selectStepsEach}: {@linkcode selectSteps}'s
   * series one at a time, in one set of arrays reused for all of them.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HistoryStore } from "./store.ts";
   *
   * const store = await HistoryStore.open();
   * for (const flow of ["a", "b"]) {
   *   const ref = store.seriesRef({ __name__: "x", flow }, "counter");
   *   for (let s = 1; s <= 600; s++) store.append(ref, s * 1000, s);
   * }
   * const seen: string[] = [];
   * store.selectStepsEach([], new Float64Array([100_000, 400_000]), 2000, 0, undefined, (p) => {
   *   seen.push(`${p.labels.flow} ${p.t.length}`);
   * });
   * assert.deepEqual(seen.sort(), ["a 6", "b 6"]);
   * await store.close();
   * ```
   */
  selectStepsEach(
    matchers: readonly LabelMatcher[],
    ends: Float64Array,
    reachMs: number,
    tier: number,
    columns: readonly WindowColumnName[] | undefined,
    visit: (points: SeriesPoints) => void,
  ): void {
    this.#selectSteps(matchers, ends, reachMs, tier, columns, visit);
  }

  #selectSteps(
    matchers: readonly LabelMatcher[],
    ends: Float64Array,
    reachMs: number,
    tier: number,
    columns?: readonly WindowColumnName[],
    visit?: (points: SeriesPoints) => void,
  ): SeriesPoints[] {
    const n = ends.length;
    if (n === 0) return [];
    for (let i = 1; i < n; i++) {
      if (!(ends[i] >= ends[i - 1])) {
        throw new RangeError(
          `Cannot select steps from history: ends must ascend, received ${
            ends[i - 1]
          } then ${ends[i]}`,
        );
      }
    }
    // The first window whose end is at or after t; t is inside it when its
    // start is at or before t.
    const firstEnd = (t: number) => {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ends[mid] < t) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const steps: Steps = {
      ends,
      reachMs,
      overlaps: (minT: number, maxT: number) => {
        const i = firstEnd(minT);
        return i < n && ends[i] - reachMs <= maxT;
      },
    };
    return this.#read(
      matchers,
      tier,
      ends[0] - reachMs,
      ends[n - 1],
      steps,
      columns,
      visit,
    );
  }

  #read(
    matchers: readonly LabelMatcher[],
    tier: number,
    start: number,
    end: number,
    steps: Steps | undefined,
    columns?: readonly WindowColumnName[],
    visit?: (points: SeriesPoints) => void,
    accept?: (ref: number) => boolean,
  ): SeriesPoints[] {
    const t = this.#tiers[tier];
    if (!t) {
      throw new RangeError(
        `Cannot select from history: tier must be 0..${
          this.#tiers.length - 1
        }, received ${tier}`,
      );
    }
    let ids = this.#index.match(matchers);
    if (accept !== undefined) ids = ids.filter(accept);
    if (ids.length === 0) return [];
    if (tier === 0) return this.#readRaw(ids, t, start, end, steps, visit);
    if (steps && tier > 0) {
      return this.#readSteps(ids, t, start, end, steps, columns, visit);
    }
    const byId = new Map<number, Piece[]>();
    for (const id of ids) byId.set(id, []);
    this.#disk?.tiers[tier].read(
      ids,
      start,
      end,
      (r: ChunkRecord) => {
        const piece = this.#decode(r);
        if (piece) byId.get(r.id)!.push(piece);
      },
      steps?.overlaps,
    );
    const out: SeriesPoints[] = [];
    for (const id of ids) {
      const pieces = t.pieces(id, start, end, byId.get(id)!, steps?.overlaps);
      if (pieces.length === 0) continue;
      const points = mergePieces(
        this.#index.labels(id)!,
        this.#index.kind(id),
        pieces,
        start,
        end,
        tier > 0,
        steps,
      );
      if (points) out.push(points);
    }
    return out;
  }

  /**
   * #read() of the raw tier: each series' chunks (disk, then memory) are
   * decoded straight into one buffer for the series (see `mergeSamples`);
   * with `visit`, into one buffer reused for every series, each handed to
   * `visit` in turn (and nothing returned).
   */
  #readRaw(
    ids: number[],
    tier: Tier,
    start: number,
    end: number,
    steps: Steps | undefined,
    visit?: (points: SeriesPoints) => void,
  ): SeriesPoints[] {
    const chunks = this.#decoded;
    chunks.beginQuery();
    // Disk chunks by series, where they are in each segment file's bytes
    // (read once; not at all when the cache holds all of its chunks).
    const { byId, bufs } = this.#diskSpans(
      0,
      ids,
      start,
      end,
      steps,
      (id, minT, maxT, length) => !chunks.holds(id, minT, maxT, length),
    );
    const buffer = visit ? { data: new Float64Array(0) } : undefined;
    const out: SeriesPoints[] = [];
    const parts = new SpanList();
    for (const id of ids) {
      parts.clear();
      pushSpans(parts, byId.get(id)!, bufs);
      tier.spans(id, start, end, parts);
      if (parts.n === 0) continue;
      const points = mergeSamples(parts, {
        labels: this.#index.labels(id)!,
        kind: this.#index.kind(id),
        start,
        end,
        steps,
        onCorrupt: (error) => this.#skipped(error, id),
        buffer,
        cache: { chunks, id },
      });
      if (points === undefined) continue;
      if (visit) visit(points);
      else out.push(points);
    }
    return out;
  }

  /**
   * A step read of a downsampled tier: each series' chunks that reach a
   * window, read row by row where they are (`step_read.ts`).
   */
  #readSteps(
    ids: number[],
    t: Tier,
    start: number,
    end: number,
    steps: Steps,
    columns: readonly WindowColumnName[] | undefined,
    visit?: (points: SeriesPoints) => void,
  ): SeriesPoints[] {
    const { byId, bufs } = this.#diskSpans(t.index, ids, start, end, steps);
    const out: SeriesPoints[] = [];
    // Rows a series has in the windows, at most: the first allocation.
    const perWindow = Math.floor(steps.reachMs / t.info.resolutionMs) +
      (columns && !columns.includes("count") ? 0 : 1);
    const capacity = Math.min(steps.ends.length * Math.max(perWindow, 1), 4096);
    // With `visit`, one set of output arrays serves every series.
    const rows = visit ? new StepRows(2, capacity) : capacity;
    const parts = this.#spanList;
    for (const id of ids) {
      parts.clear();
      pushSpans(parts, byId.get(id)!, bufs);
      t.spans(id, start, end, parts);
      const points = stepPoints(
        this.#index.labels(id)!,
        this.#index.kind(id),
        parts,
        steps,
        (error) => this.#skipped(error, id),
        columns,
        rows,
      );
      if (points === undefined) continue;
      if (visit) visit(points);
      else out.push(points);
    }
    return out;
  }

  /**
   * The chunks of series `ids` on tier `tier`'s disk that overlap `[start,
   * end]` (and a step window), by series: five numbers a chunk (its
   * buffer in `bufs`, minT, maxT, and where its bytes start and end in
   * it). A segment none of whose chunks is `needed` is not read.
   */
  #diskSpans(
    tier: number,
    ids: number[],
    start: number,
    end: number,
    steps: Steps | undefined,
    needed?: (
      id: number,
      minT: number,
      maxT: number,
      length: number,
    ) => boolean,
  ): { byId: Map<number, number[]>; bufs: Uint8Array[] } {
    const byId = new Map<number, number[]>();
    for (const id of ids) byId.set(id, []);
    const bufs: Uint8Array[] = [];
    this.#disk?.tiers[tier].readSpans(
      ids,
      start,
      end,
      (id, minT, maxT, bytes, from, to) => {
        if (bufs.length === 0 || bufs[bufs.length - 1] !== bytes) {
          bufs.push(bytes);
        }
        byId.get(id)!.push(bufs.length - 1, minT, maxT, from, to);
      },
      // Its windows (the test of steps.overlaps, with a cursor).
      steps,
      needed,
    );
    return { byId, bufs };
  }

  /**
   * Decodes a chunk read from disk; one that does not decode (its CRC
   * held, so a codec change or a bug) is skipped and counted, with one
   * warning per store, rather than failing the query.
   */
  #decode(r: ChunkRecord): Piece | undefined {
    try {
      return decodeAnyChunk(r.bytes);
    } catch (error) {
      if (!(error instanceof CorruptChunkError)) throw error;
      this.#skipped(error, r.id);
      return undefined;
    }
  }

  /** Counts a chunk of series `id` that does not decode; warns once per store. */
  #skipped(error: CorruptChunkError, id: number): void {
    this.#corrupt++;
    if (!this.#decodeWarned) {
      this.#decodeWarned = true;
      this.#warn(
        `history: skipped a chunk of series ${id} that does not decode (${error.message}); later ones are counted only`,
      );
    }
  }

  /** See {@linkcode HistoryReader.series}. */
  series(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): SeriesLabels[] {
    // Not kept: a listing of every series would otherwise give each its
    // label object for good (see SeriesIndex).
    return this.#inRange(matchers, start, end).map((id) =>
      this.#index.labelsOnce(id)!
    );
  }

  /** See {@linkcode HistoryReader.labelNames}. */
  labelNames(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): string[] {
    return this.#index.labelNames(this.#inRange(matchers, start, end));
  }

  /** See {@linkcode HistoryReader.labelValues}. */
  labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): string[] {
    return this.#index.labelValues(
      name,
      this.#inRange(matchers, start, end),
    );
  }

  /** Series that match and whose first and last points bracket part of `[start, end]`. */
  #inRange(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): number[] {
    return this.#index.match(matchers).filter((id) =>
      this.#firstT[id] <= end && this.#lastT[id] >= start
    );
  }

  #grow(n: number): void {
    // The tiers' per-series arrays grow here only, to the store's size:
    // one length says whether all have room, and a new series with room
    // (every one the first pass reserved) calls nothing. (Each tier's
    // ensure() for each new series made Bun's JIT optimize four of them
    // in the first pass.)
    if (n <= this.#lastT.length) return;
    const size = Math.max(n, growCapacity(this.#lastT.length));
    for (const tier of this.#tiers) tier.ensure(size);
    const f = (a: Float64Array, fill: number) => {
      const b = new Float64Array(size).fill(fill);
      b.set(a);
      return b;
    };
    this.#lastT = f(this.#lastT, -Infinity);
    this.#firstT = f(this.#firstT, Infinity);
    const u = (a: Uint8Array) => {
      const b = new Uint8Array(size);
      b.set(a);
      return b;
    };
    this.#counter = u(this.#counter);
    this.#dirty = u(this.#dirty);
    this.#ended = u(this.#ended);
  }

  #load(disk: Disk): void {
    const warnFile = (path: string, runs: number) => {
      this.#corrupt += runs;
      this.#warn(
        `history: dropped ${runs} corrupt or torn record${
          runs === 1 ? "" : "s"
        } in ${path}; the rest loaded`,
      );
    };
    // Series first: chunk and head records name series by id.
    const seriesRuns = disk.series.load((b, s, e) => {
      let rec;
      try {
        rec = parseSeriesRecord(b, s, e);
      } catch {
        return;
      }
      if (!rec || rec.id < this.#index.size) return;
      this.#index.set(rec.id, rec.labels, rec.kind);
      this.#grow(rec.id + 1);
      this.#counter[rec.id] = rec.kind === "counter" ? 1 : 0;
    });
    if (seriesRuns > 0) warnFile(disk.series.path, seriesRuns);
    let maxId = this.#index.size - 1;
    // The latest point per series per tier on disk: head state older
    // than that was already sealed into a segment.
    const diskLast = this.#tiers.map(() => new Map<number, number>());
    disk.tiers.forEach((segs, k) => {
      segs.load(
        (r) => {
          if (r.id > maxId) maxId = r.id;
          const last = diskLast[k].get(r.id);
          if (last === undefined || r.maxT > last) {
            diskLast[k].set(r.id, r.maxT);
          }
          if (r.id < this.#firstT.length && r.minT < this.#firstT[r.id]) {
            this.#firstT[r.id] = r.minT;
          }
        },
        warnFile,
        (path, error) => {
          this.#warn(
            `history: cannot read ${path} (${error.message}); its chunks are left out, the rest loaded`,
          );
        },
      );
    });
    if (
      this.#index.size === 0 && !existsSync(disk.series.path) &&
      disk.tiers.some((segs) => segs.segments.length > 0)
    ) {
      this.#warn(
        `history: ${disk.series.path} is missing: the chunks on disk name series it listed, so their data cannot be read; new data is kept from now on`,
      );
    }
    this.#grow(maxId + 1);
    for (const [id, t] of diskLast[0]) {
      if (t > this.#lastT[id]) this.#lastT[id] = t;
      if (t > this.#latest) this.#latest = t;
    }
    // Each series' open chunk per tier, as the head log's records build it
    // (a whole chunk, continued by parts), restored once at the end.
    const open = this.#tiers.map(() => new Map<number, _LoggedChunk>());
    if (this.#index.size > 0 && !existsSync(disk.head.path)) {
      this.#warn(
        `history: ${disk.head.path} is missing: what was not yet in a chunk on disk when weir stopped (up to a chunk per series and tier) is lost; the rest loaded`,
      );
    }
    const headRuns = disk.head.load((b, s, e) => {
      let rec;
      try {
        rec = parseHeadRecord(b, s, e, this.#tiers.length);
      } catch {
        return;
      }
      if (!rec || !this.#index.has(rec.id)) return;
      const id = rec.id;
      this.#grow(id + 1);
      rec.chunks.forEach((part, k) => {
        if (!part) return;
        if (part.base === undefined) {
          open[k].set(id, _loggedChunk(part.chunk));
          return;
        }
        const c = open[k].get(id);
        // A part whose chunk's record was lost (corrupt) is dropped: the
        // series keeps its chunk as far as the log holds it.
        const got = c && applyHeadPart(c.stream, c.length, c.rows, part);
        if (!c || !got) return;
        c.stream = got.stream;
        c.length = got.length;
        c.rows = part.count!;
      });
      if (rec.lastT > this.#lastT[id]) this.#lastT[id] = rec.lastT;
      if (rec.lastT > this.#latest) this.#latest = rec.lastT;
    });
    open.forEach((chunks, k) => {
      const tier = this.#tiers[k];
      for (const [id, c] of chunks) {
        if (c.rows === 0) {
          tier.restoreOpen(id, new Float64Array(0), [], 0);
          continue;
        }
        const bytes = new Uint8Array(3 + 8 + c.length);
        const at = writeHeader(bytes, 0, c.columns, c.rows);
        bytes.set(c.stream.subarray(0, c.length), at);
        let decoded;
        try {
          decoded = decodeChunk(bytes.subarray(0, at + c.length));
        } catch {
          this.#corrupt++;
          continue;
        }
        const { t, columns } = decoded;
        const after = diskLast[k].get(id) ?? -Infinity;
        let from = 0;
        while (from < t.length && t[from] <= after) from++;
        tier.restoreOpen(id, t, columns, from);
        if (t.length > from && t[from] < this.#firstT[id]) {
          this.#firstT[id] = t[from];
        }
      }
    });
    if (headRuns > 0) warnFile(disk.head.path, headRuns);
    disk.headBase = disk.head.bytes;
    if (this.#tiers.length > 1) this.#rebuildWindows(disk);
    if (this.#tiers.length > 2) this.#rebuildCoarser(disk, diskLast);
    this.#seriesWritten = this.#index.size;
    // Ids past the series file (its tail was lost) stay unused holes, so a
    // new series never inherits a lost one's chunks.
    this.#index.reserve(maxId + 1);
    this.#seriesWritten = this.#index.size;
  }

  /**
   * Rebuilds each series' open window of the first downsampled tier from
   * its raw samples (on disk, then in the restored open chunk): the head
   * log does not store windows, the raw samples hold them.
   */
  #rebuildWindows(disk: Disk): void {
    const tier = this.#tiers[1];
    const agg = tier.aggregator!;
    const res = tier.info.resolutionMs;
    const n = this.#index.size;
    // Window (start, end] of each series, from its last sample.
    const start = new Float64Array(n).fill(Infinity);
    let from = Infinity;
    let to = -Infinity;
    for (let id = 0; id < n; id++) {
      const last = this.#lastT[id];
      // A series that had stopped gets no window back (it starts afresh
      // if it comes back): reading back to it would read the whole disk.
      if (last === -Infinity || last < this.#latest - this.#staleMs) continue;
      const end = Math.ceil(last / res) * res;
      // A last sample on a window's end closed that window (its row is
      // stored): only the sample before the next window is needed.
      start[id] = end === last ? last : end - res;
      agg.seed(id, NaN);
      if (start[id] < from) from = start[id];
      if (last > to) to = last;
    }
    if (from === Infinity) return;
    const feed = (id: number, t: Float64Array, v: Float64Array) => {
      const counter = this.#counter[id] === 1;
      for (let i = 0; i < t.length; i++) {
        if (t[i] > this.#lastT[id]) break;
        if (t[i] <= start[id]) agg.seed(id, v[i]);
        else agg.add(id, t[i], v[i], counter);
      }
    };
    // One window back as well, for a counter's sample before the window.
    disk.tiers[0].read(
      (id) => id < n && start[id] < Infinity,
      from - res,
      to,
      (r) => {
        if (r.maxT <= start[r.id] - res) return;
        const { t, columns } = decodeChunk(r.bytes);
        feed(r.id, t, columns[0]);
      },
    );
    for (let id = 0; id < n; id++) {
      const open = this.#tiers[0].openChunk(id);
      if (!open || start[id] === Infinity) continue;
      const { t, columns } = decodeChunk(open.bytes);
      feed(id, t, columns[0]);
    }
  }

  /**
   * Rebuilds each series' open window of the tiers fed by another (`1h`
   * from `1m` by default) from the finer tier's rows since the coarser
   * tier's last row, on disk and then in memory (the open chunk restored
   * from the head log), folding them in as appending them did: the head
   * log does not store these windows, the finer rows hold them. Only the
   * rows of the window the finer tier's last row is in are read; a
   * window a crash left without its coarser row (it closed after the
   * last flush) gets it now.
   */
  #rebuildCoarser(disk: Disk, diskLast: Map<number, number>[]): void {
    const tiers = this.#tiers;
    const n = this.#index.size;
    // Coarsest first: a window rebuilt in tier k may close into tier k + 1,
    // whose own window (into k + 2) must be there by then.
    for (let k = tiers.length - 2; k >= 1; k--) {
      const tier = tiers[k];
      const up = tier.up!;
      const next = tier.feeds!;
      const res = up.resolutionMs;
      // Per series: memory rows (restored), and rows after `after[id]` to fold.
      const memory = new Map<number, Piece[]>();
      const after = new Float64Array(n).fill(Infinity);
      const fed = new Float64Array(n).fill(-Infinity);
      let from = Infinity;
      let to = -Infinity;
      for (let id = 0; id < n; id++) {
        up.clear(id);
        let last = diskLast[k].get(id) ?? -Infinity;
        let pieces: Piece[] | undefined;
        if (tier.openCount(id) > 0 || tier.hasPending(id)) {
          pieces = tier.pieces(id, -Infinity, Infinity, []);
          for (const p of pieces) {
            if (p.t.length > 0 && p.t[p.t.length - 1] > last) {
              last = p.t[p.t.length - 1];
            }
          }
        }
        // A series that stopped long before had its windows closed then.
        if (!(last >= this.#latest - this.#staleMs - res)) continue;
        let nextLast = diskLast[k + 1].get(id) ?? -Infinity;
        if (next.openCount(id) > 0) {
          nextLast = Math.max(nextLast, next.openLastT(id));
        }
        const a = Math.max(nextLast, Math.ceil(last / res) * res - res);
        if (a >= last) continue;
        after[id] = a;
        if (pieces) memory.set(id, pieces);
        if (a < from) from = a;
        if (last > to) to = last;
      }
      if (from === Infinity) continue;
      const row = new Float64Array(6);
      const feed = (id: number, p: Piece) => {
        const cols = p.columns.length;
        for (let i = 0; i < p.t.length; i++) {
          const t = p.t[i];
          if (t <= after[id] || t <= fed[id]) continue;
          for (let c = 0; c < cols; c++) row[c] = p.columns[c][i];
          tier.cascadeRow(id, t, row, cols);
          fed[id] = t;
        }
      };
      disk.tiers[k].read(
        (id) => id < n && after[id] < Infinity,
        from,
        to,
        (r) => {
          if (r.maxT <= after[r.id]) return;
          const piece = this.#decode(r);
          if (piece) feed(r.id, piece);
        },
      );
      for (const [id, pieces] of memory) {
        for (const p of pieces) feed(id, p);
      }
    }
  }

  /**
   * Seals the open chunks and closes the open windows of series that have
   * stopped (last sample `staleMs` before `now`, the newest sample of
   * all). A closed window's end becomes the series' last time, so a late
   * sample cannot write that window twice.
   */
  #closeStale(now: number): void {
    if (now === -Infinity) return;
    const tiers = this.#tiers;
    const cutoff = now - this.#staleMs;
    const ended = this.#ended;
    for (let id = 0; id < this.#index.size; id++) {
      const last = this.#lastT[id];
      if (!(last < cutoff) && ended[id] !== 1) continue;
      tiers[0].seal(id);
      if (tiers.length < 2) continue;
      const counter = this.#counter[id] === 1;
      const agg = tiers[1].aggregator!;
      let bump = last;
      if (agg.isOpen(id)) {
        // The open window's own end: after a staleness marker, the last
        // sample (the marker) may lie in a later window than the values.
        const end = agg.openEnd(id);
        if (end > now) continue; // the clock has not passed the window yet
        agg.take(id);
        tiers[1].appendRow(id, end, agg.row, counter ? 6 : 5);
        bump = end;
      }
      for (let k = 1; k < tiers.length; k++) {
        const tier = tiers[k];
        tier.seal(id);
        const up = tier.up;
        if (up === undefined || !up.isOpen(id)) continue;
        const end = up.openEnd(id);
        if (end > now) break; // the clock has not passed the coarser window yet
        up.take(id);
        tier.feeds!.appendRow(id, end, up.row, up.columns);
        if (end > bump) bump = end;
      }
      if (bump > last) {
        this.#lastT[id] = bump;
        this.#dirty[id] = 1;
      }
    }
  }

  #flushNow(): void {
    if (this.#closed) return;
    const started = performance.now();
    const now = this.#now();
    this.#closeStale(this.#latest);
    for (const tier of this.#tiers) {
      const cutoff = now - tier.info.retentionMs;
      const dropped = tier.ring.dropBefore(cutoff);
      if (!this.#disk) this.#dropped[tier.index].retention += dropped;
    }
    const disk = this.#disk;
    if (disk) {
      try {
        this.#flushDisk(disk, now);
      } catch (error) {
        // The head log may lack records the open chunks count as logged:
        // the next flush rewrites it whole.
        this.#wholeHeadNext = true;
        throw error;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    this.#flushes++;
    this.#lastFlush = seconds;
    this.#flushSum += seconds;
    for (let i = 0; i < FLUSH_BUCKETS.length; i++) {
      if (seconds <= FLUSH_BUCKETS[i]) this.#flushBuckets[i]++;
    }
  }

  #flushDisk(disk: Disk, now: number): void {
    // 1. Retention by time: whole segments whose newest point is too old.
    disk.tiers.forEach((segs, k) => {
      const cutoff = now - this.#tiers[k].info.retentionMs;
      for (const seg of [...segs.segments]) {
        if (seg.maxT < cutoff) this.#dropped[k].retention += segs.remove(seg);
      }
    });
    // 2. What this flush writes: new series, sealed chunks, head records.
    // New series are counted here and written after the budget, from the
    // index through the head log's buffer (a first flush at 57,000 series
    // is ~6 MB: it was held in pieces, with an object and a JSON text
    // made for each series).
    const index = this.#index;
    const seriesFrom = this.#seriesWritten;
    const seriesTo = index.size;
    let seriesBytes = 0;
    for (let id = seriesFrom; id < seriesTo; id++) {
      seriesBytes += encodeIndexedSeries(index, id);
    }
    const pending = this.#tiers.map((t) => t.pending);
    // The head log is rewritten whole once it has grown well past its
    // last rewrite (superseded records pile up in it).
    const slack = Math.min(MIB, this.#maxDiskBytes / 16);
    let checkpoint = this.#wholeHeadNext ||
      disk.head.bytes > 2 * disk.headBase + slack;
    // 3. The budget: drop the oldest data (segments or chunks about to be
    // written) until everything fits, so the disk never goes over.
    // The lock file (a pid) counts too: every byte under dir does.
    let other = disk.series.bytes + seriesBytes + LOCK_BYTES;
    for (const segs of disk.tiers) other += segs.bytes;
    for (const r of pending) {
      other += r.liveBytes + r.live * FOOTER_ENTRY_MAX_BYTES;
    }
    let headBytes: number;
    const before = checkpoint ? 0 : disk.head.bytes;
    if (other + before + this.#headBound() <= this.#maxDiskBytes) {
      // Fits whatever the records weigh: the pass that only sums them (a
      // fifth of a flush at 57,000 series) is skipped.
      headBytes = this.#anyDirty(checkpoint) ? 1 : 0;
    } else {
      headBytes = this.#headPass(checkpoint);
      let total = other + before + headBytes;
      if (total > this.#maxDiskBytes && !checkpoint) {
        // Rewriting the head log is cheaper than dropping data.
        checkpoint = true;
        headBytes = this.#headPass(true);
        total = other + headBytes;
      }
      if (total > this.#maxDiskBytes) {
        this.#evict(disk, pending, total);
      }
    }
    // 4. Write: series before the records that name them, segments before
    // the head log that no longer holds what they hold.
    if (seriesBytes > 0) {
      const w = this.#headWriter ??= new ByteWriter(HEAD_BUFFER_BYTES / 16);
      w.reset();
      disk.series.appendWith((out) => {
        for (let id = seriesFrom; id < seriesTo; id++) {
          encodeIndexedSeries(index, id, w);
          if (w.length >= SERIES_FLUSH_BYTES) {
            out(w.bytes());
            w.reset();
          }
        }
        if (w.length > 0) out(w.bytes());
      });
    }
    this.#seriesWritten = seriesTo;
    // Segments loaded from their footers: their records' CRCs checked, a
    // slice a flush (a bad record is dropped, its file's footer rebuilt).
    let verify = VERIFY_BYTES_PER_FLUSH;
    for (const segs of disk.tiers) verify -= segs.verify(verify);
    // A write also without chunks (it appends the footers of segments
    // closed before: the budget counted them). One that fails leaves its
    // chunks, and the later tiers', queued for the next flush: nothing
    // sealed is lost to a full disk.
    for (let k = 0; k < pending.length; k++) {
      disk.tiers[k].write(pending[k]);
      this.#tiers[k].clearPending();
    }
    const fill = (out: (bytes: Uint8Array) => void) => {
      this.#headPass(checkpoint, out);
    };
    if (checkpoint) {
      disk.head.replaceWith(fill);
      disk.headBase = disk.head.bytes;
      this.#wholeHeadNext = false;
    } else if (headBytes > 0) disk.head.appendWith(fill);
  }

  /**
   * At least the bytes {@linkcode #headPass} would write, without a pass
   * over the series: a record per series (frame, id, time, and per tier a
   * part's header of at most 22 bytes), and every open chunk whole.
   */
  #headBound(): number {
    let n = this.#index.size * (23 + 22 * this.#tiers.length);
    for (const tier of this.#tiers) n += tier.open.bytesBound();
    return n;
  }

  /** Whether a head pass would write any record. */
  #anyDirty(all: boolean): boolean {
    const size = this.#index.size;
    if (all) {
      for (let id = 0; id < size; id++) {
        if (this.#lastT[id] > -Infinity) return true;
      }
    }
    const dirty = this.#dirty;
    for (let id = 0; id < size; id++) if (dirty[id] === 1) return true;
    for (const tier of this.#tiers) {
      const d = tier.dirty;
      for (let id = 0; id < size; id++) if (d[id] === 1) return true;
    }
    return false;
  }

  /** Head records of the series changed since the last flush (all, for a checkpoint). */
  /**
   * One pass over the head records of the series changed since the last
   * flush (all series, for a checkpoint). Without `out` it only sums their
   * bytes; with `out` it writes them through a small buffer into `out` and
   * clears the changed flags. Returns the bytes.
   */
  #headPass(all: boolean, out?: (bytes: Uint8Array) => void): number {
    const tiers = this.#tiers;
    const sources = tiers.map((tier) => new OpenChunkSource(tier));
    const chunks: (OpenChunkSource | undefined)[] = tiers.map(() => undefined);
    // The buffer is flushed at 256 KiB: a 57,000-series batch is several
    // MB, and one big buffer per flush is memory the process keeps. This
    // one is kept from flush to flush (writes are synchronous), not made
    // anew: 260 KB of garbage a flush. It starts at a sixteenth of its
    // most and doubles as the records need: the demo's flushes take 20
    // KB, and a store of many series reaches the same 260 KB as before.
    let w: ByteWriter | undefined;
    if (out) {
      w = this.#headWriter ??= new ByteWriter(HEAD_BUFFER_BYTES / 16);
      w.reset();
    }
    const record = { id: 0, lastT: 0, chunks };
    let total = 0;
    for (let id = 0; id < this.#index.size; id++) {
      let any = this.#dirty[id] === 1 ||
        (all && this.#lastT[id] > -Infinity);
      for (let k = 0; k < tiers.length; k++) {
        if (tiers[k].dirty[id] === 1 || (all && any)) {
          if (w) tiers[k].dirty[id] = 0;
          // A checkpoint replaces the log: whole chunks only.
          chunks[k] = sources[k].of(id, all);
          any = true;
        } else chunks[k] = undefined;
      }
      if (!any) continue;
      record.id = id;
      record.lastT = this.#lastT[id];
      if (!w) {
        total += headRecordBytes(record);
        continue;
      }
      this.#dirty[id] = 0;
      const before = w.length;
      encodeHeadRecord(w, record);
      for (let k = 0; k < chunks.length; k++) chunks[k]?.logged();
      total += w.length - before;
      if (w.length >= HEAD_FLUSH_BYTES) {
        out!(w.bytes());
        w.reset();
      }
    }
    if (w && w.length > 0) out!(w.bytes());
    return total;
  }

  /** Deletes the oldest segments, then drops the oldest pending chunks, until `total` fits. */
  #evict(disk: Disk, pending: ChunkRecords[], total: number): void {
    while (total > this.#maxDiskBytes) {
      let best = -1;
      let bestT = Infinity;
      disk.tiers.forEach((segs, k) => {
        const seg = segs.segments[0];
        if (seg && seg.maxT < bestT) {
          bestT = seg.maxT;
          best = k;
        }
      });
      let pk = -1;
      let pi = -1;
      pending.forEach((r, k) => {
        for (let i = 0; i < r.n; i++) {
          if (!r.dropped(i) && r.maxT(i) < bestT) {
            bestT = r.maxT(i);
            pk = k;
            pi = i;
          }
        }
      });
      if (pk >= 0) {
        const r = pending[pk];
        total -= r.end(pi) - r.start(pi) + FOOTER_ENTRY_MAX_BYTES;
        this.#tiers[pk].dropPending(pi);
        this.#dropped[pk].budget++;
      } else if (best >= 0) {
        const segs = disk.tiers[best];
        const seg = segs.segments[0];
        total -= segs.sizeOf(seg);
        this.#dropped[best].budget += segs.remove(seg);
      } else {
        if (!this.#budgetWarned) {
          this.#budgetWarned = true;
          this.#warn(
            `history: maxDiskBytes ${this.#maxDiskBytes} is below what the open chunks alone need (${total} bytes); raise it`,
          );
        }
        break;
      }
    }
  }
}

/** Adds the chunks `list` holds (as `#diskSpans` gives them) to `parts`. */
function pushSpans(parts: SpanList, list: number[], bufs: Uint8Array[]): void {
  for (let j = 0; j < list.length; j += 5) {
    parts.push(
      list[j + 1],
      list[j + 2],
      bufs[list[j]],
      list[j + 3],
      list[j + 4],
    );
  }
}

/**
 * An error of opening a store, as the caller is told it: a bad option as
 * thrown, a failure of folder `dir` as a {@linkcode HistoryOpenError}
 * (the file system's refusal said so).
 */
function _openError(error: unknown, dir: string | undefined): unknown {
  if (
    dir === undefined || error instanceof HistoryOpenError ||
    error instanceof RangeError || error instanceof TypeError
  ) {
    return error;
  }
  const path = (error as { path?: unknown }).path;
  const refused = refusedWrite(error);
  return new HistoryOpenError(
    dir,
    refused === undefined
      ? (error as Error)?.message ?? String(error)
      : `cannot write ${typeof path === "string" ? path : "in it"}: ${refused}`,
    { cause: error },
  );
}
