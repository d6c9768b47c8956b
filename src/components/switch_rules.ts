/**
 * The rules of `flow/Switch`: their operators, and their parsing and
 * compiling into tests (once, when the graph is validated). The routing
 * itself is in `flow_switch.ts`.
 *
 * @module
 */
import { describeValue } from "../engine/component.ts";
import {
  compileExpression,
  type Expression,
} from "../expr/compile_expression.ts";
import {
  evaluateExpressionWithin,
  type ExpressionBudget,
  type ExpressionSite,
} from "../expr/evaluate_expression.ts";
import { toPlain } from "../expr/to_plain.ts";
import { LinearRegExp } from "../expr/linear_regexp.ts";

/** The operators of a `flow/Switch` rule. */
export type SwitchOperator =
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "between"
  | "contains"
  | "regex"
  | "istype"
  | "empty"
  | "nonempty"
  | "true"
  | "false"
  | "null"
  | "notnull"
  | "else"
  | "jsonata";

/** Every operator, in documentation order. */
export const SWITCH_OPERATORS: readonly SwitchOperator[] = [
  "==",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "between",
  "contains",
  "regex",
  "istype",
  "empty",
  "nonempty",
  "true",
  "false",
  "null",
  "notnull",
  "else",
  "jsonata",
];

/** Node-RED's names of the same operators, accepted too. */
const _NODE_RED_NAMES: Record<string, SwitchOperator> = {
  eq: "==",
  neq: "!=",
  lt: "<",
  lte: "<=",
  gt: ">",
  gte: ">=",
  btwn: "between",
  cont: "contains",
  nempty: "nonempty",
  nnull: "notnull",
  otherwise: "else",
  jsonata_exp: "jsonata",
};

/** What `istype` accepts. */
export const SWITCH_TYPES: readonly string[] = [
  "string",
  "number",
  "boolean",
  "array",
  "object",
  "null",
  "undefined",
  "buffer",
  "json",
];

const _FIELDS = new Set(["op", "value", "expr", "flags", "out"]);
/** The highest out index a rule may name: a graph has far fewer ports. */
const _MAX_OUT = 999;
/** Rules per switch: beyond, a graph wants a lookup table, not a switch. */
const _MAX_RULES = 1000;

/** A rule's test: whether the selected value (or the message) matches. */
export type _Test = (
  value: unknown,
  msg: unknown,
  budget: ExpressionBudget,
  site: ExpressionSite,
) => boolean | Promise<boolean>;

/** One parsed rule of a `flow/Switch`. */
export interface SwitchRule {
  /** Its place in the list (0-based). */
  readonly index: number;
  /** Its operator (Node-RED's names are turned into these). */
  readonly op: SwitchOperator;
  /** The index of the `out` connection a match goes to (default `index`). */
  readonly out: number;
  /** @internal the test, made once when the rules are parsed */
  readonly test: _Test;
  /**
   * @internal what the routing loop tests inline, without a call: a
   * comparison with a number (`_GT` ... `_NE`, operand `num`), `between`
   * (`lo`, `hi`), `else`; `_CALL` calls `test`.
   */
  readonly code: number;
  /** @internal the number operand of an inline comparison (NaN: none) */
  readonly num: number;
  /** @internal the range of an inline `between` */
  readonly lo: number;
  readonly hi: number;
}

export const _CALL = 0;
export const _ELSE = 1;
export const _GT = 2;
export const _GE = 3;
export const _LT = 4;
export const _LE = 5;
export const _EQ = 6;
export const _NE = 7;
export const _BETWEEN = 8;
const _INLINE: Record<string, number> = {
  ">": _GT,
  ">=": _GE,
  "<": _LT,
  "<=": _LE,
  "==": _EQ,
  "!=": _NE,
};

/** Rules of a `flow/Switch`, parsed and compiled: what its `rules` port holds. */
export interface SwitchRules {
  /** The rules in order. */
  readonly rules: readonly SwitchRule[];
}

function _ruleError(index: number, what: string): RangeError {
  return new RangeError(`rules[${index}] ${what}`);
}

/**
 * A number out of a number (Infinity and -Infinity included, as JSONata
 * compares them; NaN is none) or a finite numeric string, else undefined.
 */
