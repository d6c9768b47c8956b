/**
 * The sampler: every `intervalMs` it reads the current value of every
 * series a {@linkcode MetricsCollector} exports (weir's engine, HTTP and
 * resource families, added families, and the prom-client metrics an
 * embedding app registers) and appends it to the history store, stamped
 * with the tick's time. No exposition text is written or parsed: the
 * collector hands each value with the label text its families cache, in
 * the same order pass after pass, so a series is found at its position by
 * one identity compare of that text (a `Map` by text when the order
 * changed), and a pass allocates nothing for a series of weir's engine
 * families it has seen before (the added families, HTTP and resources, and
 * registered prom-client metrics make their label text in each pass: a few
 * hundred series, found through the `Map`). The labels object the store
 * keeps is made once, for a new series. The values are appended after the
 * walk, in one loop over typed arrays.
 *
 * @module
 */
import { clearTimeout, setTimeout } from "node:timers";
import { noteLoopTurn } from "../engine/activation.ts";
import { Histogram } from "../engine/histogram.ts";
import type { MetricsCollector, SeriesSink } from "../metrics/collector.ts";
import type { Labels } from "../metrics/text_writer.ts";
import { growCapacity } from "./open_chunks.ts";
import { setStaleAt } from "./promql/_points.ts";
import { indexLabels } from "./series_index.ts";
import type { SeriesKind, SeriesLabels } from "./types.ts";

/** What the sampler writes into: the store's two write methods. */
export interface SampleTarget {
  /** The store's id of a series, created on first use. */
  seriesRef(labels: SeriesLabels, kind: SeriesKind): number;
  /** Appends one sample (`t` in ms, snapped to the tick). */
  append(ref: number, t: number, v: number): void;
  /**
   * Appends a pass's samples at once (`values[i]` to `refs[i]`, `i < n`),
   * as `append()` for each would; used when the target has it.
   */
  appendBatch?(
    refs: Int32Array,
    values: Float64Array,
    n: number,
    t: number,
  ): void;
  /**
   * Optional: the sampler's first pass is about to hand up to `n` series
   * (57,000 for the 100 flows x 10 processes set-up): the target may size
   * its per-series state for `n` series in all at once instead of growing
   * it series by series (each step a copy of every per-series array, and
   * garbage a runtime does not give back). `n` counts the samples the
   * pass will hand (filter applied), so it does not exceed the series the
   * target holds after the pass unless the collector hands a series twice.
   */
  reserveSeries?(n: number): void;
}

/**
 * Which series are kept, by name. Each pattern is a regular expression,
 * fully anchored as in Prometheus's relabelling (`weir_http_.*` matches
 * `weir_http_x` and not `my_weir_http_x`), so a plain metric name matches
 * exactly that name. A pattern is matched against a series' name
 * (`__name__`, e.g. `weir_process_message_latency_seconds_bucket`) and,
 * for the parts of a histogram or summary, against its family's name too
 * (`weir_process_message_latency_seconds`), so naming a histogram selects
 * all its parts while `.*_bucket` selects only the buckets.
 */
export interface SeriesFilter {
  /** Keep only the series that match one of these; all when empty or absent. */
  include?: readonly (string | RegExp)[];
  /** Then leave out the series that match one of these. */
  exclude?: readonly (string | RegExp)[];
}

/** Options of {@linkcode Sampler}. */
export interface SamplerOptions extends SeriesFilter {
  /** Time between two passes (ms). Default 1000. */
  intervalMs?: number;
  /** The clock (ms since the epoch). Default `Date.now`. */
  now?: () => number;
  /** Told of a pass that failed (the next tick tries again). Default: none. */
  onError?: (error: unknown) => void;
}

/** What the sampler has done so far. */
export interface SamplerStats {
  /** Passes completed. */
  passes: number;
  /** Samples appended to the store. */
  samples: number;
  /** Ticks skipped because the previous pass was still running (or the process was blocked past them). */
  skippedTicks: number;
  /** Seconds the last pass took. */
  lastPassSeconds: number;
}

