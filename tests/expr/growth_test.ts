/**
 * What one step of an expression may build: arrays of at most MAX_ITEMS,
 * strings of at most MAX_STRING, and loops inside a step that look at the
 * budget's clock, so that an expression of a few dozen steps cannot take
 * the device's memory or hold its event loop for minutes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression } from "../../src/expr/compile_expression.ts";
import { MAX_ITEMS, MAX_STRING } from "../../src/expr/_growth.ts";
import { toPlain } from "../../src/expr/to_plain.ts";

const BUDGET = { timeoutMs: 300, maxDepth: 1000 };

/** `( first; step; step; ...; last )` with `step` n times. */
function block(first: string, step: string, n: number, last: string): string {
  return `( ${first}; ${Array(n).fill(step).join("; ")}; ${last} )`;
}

// Arrays of millions of items: seconds on a loaded machine, past Bun's
// default 5 s a test.
const HEAVY = { timeout: 120_000 };

test(
  "an array doubled thirty times is refused at the bound, on both paths of evaluation",
  HEAVY,
  () => {
    // Before: Deno 2.9 GB and 6 s; Bun took 24 GB until the kernel ended it.
    const e = compileExpression(
      block("$a := [1, 2]", "$a := [$a, $a]", 30, "$count($a)"),
    );
    assert.equal(e.compiled, true);
    const refused =
      /appending would make an array of 33,554,432 items, more than the 16,777,216 an expression may build/;
    assert.throws(() => e.evaluateNow({}), refused);
    assert.throws(
      () => e.evaluateWithin({}, BUDGET),
      (err: Error) =>
        refused.test(err.message) ||
        (err as { code?: string }).code === "D1012",
    );
    // Up to the bound it builds (2^24 items on the way); the next test
    // builds 16,000,000.
    assert.ok(2 ** 24 <= MAX_ITEMS);
  },
);

test(
  "$append, flattening and a path step are bounded as appending is",
  HEAVY,
  () => {
    assert.throws(
      () =>
        compileExpression("$append([1..10000000], [1..10000000])").evaluateNow(
          {},
        ),
      /\$append would make an array of 20,000,000 items/,
    );
    assert.equal(
      compileExpression("$count($append([1..10000000], [1..6000000]))")
        .evaluateNow({}),
      16_000_000,
    );
  },
);

test("a string doubled thirty times is refused at the bound; $join, $replace and $string too", () => {
  const e = compileExpression(
    block('$s := "ab"', "$s := $s & $s", 30, "$length($s)"),
  );
  assert.throws(
    () => e.evaluateNow({}),
    /joining strings with & would make a string of 33,554,432 characters, more than the 16,777,216/,
  );
  assert.equal(
    compileExpression(block('$s := "ab"', "$s := $s & $s", 22, "$length($s)"))
      .evaluateNow({}),
    2 ** 23,
  );
  const big = "x".repeat(MAX_STRING / 4);
  assert.throws(
    () =>
      compileExpression("$join([$b, $b, $b, $b, $b])").evaluateNow({}, {
        b: big,
      }),
    /\$join would make a string of 20,971,520 characters/,
  );
  assert.equal(
    (compileExpression("$join([$b, $b])").evaluateNow({}, { b: big }) as string)
      .length,
    MAX_STRING / 2,
  );
  assert.throws(
    () =>
      compileExpression('$replace($b, "x", "yyyyy")').evaluateNow({}, {
        b: big,
      }),
    /\$replace would make a string of/,
  );
  // 2^30 leaves written out by $string: refused from its 61 arrays.
  assert.throws(
    () =>
      compileExpression(
        block("$a := [1]", "$a := [[$a], [$a]]", 30, "$length($string($a))"),
      ).evaluateNow({}),
    /^RangeError: \$string would make a string longer than the 16,777,216 characters an expression may build$/,
  );
  assert.equal(
    compileExpression("$string({'a': [1, 2]})").evaluateNow({}),
    '{"a":[1,2]}',
  );
  assert.deepEqual(
    toPlain(compileExpression("$map([1, 2, 3], $string)").evaluateNow({})),
    ["1", "2", "3"],
  );
});

