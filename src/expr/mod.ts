/**
 * JSONata expressions, as `flow/Map` and `flow/Filter` take them in their
 * `expr` option: compiled once ({@linkcode compileExpression}), evaluated per
 * message ({@linkcode evaluateExpression}, or {@linkcode evaluateExpressionNow}
 * without a promise), with errors worded as weir's, and results turned into
 * plain data ({@linkcode toPlain}).
 *
 * Compiling turns the expression, as the `jsonata` package parses it, into
 * a synchronous JavaScript closure with the package's answers and errors
 * (its own test suite agrees case by case, see tests/expr/); the rare
 * expressions the compiler leaves alone (a `:=` binding in an item of an
 * array or object constructor, whose items the package evaluates
 * concurrently) run on the package, and
 * {@linkcode Expression.fallbackReason} says why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileExpression, evaluateExpression, toPlain } from "./mod.ts";
 *
 * const e = compileExpression("{ 'total': price * qty }");
 * assert.equal(e.compiled, true);
 * const result = toPlain(await evaluateExpression(e, { price: 2, qty: 3 }));
 * assert.deepEqual(result, { total: 6 });
 * ```
 *
 * @module
 */
export {
  compileExpression,
  type CompileOptions,
  Expression,
} from "./compile_expression.ts";
export {
  checkExpressionBudget,
  DEFAULT_EXPRESSION_BUDGET,
  evaluateExpression,
  evaluateExpressionNow,
  evaluateExpressionWithin,
  type ExpressionBudget,
  type ExpressionSite,
} from "./evaluate_expression.ts";
export { toPlain } from "./to_plain.ts";
