/**
 * Component metrics ("meters"): the numbers a component keeps about its
 * own work (an MQTT connector's connection state, messages and bytes; a
 * schedule's missed firings), declared in its spec and written as plain
 * fields. The engine only holds them; the metrics collector exports each
 * as `<namespace>_<name>{flow, process, ...labels}` at scrape time and the
 * metric history samples it, so a component never touches prom-client.
 *
 * Labels are bounded by construction: each declares its fixed set of
 * values, and a value outside it is refused (a topic, a URL or a message id
 * can never become a label).
 *
 * @module
 */

/** A label of a meter beyond `flow` and `process`, with its fixed values. */
export interface MeterLabel {
  /** The label name (`direction`, `reason`, `result`). */
  readonly name: string;
  /** What its value says, for METRICS.md. */
  readonly help: string;
  /** Every value it may take. */
  readonly values: readonly string[];
}

/** The declaration of one meter, in a component's `meters`. */
export interface MeterSpec {
  /**
   * The name after the namespace prefix: `mqtt_messages_total` is
   * exported as `weir_mqtt_messages_total`. A counter's name ends in
   * `_total`; a name in seconds or bytes ends in `_seconds` or `_bytes`
   * (before `_total`).
   */
  readonly name: string;
  /** `counter` (only goes up while the flow runs) or `gauge`. */
  readonly type: "counter" | "gauge";
  /** The `# HELP` text: one sentence. */
  readonly help: string;
  /** Its base unit, or `""` (default) for a count or a state. */
  readonly unit?: "" | "seconds" | "bytes";
  /** Labels beyond `flow` and `process`, in exposition order. */
  readonly labels?: readonly MeterLabel[];
  /** When it moves, and what an operator must know, for METRICS.md. */
  readonly moves: string;
}

/**
 * One series of a meter in one process: a plain number the component
 * writes (`add`, `set`) and a scrape reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Meter } from "./meters.ts";
 *
 * const m = new Meter({ name: "x_total", type: "counter", help: "X.", moves: "on x" }, {});
 * m.add();
 * m.add(2);
 * assert.equal(m.value, 3);
 * ```
 */
export class Meter {
  /** The current value. */
  value = 0;

  /** A series of `spec` with `labels` (checked by {@linkcode ProcessMeters}). */
  constructor(
    readonly spec: MeterSpec,
    readonly labels: Readonly<Record<string, string>>,
  ) {}

  /** Adds `n` (default 1). */
  add(n = 1): void {
    this.value += n;
  }

  /** Sets the value (a gauge's state, or a counter mirrored from a library). */
  set(value: number): void {
    this.value = value;
  }
}

const NAME_RE = /^[a-z_][a-z0-9_]*$/;
const LABEL_RE = /^[a-z_][a-z0-9_]*$/;
/**
 * The names (after the namespace) of the metrics weir exports itself,
 * besides its built-in components' meters: the engine's, the flow
 * server's, the resource, history, remote write and collector metrics
 * (METRICS.md; `tests/metrics/meter_families_test.ts` keeps the two
 * alike). A meter of one of these names could never be exported, as the
 * collector holds the name already: it is refused where it is declared.
 * The histograms' series names (`_bucket`, `_sum`, `_count`) are taken
 * too.
 */
export const WEIR_METRIC_NAMES: Readonly<
  Record<string, "counter" | "gauge" | "histogram">
> = Object.freeze({
  process_messages_total: "counter",
  process_message_latency_seconds: "histogram",
  process_queue_depth: "gauge",
  process_processing_seconds: "histogram",
  process_buffered_bytes: "gauge",
  process_active_activations: "gauge",
  process_errors_total: "counter",
  process_last_error_timestamp_seconds: "gauge",
  process_starts_total: "counter",
  process_failures_total: "counter",
  circuit_breaker_state: "gauge",
  messages_dropped_total: "counter",
  network_active_processes: "gauge",
  network_active_connections: "gauge",
  network_latency_seconds: "histogram",
  network_message_backlog: "gauge",
  network_buffered_bytes: "gauge",
  network_bytes_pressure: "gauge",
  network_partitions: "gauge",
  flows_active: "gauge",
  flow_operations_total: "counter",
  flow_state: "gauge",
  flow_restarts_total: "counter",
  flow_failures_total: "counter",
  cpu_usage_ratio: "gauge",
  memory_bytes: "gauge",
  event_loop_lag_seconds: "histogram",
  threads: "gauge",
  tcp_connections: "gauge",
  build_info: "gauge",
  history_samples_appended_total: "counter",
  history_series: "gauge",
  history_storage_bytes: "gauge",
  history_chunks_written_total: "counter",
  history_chunks_dropped_total: "counter",
  history_flush_duration_seconds: "histogram",
  history_corrupt_chunks_skipped_total: "counter",
  history_sample_ticks_skipped_total: "counter",
  history_sample_duration_seconds: "histogram",
  remote_write_samples_total: "counter",
  remote_write_samples_failed_total: "counter",
  remote_write_samples_retried_total: "counter",
  remote_write_samples_dropped_total: "counter",
  remote_write_bytes_total: "counter",
  remote_write_lag_seconds: "gauge",
  remote_write_pending_samples: "gauge",
  remote_write_requests_in_flight: "gauge",
  remote_write_request_duration_seconds: "histogram",
  metrics_collection_errors_total: "counter",
  metrics_series_refused_total: "counter",
});

