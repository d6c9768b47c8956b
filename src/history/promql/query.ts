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
import { compareLabels, type StepSeries, type Value } from "./series.ts";
import { chooseTier, coarserExactTier } from "./tier_choice.ts";

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
  const lookbackMs = options.lookbackDeltaMs ?? DEFAULT_LOOKBACK_MS;
  const times = {
    startMs,
    endMs,
    stepMs,
    lookbackMs,
    nowMs: options.nowMs ?? Date.now(),
  };
  let tier: number;
  if (options.tier !== undefined) {
    tier = reader.tiers.findIndex((t) => t.name === options.tier);
    if (tier < 0) {
      throw new PromQLError(
        "bad_data",
        `Cannot read tier ${JSON.stringify(options.tier)}: the store has ${
          reader.tiers.map((t) => t.name).join(", ")
        }`,
      );
    }
  } else {
    tier = chooseTier(expr, reader.tiers, times);
  }
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
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
    });
    try {
      return { ev, value: ev.eval(expr) };
    } catch (error) {
      const coarser = options.tier === undefined &&
          error instanceof PromQLError && error.type === "execution" &&
          error.message.startsWith(TOO_MANY_SAMPLES)
        ? coarserExactTier(expr, reader.tiers, times, tier)
        : undefined;
      if (coarser === undefined) throw error;
      tier = coarser;
    }
  }
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
  if (Math.floor((endMs - startMs) / stepMs) > MAX_POINTS_PER_SERIES) {
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
  const { ev, value } = evaluate(
    reader,
    expr,
    startMs,
    endMs,
    stepMs,
    options,
  );
  let series: StepSeries[];
  if (value.kind === "scalar") {
    series = [{ labels: {}, v: value.v, ok: new Uint8Array(ev.n).fill(1) }];
  } else if (value.kind === "vector") {
    series = value.series.slice().sort((a, b) =>
      compareLabels(a.labels, b.labels)
    );
  } else {
    throw new PromQLError(
      "execution",
      `invalid expression type for range query: ${value.kind}`,
    );
  }
  const result: { metric: SeriesLabels; values: [number, number][] }[] = [];
  for (const s of series) {
    const values: [number, number][] = [];
    for (let i = 0; i < ev.n; i++) {
      if (s.ok[i]) values.push([ev.times[i], s.v[i]]);
    }
    if (values.length > 0) result.push({ metric: s.labels, values });
  }
  return { resultType: "matrix", result };
}
