/**
 * What the keyed shaping components (`flow/Dedupe`, `flow/Trigger`) share:
 * option parsers (a choice among words, a bound on keys) and the per-key
 * reading of a message through an optional JSONata expression.
 *
 * @module
 */
import { describeValue } from "../engine/component.ts";
import { _jsonWriteProblem } from "./_to_json.ts";
import type { Expression } from "../expr/compile_expression.ts";
import {
  evaluateExpressionWithin,
  type ExpressionBudget,
  type ExpressionSite,
} from "../expr/evaluate_expression.ts";

/**
 * A parser accepting exactly one of `words` (a control port's `parse`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _oneOf } from "./_shaping.ts";
 *
 * const mode = _oneOf(["change", "deadband"]);
 * assert.equal(mode("deadband"), "deadband");
 * assert.throws(() => mode("dead"), /expected one of "change", "deadband", received string "dead"/);
 * ```
 */
export function _oneOf<const W extends string>(
  words: readonly W[],
): (value: unknown) => W {
  return (value) => {
    if (
      typeof value === "string" && (words as readonly string[]).includes(value)
    ) {
      return value as W;
    }
    throw new RangeError(
      `expected one of ${words.map((w) => `"${w}"`).join(", ")}, received ${
        describeValue(value)
      }`,
    );
  };
}

/** The largest `maxKeys` accepted: a key holds a value (and maybe a timer). */
export const _MAX_KEYS_LIMIT = 1_000_000;

/**
 * Parses a `maxKeys` option: a positive integer up to 1,000,000, so that
 * the state a keyed component holds stays bounded whatever the keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _maxKeys } from "./_shaping.ts";
 *
 * assert.equal(_maxKeys(100), 100);
 * assert.throws(() => _maxKeys(0), /expected a positive integer up to 1000000, received number 0/);
 * ```
 */
export function _maxKeys(value: unknown): number {
  if (
    typeof value === "number" && Number.isInteger(value) && value > 0 &&
    value <= _MAX_KEYS_LIMIT
  ) {
    return value;
  }
  throw new RangeError(
    `expected a positive integer up to ${_MAX_KEYS_LIMIT}, received ${
      describeValue(value)
    }`,
  );
}

/** The key of the messages whose key expression is unset or gave nothing. */
export const _NO_KEY: unique symbol = Symbol("weir.no-key");

/** A key of a keyed component's map. */
export type _Key = string | number | boolean | typeof _NO_KEY;

/**
 * The map key for what a key expression gave: strings, numbers and
 * booleans as they are, `undefined` and `null` as {@linkcode _NO_KEY},
 * anything else as its JSON (two equal objects are one key).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _keyOf, _NO_KEY } from "./_shaping.ts";
 *
 * assert.equal(_keyOf("a"), "a");
 * assert.equal(_keyOf(undefined), _NO_KEY);
 * assert.equal(_keyOf({ a: 1 }), '{"a":1}');
 * ```
 */
export function _keyOf(value: unknown): _Key {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return value;
    case "undefined":
      return _NO_KEY;
  }
  if (value === null) return _NO_KEY;
  // A key that JSON would take minutes over: one problem message.
  const problem = _jsonWriteProblem(value);
  if (problem !== undefined) {
    throw new TypeError(
      `cannot use ${describeValue(value)} as a key: ${problem}`,
    );
  }
  try {
    return JSON.stringify(value) ?? _NO_KEY;
  } catch {
    return String(value);
  }
}

/**
 * Evaluates an optional expression against `input`: `input` itself when
 * `expression` is unset, else its result (a promise only when the
 * expression is left to the `jsonata` package).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileExpression } from "../expr/compile_expression.ts";
 * import { DEFAULT_EXPRESSION_BUDGET } from "../expr/evaluate_expression.ts";
 * import { _read } from "./_shaping.ts";
 *
 * const site = { flow: "f", process: "P" };
 * assert.equal(_read(undefined, 5, DEFAULT_EXPRESSION_BUDGET, site), 5);
 * assert.equal(_read(compileExpression("t"), { t: 2 }, DEFAULT_EXPRESSION_BUDGET, site), 2);
 * ```
 */
export function _read(
  expression: Expression | undefined,
  input: unknown,
  budget: ExpressionBudget,
  site: ExpressionSite,
): unknown {
  if (expression === undefined) return input;
  return evaluateExpressionWithin(expression, input, budget, site);
}
