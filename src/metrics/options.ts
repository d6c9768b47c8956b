/**
 * The metrics options and their checks: a bad option fails at start-up with
 * a sentence that names it and says why.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { checkBuckets, DURATION_BUCKETS } from "../engine/histogram.ts";
import { MAX_TIMER_MS } from "../engine/limits.ts";
import { CATALOGUE } from "./catalogue.ts";

/** Options of a {@linkcode MetricsCollector}. */
export interface MetricsOptions {
  /**
   * Prefix of every catalogue metric: `weir` gives
   * `weir_process_messages_total`. Letters, digits and underscores, not
   * starting with a digit. Default `"weir"`.
   */
  namespace?: string;
  /**
   * Histogram bucket bounds in seconds, ascending, for every flow duration
   * (message latency, processing time, network latency). Flows must be
   * created with the same `buckets`. Default 10 µs to 10 s
   * (`DURATION_BUCKETS`).
   */
  buckets?: readonly number[];
  /**
   * Series (label sets) one metric may hold; series past the cap are left
   * out and counted in `metrics_series_refused_total`. Default 10,000.
   */
  maxSeriesPerMetric?: number;
  /**
   * How long a scrape waits for a registered prom-client metric's
   * `collect` (milliseconds); one that takes longer is left out of that
   * scrape and counted in `metrics_collection_errors_total`. Default 5000.
   */
  collectTimeoutMs?: number;
  /**
   * Labels added to every series, e.g. `{ instance: "gateway-7" }`. Their
   * names must not clash with a catalogue label. Default none.
   */
  constLabels?: Readonly<Record<string, string>>;
}

/** {@linkcode MetricsOptions} with every default filled in. */
export interface ResolvedMetricsOptions {
  /** See {@linkcode MetricsOptions.namespace}. */
  namespace: string;
  /** See {@linkcode MetricsOptions.buckets}. */
  buckets: readonly number[];
  /** See {@linkcode MetricsOptions.maxSeriesPerMetric}. */
  maxSeriesPerMetric: number;
  /** See {@linkcode MetricsOptions.collectTimeoutMs}. */
  collectTimeoutMs: number;
  /** See {@linkcode MetricsOptions.constLabels}. */
  constLabels: Readonly<Record<string, string>>;
}

/** The default series cap per metric. */
export const DEFAULT_MAX_SERIES_PER_METRIC = 10_000;

const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Labels prom-client or Prometheus give a meaning of their own. */
const RESERVED_LABELS = new Set(["le", "quantile"]);

const METRICS_OPTIONS = optionKeys<MetricsOptions>()([
  "namespace",
  "buckets",
  "maxSeriesPerMetric",
  "collectTimeoutMs",
  "constLabels",
]);

/**
 * Fills in the defaults and checks every option; throws a `TypeError` or
 * `RangeError` naming the option and the reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveMetricsOptions } from "./options.ts";
 *
 * assert.deepEqual(resolveMetricsOptions({ namespace: "edge" }).namespace, "edge");
 * assert.throws(
 *   () => resolveMetricsOptions({ namespace: "9lives" }),
 *   /Invalid metrics option "namespace": "9lives" must start/,
 * );
 * ```
 */
export function resolveMetricsOptions(
  options: MetricsOptions = {},
): ResolvedMetricsOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Invalid metrics options: expected an object, received ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  checkOptionKeys("Invalid metrics options", options, METRICS_OPTIONS);
  const namespace = options.namespace ?? "weir";
  if (typeof namespace !== "string" || !NAME_RE.test(namespace)) {
    throw new RangeError(
      `Invalid metrics option "namespace": ${
        JSON.stringify(namespace)
      } must start with a letter or an underscore and hold only letters, digits and underscores`,
    );
  }
  if (namespace.startsWith("__")) {
    throw new RangeError(
      `Invalid metrics option "namespace": ${
        JSON.stringify(namespace)
      } starts with "__", which Prometheus reserves for its own use`,
    );
  }
  const buckets = options.buckets ?? DURATION_BUCKETS;
  try {
    checkBuckets(buckets);
  } catch (e) {
    throw new RangeError(
      `Invalid metrics option "buckets": ${
        (e as Error).message.replace(/^Cannot create histogram: /, "")
      }`,
    );
  }
  if (buckets.some((b) => b <= 0)) {
    throw new RangeError(
      `Invalid metrics option "buckets": durations cannot be negative or zero, so every bound must be above 0, received ${
        buckets.find((b) => b <= 0)
      }`,
    );
  }
  const maxSeriesPerMetric = options.maxSeriesPerMetric ??
    DEFAULT_MAX_SERIES_PER_METRIC;
  if (!Number.isSafeInteger(maxSeriesPerMetric) || maxSeriesPerMetric < 1) {
    throw new RangeError(
      `Invalid metrics option "maxSeriesPerMetric": must be a positive integer, received ${
        String(maxSeriesPerMetric)
      }`,
    );
  }
  const collectTimeoutMs = options.collectTimeoutMs ?? 5000;
  if (
    typeof collectTimeoutMs !== "number" || !(collectTimeoutMs > 0) ||
    collectTimeoutMs > MAX_TIMER_MS
  ) {
    throw new RangeError(
      `Invalid metrics option "collectTimeoutMs": must be a positive number of milliseconds up to ${MAX_TIMER_MS} (what a timer can wait), received ${
        String(collectTimeoutMs)
      }`,
    );
  }
  const constLabels = options.constLabels ?? {};
  if (constLabels === null || typeof constLabels !== "object") {
    throw new TypeError(
      `Invalid metrics option "constLabels": expected an object of label names to values, received ${
        constLabels === null ? "null" : typeof constLabels
      }`,
    );
  }
  for (const [name, value] of Object.entries(constLabels)) {
    checkConstLabel(name, value);
  }
  return {
    namespace,
    buckets: [...buckets],
    maxSeriesPerMetric,
    collectTimeoutMs,
    constLabels: { ...constLabels },
  };
}

function checkConstLabel(name: string, value: unknown): void {
  const where = `Invalid metrics option "constLabels"`;
  if (!NAME_RE.test(name) || name.startsWith("__")) {
    throw new RangeError(
      `${where}: label name ${
        JSON.stringify(name)
      } must start with a letter or an underscore (not two), and hold only letters, digits and underscores`,
    );
  }
  if (RESERVED_LABELS.has(name)) {
    throw new RangeError(
      `${where}: label name "${name}" clashes with the "${name}" label that Prometheus histograms and summaries use`,
    );
  }
  const clash = CATALOGUE.find((d) => d.labels.some((l) => l.name === name));
  if (clash) {
    throw new RangeError(
      `${where}: label name "${name}" clashes with the "${name}" label of the ${clash.name} metric`,
    );
  }
  if (typeof value !== "string") {
    throw new TypeError(
      `${where}: the value of label "${name}" must be a string, received ${typeof value}`,
    );
  }
}
