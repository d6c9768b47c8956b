import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression } from "../../src/expr/compile_expression.ts";

/**
 * For each `[text, input]`, weir's compiled path and the package's path
 * through weir answer as the `jsonata` package does; `more` looks further
 * at each answer beside the package's.
 */
async function agreeWithPackage(
  cases: readonly (readonly [string, Readonly<Record<string, unknown>>])[],
  more?: (answer: unknown, expected: unknown, why: string) => void,
): Promise<void> {
  const { default: jsonata } = await import("jsonata");
  for (const [text, input] of cases) {
    const expected = await jsonata(text).evaluate(input);
    for (const compile of [true, false]) {
      const e = compileExpression(text, { compile });
      assert.equal(e.compiled, compile, text);
      const answer = await e.evaluate(input);
      const why = `${text} ${JSON.stringify(input)} ${compile}`;
      assert.deepEqual(answer, expected, why);
      more?.(answer, expected, why);
    }
  }
}

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

test("compileExpression compiles the common subset to a closure that answers at once", () => {
  const expr = compileExpression('{"seq": seq, "value": value + 1}');
  assert.equal(expr.compiled, true);
  assert.equal(expr.fallbackReason, undefined);
  const result = expr.evaluateNow({ seq: 7, value: 1 }) as Record<
    string,
    unknown
  >;
  assert.deepEqual({ ...result }, { seq: 7, value: 2 });
});

test("compileExpression leaves what the compiler does not cover to the jsonata package, with the reason", async () => {
  const expr = compileExpression("{'a': $x := name, 'b': $x & 1}");
  assert.equal(expr.compiled, false);
  assert.equal(
    expr.fallbackReason,
    "not compiled: a := binding in an item of an array or object constructor",
  );
  const later = expr.evaluateNow({ name: "foo" });
  assert.ok(later instanceof Promise);
  assert.deepEqual({ ...await later as object }, { a: "foo", b: "1" });
});

test("compileExpression with compile: false always uses the jsonata package", async () => {
  const expr = compileExpression("a + 1", { compile: false });
  assert.equal(expr.compiled, false);
  assert.equal(expr.fallbackReason, "compilation switched off");
  assert.equal(await expr.evaluate({ a: 1 }), 2);
});

test("a compiled expression keeps JSONata's sequence rules: singletons, [] and undefined", () => {
  const data = { a: [{ b: 1 }, { b: [2, 3] }], one: [{ b: 4 }] };
  const run = (text: string) => compileExpression(text).evaluateNow(data);
  assert.deepEqual([...run("a.b") as unknown[]], [1, 2, 3]);
  assert.equal(run("one.b"), 4);
  assert.deepEqual([...run("one.b[]") as unknown[]], [4]);
  assert.equal(run("missing.b"), undefined);
  assert.equal(run("null"), null);
});

test("a compiled expression throws JSONata's errors, with code, position and message", () => {
  assert.throws(() => compileExpression("'a' + 1").evaluateNow({}), {
    code: "T2001",
    position: 5,
    token: "+",
    message: 'The left side of the "+" operator must evaluate to a number',
  });
  assert.throws(() => compileExpression("$substring(1)").evaluateNow({}), {
    code: "T0411",
  });
});

test("a compiled expression runs lambdas, higher-order functions and tail calls", () => {
  const expr = compileExpression(
    "($sum := function($n, $acc) { $n = 0 ? $acc : $sum($n - 1, $acc + $n) }; " +
      "{ 'tail': $sum(100000, 0), 'hof': $reduce($map([1..4], function($v) { $v * 2 }), function($a, $b) { $a + $b }) })",
  );
  assert.equal(expr.compiled, true);
  const result = expr.evaluateNow(undefined) as Record<string, unknown>;
  assert.deepEqual({ ...result }, { tail: 5000050000, hof: 20 });
});

test("a compiled expression's $now() and $millis() are one time per evaluation", () => {
  const result = compileExpression("[$millis(), $millis(), $toMillis($now())]")
    .evaluateNow(undefined) as number[];
  assert.equal(result[0], result[1]);
  assert.equal(result[0], result[2]);
});

test("evaluateWithin bounds the depth and the time of a compiled evaluation (the budget hook)", () => {
  const deep = compileExpression("($f := function($n) { $n + $f($n) }; $f(1))");
  assert.throws(() => deep.evaluateWithin({}, { maxDepth: 200 }), {
    code: "D1011",
  });
  const endless = compileExpression("($f := function() { $f() }; $f())");
  assert.throws(() => endless.evaluateWithin({}, { timeoutMs: 20 }), {
    code: "D1012",
  });
  assert.equal(deep.compiled, true);
});

