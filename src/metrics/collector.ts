/**
 * The metrics collector: reads the engine's statistics of every tracked
 * flow at scrape time and exports the catalogue through prom-client. Its
 * parts: the series plan (`series_plan.ts`), weir's families
 * (`family.ts`), the text writer (`text_writer.ts`), scrape scheduling
 * (`scrape.ts`), operation counting (`operation_counter.ts`,
 * `collection_errors.ts`) and the prom-client bridge (`_prom.ts`).
 *
 * Where this departs from DESIGN.md, and why:
 * - weir's own families are registered in a prom-client `Registry` (so
 *   `registry.metrics()`, `getMetricsAsJSON()` and `Registry.merge()` see
 *   them), but `render()` writes every line itself, users' metrics
 *   included (from their `get()`): prom-client's formatter alone needs
 *   about 60-90 ms for the 57,000 series of 100 flows of 10 processes,
 *   over the 50 ms a scrape may take. The text is the same as
 *   prom-client's (tests compare them).
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
import { loopTurn, Network } from "../engine/network.ts";
import { fullName, type MetricDef, METRICS } from "./catalogue.ts";
import { CollectionErrors } from "./collection_errors.ts";
import type {
  ExpositionFormat,
  MetricMetadata,
  MetricsSource,
} from "./exposition.ts";
import { Family, type SampleSink } from "./family.ts";
import { OperationCounter } from "./operation_counter.ts";
import {
  type MetricsOptions,
  type ResolvedMetricsOptions,
  resolveMetricsOptions,
} from "./options.ts";
import { wrapProcess } from "./process_wrapper.ts";
import {
  type MetricLike,
  type MetricObject,
  metricsOf,
  NotifyingRegistry,
  registerMetric,
  type Registry,
} from "./_prom.ts";
import { collectMeter, meterDef } from "./meter_families.ts";
import { exposedNames, type MeterSpec, sameMeter } from "../engine/meters.ts";
import { scrape } from "./scrape.ts";
import { LabelTexts } from "./label_texts.ts";
import { SeriesPlan } from "./series_plan.ts";
import { type Labels, TextWriter } from "./text_writer.ts";

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

/**
 * Where {@linkcode MetricsCollector.sample} puts the current value of
 * every series: what the metric history samples, with no exposition text
 * written or parsed.
 */
export interface SeriesSink {
  /**
   * A family starts: its full name (a sample's name is this plus the
   * suffix of {@linkcode add}) and its Prometheus type (`counter`,
   * `gauge`, `histogram`, `summary`, `untyped`). A family of weir's
   * engine starts once per tracked flow (the pass reads flow by flow),
   * each time with that flow's series, in the same order pass after pass.
   */
  family(name: string, type: string): void;
  /**
   * One sample of the family: `suffix` (`""`, `_bucket`, `_sum`,
   * `_count`), its labels without the constant labels and without `le`,
   * the same labels as exposition text (`a="1",b="2"`: weir's families
   * hand the string they cache, so the same series gives the same string
   * object pass after pass), its value, and a histogram bucket's bound.
   */
  add(
    suffix: string,
    labels: Labels,
    text: string,
    value: number,
    le?: string,
  ): void;
  /**
   * Optional: a histogram series of a weir family at once, as `add()` of
   * each cumulative bucket, `_sum` and `_count` would hand it (see
   * `SampleSink.addHistogram`); without it each comes through `add()`.
   */
  addHistogram?: SampleSink["addHistogram"];
  /**
   * Optional: a planned family's series of one flow at once, as numbers
   * (see `SampleSink.addPlanned`); without it each comes through `add()`
   * (or `addHistogram()`).
   */
  addPlanned?: SampleSink["addPlanned"];
}