function _number(v: unknown): number | undefined {
  if (typeof v === "number") return v === v ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Equality of JSON-like data: a number equals its numeric string (as Node-RED's `==`). */
function _equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" || typeof b === "number") {
    const x = _number(a);
    return x !== undefined && x === _number(b);
  }
  if (_isObject(a) && _isObject(b)) return _deepEqual(a, b);
  return false;
}

function _isObject(v: unknown): v is object {
  return v !== null && typeof v === "object";
}

function _deepEqual(a: object, b: object): boolean {
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (x === y) continue;
    if (!_isObject(x) || !_isObject(y) || !_deepEqual(x, y)) return false;
  }
  return true;
}

/**
 * The order of `a` and `b` (negative, 0, positive), or NaN when they do
 * not compare: numbers (or a number and a numeric string) numerically,
 * two strings as strings, anything else not at all.
 */
function _compare(a: unknown, b: unknown): number {
  if (typeof a === "string" && typeof b === "string") {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const x = _number(a);
  const y = _number(b);
  if (x === undefined || y === undefined) return NaN;
  if (typeof a !== "number" && typeof b !== "number") return NaN;
  // Not x - y: Infinity - Infinity is NaN, and Infinity <= Infinity holds.
  return x < y ? -1 : x > y ? 1 : 0;
}

function _isType(v: unknown, type: string): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v);
    case "object":
      return _isObject(v) && !Array.isArray(v) && !(v instanceof Uint8Array);
    case "null":
      return v === null;
    case "undefined":
      return v === undefined;
    case "buffer":
      return v instanceof Uint8Array;
    case "json":
      if (typeof v !== "string") return false;
      try {
        JSON.parse(v);
        return true;
      } catch {
        return false;
      }
  }
  return false;
}

function _isEmpty(v: unknown): boolean | undefined {
  if (typeof v === "string") return v.length === 0;
  if (Array.isArray(v) || v instanceof Uint8Array) return v.length === 0;
  if (_isObject(v)) return Object.keys(v).length === 0;
  return undefined;
}

/** The comparisons, by operator: `(value, operand) => match`. */
const _COMPARE: Record<string, (a: unknown, b: unknown) => boolean> = {
  "==": (a, b) => _equal(a, b),
  "!=": (a, b) => !_equal(a, b),
  "<": (a, b) => _compare(a, b) < 0,
  "<=": (a, b) => _compare(a, b) <= 0,
  ">": (a, b) => _compare(a, b) > 0,
  ">=": (a, b) => _compare(a, b) >= 0,
  contains: (a, b) => {
    if (typeof a === "string") {
      return typeof b === "string" ? a.includes(b) : a.includes(String(b));
    }
    // As Node-RED's, which tests the value's text.
    if (typeof a === "number" || typeof a === "boolean") {
      return String(a).includes(String(b));
    }
    if (Array.isArray(a)) {
      for (let i = 0; i < a.length; i++) if (_equal(a[i], b)) return true;
    }
    return false;
  },
};

function _evaluate(
  expr: Expression,
  msg: unknown,
  budget: ExpressionBudget,
  site: ExpressionSite,
): unknown {
  const r = evaluateExpressionWithin(expr, msg, budget, site);
  return r instanceof Promise ? r.then(toPlain) : toPlain(r);
}