test("evaluateWithin runs an expression left to the package within the package's own budget", async () => {
  const e = compileExpression(
    "[$x := 0, ($f := function($n) { $n + $f($n) }; $f(1))]",
  );
  assert.equal(e.compiled, false);
  await assert.rejects(
    e.evaluateWithin({}, { maxDepth: 100 }) as Promise<unknown>,
    { code: "D1011" },
  );
});

test("a := binding in an item of a constructor is left to the package, whose items run concurrently", async () => {
  const expr = compileExpression("[$x := 1, $x]");
  assert.equal(expr.compiled, false);
  assert.equal(
    expr.fallbackReason,
    "not compiled: a := binding in an item of an array or object constructor",
  );
  assert.deepEqual([...await expr.evaluate({}) as unknown[]], [1]);
  assert.equal(compileExpression("[($x := 1), $x]").compiled, true);
});

test("a compiled evaluation deeper than the native stack is handed over to the package", async () => {
  const expr = compileExpression(
    "($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(20000))",
  );
  assert.equal(expr.compiled, true);
  const later = expr.evaluateNow({});
  assert.ok(later instanceof Promise);
  assert.equal(await later, 20000);
});

test("evaluateWithin hands the package what the compiled attempt left of the time budget, not a budget of its own", async () => {
  // A clock both paths read (Date.now), moved by a function the
  // expression calls: each call takes 900 ms of a 1,000 ms budget. The
  // compiled path starts its clock at its 64th step (the $count over a
  // path of 100 does that first); then a binding that answers with a
  // promise hands the evaluation over.
  const realNow = Date.now;
  let now = realNow();
  Date.now = () => now;
  try {
    const e = compileExpression(
      "($count([1..100].($ + 1)); $spend(); $later())",
    );
    assert.equal(e.compiled, true);
    const bindings = {
      spend: () => {
        now += 900;
      },
      later: () => Promise.resolve("done"),
    };
    // The package starts again from the top: its $spend() is 1,800 ms
    // into the budget, past it.
    await assert.rejects(
      Promise.resolve(e.evaluateWithin({}, { timeoutMs: 1000 }, bindings)),
      { code: "D1012" },
    );
    // With room for both, the package's answer.
    assert.equal(
      await e.evaluateWithin({}, { timeoutMs: 5000 }, bindings),
      "done",
    );
  } finally {
    Date.now = realNow;
  }
});

test("$eval is compiled too: the text at run time, in the caller's scope, with the package's D3120/D3121", () => {
  const expr = compileExpression(
    "($y := 2; [$eval('$y * a'), $eval('a', {'a': 5})])",
  );
  assert.equal(expr.compiled, true);
  assert.deepEqual([...expr.evaluateNow({ a: 3 }) as unknown[]], [6, 5]);
  assert.throws(() => compileExpression("$eval('a +')").evaluateNow({}), {
    code: "D3120",
  });
  assert.throws(() => compileExpression("$eval('\"a\" + 1')").evaluateNow({}), {
    code: "D3121",
  });
});

test("$pad answers as the jsonata package does on both paths, and refuses a string longer than its bound on both instead of building it", async () => {
  const { MAX_PAD_LENGTH } = await import("../../src/expr/_builtins.ts");
  const cases = [
    ["$pad('foo', 5)", {}],
    ["$pad('foo', -5, '#')", {}],
    ["$pad('a𝄞💩', 7, '💩')", {}],
    ["$pad('a𝄞💩', 6, 'xy')", {}],
    ["$pad('ab', -9, 'xyz')", {}],
    ["$pad(s, w, c)", { s: "7", w: -4.7, c: "0" }],
    ["$pad(s, 1)", { s: "long" }],
    ["$pad(nothing, 3)", {}],
  ] as const;
  await agreeWithPackage(cases);
  for (const compile of [true, false]) {
    const e = compileExpression("$pad('x', w)", { compile });
    assert.equal(
      (await e.evaluate({ w: -MAX_PAD_LENGTH }) as string).length,
      MAX_PAD_LENGTH,
    );
    await assert.rejects(
      async () => await e.evaluate({ w: 1_000_000_000 }),
      /\$pad would make a string of 1000000000 characters, more than the 16777216 an expression may pad to/,
    );
  }
});