/** Bucket bounds, per-bucket counts (`+Inf` last), sum and count. */
export interface HistogramLike {
  readonly bounds: ArrayLike<number>;
  readonly counts: ArrayLike<number>;
  readonly sum: number;
  readonly count: number;
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
 * import assert from "node:assert/strict";
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
 * assert.deepEqual(
 *   text.includes('weir_process_messages_total{flow="ticks",process="Sink",port="in",direction="in"} 5'),
 *   true,
 * );
 * ```
 */
export class MetricsCollector implements MetricsSource {
  /** This collector's prom-client registry (per instance, never the global one). */
  readonly registry: Registry;
  /** The options in force, defaults filled in. */
  get options(): Readonly<ResolvedMetricsOptions> {
    return this.#options;
  }
  #options: Readonly<ResolvedMetricsOptions>;
  readonly #families = new Map<keyof typeof METRICS, Family>();
  /** Families added by other parts of weir, by full name. */
  readonly #added = new Map<string, Family>();
  /** Families of component meters, by meter name (see `meter_families.ts`). */
  readonly #meters = new Map<string, { spec: MeterSpec; family: Family }>();
  /** Meter series past the cap, counted once each. */
  readonly #refusedMeters = new WeakSet<object>();
  readonly #plan: SeriesPlan;
  readonly #operations = new OperationCounter();
  readonly #collectionErrors: CollectionErrors;
  /** The collector's own families, written last. */
  readonly #self: Family[];
  /** The label texts of the added families' samples, by family (see `#sample`). */
  readonly #texts = new Map<MetricLike, LabelTexts>();
  #tail: Promise<unknown> = Promise.resolve();