function _compileRule(raw: unknown, index: number): SwitchRule {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw _ruleError(
      index,
      `must be an object such as {"op": ">", "value": 30}, received ${
        describeValue(raw)
      }`,
    );
  }
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!_FIELDS.has(key)) {
      throw _ruleError(
        index,
        `has an unknown field ${
          JSON.stringify(key)
        }; a rule takes op, value, expr, flags and out`,
      );
    }
  }
  const name = r.op;
  const op = typeof name === "string"
    ? (SWITCH_OPERATORS.includes(name as SwitchOperator)
      ? name as SwitchOperator
      // Own names only: `toString` is no operator.
      : Object.hasOwn(_NODE_RED_NAMES, name)
      ? _NODE_RED_NAMES[name]
      : undefined)
    : undefined;
  if (op === undefined) {
    throw _ruleError(
      index,
      `has an unknown operator ${
        name === undefined ? "(none)" : JSON.stringify(name)
      }; use one of ${SWITCH_OPERATORS.join(", ")}`,
    );
  }
  const out = r.out ?? index;
  if (
    !Number.isInteger(out) || (out as number) < 0 || (out as number) > _MAX_OUT
  ) {
    throw _ruleError(
      index,
      `has an out of ${
        describeValue(r.out)
      }; out is the index of an out connection, an integer from 0 to ${_MAX_OUT}`,
    );
  }
  if (r.flags !== undefined && op !== "regex") {
    throw _ruleError(index, `(${op}) takes no flags; only regex does`);
  }
  const test = _testOf(op, r, index);
  // The routing loop runs these inline: a call through a different
  // closure for each rule cost about 10-15 ns a rule (tests/bench run on
  // a loaded machine; see bench/shaping_bench.ts --micro).
  let code = _CALL;
  let num = NaN;
  let lo = NaN;
  let hi = NaN;
  if (op === "else") code = _ELSE;
  else if (
    op in _INLINE && r.expr === undefined && typeof r.value === "number" &&
    Number.isFinite(r.value)
  ) {
    code = _INLINE[op];
    num = r.value;
  } else if (op === "between") {
    const [a, b] = (r.value as unknown[]).map((x) => _number(x)!);
    code = _BETWEEN;
    lo = Math.min(a, b);
    hi = Math.max(a, b);
  }
  return { index, op, out: out as number, test, code, num, lo, hi };
}

function _testOf(
  op: SwitchOperator,
  r: Record<string, unknown>,
  index: number,
): _Test {
  const has = (k: string) => r[k] !== undefined;
  const none = (...keys: string[]) => {
    for (const k of keys) {
      if (has(k)) throw _ruleError(index, `(${op}) takes no ${k}`);
    }
  };
  switch (op) {
    case "==":
    case "!=":
    case "<":
    case "<=":
    case ">":
    case ">=":
    case "contains": {
      const compare = _COMPARE[op];
      if (has("value") === has("expr")) {
        throw _ruleError(
          index,
          `(${op}) needs a value or an expr (a JSONata expression evaluated with the message), exactly one`,
        );
      }
      if (has("value")) {
        const operand = r.value;
        if (
          operand !== null && typeof operand === "object" && op !== "==" &&
          op !== "!=" && op !== "contains"
        ) {
          throw _ruleError(
            index,
            `(${op}) compares with a number or a string, received ${
              describeValue(operand)
            }`,
          );
        }
        // A number against a number operand runs inline in _switch.
        return (v) => compare(v, operand);
      }
      const expr = _compileIn(r.expr, index, "expr");
      return (v, msg, budget, site) => {
        const operand = _evaluate(expr, msg, budget, site);
        if (operand instanceof Promise) {
          return operand.then((o) => compare(v, o));
        }
        return compare(v, operand);
      };
    }
    case "between": {
      none("expr");
      const range = r.value;
      if (
        !Array.isArray(range) || range.length !== 2 ||
        _number(range[0]) === undefined || _number(range[1]) === undefined
      ) {
        throw _ruleError(
          index,
          `(between) needs a value of two numbers [low, high], received ${
            describeValue(range)
          }`,
        );
      }
      const a = _number(range[0])!;
      const b = _number(range[1])!;
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      return (v) => {
        const n = typeof v === "number" ? v : _number(v);
        return n !== undefined && n >= lo && n <= hi;
      };
    }
    case "regex": {
      none("expr");
      if (typeof r.value !== "string") {
        throw _ruleError(
          index,
          `(regex) needs a value that is a regular expression, received ${
            describeValue(r.value)
          }`,
        );
      }
      const flags = r.flags ?? "";
      if (typeof flags !== "string" || !/^[ims]*$/.test(flags)) {
        throw _ruleError(
          index,
          `(regex) takes flags made of i, m and s, received ${
            describeValue(flags)
          }`,
        );
      }
      let re: LinearRegExp;
      try {
        // Validates the pattern as JavaScript's before RE2 rewrites it.
        new RegExp(r.value, flags);
        re = new LinearRegExp(r.value, flags);
      } catch (e) {
        throw _ruleError(
          index,
          `has a regular expression that does not compile: ${
            (e as Error).message
          }`,
        );
      }
      return (v) => {
        if (typeof v === "string") return re.test(v);
        if (typeof v === "number" || typeof v === "boolean") {
          return re.test(String(v));
        }
        return false;
      };
    }
    case "istype": {
      none("expr");
      const type = r.value;
      if (typeof type !== "string" || !SWITCH_TYPES.includes(type)) {
        throw _ruleError(
          index,
          `(istype) needs a value among ${SWITCH_TYPES.join(", ")}, received ${
            describeValue(type)
          }`,
        );
      }
      return (v) => _isType(v, type);
    }
    case "jsonata": {
      // Everywhere else a JSONata expression is an `expr`: say where this
      // one goes rather than only that `expr` is wrong.
      if (has("expr")) {
        throw _ruleError(
          index,
          `(jsonata) takes its expression as value (as Node-RED's does), not as expr: {"op": "jsonata", "value": ${
            JSON.stringify(r.expr)
          }}`,
        );
      }
      const expr = _compileIn(r.value, index, "value");
      // As Node-RED's: a match only when the expression gives true.
      return (_v, msg, budget, site) => {
        const result = _evaluate(expr, msg, budget, site);
        if (result instanceof Promise) return result.then((x) => x === true);
        return result === true;
      };
    }
    default: {
      none("value", "expr");
      switch (op) {
        case "empty":
          return (v) => _isEmpty(v) === true;
        case "nonempty":
          return (v) => _isEmpty(v) === false;
        case "true":
          return (v) => v === true;
        case "false":
          return (v) => v === false;
        case "null":
          return (v) => v === null || v === undefined;
        case "notnull":
          return (v) => v !== null && v !== undefined;
        default:
          // "else": decided by the loop, which knows what matched before.
          return () => true;
      }
    }
  }
}

