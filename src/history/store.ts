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
 * Windows: a downsampled tier keeps no state per series in memory. Its
 * rows are computed by the rollup (`rollup.ts`), a block of windows (one
 * chunk: 20 minutes of minute rows by default on disk, an hour without
 * a dir; half a day of hour rows) at a time, from the raw samples for the first
 * downsampled tier and from the finer tier's stored rows for the others.
 * After a block's end the rollup takes a share of the series per pass
 * (every series within about 240 passes), and a read that meets a due
 * series rolls it up first. Up to a series' watermark its rows are
 * stored; past it, a read computes them as the rollup would (for the
 * first downsampled tier only the windows the read reaches), so reads
 * see every complete window at once. A window is complete when the finer
 * data passes its end or lands exactly on it, or, for a series that
 * stopped, once the newest sample of any series passes its end. A
 * counter's increase starts from the sample before the window, found up
 * to one window back. Before raw samples leave (retention, the byte
 * budget, `close()`), the series whose rows they still make are rolled
 * up (so a store closed for longer than raw samples are kept loses no
 * row). Nothing is rebuilt at open: the watermarks are the last stored
 * rows.
 *
 * Crash safety: what a flush wrote survives a SIGKILL or power cut (each
 * file synced before the next depends on it); samples since the last
 * flush are lost. A torn or corrupt record is dropped at open with one
 * warning per file and the file rewritten without it. A head log written
 * before the rollup (open chunks of downsampled tiers) loads: those rows
 * are stored.
 *
 * Over 800 lines on purpose: this file is the one place that orders the
 * writes (series before the chunks that name them, segments before the
 * head log), applies retention and the budget before writing, and
 * recovers at open; splitting it would spread that ordering over files.
 * The parts without that state live in `tier.ts`, `open_chunks.ts`,
 * `rollup.ts`, `segments.ts`, `head_log.ts`, `merge.ts`,
 * `store_options.ts` and `store_stats.ts`.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { clearInterval, setInterval } from "node:timers";
import { join } from "node:path";
import { ByteWriter } from "./_bytes.ts";
import { LOCK_BYTES, lockDir } from "./dir_lock.ts";
import { CorruptChunkError, decodeChunk } from "./codec.ts";
import { decodeAnyChunk } from "./frame_chunk.ts";
import { RowAggregator } from "./aggregator.ts";
import { SpanList, stepPoints, StepRows } from "./step_read.ts";
import { WindowAggregator } from "./aggregator.ts";
import { WindowRows, windowRows } from "./rollup.ts";
import { encodeFrameChunk } from "./frame_chunk.ts";
import { DecodedChunks } from "./decoded_chunks.ts";
import {
  applyHeadPart,
  encodeHeadRecord,
  headRecordBytes,
  parseHeadRecord,
} from "./head_log.ts";
import { writeHeader } from "./_bits.ts";
import { RecordFile } from "./record_file.ts";
import { FooterCache } from "./segment_footer.ts";
import {
  type ChunkRecord,
  chunkRecordBytes,
  encodeChunks,
  SegmentDir,
  VERIFY_BYTES_PER_FLUSH,
} from "./segments.ts";
import { growCapacity } from "./open_chunks.ts";
import { SeriesIndex } from "./series_index.ts";
import { encodeSeriesRecord, parseSeriesRecord } from "./series_file.ts";
import {
  OpenChunkSource,
  type PendingChunk,
  type Piece,
  Tier,
} from "./tier.ts";
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
  middleTierRows,
} from "./store_options.ts";
import {
  FLUSH_BUCKETS,
  type HistoryStats,
  type TierStats,
} from "./store_stats.ts";

export { defaultTiers, FLUSH_BUCKETS };