/**
 * The names a metric of full name `name` and `type` takes in an
 * exposition: its family's (OpenMetrics drops a counter's `_total`) and its
 * samples'. The collector checks a metric against the others by them, and
 * a meter against weir's own metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exposedNames } from "./meters.ts";
 *
 * assert.deepEqual(exposedNames("x_total", "counter"), ["x", "x_total", "x_created"]);
 * assert.deepEqual(exposedNames("g", "gauge"), ["g"]);
 * ```
 */
export function exposedNames(name: string, type: string): string[] {
  switch (type) {
    case "counter": {
      const family = name.endsWith("_total") ? name.slice(0, -6) : name;
      return [family, `${family}_total`, `${family}_created`];
    }
    case "histogram":
      return [
        name,
        `${name}_bucket`,
        `${name}_sum`,
        `${name}_count`,
        `${name}_created`,
      ];
    case "summary":
      return [name, `${name}_sum`, `${name}_count`, `${name}_created`];
    default:
      return [name];
  }
}

/** Every exposed name of weir's own metrics, to the metric that takes it. */
let _weirExposed: Map<string, string> | undefined;

/** The weir metric a meter `name` of `type` would clash with, if any. */
function _weirMetricOf(name: string, type: string): string | undefined {
  if (_weirExposed === undefined) {
    _weirExposed = new Map();
    for (const [metric, t] of Object.entries(WEIR_METRIC_NAMES)) {
      for (const n of exposedNames(metric, t)) _weirExposed.set(n, metric);
    }
  }
  for (const n of exposedNames(name, type)) {
    const metric = _weirExposed.get(n);
    if (metric !== undefined) return metric;
  }
  return undefined;
}

/** Labels every meter series carries already, or Prometheus reserves. */
const RESERVED_LABELS = new Set(["flow", "process", "le", "quantile"]);

/**
 * Checks a component's meter declarations; returns them frozen or throws a
 * `TypeError` naming the meter and what is wrong with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMeterSpecs } from "./meters.ts";
 *
 * assert.throws(
 *   () => checkMeterSpecs("x/Y", [{ name: "runs", type: "counter", help: "Runs.", moves: "per run" }]),
 *   /counter "runs" must end in _total/,
 * );
 * ```
 */
export function checkMeterSpecs(
  component: string,
  specs: readonly MeterSpec[],
): readonly MeterSpec[] {
  const where = `Cannot define component "${component}"`;
  if (!Array.isArray(specs)) {
    throw new TypeError(`${where}: meters must be an array of declarations`);
  }
  const seen = new Set<string>();
  const out: MeterSpec[] = [];
  for (const s of specs) {
    const name = s?.name;
    if (typeof name !== "string" || !NAME_RE.test(name)) {
      throw new TypeError(
        `${where}: meter name must be lower case letters, digits and _, received ${
          JSON.stringify(name)
        }`,
      );
    }
    const what = `${where}: meter "${name}"`;
    if (seen.has(name)) throw new TypeError(`${what} is declared twice`);
    const weirs = _weirMetricOf(name, s.type);
    if (weirs !== undefined) {
      throw new TypeError(
        `${what} ${
          weirs === name ? "has the name of" : "would clash with"
        } weir's own metric <namespace>_${weirs} (weir_${weirs} in METRICS.md), so its series could never be exported; give it a name of its own, e.g. "${
          component.split("/")[0].toLowerCase().replace(/[^a-z0-9_]/g, "_")
        }_${name}"`,
      );
    }
    seen.add(name);
    if (s.type !== "counter" && s.type !== "gauge") {
      throw new TypeError(
        `${what} has type ${
          JSON.stringify(s.type)
        }; a meter is a "counter" or a "gauge"`,
      );
    }
    if (s.type === "counter" && !name.endsWith("_total")) {
      throw new TypeError(
        `${where}: counter "${name}" must end in _total (Prometheus's convention)`,
      );
    }
    if (s.type === "gauge" && name.endsWith("_total")) {
      throw new TypeError(
        `${what} is a gauge: only a counter's name ends in _total`,
      );
    }
    const unit = s.unit ?? "";
    if (unit !== "" && unit !== "seconds" && unit !== "bytes") {
      throw new TypeError(
        `${what} has unit ${
          JSON.stringify(unit)
        }; use "seconds", "bytes" or none`,
      );
    }
    const base = s.type === "counter" ? name.slice(0, -"_total".length) : name;
    if (unit !== "" && !base.endsWith(`_${unit}`)) {
      throw new TypeError(
        `${what} is in ${unit}: its name must end in _${unit}${
          s.type === "counter" ? "_total" : ""
        }`,
      );
    }
    for (const field of ["help", "moves"] as const) {
      if (typeof s[field] !== "string" || s[field].trim() === "") {
        throw new TypeError(`${what} needs a ${field} sentence`);
      }
    }
    const labels: MeterLabel[] = [];
    const labelNames = new Set<string>();
    for (const l of s.labels ?? []) {
      if (typeof l?.name !== "string" || !LABEL_RE.test(l.name)) {
        throw new TypeError(
          `${what}: label name must be lower case letters, digits and _, received ${
            JSON.stringify(l?.name)
          }`,
        );
      }
      if (RESERVED_LABELS.has(l.name) || l.name.startsWith("__")) {
        throw new TypeError(
          `${what}: label "${l.name}" is reserved (every meter carries flow and process)`,
        );
      }
      if (labelNames.has(l.name)) {
        throw new TypeError(`${what}: label "${l.name}" is declared twice`);
      }
      labelNames.add(l.name);
      if (
        !Array.isArray(l.values) || l.values.length === 0 ||
        (l.values as readonly unknown[]).some((v) => typeof v !== "string") ||
        new Set(l.values).size !== l.values.length
      ) {
        throw new TypeError(
          `${what}: label "${l.name}" needs its fixed set of values (distinct strings): labels stay bounded`,
        );
      }
      if (typeof l.help !== "string" || l.help.trim() === "") {
        throw new TypeError(`${what}: label "${l.name}" needs a help sentence`);
      }
      labels.push(
        Object.freeze({ ...l, values: Object.freeze([...l.values]) }),
      );
    }
    out.push(Object.freeze({ ...s, unit, labels: Object.freeze(labels) }));
  }
  return Object.freeze(out);
}

