/**
 * Remote write's own metrics (`REMOTE_WRITE_METRICS` of the catalogue),
 * read from each `RemoteWriter`'s stats at every scrape.
 *
 * @module
 */
import type { FamilyOutput, MetricsCollector } from "../metrics/collector.ts";
import { type MetricDef, REMOTE_WRITE_METRICS } from "../metrics/catalogue.ts";
import type { RemoteWriter } from "./remote_write.ts";

/**
 * Adds remote write's metrics (`REMOTE_WRITE_METRICS` of the catalogue)
 * for `writers` to `collector`, one series per destination; returns the
 * function that removes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsCollector } from "../metrics/collector.ts";
 * import { RemoteWriter } from "./remote_write.ts";
 * import { remoteWriteMetrics } from "./remote_write_metrics.ts";
 * import { HistoryStore } from "./store.ts";
 *
 * const store = await HistoryStore.open();
 * const source = { newestTime: () => -Infinity, intervalMs: 1000, tiers: store.tiers,
 *   selectEach: () => {}, select: () => [] };
 * const writer = new RemoteWriter(source, { url: "http://127.0.0.1:9/write", name: "central" });
 * const collector = new MetricsCollector();
 * const remove = remoteWriteMetrics(collector, () => [writer]);
 * const text = await collector.render();
 * assert.match(text, /^weir_remote_write_samples_total\{destination="central"\} 0$/m);
 * assert.doesNotMatch(text, /weir_remote_write_lag_seconds\{/); // no cursor yet
 * remove();
 * await store.close();
 * ```
 */
export function remoteWriteMetrics(
  collector: MetricsCollector,
  writers: () => Iterable<RemoteWriter>,
): () => void {
  const M = REMOTE_WRITE_METRICS;
  const each = (
    f: (
      out: FamilyOutput,
      w: RemoteWriter,
      labels: { destination: string },
    ) => void,
  ) =>
  (out: FamilyOutput) => {
    for (const w of writers()) f(out, w, { destination: w.name });
  };
  const families: [MetricDef, (out: FamilyOutput) => void][] = [
    [M.remoteWriteSamples, each((o, w, l) => o.sample(l, w.stats.samplesSent))],
    [
      M.remoteWriteSamplesFailed,
      each((o, w, l) => o.sample(l, w.stats.samplesFailed)),
    ],
    [
      M.remoteWriteSamplesRetried,
      each((o, w, l) => o.sample(l, w.stats.samplesRetried)),
    ],
    [
      M.remoteWriteSamplesDropped,
      each((o, w, l) => {
        for (const reason of ["rejected", "too_old"] as const) {
          o.sample({ ...l, reason }, w.stats.samplesDropped[reason]);
        }
      }),
    ],
    [M.remoteWriteBytes, each((o, w, l) => o.sample(l, w.stats.bytesSent))],
    [
      M.remoteWriteLag,
      each((o, w, l) => {
        const lag = w.lagSeconds;
        if (!Number.isNaN(lag)) o.sample(l, lag);
      }),
    ],
    [M.remoteWritePending, each((o, w, l) => o.sample(l, w.stats.pending))],
    [M.remoteWriteInFlight, each((o, w, l) => o.sample(l, w.stats.inFlight))],
    [
      M.remoteWriteRequestDuration,
      each((o, w, l) => o.histogram(l, w.stats.requestSeconds)),
    ],
  ];
  const removers = families.map(([def, f]) => collector.addFamily(def, f));
  return () => {
    for (const r of removers) r();
  };
}
