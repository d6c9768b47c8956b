/**
 * weir's metrics: the catalogue, the collector that exports the engine's
 * statistics through prom-client, the process wrapper, and the exposition
 * formats. The only part of weir that imports prom-client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsCollector } from "./mod.ts";
 *
 * const metrics = new MetricsCollector({ namespace: "edge" });
 * assert.match(await metrics.render("text"), /^# TYPE edge_flows_active gauge$/m);
 * ```
 *
 * @module
 */
export {
  BREAKER_STATE_VALUES,
  CATALOGUE,
  ERROR_KIND_VALUES,
  FLOW_METRICS,
  FLOW_OPERATION_RESULTS,
  FLOW_OPERATIONS,
  FLOW_STATE_VALUES,
  fullName,
  HISTORY_METRICS,
  HTTP_METHODS,
  HTTP_METRICS,
  type LabelDef,
  type MetricDef,
  type MetricKey,
  METRICS,
  type MetricType,
  RESOURCE_METRICS,
} from "./catalogue.ts";
export {
  type FamilyOutput,
  type HistogramLike,
  MetricsCollector,
  type SeriesSink,
  type WrapProcessLabels,
} from "./collector.ts";
export {
  acceptsGzip,
  CONTENT_TYPES,
  type ExpositionFormat,
  type MetricMetadata,
  type MetricsSource,
  negotiateFormat,
} from "./exposition.ts";
export {
  CONNECTION_BUCKETS,
  connectionMetrics,
  type ConnectionSource,
  httpMetrics,
  httpMetricsFetch,
  type HttpMetricsMiddleware,
  type HttpMetricsOptions,
  type MeasuredFetch,
  type RoutedApp,
  SIZE_BUCKETS,
  UNMATCHED_ROUTE,
} from "./http_metrics.ts";
export { metricsMarkdown } from "./metrics_doc.ts";
export {
  DEFAULT_MAX_SERIES_PER_METRIC,
  type MetricsOptions,
  type ResolvedMetricsOptions,
  resolveMetricsOptions,
} from "./options.ts";
export { Rendition, SharedRenders } from "./shared_renders.ts";
export {
  type CpuTimes,
  DEFAULT_LAG_BUCKETS,
  type MemoryReading,
  type NetworkBytes,
  type ResourceSource,
  ResourceTracker,
  type ResourceTrackerOptions,
} from "./resource_tracker.ts";
