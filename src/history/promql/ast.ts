/**
 * The small syntax tree weir evaluates, built from the lezer tree of
 * `@prometheus-io/lezer-promql` by {@linkcode parseQuery}. It holds only
 * what the evaluator supports; everything else is refused while parsing.
 * A tree parsed for printing (`parseQuery(text, { syntax: true })`) also
 * keeps what only the text needs: parentheses ({@linkcode Paren}) and
 * unary `+`.
 *
 * @module
 */
import type { LabelMatcher } from "../types.ts";

/** The type of the value an expression gives, as Prometheus names it. */
export type ValueType = "scalar" | "vector" | "matrix" | "string";

/** `@ 123`, `@ start()` or `@ end()`. */
export type AtModifier = number | "start" | "end";

/** A number literal (`1`, `1e3`, `0x1f`, `Inf`, `NaN`). */
export interface NumberLiteral {
  readonly type: "number";
  readonly value: number;
}

/** A string literal, unescaped. */
export interface StringLiteral {
  readonly type: "string";
  readonly value: string;
}

/** An instant vector selector: `name{label="x"} offset 5m @ 123`. */
export interface VectorSelector {
  readonly type: "vector";
  /** The metric name, when written before the braces. */
  readonly name: string | undefined;
  /** All matchers, the name as a `__name__` matcher included. */
  readonly matchers: readonly LabelMatcher[];
  /** `offset` in ms (negative allowed). */
  readonly offsetMs: number;
  /** `@` time in ms, or start()/end(). */
  readonly at: AtModifier | undefined;
}

/** A range vector selector: `selector[5m]`. */
export interface MatrixSelector {
  readonly type: "matrix";
  readonly selector: VectorSelector;
  /** The range in ms. */
  readonly rangeMs: number;
}

/**
 * A subquery's step when it names none (`x[5m:]`): Prometheus uses its
 * global evaluation interval, 1 min by default.
 */
export const DEFAULT_SUBQUERY_STEP_MS = 60_000;

/** A subquery: `expr[range:step]`, with its own offset and `@`. */
export interface Subquery {
  readonly type: "subquery";
  readonly expr: Expr;
  /** The range in ms. */
  readonly rangeMs: number;
  /** The step in ms; undefined for the default (`x[5m:]`). */
  readonly stepMs: number | undefined;
  readonly offsetMs: number;
  readonly at: AtModifier | undefined;
}

/** A function call, its arguments checked against the function's signature. */
export interface Call {
  readonly type: "call";
  readonly func: string;
  readonly args: readonly Expr[];
}

/** The aggregation operators weir evaluates. */
export type AggregateOp =
  | "sum"
  | "avg"
  | "min"
  | "max"
  | "count"
  | "group"
  | "stddev"
  | "stdvar"
  | "topk"
  | "bottomk"
  | "quantile"
  | "count_values";

/** `sum by (a) (expr)`, `topk(3, expr)`, ... */
export interface Aggregate {
  readonly type: "aggregate";
  readonly op: AggregateOp;
  readonly expr: Expr;
  /** The parameter of topk, bottomk, quantile, count_values. */
  readonly param: Expr | undefined;
  /** The `by`/`without` labels. */
  readonly grouping: readonly string[];
  readonly without: boolean;
}

/** Binary operators, as written. */
export type BinaryOp =
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "^"
  | "atan2"
  | "=="
  | "!="
  | ">"
  | "<"
  | ">="
  | "<="
  | "and"
  | "or"
  | "unless";

/** How the two sides of a vector binary operation are matched. */
export interface VectorMatching {
  /** one-to-one, many-to-one (group_left), one-to-many (group_right), many-to-many (set operators). */
  readonly card: "one-to-one" | "many-to-one" | "one-to-many" | "many-to-many";
  /** `on` (true) or `ignoring` (false; also when neither is written). */
  readonly on: boolean;
  /** The `on`/`ignoring` labels. */
  readonly labels: readonly string[];
  /** The `group_left`/`group_right` extra labels. */
  readonly include: readonly string[];
}

/** `lhs op lhs`. */
export interface Binary {
  readonly type: "binary";
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  /** The `bool` modifier of a comparison. */
  readonly bool: boolean;
  /** Set when both sides are vectors. */
  readonly matching: VectorMatching | undefined;
}

/** `-expr` or `+expr`. */
export interface Unary {
  readonly type: "unary";
  readonly op: "-" | "+";
  readonly expr: Expr;
}

/**
 * `(expr)`: only in a tree parsed for printing (`{ syntax: true }`), which
 * Prometheus prints with the parentheses written; evaluated as `expr`.
 */
export interface Paren {
  readonly type: "paren";
  readonly expr: Expr;
}

/** A PromQL expression. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | Subquery
  | Call
  | Aggregate
  | Binary
  | Unary
  | Paren;

/**
 * The value type of `expr`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { valueType } from "./ast.ts";
 *
 * assert.equal(valueType({ type: "number", value: 1 }), "scalar");
 * ```
 */
export function valueType(expr: Expr): ValueType {
  switch (expr.type) {
    case "number":
      return "scalar";
    case "string":
      return "string";
    case "vector":
    case "aggregate":
      return "vector";
    case "matrix":
    case "subquery":
      return "matrix";
    case "unary":
    case "paren":
      return valueType(expr.expr);
    case "binary":
      return valueType(expr.lhs) === "scalar" &&
          valueType(expr.rhs) === "scalar"
        ? "scalar"
        : "vector";
    case "call":
      return expr.func === "time" || expr.func === "scalar" ||
          expr.func === "pi"
        ? "scalar"
        : "vector";
  }
}
