import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression } from "../../src/expr/compile_expression.ts";
import {
  evaluateExpression,
  evaluateExpressionNow,
} from "../../src/expr/evaluate_expression.ts";

test("evaluateExpression resolves to the expression's result for the input", async () => {
  const expr = compileExpression("price * qty");
  assert.equal(await evaluateExpression(expr, { price: 2, qty: 3 }), 6);
});

test("evaluateExpression resolves to undefined when a path matches nothing", async () => {
  const expr = compileExpression("missing.field");
  assert.equal(await evaluateExpression(expr, { other: 1 }), undefined);
});

test("evaluateExpression rejects with an Error naming the position, JSONata's error as its cause", async () => {
  const expr = compileExpression("$number(x) + 'a'");
  await assert.rejects(evaluateExpression(expr, { x: "1" }), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /^JSONata expression failed at position \d+: .+$/);
    const cause = e.cause as { position?: unknown; message?: unknown };
    assert.equal(typeof cause.position, "number");
    assert.equal(e.message.endsWith(`: ${cause.message}`), true);
    return true;
  });
});

test("evaluateExpression words JSONata's own reason for a type error", async () => {
  const expr = compileExpression("n + 'x'");
  await assert.rejects(evaluateExpression(expr, { n: 1 }), {
    name: "Error",
    message:
      'JSONata expression failed at position 3: The right side of the "+" operator must evaluate to a number',
  });
});

test("evaluateExpressionNow answers a compiled expression at once, without a promise", () => {
  const result = evaluateExpressionNow(compileExpression("a + 1"), { a: 1 });
  assert.equal(result, 2);
});

test("evaluateExpressionNow throws a compiled expression's failure at once, worded as weir's", () => {
  assert.throws(
    () => evaluateExpressionNow(compileExpression("'a' + 1"), {}),
    (e: unknown) =>
      e instanceof Error &&
      /^JSONata expression failed at position 5: /.test(e.message) &&
      (e.cause as { code?: string }).code === "T2001",
  );
});

test("evaluateExpressionNow answers with a promise for an expression left to the package", async () => {
  const later = evaluateExpressionNow(compileExpression("[$x := a, 1]"), {
    a: 3,
  });
  assert.ok(later instanceof Promise);
  assert.deepEqual([...await later as unknown[]], [3, 1]);
  await assert.rejects(
    evaluateExpressionNow(
      compileExpression("[$x := 1, 'a' + 1]"),
      {},
    ) as Promise<
      unknown
    >,
    /^Error: JSONata expression failed/,
  );
});
