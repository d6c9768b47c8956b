/**
 * parseQuery: the tree weir evaluates, built from the Prometheus project's
 * lezer grammar, with Prometheus's own checks and wording.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseQuery, PromQLError } from "../../../src/history/promql/mod.ts";

test("a selector keeps its name as a matcher, its offset and @ in ms", () => {
  assert.deepEqual(parseQuery('up{job=~"w.*"} offset 1m @ 100'), {
    type: "vector",
    name: "up",
    matchers: [
      { name: "__name__", type: "=", value: "up" },
      { name: "job", type: "=~", value: "w.*" },
    ],
    offsetMs: 60_000,
    at: 100_000,
  });
});

test("offset and @ written after a binary expression bind to its right operand", () => {
  const expr = parseQuery("a + b offset 5m");
  assert.equal(expr.type, "binary");
  if (expr.type !== "binary") return;
  assert.equal(expr.lhs.type === "vector" && expr.lhs.offsetMs, 0);
  assert.equal(expr.rhs.type === "vector" && expr.rhs.offsetMs, 300_000);
});

test("vector matching, bool and grouping are read", () => {
  const expr = parseQuery("a > bool on(x) group_left(y) b");
  assert.equal(expr.type, "binary");
  if (expr.type !== "binary") return;
  assert.equal(expr.bool, true);
  assert.deepEqual(expr.matching, {
    card: "many-to-one",
    on: true,
    labels: ["x"],
    include: ["y"],
  });
  const set = parseQuery("a and b");
  assert.equal(set.type === "binary" && set.matching?.card, "many-to-many");
});

test("literals: Go numbers, durations, escapes, -2 ^ 2 is -(2 ^ 2)", () => {
  assert.deepEqual(parseQuery("0x1F"), { type: "number", value: 31 });
  assert.deepEqual(parseQuery("1."), { type: "number", value: 1 });
  assert.deepEqual(parseQuery('"a\\u00e9\\n"'), {
    type: "string",
    value: "a\u00e9\n",
  });
  assert.deepEqual(parseQuery("`a\\n`"), { type: "string", value: "a\\n" });
  const pow = parseQuery("-2 ^ 2");
  assert.equal(pow.type, "unary");
  const sq = parseQuery("rate(x[1h30m:5m])");
  assert.ok(sq.type === "call" && sq.args[0].type === "subquery");
  if (sq.type === "call" && sq.args[0].type === "subquery") {
    assert.equal(sq.args[0].rangeMs, 5_400_000);
    assert.equal(sq.args[0].stepMs, 300_000);
  }
});

test("every refusal is a PromQLError of type bad_data with a position", () => {
  for (
    const q of [
      "sum(",
      "x[5m] + 1",
      "abs(x, y)",
      'label_replace(x, "a", "b", "c")',
      "topk(x, y)",
      "count_values(1, x)",
      "x @ 1 @ 2",
      "x offset 1m offset 2m",
      "(x)[5m]",
      '-"a"',
    ]
  ) {
    try {
      parseQuery(q);
      assert.fail(`${q} parsed`);
    } catch (error) {
      assert.ok(error instanceof PromQLError, q);
      assert.equal(error.type, "bad_data", q);
      assert.match(error.message, /^\d+:\d+: parse error: /, q);
    }
  }
});
