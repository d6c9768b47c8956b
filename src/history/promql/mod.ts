/**
 * PromQL over weir's metric history: {@linkcode parseQuery} (the Prometheus
 * project's grammar, `@prometheus-io/lezer-promql`), {@linkcode queryInstant}
 * and {@linkcode queryRange}, synchronous, and {@linkcode queryRangeSliced}
 * (a range query a slice of steps at a time, the event loop running
 * between slices; {@linkcode queryRangeColumns} is the same query answered
 * in typed arrays, what the query API runs), reading only through a
 * {@linkcode HistoryReader}; {@linkcode formatQuery} prints a query back
 * as Prometheus 2.42 prettifies it (`/api/v1/format_query`).
 *
 * Semantics are Prometheus 2.42's: lookback delta 5 min; instant selectors
 * take the newest sample in `[t - 5m, t]`; range selectors `[t - range, t]`
 * (closed at both ends); rate/increase/delta extrapolate as
 * promql/functions.go; arithmetic and functions drop `__name__` where
 * Prometheus drops it; duplicate series after that are an error.
 *
 * Supported: selectors with `=`, `!=`, `=~`, `!~`, `offset`, `@` (with
 * `start()`/`end()`); subqueries (`expr[range:step]`, default step 1 min,
 * steps aligned to multiples of the step as Prometheus aligns them); rate, irate, increase, delta, idelta, deriv,
 * predict_linear, holt_winters, resets, changes, avg/min/max/sum/count/last/present/
 * stddev/stdvar/quantile/absent `_over_time`; sum, avg, min, max, count,
 * group, stddev, stdvar, topk, bottomk, quantile, count_values with
 * by/without; `+ - * / % ^ atan2` and `== != > < >= <=` (with `bool`)
 * between scalars and vectors with on/ignoring/group_left/group_right;
 * and/or/unless; histogram_quantile (classic buckets); abs, ceil, floor,
 * round, clamp, clamp_min, clamp_max, exp, ln, log2, log10, sqrt, sgn,
 * trigonometry, deg, rad, pi; time, timestamp, vector, scalar, year,
 * month, day_of_month, day_of_week, day_of_year, days_in_month, hour,
 * minute; label_replace, label_join; absent; sort, sort_desc.
 * Refused with an error naming them: native-histogram
 * functions, Prometheus 3 additions (duration expressions,
 * fill, limitk, ...).
 *
 * Tiers: see `tier_choice.ts`: the finest tier that still holds the
 * query's reach; a downsampled tier only where its window aggregates give
 * the exact answer (max_over_time from max, min from min, sum/count/avg
 * from sum and count, rate/increase from increase when the range is a
 * multiple of the resolution, an instant selector from the last value,
 * evaluation times on window ends), else the query is refused.
 *
 * Limits (errors as Prometheus's): `maxSamples` (default 5,000,000:
 * "query processing would load too many samples into memory"), `timeoutMs`
 * (default 2 min), more than 11,000 points per series, `step <= 0`, a
 * regex that does not compile: all `bad_data` except the first two.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queryRange } from "./mod.ts";
 *
 * const t = new Float64Array(121).map((_, i) => i * 1000);
 * const reader = {
 *   tiers: [{ name: "raw", resolutionMs: 1000, retentionMs: 86_400_000 }],
 *   select: () => [{ labels: { __name__: "msgs_total", process: "p" }, kind: "counter" as const, t, value: t.map((x) => x / 100) }],
 *   series: () => [], labelNames: () => [], labelValues: () => [],
 * };
 * const result = queryRange(reader, "sum by (process) (rate(msgs_total[1m]))", 60_000, 120_000, 60_000, { nowMs: 120_000 });
 * assert.deepEqual(result.resultType === "matrix" && result.result[0].values, [[60_000, 10], [120_000, 10]]);
 * ```
 *
 * @module
 */
export type { AggregateOp, BinaryOp, Expr, ValueType } from "./ast.ts";
export { parseDuration } from "./literals.ts";
export { type ParseOptions, parseQuery } from "./parse.ts";
export {
  exprString,
  formatDuration,
  formatNumber,
  formatQuery,
  goQuote,
  prettify,
} from "./prettify.ts";
export { PromQLError, type PromQLErrorType } from "./promql_error.ts";
export {
  MAX_POINTS_PER_SERIES,
  queryInstant,
  type QueryOptions,
  queryRange,
  queryRangeColumns,
  queryRangeSliced,
  type QueryResult,
  type RangeColumns,
  type SlicedQueryOptions,
} from "./query.ts";
export { compileAnchored, matchesAll, type PromRegex } from "./regex.ts";
export { chooseTier } from "./tier_choice.ts";
