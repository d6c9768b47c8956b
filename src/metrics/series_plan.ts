/**
 * The series plan: which series (label sets) each tracked flow and each
 * wrapped function exports, fixed when it is tracked, under the series
 * cap, and how each series reads its value from a flow's statistics.
 *
 * @module
 */
import { Histogram, type HistogramSnapshot } from "../engine/histogram.ts";
import type { Network } from "../engine/network.ts";
import type { NetworkStats } from "../engine/stats.ts";
import {
  BREAKER_STATE_VALUES,
  ERROR_KIND_VALUES,
  type METRICS,
} from "./catalogue.ts";
import type { Family, FamilySource } from "./family.ts";
import type { WrappedProcess } from "./process_wrapper.ts";
import { type Labels, labelText } from "./text_writer.ts";

/** Bucket counts (not cumulative, `+Inf` last), sum and count. */
type HistogramCounts = Pick<HistogramSnapshot, "sum" | "count"> & {
  counts: ArrayLike<number>;
};

/** A series of a counter or gauge: its labels and how to read it. */
export interface Series {
  /** Its labels (constant labels not included). */
  labels: Labels;
  /**
   * The labels as exposition text, `a="1",b="2"`: made at the first render
   * that writes the series ({@linkcode seriesText}), `null` before. A
   * history that only samples never needs it: at 100 flows of 10
   * processes (57,632 series) the texts made on admission were 4.9 of the
   * plan's 8.2 MB of heap on Deno (4.4 of 7.4 on Bun).
   */
  text: string | null;
  /** Its value in `s`; `null` when not known (left out). */
  read(s: NetworkStats): number | null;
}

/** A series of a histogram. */
export interface HistSeries {
  /** Its labels (constant labels not included). */
  labels: Labels;
  /** The labels as exposition text; see {@linkcode Series.text}. */
  text: string | null;
  /** Its buckets in `s`; `null` when not known (left out). */
  read(s: NetworkStats): HistogramCounts | null;
}

/** The series of one tracked flow (or of the wrapped functions), by family. */
export interface Tracked {
  /** The flow's name (`""` for the wrapped functions). */
  name: string;
  /** The flow (`null` for the wrapped functions). */
  network: Network | null;
  /** The statistics of the scrape in progress; `null` between scrapes. */
  stats: NetworkStats | null;
  /**
   * The snapshot {@linkcode SeriesPlan.readFlow} reads into, pass after
   * pass (`Network.statsInto`); `null` before the first.
   */
  kept: NetworkStats | null;
  /** Its admitted series, by family. */
  series: Map<Family, (Series | HistSeries)[]>;
  /**
   * `flow\0process` of the processes whose processing-time series, and
   * whose exception series, were admitted: a wrapped function of the same
   * labels adds into those.
   */
  merged: { processing: string[]; errors: string[] };
}

/**
 * A series before it is admitted: its labels and either how to read it,
 * or what (a {@linkcode _PlanSeries} kind, the process's index and the
 * port, kind, state or reason).
 */
type Planned =
  | Omit<Series, "text">
  | Omit<HistSeries, "text">
  | { labels: Labels; kind: number; i: number; arg: string | null };

type FamilyKey = keyof typeof METRICS;

const EMPTY_STATS = {} as NetworkStats;

/**
 * The series of every tracked flow and wrapped function, and the
 * statistics each scrape reads them from. Exported through the
 * {@linkcode Family}s it is given.
 */
