/**
 * parseQuery: the tree weir evaluates, built from the Prometheus project's
 * lezer grammar, with Prometheus's own checks and wording.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Expr,
  parseQuery,
  PromQLError,
} from "../../../src/history/promql/mod.ts";
import { parseWatched } from "../../../src/history/promql/lezer_parser.ts";

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

test("a chain of binary operations past lezer's guard is refused naming the limit, not as a syntax error somewhere", () => {
  // Prometheus 2.42 parses all of these; @lezer/lr cuts a left-associative
  // chain 150 operations after its first 2,000 characters, and a nesting
  // at about 2,800 levels, leaving an error node where no syntax error is.
  const chain = (n: number, op: string) => Array(n).fill("up").join(op);
  assert.equal(parseQuery(chain(400, " or ")).type, "binary");
  const grouped = Array(40).fill(`(${chain(100, " or ")})`).join(" or ");
  assert.equal(parseQuery(grouped).type, "binary");
  for (const q of [chain(1000, " or "), chain(5000, "+")]) {
    assert.throws(
      () => parseQuery(q),
      (e) =>
        e instanceof PromQLError && e.type === "bad_data" &&
        /^1:\d+: parse error: too many chained binary operations: .*150 operations after its first 2,000 characters/
          .test(e.message),
    );
  }
  assert.equal(
    parseQuery(`${"(".repeat(2000)}up${")".repeat(2000)}`).type,
    "vector",
  );
  for (
    const q of [
      `${"(".repeat(3000)}up${")".repeat(3000)}`,
      `${"abs(".repeat(2000)}up${")".repeat(2000)}`,
    ]
  ) {
    assert.throws(
      () => parseQuery(q),
      (e) =>
        e instanceof PromQLError &&
        /parse error: the query nests too deeply: .*2,800 nested parentheses/
          .test(e.message),
    );
  }
  // A plain syntax error keeps its own message.
  assert.throws(
    () => parseQuery("up or or up"),
    /1:10: parse error: unexpected "up"/,
  );
});

test("a syntax error before a chain or a nesting past lezer's guard is reported where it is, not as the guard's limit", () => {
  // Prometheus 2.42 answers each: 1:9 (1:5 for the last): parse error:
  // unexpected identifier "up". Lezer recovers from the missing operator
  // and goes on; its guard then fires far later in the query.
  const chain = (n: number) => "sum(up) up + " + Array(n).fill("x").join(" + ");
  for (const q of [chain(400), chain(800), chain(5000)]) {
    assert.throws(
      () => parseQuery(q),
      (e) =>
        e instanceof PromQLError &&
        e.message === '1:9: parse error: unexpected "up"',
      `${q.length} characters`,
    );
  }
  assert.throws(
    () => parseQuery(`(up up ${"(".repeat(3000)}up${")".repeat(3000)})`),
    (e) =>
      e instanceof PromQLError &&
      e.message === '1:5: parse error: unexpected "up"',
  );
});

test("a parse past one of lezer's guards ends once it has come through the recovery after the cut, with the same error and position", () => {
  // It went on to the end of the text: on a query of 16,000 characters,
  // up to five sixths of the time went on the text after the cut.
  const chain = (n: number, op: string) => Array(n).fill("a").join(op);
  for (
    const [q, at] of [
      [`${"(".repeat(8000)}up${")".repeat(8000)}`, "1:2801"],
      [`${"abs(".repeat(3000)}up${")".repeat(3000)}`, "1:5601"],
      [`${"-".repeat(16000)}up`, "1:2801"],
      [chain(4096, "+"), "1:2303"],
      [chain(3276, " or "), "1:2755"],
    ]
  ) {
    const watched = parseWatched(q);
    assert.ok(watched.stopped !== undefined, at);
    assert.ok(
      watched.tree.length < 6000,
      `${at}: parsed ${watched.tree.length} of ${q.length} characters`,
    );
    assert.throws(
      () => parseQuery(q),
      (e) =>
        e instanceof PromQLError &&
        e.message.startsWith(`${at}: parse error: ${watched.stopped}`),
      at,
    );
  }
});

test("an offset or @ after a parenthesized operand is refused, as 2.42 refuses it", () => {
  for (
    const [query, at] of [["a + (b) offset 5m", "1:5"], ["-(a) @ 10", "1:2"]]
  ) {
    assert.throws(
      () => parseQuery(query),
      (e: Error) =>
        e instanceof PromQLError &&
        e.message.startsWith(`${at}: parse error: `) &&
        e.message.includes("must be preceded by an instant vector selector"),
      query,
    );
  }
});

test("@ rounds to the millisecond half away from zero, as Go's math.Round", () => {
  const at = (q: string) => {
    const e = parseQuery(q);
    return e.type === "vector" ? e.at : undefined;
  };
  assert.equal(at("x @ 0.0005"), 1);
  assert.equal(at("x @ -0.0005"), -1);
  assert.equal(at("x @ -1.0005"), -1001);
});

test("a query of only blanks and comments has no expression", () => {
  for (const query of ["", "   ", "# a comment\n  # another"]) {
    assert.throws(
      () => parseQuery(query),
      /^PromQLError: 1:1: parse error: no expression found in input$/,
    );
  }
});

test("parsed for printing, parentheses and unary + stay and 2.42's native-histogram functions parse", () => {
  assert.deepEqual(parseQuery("+(1)", { syntax: true }), {
    type: "unary",
    op: "+",
    expr: { type: "paren", expr: { type: "number", value: 1 } },
  });
  assert.deepEqual(parseQuery("+(1)"), { type: "number", value: 1 });
  assert.equal(parseQuery("histogram_sum(x)", { syntax: true }).type, "call");
  assert.throws(() => parseQuery("histogram_sum(x)"), /not supported by weir/);
});

test("a zero duration is refused wherever it stands, as 2.42 refuses it", () => {
  for (
    const [query, at] of [["x[0s]", "1:3"], ["x[5m:0s]", "1:6"], [
      "x offset 0s",
      "1:10",
    ], ["x offset -0s", "1:11"]]
  ) {
    assert.throws(
      () => parseQuery(query),
      new RegExp(
        `^PromQLError: ${at}: parse error: duration must be greater than 0$`,
      ),
      query,
    );
  }
});

test("offset, @, [range] and subqueries bind to the operand just before them, tighter than any operator, as in 2.42", () => {
  const shape = (e: Expr): string => {
    switch (e.type) {
      case "binary":
        return `(${shape(e.lhs)} ${e.op} ${shape(e.rhs)})`;
      case "unary":
        return `(${e.op}${shape(e.expr)})`;
      case "vector":
        return `${e.name}${e.offsetMs ? "'" : ""}${
          e.at !== undefined ? "@" : ""
        }`;
      case "subquery":
        return `${shape(e.expr)}[:]`;
      case "number":
        return String(e.value);
      default:
        return e.type;
    }
  };
  const cases: [string, string][] = [
    ["a + b offset 1m * 2", "(a + (b' * 2))"],
    ["a unless b offset 1m * 2 or c", "((a unless (b' * 2)) or c)"],
    ["a ^ b @ 10 ^ c", "(a ^ (b@ ^ c))"],
    ["a - a offset 1d > 0", "((a - a') > 0)"],
    ["-a offset 1m ^ 2", "(-(a' ^ 2))"],
    ["-a * b", "((-a) * b)"],
    ["-1 ^ 2", "(-(1 ^ 2))"],
    ["2 * -1", "(2 * -1)"],
    ["a * b @ 10 offset 1m", "(a * b'@)"],
  ];
  for (const [query, tree] of cases) {
    assert.equal(shape(parseQuery(query)), tree, query);
  }
  for (
    const query of ["a * 1[5m:]", "-a[5m:]", "a + b[5m]", "(a + b) offset 1m"]
  ) {
    assert.throws(() => parseQuery(query), PromQLError, query);
  }
});

test("a comment between a sign and its number is skipped, as 2.42's lexer skips it", () => {
  assert.deepEqual(parseQuery("- # minus\n1"), { type: "number", value: -1 });
  const pow = parseQuery("1 + - # squared below\n 2 ^ 2");
  assert.ok(pow.type === "binary" && pow.rhs.type === "unary");
  assert.throws(
    () => parseQuery("- # c\n5m"),
    /^PromQLError: 2:1: parse error: unexpected duration "5m"$/,
  );
});

test("double_exponential_smoothing, Prometheus 3's name for holt_winters, is refused as 2.42 refuses it", () => {
  for (const syntax of [false, true]) {
    assert.throws(
      () =>
        parseQuery("double_exponential_smoothing(x[5m], 0.5, 0.5)", { syntax }),
      /^PromQLError: 1:1: parse error: unknown function with name "double_exponential_smoothing"$/,
    );
    const call = parseQuery("holt_winters(x[5m], 0.5, 0.5)", { syntax });
    assert.ok(call.type === "call" && call.func === "holt_winters");
  }
});
