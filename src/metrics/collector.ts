/**
 * The metrics collector: reads the engine's statistics of every tracked
 * flow at scrape time and exports the catalogue through prom-client.
 *
 * Where this departs from DESIGN.md, and why:
 * - weir's own families are registered in a prom-client `Registry` (so
 *   `registry.metrics()`, `getMetricsAsJSON()` and `Registry.merge()` see
 *   them), but `render()` writes their lines itself: prom-client's
 *   formatter alone needs about 60-90 ms for the 57,000 series of 100 flows
 *   of 10 processes, over the 50 ms a scrape may take. The text is the same
 *   as prom-client's (a test compares them); users' own prom-client metrics
 *   are formatted by prom-client.
 * - `process_errors_total{kind}` has `exception`, `timeout` and `overflow`;
 *   messages an open breaker rejects are drops
 *   (`messages_dropped_total{reason="circuit_open"}`), as in the engine.
 * - Added to the catalogue: `metrics_series_refused_total{metric}`, the
 *   counter of the series cap.
 * - `process_processing_seconds` counts timed activations (the engine
 *   samples synchronous ones, see METRICS.md).
 * - A wrapped function called by the engine passes straight through: the
 *   engine measures it already.
 *
 * @module
 */
import type { HistogramSnapshot } from "../engine/histogram.ts";
import { macrotask, Network, type NetworkStats } from "../engine/network.ts";
import { Histogram } from "../engine/histogram.ts";
import {
  BREAKER_STATE_VALUES,
  ERROR_KIND_VALUES,
  FLOW_OPERATION_RESULTS,
  FLOW_OPERATIONS,
  fullName,
  type MetricDef,
  METRICS,
} from "./catalogue.ts";
import type {
  ExpositionFormat,
  MetricMetadata,
  MetricsSource,
} from "./exposition.ts";
import {
  type MetricLike,
  type MetricObject,
  metricsOf,
  newFormatter,
  registerMetric,
  Registry,
  type Sample,
} from "./_prom.ts";
import {
  type MetricsOptions,
  type ResolvedMetricsOptions,
  resolveMetricsOptions,
} from "./options.ts";
import { type WrappedProcess, wrapProcess } from "./process_wrapper.ts";

type Labels = Readonly<Record<string, string>>;
/** Bucket counts (not cumulative, `+Inf` last), sum and count. */
type HistogramCounts = Pick<HistogramSnapshot, "sum" | "count"> & {
  counts: ArrayLike<number>;
};
type Value = number | null;

/** A series of a counter or gauge: its labels and how to read it. */
interface Series {
  labels: Labels;
  /** The labels as exposition text, `a="1",b="2"` (constant labels not included). */
  text: string;
  read(s: NetworkStats): Value;
}

/** A series of a histogram. */
interface HistSeries {
  labels: Labels;
  text: string;
  read(s: NetworkStats): HistogramCounts | null;
}

/** The series of one tracked flow (or of the wrapped functions), by family. */
interface Tracked {
  name: string;
  network: Network | null;
  /** The statistics of the scrape in progress; `null` between scrapes. */
  stats: NetworkStats | null;
  series: Map<Family, (Series | HistSeries)[]>;
  /**
   * `flow\0process` of the processes whose processing-time series, and
   * whose exception series, were admitted: a wrapped function of the same
   * labels adds into those.
   */
  merged: { processing: string[]; errors: string[] };
}

/** Where a process sits in the statistics, and its labels. */
interface ProcessPlan {
  i: number;
  key: string;
  labels: Labels;
}

/** Options of {@linkcode MetricsCollector.wrapProcess}. */
export interface WrapProcessLabels {
  /** The `flow` label. */
  flow: string;
  /** The `process` label. */
  process: string;
}

/**
 * Where a family added with {@linkcode MetricsCollector.addFamily} writes
 * its samples at scrape time.
 */
export interface FamilyOutput {
  /** One sample of a counter or gauge. */
  sample(labels: Labels, value: number): void;
  /**
   * One series of a histogram: `counts` per bucket of `bounds` (not
   * cumulative), with one more count for `+Inf` last.
   */
  histogram(labels: Labels, h: HistogramLike): void;
}