export class SeriesPlan implements FamilySource {
  /** The histogram `le` values, `+Inf` last. */
  readonly le: readonly string[];
  readonly #flows = new Map<string, Tracked>();
  /** {@linkcode trackedList}'s list; null once the flows changed. */
  #trackedList: readonly Tracked[] | null = null;
  readonly #wrapped: Tracked = {
    name: "",
    network: null,
    stats: EMPTY_STATS,
    kept: null,
    series: new Map(),
    merged: { processing: [], errors: [] },
  };
  readonly #wrappers = new Map<string, WrappedProcess>();
  /** Tracked processes a wrapped function adds into, by `flow\0process`. */
  readonly #merged = {
    processing: new Map<string, number>(),
    errors: new Map<string, number>(),
  };
  readonly #family: (key: FamilyKey) => Family;
  readonly #cap: number;
  readonly #buckets: readonly number[];
  readonly #onReadError: () => void;
  /**
   * While a scrape runs (`null` otherwise), what it writes, fixed when it
   * begins: the flows then tracked and the wrapped functions' places
   * merged into theirs. A scrape lets the event loop run between its parts
   * (see `Family.writeParts`): a flow tracked or untracked meanwhile must
   * not make a family write a wrapped function's series beside the flow's
   * own (a duplicate sample) or lose it.
   */
  #scrape: {
    list: readonly Tracked[];
    processing: ReadonlySet<string>;
    errors: ReadonlySet<string>;
  } | null = null;
  /** Statistics read for prom-client's own `registry.metrics()`, this tick. */
  #borrowed = false;

  /**
   * A plan whose families are `family(key)`, at most `cap` series per
   * family, histograms of `buckets`; `onReadError` counts a flow whose
   * statistics could not be read.
   */
  constructor(
    family: (key: FamilyKey) => Family,
    cap: number,
    buckets: readonly number[],
    onReadError: () => void,
  ) {
    this.#family = family;
    this.#cap = cap;
    this.#buckets = buckets;
    this.#onReadError = onReadError;
    this.le = [...buckets.map(String), "+Inf"];
  }

  /** The tracked flows, by name. */
  get flows(): ReadonlyMap<string, Tracked> {
    return this.#flows;
  }

  /** Plans the series of `network` from its statistics `stats` now. */
  track(network: Network, stats: NetworkStats): void {
    const t: Tracked = {
      name: network.name,
      network,
      stats: null,
      kept: null,
      series: new Map(),
      merged: { processing: [], errors: [] },
    };
    this.#plan(t, stats);
    for (const kind of ["processing", "errors"] as const) {
      const into = this.#merged[kind];
      for (const k of t.merged[kind]) into.set(k, (into.get(k) ?? 0) + 1);
    }
    this.#flows.set(t.name, t);
    this.#trackedList = null;
  }

  /** Gives a flow's places under the cap back; whether it was tracked. */
  untrack(flow: string | Network): boolean {
    const name = typeof flow === "string" ? flow : flow.name;
    const t = this.#flows.get(name);
    if (t === undefined || (typeof flow !== "string" && t.network !== flow)) {
      return false;
    }
    this.#flows.delete(name);
    this.#trackedList = null;
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
   * What a wrapped function of these labels records into; `null` when the
   * cap left no place for its calls (it then runs unmeasured: dynamic
   * labels cannot grow memory without bound).
   */
  wrapper(flow: string, process: string): WrappedProcess | null {
    const key = `${flow}\0${process}`;
    let w = this.#wrappers.get(key);
    if (w === undefined) {
      w = { histogram: new Histogram(this.#buckets), exceptions: 0 };
      if (!this.#planWrapped(key, { flow, process }, w)) return null;
      this.#wrappers.set(key, w);
    }
    return w;
  }

  /** Reads every flow's statistics for a scrape. */
  beginScrape(): void {
    this.#readStats();
    this.#scrape = {
      list: this.trackedList(),
      processing: new Set(this.#merged.processing.keys()),
      errors: new Set(this.#merged.errors.keys()),
    };
  }

  /** Lets the statistics of a scrape go. */
  endScrape(): void {
    // The flows it read (one untracked since too; one tracked since was
    // not read).
    for (const t of this.#scrape?.list ?? []) this.clearFlow(t);
    this.#scrape = null;
  }

  /**
   * Reads the statistics of one tracked flow (the wrapped functions have
   * theirs always), for a walk flow by flow: a history pass holds one
   * flow's snapshot at a time instead of all of them (at 100 flows of 10
   * processes ~5 MB that otherwise outlives young-generation collections
   * and piles up in the old one). {@linkcode clearFlow} after. The
   * statistics are read into the same objects each time
   * (`Network.statsInto`): no garbage a pass, ~3 MB a second fewer at 100
   * flows of 10 processes, for one snapshot a flow kept.
   */
  readFlow(t: Tracked): void {
    if (t === this.#wrapped) return;
    try {
      t.stats = t.kept = t.network!.statsInto(t.kept);
    } catch {
      t.stats = null;
      this.#onReadError();
    }
  }

  /** Lets the statistics {@linkcode readFlow} read go. */
  clearFlow(t: Tracked): void {
    if (t !== this.#wrapped) t.stats = null;
  }

  /** Runs `fn` with every tracked flow's statistics read. */
  withStats(fn: () => void): void {
    if (this.#scrape === null && !this.#borrowed) {
      // prom-client's registry.metrics() asks every family in one tick:
      // they share one read, so the families agree and a failing flow is
      // counted once.
      this.#borrowed = true;
      this.#readStats();
      queueMicrotask(() => {
        this.#borrowed = false;
        if (this.#scrape === null) this.#clearStats();
      });
    }
    fn();
  }

  /**
   * The tracked flows and the wrapped functions; during a scrape, those
   * tracked when it began.
   */
  tracked(): Iterable<Tracked> {
    return this.#scrape?.list ?? this.trackedList();
  }

  /**
   * The tracked flows and the wrapped functions now, as a list made again
   * only when the flows tracked change (a sampling pass reads it once; no
   * generator steps). A list handed out is never changed: one read across
   * awaits keeps the flows it started with.
   */
  trackedList(): readonly Tracked[] {
    return this.#trackedList ??= [...this.#flows.values(), this.#wrapped];
  }

  #readStats(): void {
    for (const t of this.#flows.values()) {
      try {
        t.stats = t.network!.stats();
      } catch {
        t.stats = null;
        this.#onReadError();
      }
    }
  }

  #clearStats(): void {
    for (const t of this.#flows.values()) t.stats = null;
  }

  /** Admits a series, unless over the cap; returns whether it was. */
  #admit(t: Tracked, key: FamilyKey, x: Planned): boolean {
    const f = this.#family(key);
    if (f.admitted >= this.#cap) {
      f.refused++;
      return false;
    }
    f.admitted++;
    let list = t.series.get(f);
    if (list === undefined) t.series.set(f, list = []);
    list.push(
      ("kind" in x
        ? new _PlanSeries(x.labels, x.kind, x.i, x.arg)
        : new _PlanSeries(x.labels, _FN, 0, x.read)) as Series | HistSeries,
    );
    return true;
  }

  /** Fixes the series of a flow from its statistics at track time. */
  #plan(t: Tracked, stats: NetworkStats): void {
    const flow = t.name;
    const flowLabels = { flow };
    const admit = (key: FamilyKey, x: Planned) => this.#admit(t, key, x);
    admit("networkActiveProcesses", {
      labels: flowLabels,
      read: (s) => s.activeProcesses,
    });
    admit("networkActiveConnections", {
      labels: flowLabels,
      read: (s) => s.activeConnections,
    });
    admit("networkBacklog", { labels: flowLabels, read: (s) => s.backlog });
    admit("networkBufferedBytes", {
      labels: flowLabels,
      read: (s) => s.bufferedBytes,
    });
    admit("networkBytesPressure", {
      labels: flowLabels,
      read: (s) => s.pressure === "bytes" ? 1 : 0,
    });
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
      this.#planProcess(t, p, i, policyReasons.get(p.name));
    });
  }

  #planProcess(
    t: Tracked,
    p: NetworkStats["processes"][number],
    i: number,
    policyReasons: Set<string> | undefined,
  ): void {
    const admit = (k: FamilyKey, x: Planned) => this.#admit(t, k, x);
    const flow = t.name;
    const process = p.name;
    const key = `${flow}\0${process}`;
    const labels = { flow, process };
    const at = (kind: number, l: Labels, arg: string | null = null) =>
      admit(_FAMILY[kind], { labels: l, kind, i, arg });
    for (const port of Object.keys(p.messagesIn)) {
      at(_MESSAGES_IN, { flow, process, port, direction: "in" }, port);
    }
    for (const port of Object.keys(p.messagesOut)) {
      at(_MESSAGES_OUT, { flow, process, port, direction: "out" }, port);
    }
    for (const port of Object.keys(p.queueWait)) {
      at(_QUEUE_WAIT, { flow, process, port }, port);
    }
    for (const port of Object.keys(p.queueDepth)) {
      at(_QUEUE_DEPTH, { flow, process, port }, port);
    }
    const wrappers = this.#wrappers;
    const timed = admit("processProcessing", {
      labels,
      read: (s) => {
        const h = s.processes[i].processing;
        const w = wrappers.get(key);
        return w === undefined ? h : _addHistograms(h, w.histogram);
      },
    });
    if (timed) t.merged.processing.push(key);
    at(_BUFFERED_BYTES, labels);
    at(_ACTIVE_ACTIVATIONS, labels);
    for (const kind of ERROR_KIND_VALUES) {
      const l = { flow, process, kind };
      if (kind !== "exception") {
        at(_ERRORS, l, kind);
        continue;
      }
      const admitted = admit("processErrors", {
        labels: l,
        read: (s) =>
          s.processes[i].errors.exception +
          (wrappers.get(key)?.exceptions ?? 0),
      });
      if (admitted) t.merged.errors.push(key);
    }
    at(_LAST_ERROR, labels);
    at(_STARTS, labels);
    at(_FAILURES, labels);
    if (p.breaker !== null) {
      for (const state of BREAKER_STATE_VALUES) {
        at(_BREAKER, { flow, process, state }, state);
      }
    }
    const reasons = new Set(["unread", "stopped", ...(policyReasons ?? [])]);
    if (p.breaker !== null) reasons.add("circuit_open");
    for (const reason of reasons) {
      at(_DROPS, { flow, process, reason }, reason);
    }
  }

  /**
   * The series of a wrapped function; while a tracked process of the same
   * labels has its own, the wrapper's calls are added into those instead.
   * Returns whether any place was found for them.
   */
  #planWrapped(key: string, labels: Labels, w: WrappedProcess): boolean {
    const merged = (kind: "processing" | "errors") =>
      (this.#scrape ?? this.#merged)[kind].has(key);
    const timed = this.#admit(this.#wrapped, "processProcessing", {
      labels,
      read: () => merged("processing") ? null : w.histogram,
    });
    const counted = this.#admit(this.#wrapped, "processErrors", {
      labels: { ...labels, kind: "exception" },
      read: () => merged("errors") ? null : w.exceptions,
    });
    return timed || counted || merged("processing") || merged("errors");
  }
}

