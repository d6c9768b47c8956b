/**
 * The history store's options: the tiers and their checks, the defaults.
 *
 * @module
 */
import { _SPAN_LIMIT } from "../engine/_duration_limit.ts";

/** A tier as the options declare it. */
export interface TierOptions {
  /** `raw`, `1m`, `1h`, ...: also its folder name (letters, digits, `_`, `-`). */
  readonly name: string;
  /** Point spacing (ms); the first tier is raw and must equal `intervalMs`. */
  readonly resolutionMs: number;
  /** How long its points are kept (ms): over 0, at most 100 years. */
  readonly retentionMs: number;
  /**
   * Rows per chunk. Default 120 for raw; for the last tier 12 when its
   * points are an hour or more apart (half a day of hours; 24 without a
   * `dir`), else 60; for a tier between, {@linkcode MIDDLE_TIER_ROWS}
   * with a `dir` (its rows feed the next tier through a window per
   * series, not through its chunks), one window of the next tier without
   * (the ring is then all the history there is). A tier between also
   * ends a chunk on each window end of the next. With the default, series
   * started together seal at different flushes (and do not all hold full
   * chunks at once): a series' first raw chunk is cut at from 1 row to
   * all of it by its id, and so is its first last-tier chunk on disk; a tier between's chunks end at times staggered by id.
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
  /** Hears that trouble is over (flushes work again). Default: `console.info`. */
  onInfo?: (message: string) => void;
  /** The clock retention measures from (ms). Default `Date.now`. */
  now?: () => number;
  /**
   * Sealed chunks per series per tier kept in memory. Default 0 with a
   * `dir` (reads come from the files; the page cache keeps recent ones
   * warm), 32 without: then the ring is all the history there is (for
   * sure 62 min of raw at 1 s, 31 h of `1m`, 31 days of `1h`: all its
   * chunks but a first short one), whatever the retention says; the
   * store's `tiers` then say that as their retention.
   */
  memoryChunks?: number;
  /**
   * Bytes of decoded raw chunks kept between queries (about 8 a sample),
   * so a query that reads the chunks the last one read copies them
   * instead of decoding them again; only queries fill it. 0 turns it off.
   * Default 64 MiB (the last hour of about 2,000 series at 1 s).
   */
  decodedCacheBytes?: number;
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

const DAY = 86_400_000;
/** Bytes in a MiB. */
export const MIB = 1024 * 1024;
const TIER_NAME = /^[A-Za-z0-9_-]+$/;
/** Most windows of a tier in one window of the next (a chunk holds them all). */
export const MAX_CASCADE = 200;

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

/**
 * Checks the tiers: at least raw, distinct names usable as folder names,
 * positive resolutions, raw at the sampling interval, each coarser than
 * the one before, and tiers past the first downsampled one a whole
 * multiple (at most MAX_CASCADE) of the one before, retentions from over 0
 * to 100 years. Throws RangeError.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTiers, defaultTiers } from "./store_options.ts";
 *
 * checkTiers(defaultTiers(1000), 1000);
 * assert.throws(() => checkTiers([], 1000), /at least the raw tier/);
 * ```
 */
export function checkTiers(
  tiers: readonly TierOptions[],
  intervalMs: number,
): void {
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
    if (t.retentionMs > _SPAN_LIMIT.ms) {
      throw new RangeError(
        `Cannot open history store: tier ${t.name} retentionMs is longer than ${_SPAN_LIMIT.text}, received ${t.retentionMs}`,
      );
    }
  });
}

/**
 * Rows per chunk of the last tier by default: for points an hour or more
 * apart 12 (half a day) in a store on disk, 24 (a day) in memory (its
 * ring is the history there is: larger chunks reach further), else 60.
 * An open chunk stays in memory (and in the head log) until it is
 * sealed: 60 hourly rows held about 1.2 KB a series for two and a half
 * days, 70 MB at the 57,000 series of 100 flows x 10 processes; 24 up to
 * ~360 bytes a series, 20 MB; 12 half that, for a frame header (~110
 * bytes on disk) every 12 hours.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastTierRows } from "./store_options.ts";
 *
 * assert.equal(lastTierRows(3_600_000), 12);
 * assert.equal(lastTierRows(3_600_000, false), 24);
 * assert.equal(lastTierRows(60_000), 60);
 * ```
 */
export function lastTierRows(resolutionMs: number, onDisk = true): number {
  return resolutionMs >= 3_600_000 ? (onDisk ? 12 : 24) : 60;
}

/**
 * Rows per chunk of a downsampled tier that feeds a coarser one (the
 * `1m` tier by default) in a store on disk: 10. An open chunk is memory per series until it
 * is sealed (about 15 bytes a 6-column row); when a minute chunk had to
 * hold a whole hour window it was up to ~1.2 KB a series, 67 MB at the
 * 57,430 series of 100 flows x 10 processes. Each sealed chunk costs a
 * record and a frame header on disk (~110 bytes), so not fewer. A chunk
 * also ends on the next tier's window end (so an hour's last minute row
 * is a chunk's last), and the 10-row ends are staggered by series.
 */
export const MIDDLE_TIER_ROWS = 10;