test("$length and $substring answer as the jsonata package does on both paths, and build no array of the string's characters", async () => {
  const texts = ["", "hello", "a𝄞💩b", "\ud834x\udd1e", "x\ud834"];
  const numbers = [0, 1, 2, -1, -2, 1.5, -1.5, 2.9, 10, -10, 1e9, -1e9];
  const cases: [string, Record<string, unknown>][] = [
    ["$length(nothing)", {}],
    ["$substring(nothing, 1)", {}],
  ];
  for (const s of texts) {
    cases.push(["$length(s)", { s }]);
    for (const a of numbers) {
      cases.push(["$substring(s, a)", { s, a }]);
      for (const n of numbers) cases.push(["$substring(s, a, n)", { s, a, n }]);
    }
  }
  await agreeWithPackage(cases);
  // The package pushed every character of the string into an array: 20
  // bytes and more of memory for each (Bun took 24 GB for $length of a
  // string of 2^30, which 30 doublings with & make).
  const long = "x".repeat(100_000);
  const proto = Array.prototype as unknown as { push: unknown };
  const push = proto.push as (...items: unknown[]) => number;
  for (const compile of [true, false]) {
    for (const text of ["$length(s)", "$substring(s, -3, 2)"]) {
      const e = compileExpression(text, { compile });
      let pushed = 0;
      proto.push = function (this: unknown[], ...items: unknown[]) {
        pushed += items.length;
        return push.apply(this, items);
      };
      let answer: unknown;
      try {
        answer = e.evaluate({ s: long });
        answer = await answer;
      } finally {
        proto.push = push;
      }
      assert.deepEqual(answer, text === "$length(s)" ? 100_000 : "xx");
      assert.ok(pushed < 1_000, `${text} ${compile}: ${pushed} items pushed`);
    }
  }
});

test("$distinct answers as the jsonata package does on both paths, and finds an item among those kept without comparing it with each", async () => {
  class Point {
    constructor(readonly x: number) {}
  }
  const cases: [string, Record<string, unknown>][] = [
    ["$distinct(nothing)", {}],
    ["$distinct(5)", {}],
    ["$distinct([1, 2, 1, '1', true, 'true', null, 2.0, -0, 0])", {}],
    ["$distinct(a)", { a: [] }],
    ["$distinct(a)", { a: [[1, [2]], [1, [2]], [1, 2], { x: 1 }, [[1, 2]]] }],
    ["$distinct(a)", {
      a: [{ b: 1, c: [1] }, { c: [1], b: 1 }, { b: 1 }, { b: "1" }, {}, {}],
    }],
    ["$distinct(a.b)", { a: [{ b: 1 }, { b: 2 }, { b: 1 }, { b: [1, 1] }] }],
    // What the text cannot stand for is compared as the package does.
    ["$distinct(a)", { a: [[], { length: 0 }, [5], { 0: 5, length: 1 }] }],
    ["$distinct(a)", { a: [{}, new Date(0), new Point(1), { x: 1 }, {}] }],
    ["$distinct(a)", { a: [NaN, NaN, 1, Infinity, Infinity, [NaN], [NaN]] }],
    ["$distinct(a)", { a: [[undefined], [undefined], [null]] }],
  ];
  await agreeWithPackage(cases, (answer, expected, why) =>
    // A sequence stays one (a single item comes out alone).
    assert.equal(
      (answer as { sequence?: boolean })?.sequence,
      (expected as { sequence?: boolean })?.sequence,
      why,
    ));
  // The package compared each of 2,000 distinct items with every one kept
  // before it (2 million comparisons), reading the property names of both
  // objects each time.
  const items = Array.from({ length: 2_000 }, (_, i) => ({ id: i }));
  const getNames = Object.getOwnPropertyNames;
  for (const compile of [true, false]) {
    const e = compileExpression("$count($distinct(a))", { compile });
    let reads = 0;
    Object.getOwnPropertyNames = (o: unknown) => {
      reads++;
      return getNames(o);
    };
    let answer: unknown;
    try {
      answer = await e.evaluate({ a: items });
    } finally {
      Object.getOwnPropertyNames = getNames;
    }
    assert.equal(answer, 2_000);
    assert.ok(reads <= 2 * items.length, `${compile}: ${reads} reads`);
  }
});