// What a planned series reads from its process's statistics (a
// _PlanSeries kind): data and one shared read instead of a closure a
// series (57,632 of them at 100 flows of 10 processes).
const _FN = 0;
const _MESSAGES_IN = 1;
const _MESSAGES_OUT = 2;
const _QUEUE_WAIT = 3;
const _QUEUE_DEPTH = 4;
const _BUFFERED_BYTES = 5;
const _ACTIVE_ACTIVATIONS = 6;
const _ERRORS = 7;
const _LAST_ERROR = 8;
const _STARTS = 9;
const _FAILURES = 10;
const _BREAKER = 11;
const _DROPS = 12;

/** The family of each kind (`_FN`'s is the caller's). */
const _FAMILY: readonly FamilyKey[] = [
  "processProcessing",
  "processMessages",
  "processMessages",
  "processMessageLatency",
  "processQueueDepth",
  "processBufferedBytes",
  "processActiveActivations",
  "processErrors",
  "processLastError",
  "processStarts",
  "processFailures",
  "circuitBreakerState",
  "messagesDropped",
];

type _Read = (s: NetworkStats) => number | HistogramCounts | null;

/**
 * A planned series: its labels, its text once rendered, and what it reads
 * (`kind` of process `i`, `arg` its port, kind, state or reason; for
 * `_FN`, `arg` is the function that reads it).
 */