/** Bucket bounds, per-bucket counts (`+Inf` last), sum and count. */
export interface HistogramLike {
  readonly bounds: ArrayLike<number>;
  readonly counts: ArrayLike<number>;
  readonly sum: number;
  readonly count: number;
}

/** Where a family puts its samples: prom-client objects, or exposition lines. */
interface SampleSink {
  /**
   * One sample of the family's name plus `suffix`; `text` is `labels` as
   * exposition text when known already, and `le` a histogram bucket bound.
   */
  add(
    suffix: string,
    labels: Labels,
    text: string | null,
    value: number,
    le?: string,
  ): void;
}

/** A series before it is admitted (its text is made on admission). */
type Planned = Omit<Series, "text"> | Omit<HistSeries, "text">;

const EMPTY_STATS = {} as NetworkStats;

/** A label value as exposition text (prom-client's escaping). */
function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** Labels as exposition text: `a="1",b="2"`. */
export function labelText(labels: Labels): string {
  let t = "";
  for (const k in labels) {
    t += `${t ? "," : ""}${k}="${escapeLabelValue(labels[k])}"`;
  }
  return t;
}

/** A value as prom-client writes it. */
function valueText(v: number): string {
  if (Number.isFinite(v)) return `${v}`;
  return Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
}

/** Writes samples as exposition lines. */
class LineSink implements SampleSink {
  name = "";
  constructor(readonly lines: string[], readonly constText: string) {}

  add(
    suffix: string,
    labels: Labels,
    text: string | null,
    value: number,
    le?: string,
  ): void {
    let t = text ?? labelText(labels);
    if (le !== undefined) t += `${t ? "," : ""}le="${le}"`;
    if (this.constText) t += `${t ? "," : ""}${this.constText}`;
    this.lines.push(
      `${this.name}${suffix}${t ? `{${t}}` : ""} ${valueText(value)}`,
    );
  }
}

/** Collects samples as prom-client's formatter takes them. */
class ObjectSink implements SampleSink {
  readonly values: Sample[] = [];
  constructor(readonly name: string) {}

  add(
    suffix: string,
    labels: Labels,
    _t: string | null,
    value: number,
    le?: string,
  ): void {
    this.values.push({
      metricName: suffix ? this.name + suffix : undefined,
      labels: le === undefined ? labels : { ...labels, le },
      value,
    });
  }
}

/**
 * A catalogue metric, registered in the collector's prom-client registry:
 * its samples are made from the engine's statistics when a scrape asks,
 * never on the hot path.
 */
class Family implements MetricLike {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly labelNames: readonly string[];
  readonly aggregator = "sum";
  /** Series (label sets) held now; at most the cap. */
  admitted = 0;
  /** Series ever refused by the cap. */
  refused = 0;
  readonly #collector: MetricsCollector;
  readonly #special: ((sink: SampleSink) => void) | undefined;
  /** The OpenMetrics family name: a counter's name without `_total`. */
  readonly #base: string;

  constructor(
    readonly def: MetricDef,
    namespace: string,
    collector: MetricsCollector,
    special?: (sink: SampleSink) => void,
  ) {
    this.name = fullName(def, namespace);
    this.#base = this.name.replace(/_total$/, "");
    this.help = def.help;
    this.type = def.type;
    this.labelNames = def.labels.map((l) => l.name);
    this.#collector = collector;
    this.#special = special;
  }

