/**
 * The bridge to prom-client, the one file that imports it (15.1.3, its
 * last release): its successor `@prometheus-io/client` has the same API,
 * so a switch is this file. Only documented API is used: `Registry`'s
 * `registerMetric()`, `getMetricsAsArray()`, `removeSingleMetric()` and
 * `setDefaultLabels()`, and each metric's `get()`.
 *
 * @module
 */
import { type Metric, Registry } from "prom-client";

export { Registry };

/** One sample of a metric, as prom-client's formatter takes it. */
export interface Sample {
  /** The sample's value. */
  value: number;
  /** Its labels (with `le` for a histogram bucket). */
  labels: Readonly<Record<string, string | number>>;
  /** `name_bucket`, `name_sum`, `name_count`; the metric's name when absent. */
  metricName?: string;
  /** Labels of the sample's series, when given apart from its own. */
  sharedLabels?: Readonly<Record<string, string>>;
  /** An exemplar (OpenMetrics only). */
  exemplar?: {
    labelSet: Readonly<Record<string, string | number>>;
    value: number;
    timestamp: number;
  } | null;
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

/**
 * A `Registry` that tells its owner when its default labels are set
 * (`setDefaultLabels()` is prom-client's documented way to set them, and a
 * subclass the documented way to hear of it): weir writes its own
 * families' lines, and labels set on the registry belong on them too.
 */
export class NotifyingRegistry extends Registry {
  readonly #onDefaultLabels: (labels: Record<string, string>) => object;

  /**
   * `onDefaultLabels` checks labels being set (it throws to refuse them)
   * and returns the labels the registry keeps.
   */
  constructor(onDefaultLabels: (labels: Record<string, string>) => object) {
    super();
    this.#onDefaultLabels = onDefaultLabels;
  }

  /** Sets the labels of every sample, once `onDefaultLabels` accepted them. */
  override setDefaultLabels(labels: object): void {
    super.setDefaultLabels(
      this.#onDefaultLabels(labels as Record<string, string>),
    );
  }
}

/** Every metric registered in `registry`, in registration order. */
export function metricsOf(registry: Registry): MetricLike[] {
  return registry.getMetricsAsArray() as unknown as MetricLike[];
}

/** Registers a metric that is not a prom-client class. */
export function registerMetric(registry: Registry, metric: MetricLike): void {
  registry.registerMetric(metric as unknown as Metric);
}
