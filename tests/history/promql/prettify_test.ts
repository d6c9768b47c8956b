/**
 * The PromQL printer without Prometheus: each expected text is what
 * Prometheus 2.42's `/api/v1/format_query` answered for the query
 * (tests/server/format_query_parity_test.ts asks the real one).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  exprString,
  formatQuery,
  parseQuery,
  PromQLError,
} from "../../../src/history/promql/mod.ts";

test("formatQuery prints the values parsed, as 2.42 prints them", () => {
  const cases: [string, string][] = [
    ['foo{b=\'1\',a="2",c!~"x"}', 'foo{a="2",b="1",c!~"x"}'],
    ['{__name__="foo"}', '{__name__="foo"}'],
    ["sum(x) by (b, a)", "sum by (b, a) (x)"],
    ["sum by () (x)", "sum(x)"],
    ["sum without () (x)", "sum without () (x)"],
    ["a + ignoring() group_left() b", "a + b"],
    ["a + on() b", "a + on () b"],
    ["a * on(c) group_right(d, e) b", "a * on (c) group_right (d, e) b"],
    ["a > bool b", "a > bool b"],
    [
      "1e3 + 0x1f + Inf + -Inf + NaN + 1e6 + 123456.7 + 1e-5 + 0.0001",
      "1000 + 31 + +Inf + -Inf + NaN + 1e+06 + 123456.7 + 1e-05 + 0.0001",
    ],
    ["x @ 1.5 offset 90m", "x @ 1.500 offset 1h30m"],
    ["x[5m] offset -1m @ start()", "x[5m] @ start() offset -1m"],
    ["rate(x[5m:] @ end() offset 1w1d)", "rate(x[5m:] @ end() offset 8d)"],
    ["x[1y:1w]", "x[1y:1w]"],
    ["x @ -0.0005", "x @ -0.001"],
    ["-(1)", "-(1)"],
    ["+x", "+x"],
    ["+1", "1"],
    ["-1 ^ 2", "-1 ^ 2"],
    ["((x))", "((x))"],
    ['"a\\nb\'ü\\x01\\u00a0"', '"a\\nb\'ü\\x01\\u00a0"'],
    ["histogram_count(x)", "histogram_count(x)"],
  ];
  for (const [query, printed] of cases) {
    assert.equal(formatQuery(query), printed, query);
  }
});

const SEL =
  'weir_process_message_latency_seconds_bucket{flow="temperature-pipeline",process="Sensor/Read"}';

test("formatQuery splits what passes 100 bytes: arguments, operands, parentheses a level deeper", () => {
  assert.equal(
    formatQuery(`-sum(rate(${SEL}[5m]))`),
    `-sum(\n  rate(\n    ${SEL}[5m]\n  )\n)`,
  );
  assert.equal(
    formatQuery(`topk(5, rate(${SEL}[5m]))`),
    `topk(\n  5,\n  rate(\n    ${SEL}[5m]\n  )\n)`,
  );
  assert.equal(
    formatQuery(
      `sum(rate(${SEL}[5m])) > bool on(a) group_left(b) sum(rate(${SEL}[5m]))`,
    ),
    `  sum(\n    rate(\n      ${SEL}[5m]\n    )\n  )\n` +
      "> bool on (a) group_left (b)\n" +
      `  sum(\n    rate(\n      ${SEL}[5m]\n    )\n  )`,
  );
  assert.equal(
    formatQuery(`max_over_time((rate(${SEL}[5m]) + ${SEL})[10m:1m] offset 5m)`),
    `max_over_time(\n  (\n      rate(\n        ${SEL}[5m]\n      )\n    +\n` +
      `      ${SEL}\n  )[10m:1m] offset 5m\n)`,
  );
});

test("formatQuery leaves a subquery that fits unindented, as 2.42 does", () => {
  const name = "x".repeat(85);
  assert.equal(
    formatQuery(`max_over_time(${name}[5m:])`),
    `max_over_time(\n${name}[5m:]\n)`,
  );
});

test("formatQuery counts a line's bytes, not its characters", () => {
  const fits = `sum(x{a="${"ü".repeat(44)}"})`; // 100 bytes
  assert.equal(formatQuery(fits), fits);
  const long = `sum(x{a="${"ü".repeat(45)}"})`; // 102 bytes
  assert.equal(formatQuery(long), `sum(\n  x{a="${"ü".repeat(45)}"}\n)`);
});

test("formatQuery refuses what does not parse with the parser's PromQLError", () => {
  assert.throws(
    () => formatQuery("sum("),
    (e: Error) => e instanceof PromQLError && e.type === "bad_data",
  );
});

test("a tree parsed for evaluation prints without the parentheses written", () => {
  assert.equal(exprString(parseQuery("(a + b) * c")), "a + b * c");
  assert.equal(
    exprString(parseQuery("(a + b) * c", { syntax: true })),
    "(a + b) * c",
  );
});