  /** prom-client's view (`registry.metrics()`, `getMetricsAsJSON()`). */
  get(): Promise<MetricObject> {
    const sink = new ObjectSink(this.name);
    this.#collector._withStats(() => this.collect(sink));
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: sink.values,
    });
  }

  /** Engine counters cannot be reset; prom-client's `resetMetrics()` leaves them. */
  reset(): void {}

  /** Appends the family's exposition lines, `# HELP` and `# TYPE` first. */
  write(sink: LineSink, openMetrics: boolean): void {
    const name = openMetrics && this.type === "counter"
      ? this.#base
      : this.name;
    sink.lines.push(
      `# HELP ${name} ${
        this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
      }`,
      `# TYPE ${name} ${this.type}`,
    );
    sink.name = this.name;
    this.collect(sink);
  }

  /** Puts every sample into `sink`. */
  collect(sink: SampleSink): void {
    if (this.#special !== undefined) return this.#special(sink);
    const hist = this.type === "histogram";
    for (const t of this.#collector._tracked()) {
      const list = t.series.get(this);
      if (list === undefined || t.stats === null) continue;
      for (const x of list) {
        if (hist) this.#histogram(x as HistSeries, t.stats, sink);
        else {
          const v = (x as Series).read(t.stats);
          if (v !== null) sink.add("", x.labels, x.text, v);
        }
      }
    }
  }

  #histogram(x: HistSeries, s: NetworkStats, sink: SampleSink): void {
    const h = x.read(s);
    if (h === null) return;
    const le = this.#collector._le;
    let cumulative = 0;
    for (let j = 0; j < le.length; j++) {
      cumulative += h.counts[j];
      sink.add("_bucket", x.labels, x.text, cumulative, le[j]);
    }
    sink.add("_sum", x.labels, x.text, h.sum);
    sink.add("_count", x.labels, x.text, h.count);
  }
}

/**
 * Exports weir's metric catalogue for the flows it tracks, in Prometheus
 * text 0.0.4 or OpenMetrics, through its own prom-client `Registry` (never
 * the global one). Statistics are read from each flow when a scrape asks,
 * so messages never touch prom-client.
 *
 * Register your own prom-client metrics in {@linkcode registry}: they are
 * scraped with weir's, and one that throws is left out and counted.
 *
 * @example
 * ```ts
 * import { MetricsCollector } from "./collector.ts";
 * import { createNetwork } from "../embed.ts";
 *
 * const metrics = new MetricsCollector();
 * const net = createNetwork(`
 *   '1ms' -> interval Tick(core/Interval)
 *   5 -> count Tick
 *   Tick out -> in Sink(core/Drop)
 * `, { name: "ticks" });
 * metrics.track(net);
 * await net.start();
 * await net.finished;
 * const text = await metrics.render("text");
 * text.includes('weir_process_messages_total{flow="ticks",process="Sink",port="in",direction="in"} 5'); // true
 * ```
 */
