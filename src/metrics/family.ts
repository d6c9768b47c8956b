/**
 * A metric family of weir's own: registered in the collector's prom-client
 * registry like any metric, but its samples are made from the engine's
 * statistics when a scrape asks, never on the hot path.
 *
 * @module
 */
import type { NetworkStats } from "../engine/stats.ts";
import { fullName, type MetricDef } from "./catalogue.ts";
import type { MetricLike, MetricObject, Sample } from "./_prom.ts";
import {
  type HistSeries,
  type Series,
  seriesText,
  type Tracked,
} from "./series_plan.ts";
import type { Labels, TextWriter } from "./text_writer.ts";

/** Where a family puts its samples: exposition lines, or prom-client's objects. */
export interface SampleSink {
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
  /**
   * Optional: a histogram series at once, as `add()` of each cumulative
   * bucket (`_bucket` with its `le`), then `_sum` and `_count`, would
   * hand it. `counts` are per bucket (not cumulative), `+Inf` last, one
   * per `le`. A sink that has it (the metric history's) takes about two
   * thirds of the 100 flows x 10 processes set-up's samples in a call per
   * series instead of one per sample.
   */
  addHistogram?(
    labels: Labels,
    text: string,
    le: readonly string[],
    counts: ArrayLike<number>,
    sum: number,
    count: number,
  ): void;
  /**
   * Optional: a planned family's series of one flow at once, as numbers
   * (the metric history's sink: a sampling pass then makes no call per
   * series). `list` is the flow's admitted series of the family; it only
   * ever grows at its end, so a sink may keep what it learnt of a series
   * by the list's identity and the series' position. `width` numbers a
   * series: 1, or for a histogram its cumulative bucket for each `le`
   * (`+Inf` last), then `_sum` and `_count`. The `n` series read are
   * `list[read[k]]` with their numbers at `values[k * width]` on (a series
   * that could not be read is left out, as in a scrape). The arrays are
   * the family's scratch, valid during the call only.
   */
  addPlanned?(
    list: readonly (Series | HistSeries)[],
    width: number,
    le: readonly string[] | undefined,
    read: Int32Array,
    values: Float64Array,
    n: number,
  ): void;
}

/**
 * How many series of one flow {@linkcode Family.writeParts} writes before
 * it asks whether to stop: about 3 ms of a histogram family on Bun here.
 */
export const WRITE_PART = 256;

/** `due()` of a write in one go. */
const _never = () => false;

/** {@linkcode Family}'s scratch for `addPlanned` (passes are synchronous per flow). */
let _read = new Int32Array(64);
let _values = new Float64Array(1024);

/** What a family reads its series and their statistics from. */
export interface FamilySource {
  /** Runs `fn` with every tracked flow's statistics read. */
  withStats(fn: () => void): void;
  /** The tracked flows and the wrapped functions. */
  tracked(): Iterable<Tracked>;
  /** The histogram `le` values, `+Inf` last. */
  readonly le: readonly string[];
}

/** Collects samples as prom-client's `get()` returns them. */
class _ObjectSink implements SampleSink {
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
 * A catalogue metric in the collector's prom-client registry: its series
 * are planned per tracked flow (see `SeriesPlan`), or, for a family with a
 * `collect` of its own, written by it.
 */
export class Family implements MetricLike {
  /** The full name, namespace included. */
  readonly name: string;
  /** The `# HELP` text. */
  readonly help: string;
  /** `counter`, `gauge` or `histogram`. */
  readonly type: string;
  /** The label names, in exposition order. */
  readonly labelNames: readonly string[];
  /** How prom-client's cluster mode would merge it. */
  readonly aggregator = "sum";
  /** Series (label sets) held now; at most the cap. */
  admitted = 0;
  /** Series ever refused by the cap. */
  refused = 0;
  readonly #source: FamilySource;
  readonly #collect: ((sink: SampleSink) => void) | undefined;

  /**
   * The family of `def` in `namespace`; `collect` writes its samples when
   * given, else they are read from `source`'s planned series.
   */
  constructor(
    readonly def: MetricDef,
    namespace: string,
    source: FamilySource,
    collect?: (sink: SampleSink) => void,
  ) {
    this.name = fullName(def, namespace);
    this.help = def.help;
    this.type = def.type;
    this.labelNames = def.labels.map((l) => l.name);
    this.#source = source;
    this.#collect = collect;
  }

