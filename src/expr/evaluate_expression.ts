/**
 * Evaluating a compiled JSONata expression against one input.
 *
 * @module
 */
import { describeValue } from "../engine/component.ts";
import { BudgetError } from "../engine/errors.ts";
import type { Expression } from "./compile_expression.ts";
import { _jsonataReason } from "./_jsonata_reason.ts";

function _failed(e: unknown): Error {
  return new Error(`JSONata expression failed${_jsonataReason(e)}`, {
    cause: e,
  });
}

/**
 * Evaluates `expression` with `input` as its input (`$`). JSONata's
 * plain-object errors become `Error`s that say where the expression failed,
 * with JSONata's error as their `cause`. The result is JSONata's own: see
 * {@linkcode toPlain} for plain objects and arrays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileExpression } from "./compile_expression.ts";
 * import { evaluateExpression } from "./evaluate_expression.ts";
 *
 * const total = compileExpression("price * qty");
 * assert.equal(await evaluateExpression(total, { price: 2, qty: 3 }), 6);
 * await assert.rejects(
 *   evaluateExpression(compileExpression("'a' + 1"), {}),
 *   /^Error: JSONata expression failed at position 5: /,
 * );
 * ```
 */
export function evaluateExpression(
  expression: Expression,
  input: unknown,
): Promise<unknown> {
  return expression.evaluate(input).catch((e: unknown) => {
    throw _failed(e);
  });
}

/**
 * As {@linkcode evaluateExpression}, without a promise when there is no
 * need for one: a compiled expression answers at once (and throws at
 * once), one left to the `jsonata` package answers with a promise. The
 * hot path of `flow/Map` and `flow/Filter`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileExpression } from "./compile_expression.ts";
 * import { evaluateExpressionNow } from "./evaluate_expression.ts";
 *
 * assert.equal(evaluateExpressionNow(compileExpression("a + 1"), { a: 1 }), 2);
 * assert.throws(
 *   () => evaluateExpressionNow(compileExpression("'a' + 1"), {}),
 *   /^Error: JSONata expression failed at position 5: /,
 * );
 * const later = evaluateExpressionNow(compileExpression("[$x := 1, $x]"), {});
 * assert.deepEqual([...await later as unknown[]], [1]);
 * ```
 */
export function evaluateExpressionNow(
  expression: Expression,
  input: unknown,
): unknown {
  let result: unknown;
  try {
    result = expression.evaluateNow(input);
  } catch (e) {
    throw _failed(e);
  }
  if (result instanceof Promise) {
    return result.catch((e: unknown) => {
      throw _failed(e);
    });
  }
  return result;
}

/** A budget for one evaluation of an expression (issue 18). */
export interface ExpressionBudget {
  /** Longest evaluation, in milliseconds. */
  timeoutMs: number;
  /** Deepest nesting of evaluation steps (a recursion's depth, say). */
  maxDepth: number;
}

/**
 * The budget of every evaluation when none is given: 1 s and 1,000 nested
 * steps, far beyond what a flow's transform needs and short enough that a
 * runaway expression (an endless recursion, a loop over ten million
 * elements) cannot block the host.
 */
export const DEFAULT_EXPRESSION_BUDGET: Readonly<ExpressionBudget> = Object
  .freeze({ timeoutMs: 1000, maxDepth: 1000 });

/**
 * Throws a `RangeError` unless `budget` holds a `timeoutMs` and a
 * `maxDepth` that are positive integers (`timeoutMs` at most 2^31-1, the
 * longest timer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkExpressionBudget } from "./evaluate_expression.ts";
 *
 * assert.throws(
 *   () => checkExpressionBudget({ timeoutMs: 0, maxDepth: 10 }),
 *   /timeoutMs must be an integer from 1 to 2147483647, received number 0/,
 * );
 * ```
 */
export function checkExpressionBudget(budget: ExpressionBudget): void {
  const check = (name: keyof ExpressionBudget, max: number) => {
    const v = budget?.[name];
    if (!Number.isInteger(v) || v < 1 || v > max) {
      throw new RangeError(
        `Cannot use the expression budget: ${name} must be an integer from 1 to ${max}, received ${
          describeValue(v)
        }`,
      );
    }
  };
  check("timeoutMs", 2 ** 31 - 1);
  check("maxDepth", 1_000_000);
}

/** Where an expression is evaluated, for the error that names it. */
export interface ExpressionSite {
  /** The flow (network) name. */
  flow: string;
  /** The process name. */
  process: string;
}

function _overBudget(
  e: unknown,
  budget: ExpressionBudget,
  site: ExpressionSite,
): Error {
  const code = (e as { code?: unknown } | null)?.code;
  const where =
    `the JSONata expression of process "${site.process}" in flow "${site.flow}"`;
  if (code === "D1012") {
    return new BudgetError(
      `${where} ran longer than its budget of ${budget.timeoutMs} ms (JSONata D1012); the message was given up`,
      "timeoutMs",
      budget.timeoutMs,
      { cause: e },
    );
  }
  if (code === "D1011") {
    return new BudgetError(
      `${where} nested deeper than its budget of ${budget.maxDepth} steps (JSONata D1011), as an endless recursion does; the message was given up`,
      "maxDepth",
      budget.maxDepth,
      { cause: e },
    );
  }
  return _failed(e);
}

/**
 * As {@linkcode evaluateExpressionNow}, within `budget`: an evaluation that
 * runs longer than `budget.timeoutMs` or nests deeper than
 * `budget.maxDepth` fails with a {@linkcode BudgetError} (which the engine
 * counts as a `timeout`) naming the flow, the process and the limit. The
 * compiled path counts its steps as the `jsonata` package does (the clock
 * is read every 64 steps, from the 64th on); an expression left to the
 * package runs with the package's own `timeout` and `stack` options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BudgetError } from "../engine/errors.ts";
 * import { compileExpression } from "./compile_expression.ts";
 * import { evaluateExpressionWithin } from "./evaluate_expression.ts";
 *
 * const site = { flow: "f", process: "P" };
 * const budget = { timeoutMs: 1000, maxDepth: 100 };
 * assert.equal(evaluateExpressionWithin(compileExpression("a + 1"), { a: 1 }, budget, site), 2);
 * const endless = compileExpression("($f := function($n) { 1 + $f($n + 1) }; $f(0))");
 * assert.throws(
 *   () => evaluateExpressionWithin(endless, {}, budget, site),
 *   (e: unknown) =>
 *     e instanceof BudgetError && e.limit === "maxDepth" &&
 *     e.message.startsWith('the JSONata expression of process "P" in flow "f" nested deeper than its budget of 100 steps'),
 * );
 * ```
 */
export function evaluateExpressionWithin(
  expression: Expression,
  input: unknown,
  budget: ExpressionBudget,
  site: ExpressionSite,
): unknown {
  let result: unknown;
  try {
    result = expression.evaluateWithin(input, budget);
  } catch (e) {
    throw _overBudget(e, budget, site);
  }
  if (result instanceof Promise) {
    return result.catch((e: unknown) => {
      throw _overBudget(e, budget, site);
    });
  }
  return result;
}
