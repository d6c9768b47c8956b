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
 * @module
 */
import { mkdirSync } from "node:fs";
import { clearInterval, setInterval } from "node:timers";
import { join } from "node:path";
import { ByteWriter } from "./_bytes.ts";
import { CorruptChunkError, decodeChunk } from "./codec.ts";
import {
  COL_COUNT,
  COL_INCREASE,
  COL_MAX,
  COL_MIN,
  COL_SUM,
  COL_VALUE,
} from "./aggregator.ts";
import {
  encodeHeadRecord,
  type HeadChunkSource,
  headRecordBytes,
  parseHeadRecord,
} from "./head_log.ts";
import { RECORD_HEADER_BYTES } from "./record_frame.ts";
import { RecordFile } from "./record_file.ts";
import { type ChunkRecord, encodeChunks, SegmentDir } from "./segments.ts";
import { SeriesIndex } from "./series_index.ts";
import { encodeSeriesRecord, parseSeriesRecord } from "./series_file.ts";
import { type PendingChunk, type Piece, Tier } from "./tier.ts";
import type {
  HistoryReader,
  LabelMatcher,
  SeriesKind,
  SeriesLabels,
  SeriesPoints,
  TierInfo,
} from "./types.ts";

/** A tier as the options declare it. */
export interface TierOptions {
  /** `raw`, `1m`, `1h`, ...: also its folder name (letters, digits, `_`, `-`). */
  readonly name: string;
  /** Point spacing (ms); the first tier is raw and must equal `intervalMs`. */
  readonly resolutionMs: number;
  /** How long its points are kept (ms). */
  readonly retentionMs: number;
  /**
   * Rows per chunk of the raw and of the last tier. Default 120 for raw,
   * 60 for the last. A tier between holds one window of the next per chunk.
   * With the default, a raw series' first chunk is cut at between 60 and
   * 120 rows (by its id), so series started together seal at different
   * flushes.
   */
  readonly chunkRows?: number;
}

/** Options of {@linkcode HistoryStore.open}. */
export interface HistoryStoreOptions {
  /** The folder for the files (`<dir>/series.log`, `head.log`, `<tier>/*.seg`). Default: none, memory only. */
  dir?: string;
  /** The sampling interval (ms). Default 1000. */
  intervalMs?: number;
  /** The tiers, raw first. Default raw (interval, 1 d), `1m` (30 d), `1h` (730 d). */
  tiers?: readonly TierOptions[];
  /** The byte budget of all files together. Default 256 MiB. */
  maxDiskBytes?: number;
  /** How often the store flushes by itself (ms); 0: only when `flush()` is called. Default 10_000 (with a `dir`). */
  flushIntervalMs?: number;
  /** Hears about dropped corrupt data and other trouble. Default: `console.warn`. */
  onWarning?: (message: string) => void;
  /** The clock retention measures from (ms). Default `Date.now`. */
  now?: () => number;
  /** Sealed chunks per series per tier kept in memory. Default 0 with a `dir`, 32 without. */
  memoryChunks?: number;
  /** Size at which a segment file is closed. Default: 1/32 of the budget, between 4 KiB and 4 MiB. */
  segmentBytes?: number;
  /**
   * A series whose last sample is this much (ms) older than the newest
   * sample of any series has stopped: at the next flush its open chunks are
   * sealed and its open windows closed, so its memory goes and its history
   * waits for retention. Measured against the samples, not the clock, so a
   * store whose writer paused (or a backfill) closes nothing early.
   * Default 300_000.
   */
  staleMs?: number;
}

/** The store's figures for one tier. */
export interface TierStats {
  /** The tier's name. */
  name: string;
  /** Bytes of chunks in memory (open and ring). */
  memoryBytes: number;
  /** Bytes of its segment files. */
  diskBytes: number;
  /** Chunks written to its segments since start. */
  chunksWritten: number;
  /** Chunks dropped since start, by reason. */
  chunksDropped: { retention: number; budget: number };
}

/** Upper bounds (seconds) of {@linkcode HistoryStats.flushSecondsBuckets}. */
export const FLUSH_BUCKETS: readonly number[] = [
  0.001,
  0.005,
  0.01,
  0.05,
  0.1,
  0.5,
  1,
  5,
];

