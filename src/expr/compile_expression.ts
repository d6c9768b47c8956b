/**
 * Compiling JSONata expression text, once, into an {@linkcode Expression}.
 *
 * @module
 */
import jsonata from "jsonata";
import { describeValue } from "../engine/component.ts";
import { _jsonataReason } from "./_jsonata_reason.ts";

/**
 * A compiled JSONata expression, as `expr` control ports hold it; run it
 * with {@linkcode evaluateExpression} for errors worded as weir's.
 */
export type Expression = jsonata.Expression;

/**
 * Compiles a JSONata expression; a value that is not a non-empty string
 * throws a `TypeError`, a syntax error a `SyntaxError` naming the position
 * (1-based character) and the reason. A component's `parse` function for an
 * expression port, so validation reports a bad expression IIP too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileExpression } from "./compile_expression.ts";
 *
 * const e = compileExpression("temp > 30");
 * assert.equal(await e.evaluate({ temp: 31 }), true);
 * assert.throws(() => compileExpression("temp >"), SyntaxError);
 * ```
 */
export function compileExpression(source: unknown): Expression {
  if (typeof source !== "string" || source.trim() === "") {
    throw new TypeError(
      `expected a JSONata expression, received ${describeValue(source)}`,
    );
  }
  try {
    return jsonata(source);
  } catch (e) {
    throw new SyntaxError(
      `invalid JSONata expression ${JSON.stringify(source)}${
        _jsonataReason(e)
      }`,
    );
  }
}
