/**
 * The entry points: an instant query and a range query over a
 * {@linkcode HistoryReader}, answered in Prometheus's result shapes (times
 * in ms here; the HTTP API converts to float seconds).
 *
 * @module
 */
import type { HistoryReader, SeriesLabels } from "../types.ts";
import type { Expr } from "./ast.ts";
import { valueType } from "./ast.ts";
import { Evaluator, TOO_MANY_SAMPLES } from "./evaluator.ts";
import { parseQuery, TYPE_NAMES } from "./parse.ts";
import { PromQLError } from "./promql_error.ts";
import { _nextTurn } from "../../engine/_next_turn.ts";
import {
  compareLabels,
  labelsKey,
  type StepSeries,
  type Value,
} from "./series.ts";
import {
  chooseTier,
  coarserExactTier,
  type QueryTimes,
} from "./tier_choice.ts";

/** Limits and settings of one query. */
export interface QueryOptions {
  /** How far back an instant selector looks for a sample (ms). Default 300,000 (5 min), as Prometheus. */
  lookbackDeltaMs?: number;
  /** Samples one query may hold (loaded and computed). Default 5,000,000. */
  maxSamples?: number;
  /** Evaluation time limit (ms). Default 120,000, as Prometheus. */
  timeoutMs?: number;
  /** The present, for the tiers' retention (ms). Default `Date.now()`. */
  nowMs?: number;
  /** Read this tier (by name) instead of choosing one; for tests and comparisons. */
  tier?: string;
  /**
   * The most steps a range query may span, `floor((end - start) / step)`;
   * more is refused, as Prometheus's API refuses more than 11,000. Default
   * {@linkcode MAX_POINTS_PER_SERIES}. The query API counts them itself, as
   * 2.42 does, on the step before it is truncated to ms (11,001 s at a step
   * of 1.0001 s passes, and is evaluated at 1 s: 11,002 points), and
   * passes `Infinity`.
   */
  maxSteps?: number;
}

/** A query's result, as Prometheus's API shapes it (times in ms). */
export type QueryResult =
  | {
    resultType: "vector";
    result: { metric: SeriesLabels; value: [number, number] }[];
  }
  | {
    resultType: "matrix";
    result: { metric: SeriesLabels; values: [number, number][] }[];
  }
  | { resultType: "scalar"; result: [number, number] }
  | { resultType: "string"; result: [number, string] };

/**
 * A range query's answer as {@linkcode queryRangeColumns} holds it: each
 * series' times (ms) and values in two typed arrays of one length, series
 * sorted by labels. {@linkcode QueryResult}'s matrix without an array a
 * point: 16 bytes a point where `[t, v]` takes some 70.
 */
export interface RangeColumns {
  resultType: "matrix";
  columns: { metric: SeriesLabels; t: Float64Array; v: Float64Array }[];
}

/** Prometheus's limit on a range query's points per series. */
export const MAX_POINTS_PER_SERIES = 11_000;
const DEFAULT_MAX_SAMPLES = 5_000_000;
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_LOOKBACK_MS = 300_000;

function checkTime(name: string, ms: number): void {
  if (!Number.isFinite(ms)) {
    throw new PromQLError(
      "bad_data",
      `invalid parameter ${
        JSON.stringify(name)
      }: cannot parse ${ms} to a valid timestamp`,
    );
  }
}

/** A query's times as the tier rules read them, its tier and its deadline. */
function _plan(
  reader: HistoryReader,
  expr: Expr,
  startMs: number,
  endMs: number,
  stepMs: number,
  options: QueryOptions,
): { lookbackMs: number; times: QueryTimes; tier: number; deadline: number } {
  const lookbackMs = options.lookbackDeltaMs ?? DEFAULT_LOOKBACK_MS;
  const times = {
    startMs,
    endMs,
    stepMs,
    lookbackMs,
    nowMs: options.nowMs ?? Date.now(),
    oldestMs: reader.oldestTime?.(),
  };
  return {
    lookbackMs,
    times,
    tier: _tierOf(reader, expr, times, options.tier),
    deadline: Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  };
}

/** The tier named `name` (an error when there is none), else the one the rules choose. */
function _tierOf(
  reader: HistoryReader,
  expr: Expr,
  times: QueryTimes,
  name: string | undefined,
): number {
  if (name === undefined) return chooseTier(expr, reader.tiers, times);
  const tier = reader.tiers.findIndex((t) => t.name === name);
  if (tier < 0) {
    throw new PromQLError(
      "bad_data",
      `Cannot read tier ${JSON.stringify(name)}: the store has ${
        reader.tiers.map((t) => t.name).join(", ")
      }`,
    );
  }
  return tier;
}