  /** Creates a collector; a bad option throws, naming the option and the reason. */
  constructor(options: MetricsOptions = {}) {
    this.#options = Object.freeze(resolveMetricsOptions(options));
    const { namespace, maxSeriesPerMetric, buckets } = this.#options;
    this.#collectionErrors = new CollectionErrors(
      maxSeriesPerMetric,
      () => this.#family("metricsCollectionErrors").refused++,
    );
    this.#plan = new SeriesPlan(
      (key) => this.#family(key),
      maxSeriesPerMetric,
      buckets,
      () => this.#collectionErrors.count("engine"),
    );
    // Labels set on the registry apply to weir's exposition too, as they
    // do to prom-client's own registry.metrics().
    this.registry = new NotifyingRegistry((labels) => {
      this.#options = Object.freeze(resolveMetricsOptions({
        ...this.#options,
        constLabels: labels,
      }));
      return { ...this.#options.constLabels };
    });
    const refusedLabels = new WeakMap<Family, Labels>();
    const collect: Partial<
      Record<keyof typeof METRICS, (sink: SampleSink) => void>
    > = {
      flowsActive: (sink) => {
        let n = 0;
        for (const t of this.#plan.flows.values()) {
          const st = t.network!.state;
          if (st === "running" || st === "draining") n++;
        }
        sink.add("", {}, "", n);
      },
      flowOperations: (sink) => this.#operations.collect(sink),
      metricsCollectionErrors: (sink) => this.#collectionErrors.collect(sink),
      metricsSeriesRefused: (sink) => {
        // Its labels are made once per family: every scrape and sampling
        // pass writes a sample per family.
        const labels = (f: Family) => {
          let l = refusedLabels.get(f);
          if (l === undefined) refusedLabels.set(f, l = { metric: f.name });
          return l;
        };
        for (const [k, f] of this.#families) {
          if (collect[k] && k !== "metricsCollectionErrors") continue;
          sink.add("", labels(f), null, f.refused);
        }
        for (const { family } of this.#meters.values()) {
          sink.add("", labels(family), null, family.refused);
        }
      },
    };
    for (const [key, def] of Object.entries(METRICS)) {
      const k = key as keyof typeof METRICS;
      const f = new Family(def, namespace, this.#plan, collect[k]);
      this.#families.set(k, f);
      registerMetric(this.registry, f);
    }
    this.#self = [
      this.#family("metricsCollectionErrors"),
      this.#family("metricsSeriesRefused"),
    ];
    this.registry.setDefaultLabels({ ...this.#options.constLabels });
  }

  /** Names of the tracked flows. */
  get flows(): string[] {
    return [...this.#plan.flows.keys()];
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
    if (this.#plan.flows.has(name)) {
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
    this.#plan.track(network, stats);
    this.#addMeterFamilies(network);
  }

  /**
   * Registers a family for each meter of `network`'s components not
   * exported yet. A meter whose name another metric has, or that another
   * flow's component declares differently, is left out and counted in
   * `metrics_collection_errors_total{collector="meters"}`: a flow never
   * fails to start over its metrics.
   */
  #addMeterFamilies(network: Network): void {
    for (const spec of network.meterSpecs()) {
      const had = this.#meters.get(spec.name);
      if (had !== undefined) {
        if (!sameMeter(had.spec, spec)) this.#collectionErrors.count("meters");
        continue;
      }
      const def = meterDef(spec);
      const name = fullName(def, this.options.namespace);
      if (this.#taken(name, def.type)) {
        this.#collectionErrors.count("meters");
        continue;
      }
      const f: Family = new Family(
        def,
        this.options.namespace,
        this.#plan,
        (sink) =>
          collectMeter(
            spec.name,
            this.#networks(),
            this.options.maxSeriesPerMetric,
            this.#refusedMeters,
            () => f.refused++,
            sink,
          ),
      );
      registerMetric(this.registry, f);
      this.#meters.set(spec.name, { spec, family: f });
      this.#added.set(name, f);
    }
  }

  /**
   * Whether a metric of full name `name` is registered already, or, given
   * its `type`, would clash with one: a name of its samples or family is one of
   * theirs. A counter `x_total` is family `x` in OpenMetrics, so it clashes
   * with a gauge `x`, and a gauge `h_count` with a histogram `h`'s samples:
   * either would make the whole exposition one Prometheus refuses.
   */
  #taken(name: string, type?: string): boolean {
    if (type === undefined) {
      return this.#added.has(name) ||
        metricsOf(this.registry).some((m) => m.name === name);
    }
    const mine = new Set(exposedNames(name, type));
    const clashes = (other: string, otherType: string) =>
      exposedNames(other, otherType).some((n) => mine.has(n));
    for (const f of this.#added.values()) {
      if (clashes(f.name, f.def.type)) return true;
    }
    return metricsOf(this.registry).some((m) => clashes(m.name, m.type));
  }

  *#networks(): Iterable<Network> {
    for (const t of this.#plan.flows.values()) {
      if (t.network !== null) yield t.network;
    }
  }

  /**
   * Stops exporting a flow (by name or network): its series are gone from
   * the next scrape. Returns whether it was tracked. A flow tracked again
   * later starts from its own counters (a new network starts at 0).
   */
  untrack(flow: string | Network): boolean {
    return this.#plan.untrack(flow);
  }

  /**
   * Counts a flow operation for `flow_operations_total`. `operation` is one
   * of create, update, delete, start, stop; `result` success or error.
   */
  recordFlowOperation(operation: string, result: "success" | "error"): void {
    this.#operations.record(operation, result);
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
   * import assert from "node:assert/strict";
   * import { MetricsCollector } from "./collector.ts";
   *
   * const metrics = new MetricsCollector();
   * const parse = metrics.wrapProcess(
   *   (text: string) => JSON.parse(text),
   *   { flow: "ingest", process: "parse" },
   * );
   * parse('{"ok":true}');
   * assert.deepEqual(
   *   (await metrics.render("text")).includes(
   *     'weir_process_processing_seconds_count{flow="ingest",process="parse"} 1',
   *   ),
   *   true,
   * );
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
    const w = this.#plan.wrapper(flow, process);
    return w === null ? fn : wrapProcess(fn, w);
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
   * Reads the current value of every series of every metric (weir's
   * families, the added ones, and the prom-client metrics registered in
   * {@linkcode registry}) into `sink`, without writing exposition text.
   * It runs in turn with scrapes. A registered metric that throws, or
   * whose `collect` takes longer than `collectTimeoutMs`, is left out of
   * this pass (a scrape counts such failures; a pass does not count them
   * again).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MetricsCollector } from "./collector.ts";
   *
   * const collector = new MetricsCollector();
   * const seen: string[] = [];
   * await collector.sample({
   *   family(name, type) {
   *     if (name === "weir_flows_active") seen.push(`${name} ${type}`);
   *   },
   *   add(suffix, _labels, text, value) {
   *     if (seen.length === 1) seen.push(`${suffix}{${text}} ${value}`);
   *   },
   * });
   * assert.deepEqual(seen, ["weir_flows_active gauge", "{} 0"]);
   * ```
   */
  sample(sink: SeriesSink): Promise<void> {
    const run = this.#tail.then(() => this.#sample(sink));
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
   * import assert from "node:assert/strict";
   * import { MetricsCollector, RESOURCE_METRICS } from "./mod.ts";
   *
   * const collector = new MetricsCollector();
   * const remove = collector.addFamily(
   *   RESOURCE_METRICS.threads,
   *   (out) => out.sample({}, 4),
   * );
   * assert.deepEqual((await collector.render()).includes("weir_threads 4"), true);
   * remove();
   * assert.deepEqual((await collector.render()).includes("weir_threads"), false);
   * ```
   */
  addFamily(def: MetricDef, collect: (out: FamilyOutput) => void): () => void {
    const name = fullName(def, this.options.namespace);
    if (this.#taken(name)) {
      throw new Error(
        `Cannot add metric "${name}": a metric of that name is registered already`,
      );
    }
    const f = new Family(def, this.options.namespace, this.#plan, (sink) => {
      collect({
        sample: (labels, value) => sink.add("", labels, null, value),
        histogram: (labels, h) => {
          let cumulative = 0;
          const n = h.bounds.length;
          const le = _leOf(h.bounds);
          for (let j = 0; j <= n; j++) {
            cumulative += h.counts[j];
            sink.add("_bucket", labels, null, cumulative, le[j]);
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

  /**
   * Writes every metric of the registry, the collector's own families
   * last (they count what failed while the others were written).
   */
  async #render(openMetrics: boolean): Promise<string> {
    this.#plan.beginScrape();
    try {
      const writer = new TextWriter(openMetrics, this.#options.constLabels);
      const self = new Set<MetricLike>(this.#self);
      const ordered = [
        ...metricsOf(this.registry).filter((m) => !self.has(m)),
        ...this.#self,
      ];
      await scrape(
        ordered,
        writer,
        this.#options.collectTimeoutMs,
        (name) => this.#collectionErrors.count(name),
      );
      return writer.text();
    } finally {
      this.#plan.endScrape();
    }
  }

  async #sample(sink: SeriesSink): Promise<void> {
    const metrics = metricsOf(this.registry);
    // Registered prom-client metrics collect first, all at once, under one
    // deadline (as in a scrape); weir's families are then read in one go.
    const read = new Map<MetricLike, MetricObject | null>();
    const others = metrics.filter((m) => !(m instanceof Family));
    if (others.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<null>((resolve) => {
        timer = setTimeout(
          () => resolve(null),
          this.#options.collectTimeoutMs,
        );
      });
      try {
        await Promise.all(others.map(async (m) => {
          const got = (async () => await m.get())().catch(() => null);
          read.set(m, await Promise.race([got, deadline]));
        }));
      } finally {
        clearTimeout(timer);
      }
    }
    // Added families hand no text: it is made here, and remembered by the
    // sample's position in its family's read (see LabelTexts).
    let texts: LabelTexts = this.#labelTexts(null);
    let at = 0;
    const families: SampleSink = {
      add: (suffix, labels, text, value, le) =>
        sink.add(suffix, labels, text ?? texts.text(at++, labels), value, le),
    };
    // Planned series carry their text (made when admitted), so they go to
    // the sink without the wrapper above: one call less for each of the
    // tens of thousands of samples of a pass.
    const direct: SampleSink = sink;
    // The families planned per flow are read flow by flow: one flow's
    // statistics are held at a time (see SeriesPlan.readFlow), and each
    // such family starts once per flow.
    const planned = metrics.filter((m): m is Family =>
      m instanceof Family && !m.ownCollect
    );
    let slice = performance.now();
    // Slices between flows and between families: the first pass over many
    // new series must not hold the flows up for its length. (Checked
    // before the call: a steady pass then awaits nothing.)
    const slow = () => performance.now() - slice > _SAMPLE_SLICE_MS;
    const yieldNow = async () => {
      await loopTurn();
      slice = performance.now();
    };
    // Indexed loops: this async function's for-of loops made an iterator
    // result per flow and per family of each flow (about 80 KB a pass at
    // 100 flows, on Deno).
    const flows = this.#plan.trackedList();
    for (let i = 0; i < flows.length; i++) {
      const t = flows[i];
      if (slow()) await yieldNow();
      this.#plan.readFlow(t);
      try {
        for (let j = 0; j < planned.length; j++) {
          const f = planned[j];
          sink.family(f.name, f.type);
          try {
            f.collectFlow(t, direct);
          } catch {
            // Left out of this pass, as a scrape leaves it out.
          }
        }
      } finally {
        this.#plan.clearFlow(t);
      }
    }
    let added = 0;
    for (let i = 0; i < metrics.length; i++) {
      const m = metrics[i];
      if (m instanceof Family && !m.ownCollect) continue;
      added++;
      if (slow()) await yieldNow();
      if (m instanceof Family) {
        sink.family(m.name, m.type);
        texts = this.#labelTexts(m);
        at = 0;
        try {
          m.collect(families);
        } catch {
          // Left out of this pass, as a scrape leaves it out.
        }
        texts.truncate(at);
      } else {
        const got = read.get(m);
        if (got) _sampleObject(got, sink, this.#labelTexts(m));
      }
    }
    // Families no longer registered let their texts go.
    if (this.#texts.size > added) {
      const live = new Set<object>(metrics);
      for (const m of this.#texts.keys()) {
        if (!live.has(m)) this.#texts.delete(m);
      }
    }
  }

  /** The remembered label texts of `m`'s samples (`null`: none kept). */
  #labelTexts(m: MetricLike | null): LabelTexts {
    if (m === null) return new LabelTexts();
    let t = this.#texts.get(m);
    if (t === undefined) this.#texts.set(m, t = new LabelTexts());
    return t;
  }

  #family(key: keyof typeof METRICS): Family {
    return this.#families.get(key)!;
  }
}

/**
 * How long a sampling pass reads before it lets the event loop run (ms):
 * longer than a pass of the 100 flows of 10 processes (about 25-35 ms
 * with the store), so a steady pass runs in one go, while the first pass
 * over many new series (hundreds of ms) lets the flows move between
 * families.
 */
const _SAMPLE_SLICE_MS = 50;

/** The `le` texts of bucket bounds, by the bounds' array (see `_leOf`). */
const _leTexts = new WeakMap<object, { of: number[]; le: string[] }>();

/**
 * The `le` text of each bound, `+Inf` last: made once per bounds array
 * (a histogram's bounds are the same array at every read), not a string
 * per bucket at every scrape and sampling pass; checked against the
 * numbers, so an array changed since is read again.
 */
function _leOf(bounds: ArrayLike<number>): readonly string[] {
  const key = bounds as unknown as object;
  const had = _leTexts.get(key);
  const n = bounds.length;
  if (had !== undefined && had.of.length === n) {
    let same = true;
    for (let j = 0; same && j < n; j++) same = had.of[j] === bounds[j];
    if (same) return had.le;
  }
  const of = Array.from(bounds);
  const le = [...of.map(String), "+Inf"];
  _leTexts.set(key, { of, le });
  return le;
}

/**
 * A registered prom-client metric's samples into `sink`: the sample name's
 * suffix after the family's, the labels as strings with `le` apart.
 */
function _sampleObject(
  m: MetricObject,
  sink: SeriesSink,
  texts: LabelTexts,
): void {
  sink.family(m.name, m.type);
  let at = 0;
  for (const v of m.values ?? []) {
    const labels: Record<string, string> = {};
    let le: string | undefined;
    const all = v.sharedLabels === undefined
      ? v.labels ?? {}
      : { ...v.labels, ...v.sharedLabels };
    for (const k in all) {
      const x = String(all[k]);
      if (k === "le" && m.type === "histogram") le = x;
      else labels[k] = x;
    }
    const name = v.metricName ?? m.name;
    const suffix = name.startsWith(m.name) ? name.slice(m.name.length) : "";
    sink.add(suffix, labels, texts.text(at++, labels), v.value, le);
  }
  texts.truncate(at);
}