test(
  "comparing, flattening, looking up and de-duplicating values that share parts of each other end at the time budget",
  HEAVY,
  () => {
    // Each took Deno and Bun 25 s to 30 s or more, or 3 GB, before.
    const shared = (last: string) =>
      block(
        '$a := [{"x": 1}]; $b := [{"x": 1}]',
        "$a := [[$a], [$a]]; $b := [[$b], [$b]]",
        30,
        last,
      );
    for (
      const last of ["$a = $b", "$count($a.x)", "$count($distinct([$a, [$b]]))"]
    ) {
      const e = compileExpression(shared(last));
      assert.equal(e.compiled, true, last);
      assert.throws(
        () => e.evaluateWithin({}, BUDGET),
        { code: "D1012" },
        last,
      );
    }
  },
);

test("toPlain looks at an object shared in many places once and shares its copy", () => {
  const e = compileExpression(
    block("$a := [1]", "$a := [[$a], [$a]]", 40, '{"x": $a}'),
  );
  const plain = toPlain(e.evaluateNow({})) as { x: unknown[][] };
  // 2^40 paths: copied from its 81 arrays, and no longer JSONata's.
  assert.equal(Object.getPrototypeOf(plain), Object.prototype);
  assert.equal(plain.x[0][0], plain.x[1][0]);
  assert.equal(Object.hasOwn(plain.x, "cons"), false);
  // A small result's arrays are copies each.
  const small = toPlain(
    compileExpression("( $a := [1]; [[$a], [$a]] )").evaluateNow({}),
  ) as unknown[][];
  assert.deepEqual(small, [[1], [1]]);
});

test("a descendants step (**) over values that share parts of each other ends at the time budget or the bound", () => {
  // Before: 2^30 paths; Deno 13 s and 2 GB (then "Invalid array length"),
  // Bun past 3 GB.
  const e = compileExpression(
    block('$a := {"x": 1}', '$a := {"l": $a, "r": $a}', 30, "$count($a.**)"),
  );
  assert.equal(e.compiled, true);
  assert.throws(
    () => e.evaluateWithin({}, BUDGET),
    (err: Error & { code?: string }) =>
      err.code === "D1012" ||
      /a descendants step \(\*\*\) would make an array of 16,777,217 items/
        .test(err.message),
  );
  assert.equal(
    compileExpression(
      block('$a := {"x": 1}', '$a := {"l": $a, "r": $a}', 3, "$count($a.**)"),
    ).evaluateWithin({}, BUDGET),
    2 ** 4 - 1 + 2 ** 3,
  );
});

test("a path step that copies an array for each item is bounded as appending is", () => {
  // Before: [1..100].$x of 10,000,000 items past 3 GB on both runtimes.
  assert.throws(
    () =>
      compileExpression("( $x := [1..10000000]; $count([1..2].$x) )")
        .evaluateNow({}),
    /a path step would make an array of 20,000,000 items, more than the 16,777,216/,
  );
  assert.throws(
    () =>
      compileExpression("( $x := [1..1000]; $count($x.$x.$x) )").evaluateNow(
        {},
      ),
    /a path step would make an array of 16,778,000 items/,
  );
  assert.equal(
    compileExpression("( $x := [1..1000]; $count($x.$x) )").evaluateNow({}),
    1_000_000,
  );
});

test("a path step that binds an index (#) over many items ends at the time budget", () => {
  // Before: 10,000,000 tuples took Deno 8 s and 2.5 GB, Bun 1.7 s.
  assert.throws(
    () =>
      compileExpression("$count([1..10000000]#$i)").evaluateWithin({}, BUDGET),
    { code: "D1012" },
  );
  assert.deepEqual(
    toPlain(
      compileExpression("items#$i.{ 'v': v, 'i': $i }").evaluateWithin(
        { items: [{ v: 1 }, { v: 2 }] },
        BUDGET,
      ),
    ),
    [{ v: 1, i: 0 }, { v: 2, i: 1 }],
  );
});

test("the truth of values that share parts of each other ends at the time budget", () => {
  // Each ran past 30 s on both runtimes before: every item of every array
  // is looked at, along each of 2^30 paths.
  for (
    const last of ["$boolean($a)", "$not($a)", "$a ? 1 : 0", "[1, 2][$a]"]
  ) {
    const e = compileExpression(
      block("$a := [0, 0]", "$a := [[$a], [$a]]", 30, last),
    );
    assert.equal(e.compiled, true, last);
    assert.throws(() => e.evaluateWithin({}, BUDGET), { code: "D1012" }, last);
  }
  // The package's answers: every item looked at, an infinite one throws.
  const truth = compileExpression(
    "$map([[], [0], [0, [1]], {}, '', 'a', null, -0], $boolean)",
  );
  assert.deepEqual(
    toPlain(truth.evaluateWithin({}, BUDGET)),
    [false, false, true, false, false, true, false, false],
  );
  assert.throws(
    () => compileExpression("$boolean([1, 1/0])").evaluateWithin({}, BUDGET),
    { code: "D1001" },
  );
});

