/**
 * The one place that imports prom-client (15.1.3, its last release): its
 * successor `@prometheus-io/client` has the same API, so a switch is this
 * file.
 *
 * @module
 */
import { type Metric, Registry, type RegistryContentType } from "prom-client";

export { Registry };

/** One sample of a metric, as prom-client's formatter takes it. */
export interface Sample {
  /** The sample's value. */
  value: number;
  /** Its labels (with `le` for a histogram bucket). */
  labels: Readonly<Record<string, string | number>>;
  /** `name_bucket`, `name_sum`, `name_count`; the metric's name when absent. */
  metricName?: string;
}

/** A metric as prom-client's formatter reads it. */
export interface MetricObject {
  /** The family name (for an OpenMetrics counter, without `_total`). */
  name: string;
  /** Help text. */
  help: string;
  /** Its type. */
  type: string;
  /** How prom-client's cluster mode would merge it. */
  aggregator: string;
  /** Its samples. */
  values: Sample[];
}

/** Anything a prom-client `Registry` can hold and format. */
export interface MetricLike {
  /** The name it is registered under. */
  name: string;
  /** Help text. */
  help: string;
  /** Its type. */
  type: string;
  /** Label names, when prom-client knows them. */
  labelNames?: readonly string[];
  /** Reads the samples (prom-client runs `collect` callbacks here). */
  get(): Promise<MetricObject>;
}

interface Formatter {
  getMetricsAsString(metric: MetricLike): Promise<string>;
}

/**
 * A registry that formats one metric in a format, with constant labels.
 * (`getMetricsAsString` is prom-client's per-metric formatter: the whole
 * registry's `metrics()` cannot skip one failing metric.)
 */
export function newFormatter(
  openMetrics: boolean,
  constLabels: Readonly<Record<string, string>>,
): (metric: MetricLike) => Promise<string> {
  const r = new Registry<RegistryContentType>();
  if (openMetrics) r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  if (Object.keys(constLabels).length > 0) {
    r.setDefaultLabels({ ...constLabels });
  }
  const f = r as unknown as Formatter;
  return (metric) => f.getMetricsAsString(metric);
}

/** Every metric registered in `registry`, in registration order. */
export function metricsOf(registry: Registry): MetricLike[] {
  return registry.getMetricsAsArray() as unknown as MetricLike[];
}

/** Registers a metric that is not a prom-client class. */
export function registerMetric(registry: Registry, metric: MetricLike): void {
  registry.registerMetric(metric as unknown as Metric);
}