  /** prom-client's view (`registry.metrics()`, `getMetricsAsJSON()`). */
  get(): Promise<MetricObject> {
    const sink = new _ObjectSink(this.name);
    this.#source.withStats(() => this.collect(sink));
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

  /** Writes the family, `# HELP` and `# TYPE` first. */
  write(writer: TextWriter): void {
    for (const _ of this.writeParts(writer, _never));
  }

  /**
   * Writes the family as {@linkcode write} does, in parts: between two
   * flows, and every {@linkcode WRITE_PART} series of one flow, it asks
   * `due()` and stops (yields) when that says so, to go on when the
   * caller asks for the next part. A scrape lets the event loop run there:
   * one family of a flow of 5,000 processes is about 70,000 lines, 70 ms
   * on Bun on this machine, that a scrape otherwise wrote in one go. The
   * series are those of the flows and statistics of when the scrape began
   * (it holds them until it ends, see `SeriesPlan.beginScrape`): a flow
   * tracked or untracked between two parts changes the next scrape. A
   * family that writes its own samples is one part.
   */
  *writeParts(writer: TextWriter, due: () => boolean): Generator<void> {
    writer.family(this.name, this.help, this.type);
    if (this.#collect !== undefined) return this.#collect(writer);
    let first = true;
    for (const t of this.#source.tracked()) {
      const list = t.series.get(this);
      const stats = t.stats;
      if (list === undefined || stats === null) continue;
      for (let from = 0; from < list.length; from += WRITE_PART) {
        if (!first && due()) yield;
        first = false;
        this.#add(list, stats, writer, from, from + WRITE_PART);
      }
    }
  }

  /** Whether it writes its own samples (else they come from the tracked flows). */
  get ownCollect(): boolean {
    return this.#collect !== undefined;
  }

  /** Puts every sample into `sink`. */
  collect(sink: SampleSink): void {
    if (this.#collect !== undefined) return this.#collect(sink);
    for (const t of this.#source.tracked()) this.collectFlow(t, sink);
  }

  /**
   * Puts the samples of one tracked flow (read from its `stats`) into
   * `sink`; nothing for a family that writes its own.
   */
  collectFlow(t: Tracked, sink: SampleSink): void {
    const list = t.series.get(this);
    if (list === undefined || t.stats === null) return;
    const hist = this.type === "histogram";
    if (sink.addPlanned !== undefined) {
      this.#planned(list, hist, t.stats, sink);
      return;
    }
    this.#add(list, t.stats, sink, 0, list.length);
  }

  /** Puts `list[from]` up to before `list[to]` into `sink` one by one. */
  #add(
    list: readonly (Series | HistSeries)[],
    s: NetworkStats,
    sink: SampleSink,
    from: number,
    to: number,
  ): void {
    const hist = this.type === "histogram";
    const end = Math.min(to, list.length);
    for (let i = from; i < end; i++) {
      const x = list[i];
      if (hist) this.#histogram(x as HistSeries, s, sink);
      else {
        const v = (x as Series).read(s);
        if (v !== null) sink.add("", x.labels, x.text ?? seriesText(x), v);
      }
    }
  }

  /** {@linkcode collectFlow} into a sink that takes a flow's series as numbers. */
  #planned(
    list: readonly (Series | HistSeries)[],
    hist: boolean,
    s: NetworkStats,
    sink: SampleSink,
  ): void {
    const le = hist ? this.#source.le : undefined;
    const nb = le === undefined ? 0 : le.length;
    const width = hist ? nb + 2 : 1;
    if (_read.length < list.length) _read = new Int32Array(list.length * 2);
    if (_values.length < list.length * width) {
      _values = new Float64Array(list.length * width * 2);
    }
    const read = _read;
    const values = _values;
    let n = 0;
    for (let i = 0; i < list.length; i++) {
      const x = list[i];
      if (hist) {
        const h = (x as HistSeries).read(s);
        if (h === null) continue;
        let at = n * width;
        let cumulative = 0;
        const counts = h.counts;
        for (let j = 0; j < nb; j++) values[at++] = cumulative += counts[j];
        values[at++] = h.sum;
        values[at] = h.count;
      } else {
        const v = (x as Series).read(s);
        if (v === null) continue;
        values[n] = v;
      }
      read[n++] = i;
    }
    sink.addPlanned!(list, width, le, read, values, n);
  }

  #histogram(x: HistSeries, s: NetworkStats, sink: SampleSink): void {
    const h = x.read(s);
    if (h === null) return;
    const le = this.#source.le;
    const text = x.text ?? seriesText(x);
    if (sink.addHistogram !== undefined) {
      sink.addHistogram(x.labels, text, le, h.counts, h.sum, h.count);
      return;
    }
    let cumulative = 0;
    for (let j = 0; j < le.length; j++) {
      cumulative += h.counts[j];
      sink.add("_bucket", x.labels, text, cumulative, le[j]);
    }
    sink.add("_sum", x.labels, text, h.sum);
    sink.add("_count", x.labels, text, h.count);
  }
}
