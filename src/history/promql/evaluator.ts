/**
 * The evaluator: walks weir's PromQL tree over all evaluation steps at
 * once, series by series (as Prometheus's range evaluation), reading only
 * through {@linkcode HistoryReader} from one tier chosen beforehand.
 *
 * Selectors follow Prometheus 2.42: an instant selector takes the newest
 * sample in `[t - lookback, t]`, a range selector the samples in
 * `[t - range, t]` (both ends closed), `offset` moves `t` back, `@` fixes
 * it. Limits: samples loaded and produced count against `maxSamples`; the
 * clock against `deadline`.
 *
 * @module
 */
import type { HistoryReader, SeriesPoints } from "../types.ts";
import {
  isStaleAt,
  seekAbove,
  seekAtLeast,
  sortByLabels,
  sortByLabelsOf,
  StepArrays,
  WINDOW_COLUMNS,
  type WindowColumn,
  withoutStale,
} from "./_points.ts";
import { DEFAULT_SUBQUERY_STEP_MS } from "./ast.ts";
import type {
  Call,
  Expr,
  MatrixSelector,
  Subquery,
  Unary,
  VectorSelector,
} from "./ast.ts";
import { evalAggregate } from "./aggregate.ts";
import { evalBinary } from "./binary.ts";
import { evalFunction } from "./functions.ts";
import { PromQLError } from "./promql_error.ts";
import {
  checkHoltWinters,
  increaseSweep,
  RANGE_FUNCTIONS,
  rateSweep,
  rawRangeFunction,
  resetCorrections,
  SWEEP_FUNCTIONS,
  type Window,
  windowRangeFunction,
} from "./range_functions.ts";
import {
  dropName,
  labelsKey,
  mergeSameLabels,
  type RangeSeries,
  type StepSeries,
  type Value,
} from "./series.ts";

/** Prometheus's message for a query over its sample limit. */
export const TOO_MANY_SAMPLES =
  "query processing would load too many samples into memory in query execution";

/** What one evaluation needs to know. */
export interface EvaluatorOptions {
  readonly reader: HistoryReader;
  /** Index into reader.tiers. */
  readonly tier: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Step (ms); any positive value for an instant query. */
  readonly stepMs: number;
  readonly lookbackMs: number;
  readonly maxSamples: number;
  /** The time (of `now`) after which the query times out. */
  readonly deadline: number;
  /** The clock compared with `deadline` (default `Date.now`). */
  readonly now?: () => number;
  /** The query's own start and end, for `@ start()`/`@ end()` inside subqueries (default: startMs/endMs). */
  readonly queryStartMs?: number;
  readonly queryEndMs?: number;
  /**
   * A series a reader hands over one at a time (`selectEach`) counts
   * against maxSamples only while it is read, as Prometheus counts an
   * instant query's selectors (default false: every series read counts
   * until the selector is done, which a sliced range query sizes its
   * slices by).
   */
  readonly releaseEachSeries?: boolean;
}

/**
 * Evaluates expressions over the steps `start, start + step, ..., <= end`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Evaluator } from "./evaluator.ts";
 * import { parseQuery } from "./parse.ts";
 *
 * const reader = { tiers: [], select: () => [], series: () => [], labelNames: () => [], labelValues: () => [] };
 * const ev = new Evaluator({ reader, tier: 0, startMs: 0, endMs: 30_000, stepMs: 15_000,
 *   lookbackMs: 300_000, maxSamples: 1000, deadline: Infinity });
 * const value = ev.eval(parseQuery("time() * 2"));
 * assert.equal(value.kind, "scalar");
 * assert.deepEqual(value.kind === "scalar" && [...value.v], [0, 30, 60]);
 * ```
 */
export class Evaluator {
  readonly reader: HistoryReader;
  readonly tier: number;
  /** Whether the tier holds raw samples (the first tier). */
  readonly raw: boolean;
  readonly startMs: number;
  readonly endMs: number;
  readonly stepMs: number;
  /** Number of steps. */
  readonly n: number;
  /** The evaluation times (ms). */
  readonly times: Float64Array;
  /** Where the series' step arrays come from. */
  readonly steps: StepArrays;
  readonly lookbackMs: number;
  readonly maxSamples: number;
  readonly deadline: number;
  readonly queryStartMs: number;
  readonly queryEndMs: number;
  readonly now: () => number;
  #samples = 0;
  readonly #releaseEach: boolean;
  #peak = 0;