/** A pattern's regular expression, anchored. */
function _pattern(p: string | RegExp, what: string): RegExp {
  const source = typeof p === "string" ? p : p.source;
  if (typeof source !== "string" || source === "") {
    throw new TypeError(
      `Cannot sample history: ${what} patterns must be non-empty strings or RegExps, received ${
        JSON.stringify(p)
      }`,
    );
  }
  try {
    return new RegExp(
      `^(?:${source})$`,
      typeof p === "string" ? "" : p.flags.replace(/[gy]/g, ""),
    );
  } catch (e) {
    throw new SyntaxError(
      `Cannot sample history: ${what} pattern ${
        JSON.stringify(source)
      } is not a regular expression: ${(e as Error).message}`,
    );
  }
}

/**
 * Compiles a {@linkcode SeriesFilter} into a test of a series' name and
 * its family's name; throws a `SyntaxError` naming a bad pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seriesFilter } from "./sampler.ts";
 *
 * const keep = seriesFilter({ include: ["weir_.*"], exclude: [".*_bucket"] });
 * assert.equal(keep("weir_flows_active", "weir_flows_active"), true);
 * assert.equal(keep("weir_x_seconds_bucket", "weir_x_seconds"), false);
 * assert.equal(keep("weir_x_seconds_sum", "weir_x_seconds"), true);
 * assert.equal(keep("http_requests_total", "http_requests_total"), false);
 * ```
 */
export function seriesFilter(
  filter: SeriesFilter,
): (name: string, family: string) => boolean {
  const include = (filter.include ?? []).map((p) => _pattern(p, "include"));
  const exclude = (filter.exclude ?? []).map((p) => _pattern(p, "exclude"));
  const any = (list: RegExp[], name: string, family: string) =>
    list.some((r) => r.test(name) || (family !== name && r.test(family)));
  return (name, family) =>
    (include.length === 0 || any(include, name, family)) &&
    !any(exclude, name, family);
}

/**
 * The kind of a sample of a family of Prometheus type `type`: counters and
 * every part of a histogram are counters (a bucket, the sum and the count
 * only grow), so are a summary's `_sum` and `_count`; a gauge is a gauge;
 * anything else is untyped.
 */
function _kind(type: string, suffix: string): SeriesKind {
  if (type === "counter" || type === "histogram") return "counter";
  if (type === "gauge") return "gauge";
  if (type === "summary" && (suffix === "_sum" || suffix === "_count")) {
    return "counter";
  }
  return "untyped";
}

/**
 * What the sampler keeps per family. A series (by its label text) is an
 * array: the pass that last saw it, then the store's id of each of its
 * samples by position (a counter or gauge has one sample; a histogram its
 * buckets, `_sum` and `_count`, in the order the collector hands them), -1
 * for a sample filtered out. What each position is (suffix and `le`) is
 * learnt once per family, from the samples as they come, and shared by its
 * series: about 5 bytes a sample rather than an object per series.
 */
interface _Family {
  type: string;
  series: Map<string, number[]>;
  /**
   * The series' label texts in the order the last pass handed them, and
   * their arrays: a collector hands the same series in the same order, with
   * the same cached string, pass after pass, so a series is found by one
   * identity compare at its position instead of a `Map` lookup.
   */
  texts: string[];
  slots: number[][];
  /** The position of its next new series in this pass. */
  at: number;
  /** The pass that last reached it. */
  pass: number;
  /** The suffix of the samples at each position of a series. */
  suffix: string[];
  /** The `le` of the samples at each position of a series. */
  le: (string | undefined)[];
  /** Samples off the family's positions (rare), by text, suffix and `le`. */
  odd: Map<string, number>;
  /** Whether the filter keeps a sample name (by suffix). */
  keep: Map<string, boolean>;
  /**
   * The bucket bounds its positions were checked against (buckets with
   * these `le`, then `_sum`, `_count`): a histogram series handed at once
   * then fills its positions in one loop. Null: not checked, or no match.
   */
  histLe: readonly string[] | null;
}

/**
 * What the sampler learnt of a planned list of series (see
 * `SampleSink.addPlanned`): the store's id of each sample position
 * (`width` a series; -1 for one the filter leaves out, -2 not seen yet).
 */