/**
 * Whether two declarations of one meter name agree (type, unit, help and
 * labels), as two components sharing a meter must.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sameMeter } from "./meters.ts";
 *
 * const a = { name: "x", type: "gauge", help: "X.", moves: "m" } as const;
 * assert.equal(sameMeter(a, { ...a }), true);
 * assert.equal(sameMeter(a, { ...a, help: "Y." }), false);
 * ```
 */
export function sameMeter(a: MeterSpec, b: MeterSpec): boolean {
  if (
    a.name !== b.name || a.type !== b.type || a.help !== b.help ||
    (a.unit ?? "") !== (b.unit ?? "")
  ) return false;
  const la = a.labels ?? [];
  const lb = b.labels ?? [];
  return la.length === lb.length &&
    la.every((l, i) =>
      l.name === lb[i].name && l.values.length === lb[i].values.length &&
      l.values.every((v, j) => v === lb[i].values[j])
    );
}

/**
 * The meters of one process: the series its component asked for with
 * `ctx.meter()`, created on first ask and kept for the run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessMeters } from "./meters.ts";
 *
 * const meters = new ProcessMeters("x/Y", [{
 *   name: "runs_total", type: "counter", help: "Runs.", moves: "per run",
 *   labels: [{ name: "result", help: "how it ended", values: ["ok", "failed"] }],
 * }]);
 * meters.meter("runs_total", { result: "ok" }).add();
 * assert.equal(meters.meter("runs_total", { result: "ok" }).value, 1);
 * assert.throws(() => meters.meter("runs_total", { result: "maybe" }), /one of "ok", "failed"/);
 * ```
 */
export class ProcessMeters {
  /** Every series asked for, in the order asked. */
  readonly list: Meter[] = [];
  readonly #byKey = new Map<string, Meter>();

  /** The meters of a process of `component`, declared by `specs`. */
  constructor(
    readonly component: string,
    readonly specs: readonly MeterSpec[],
  ) {}

  /**
   * The series of meter `name` with `labels` (every declared label, each
   * one of its values). Throws a `RangeError` naming what is wrong.
   */
  meter(name: string, labels: Readonly<Record<string, string>> = {}): Meter {
    const spec = this.specs.find((s) => s.name === name);
    if (spec === undefined) {
      throw new RangeError(
        `${this.component} has no meter "${name}"; it declares ${
          this.specs.map((s) => `"${s.name}"`).join(", ") || "none"
        }`,
      );
    }
    const declared = spec.labels ?? [];
    let key = name;
    for (const l of declared) {
      const v = labels[l.name];
      if (!l.values.includes(v)) {
        throw new RangeError(
          `${this.component}: meter "${name}" label "${l.name}" must be one of ${
            l.values.map((x) => JSON.stringify(x)).join(", ")
          }, received ${v === undefined ? "none" : JSON.stringify(v)}`,
        );
      }
      key += "\u0000" + v;
    }
    for (const k of Object.keys(labels)) {
      if (!declared.some((l) => l.name === k)) {
        throw new RangeError(
          `${this.component}: meter "${name}" has no label "${k}"`,
        );
      }
    }
    let m = this.#byKey.get(key);
    if (m === undefined) {
      const own: Record<string, string> = {};
      for (const l of declared) own[l.name] = labels[l.name];
      m = new Meter(spec, Object.freeze(own));
      this.#byKey.set(key, m);
      this.list.push(m);
    }
    return m;
  }
}