export type { HistoryStats, HistoryStoreOptions, TierStats };
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
  /** The tiers, raw first. */
  readonly tiers: readonly TierInfo[];
  #index = new SeriesIndex();
  #tiers: Tier[];
  #lastT = new Float64Array(0);
  #firstT = new Float64Array(0);
  #counter = new Uint8Array(0);
  #dirty = new Uint8Array(0);
  #disk: Disk | undefined;
  #seriesWritten = 0;
  #warn: (message: string) => void;
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
  #decodeWarned = false;
  /** The chunks of one series in a step read, reused (reads are synchronous). */
  #spanList = new SpanList();
  /** Decoded raw chunks, kept for the next query (`decoded_chunks.ts`). */
  #decoded: DecodedChunks;
  #staleMs: number;
  #unlock: (() => void) | undefined;
  /** The newest sample time of any series. */
  #latest = -Infinity;
  /**
   * Per downsampled tier (index 0 unused), per series: the end of the
   * last window whose row is stored (-Infinity: none). Rows after it
   * are computed when read (see `rollup.ts`).
   */
  #rolled: Float64Array[] = [];
  /** Per downsampled tier: the rollup's block, a chunk's rows times the resolution. */
  #blockMs: number[] = [];
  /** Where the next rollup pass looks for due series, and the newest time at which it looks again. */
  #rollCursor = 0;
  #rollNext = -Infinity;
  /** Scratch of the rollup and of computed reads (one series at a time). */
  #rollAgg: WindowAggregator | undefined;
  /** Per tier past the first downsampled: its windows folded from the finer rows (one series). */
  #foldAgg: RowAggregator[] = [];
  #rollRows = new WindowRows();
  #rollRow = new Float64Array(6);
  /** appendBatch()'s samples that pass, handed to the raw tier at once. */
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
    this.#now = options.now ?? Date.now;
    this.#staleMs = options.staleMs ?? 300_000;
    this.#decoded = new DecodedChunks(options.decodedCacheBytes ?? 64 * MIB);
    // With a disk, sealed chunks are read back from it (the page cache keeps
    // recent ones warm): memory stays at the open chunks.
    const ring = options.memoryChunks ?? (options.dir ? 0 : 32);
    this.tiers = tiers.map((t) =>
      Object.freeze({
        name: t.name,
        resolutionMs: t.resolutionMs,
        retentionMs: t.retentionMs,
      })
    );
    // Small chunks keep the open chunks small when sealed ones go to disk;
    // in a store without a dir the ring is all the history there is, and
    // a chunk of a coarser window each keeps its per-chunk cost (and the
    // time the ring's chunks reach) as it was.
    const onDisk = options.dir !== undefined;
    this.#tiers = tiers.map((t, k) =>
      new Tier(
        k,
        this.tiers[k],
        t.chunkRows ?? (k === 0
          ? 120
          : k === tiers.length - 1
          ? lastTierRows(t.resolutionMs, onDisk)
          : middleTierRows(
            t.resolutionMs,
            tiers[k + 1].resolutionMs,
            onDisk,
          )),
        ring,
        onDisk,
        // Default-sized raw chunks are staggered (series that start
        // together would all fill their chunks at once, and the blocks
        // they hold then stay allocated); explicit sizes are kept exact.
        t.chunkRows === undefined && k === 0,
      )
    );
    for (let k = 0; k < this.#tiers.length; k++) {
      const tier = this.#tiers[k];
      this.#rolled.push(new Float64Array(0));
      this.#blockMs.push(tier.chunkRows * tier.info.resolutionMs);
      const agg = new RowAggregator(tier.info.resolutionMs);
      agg.ensure(1);
      this.#foldAgg.push(agg);
    }
    if (this.#tiers.length > 1) {
      this.#rollAgg = new WindowAggregator(this.#tiers[1].info.resolutionMs);
    }
    this.#dropped = tiers.map(() => ({ retention: 0, budget: 0 }));
    if (options.dir !== undefined) {
      const root = options.dir;
      mkdirSync(root, { recursive: true });
      const segmentBytes = options.segmentBytes ??
        Math.min(4 * MIB, Math.max(4096, Math.floor(this.#maxDiskBytes / 32)));
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
      // Last: nothing after it may throw and leave the lock behind.
      this.#unlock = lockDir(join(root, "LOCK"));
    }
  }

  /**
   * Opens a store: with a `dir`, takes its lock (`<dir>/LOCK`: a folder
   * another live process holds is refused; a crashed one's lock is taken
   * over), loads what is there (a corrupt or torn record is dropped with
   * one warning per file; everything else loads) and flushes every
   * `flushIntervalMs`.
   */
  static open(options: HistoryStoreOptions = {}): Promise<HistoryStore> {
    let store: HistoryStore | undefined;
    try {
      store = new HistoryStore(options);
      if (store.#disk) store.#load(store.#disk);
    } catch (error) {
      if (store) store.#unlock?.();
      return Promise.reject(error);
    }
    if (store.#disk) {
      const every = options.flushIntervalMs ?? 10_000;
      if (every > 0) {
        const opened = store;
        store.#timer = setInterval(() => {
          opened.flush().catch((error) =>
            opened.#warn(`history: flush failed: ${(error as Error).message}`)
          );
        }, every);
        // Flushing must not keep a process alive that has nothing else to do
        // (node:timers gives an unref()-able timer on Deno and Bun alike).
        store.#timer.unref();
      }
    }
    return Promise.resolve(store);
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
   * Appends sample `(t, v)` to series `ref`. A `t` not after the series'
   * last sample is dropped and counted.
   */
  append(ref: number, t: number, v: number): void {
    if (!(t > this.#lastT[ref])) {
      if (!(ref >= 0 && ref < this.#index.size && this.#index.labels(ref))) {
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
    // The rollup looks for due series as a new tick starts (the last
    // one's samples are all in by then).
    const tick = t > this.#latest;
    if (tick) this.#latest = t;
    this.#dirty[ref] = 1;
    this.#samples++;
    this.#tiers[0].appendSample(ref, t, v);
    if (tick && t >= this.#rollNext) this.#rollSome();
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
    const tiers = this.#tiers;
    let m = 0;
    try {
      for (let i = 0; i < n; i++) {
        const ref = refs[i];
        const last = lastT[ref];
        if (!(t > last)) {
          if (
            !(ref >= 0 && ref < this.#index.size && this.#index.labels(ref))
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
          okValues[m] = v;
        }
        m++;
      }
    } finally {
      if (m > 0) {
        if (t > this.#latest) this.#latest = t;
        this.#samples += m;
        tiers[0].appendSamples(ok, okValues, m, t);
      }
    }
    if (m > 0 && t >= this.#rollNext) this.#rollSome();
  }

  /** Writes what is not yet on disk (no-op without a `dir`), then applies retention and the budget. */
  flush(): Promise<void> {
    // One flush at a time: a timer flush and close() must not interleave.
    const run = (this.#flushing ?? Promise.resolve()).then(() =>
      this.#flushNow()
    );
    this.#flushing = run.finally(() => {
      if (this.#flushing === run) this.#flushing = undefined;
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

  _debugRing(tier: number, id: number): string {
    const v = this.#tiers[tier].ring.view(id);
    if (!v) return "none";
    const out: string[] = [];
    for (let c = v.first; c < Math.min(v.n, v.first + 3); c++) {
      out.push(
        `${v.spans[c * 11]}..${v.spans[c * 11 + 1]} n=${
          v.spans[c * 11 + 2]
        } edge=${v.spans[c * 8 + 4]}`,
      );
    }
    return `first ${v.first} n ${v.n} ` + out.join(" | ");
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
        // The segment index is memory the tier's disk part needs; the
        // watermarks are the first downsampled tier's.
        memoryBytes: tier.memoryBytes() +
          (disk ? disk.tiers[k].indexBytes : 0) +
          this.#rolled[k].byteLength,
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
   * See {@linkcode HistoryReader.selectEach}: on the raw tier every
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
  ): void {
    if (end < start) return;
    if (tier !== 0) {
      for (const p of this.#read(matchers, tier, start, end, undefined)) {
        visit(p);
      }
      return;
    }
    this.#read(matchers, tier, start, end, undefined, undefined, visit);
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
  ): SeriesPoints[] {
    const t = this.#tiers[tier];
    if (!t) {
      throw new RangeError(
        `Cannot select from history: tier must be 0..${
          this.#tiers.length - 1
        }, received ${tier}`,
      );
    }
    const ids = this.#index.match(matchers);
    if (ids.length === 0) return [];
    if (tier === 0) return this.#readRaw(ids, t, start, end, steps, visit);
    // A series whose block is due is rolled up now rather than computed
    // (and again by the next read).
    const due = ids.filter((id) => this.#due(id));
    if (due.length > 0) this.#rollup(due, false);
    const computed = this.#computed(ids, tier, start, end, steps);
    if (steps && tier > 0) {
      return this.#readSteps(
        ids,
        t,
        start,
        end,
        steps,
        columns,
        computed,
        visit,
      );
    }
    return this.#readRows(ids, t, start, end, steps, computed);
  }

  /**
   * #read() of a downsampled tier without step windows' reads: each
   * series' chunks (disk, memory, then `computed`'s rows) decoded and
   * merged; with `visit`, each handed to it with its id in turn (and
   * nothing returned).
   */
  #readRows(
    ids: number[],
    t: Tier,
    start: number,
    end: number,
    steps: Steps | undefined,
    computed: Map<number, Piece>,
    visit?: (points: SeriesPoints, id: number) => void,
  ): SeriesPoints[] {
    const byId = new Map<number, Piece[]>();
    for (const id of ids) byId.set(id, []);
    this.#disk?.tiers[t.index].read(
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
      const rows = computed.get(id);
      if (rows) pieces.push(rows);
      if (pieces.length === 0) continue;
      const points = mergePieces(
        this.#index.labels(id)!,
        this.#index.kind(id),
        pieces,
        start,
        end,
        true,
        steps,
      );
      if (!points) continue;
      if (visit) visit(points, id);
      else out.push(points);
    }
    return out;
  }

  /**
   * #read() of the raw tier: each series' chunks (disk, then memory) are
   * decoded straight into one buffer for the series (see `mergeSamples`);
   * with `visit`, into one buffer reused for every series, each handed to
   * `visit` in turn with its id (and nothing returned). Without
   * `useCache` (the rollup's reads), decoded chunks are neither taken
   * from the query cache nor put in it.
   */
  #readRaw(
    ids: number[],
    tier: Tier,
    start: number,
    end: number,
    steps: Steps | undefined,
    visit?: (points: SeriesPoints, id: number) => void,
    useCache = true,
  ): SeriesPoints[] {
    const chunks = this.#decoded;
    if (useCache) chunks.beginQuery();
    // Disk chunks by series, where they are in each segment file's bytes
    // (read once; not at all when the cache holds all of its chunks).
    const { byId, bufs } = this.#diskSpans(
      0,
      ids,
      start,
      end,
      steps,
      useCache
        ? (id, minT, maxT, length) => !chunks.holds(id, minT, maxT, length)
        : undefined,
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
        cache: useCache ? { chunks, id } : undefined,
      });
      if (points === undefined) continue;
      if (visit) visit(points, id);
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
    computed: Map<number, Piece>,
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
      const late = computed.get(id);
      if (late) {
        // After every stored row: a chunk of its own, never cached.
        parts.add({
          minT: late.t[0],
          maxT: late.t[late.t.length - 1],
          bytes: encodeFrameChunk(late.t, late.columns),
        });
        parts.markOpen();
      }
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
    return this.#inRange(matchers, start, end).map((id) =>
      this.#index.labels(id)!
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
    for (const tier of this.#tiers) tier.ensure(n);
    if (n <= this.#lastT.length) return;
    const size = Math.max(n, growCapacity(this.#lastT.length));
    const f = (a: Float64Array, fill: number) => {
      const b = new Float64Array(size).fill(fill);
      b.set(a);
      return b;
    };
    this.#lastT = f(this.#lastT, -Infinity);
    this.#firstT = f(this.#firstT, Infinity);
    for (let k = 1; k < this.#rolled.length; k++) {
      this.#rolled[k] = f(this.#rolled[k], -Infinity);
    }
    const u = (a: Uint8Array) => {
      const b = new Uint8Array(size);
      b.set(a);
      return b;
    };
    this.#counter = u(this.#counter);
    this.#dirty = u(this.#dirty);
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
      segs.load((r) => {
        if (r.id > maxId) maxId = r.id;
        const last = diskLast[k].get(r.id);
        if (last === undefined || r.maxT > last) diskLast[k].set(r.id, r.maxT);
        if (r.id < this.#firstT.length && r.minT < this.#firstT[r.id]) {
          this.#firstT[r.id] = r.minT;
        }
      }, warnFile);
    });
    this.#grow(maxId + 1);
    for (const [id, t] of diskLast[0]) {
      if (t > this.#lastT[id]) this.#lastT[id] = t;
      if (t > this.#latest) this.#latest = t;
    }
    // Each series' open chunk per tier, as the head log's records build it
    // (a whole chunk, continued by parts), restored once at the end.
    const open = this.#tiers.map(() => new Map<number, _LoggedChunk>());
    const headRuns = disk.head.load((b, s, e) => {
      let rec;
      try {
        rec = parseHeadRecord(b, s, e, this.#tiers.length);
      } catch {
        return;
      }
      if (!rec || !this.#index.labels(rec.id)) return;
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
        if (k > 0) {
          // A head log written before the rollup held the downsampled
          // tiers' open chunks: their rows are stored now.
          tier.addRows(id, t, columns, from, t.length);
          if (t.length > from && t[t.length - 1] > this.#rolled[k][id]) {
            this.#rolled[k][id] = t[t.length - 1];
          }
        } else tier.restoreOpen(id, t, columns, from);
        if (t.length > from && t[from] < this.#firstT[id]) {
          this.#firstT[id] = t[from];
        }
      }
    });
    if (headRuns > 0) warnFile(disk.head.path, headRuns);
    disk.headBase = disk.head.bytes;
    for (let k = 1; k < this.#tiers.length; k++) {
      const rolled = this.#rolled[k];
      for (const [id, t] of diskLast[k]) if (t > rolled[id]) rolled[id] = t;
    }
    this.#seriesWritten = this.#index.size;
    // Ids past the series file (its tail was lost) stay unused holes, so a
    // new series never inherits a lost one's chunks.
    this.#index.reserve(maxId + 1);
    this.#seriesWritten = this.#index.size;
  }

  /**
   * The end of the last complete window of downsampled tier `k` for a
   * series whose finer data ends at `f` (its last sample, for the first
   * downsampled tier; the end of its last complete finer window, for a
   * coarser one): a window is complete once the finer data reaches its
   * end, or, for a series that stopped (`stopped`), once the newest
   * sample of any series does. With `block`, a live series' end is
   * rounded down to a block's end (the rollup stores whole blocks).
   */
  #windowsEnd(k: number, f: number, stopped: boolean, block: boolean): number {
    if (f === -Infinity) return -Infinity;
    const res = this.#tiers[k].info.resolutionMs;
    if (stopped) {
      const closing = Math.ceil(f / res) * res;
      if (closing <= this.#latest) return closing;
    }
    const end = Math.floor(f / res) * res;
    if (!block || stopped) return end;
    const b = this.#blockMs[k];
    return Math.floor(end / b) * b;
  }

  /** Whether series `id` stopped: its last sample `staleMs` before the newest of any. */
  #stopped(id: number): boolean {
    return this.#lastT[id] < this.#latest - this.#staleMs;
  }

  /**
   * Where the rollup of tier `k` takes series `id` to: its last complete
   * window whose finer rows are stored (a block's end unless `whole`).
   */
  #rollTarget(k: number, id: number, whole: boolean): number {
    const f = k === 1 ? this.#lastT[id] : this.#rolled[k - 1][id];
    return this.#windowsEnd(k, f, this.#stopped(id), !whole);
  }

  /** The end of series `id`'s last complete window of tier `k`, stored or not. */
  #complete(k: number, id: number): number {
    const f = k === 1 ? this.#lastT[id] : this.#complete(k - 1, id);
    return this.#windowsEnd(k, f, this.#stopped(id), false);
  }

  /** Whether a block of series `id` ended after its watermark, in any downsampled tier. */
  #due(id: number): boolean {
    for (let k = 1; k < this.#tiers.length; k++) {
      if (this.#rollTarget(k, id, false) > this.#rolled[k][id]) return true;
    }
    return false;
  }

  /**
   * Rolls up the next due series (whose block ended after their
   * watermark), a share of them per call (a pass), so that all are done
   * within about 240 passes of a block's end without one long pause.
   */
  #rollSome(): void {
    const size = this.#index.size;
    const tiers = this.#tiers.length;
    if (tiers < 2 || size === 0) {
      if (tiers < 2) this.#rollNext = Infinity;
      return;
    }
    // Without a dir the raw ring (32 chunks, about 64 min at 1 s) must
    // still hold a block's samples: all due series at once there.
    const limit = this.#disk ? Math.max(64, Math.ceil(size / 240)) : size;
    const due: number[] = [];
    let id = this.#rollCursor;
    let scanned = 0;
    for (; scanned < size && due.length < limit; scanned++, id++) {
      if (id >= size) id = 0;
      if (this.#due(id)) due.push(id);
    }
    this.#rollCursor = id >= size ? 0 : id;
    if (due.length > 0) this.#rollup(due, false);
    if (scanned >= size && due.length < limit) {
      // All done: nothing is due before the next block ends, but for a
      // series that stops in the meantime (looked for once a minute).
      const block = this.#blockMs[1];
      const latest = this.#latest;
      this.#rollNext = Math.min(
        Math.floor(latest / block) * block + block,
        latest + 60_000,
      );
    }
  }

  /**
   * Rolls up series `ids`, finest downsampled tier first: each tier's
   * rows from its watermark to its target ({@linkcode #rollTarget}),
   * computed from the raw samples or the finer tier's stored rows (one
   * read for all the series), stored as chunks (a block each); moves the
   * watermarks.
   */
  #rollup(ids: readonly number[], whole: boolean): void {
    for (let k = 1; k < this.#tiers.length; k++) {
      const rolled = this.#rolled[k];
      const due: number[] = [];
      const to = new Map<number, number>();
      let lo = Infinity;
      let hi = -Infinity;
      for (const id of ids) {
        const target = this.#rollTarget(k, id, whole);
        if (!(target > rolled[id])) continue;
        due.push(id);
        to.set(id, target);
        if (rolled[id] < lo) lo = rolled[id];
        if (target > hi) hi = target;
      }
      if (due.length === 0) continue;
      const rows = this.#rollRows;
      const from = (id: number) => rolled[id];
      this.#finerRows(k, due, lo, hi, (t, columns, n, id) => {
        rows.clear();
        this.#rowsFrom(k, id, t, columns, n, from(id), to.get(id)!, rows);
        this.#storeRows(k, id, rows);
      }, false);
      for (const id of due) {
        const target = to.get(id)!;
        rolled[id] = target;
        // A stopped series' last window closed: a late sample cannot land in it.
        if (target > this.#lastT[id]) {
          this.#lastT[id] = target;
          this.#dirty[id] = 1;
        }
      }
    }
  }

  /**
   * Hands `visit` each of series `ids`' data that tier `k`'s rows come
   * from, within `(lo, hi]` (and the sample before, for the raw
   * samples): the raw samples for the first downsampled tier (one
   * column); for a coarser one the finer tier's rows, stored ones only,
   * or with `computed` also those computed past its watermark.
   */
  #finerRows(
    k: number,
    ids: number[],
    lo: number,
    hi: number,
    visit: (
      t: Float64Array,
      columns: Float64Array[],
      n: number,
      id: number,
    ) => void,
    computed: boolean,
  ): void {
    if (k === 1) {
      const res = this.#tiers[1].info.resolutionMs;
      // One window back: a counter's increase starts from the sample before.
      this.#readRaw(ids, this.#tiers[0], lo - res, hi, undefined, (p, id) => {
        visit(p.t, [p.value], p.t.length, id);
      }, false);
      return;
    }
    const late = computed
      ? this.#computed(ids, k - 1, lo, hi, undefined)
      : new Map<number, Piece>();
    this.#readRows(
      ids,
      this.#tiers[k - 1],
      lo,
      hi,
      undefined,
      late,
      (p, id) => {
        const columns = [p.value, p.count!, p.sum!, p.min!, p.max!];
        if (p.increase) columns.push(p.increase);
        visit(p.t, columns, p.t.length, id);
      },
    );
  }

  /**
   * Computes into `out` series `id`'s rows of tier `k` for the windows
   * ending in `(after, upTo]` from its finer data (`t`, `columns`, `n`
   * rows, as {@linkcode #finerRows} gives it).
   */
  #rowsFrom(
    k: number,
    id: number,
    t: Float64Array,
    columns: Float64Array[],
    n: number,
    after: number,
    upTo: number,
    out: WindowRows,
  ): void {
    const res = this.#tiers[k].info.resolutionMs;
    if (k === 1) {
      const counter = this.#counter[id] === 1;
      // The sample before the first window: the raw one at or before
      // `after` or, when the raw samples there are gone (retention, the
      // budget), the last value of the stored row ending at `after`.
      const seed = counter && after > -Infinity && !(n > 0 && t[0] <= after)
        ? this.#storedValueAt(id, after)
        : NaN;
      windowRows(
        t,
        columns[0],
        n,
        res,
        after,
        upTo,
        counter,
        this.#rollAgg!,
        out,
        seed,
      );
      return;
    }
    const agg = this.#foldAgg[k];
    agg.clear(0);
    const row = this.#rollRow;
    const width = columns.length;
    for (let i = 0; i < n; i++) {
      const ti = t[i];
      if (ti <= after) continue;
      if (ti > upTo) break;
      for (let c = 0; c < width; c++) row.set(columns[c].subarray(i, i + 1), c);
      const end = Math.ceil(ti / res) * res;
      const closed = agg.addRow(0, end, row, width);
      if (closed !== 0) out.push(closed, agg.row, agg.columns);
      // A finer row on the window's end completes it: times only go up.
      if (ti === end) {
        agg.take(0);
        out.push(end, agg.row, agg.columns);
      }
    }
    if (agg.isOpen(0) && agg.openEnd(0) <= upTo) {
      const end = agg.take(0);
      out.push(end, agg.row, agg.columns);
    }
  }

  /** The value of series `id`'s stored row of the first downsampled tier at `t` (NaN: none). */
  #storedValueAt(id: number, t: number): number {
    const [p] = this.#readRows(
      [id],
      this.#tiers[1],
      t,
      t,
      undefined,
      new Map(),
    );
    return p && p.t[0] === t ? p.value[0] : NaN;
  }

  /**
   * Before a flush drops raw segments (retention; or the byte budget,
   * which drops the oldest first: as many raw segments as the excess, at
   * most), rolls up (to their last complete window) the series whose
   * rows they still hold, while every raw chunk is still where a read
   * finds it.
   */
  #rollBeforeDrops(disk: Disk, now: number): void {
    const raw = disk.tiers[0];
    const cutoff = now - this.#tiers[0].info.retentionMs;
    let t = -Infinity;
    let total = disk.series.bytes + disk.head.bytes + LOCK_BYTES;
    for (const segs of disk.tiers) total += segs.bytes;
    for (const tier of this.#tiers) total += tier.pendingBytes;
    let excess = total - this.#maxDiskBytes;
    for (const seg of raw.segments) {
      if (seg.maxT < cutoff) t = Math.max(t, seg.maxT);
      else if (excess > 0) {
        excess -= raw.sizeOf(seg);
        t = Math.max(t, seg.maxT);
      } else break;
    }
    if (t === -Infinity) return;
    const ids: number[] = [];
    for (let id = 0; id < this.#index.size; id++) {
      if (this.#rolled[1][id] < t && this.#lastT[id] > this.#rolled[1][id]) {
        ids.push(id);
      }
    }
    if (ids.length > 0) this.#rollup(ids, true);
  }

  /** Stores rows of downsampled tier `k` (a chunk per block). */
  #storeRows(k: number, id: number, rows: WindowRows): void {
    const n = rows.n;
    if (n === 0) return;
    const tier = this.#tiers[k];
    const t = rows.t;
    const columns = rows.view();
    const block = this.#blockMs[k];
    for (let a = 0; a < n;) {
      const blockEnd = Math.ceil(t[a] / block) * block;
      let b = a + 1;
      while (b < n && t[b] <= blockEnd && b - a < tier.chunkRows) b++;
      tier.addRows(id, t, columns, a, b);
      a = b;
    }
  }

  /**
   * The rows of downsampled tier `k` that series `ids` have after their
   * stored ones, within `[start, end]` (and the step windows), computed
   * as the rollup would: for the first downsampled tier from the raw
   * samples (only the windows the read reaches), for a coarser one from
   * the finer tier's rows (stored and computed) since the watermark.
   */
  #computed(
    ids: readonly number[],
    k: number,
    start: number,
    end: number,
    steps: Steps | undefined,
  ): Map<number, Piece> {
    const out = new Map<number, Piece>();
    const res = this.#tiers[k].info.resolutionMs;
    const rolled = this.#rolled[k];
    const due: number[] = [];
    const from = new Map<number, number>();
    const upTo = new Map<number, number>();
    let lo = Infinity;
    let hi = -Infinity;
    for (const id of ids) {
      if (steps && !steps.overlaps(rolled[id] + 1, end)) continue;
      const target = Math.min(this.#complete(k, id), end);
      if (!(target > rolled[id])) continue;
      let after = rolled[id];
      if (k === 1) {
        // Only the windows the read reaches (rows ending at or after the
        // first time it wants, and the window ending there).
        let want = start;
        if (steps) {
          const ends = steps.ends;
          let i = 0;
          while (i < ends.length && ends[i] <= after) i++;
          if (i < ends.length) want = ends[i] - steps.reachMs;
        }
        after = Math.max(after, Math.ceil(want / res) * res - 2 * res);
      }
      due.push(id);
      from.set(id, after);
      upTo.set(id, target);
      if (after < lo) lo = after;
      if (target > hi) hi = target;
    }
    if (due.length === 0) return out;
    const rows = new WindowRows();
    this.#finerRows(k, due, lo, hi, (t, columns, n, id) => {
      rows.clear();
      this.#rowsFrom(k, id, t, columns, n, from.get(id)!, upTo.get(id)!, rows);
      if (rows.n > 0) {
        out.set(id, {
          t: rows.t.slice(0, rows.n),
          columns: rows.view().map((c) => c.slice()),
        });
      }
    }, true);
    return out;
  }

  /**
   * Seals the open raw chunks of series that have stopped (last sample
   * `staleMs` before `now`, the newest sample of all) and rolls their
   * rows up to their last windows, which close: a closed window's end
   * becomes the series' last time, so a late sample cannot land in it.
   */
  #closeStale(now: number): void {
    if (now === -Infinity) return;
    const tiers = this.#tiers;
    const cutoff = now - this.#staleMs;
    const stopped: number[] = [];
    for (let id = 0; id < this.#index.size; id++) {
      if (!(this.#lastT[id] < cutoff)) continue;
      tiers[0].seal(id);
      if (tiers.length > 1) stopped.push(id);
    }
    if (stopped.length > 0) this.#rollup(stopped, true);
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
    // 1. Retention by time: whole segments whose newest point is too old
    // (raw ones once the rows they hold are stored, see #rollBefore).
    if (this.#tiers.length > 1) this.#rollBeforeDrops(disk, now);
    disk.tiers.forEach((segs, k) => {
      const cutoff = now - this.#tiers[k].info.retentionMs;
      for (const seg of [...segs.segments]) {
        if (seg.maxT < cutoff) this.#dropped[k].retention += segs.remove(seg);
      }
    });
    // 2. What this flush writes: new series, sealed chunks, head records.
    const seriesBatch = new ByteWriter();
    for (let id = this.#seriesWritten; id < this.#index.size; id++) {
      const labels = this.#index.labels(id);
      if (labels) {
        encodeSeriesRecord(seriesBatch, {
          id,
          kind: this.#index.kind(id),
          labels,
        });
      }
    }
    const pending: PendingChunk[][] = this.#tiers.map((t) => t.takePending());
    // The head log is rewritten whole once it has grown well past its
    // last rewrite (superseded records pile up in it).
    const slack = Math.min(MIB, this.#maxDiskBytes / 16);
    let checkpoint = this.#wholeHeadNext ||
      disk.head.bytes > 2 * disk.headBase + slack;
    // 3. The budget: drop the oldest data (segments or chunks about to be
    // written) until everything fits, so the disk never goes over.
    // The lock file (a pid) counts too: every byte under dir does.
    let other = disk.series.bytes + seriesBatch.length + LOCK_BYTES;
    for (const segs of disk.tiers) other += segs.bytes;
    for (const list of pending) {
      for (const p of list) other += chunkRecordBytes(p);
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
    if (seriesBatch.length > 0) disk.series.append(seriesBatch.bytes());
    this.#seriesWritten = this.#index.size;
    // Segments loaded from their footers: their records' CRCs checked, a
    // slice a flush (a bad record is dropped, its file's footer rebuilt).
    let verify = VERIFY_BYTES_PER_FLUSH;
    for (const segs of disk.tiers) verify -= segs.verify(verify);
    // Also without chunks: a write appends the footers of segments closed
    // before (the budget counted them).
    pending.forEach((list, k) => disk.tiers[k].write(encodeChunks(list)));
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
    // MB, and one big buffer per flush is memory the process keeps.
    const w = out ? new ByteWriter(256 * 1024 + 4096) : undefined;
    const record = { id: 0, lastT: 0, chunks };
    let total = 0;
    for (let id = 0; id < this.#index.size; id++) {
      let any = this.#dirty[id] === 1 ||
        (all && this.#lastT[id] > -Infinity);
      for (let k = 0; k < tiers.length; k++) {
        // A tier without open chunks has nothing in the head log.
        if (tiers[k].rowsOnly) chunks[k] = undefined;
        else if (tiers[k].dirty[id] === 1 || (all && any)) {
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
      if (w.length >= 256 * 1024) {
        out!(w.bytes());
        w.reset();
      }
    }
    if (w && w.length > 0) out!(w.bytes());
    return total;
  }

  /** Deletes the oldest segments, then drops the oldest pending chunks, until `total` fits. */
  #evict(disk: Disk, pending: PendingChunk[][], total: number): void {
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
      pending.forEach((list, k) => {
        list.forEach((p, i) => {
          if (p.chunk.maxT < bestT) {
            bestT = p.chunk.maxT;
            pk = k;
            pi = i;
          }
        });
      });
      if (pk >= 0) {
        total -= chunkRecordBytes(pending[pk][pi]);
        pending[pk].splice(pi, 1);
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
