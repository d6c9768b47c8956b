/**
 * weir's metric history: an on-device time-series store of every series
 * weir exports, sampled in process every interval (default 1 s), kept in
 * tiers (raw samples, 1-minute and 1-hour windows with count, sum, min,
 * max, last and a counter's increase), compressed, persisted under a data
 * dir with retention and a byte budget, and read back through
 * {@linkcode HistoryReader} (PromQL and the Prometheus query API read it).
 *
 * An embedding app opens a {@linkcode History}, attaches it to its
 * `MetricsCollector`, queries it with PromQL ({@linkcode queryInstant},
 * {@linkcode queryRange}; `flowApp({ history })` serves Prometheus's query
 * API over it), and closes it at shutdown (which flushes):
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsCollector } from "../metrics/mod.ts";
 * import { History, queryInstant } from "./mod.ts";
 *
 * const collector = new MetricsCollector();
 * const history = await History.open({ exclude: [".*_bucket"] });
 * history.attach(collector);
 * await history.sampleNow();
 * const result = queryInstant(history, "weir_flows_active", Date.now());
 * assert.equal(result.resultType, "vector");
 * assert.deepEqual(
 *   result.resultType === "vector" && result.result[0].value[1],
 *   0,
 * );
 * await history.close();
 * ```
 *
 * @module
 */
export { History, type HistoryOptions } from "./history.ts";
export { HistoryOpenError } from "./history_open_error.ts";
export {
  Sampler,
  type SamplerOptions,
  type SamplerStats,
  type SampleTarget,
  type SeriesFilter,
  seriesFilter,
} from "./sampler.ts";
export {
  parseQuery,
  PromQLError,
  type PromQLErrorType,
  queryInstant,
  type QueryOptions,
  queryRange,
  queryRangeColumns,
  queryRangeSliced,
  type QueryResult,
  type RangeColumns,
  type SlicedQueryOptions,
} from "./promql/mod.ts";
export { historyMetrics, type HistoryMetricsSource } from "./self_metrics.ts";
export {
  type RemoteWriteOptions,
  RemoteWriter,
  type RemoteWriterContext,
  type RemoteWriteSource,
  type RemoteWriteStats,
} from "./remote_write.ts";
export { remoteWriteMetrics } from "./remote_write_metrics.ts";
export {
  defaultTiers,
  FLUSH_BUCKETS,
  type HistoryStats,
  HistoryStore,
  type HistoryStoreOptions,
  type TierOptions,
  type TierStats,
} from "./store.ts";
export type {
  HistoryReader,
  LabelMatcher,
  MatchType,
  SeriesKind,
  SeriesLabels,
  SeriesPoints,
  TierInfo,
} from "./types.ts";