  constructor(options: EvaluatorOptions) {
    this.reader = options.reader;
    this.tier = options.tier;
    this.raw = options.tier === 0;
    this.startMs = options.startMs;
    this.endMs = options.endMs;
    this.stepMs = options.stepMs;
    this.n = Math.floor((options.endMs - options.startMs) / options.stepMs) + 1;
    this.times = new Float64Array(this.n);
    this.steps = new StepArrays(this.n);
    for (let i = 0; i < this.n; i++) {
      this.times[i] = options.startMs + i * options.stepMs;
    }
    this.lookbackMs = options.lookbackMs;
    this.maxSamples = options.maxSamples;
    this.deadline = options.deadline;
    this.queryStartMs = options.queryStartMs ?? options.startMs;
    this.queryEndMs = options.queryEndMs ?? options.endMs;
    this.now = options.now ?? Date.now;
    this.#releaseEach = options.releaseEachSeries === true;
  }

  /** Counts `count` more samples held by the query; throws past maxSamples. */
  addSamples(count: number): void {
    this.#samples += count;
    if (this.#samples > this.#peak) this.#peak = this.#samples;
    if (this.#samples > this.maxSamples) {
      throw new PromQLError("execution", TOO_MANY_SAMPLES);
    }
  }

  /** Samples held now (loaded and not yet released, plus results). */
  get samples(): number {
    return this.#samples;
  }

  /** The most samples held at once so far (what `maxSamples` bounds). */
  get peakSamples(): number {
    return this.#peak;
  }

  /** Throws a timeout error once past the deadline. */
  checkTimeout(): void {
    if (this.now() > this.deadline) {
      throw new PromQLError(
        "timeout",
        "query timed out in expression evaluation",
      );
    }
  }

  /** A scalar that is `x` at every step. */
  constant(x: number): Float64Array {
    return new Float64Array(this.n).fill(x);
  }

  /** Evaluates `expr` at every step. */
  eval(expr: Expr): Value {
    this.checkTimeout();
    switch (expr.type) {
      case "number":
        return { kind: "scalar", v: this.constant(expr.value) };
      case "string":
        return { kind: "string", value: expr.value };
      case "vector":
        return { kind: "vector", series: this.#vectorSelector(expr, false) };
      case "matrix":
        return { kind: "matrix", series: this.#matrixValue(expr) };
      case "subquery":
        return { kind: "matrix", series: this.#subqueryValue(expr) };
      case "unary":
        return this.#unary(expr);
      case "paren":
        return this.eval(expr.expr);
      case "call":
        if (RANGE_FUNCTIONS.has(expr.func)) return this.#rangeFunction(expr);
        return evalFunction(this, expr);
      case "aggregate":
        return evalAggregate(this, expr);
      case "binary":
        return evalBinary(this, expr);
    }
  }

  /** Evaluates an expression the parser typed as a scalar. */
  evalScalar(expr: Expr): Float64Array {
    const value = this.eval(expr);
    if (value.kind !== "scalar") {
      throw new PromQLError(
        "execution",
        `expected a scalar, got ${value.kind}`,
      );
    }
    return value.v;
  }

  /** Evaluates an expression the parser typed as an instant vector. */
  evalVector(expr: Expr): StepSeries[] {
    const value = this.eval(expr);
    if (value.kind !== "vector") {
      throw new PromQLError(
        "execution",
        `expected an instant vector, got ${value.kind}`,
      );
    }
    return value.series;
  }

  /** The time each step reads at, `@` and `offset` applied (ms). */
  refTimes(sel: Pick<VectorSelector, "at" | "offsetMs">): Float64Array {
    const out = new Float64Array(this.n);
    if (sel.at !== undefined) {
      const at = sel.at === "start"
        ? this.queryStartMs
        : sel.at === "end"
        ? this.queryEndMs
        : sel.at;
      out.fill(at - sel.offsetMs);
    } else {
      for (let i = 0; i < this.n; i++) out[i] = this.times[i] - sel.offsetMs;
    }
    return out;
  }

  #select(
    sel: VectorSelector,
    from: number,
    to: number,
    dropStale = false,
  ): SeriesPoints[] {
    const points = this.reader.select(sel.matchers, from, to, this.tier);
    let total = 0;
    for (const p of points) total += p.t.length;
    this.addSamples(total);
    const sorted = sortByLabels(points);
    return dropStale ? sorted.map(withoutStale) : sorted;
  }

  /**
   * The points every step needs: what reaches back `reachMs` (the range,
   * or the lookback) before each of `refs`. One select over the whole span
   * when the steps' reaches cover a good part of it; else one select per
   * step, so a 30-day query at a 1 h step of `rate(x[1m])` reads 720
   * windows per series, not 43,200 (nor holds them against maxSamples).
   */
  #selectSteps(
    sel: VectorSelector,
    refs: Float64Array,
    reachMs: number,
    dropStale: boolean,
    columns?: readonly WindowColumn[],
  ): SeriesPoints[] {
    const n = refs.length;
    const first = refs[0];
    const last = refs[n - 1];
    const resolution = this.reader.tiers[this.tier]?.resolutionMs ?? 1;
    const span = last - first + reachMs;
    if (first === last || n * (reachMs + resolution) * 4 >= span) {
      return this.#select(sel, first - reachMs, last, dropStale);
    }
    if (this.reader.selectSteps !== undefined) {
      const points = this.reader.selectSteps(
        sel.matchers,
        refs,
        reachMs,
        this.tier,
        columns,
      );
      let count = 0;
      for (const p of points) count += p.t.length;
      this.addSamples(count);
      const sorted = sortByLabels(points);
      return dropStale ? sorted.map(withoutStale) : sorted;
    }
    interface Acc {
      labels: SeriesPoints["labels"];
      kind: SeriesPoints["kind"];
      t: number[];
      /**
       * The values as their two 32-bit words: a NaN that passes through a
       * JavaScript number or array may lose its payload, and a stale
       * marker is a NaN payload.
       */
      words: number[];
      columns: Map<WindowColumn, number[]>;
    }
    const byObject = new Map<object, Acc>();
    const byKey = new Map<string, Acc>();
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0 && refs[i] === refs[i - 1]) continue;
      this.checkTimeout();
      const points = this.reader.select(
        sel.matchers,
        refs[i] - reachMs,
        refs[i],
        this.tier,
      );
      for (const p of points) {
        // A store hands out the same labels object for a series each time;
        // the key is the fallback for one that does not.
        let acc = byObject.get(p.labels);
        if (acc === undefined) {
          const key = labelsKey(p.labels);
          acc = byKey.get(key);
          if (acc === undefined) {
            acc = {
              labels: p.labels,
              kind: p.kind,
              t: [],
              words: [],
              columns: new Map(),
            };
            byKey.set(key, acc);
          }
          byObject.set(p.labels, acc);
        }
        const lastT = acc.t.length > 0 ? acc.t[acc.t.length - 1] : -Infinity;
        const words = new Uint32Array(
          p.value.buffer,
          p.value.byteOffset,
          p.value.length * 2,
        );
        for (let j = 0; j < p.t.length; j++) {
          if (p.t[j] <= lastT) continue;
          acc.t.push(p.t[j]);
          acc.words.push(words[2 * j], words[2 * j + 1]);
          for (const name of WINDOW_COLUMNS) {
            const col = p[name];
            if (col === undefined) continue;
            let list = acc.columns.get(name);
            if (list === undefined) {
              list = [];
              acc.columns.set(name, list);
            }
            list.push(col[j]);
          }
          total++;
        }
      }
      this.addSamples(total);
      total = 0;
    }
    const merged: SeriesPoints[] = [];
    for (const acc of byKey.values()) {
      const column = (name: WindowColumn) => {
        const list = acc.columns.get(name);
        return list === undefined ? undefined : Float64Array.from(list);
      };
      merged.push({
        labels: acc.labels,
        kind: acc.kind,
        t: Float64Array.from(acc.t),
        value: new Float64Array(Uint32Array.from(acc.words).buffer),
        count: column("count"),
        sum: column("sum"),
        min: column("min"),
        max: column("max"),
        increase: column("increase"),
      });
    }
    const sorted = sortByLabels(merged);
    return dropStale ? sorted.map(withoutStale) : sorted;
  }

