import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression } from "../../src/expr/compile_expression.ts";

test("compileExpression compiles once and evaluates against the message", async () => {
  const expr = compileExpression("a.b[0]");
  assert.equal(await expr.evaluate({ a: { b: [4, 5] } }), 4);
});

test("compileExpression rejects a value that is not expression text with a TypeError", () => {
  assert.throws(() => compileExpression(42), {
    name: "TypeError",
    message: "expected a JSONata expression, received number 42",
  });
  assert.throws(() => compileExpression("  "), {
    name: "TypeError",
    message: /^expected a JSONata expression, received string /,
  });
});

test("compileExpression names the position and JSONata's reason for a syntax error", () => {
  assert.throws(
    () => compileExpression("price * "),
    (e: unknown) =>
      e instanceof SyntaxError &&
      /^invalid JSONata expression "price \* " at position \d+: .+$/.test(
        e.message,
      ),
  );
});