interface _Planned {
  /** The families' generation it was learnt in (constant labels change it). */
  families: number;
  refs: Int32Array;
}

/** A planned sample position whose store id is not known yet. */
const _UNLEARNT = -2;

/** Passes between two sweeps of series no longer exported. */
const _SWEEP_PASSES = 64;

/**
 * Samples a {@linkcode MetricsCollector} into a store every `intervalMs`,
 * on the wall clock's grid: each pass is stamped
 * `floor(now / intervalMs) * intervalMs`, so samples are regularly spaced
 * and the store's codec sees constant deltas. The timer never keeps the
 * process alive. A tick that comes while the previous pass still runs is
 * skipped (and counted), never stacked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsCollector } from "../metrics/collector.ts";
 * import { Sampler } from "./sampler.ts";
 *
 * const appended: [string, number, number][] = [];
 * const names: string[] = [];
 * const store = {
 *   seriesRef: (labels: Record<string, string>) => names.push(labels.__name__) - 1,
 *   append: (ref: number, t: number, v: number) => {
 *     appended.push([names[ref], t, v]);
 *   },
 * };
 * const sampler = new Sampler(new MetricsCollector(), store, {
 *   include: ["weir_flows_active"],
 *   now: () => 12_345,
 * });
 * await sampler.sampleOnce();
 * assert.deepEqual(appended, [["weir_flows_active", 12_000, 0]]);
 * ```
 */