/**
 * Evaluates `expr` on the tier the rules choose (or `options.tier`). A
 * query that would hold more than maxSamples on its tier is tried once more
 * on the next coarser tier that answers it exactly, before the limit's
 * error goes to the caller.
 */
function evaluate(
  reader: HistoryReader,
  expr: Expr,
  startMs: number,
  endMs: number,
  stepMs: number,
  options: QueryOptions,
): { ev: Evaluator; value: Value } {
  const plan = _plan(reader, expr, startMs, endMs, stepMs, options);
  const { lookbackMs, times, deadline } = plan;
  let tier = plan.tier;
  for (;;) {
    const ev = new Evaluator({
      reader,
      tier,
      startMs,
      endMs,
      stepMs: stepMs > 0 ? stepMs : 1,
      lookbackMs,
      maxSamples: options.maxSamples ?? DEFAULT_MAX_SAMPLES,
      deadline,
      // An instant query holds a series read one at a time only while it
      // reads it, as Prometheus counts it.
      releaseEachSeries: startMs === endMs,
    });
    try {
      return { ev, value: ev.eval(expr) };
    } catch (error) {
      tier = _coarserOr(error, reader, expr, times, tier, options.tier);
    }
  }
}

/**
 * The next coarser tier that answers `expr` exactly, when `error` is the
 * sample limit's and the tier was the rules' choice; else throws `error`.
 */
function _coarserOr(
  error: unknown,
  reader: HistoryReader,
  expr: Expr,
  times: QueryTimes,
  tier: number,
  named: string | undefined,
): number {
  const coarser = named === undefined &&
      error instanceof PromQLError && error.type === "execution" &&
      error.message.startsWith(TOO_MANY_SAMPLES)
    ? coarserExactTier(expr, reader.tiers, times, tier)
    : undefined;
  if (coarser === undefined) throw error;
  return coarser;
}

/** The function at the top of `expr`, through parentheses already removed. */
function topOrder(expr: Expr): "asc" | "desc" | "labels" {
  if (expr.type === "call" && expr.func === "sort") return "asc";
  if (expr.type === "call" && expr.func === "sort_desc") return "desc";
  if (expr.type === "aggregate" && expr.op === "topk") return "desc";
  if (expr.type === "aggregate" && expr.op === "bottomk") return "asc";
  return "labels";
}

/** NaN sorts last in sort() and sort_desc(), as Prometheus. */
function byValue(desc: boolean): (a: number, b: number) => number {
  return (a, b) => {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return desc ? b - a : a - b;
  };
}

/**
 * Evaluates `query` at one time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queryInstant } from "./query.ts";
 *
 * const reader = {
 *   tiers: [{ name: "raw", resolutionMs: 1000, retentionMs: 86_400_000 }],
 *   select: () => [{ labels: { __name__: "up", job: "weir" }, kind: "gauge" as const,
 *     t: new Float64Array([1000, 2000]), value: new Float64Array([0, 1]) }],
 *   series: () => [], labelNames: () => [], labelValues: () => [],
 * };
 * const result = queryInstant(reader, "up * 2", 2000, { nowMs: 2000 });
 * assert.deepEqual(result, { resultType: "vector", result: [{ metric: { job: "weir" }, value: [2000, 2] }] });
 * ```
 */
export function queryInstant(
  reader: HistoryReader,
  query: string,
  timeMs: number,
  options: QueryOptions = {},
): QueryResult {
  checkTime("time", timeMs);
  const expr = parseQuery(query);
  const { value } = evaluate(reader, expr, timeMs, timeMs, 0, options);
  switch (value.kind) {
    case "scalar":
      return { resultType: "scalar", result: [timeMs, value.v[0]] };
    case "string":
      return { resultType: "string", result: [timeMs, value.value] };
    case "matrix":
      return {
        resultType: "matrix",
        result: value.series.map((s) => ({
          metric: s.labels,
          values: s.t.map((t, i) => [t, s.v[i]] as [number, number]),
        })),
      };
    case "vector": {
      const present = value.series.filter((s) => s.ok[0]);
      const order = topOrder(expr);
      if (order === "labels") {
        present.sort((a, b) => compareLabels(a.labels, b.labels));
      } else {
        const cmp = byValue(order === "desc");
        present.sort((a, b) => cmp(a.v[0], b.v[0]));
      }
      return {
        resultType: "vector",
        result: present.map((s) => ({
          metric: s.labels,
          value: [timeMs, s.v[0]],
        })),
      };
    }
  }
}