test("a built-in function's arguments count as work: the clock is read before it runs on a long one", () => {
  // [1..100].$sum($x) of 10,000,000 items held Bun 7 s, Deno 4.7 s; 100
  // $encodeUrlComponent of 16,000,000 characters 13 s to 17 s: each call
  // one step, the clock read every 64.
  const x = Array.from({ length: 1_000_000 }, (_, i) => i);
  const e = compileExpression("$sum($x) + $sum($x)");
  // Fewer than 64 steps: only the work of the sums reads the clock.
  assert.throws(() => e.evaluateWithin({}, { timeoutMs: 1 }, { x }), {
    code: "D1012",
  });
  assert.equal(
    e.evaluateWithin({}, { timeoutMs: 10_000 }, { x }),
    999_999_000_000,
  );
});

test("$zip counts each array it makes as work", () => {
  // $zip of two 10,000,000-item arrays was one step of 3.3 s on Deno.
  const x = Array.from({ length: 1_000_000 }, (_, i) => i);
  // The last step: only its own work reads the clock after it starts.
  const e = compileExpression("$zip($x, $x)");
  assert.throws(() => e.evaluateWithin({}, { timeoutMs: 1 }, { x }), {
    code: "D1012",
  });
  assert.deepEqual(
    toPlain(compileExpression("$zip([1, 2, 3], [4, 5], 6)").evaluateNow({})),
    [[1, 4, 6]],
  );
});

test("$spread, $keys and $lookup over values that share parts of each other end at the time budget", () => {
  // Each ran past 30 s on both runtimes ($spread took 3 GB): every path.
  for (const last of ['$count($lookup($a, "x"))', "$keys($a)", "$spread($a)"]) {
    const e = compileExpression(
      block('$a := [{"x": 1}]', "$a := [[$a], [$a]]", 30, last),
    );
    assert.equal(e.compiled, true, last);
    assert.throws(() => e.evaluateWithin({}, BUDGET), { code: "D1012" }, last);
  }
  // The package's answers, in linear time ($spread appended each item's
  // objects to a copy of all before: 3,000,000 ran past 30 s on Bun).
  const objects = Array.from({ length: 100_000 }, (_, i) => ({ ["k" + i]: i }));
  assert.equal(
    compileExpression("$count($spread($o))").evaluateWithin({}, {
      timeoutMs: 10_000,
    }, {
      o: objects,
    }),
    100_000,
  );
  assert.deepEqual(
    toPlain(
      compileExpression(
        '[$spread([{"a": 1, "b": 2}, [{"c": 3}], 5]), $keys([{"b": 1, "2": 0}, [{"a": 1}]])]',
      ).evaluateNow({}),
    ),
    [{ a: 1 }, { b: 2 }, { c: 3 }, 5, "2", "b", "a"],
  );
});

test("$string refuses a value nested more than 10,000 levels deep before JSON.stringify recurses", () => {
  // 100,000 levels: Bun took 2 s to run out of stack in JSON.stringify,
  // then the package evaluated it again (5.2 s in all).
  const nest = (n: number) => {
    let d: unknown = 1;
    for (let i = 0; i < n; i++) d = { a: d };
    return d;
  };
  for (const src of ["$string($d)", '$d & ""', "$clone($d)"]) {
    assert.throws(
      () =>
        compileExpression(src).evaluateWithin({}, BUDGET, {
          d: nest(20_000),
        }),
      /^RangeError: \$string would write a value nested more than 10,000 levels deep/,
      src,
    );
  }
  const d = nest(5_000);
  assert.equal(
    compileExpression("$string($d)").evaluateWithin({}, BUDGET, { d }),
    JSON.stringify(d),
  );
});

