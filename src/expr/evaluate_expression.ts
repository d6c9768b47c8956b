/**
 * Evaluating a compiled JSONata expression against one input.
 *
 * @module
 */
import type { Expression } from "./compile_expression.ts";
import { _jsonataReason } from "./_jsonata_reason.ts";

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
    throw new Error(`JSONata expression failed${_jsonataReason(e)}`, {
      cause: e,
    });
  });
}