/**
 * Checks a range query's times and parses it: its expression, which must
 * be a scalar or an instant vector.
 */
function _rangeExpr(
  query: string,
  startMs: number,
  endMs: number,
  stepMs: number,
  maxSteps = MAX_POINTS_PER_SERIES,
): Expr {
  checkTime("start", startMs);
  checkTime("end", endMs);
  if (endMs < startMs) {
    throw new PromQLError(
      "bad_data",
      "end timestamp must not be before start time",
    );
  }
  if (!(stepMs > 0)) {
    throw new PromQLError(
      "bad_data",
      "zero or negative query resolution step widths are not accepted. Try a positive integer",
    );
  }
  // Prometheus divides the durations as integers.
  if (Math.floor((endMs - startMs) / stepMs) > maxSteps) {
    throw new PromQLError(
      "bad_data",
      "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    );
  }
  const expr = parseQuery(query);
  const type = valueType(expr);
  if (type !== "scalar" && type !== "vector") {
    throw new PromQLError(
      "bad_data",
      `invalid expression type ${
        JSON.stringify(TYPE_NAMES[type])
      } for range query, must be Scalar or instant Vector`,
    );
  }
  return expr;
}

/**
 * Evaluates `query` at `start, start + step, ..., <= end`; the result is
 * always a matrix (a scalar becomes one series without labels), series
 * sorted by labels, each point `[ms, value]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queryRange } from "./query.ts";
 *
 * const reader = { tiers: [], select: () => [], series: () => [], labelNames: () => [], labelValues: () => [] };
 * const result = queryRange(reader, "time()", 0, 30_000, 15_000);
 * assert.deepEqual(result, { resultType: "matrix", result: [{ metric: {}, values: [[0, 0], [15_000, 15], [30_000, 30]] }] });
 * assert.throws(() => queryRange(reader, "time()", 0, 1, 0), /zero or negative query resolution step/);
 * ```
 */
export function queryRange(
  reader: HistoryReader,
  query: string,
  startMs: number,
  endMs: number,
  stepMs: number,
  options: QueryOptions = {},
): QueryResult {
  const expr = _rangeExpr(
    query,
    startMs,
    endMs,
    stepMs,
    options.maxSteps,
  );
  const { ev, value } = evaluate(
    reader,
    expr,
    startMs,
    endMs,
    stepMs,
    options,
  );
  const out = new Map<string, _Points>();
  _gather(value, ev, out, ev.n);
  return _matrix(_columns(out));
}

/** Options of {@linkcode queryRangeSliced}. */
export interface SlicedQueryOptions extends QueryOptions {
  /** The most steps a slice may have, a positive integer. Default: as many as its samples allow (see `_SliceSizer`). */
  maxSliceSteps?: number;
  /** Ends the query between two slices (a `PromQLError` of type `canceled`), e.g. the request's signal once its client left. */
  signal?: AbortSignal;
  /** Waits between two slices. Default: until the event loop has run, its I/O included (`setTimeout(0)`). */
  pause?: () => Promise<void>;
}

/** The share of the samples left under the limit a slice is sized to hold. */
const SLICE_SHARE = 0.8;
const FIRST_SLICE_STEPS = 32;

/**
 * {@linkcode queryRange} evaluated a slice of steps at a time, the event
 * loop running between slices: a heavy range query (thousands of series
 * over hours at a small step) holds the thread for one slice at a time
 * instead of for all of its evaluation, so flows, the metric history and
 * other requests go on meanwhile. The answer is {@linkcode queryRange}'s:
 * the tier is chosen once for the whole range, `@ start()` and `@ end()`
 * are the whole query's, each step is evaluated as it would be at once.
 * The first slice has 32 steps; each next one as many as should hold most
 * of the samples the limit leaves (see `_SliceSizer`): slices are sized by
 * samples, not by time, so the same query over the same data is sliced,
 * answered or refused alike on any machine. Limits: `maxSamples` counts
 * the points answered so far plus what one slice holds (a query the whole
 * range at once would refuse may be answered a slice at a time);
 * `timeoutMs` counts from the start, pauses included. Data appended while
 * the query runs may show in its later slices. A query of a few steps,
 * each heavy, is not made lighter: slices are of whole steps.
 *
 * Where the answer can differ from the whole range at once (found by a
 * review, left as they are): two series that become one label set (a
 * range function or unary minus dropping `__name__`) are refused at once
 * when they meet anywhere in the range, in slices only when they meet in
 * one slice; ties in `topk`/`bottomk` and the order floats are summed in
 * follow the order series are first met in the evaluated window, as
 * `queryInstant` at each step does; near the sample limit, a subquery
 * re-reads its reach for each slice, so a query the whole range just
 * answers may be refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queryRange, queryRangeSliced } from "./query.ts";
 *
 * const reader = { tiers: [], select: () => [], series: () => [], labelNames: () => [], labelValues: () => [] };
 * const sliced = await queryRangeSliced(reader, "time() * 2", 0, 600_000, 1_000);
 * assert.deepEqual(sliced, queryRange(reader, "time() * 2", 0, 600_000, 1_000));
 * ```
 */
export async function queryRangeSliced(
  reader: HistoryReader,
  query: string,
  startMs: number,
  endMs: number,
  stepMs: number,
  options: SlicedQueryOptions = {},
): Promise<QueryResult> {
  return _matrix(
    await queryRangeColumns(reader, query, startMs, endMs, stepMs, options),
  );
}

/**
 * {@linkcode queryRangeSliced}'s answer as it is gathered, without an
 * array a point: each series' times and values in typed arrays (see
 * {@linkcode RangeColumns}). The query API writes its JSON from this; the
 * sample limit then bounds some 16 bytes a point instead of some 70.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queryRangeColumns } from "./query.ts";
 *
 * const reader = { tiers: [], select: () => [], series: () => [], labelNames: () => [], labelValues: () => [] };
 * const { columns } = await queryRangeColumns(reader, "time() * 2", 0, 2_000, 1_000);
 * assert.deepEqual(columns, [{ metric: {}, t: new Float64Array([0, 1_000, 2_000]), v: new Float64Array([0, 2, 4]) }]);
 * ```
 */
export async function queryRangeColumns(
  reader: HistoryReader,
  query: string,
  startMs: number,
  endMs: number,
  stepMs: number,
  options: SlicedQueryOptions = {},
): Promise<RangeColumns> {
  const expr = _rangeExpr(
    query,
    startMs,
    endMs,
    stepMs,
    options.maxSteps,
  );
  const most = options.maxSliceSteps ?? Infinity;
  if (!(most >= 1) || (most !== Infinity && !Number.isInteger(most))) {
    throw new RangeError(
      `Cannot slice the query: maxSliceSteps must be a positive integer, received ${most}`,
    );
  }
  const plan = _plan(reader, expr, startMs, endMs, stepMs, options);
  const { lookbackMs, times, deadline } = plan;
  let tier = plan.tier;
  const maxSamples = options.maxSamples ?? DEFAULT_MAX_SAMPLES;
  const pause = options.pause ?? _nextTurn;
  const signal = options.signal;
  const n = Math.floor((endMs - startMs) / stepMs) + 1;
  for (;;) {
    const out = new Map<string, _Points>();
    let held = 0;
    try {
      const sizer = new _SliceSizer();
      for (let i = 0; i < n;) {
        if (i > 0) await pause();
        if (signal?.aborted) {
          throw new PromQLError("canceled", "query canceled: its client left");
        }
        const k = Math.min(sizer.steps, most, n - i);
        const ev = new Evaluator({
          reader,
          tier,
          startMs: startMs + i * stepMs,
          endMs: startMs + (i + k - 1) * stepMs,
          stepMs,
          lookbackMs,
          maxSamples: maxSamples - held,
          deadline,
          queryStartMs: startMs,
          queryEndMs: endMs,
        });
        const points = _gather(ev.eval(expr), ev, out, n);
        // What the answer holds from this slice on: its points, or fewer
        // when the evaluator counts fewer (a constant `@` range function's
        // steps are copies it does not count). Not what the evaluator held
        // meanwhile (an aggregation's inputs, gone once the slice is done):
        // counting that refused, after seconds of slices, queries whose
        // answer is a few series.
        held += Math.min(points, ev.samples);
        i += k;
        sizer.held(k, ev.peakSamples, maxSamples - held);
      }
    } catch (error) {
      tier = _coarserOr(error, reader, expr, times, tier, options.tier);
      continue;
    }
    return _columns(out);
  }
}

/**
 * The series gathered, sorted by labels, as a range query answers them;
 * each one's arrays cut to its points (views: a copy would hold both at
 * once; a series without a point at every step keeps some spare room).
 */
function _columns(out: Map<string, _Points>): RangeColumns {
  const series = [...out.values()].sort((a, b) =>
    compareLabels(a.labels, b.labels)
  );
  return {
    resultType: "matrix",
    columns: series.map((s) => ({
      metric: s.labels,
      t: s.t.length === s.n ? s.t : s.t.subarray(0, s.n),
      v: s.v.length === s.n ? s.v : s.v.subarray(0, s.n),
    })),
  };
}

/** `columns` as {@linkcode QueryResult}'s matrix: a `[ms, value]` array a point. */
function _matrix(columns: RangeColumns): QueryResult {
  return {
    resultType: "matrix",
    result: columns.columns.map(({ metric, t, v }) => {
      const values = new Array<[number, number]>(t.length);
      for (let i = 0; i < t.length; i++) values[i] = [t[i], v[i]];
      return { metric, values };
    }),
  };
}

/**
 * How many steps the next slice of a range query gets, from the samples
 * the slices so far held at most (`Evaluator.peakSamples`, what the sample
 * limit bounds), so that the slices, and so the answer or the refusal, are
 * the same whatever the machine's speed. A slice holds a part that does
 * not depend on its steps (the series' first chunks) plus a part a step;
 * the two are told apart from the last two slices of different sizes (the
 * first slice's samples all count as per step). A slice gets the steps
 * that should hold {@linkcode SLICE_SHARE} of the samples the limit still
 * leaves, at most 8 times the last slice's (the samples a step holds vary
 * along the range: the part before the history began holds none), at
 * least one. Holding a few million samples takes a slice some 20 to 150 ms
 * here (bench/RESULTS.md, session 20).
 */
class _SliceSizer {
  steps = FIRST_SLICE_STEPS;
  #lastSteps = 0;
  #lastPeak = 0;
  #fixed = 0;
  #perStep = 0;

  /** A slice of `k` steps held at most `peak` samples; the limit leaves `room`. */
  held(k: number, peak: number, room: number): void {
    if (this.#lastSteps > 0 && k !== this.#lastSteps) {
      const perStep = (peak - this.#lastPeak) / (k - this.#lastSteps);
      if (perStep > 0) {
        this.#perStep = perStep;
        this.#fixed = Math.max(0, peak - perStep * k);
      }
    }
    if (this.#perStep === 0) this.#perStep = Math.max(peak, 1) / k;
    const want = Math.floor((SLICE_SHARE * room - this.#fixed) / this.#perStep);
    this.steps = Math.min(Math.max(1, want), 8 * k);
    this.#lastSteps = k;
    this.#lastPeak = peak;
  }
}

/**
 * A series of a range query: its points so far, times (ms) and values in
 * two typed arrays that grow by doubling, `n` of them used. 16 bytes a
 * point where a `[t, v]` array took some 70: the answer a query may hold
 * is what the sample limit counts (session 33, bench/RESULTS.md).
 */
interface _Points {
  labels: SeriesLabels;
  t: Float64Array;
  v: Float64Array;
  n: number;
}

const FIRST_POINTS = 16;

/**
 * Adds the points of one slice's `value` (a scalar: one series without
 * labels) to `out`, by labels; returns how many it added. A series'
 * arrays grow by doubling, up to `most` (the query's steps), so a series
 * with a point at every step ends with no room to spare.
 */
function _gather(
  value: Value,
  ev: Evaluator,
  out: Map<string, _Points>,
  most: number,
): number {
  let series: StepSeries[];
  if (value.kind === "scalar") {
    series = [{ labels: {}, v: value.v, ok: new Uint8Array(ev.n).fill(1) }];
  } else if (value.kind === "vector") {
    series = value.series;
  } else {
    throw new PromQLError(
      "execution",
      `invalid expression type for range query: ${value.kind}`,
    );
  }
  let added = 0;
  const times = ev.times;
  for (const s of series) {
    let count = 0;
    for (let i = 0; i < ev.n; i++) if (s.ok[i]) count++;
    if (count === 0) continue;
    const key = labelsKey(s.labels);
    let points = out.get(key);
    if (points === undefined) {
      const size = Math.max(Math.min(FIRST_POINTS, most), count);
      points = {
        labels: s.labels,
        t: new Float64Array(size),
        v: new Float64Array(size),
        n: 0,
      };
      out.set(key, points);
    } else if (points.n + count > points.t.length) {
      const size = Math.max(
        Math.min(2 * points.t.length, most),
        points.n + count,
      );
      const t = new Float64Array(size);
      const v = new Float64Array(size);
      t.set(points.t.subarray(0, points.n));
      v.set(points.v.subarray(0, points.n));
      points.t = t;
      points.v = v;
    }
    let n = points.n;
    const pt = points.t;
    const pv = points.v;
    for (let i = 0; i < ev.n; i++) {
      if (!s.ok[i]) continue;
      pt[n] = times[i];
      pv[n++] = s.v[i];
    }
    points.n = n;
    added += count;
  }
  return added;
}
