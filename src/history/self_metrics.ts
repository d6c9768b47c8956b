/**
 * The metric history's own metrics (`HISTORY_METRICS` of the catalogue),
 * added to the collector it samples: they are read from the store's and
 * the sampler's statistics at each scrape (and each sampling pass, so the
 * history keeps its own record too).
 *
 * @module
 */
import type {
  FamilyOutput,
  HistogramLike,
  MetricsCollector,
} from "../metrics/collector.ts";
import { HISTORY_METRICS, type MetricDef } from "../metrics/catalogue.ts";
import type { SamplerStats } from "./sampler.ts";
import { FLUSH_BUCKETS, type HistoryStats } from "./store.ts";
import type { Histogram } from "../engine/histogram.ts";

/** Where the history's metrics are read from. */
export interface HistoryMetricsSource {
  /** The store's statistics. */
  store(): HistoryStats;
  /** The sampler's statistics (of the collector being scraped). */
  sampler(): SamplerStats;
  /** The durations of the sampler's passes. */
  readonly passSeconds: Histogram;
}

/**
 * Adds the history's metrics to `collector`; returns a function that
 * removes them again. One `stats()` of the store serves every family of
 * a scrape (they are written one after the other, in one turn).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Histogram } from "../engine/histogram.ts";
 * import { MetricsCollector } from "../metrics/collector.ts";
 * import { HistoryStore } from "./store.ts";
 * import { historyMetrics } from "./self_metrics.ts";
 *
 * const store = await HistoryStore.open();
 * const collector = new MetricsCollector();
 * const remove = historyMetrics(collector, {
 *   store: () => store.stats(),
 *   sampler: () => ({ passes: 0, samples: 0, skippedTicks: 2, lastPassSeconds: 0 }),
 *   passSeconds: new Histogram(),
 * });
 * assert.match(await collector.render(), /^weir_history_sample_ticks_skipped_total 2$/m);
 * remove();
 * assert.doesNotMatch(await collector.render(), /weir_history_/);
 * await store.close();
 * ```
 */
export function historyMetrics(
  collector: MetricsCollector,
  source: HistoryMetricsSource,
): () => void {
  let cached: HistoryStats | null = null;
  const stats = (): HistoryStats => {
    if (cached === null) {
      cached = source.store();
      // The families of one scrape are written in one turn.
      queueMicrotask(() => cached = null);
    }
    return cached;
  };
  const H = HISTORY_METRICS;
  const families: [MetricDef, (out: FamilyOutput) => void][] = [
    [H.historySamplesAppended, (o) => o.sample({}, stats().samplesAppended)],
    [H.historySeries, (o) => o.sample({}, stats().series)],
    [H.historyStorage, (o) => {
      const s = stats();
      for (const t of s.tiers) {
        o.sample({ tier: t.name, medium: "memory" }, t.memoryBytes);
        o.sample({ tier: t.name, medium: "disk" }, t.diskBytes);
      }
      o.sample({ tier: "index", medium: "disk" }, s.metaDiskBytes);
    }],
    [H.historyChunksWritten, (o) => {
      for (const t of stats().tiers) {
        o.sample({ tier: t.name }, t.chunksWritten);
      }
    }],
    [H.historyChunksDropped, (o) => {
      for (const t of stats().tiers) {
        o.sample(
          { tier: t.name, reason: "retention" },
          t.chunksDropped.retention,
        );
        o.sample({ tier: t.name, reason: "budget" }, t.chunksDropped.budget);
      }
    }],
    [H.historyFlushDuration, (o) => o.histogram({}, _flushHistogram(stats()))],
    [H.historyCorruptChunks, (o) => o.sample({}, stats().corruptChunksSkipped)],
    [H.historyTicksSkipped, (o) => o.sample({}, source.sampler().skippedTicks)],
    [H.historySampleDuration, (o) => o.histogram({}, source.passSeconds)],
  ];
  const removers: (() => void)[] = [];
  try {
    for (const [def, collect] of families) {
      removers.push(collector.addFamily(def, collect));
    }
  } catch (e) {
    for (const r of removers) r();
    throw e;
  }
  return () => {
    for (const r of removers) r();
  };
}

/**
 * The store's flush durations as a histogram: its buckets are cumulative
 * counts of {@linkcode FLUSH_BUCKETS}; the collector takes them per bucket.
 */
function _flushHistogram(s: HistoryStats): HistogramLike {
  const cumulative = s.flushSecondsBuckets;
  const counts = cumulative.map((c, i) =>
    c - (i === 0 ? 0 : cumulative[i - 1])
  );
  counts.push(s.flushes - (cumulative.at(-1) ?? 0));
  return {
    bounds: FLUSH_BUCKETS,
    counts,
    sum: s.flushSecondsSum,
    count: s.flushes,
  };
}