test("$formatNumber, $formatInteger, $fromMillis, $toMillis and $now answer as the jsonata package does on both paths, and refuse a picture longer than its bound on both", async () => {
  const { MAX_PICTURE_LENGTH } = await import("../../src/expr/_builtins.ts");
  const cases: [string, Record<string, unknown>][] = [
    ["$formatNumber(1234.5, '#,##0.00')", {}],
    ["$formatNumber(0.25, '#%', {'percent': '%'})", {}],
    ["$formatInteger(1234, 'w')", {}],
    ["$formatInteger(p, '000')", { p: 7 }],
    ["$fromMillis(1700000000000, '[Y0001]-[M01]-[D01]', '+0100')", {}],
    ["$fromMillis(1700000000000)", {}],
    ["$toMillis('2023-11-14', '[Y0001]-[M01]-[D01]')", {}],
    ["$toMillis('2023-11-14T22:13:20.000Z')", {}],
  ];
  await agreeWithPackage(cases);
  const long = "[Y]".repeat(MAX_PICTURE_LENGTH);
  const fits = "0".repeat(MAX_PICTURE_LENGTH);
  for (const compile of [true, false]) {
    assert.equal(
      await compileExpression("$formatInteger(7, p)", { compile }).evaluate({
        p: fits,
      }),
      fits.slice(1) + "7",
    );
    for (
      const [name, text] of [
        ["formatNumber", "$formatNumber(1, p)"],
        ["formatInteger", "$formatInteger(1, p)"],
        ["fromMillis", "$fromMillis(0, p)"],
        ["toMillis", "$toMillis('2020', p)"],
        ...(compile ? [["now", "$now(p)"]] : []),
      ]
    ) {
      await assert.rejects(
        async () =>
          await compileExpression(text, { compile }).evaluate({ p: long }),
        new RegExp(
          `\\$${name} was given a picture of ${long.length} characters, more than the 4096 an expression may use`,
        ),
        `${text} ${compile}`,
      );
    }
  }
});

/**
 * Runs `fn` with `Date.now` counting its reads (`clock.reads`), each read an
 * hour after the one before (`step` 0: the real time), then puts it back.
 */
function withCountedClock(
  fn: (clock: { reads: number }) => void,
  step = 3_600_000,
): void {
  const now = Date.now;
  let t = now();
  const clock = { reads: 0 };
  Date.now = () => {
    clock.reads++;
    return step === 0 ? now() : t += step;
  };
  try {
    fn(clock);
  } finally {
    Date.now = now;
  }
}

test("$match, $split and $replace read the budget's clock every 4096 matches, $sort and $distinct every 4096 comparisons: one call over a long text or list fails once the deadline has passed", () => {
  const s = "a".repeat(10_000);
  const n = Array.from({ length: 10_000 }, (_, i) => 10_000 - i);
  // Items no canonical text stands for, compared one by one with those
  // kept (Dates have no own properties: the package finds them all equal).
  const d = Array.from({ length: 10_000 }, (_, i) => new Date(i));
  for (
    const text of [
      "$count($match(s, /a/))",
      "$count($split(s, /a/))",
      "$length($replace(s, /a/, 'bb'))",
      "$length($replace(s, 'a', 'bb'))",
      "$count($sort(n))",
      "$count($distinct(d))",
    ]
  ) {
    const e = compileExpression(text);
    assert.equal(e.compiled, true, text);
    withCountedClock((clock) => {
      assert.throws(
        () =>
          e.evaluateWithin({ s, n, d }, { timeoutMs: 1000, maxDepth: 1000 }),
        { code: "D1012" },
        text,
      );
      // The first look starts the clock, the second (8,192 matches or
      // comparisons) ends it.
      assert.equal(clock.reads, 2, text);
      // Without a budget, no look.
      clock.reads = 0;
      assert.ok((e.evaluateNow({ s, n, d }) as number) >= 1, text);
      assert.equal(clock.reads, 0, text);
    });
  }
});

test("a long range reads the budget's clock: a path of ranges fails at the second once the deadline has passed, not 64 ranges later", () => {
  const e = compileExpression("$count([1..3].[1..100000])");
  assert.equal(e.compiled, true);
  withCountedClock((clock) => {
    assert.throws(
      () => e.evaluateWithin({}, { timeoutMs: 1000, maxDepth: 1000 }),
      { code: "D1012" },
    );
    assert.equal(clock.reads, 2);
  });
  // Short ranges stay unread, as any step does until the 64th.
  withCountedClock((clock) => {
    assert.equal(
      compileExpression("$count([1..3].[1..1000])").evaluateWithin({}, {
        timeoutMs: 1000,
        maxDepth: 1000,
      }),
      3,
    );
    assert.equal(clock.reads, 0);
  }, 0);
});
