/**
 * JSONata expressions, as `flow/Map` and `flow/Filter` take them in their
 * `expr` option: compiled once ({@linkcode compileExpression}), evaluated per
 * message ({@linkcode evaluateExpression}), with errors worded as weir's, and
 * results turned into plain data ({@linkcode toPlain}). Today every
 * expression runs on the `jsonata` package; a compiler to closures for the
 * common cases will live here too, behind the same functions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileExpression, evaluateExpression, toPlain } from "./mod.ts";
 *
 * const e = compileExpression("{ 'total': price * qty }");
 * const result = toPlain(await evaluateExpression(e, { price: 2, qty: 3 }));
 * assert.deepEqual(result, { total: 6 });
 * ```
 *
 * @module
 */
export { compileExpression, type Expression } from "./compile_expression.ts";
export { evaluateExpression } from "./evaluate_expression.ts";
export { toPlain } from "./to_plain.ts";