export class Sampler {
  /** Time between two passes (ms). */
  readonly intervalMs: number;
  /** How long each pass took (seconds). */
  readonly passSeconds: Histogram = new Histogram();
  readonly #collector: MetricsCollector;
  readonly #target: SampleTarget;
  readonly #keep: (name: string, family: string) => boolean;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #families = new Map<string, _Family>();
  /**
   * Planned lists of series, by identity: a flow untracked lets its lists
   * and what was learnt of them go.
   */
  #planned = new WeakMap<object, _Planned>();
  /** Bumped when the families are forgotten (constant labels changed). */
  #generation = 0;
  /** The constant labels the series' labels were made with. */
  #constLabels: Labels;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #busy: Promise<void> | null = null;
  /** The tick of the last pass. */
  #lastPass = -Infinity;
  /** The last grid point the timer handled (sampled or skipped). */
  #lastTick = -Infinity;
  readonly #stats: SamplerStats = {
    passes: 0,
    samples: 0,
    skippedTicks: 0,
    lastPassSeconds: 0,
  };

  // The pass in progress, read by the sink's methods.
  #t = 0;
  #pass = 0;
  #family: _Family | null = null;
  #familyName = "";
  #text: string | null = null;
  #slot: number[] | null = null;
  #pos = 0;
  /** The pass's samples, appended after the walk. */
  #refs = new Int32Array(0);
  #values = new Float64Array(0);
  #n = 0;
  /**
   * By store id: the tag of the last batch that sampled it (0: none since
   * its staleness marker, or never). After a batch every entry is 0 or
   * that batch's tag (one that was the batch before's and was not
   * sampled again got its marker), so the series the last batch sampled
   * are those with its tag, and two tags that take turns are enough: a
   * byte a series, and no list of them kept.
   */
  #seenIn = new Uint8Array(0);
  /** The tag of the last batch (1 or 2; 0: none yet). */
  #lastBatch = 0;
  /** How many series the last batch sampled (each counted once). */
  #lastSampled = 0;
  readonly #sink: SeriesSink;

  /**
   * A sampler of `collector` into `target`; bad options throw (a pattern
   * that does not compile, an interval that is not a positive integer).
   */
  constructor(
    collector: MetricsCollector,
    target: SampleTarget,
    options: SamplerOptions = {},
  ) {
    const intervalMs = options.intervalMs ?? 1000;
    if (!Number.isInteger(intervalMs) || intervalMs <= 0) {
      throw new RangeError(
        `Cannot sample history: intervalMs must be a positive integer (ms), received ${intervalMs}`,
      );
    }
    this.intervalMs = intervalMs;
    this.#collector = collector;
    this.#target = target;
    this.#keep = seriesFilter(options);
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    this.#constLabels = collector.options.constLabels;
    this.#sink = {
      family: (name, type) => this.#onFamily(name, type),
      add: (suffix, labels, text, value, le) =>
        this.#onSample(suffix, labels, text, value, le),
      addHistogram: (labels, text, le, counts, sum, count) =>
        this.#onHistogram(labels, text, le, counts, sum, count),
      addPlanned: (list, width, le, read, values, n) =>
        this.#onPlanned(list, width, le, read, values, n),
    };
  }

  /** What it has done so far (a copy). */
  get stats(): SamplerStats {
    return { ...this.#stats };
  }

  /** Whether its timer runs. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts sampling at the next tick of the grid. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  /** Stops the timer; resolves when a pass in progress has ended. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#busy;
  }

  /**
   * A tick: one pass, stamped with the tick's time, unless a pass is still
   * running, in which case this tick is skipped and counted. Resolves with
   * whether it sampled.
   */
  tick(now: number = this.#now()): Promise<boolean> {
    if (this.#busy !== null) {
      this.#stats.skippedTicks++;
      return Promise.resolve(false);
    }
    return this.sampleOnce(now).then(() => true);
  }

  /**
   * One pass now (or at `now`), stamped `floor(now / intervalMs) *
   * intervalMs`; waits for a pass in progress first. A failure rejects.
   */
  async sampleOnce(now: number = this.#now()): Promise<void> {
    while (this.#busy !== null) await this.#busy;
    const run = this.#run(now);
    this.#busy = run.catch(() => {}).finally(() => {
      this.#busy = null;
    });
    return await run;
  }

  /**
   * A last pass, before the store closes: samples now unless a pass of
   * this tick has run already (a series keeps one sample per tick), so the
   * values at shutdown are kept. Resolves with whether it sampled.
   */
  async sampleLast(now: number = this.#now()): Promise<boolean> {
    while (this.#busy !== null) await this.#busy;
    if (Math.floor(now / this.intervalMs) * this.intervalMs <= this.#lastPass) {
      return false;
    }
    await this.sampleOnce(now);
    return true;
  }

  async #run(now: number): Promise<void> {
    const t = Math.floor(now / this.intervalMs) * this.intervalMs;
    this.#lastPass = Math.max(this.#lastPass, t);
    const started = performance.now();
    const constLabels = this.#collector.options.constLabels;
    if (constLabels !== this.#constLabels) {
      // Labels set on the registry since: every series is another one now.
      this.#constLabels = constLabels;
      this.#families.clear();
      this.#generation++;
    }
    this.#t = t;
    if (this.#pass === 0 && this.#target.reserveSeries !== undefined) {
      this.#target.reserveSeries(await this.#countSeries());
    }
    this.#pass++;
    try {
      this.#n = 0;
      await this.#collector.sample(this.#sink);
      this.#endPass();
      this.#appendBatch();
    } finally {
      this.#family = null;
      this.#slot = null;
      this.#text = null;
    }
    if (this.#pass % _SWEEP_PASSES === 0) this.#sweep();
    this.#stats.passes++;
    const seconds = (performance.now() - started) / 1000;
    this.#stats.lastPassSeconds = seconds;
    this.passSeconds.observe(seconds);
  }

  /**
   * The samples a pass would hand the target, filter applied: a read of
   * the collector that keeps nothing but the count (before the first
   * pass, for {@linkcode SampleTarget.reserveSeries}).
   */
  async #countSeries(): Promise<number> {
    const keep = new Map<string, boolean>();
    let family = "";
    const kept = (suffix: string): number => {
      const name = family + suffix;
      let k = keep.get(name);
      if (k === undefined) keep.set(name, k = this.#keep(name, family));
      return k ? 1 : 0;
    };
    let n = 0;
    await this.#collector.sample({
      family: (name) => {
        family = name;
      },
      add: (suffix) => {
        n += kept(suffix);
      },
      addHistogram: (_labels, _text, le) => {
        n += le.length * kept("_bucket") + kept("_sum") + kept("_count");
      },
      addPlanned: (_list, width, le, _read, _values, count) => {
        n += count *
          (le === undefined
            ? kept("")
            : (width - 2) * kept("_bucket") + kept("_sum") + kept("_count"));
      },
    });
    return n;
  }

  #onFamily(name: string, type: string): void {
    let f = this.#families.get(name);
    if (f === undefined || f.type !== type) {
      f = {
        type,
        series: new Map(),
        texts: [],
        slots: [],
        at: 0,
        pass: 0,
        suffix: [],
        le: [],
        odd: new Map(),
        keep: new Map(),
        histLe: null,
      };
      this.#families.set(name, f);
    }
    if (f.pass !== this.#pass) {
      // Its first start this pass (an engine family starts once per flow).
      f.pass = this.#pass;
      f.at = 0;
    }
    this.#family = f;
    this.#familyName = name;
    this.#text = null;
    this.#slot = null;
  }

  /** Forgets each family's order past the last series it handed this pass. */
  #endPass(): void {
    for (const f of this.#families.values()) {
      const at = f.pass === this.#pass ? f.at : 0;
      if (f.texts.length > at) {
        f.texts.length = at;
        f.slots.length = at;
      }
    }
  }

  #onSample(
    suffix: string,
    labels: Labels,
    text: string,
    value: number,
    le: string | undefined,
  ): void {
    const f = this.#family!;
    let slot = this.#slot;
    let i: number;
    if (text === this.#text && slot !== null) {
      i = this.#pos++;
    } else {
      slot = this.#seriesSlot(f, text);
      i = 0;
      this.#pos = 1;
    }
    let ref: number | undefined;
    if (f.suffix[i] === suffix && f.le[i] === le) {
      ref = slot[i + 1];
      if (ref === undefined) {
        ref = slot[i + 1] = this.#newRef(f, suffix, labels, le);
      }
    } else if (f.suffix.length === i) {
      // The family's positions are learnt from its first series.
      f.suffix.push(suffix);
      f.le.push(le);
      ref = slot[i + 1] = this.#newRef(f, suffix, labels, le);
    } else {
      const key = `${text}\0${suffix}\0${le ?? ""}`;
      ref = f.odd.get(key);
      if (ref === undefined) {
        ref = this.#newRef(f, suffix, labels, le);
        f.odd.set(key, ref);
      }
    }
    if (ref < 0) return;
    // Appended after the walk, in one loop: interleaved with the
    // collector's reading the store's state falls out of the cache (about
    // a third slower at 57,000 series).
    const n = this.#n++;
    if (n === this.#refs.length) this.#growBatch();
    this.#refs[n] = ref;
    this.#values[n] = value;
  }

  /**
   * The slot of the series `text` at the family's next position (the one
   * it had there last pass, else looked up by text, else new), marked seen
   * this pass and made the current series.
   */
  #seriesSlot(f: _Family, text: string): number[] {
    const at = f.at++;
    let slot: number[] | undefined;
    if (f.texts[at] === text) slot = f.slots[at];
    else {
      slot = f.series.get(text);
      if (slot === undefined) {
        slot = [0];
        f.series.set(text, slot);
      }
      f.texts[at] = text;
      f.slots[at] = slot;
    }
    slot[0] = this.#pass;
    this.#slot = slot;
    this.#text = text;
    return slot;
  }

  /**
   * A histogram series at once: what `#onSample` does for each of its
   * buckets, `_sum` and `_count`, in one loop once the family's positions
   * are known to be exactly those (else, and for a series whose text
   * repeats the last one's, sample by sample).
   */
  #onHistogram(
    labels: Labels,
    text: string,
    le: readonly string[],
    counts: ArrayLike<number>,
    sum: number,
    count: number,
  ): void {
    const f = this.#family!;
    const nb = le.length;
    if (
      (f.histLe !== le && !this.#checkHistogram(f, le)) || text === this.#text
    ) {
      let cumulative = 0;
      for (let j = 0; j < nb; j++) {
        cumulative += counts[j];
        this.#onSample("_bucket", labels, text, cumulative, le[j]);
      }
      this.#onSample("_sum", labels, text, sum, undefined);
      this.#onSample("_count", labels, text, count, undefined);
      return;
    }
    const slot = this.#seriesSlot(f, text);
    this.#pos = nb + 2;
    while (this.#n + nb + 2 > this.#refs.length) this.#growBatch();
    const refs = this.#refs;
    const values = this.#values;
    let n = this.#n;
    let cumulative = 0;
    for (let j = 0; j < nb + 2; j++) {
      const v = j < nb ? (cumulative += counts[j]) : j === nb ? sum : count;
      let ref = slot[j + 1];
      if (ref === undefined) {
        ref = slot[j + 1] = this.#newRef(
          f,
          f.suffix[j],
          labels,
          f.le[j],
        );
      }
      if (ref < 0) continue;
      refs[n] = ref;
      values[n++] = v;
    }
    this.#n = n;
  }

  /**
   * A planned family's series of one flow as numbers (the collector's
   * `addPlanned`): the store's id of each of the list's samples is learnt
   * at its first value and kept by the list's identity and the series'
   * position (a list only grows), so a pass costs a read and a copy per
   * sample, no call and no lookup.
   */
  #onPlanned(
    list: readonly { labels: Labels }[],
    width: number,
    le: readonly string[] | undefined,
    read: Int32Array,
    values: Float64Array,
    n: number,
  ): void {
    let known = this.#planned.get(list);
    if (known === undefined || known.families !== this.#generation) {
      known = { families: this.#generation, refs: new Int32Array(0) };
      this.#planned.set(list, known);
    }
    if (known.refs.length < list.length * width) {
      const refs = new Int32Array(list.length * width).fill(_UNLEARNT);
      refs.set(known.refs);
      known.refs = refs;
    }
    const refs = known.refs;
    while (this.#n + n * width > this.#refs.length) this.#growBatch();
    const outRefs = this.#refs;
    const outValues = this.#values;
    let m = this.#n;
    for (let k = 0, at = 0; k < n; k++) {
      const base = read[k] * width;
      for (let j = 0; j < width; j++, at++) {
        let ref = refs[base + j];
        if (ref === _UNLEARNT) {
          // A series' store id (and labels object) is made at its first value.
          ref = refs[base + j] = this.#plannedRef(
            list[read[k]].labels,
            j,
            width,
            le,
          );
        }
        if (ref < 0) continue;
        outRefs[m] = ref;
        outValues[m++] = values[at];
      }
    }
    this.#n = m;
  }

  /** The store's id of sample `j` of a planned series (-1: filtered out). */
  #plannedRef(
    labels: Labels,
    j: number,
    width: number,
    le: readonly string[] | undefined,
  ): number {
    const f = this.#family!;
    if (le === undefined) return this.#newRef(f, "", labels, undefined);
    const nb = width - 2;
    return j < nb
      ? this.#newRef(f, "_bucket", labels, le[j])
      : this.#newRef(f, j === nb ? "_sum" : "_count", labels, undefined);
  }

  /**
   * Whether `f`'s positions are `le`'s buckets, `_sum` and `_count` (then
   * remembered for `le`); positions are learnt from a family's first
   * series, so its first histogram goes sample by sample.
   */
  #checkHistogram(f: _Family, le: readonly string[]): boolean {
    const nb = le.length;
    let ok = f.suffix.length === nb + 2 && f.suffix[nb] === "_sum" &&
      f.le[nb] === undefined && f.suffix[nb + 1] === "_count" &&
      f.le[nb + 1] === undefined;
    for (let j = 0; ok && j < nb; j++) {
      ok = f.suffix[j] === "_bucket" && f.le[j] === le[j];
    }
    f.histLe = ok ? le : null;
    return ok;
  }

  #growBatch(): void {
    const size = Math.max(1024, this.#refs.length * 2);
    const refs = new Int32Array(size);
    refs.set(this.#refs);
    this.#refs = refs;
    const values = new Float64Array(size);
    values.set(this.#values);
    this.#values = values;
  }

  /**
   * Appends what the pass read, and Prometheus's staleness marker for each
   * series the last pass read and this one did not (a flow deleted, a
   * process gone): as a scrape that no longer finds a series, a query
   * then stops answering it at once, not after its 5-minute lookback.
   */
  #appendBatch(): void {
    const live = this.#n;
    const last = this.#lastBatch;
    const tag = last === 1 ? 2 : 1;
    const walked = this.#refs;
    let seen = this.#seenIn;
    // Series of this batch, and those of them the last batch sampled
    // (each once: a series handed twice is tagged at its first).
    let sampled = 0;
    let again = 0;
    for (let i = 0; i < live; i++) {
      const ref = walked[i];
      if (ref >= seen.length) {
        const grown = new Uint8Array(growCapacity(ref + 1));
        grown.set(seen);
        this.#seenIn = seen = grown;
      }
      const had = seen[ref];
      if (had === tag) continue;
      sampled++;
      if (had === last) again++;
      seen[ref] = tag;
    }
    // Sampled by the last batch and not by this one: seen[ref] is still
    // that batch's tag. None when this batch sampled all of the last's
    // (a steady pass): the scan of every id is skipped.
    if (last !== 0 && again < this.#lastSampled) {
      for (let ref = 0; ref < seen.length; ref++) {
        if (seen[ref] !== last) continue;
        seen[ref] = 0; // one marker
        if (this.#n === this.#refs.length) this.#growBatch();
        this.#refs[this.#n] = ref;
        setStaleAt(this.#values, this.#n++);
      }
    }
    this.#lastBatch = tag;
    this.#lastSampled = sampled;
    const n = this.#n;
    this.#n = 0;
    const target = this.#target;
    const refs = this.#refs;
    const values = this.#values;
    const t = this.#t;
    if (target.appendBatch !== undefined) {
      target.appendBatch(refs, values, n, t);
    } else {
      for (let i = 0; i < n; i++) target.append(refs[i], t, values[i]);
    }
    this.#stats.samples += n;
  }

  /**
   * The store's id of a sample seen for the first time (-1 when the filter
   * leaves it out): its labels object is made only now.
   */
  #newRef(
    f: _Family,
    suffix: string,
    labels: Labels,
    le: string | undefined,
  ): number {
    const family = this.#familyName;
    const name = family + suffix;
    let keep = f.keep.get(suffix);
    if (keep === undefined) {
      keep = this.#keep(name, family);
      f.keep.set(suffix, keep);
    }
    if (!keep) return -1;
    return this.#target.seriesRef(
      indexLabels(name, this.#constLabels, labels, le),
      _kind(f.type, suffix),
    );
  }

  /** Lets go of series not exported for a while (a flow removed). */
  #sweep(): void {
    const oldest = this.#pass - _SWEEP_PASSES;
    for (const [name, f] of this.#families) {
      for (const [text, slot] of f.series) {
        if (slot[0] < oldest) f.series.delete(text);
      }
      // Looked up again from the store when still exported.
      f.odd.clear();
      if (f.series.size === 0) this.#families.delete(name);
    }
  }

  /** Arms the timer for the next point of the grid. */
  #schedule(): void {
    if (!this.#running) return;
    const now = this.#now();
    const next = (Math.floor(now / this.intervalMs) + 1) * this.intervalMs;
    this.#timer = setTimeout(this.#onTimer, next - now);
    this.#timer.unref();
  }

  readonly #onTimer = () => {
    noteLoopTurn();
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#now();
    const t = Math.floor(now / this.intervalMs) * this.intervalMs;
    // Grid points that passed while the process was blocked (or a pass ran
    // long) are not sampled late: they are skipped and counted.
    if (this.#lastTick > -Infinity && t > this.#lastTick + this.intervalMs) {
      this.#stats.skippedTicks += (t - this.#lastTick) / this.intervalMs - 1;
    }
    if (t > this.#lastTick) {
      this.#lastTick = t;
      this.tick(now).catch(this.#onError);
    }
    this.#schedule();
  };
}