  /**
   * Calls `visit` with the points of each series a selector reads for
   * steps at `refs` reaching back `reachMs` (as {@linkcode #selectSteps}).
   * Over the whole span, a reader with `selectEach()` hands the series
   * over one at a time in arrays it reuses (no buffer per series, one
   * series' samples in memory at a time), in its own order: then this
   * returns false, and the caller sorts what it made by the labels given
   * to `visit` (as {@linkcode sortByLabels} orders the series otherwise).
   * The samples count against maxSamples as select()'s do, and the caller
   * releases `held.samples` when done; with `releaseEachSeries` (an
   * instant query), a series handed over one at a time counts only while
   * `visit` has it (the reader reuses its arrays for the next), as
   * Prometheus counts one series' window at a time: `count({__name__=~".+"})`
   * over 57,632 series with a 5-minute lookback at 1 s is answered, not
   * refused for the 17 million samples its lookbacks hold together. A
   * sliced range query keeps counting them all: it sizes its slices by
   * what they read.
   */
  #eachSelected(
    sel: VectorSelector,
    refs: Float64Array,
    reachMs: number,
    dropStale: boolean,
    columns: readonly WindowColumn[] | undefined,
    held: { samples: number },
    visit: (p: SeriesPoints) => void,
    latestOnly = false,
  ): boolean {
    const n = refs.length;
    const first = refs[0];
    const last = refs[n - 1];
    const count = (p: SeriesPoints) => {
      const n = p.t.length;
      this.addSamples(n);
      visit(dropStale ? withoutStale(p) : p);
      if (this.#releaseEach) this.#samples -= n;
      else held.samples += n;
    };
    if (
      latestOnly && n === 1 && this.raw &&
      this.reader.selectLatestEach !== undefined
    ) {
      // One step that keeps a series' last sample: the reader need not
      // decode the whole lookback.
      this.reader.selectLatestEach(sel.matchers, first, reachMs, count);
      return false;
    }
    const resolution = this.reader.tiers[this.tier]?.resolutionMs ?? 1;
    const span = last - first + reachMs;
    const whole = first === last || n * (reachMs + resolution) * 4 >= span;
    if (whole && this.reader.selectEach !== undefined) {
      this.reader.selectEach(
        sel.matchers,
        first - reachMs,
        last,
        this.tier,
        count,
      );
      return false;
    }
    if (!whole && this.reader.selectStepsEach !== undefined) {
      this.reader.selectStepsEach(
        sel.matchers,
        refs,
        reachMs,
        this.tier,
        columns,
        count,
      );
      return false;
    }
    const selected = this.#selectSteps(sel, refs, reachMs, dropStale, columns);
    for (const p of selected) {
      held.samples += p.t.length;
      visit(p);
    }
    return true;
  }

  /**
   * How many raw samples a full window of this tier holds (the tier's
   * resolution over the raw interval); Infinity when that is not whole.
   */
  #fullWindow(): number {
    const tiers = this.reader.tiers;
    if (this.raw || tiers.length === 0) return Infinity;
    const ratio = tiers[this.tier].resolutionMs / tiers[0].resolutionMs;
    return Number.isInteger(ratio) ? ratio : Infinity;
  }

  /** An instant vector selector at every step; `withTimestamps` keeps each sample's time. */
  #vectorSelector(sel: VectorSelector, withTimestamps: boolean): StepSeries[] {
    const refs = this.refTimes(sel);
    const lookback = this.lookbackMs;
    const fullWindow = this.#fullWindow();
    const out: StepSeries[] = [];
    const origin: SeriesPoints["labels"][] = [];
    let produced = 0;
    const held = { samples: 0 };
    const sorted = this.#eachSelected(
      sel,
      refs,
      lookback,
      false,
      ["count"],
      held,
      (p) => {
        this.checkTimeout();
        const v = this.steps.values();
        const ok = this.steps.flags();
        const ts = withTimestamps ? this.steps.values() : undefined;
        const t = p.t;
        const values = p.value;
        const counts = this.raw ? undefined : p.count;
        let j = -1;
        let any = false;
        for (let i = 0; i < this.n; i++) {
          const ref = refs[i];
          j = seekAbove(t, j + 1, ref) - 1;
          if (j < 0 || t[j] < ref - lookback) continue;
          // A window ending exactly at the lookback's start holds a sample
          // inside it only when full (its last sample then sits at its end).
          if (
            t[j] === ref - lookback && counts !== undefined &&
            counts[j] < fullWindow
          ) continue;
          const x = values[j];
          if (x !== x && isStaleAt(values, j)) continue;
          v[i] = x;
          ok[i] = 1;
          if (ts !== undefined) ts[i] = t[j];
          any = true;
          produced++;
        }
        if (any) {
          out.push({ labels: p.labels, v, ok, ts });
          origin.push(p.labels);
        }
      },
      true,
    );
    this.addSamples(produced);
    this.#samples -= held.samples;
    return sorted ? out : sortByLabelsOf(out, origin);
  }

  /** The selector of a timestamp() argument, with the samples' own times. */
  vectorWithTimestamps(sel: VectorSelector): StepSeries[] {
    return this.#vectorSelector(sel, true);
  }

  /** A range selector as a value: only meaningful for one step (an instant query). */
  #matrixValue(expr: MatrixSelector): RangeSeries[] {
    const refs = this.refTimes(expr.selector);
    const ref = refs[this.n - 1];
    const selected = this.#select(expr.selector, ref - expr.rangeMs, ref);
    const out: RangeSeries[] = [];
    for (const p of selected) {
      const t: number[] = [];
      const v: number[] = [];
      for (let i = 0; i < p.t.length; i++) {
        if (
          p.t[i] < ref - expr.rangeMs || p.t[i] > ref || isStaleAt(p.value, i)
        ) continue;
        t.push(p.t[i]);
        v.push(p.value[i]);
      }
      if (t.length > 0) out.push({ labels: p.labels, t, v });
    }
    return out;
  }

  /**
   * A subquery's points for steps reading at `refs`: its expression
   * evaluated at multiples of its step, from the first one after
   * `refs[0] - range` to the last ref, as Prometheus 2.42 aligns them.
   */
  #subqueryPoints(sq: Subquery, refs: Float64Array): SeriesPoints[] {
    const interval = sq.stepMs ?? DEFAULT_SUBQUERY_STEP_MS;
    const from = refs[0] - sq.rangeMs;
    // Go's integer division truncates towards zero.
    let start = interval * Math.trunc(from / interval);
    if (start < from) start += interval;
    const end = refs[refs.length - 1];
    if (start > end) return [];
    // Each step may make a sample: more steps than the limit leaves would
    // be refused as they are made, so refuse them before their arrays are.
    const steps = Math.floor((end - start) / interval) + 1;
    if (steps > this.maxSamples - this.#samples) {
      throw new PromQLError("execution", TOO_MANY_SAMPLES);
    }
    const inner = new Evaluator({
      reader: this.reader,
      tier: this.tier,
      startMs: start,
      endMs: end,
      stepMs: interval,
      lookbackMs: this.lookbackMs,
      maxSamples: this.maxSamples - this.#samples,
      deadline: this.deadline,
      now: this.now,
      queryStartMs: this.queryStartMs,
      queryEndMs: this.queryEndMs,
    });
    const series = inner.evalVector(sq.expr);
    const out: SeriesPoints[] = [];
    let count = 0;
    for (const s of series) {
      let k = 0;
      for (let i = 0; i < inner.n; i++) if (s.ok[i]) k++;
      if (k === 0) continue;
      const t = new Float64Array(k);
      const value = new Float64Array(k);
      k = 0;
      for (let i = 0; i < inner.n; i++) {
        if (!s.ok[i]) continue;
        t[k] = inner.times[i];
        value[k++] = s.v[i];
      }
      count += k;
      out.push({ labels: s.labels, kind: "untyped", t, value });
    }
    this.addSamples(count);
    return sortByLabels(out);
  }

  /** A subquery as a value: an instant query's range vector. */
  #subqueryValue(sq: Subquery): RangeSeries[] {
    const refs = this.refTimes(sq);
    const ref = refs[this.n - 1];
    const points = this.#subqueryPoints(sq, refs.subarray(this.n - 1));
    return points.map((p) => ({
      labels: p.labels,
      t: Array.from(p.t),
      v: Array.from(p.value),
    })).map((s) => {
      const keep = s.t.map((t) => t >= ref - sq.rangeMs && t <= ref);
      return {
        labels: s.labels,
        t: s.t.filter((_, i) => keep[i]),
        v: s.v.filter((_, i) => keep[i]),
      };
    }).filter((s) => s.t.length > 0);
  }

  #rangeFunction(call: Call): Value {
    const matrixArg = call.args.find((a) =>
      a.type === "matrix" || a.type === "subquery"
    ) as MatrixSelector | Subquery;
    const paramList = call.args.filter((a) =>
      a.type !== "matrix" && a.type !== "subquery"
    ).map((a) => this.evalScalar(a));
    const params = paramList[0];
    const params2 = paramList[1];
    const isSubquery = matrixArg.type === "subquery";
    const sel = matrixArg.type === "matrix" ? matrixArg.selector : matrixArg;
    const rangeMs = matrixArg.rangeMs;
    const refs = this.refTimes(sel);
    // A subquery's points are samples at its steps: raw semantics.
    const raw = this.raw || isSubquery;
    const func = call.func;
    const fn = raw ? rawRangeFunction : windowRangeFunction;
    // Raw ranges are closed at both ends (2.42); a window ending at
    // t - range holds samples before the range, so windows start after it.
    const closedStart = raw;
    const fullWindow = raw ? Infinity : this.#fullWindow();
    const constant = sel.at !== undefined &&
      paramList.every((p) => p.every((x) => x === p[0]));
    const useResets = raw && (func === "rate" || func === "increase");
    // rate/increase/delta of raw samples: one pass a series (rateSweep).
    const sweep = raw && !constant && SWEEP_FUNCTIONS.has(func);
    // rate/increase of a downsampled tier: one pass a series too.
    const windowSweep = !raw && !constant &&
      (func === "rate" || func === "increase");
    const keepName = func === "last_over_time";
    const out: StepSeries[] = [];
    const origin: SeriesPoints["labels"][] = [];
    let produced = 0;
    let visited = 0;
    const each = (p: SeriesPoints) => {
      // The clock every 64 series (a clock read is about as dear as a
      // series' sweep).
      if ((visited++ & 63) === 0) this.checkTimeout();
      const v = this.steps.values();
      const ok = this.steps.flags();
      const t = p.t;
      const resets = useResets && !sweep
        ? resetCorrections(p.value)
        : undefined;
      const counts = p.count;
      let lo = 0;
      let hi = -1;
      const window: Window = {
        points: p,
        lo,
        hi,
        end: 0,
        stepTime: 0,
        rangeMs,
        param: 0,
        param2: 0,
        boundary: -1,
        resets,
      };
      const swept = sweep || (windowSweep && p.increase !== undefined);
      if (windowSweep && p.increase !== undefined) {
        produced += increaseSweep(
          func === "rate",
          t,
          p.increase,
          refs,
          rangeMs,
          v,
          ok,
        );
      } else if (sweep) {
        produced += rateSweep(
          func as "rate",
          t,
          p.value,
          refs,
          rangeMs,
          p.rises === true,
          v,
          ok,
        );
      }
      for (let i = 0; i < (swept ? 0 : this.n); i++) {
        if (constant && i > 0) {
          v[i] = v[0];
          ok[i] = ok[0];
          continue;
        }
        const end = refs[i];
        const start = end - rangeMs;
        lo = closedStart ? seekAtLeast(t, lo, start) : seekAbove(t, lo, start);
        hi = seekAbove(t, hi + 1, end) - 1;
        if (!closedStart) {
          // The window ending at the range's start ends on a sample only
          // when it is full (samples sit on the raw interval's grid).
          window.boundary =
            lo > 0 && t[lo - 1] === start && counts !== undefined &&
              counts[lo - 1] >= fullWindow
              ? lo - 1
              : -1;
          if (hi < lo && window.boundary < 0) continue;
        } else if (hi < lo) continue;
        window.lo = lo;
        window.hi = hi;
        window.end = end;
        window.stepTime = this.times[i];
        if (params !== undefined) window.param = params[i];
        if (params2 !== undefined) window.param2 = params2[i];
        if (func === "holt_winters") {
          checkHoltWinters(window.param, window.param2);
        }
        let x: number | undefined;
        try {
          x = fn(func, window);
        } catch (error) {
          throw new PromQLError(
            "execution",
            `Cannot evaluate ${func}() from the ${
              this.reader.tiers[this.tier]?.name
            } tier: ${(error as Error).message}`,
          );
        }
        if (x === undefined) continue;
        v[i] = x;
        ok[i] = 1;
        produced++;
      }
      if (ok.includes(1)) {
        out.push({ labels: keepName ? p.labels : dropName(p.labels), v, ok });
        origin.push(p.labels);
      }
    };
    const held = { samples: 0 };
    let sorted = true;
    if (matrixArg.type === "matrix") {
      sorted = this.#eachSelected(
        matrixArg.selector,
        refs,
        rangeMs,
        this.raw,
        WINDOW_READS[call.func],
        held,
        each,
      );
    } else {
      const selected = this.#subqueryPoints(matrixArg, refs);
      for (const p of selected) {
        held.samples += p.t.length;
        each(p);
      }
    }
    this.addSamples(produced);
    this.#samples -= held.samples;
    if (!sorted) sortByLabelsOf(out, origin);
    if (func === "absent_over_time") {
      return {
        kind: "vector",
        series: absentOf(
          this,
          isSubquery ? undefined : sel as VectorSelector,
          out,
        ),
      };
    }
    // 2.42 checks a range function's whole matrix for equal label sets.
    return { kind: "vector", series: mergeSameLabels(out, true) };
  }

  #unary(expr: Unary): Value {
    const value = this.eval(expr.expr);
    if (expr.op === "+") return value;
    if (value.kind === "scalar") {
      return {
        kind: "scalar",
        v: value.v.map((x) => -x),
      };
    }
    if (value.kind !== "vector") {
      throw new PromQLError("execution", "unary minus on a non-numeric value");
    }
    const out = value.series.map((s) => ({
      labels: dropName(s.labels),
      v: s.v.map((x) => -x),
      ok: s.ok,
    }));
    // 2.42 checks unary minus's whole matrix for equal label sets.
    return { kind: "vector", series: mergeSameLabels(out, true) };
  }
}

