/**
 * Evaluating a compiled JSONata expression against one input.
 *
 * @module
 */
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