export class MetricsCollector implements MetricsSource {
  /** This collector's prom-client registry (per instance, never the global one). */
  readonly registry: Registry = new Registry();
  /** The options in force, defaults filled in. */
  get options(): Readonly<ResolvedMetricsOptions> {
    return this.#options;
  }
  #options: Readonly<ResolvedMetricsOptions>;
  readonly #flows = new Map<string, Tracked>();
  readonly #families = new Map<string, Family>();
  readonly #wrapped: Tracked = {
    name: "",
    network: null,
    stats: EMPTY_STATS,
    series: new Map(),
    merged: { processing: [], errors: [] },
  };
  readonly #wrappers = new Map<string, WrappedProcess>();
  /** Families added by other parts of weir, by full name. */
  readonly #added = new Map<string, Family>();
  /** Tracked processes a wrapped function adds into, by `flow\0process`. */
  readonly #merged = {
    processing: new Map<string, number>(),
    errors: new Map<string, number>(),
  };
  readonly #operations = new Map<string, number>();
  readonly #collectionErrors = new Map<string, number>([["engine", 0]]);
  #formatText!: (m: MetricLike) => Promise<string>;
  #formatOm!: (m: MetricLike) => Promise<string>;
  readonly #self: Family[];
  #constText = "";
  #scraping = false;
  /** Statistics read for prom-client's own `registry.metrics()`, this tick. */
  #borrowed = false;
  #tail: Promise<unknown> = Promise.resolve();
  /** @internal The histogram `le` values, `+Inf` last. */
  readonly _le: readonly string[];

  /** Creates a collector; a bad option throws, naming the option and the reason. */
  constructor(options: MetricsOptions = {}) {
    this.#options = Object.freeze(resolveMetricsOptions(options));
    const ns = this.options.namespace;
    for (const op of FLOW_OPERATIONS) {
      for (const r of FLOW_OPERATION_RESULTS) {
        this.#operations.set(`${op}\0${r}`, 0);
      }
    }
    const special: Partial<
      Record<keyof typeof METRICS, (sink: SampleSink) => void>
    > = {
      flowsActive: (sink) => {
        let n = 0;
        for (const t of this.#flows.values()) {
          const st = t.network!.state;
          if (st === "running" || st === "draining") n++;
        }
        sink.add("", {}, "", n);
      },
      flowOperations: (sink) => {
        for (const [k, v] of this.#operations) {
          const [operation, result] = k.split("\0");
          sink.add("", { operation, result }, null, v);
        }
      },
      metricsCollectionErrors: (sink) => {
        for (const [collector, v] of this.#collectionErrors) {
          sink.add("", { collector }, null, v);
        }
      },
      metricsSeriesRefused: (sink) => {
        for (const [k, f] of this.#families) {
          if (
            special[k as keyof typeof METRICS] &&
            k !== "metricsCollectionErrors"
          ) continue;
          sink.add("", { metric: f.name }, null, f.refused);
        }
      },
    };
    for (const [key, def] of Object.entries(METRICS)) {
      const f = new Family(
        def,
        ns,
        this,
        special[key as keyof typeof METRICS],
      );
      this.#families.set(key, f);
      registerMetric(this.registry, f);
    }
    this.#self = [
      this.#family("metricsCollectionErrors"),
      this.#family("metricsSeriesRefused"),
    ];
    this._le = [...this.options.buckets.map(String), "+Inf"];
    const setDefaultLabels = this.registry.setDefaultLabels.bind(this.registry);
    // Labels set on the registry apply to weir's exposition too, as they do
    // to prom-client's own registry.metrics().
    this.registry.setDefaultLabels = (labels: object) => {
      const checked = resolveMetricsOptions({
        ...this.#options,
        constLabels: labels as Record<string, string>,
      });
      this.#options = Object.freeze(checked);
      this.#applyConstLabels(setDefaultLabels);
    };
    this.#applyConstLabels(setDefaultLabels);
  }

  #applyConstLabels(setDefaultLabels: (labels: object) => void): void {
    const labels = this.#options.constLabels;
    setDefaultLabels({ ...labels });
    this.#constText = labelText(labels);
    this.#formatText = newFormatter(false, labels);
    this.#formatOm = newFormatter(true, labels);
  }

  /** Names of the tracked flows. */
  get flows(): string[] {
    return [...this.#flows.keys()];
  }

  /**
   * Starts exporting a flow's metrics, from its next scrape on. Its series
   * (label sets) are fixed now, from its processes and ports; series past
   * `maxSeriesPerMetric` are refused and counted. Throws when a flow of the
   * same name is tracked, or when the network's histogram buckets differ
   * from the collector's.
   */
  track(network: Network): void {
    if (!(network instanceof Network)) {
      throw new TypeError(
        `Cannot track flow: expected a Network (createNetwork() or new Network()), received ${
          network === null ? "null" : typeof network
        }`,
      );
    }
    const name = network.name;
    if (this.#flows.has(name)) {
      throw new Error(
        `Cannot track flow "${name}": a flow of that name is tracked already; untrack it first`,
      );
    }
    const stats = network.stats();
    const bounds = stats.latency.bounds;
    const want = this.options.buckets;
    if (
      bounds.length !== want.length || bounds.some((b, i) => b !== want[i])
    ) {
      throw new RangeError(
        `Cannot track flow "${name}": its histogram buckets [${
          bounds.join(", ")
        }] differ from the collector's [${
          want.join(", ")
        }]; create the network with { buckets: collector.options.buckets }`,
      );
    }
    const t: Tracked = {
      name,
      network,
      stats: null,
      series: new Map(),
      merged: { processing: [], errors: [] },
    };
    this.#plan(t, stats);
    for (const kind of ["processing", "errors"] as const) {
      const into = this.#merged[kind];
      for (const k of t.merged[kind]) into.set(k, (into.get(k) ?? 0) + 1);
    }
    this.#flows.set(name, t);
  }

  /**
   * Stops exporting a flow (by name or network): its series are gone from
   * the next scrape. Returns whether it was tracked. A flow tracked again
   * later starts from its own counters (a new network starts at 0).
   */
  untrack(flow: string | Network): boolean {
    const name = typeof flow === "string" ? flow : flow.name;
    const t = this.#flows.get(name);
    if (t === undefined || (typeof flow !== "string" && t.network !== flow)) {
      return false;
    }
    this.#flows.delete(name);
    for (const [f, list] of t.series) f.admitted -= list.length;
    for (const kind of ["processing", "errors"] as const) {
      const into = this.#merged[kind];
      for (const k of t.merged[kind]) {
        const n = into.get(k)! - 1;
        if (n === 0) into.delete(k);
        else into.set(k, n);
      }
    }
    return true;
  }

  /**
   * Counts a flow operation for `flow_operations_total`. `operation` is one
   * of create, update, delete, start, stop; `result` success or error.
   */
  recordFlowOperation(operation: string, result: "success" | "error"): void {
    const k = `${operation}\0${result}`;
    const v = this.#operations.get(k);
    if (v === undefined) {
      throw new RangeError(
        `Cannot record flow operation: operation must be one of ${
          FLOW_OPERATIONS.join(", ")
        } and result one of ${FLOW_OPERATION_RESULTS.join(", ")}, received ${
          JSON.stringify(operation)
        } and ${JSON.stringify(result)}`,
      );
    }
    this.#operations.set(k, v + 1);
  }

  /**
   * Wraps a function, e.g. a component's `process`, so that each call is
   * timed into `process_processing_seconds` and each throw or rejection
   * counted in `process_errors_total{kind="exception"}` under the given
   * labels. Inside a weir network the engine already measures every
   * activation, so a wrapped function called by the engine is passed
   * straight through: nothing is counted twice. Outside one (your own code,
   * your own loop), every call is measured, exactly.
   *
   * @example
   * ```ts
   * import { MetricsCollector } from "./collector.ts";
   *
   * const metrics = new MetricsCollector();
   * const parse = metrics.wrapProcess(
   *   (text: string) => JSON.parse(text),
   *   { flow: "ingest", process: "parse" },
   * );
   * parse('{"ok":true}');
   * (await metrics.render("text")).includes(
   *   'weir_process_processing_seconds_count{flow="ingest",process="parse"} 1',
   * ); // true
   * ```
   */
  wrapProcess<A extends unknown[], R>(
    fn: (...args: A) => R,
    labels: WrapProcessLabels,
  ): (...args: A) => R {
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot wrap process: expected a function, received ${typeof fn}`,
      );
    }
    const { flow, process } = labels ?? {};
    if (
      typeof flow !== "string" || typeof process !== "string" || !flow ||
      !process
    ) {
      throw new TypeError(
        "Cannot wrap process: labels must be { flow, process }, two non-empty strings",
      );
    }
    const key = `${flow}\0${process}`;
    let w = this.#wrappers.get(key);
    if (w === undefined) {
      w = {
        histogram: new Histogram(this.options.buckets),
        exceptions: 0,
      };
      // Past the series cap the function runs unmeasured: dynamic labels
      // cannot grow memory without bound.
      if (!this.#planWrapped(key, { flow, process }, w)) return fn;
      this.#wrappers.set(key, w);
    }
    return wrapProcess(fn, w);
  }

  /**
   * The whole exposition in a format. A collector that throws (a flow's
   * statistics, or a registered prom-client metric's `collect`), or whose
   * `collect` takes longer than `collectTimeoutMs`, is left out and counted
   * in `metrics_collection_errors_total`; the scrape still succeeds.
   * Scrapes run one at a time.
   */
  render(format: ExpositionFormat = "text"): Promise<string> {
    const run = this.#tail.then(() => this.#render(format === "openmetrics"));
    this.#tail = run.catch(() => {});
    return run;
  }

  /**
   * Adds a family that another part of weir feeds (the HTTP metrics, the
   * resource tracker): `collect` writes its samples at every scrape. The
   * name is `def`'s full name in this collector's namespace; it must not be
   * registered yet. Returns a function that removes the family again.
   *
   * @example
   * ```ts
   * import { MetricsCollector, RESOURCE_METRICS } from "./mod.ts";
   *
   * const collector = new MetricsCollector();
   * const remove = collector.addFamily(
   *   RESOURCE_METRICS.threads,
   *   (out) => out.sample({}, 4),
   * );
   * (await collector.render()).includes("weir_threads 4"); // true
   * remove();
   * ```
   */
  addFamily(def: MetricDef, collect: (out: FamilyOutput) => void): () => void {
    const name = fullName(def, this.options.namespace);
    if (
      this.#added.has(name) ||
      metricsOf(this.registry).some((m) => m.name === name)
    ) {
      throw new Error(
        `Cannot add metric "${name}": a metric of that name is registered already`,
      );
    }
    const f = new Family(def, this.options.namespace, this, (sink) => {
      collect({
        sample: (labels, value) => sink.add("", labels, null, value),
        histogram: (labels, h) => {
          let cumulative = 0;
          const n = h.bounds.length;
          for (let j = 0; j <= n; j++) {
            cumulative += h.counts[j];
            sink.add(
              "_bucket",
              labels,
              null,
              cumulative,
              j < n ? String(h.bounds[j]) : "+Inf",
            );
          }
          sink.add("_sum", labels, null, h.sum);
          sink.add("_count", labels, null, h.count);
        },
      });
    });
    registerMetric(this.registry, f);
    this.#added.set(name, f);
    return () => {
      if (this.#added.get(name) !== f) return;
      this.#added.delete(name);
      this.registry.removeSingleMetric(name);
    };
  }

  /** Every metric by full name, with type, help, unit and label names. */
  metadata(): Record<string, MetricMetadata[]> {
    const out: Record<string, MetricMetadata[]> = {};
    const units = new Map<string, string>();
    for (const f of this.#families.values()) units.set(f.name, f.def.unit);
    for (const f of this.#added.values()) units.set(f.name, f.def.unit);
    for (const m of metricsOf(this.registry)) {
      out[m.name] = [{
        type: m.type,
        help: m.help,
        unit: units.get(m.name) ?? "",
        labels: [...(m.labelNames ?? [])],
      }];
    }
    return out;
  }

  /** @internal Runs `fn` with every tracked flow's statistics read. */
  _withStats(fn: () => void): void {
    if (!this.#scraping && !this.#borrowed) {
      // prom-client's registry.metrics() asks every family in one tick:
      // they share one read, so the families agree and a failing flow is
      // counted once.
      this.#borrowed = true;
      this.#readStats();
      queueMicrotask(() => {
        this.#borrowed = false;
        if (!this.#scraping) this.#clearStats();
      });
    }
    fn();
  }

  /** @internal The tracked flows and the wrapped functions. */
  *_tracked(): Iterable<Tracked> {
    yield* this.#flows.values();
    yield this.#wrapped;
  }

  /**
   * Writes weir's own families directly (prom-client's formatter alone
   * takes 60-90 ms for the 57,000 series of 100 flows of 10 processes);
   * metrics of the registry that are not weir's go through prom-client.
   * The output is the same text prom-client writes (a test compares them).
   */
  async #render(openMetrics: boolean): Promise<string> {
    this.#scraping = true;
    this.#readStats();
    try {
      const format = openMetrics ? this.#formatOm : this.#formatText;
      const lines: string[] = [];
      const sink = new LineSink(lines, this.#constText);
      const self = new Set<MetricLike>(this.#self);
      const ordered = [
        ...metricsOf(this.registry).filter((m) => !self.has(m)),
        ...this.#self,
      ];
      // Registered prom-client metrics collect at once, under one deadline
      // for the whole scrape, so hung collects cannot add up.
      const deadline = timeout(this.#options.collectTimeoutMs);
      const pending = new Map<MetricLike, Promise<string>>();
      try {
        for (const m of ordered) {
          if (m instanceof Family) continue;
          const text = (async () =>
            await format(openMetrics ? openMetricsCounter(m) : m))();
          const raced = Promise.race([text, deadline.promise]);
          // Handled below, maybe a few turns of the loop later.
          raced.catch(() => {});
          pending.set(m, raced);
        }
        let slice = performance.now();
        for (const m of ordered) {
          // A big exposition is written in slices, so the flows keep
          // moving while a scrape runs (they see the same statistics).
          if (performance.now() - slice > SLICE_MS) {
            await new Promise<void>((resolve) => macrotask(resolve));
            slice = performance.now();
          }
          if (lines.length > 0 && !openMetrics) lines.push("");
          const mark = lines.length;
          try {
            if (m instanceof Family) m.write(sink, openMetrics);
            else lines.push(await pending.get(m)!);
          } catch {
            lines.length = mark;
            if (mark > 0 && !openMetrics) lines.length--;
            this.#countCollectionError(m.name);
          }
        }
      } finally {
        deadline.cancel();
      }
      lines.push(openMetrics ? "# EOF\n" : "");
      return lines.join("\n");
    } finally {
      this.#clearStats();
      this.#scraping = false;
    }
  }

  #readStats(): void {
    for (const t of this.#flows.values()) {
      try {
        t.stats = t.network!.stats();
      } catch {
        t.stats = null;
        this.#countCollectionError("engine");
      }
    }
  }

  #clearStats(): void {
    for (const t of this.#flows.values()) t.stats = null;
  }

  #countCollectionError(collector: string): void {
    const n = this.#collectionErrors.get(collector);
    if (n !== undefined) this.#collectionErrors.set(collector, n + 1);
    else if (this.#collectionErrors.size < this.options.maxSeriesPerMetric) {
      this.#collectionErrors.set(collector, 1);
    } else this.#family("metricsCollectionErrors").refused++;
  }

  #family(key: keyof typeof METRICS): Family {
    return this.#families.get(key)!;
  }

  /** Admits a series, unless over the cap; returns whether it was. */
  #admit(t: Tracked, key: keyof typeof METRICS, x: Planned): boolean {
    const f = this.#family(key);
    if (f.admitted >= this.options.maxSeriesPerMetric) {
      f.refused++;
      return false;
    }
    f.admitted++;
    let list = t.series.get(f);
    if (list === undefined) t.series.set(f, list = []);
    list.push({ ...x, text: labelText(x.labels) } as Series | HistSeries);
    return true;
  }

  /** Fixes the series of a flow from its statistics at track time. */
  #plan(t: Tracked, stats: NetworkStats): void {
    const flow = t.name;
    const flowLabels = { flow };
    const admit = (key: keyof typeof METRICS, x: Planned) =>
      this.#admit(t, key, x);
    admit("networkActiveProcesses", {
      labels: flowLabels,
      read: (s) => s.activeProcesses,
    });
    admit("networkActiveConnections", {
      labels: flowLabels,
      read: (s) => s.activeConnections,
    });
    admit("networkBacklog", { labels: flowLabels, read: (s) => s.backlog });
    admit("networkPartitions", {
      labels: flowLabels,
      read: (s) => s.partitions,
    });
    admit("networkLatency", { labels: flowLabels, read: (s) => s.latency });

    // Drop reasons that can happen to a process, from its in-bound policies.
    const policyReasons = new Map<string, Set<string>>();
    for (const c of stats.connections) {
      const proc = c.toProcess;
      const reason = c.policy === "drop-oldest"
        ? "drop_oldest"
        : c.policy === "drop-newest"
        ? "drop_newest"
        : c.policy === "error"
        ? "refused"
        : null;
      if (reason === null) continue;
      let set = policyReasons.get(proc);
      if (set === undefined) policyReasons.set(proc, set = new Set());
      set.add(reason);
    }

    stats.processes.forEach((p, i) => {
      const key = `${flow}\0${p.name}`;
      const plan: ProcessPlan = { i, key, labels: { flow, process: p.name } };
      this.#planProcess(t, p, plan, policyReasons.get(p.name));
    });
  }

  #planProcess(
    t: Tracked,
    p: NetworkStats["processes"][number],
    { i, key, labels }: ProcessPlan,
    policyReasons: Set<string> | undefined,
  ): void {
    const admit = (k: keyof typeof METRICS, x: Planned) => this.#admit(t, k, x);
    const { flow, process } = labels;
    for (const port of Object.keys(p.messagesIn)) {
      admit("processMessages", {
        labels: { flow, process, port, direction: "in" },
        read: (s) => s.processes[i].messagesIn[port],
      });
    }
    for (const port of Object.keys(p.messagesOut)) {
      admit("processMessages", {
        labels: { flow, process, port, direction: "out" },
        read: (s) => s.processes[i].messagesOut[port],
      });
    }
    for (const port of Object.keys(p.queueWait)) {
      admit("processMessageLatency", {
        labels: { flow, process, port },
        read: (s) => s.processes[i].queueWait[port],
      });
    }
    for (const port of Object.keys(p.queueDepth)) {
      admit("processQueueDepth", {
        labels: { flow, process, port },
        read: (s) => s.processes[i].queueDepth[port],
      });
    }
    const wrappers = this.#wrappers;
    const timed = admit("processProcessing", {
      labels,
      read: (s) => {
        const h = s.processes[i].processing;
        const w = wrappers.get(key);
        return w === undefined ? h : addHistograms(h, w.histogram);
      },
    });
    if (timed) t.merged.processing.push(key);
    admit("processBufferedBytes", {
      labels,
      read: (s) => s.processes[i].bufferedBytes,
    });
    admit("processActiveActivations", {
      labels,
      read: (s) => s.processes[i].activeActivations,
    });
    for (const kind of ERROR_KIND_VALUES) {
      const k = kind as "exception" | "timeout" | "overflow";
      const admitted = admit("processErrors", {
        labels: { flow, process, kind },
        read: kind === "exception"
          ? (s) =>
            s.processes[i].errors.exception +
            (wrappers.get(key)?.exceptions ?? 0)
          : (s) => s.processes[i].errors[k],
      });
      if (admitted && kind === "exception") t.merged.errors.push(key);
    }
    admit("processLastError", {
      labels,
      read: (s) => s.processes[i].lastErrorAt,
    });
    admit("processStarts", { labels, read: (s) => s.processes[i].starts });
    admit("processFailures", {
      labels,
      read: (s) => s.processes[i].failures,
    });
    if (p.breaker !== null) {
      for (const state of BREAKER_STATE_VALUES) {
        admit("circuitBreakerState", {
          labels: { flow, process, state },
          read: (s) => s.processes[i].breaker === state ? 1 : 0,
        });
      }
    }
    const reasons = new Set(["unread", "stopped", ...(policyReasons ?? [])]);
    if (p.breaker !== null) reasons.add("circuit_open");
    for (const reason of reasons) {
      const r = reason as keyof typeof p.drops;
      admit("messagesDropped", {
        labels: { flow, process, reason },
        read: (s) => s.processes[i].drops[r],
      });
    }
  }

  /**
   * The series of a wrapped function; while a tracked process of the same
   * labels has its own, the wrapper's calls are added into those instead.
   * Returns whether any place was found for them.
   */
  #planWrapped(key: string, labels: Labels, w: WrappedProcess): boolean {
    const { processing, errors } = this.#merged;
    const timed = this.#admit(this.#wrapped, "processProcessing", {
      labels,
      read: () => processing.has(key) ? null : w.histogram,
    });
    const counted = this.#admit(this.#wrapped, "processErrors", {
      labels: { ...labels, kind: "exception" },
      read: () => errors.has(key) ? null : w.exceptions,
    });
    return timed || counted || processing.has(key) || errors.has(key);
  }
}

/**
 * How long a scrape writes before it lets the event loop run (ms): long
 * enough that a scrape of 100 flows yields once or twice (4 ms slices made
 * it 60% slower on Bun), short enough that a huge one does not stall the
 * flows for its whole length.
 */
const SLICE_MS = 16;

/**
 * A promise that rejects after `ms` (unless cancelled): a registered
 * metric whose collect never settles must not hold every later scrape.
 */
function timeout(ms: number): { promise: Promise<never>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`collect took over ${ms} ms`)),
      ms,
    );
  });
  promise.catch(() => {});
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Sums two histograms of the same bounds. */
function addHistograms(
  a: HistogramSnapshot,
  b: Histogram,
): HistogramCounts {
  return {
    counts: a.counts.map((c, j) => c + b.counts[j]),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

/**
 * A user's prom-client counter as OpenMetrics names it: the family without
 * `_total` (prom-client's formatter adds it to the samples).
 */
function openMetricsCounter(m: MetricLike): MetricLike {
  if (
    m instanceof Family || m.type !== "counter" || !m.name.endsWith("_total")
  ) {
    return m;
  }
  return {
    name: m.name,
    help: m.help,
    type: m.type,
    get: async () => {
      const o = await m.get();
      return { ...o, name: o.name.replace(/_total$/, "") };
    },
  };
}