/** What {@linkcode HistoryStore.stats} reports: the store's own metrics. */
export interface HistoryStats {
  /** Samples accepted by `append()` since start. */
  samplesAppended: number;
  /** Samples refused: timestamp not after the series' last one. */
  outOfOrderDropped: number;
  /** Series held. */
  series: number;
  /** Per tier, raw first. */
  tiers: TierStats[];
  /** Bytes of the series file and the head log. */
  metaDiskBytes: number;
  /**
   * Runs of corrupt bytes skipped while loading (each file warned once),
   * and chunks skipped at read because they did not decode.
   */
  corruptChunksSkipped: number;
  /** Flushes done. */
  flushes: number;
  /** Seconds the last flush took. */
  lastFlushSeconds: number;
  /** Seconds all flushes took. */
  flushSecondsSum: number;
  /** Flushes that took at most {@linkcode FLUSH_BUCKETS}[i] seconds (cumulative). */
  flushSecondsBuckets: number[];
}

const DAY = 86_400_000;
const MIB = 1024 * 1024;
const TIER_NAME = /^[A-Za-z0-9_-]+$/;
/** Most windows of a tier in one window of the next (a chunk holds them all). */
const MAX_CASCADE = 200;

/**
 * The default tiers for a sampling interval: raw (1 day), `1m` (30 days),
 * `1h` (730 days).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultTiers } from "./store.ts";
 *
 * assert.deepEqual(defaultTiers(1000).map((t) => t.name), ["raw", "1m", "1h"]);
 * assert.equal(defaultTiers(5000)[0].resolutionMs, 5000);
 * ```
 */
