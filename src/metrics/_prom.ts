/**
 * The bridge to prom-client, the one file that imports it (15.1.3, its
 * last release): its successor `@prometheus-io/client` has the same API,
 * so a switch is this file. Only documented API is used: `Registry`'s
 * `registerMetric()`, `getMetricsAsArray()`, `removeSingleMetric()` and
 * `setDefaultLabels()`, and each metric's `get()`.
 *
 * Only the `Registry`'s own module is loaded (`prom-client/lib/registry.js`,
 * the class that `prom-client`'s `Registry` is: an app that imports
 * `prom-client` gets the same one), not the package's index, which loads
 * every metric type, the Pushgateway (Node's `http` and `https`), cluster
 * mode and the default metrics: 16,800 objects and 1.8 MB of heap on Bun
 * 1.4.5 against 1,900 and 0.16 MB. With MQTT.js loaded only when used
 * too, `weir serve` on a small flow holds 2.7 MB less (Bun executable) to
 * 4.5 MB less (Deno) memory (bench/RESULTS.md "Session 16").
 *
 * @module
 */
import type { Metric, Registry as PromRegistry } from "prom-client";
// The package types this path only through its index: see the file.
// @ts-types="./_prom_registry.d.ts"
import RegistryClass from "prom-client/lib/registry.js";

/** prom-client's `Registry`. */
export const Registry: typeof PromRegistry = RegistryClass;
/** prom-client's `Registry`. */
export type Registry = PromRegistry;

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
