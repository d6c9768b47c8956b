/**
 * The expression budget of the data-shaping components (`flow/Switch`,
 * `flow/Change`, `flow/Window`, `flow/Join`), taken from the same options
 * as `flow/Map`'s.
 *
 * @module
 */
import {
  checkExpressionBudget,
  DEFAULT_EXPRESSION_BUDGET,
  type ExpressionBudget,
} from "../expr/evaluate_expression.ts";
import type { ExpressionComponentOptions } from "./flow.ts";

export type { ExpressionComponentOptions } from "./flow.ts";

/**
 * The budget of `options` (checked; default
 * `DEFAULT_EXPRESSION_BUDGET`), copied so that a caller's later change
 * does not reach running flows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _budgetOf } from "./_expression_budget.ts";
 *
 * assert.deepEqual(_budgetOf({}), { timeoutMs: 1000, maxDepth: 1000 });
 * assert.throws(() => _budgetOf({ expressionBudget: { timeoutMs: 0, maxDepth: 1 } }), RangeError);
 * ```
 */
export function _budgetOf(
  options: ExpressionComponentOptions,
): ExpressionBudget {
  const budget = options.expressionBudget ?? DEFAULT_EXPRESSION_BUDGET;
  checkExpressionBudget(budget);
  return { timeoutMs: budget.timeoutMs, maxDepth: budget.maxDepth };
}