export function defaultTiers(intervalMs: number): TierOptions[] {
  return [
    { name: "raw", resolutionMs: intervalMs, retentionMs: DAY },
    { name: "1m", resolutionMs: 60_000, retentionMs: 30 * DAY },
    { name: "1h", resolutionMs: 3_600_000, retentionMs: 730 * DAY },
  ];
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
  #decodeWarned = false;
  #staleMs: number;
  /** The newest sample time of any series. */
  #latest = -Infinity;

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
    this.#tiers = tiers.map((t, k) =>
      new Tier(
        k,
        this.tiers[k],
        k === 0 || k === tiers.length - 1
          ? t.chunkRows ?? (k === 0 ? 120 : 60)
          // A tier that feeds a coarser one holds one coarser window per chunk.
          : tiers[k + 1].resolutionMs / t.resolutionMs,
        ring,
        options.dir !== undefined,
        // Default-sized raw chunks are staggered; explicit sizes are kept exact.
        k === 0 && t.chunkRows === undefined,
      )
    );
    for (let k = 1; k + 1 < this.#tiers.length; k++) {
      this.#tiers[k].feeds = this.#tiers[k + 1];
    }
    this.#dropped = tiers.map(() => ({ retention: 0, budget: 0 }));
    if (options.dir !== undefined) {
      const root = options.dir;
      mkdirSync(root, { recursive: true });
      const segmentBytes = options.segmentBytes ??
        Math.min(4 * MIB, Math.max(4096, Math.floor(this.#maxDiskBytes / 32)));
      this.#disk = {
        series: new RecordFile(join(root, "series.log")),
        head: new RecordFile(join(root, "head.log")),
        tiers: tiers.map((t) =>
          new SegmentDir(join(root, t.name), segmentBytes)
        ),
        headBase: 0,
      };
    }
  }

  /**
   * Opens a store: with a `dir`, loads what is there (a corrupt or torn
   * record is dropped with one warning per file; everything else loads)
   * and flushes every `flushIntervalMs`.
   */
  static open(options: HistoryStoreOptions = {}): Promise<HistoryStore> {
    const store = new HistoryStore(options);
    if (store.#disk) {
      store.#load(store.#disk);
      const every = options.flushIntervalMs ?? 10_000;
      if (every > 0) {
        store.#timer = setInterval(() => {
          store.flush().catch((error) =>
            store.#warn(`history: flush failed: ${(error as Error).message}`)
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
    const id = this.#index.ref(labels, kind);
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
    if (t > this.#latest) this.#latest = t;
    this.#dirty[ref] = 1;
    this.#samples++;
    const tiers = this.#tiers;
    tiers[0].appendSample(ref, t, v);
    if (tiers.length > 1) {
      // Only the first downsampled tier sees samples; coarser ones cascade.
      const tier = tiers[1];
      const agg = tier.aggregator!;
      const counter = this.#counter[ref] === 1;
      const end = agg.add(ref, t, v, counter);
      if (end !== 0) tier.appendRow(ref, end, agg.row, counter ? 6 : 5);
      // A sample on the window's end completes it: times only go up.
      if (t === agg.openEnd(ref)) {
        agg.take(ref);
        tier.appendRow(ref, t, agg.row, counter ? 6 : 5);
      }
    }
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
    await this.flush();
    this.#closed = true;
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
        memoryBytes: tier.memoryBytes(),
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
    return this.#read(matchers, tier, ends[0] - reachMs, ends[n - 1], steps);
  }

  #read(
    matchers: readonly LabelMatcher[],
    tier: number,
    start: number,
    end: number,
    steps: Steps | undefined,
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
    const byId = new Map<number, Piece[]>();
    for (const id of ids) byId.set(id, []);
    this.#disk?.tiers[tier].read(
      (id) => byId.has(id),
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
   * Decodes a chunk read from disk; one that does not decode (its CRC
   * held, so a codec change or a bug) is skipped and counted, with one
   * warning per store, rather than failing the query.
   */
  #decode(r: ChunkRecord): Piece | undefined {
    try {
      return decodeChunk(r.bytes);
    } catch (error) {
      if (!(error instanceof CorruptChunkError)) throw error;
      this.#corrupt++;
      if (!this.#decodeWarned) {
        this.#decodeWarned = true;
        this.#warn(
          `history: skipped a chunk of series ${r.id} that does not decode (${error.message}); later ones are counted only`,
        );
      }
      return undefined;
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
    const size = Math.max(n, this.#lastT.length * 2, 64);
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
        const tier = this.#tiers[k];
        const after = diskLast[k].get(id) ?? -Infinity;
        if (part.chunk.length > 0) {
          const { t, columns } = decodeChunk(part.chunk);
          let from = 0;
          while (from < t.length && t[from] <= after) from++;
          tier.restoreOpen(id, t, columns, from);
          if (t.length > from && t[from] < this.#firstT[id]) {
            this.#firstT[id] = t[from];
          }
        } else tier.restoreOpen(id, new Float64Array(0), [], 0);
      });
      if (rec.lastT > this.#lastT[id]) this.#lastT[id] = rec.lastT;
      if (rec.lastT > this.#latest) this.#latest = rec.lastT;
    });
    if (headRuns > 0) warnFile(disk.head.path, headRuns);
    disk.headBase = disk.head.bytes;
    if (this.#tiers.length > 1) this.#rebuildWindows(disk);
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
      if (last === -Infinity) continue;
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
   * Seals the open chunks and closes the open windows of series that have
   * stopped (last sample `staleMs` before `now`, the newest sample of
   * all). A closed window's end becomes the series' last time, so a late
   * sample cannot write that window twice.
   */
  #closeStale(now: number): void {
    if (now === -Infinity) return;
    const tiers = this.#tiers;
    const cutoff = now - this.#staleMs;
    for (let id = 0; id < this.#index.size; id++) {
      const last = this.#lastT[id];
      if (!(last < cutoff)) continue;
      tiers[0].seal(id);
      if (tiers.length < 2) continue;
      const counter = this.#counter[id] === 1;
      const agg = tiers[1].aggregator!;
      let bump = last;
      if (agg.isOpen(id)) {
        const end = agg.windowEnd(last);
        if (end > now) continue; // the clock has not passed the window yet
        agg.take(id);
        tiers[1].appendRow(id, end, agg.row, counter ? 6 : 5);
        bump = end;
      }
      for (let k = 1; k < tiers.length; k++) {
        const tier = tiers[k];
        if (tier.openCount(id) === 0) continue;
        const next = tier.feeds;
        if (next) {
          const res = next.info.resolutionMs;
          const end = Math.ceil(tier.openFirstT(id) / res) * res;
          if (end > now) break;
          tier.seal(id); // appends the coarser window's row
          if (end > bump) bump = end;
        } else tier.seal(id);
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
    if (disk) this.#flushDisk(disk, now);
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
    let checkpoint = disk.head.bytes > 2 * disk.headBase + slack;
    let headBytes = this.#headPass(checkpoint);
    // 3. The budget: drop the oldest data (segments or chunks about to be
    // written) until everything fits, so the disk never goes over.
    let other = disk.series.bytes + seriesBatch.length;
    for (const segs of disk.tiers) other += segs.bytes;
    for (const list of pending) {
      for (const p of list) other += chunkRecordBytes(p);
    }
    let total = other + (checkpoint ? 0 : disk.head.bytes) + headBytes;
    if (total > this.#maxDiskBytes && !checkpoint) {
      // Rewriting the head log is cheaper than dropping data.
      checkpoint = true;
      headBytes = this.#headPass(true);
      total = other + headBytes;
    }
    if (total > this.#maxDiskBytes) {
      this.#evict(disk, pending, total);
    }
    // 4. Write: series before the records that name them, segments before
    // the head log that no longer holds what they hold.
    if (seriesBatch.length > 0) disk.series.append(seriesBatch.bytes());
    this.#seriesWritten = this.#index.size;
    pending.forEach((list, k) => {
      if (list.length > 0) disk.tiers[k].write(encodeChunks(list));
    });
    const fill = (out: (bytes: Uint8Array) => void) => {
      this.#headPass(checkpoint, out);
    };
    if (checkpoint) {
      disk.head.replaceWith(fill);
      disk.headBase = disk.head.bytes;
    } else if (headBytes > 0) disk.head.appendWith(fill);
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
    let total = 0;
    for (let id = 0; id < this.#index.size; id++) {
      let any = this.#dirty[id] === 1 ||
        (all && this.#lastT[id] > -Infinity);
      for (let k = 0; k < tiers.length; k++) {
        if (tiers[k].dirty[id] === 1 || (all && any)) {
          if (w) tiers[k].dirty[id] = 0;
          chunks[k] = sources[k].of(id);
          any = true;
        } else chunks[k] = undefined;
      }
      if (!any) continue;
      const record = { id, lastT: this.#lastT[id], chunks };
      if (!w) {
        total += headRecordBytes(record);
        continue;
      }
      this.#dirty[id] = 0;
      const before = w.length;
      encodeHeadRecord(w, record);
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
        total -= seg.file.bytes;
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

/** A tier's open chunk of one series, written straight into a head record. */
class OpenChunkSource implements HeadChunkSource {
  #tier: Tier;
  #id = 0;
  length = 0;
  columns = 0;

  constructor(tier: Tier) {
    this.#tier = tier;
  }

  of(id: number): this {
    this.#id = id;
    this.length = this.#tier.openBytes(id);
    this.columns = this.length > 0 ? this.#tier.openColumns(id) : 0;
    return this;
  }

  copyTo(out: Uint8Array, at: number): number {
    return this.#tier.copyOpen(this.#id, out, at);
  }
}

function checkTiers(tiers: readonly TierOptions[], intervalMs: number): void {
  if (tiers.length === 0) {
    throw new RangeError(
      "Cannot open history store: tiers must hold at least the raw tier, received []",
    );
  }
  const names = new Set<string>();
  tiers.forEach((t, k) => {
    if (!TIER_NAME.test(t.name) || names.has(t.name)) {
      throw new RangeError(
        `Cannot open history store: tier names must be distinct words of letters, digits, _ or -, received ${
          JSON.stringify(t.name)
        }`,
      );
    }
    names.add(t.name);
    if (!Number.isInteger(t.resolutionMs) || t.resolutionMs <= 0) {
      throw new RangeError(
        `Cannot open history store: tier ${t.name} resolutionMs must be a positive integer, received ${t.resolutionMs}`,
      );
    }
    if (k === 0 && t.resolutionMs !== intervalMs) {
      throw new RangeError(
        `Cannot open history store: the raw tier's resolutionMs must equal intervalMs ${intervalMs}, received ${t.resolutionMs}`,
      );
    }
    if (k > 0 && t.resolutionMs <= tiers[k - 1].resolutionMs) {
      throw new RangeError(
        `Cannot open history store: tier ${t.name} must be coarser than ${
          tiers[k - 1].name
        }, received resolutionMs ${t.resolutionMs}`,
      );
    }
    if (k > 1) {
      // Coarser tiers are built from whole windows of the one before.
      const ratio = t.resolutionMs / tiers[k - 1].resolutionMs;
      if (!Number.isInteger(ratio) || ratio > MAX_CASCADE) {
        throw new RangeError(
          `Cannot open history store: tier ${t.name} resolutionMs must be a multiple (at most ${MAX_CASCADE}x) of tier ${
            tiers[k - 1].name
          }'s ${tiers[k - 1].resolutionMs}, received ${t.resolutionMs}`,
        );
      }
    }
    if (!(t.retentionMs > 0)) {
      throw new RangeError(
        `Cannot open history store: tier ${t.name} retentionMs must be positive, received ${t.retentionMs}`,
      );
    }
  });
}

/** The framed size of a pending chunk's record (as `encodeChunks` writes it). */
function chunkRecordBytes(p: PendingChunk): number {
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

/** Merges a series' pieces (each sorted; pieces disjoint or repeated) within `[start, end]`. */
/** Windows of a step read: `[ends[i] - reachMs, ends[i]]`, and which chunks reach one. */
interface Steps {
  ends: Float64Array;
  reachMs: number;
  overlaps(minT: number, maxT: number): boolean;
}

function mergePieces(
  labels: SeriesLabels,
  kind: SeriesKind,
  pieces: Piece[],
  start: number,
  end: number,
  windows: boolean,
  steps?: Steps,
): SeriesPoints | undefined {
  pieces.sort((a, b) => a.t[0] - b.t[0]);
  // Each piece gives a run [lo, hi) of its points: inside [start, end] and
  // after the previous piece's last kept time (a chunk read from disk and
  // from memory comes twice; chunks of a series never interleave).
  const lo = new Int32Array(pieces.length);
  const hi = new Int32Array(pieces.length);
  let n = 0;
  let last = -Infinity;
  for (let k = 0; k < pieces.length; k++) {
    const t = pieces[k].t;
    const from = Math.max(start, last);
    let a = lowerBound(t, from);
    if (a < t.length && t[a] === last) a++;
    const b = lowerBound(t, end, true);
    lo[k] = a;
    hi[k] = Math.max(a, b);
    if (hi[k] > a) {
      n += hi[k] - a;
      last = t[hi[k] - 1];
    }
  }
  if (n === 0) return undefined;
  const cols = windows ? (kind === "counter" ? 6 : 5) : 1;
  let t = new Float64Array(n);
  let out = Array.from({ length: cols }, () => new Float64Array(n));
  let j = 0;
  for (let k = 0; k < pieces.length; k++) {
    const a = lo[k];
    const b = hi[k];
    if (b <= a) continue;
    const p = pieces[k];
    t.set(p.t.subarray(a, b), j);
    for (let c = 0; c < cols; c++) {
      // A chunk written with fewer columns (older data) reads as NaN there.
      if (c < p.columns.length) out[c].set(p.columns[c].subarray(a, b), j);
      else out[c].fill(NaN, j, j + b - a);
    }
    j += b - a;
  }
  if (steps) {
    // Step reads: only the points inside some step's window (both sorted:
    // one walk).
    const { ends, reachMs } = steps;
    let m = 0;
    let w = 0;
    for (let i = 0; i < n; i++) {
      const ti = t[i];
      while (w < ends.length && ends[w] < ti) w++;
      if (w === ends.length) break;
      if (ends[w] - reachMs > ti) continue;
      t[m] = t[i];
      for (let c = 0; c < cols; c++) out[c][m] = out[c][i];
      m++;
    }
    if (m === 0) return undefined;
    if (m < n) {
      t = t.slice(0, m);
      out = out.map((col) => col.slice(0, m));
    }
  }
  if (!windows) return { labels, kind, t, value: out[0] };
  return {
    labels,
    kind,
    t,
    value: out[COL_VALUE],
    count: out[COL_COUNT],
    sum: out[COL_SUM],
    min: out[COL_MIN],
    max: out[COL_MAX],
    ...(kind === "counter" ? { increase: out[COL_INCREASE] } : {}),
  };
}

/** The first index of sorted `t` with `t[i] >= x` (`> x` when `after`). */
function lowerBound(t: Float64Array, x: number, after = false): number {
  let a = 0;
  let b = t.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (t[mid] < x || (after && t[mid] === x)) a = mid + 1;
    else b = mid;
  }
  return a;
}