class _PlanSeries {
  labels: Labels;
  text: string | null = null;
  kind: number;
  i: number;
  arg: string | _Read | null;

  constructor(
    labels: Labels,
    kind: number,
    i: number,
    arg: string | _Read | null,
  ) {
    this.labels = labels;
    this.kind = kind;
    this.i = i;
    this.arg = arg;
  }

  read(s: NetworkStats): number | HistogramCounts | null {
    const kind = this.kind;
    if (kind === _FN) return (this.arg as _Read)(s);
    const p = s.processes[this.i];
    const arg = this.arg as string;
    switch (kind) {
      case _MESSAGES_IN:
        return p.messagesIn[arg];
      case _MESSAGES_OUT:
        return p.messagesOut[arg];
      case _QUEUE_WAIT:
        return p.queueWait[arg];
      case _QUEUE_DEPTH:
        return p.queueDepth[arg];
      case _BUFFERED_BYTES:
        return p.bufferedBytes;
      case _ACTIVE_ACTIVATIONS:
        return p.activeActivations;
      case _ERRORS:
        return p.errors[arg as keyof typeof p.errors];
      case _LAST_ERROR:
        return _epochSeconds(p.lastErrorAt);
      case _STARTS:
        return p.starts;
      case _FAILURES:
        return p.failures;
      case _BREAKER:
        return p.breaker === arg ? 1 : 0;
      default:
        return p.drops[arg as keyof typeof p.drops];
    }
  }
}

/** A series' labels as exposition text, made at its first call and kept. */
export function seriesText(x: Series | HistSeries): string {
  return x.text ??= labelText(x.labels);
}

/**
 * An ISO 8601 time of the engine's statistics as seconds since the epoch,
 * the unit of a Prometheus timestamp gauge.
 */
function _epochSeconds(at: string | null): number | null {
  return at === null ? null : Date.parse(at) / 1000;
}

/** Sums two histograms of the same bounds. */
function _addHistograms(
  a: HistogramSnapshot,
  b: Histogram,
): HistogramCounts {
  return {
    counts: a.counts.map((c, j) => c + b.counts[j]),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}