test("the text $eval runs is guarded by the caller's budget", () => {
  // It was compiled without the guard: a loop in it ran past 30 s on both
  // runtimes, the budget never looked at.
  const e = compileExpression(
    "$eval('( $f := function($n){ $n = 0 ? 0 : $f($n - 1) }; $f(10000000) )')",
  );
  assert.equal(e.compiled, true);
  assert.throws(
    () => e.evaluateWithin({}, BUDGET),
    (err: { code?: string; value?: string }) =>
      err.code === "D3121" && /Evaluation timeout/.test(err.value ?? ""),
  );
  assert.equal(
    compileExpression("$eval('$f(3)', {})").evaluateWithin({}, BUDGET, {
      f: (n: number) => n * 2,
    }),
    6,
  );
});

test("$eval refuses a text longer than 1 Mi characters, and compiles an object of many keys in linear time", () => {
  // The parser reads a text in one step: 7 million characters took 6 s.
  const e = compileExpression("$count($eval($t))");
  const long = "[" + "1,".repeat(600_000) + "1]";
  assert.throws(
    () => e.evaluateWithin({}, BUDGET, { t: long }),
    /^RangeError: \$eval was given a text of 1,200,003 characters, more than the 1,048,576 an expression may evaluate$/,
  );
  // 70,000 distinct keys, within the bound: each was looked for among the
  // keys before it (Bun past 30 s, Deno 14 s).
  const keys = Array.from({ length: 70_000 }, (_, i) => `"k${i}":1`);
  const t = "{" + keys.join(",") + "}";
  assert.ok(t.length <= 1_048_576);
  assert.equal(
    compileExpression("$count($keys($eval($t)))").evaluateWithin(
      {},
      { timeoutMs: 5_000 },
      { t },
    ),
    70_000,
  );
});

test("a regular expression refuses a scan that may take more than 2^25 steps, before it starts", () => {
  // Nothing interrupts a match once begun: on RE2 (unbounded repetition)
  // 1,000,000 characters took 3.3 s; on JavaScript's engine (at most 256
  // choices a start) 16,000,000 took Deno 9 s, Bun 4 s.
  for (
    const [pattern, n] of [
      ["/[a-z]*[a-z]{1,100}[0-9]/", 1_000_000],
      ["/[a-z]{1,256}[0-9]/", 16_000_000],
    ] as const
  ) {
    assert.throws(
      () =>
        compileExpression(`$contains($s, ${pattern})`).evaluateWithin(
          {},
          BUDGET,
          { s: "a".repeat(n) },
        ),
      /^RangeError: the regular expression .* would take up to [\d,]+ steps over [\d,]+ characters, more than the 33,554,432 one match may take$/,
      pattern,
    );
  }
  // A simple pattern over the same text is no problem.
  assert.equal(
    compileExpression("$count($split($s, /b|c/))").evaluateWithin(
      {},
      { timeoutMs: 10_000 },
      { s: "a".repeat(16_000_000) },
    ),
    1,
  );
});

test("an evaluation does not count its work against the budget of one before it", async () => {
  // The package's (a := in an object constructor's value) counts work in
  // $distinct: it failed with the D1012 of the compiled evaluation before,
  // whose deadline had passed.
  const x = Array.from({ length: 100_000 }, (_, i) => i);
  assert.throws(
    () =>
      compileExpression("$sum($x) + $sum($x)").evaluateWithin({}, {
        timeoutMs: 1,
      }, { x: Array.from({ length: 1_000_000 }, (_, i) => i) }),
    { code: "D1012" },
  );
  const e = compileExpression('{"a": $y := 1, "b": $count($distinct($x))}');
  assert.equal(e.compiled, false);
  assert.deepEqual(
    toPlain(await e.evaluateWithin({}, { timeoutMs: 10_000 }, { x })),
    { a: 1, b: 100_000 },
  );
});

test("a higher-order function calling a built-in itself counts each call as work", () => {
  // $map($x, $string) takes no step between calls: 10,000,000 held both
  // runtimes 9 s and took Bun 1.4 GB.
  const x = Array.from({ length: 1_000_000 }, (_, i) => i);
  // The last step: only the calls' work reads the clock after it starts.
  for (const src of ["$map($x, $string)", "$filter($x, $boolean)"]) {
    assert.throws(
      () => compileExpression(src).evaluateWithin({}, { timeoutMs: 1 }, { x }),
      { code: "D1012" },
      src,
    );
  }
  assert.deepEqual(
    toPlain(compileExpression("$map([1, 2], $string)").evaluateNow({})),
    ["1", "2"],
  );
});
