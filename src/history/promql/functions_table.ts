/**
 * The signatures of the PromQL functions weir evaluates (Prometheus 2.42's
 * set, less the native-histogram and Holt-Winters ones): what the parser
 * checks argument counts and types against.
 *
 * @module
 */
import type { ValueType } from "./ast.ts";

/** A function's argument types and result. */
export interface FunctionSignature {
  /** Argument types, in order. */
  readonly args: readonly ValueType[];
  /** How many of the last arguments may be left out. */
  readonly optional: number;
  /** The last argument repeats (label_join). */
  readonly variadic: boolean;
  /** The result type. */
  readonly returns: "scalar" | "vector";
}

const v = (
  args: ValueType[],
  optional = 0,
  variadic = false,
  returns: "scalar" | "vector" = "vector",
): FunctionSignature => ({ args, optional, variadic, returns });

const m = v(["matrix"]);
const i = v(["vector"]);
const dateFn = v(["vector"], 1);

/**
 * Every supported function by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FUNCTIONS } from "./functions_table.ts";
 *
 * assert.deepEqual(FUNCTIONS.rate.args, ["matrix"]);
 * assert.equal(FUNCTIONS.time.returns, "scalar");
 * ```
 */
export const FUNCTIONS: Readonly<Record<string, FunctionSignature>> = {
  abs: i,
  absent: i,
  absent_over_time: m,
  acos: i,
  acosh: i,
  asin: i,
  asinh: i,
  atan: i,
  atanh: i,
  avg_over_time: m,
  ceil: i,
  changes: m,
  clamp: v(["vector", "scalar", "scalar"]),
  clamp_max: v(["vector", "scalar"]),
  clamp_min: v(["vector", "scalar"]),
  cos: i,
  cosh: i,
  count_over_time: m,
  days_in_month: dateFn,
  day_of_month: dateFn,
  day_of_week: dateFn,
  day_of_year: dateFn,
  deg: i,
  delta: m,
  deriv: m,
  exp: i,
  floor: i,
  histogram_quantile: v(["scalar", "vector"]),
  holt_winters: v(["matrix", "scalar", "scalar"]),
  hour: dateFn,
  idelta: m,
  increase: m,
  irate: m,
  label_join: v(["vector", "string", "string", "string"], 1, true),
  label_replace: v(["vector", "string", "string", "string", "string"]),
  last_over_time: m,
  ln: i,
  log10: i,
  log2: i,
  max_over_time: m,
  min_over_time: m,
  minute: dateFn,
  month: dateFn,
  pi: v([], 0, false, "scalar"),
  predict_linear: v(["matrix", "scalar"]),
  present_over_time: m,
  quantile_over_time: v(["scalar", "matrix"]),
  rad: i,
  rate: m,
  resets: m,
  round: v(["vector", "scalar"], 1),
  scalar: v(["vector"], 0, false, "scalar"),
  sgn: i,
  sin: i,
  sinh: i,
  sort: i,
  sort_desc: i,
  sqrt: i,
  stddev_over_time: m,
  stdvar_over_time: m,
  sum_over_time: m,
  tan: i,
  tanh: i,
  time: v([], 0, false, "scalar"),
  timestamp: i,
  vector: v(["scalar"]),
  year: dateFn,
};

/**
 * Prometheus 2.42's functions weir does not evaluate (the native-histogram
 * ones): a query naming them parses only for printing
 * (`parseQuery(text, { syntax: true })`), so `/api/v1/format_query`
 * formats what 2.42 formats.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UNEVALUATED_FUNCTIONS } from "./functions_table.ts";
 *
 * assert.deepEqual(UNEVALUATED_FUNCTIONS.histogram_fraction.args, ["scalar", "scalar", "vector"]);
 * ```
 */
export const UNEVALUATED_FUNCTIONS: Readonly<
  Record<string, FunctionSignature>
> = {
  histogram_count: i,
  histogram_fraction: v(["scalar", "scalar", "vector"]),
  histogram_sum: i,
};