function _compileIn(text: unknown, index: number, field: string): Expression {
  try {
    return compileExpression(text);
  } catch (e) {
    throw _ruleError(
      index,
      `has ${
        field === "expr" ? "an" : "a"
      } ${field} that is not a JSONata expression that compiles: ${
        (e as Error).message
      }`,
    );
  }
}

/**
 * Parses the rules of a `flow/Switch` (its `rules` port's `parse`): a JSON
 * array (or its text) of rules `{"op", "value"?, "expr"?, "flags"?,
 * "out"?}`. Regular expressions and JSONata are compiled here, once; an
 * unknown operator or field, a missing or misplaced operand, a regular
 * expression or an expression that does not compile throws a
 * `RangeError` naming the rule (`rules[2] has an unknown operator ...`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSwitchRules } from "./switch_rules.ts";
 *
 * const { rules } = parseSwitchRules('[{"op": ">", "value": 30}, {"op": "else"}]');
 * assert.deepEqual(rules.map((r) => [r.op, r.out]), [[">", 0], ["else", 1]]);
 * assert.throws(
 *   () => parseSwitchRules([{ op: ">" }, { op: "~=", value: 1 }]),
 *   /^RangeError: rules\[0\] \(>\) needs a value or an expr/,
 * );
 * assert.throws(
 *   () => parseSwitchRules([{ op: "regex", value: "(" }]),
 *   /^RangeError: rules\[0\] has a regular expression that does not compile/,
 * );
 * ```
 */
export function parseSwitchRules(value: unknown): SwitchRules {
  let list = value;
  if (typeof list === "string") {
    try {
      list = JSON.parse(list);
    } catch (e) {
      throw new SyntaxError(
        `expected a JSON array of rules such as [{"op": ">", "value": 30}], but the text does not parse: ${
          (e as Error).message
        }`,
      );
    }
  }
  if (!Array.isArray(list) || list.length === 0 || list.length > _MAX_RULES) {
    throw new RangeError(
      `expected an array of 1 to ${_MAX_RULES} rules such as [{"op": ">", "value": 30}], received ${
        describeValue(list)
      }`,
    );
  }
  return Object.freeze({
    rules: Object.freeze(list.map((raw, i) => _compileRule(raw, i))),
  });
}