/**
 * The window columns each range function reads from a downsampled tier
 * besides `value` (`range_functions.ts` windowRangeFunction; `count` also
 * tells whether the window ending at the range's start is full).
 */
const WINDOW_READS: Readonly<Record<string, readonly WindowColumn[]>> = {
  rate: ["increase"],
  increase: ["increase"],
  sum_over_time: ["sum", "count"],
  count_over_time: ["count"],
  avg_over_time: ["sum", "count"],
  min_over_time: ["min", "count"],
  max_over_time: ["max", "count"],
  last_over_time: ["count"],
  present_over_time: ["count"],
  absent_over_time: ["count"],
};

/**
 * absent()/absent_over_time(): a series of value 1 at the steps where
 * `present` has no series, labelled with the selector's equality matchers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { absentOf, Evaluator } from "./evaluator.ts";
 * import { parseQuery } from "./parse.ts";
 *
 * const reader = { tiers: [], select: () => [], series: () => [], labelNames: () => [], labelValues: () => [] };
 * const ev = new Evaluator({ reader, tier: 0, startMs: 0, endMs: 0, stepMs: 1,
 *   lookbackMs: 300_000, maxSamples: 1000, deadline: Infinity });
 * const sel = parseQuery('up{job="a", zone=~"x.*"}') as never;
 * assert.deepEqual(absentOf(ev, sel, [])[0].labels, { job: "a" });
 * ```
 */
export function absentOf(
  ev: Evaluator,
  sel: VectorSelector | undefined,
  present: StepSeries[],
): StepSeries[] {
  const labels: Record<string, string> = {};
  if (sel !== undefined) {
    // 2.42's createLabelsForAbsentFunction, matcher by matcher: the first
    // equality of a name sets it (an empty value sets nothing); any later
    // matcher of the name (a second equality too) removes it, one before
    // it does nothing.
    const has = new Set<string>();
    const set = new Map<string, string>();
    for (const m of sel.matchers) {
      if (m.name === "__name__") continue;
      if (m.type === "=" && !has.has(m.name)) {
        has.add(m.name);
        if (m.value !== "") set.set(m.name, m.value);
      } else set.delete(m.name);
    }
    for (const [name, value] of set) labels[name] = value;
  }
  const v = new Float64Array(ev.n);
  const ok = new Uint8Array(ev.n);
  for (let i = 0; i < ev.n; i++) {
    if (!present.some((s) => s.ok[i])) {
      v[i] = 1;
      ok[i] = 1;
    }
  }
  return ok.includes(1) ? [{ labels, v, ok }] : [];
}
