/**
 * What the history store reports about itself (helper C exposes it as
 * metrics).
 *
 * @module
 */

/** The store's figures for one tier. */
export interface TierStats {
  /** The tier's name. */
  name: string;
  /** Bytes in memory: open chunks, ring, window aggregators and the index of its segment files. */
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
