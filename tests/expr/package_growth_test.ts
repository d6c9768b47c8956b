/**
 * What an expression left to the `jsonata` package may build: the bounds
 * of a compiled one (arrays of at most MAX_ITEMS, strings joined to at
 * most MAX_STRING), refused with the same `RangeError`, and the package's
 * answers unchanged within them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import jsonata from "jsonata";
import {
  compileExpression,
  jsonataPackage,
} from "../../src/expr/compile_expression.ts";
import { evaluateExpressionWithin } from "../../src/expr/evaluate_expression.ts";
import { MAX_STRING } from "../../src/expr/_growth.ts";
import { toPlain } from "../../src/expr/to_plain.ts";

/** `( first; step; step; ...; last )` with `step` n times. */
function block(first: string, step: string, n: number, last: string): string {
  return `( ${first}; ${Array(n).fill(step).join("; ")}; ${last} )`;
}

/** `source`, left to the package (as a binding in a constructor's item). */
function viaPackage(source: string) {
  const e = compileExpression(`[$x := 1, ${source}]`);
  assert.equal(e.compiled, false);
  return e;
}

const SITE = { flow: "f", process: "P" };
// Long enough that the bound, not the clock, ends an evaluation on a
// loaded machine (the default 1 s ended the doubling on Deno beside
// other work).
const LONG = { timeoutMs: 60_000, maxDepth: 1000 };

// Arrays of millions of items: seconds on a loaded machine, past Bun's
// default 5 s a test.
const HEAVY = { timeout: 120_000 };

test(
  "a path step that flattens an array per item is refused at the bound, not at a billion items",
  HEAVY,
  async () => {
    // Before: past 3 GB in 3.5 to 6.5 s on both runtimes, the budget of 1 s never
    // looked at (the package flattens in one step).
    const e = compileExpression(
      '{"a": $x := 1, "b": ($y := [1..10000000]; $count([1..100].$y))}',
    );
    assert.equal(e.compiled, false);
    await assert.rejects(
      async () => await evaluateExpressionWithin(e, {}, LONG, SITE),
      (err: Error) =>
        err.message ===
          "JSONata expression failed: a step would make an array of 16,777,217 items, more than the 16,777,216 an expression may build" &&
        err.cause instanceof RangeError,
    );
  },
);

test(
  "an array doubled thirty times is refused at the bound on the package's path",
  HEAVY,
  async () => {
    // Before: Deno 1.4 GB, Bun 0.5 GB, until the budget's 1 s.
    const e = compileExpression(
      `[${block("$a := [1, 2]", "$a := [$a, $a]", 30, "$a")}, $x := 1]`,
    );
    assert.equal(e.compiled, false);
    await assert.rejects(
      async () => await evaluateExpressionWithin(e, {}, LONG, SITE),
      /^Error: JSONata expression failed: appending would make an array of 33,554,432 items, more than the 16,777,216 an expression may build$/,
    );
    await assert.rejects(
      viaPackage("$append([1..10000000], [1..10000000])").evaluate({}),
      /^RangeError: \$append would make an array of 20,000,000 items/,
    );
  },
);

test("a string joined past the bound is refused on the package's path; $join, $replace and $string too", async () => {
  await assert.rejects(
    viaPackage(block('$s := "ab"', "$s := $s & $s", 30, "$length($s)"))
      .evaluate({}),
    /^RangeError: joining strings with & would make a string of 33,554,432 characters, more than the 16,777,216/,
  );
  const b = "x".repeat(MAX_STRING / 4);
  await assert.rejects(
    viaPackage("$join([$b, $b, $b, $b, $b])").evaluate({}, { b }),
    /^RangeError: \$join would make a string of 20,971,520 characters/,
  );
  await assert.rejects(
    viaPackage('$replace($b, "x", "yyyyy")').evaluate({}, { b }),
    /^RangeError: \$replace would make a string of 20,971,520 characters/,
  );
  await assert.rejects(
    viaPackage(block("$a := [1]", "$a := [[$a], [$a]]", 30, "$string($a)"))
      .evaluate({}),
    /^RangeError: \$string would make a string longer than the 16,777,216/,
  );
  // A long string the expression only passes on is not refused.
  const long = "y".repeat(MAX_STRING + 1);
  const [, passed] = toPlain(
    await viaPackage("$trim(s)").evaluate({ s: long }),
  ) as [number, string];
  assert.equal(passed.length, MAX_STRING + 1);
});

test("$eval on the package's path says the refusal of the text it evaluated, as the compiled $eval does", async () => {
  const text = "($y := [1..10000000]; $count([1..2].$y))";
  const viaCompiler = compileExpression(`$eval('${text}')`);
  assert.equal(viaCompiler.compiled, true);
  type Failure = { code?: string; value?: string; error?: unknown };
  const refused = (value: RegExp) => (err: Failure) =>
    err.code === "D3121" && err.error instanceof RangeError &&
    value.test(err.value ?? "");
  await assert.rejects(
    jsonataPackage(`$eval('${text}')`).evaluate({}),
    refused(
      /^a step would make an array of 16,777,217 items, more than the 16,777,216 an expression may build$/,
    ),
  );
  // The compiled path counts a path step's items before it flattens them.
  assert.throws(
    () => viaCompiler.evaluateNow({}),
    refused(/^a path step would make an array of 20,000,000 items/),
  );
});

test(
  "within the bounds, the package's path gives the package's answers",
  HEAVY,
  async () => {
    const cases = [
      // 10,000,000 items flattened by one path step: within the bound.
      "[$x := 1, $count([1..100].[1..100000])]",
      "[$x := 1, $count($append([1..10000000], [1..6000000]))]",
      '[$x := 1, $length(($s := "ab"; $s := $s & $s; $s := $s & $s; $s))]',
      '{"a": $x := 2, "b": $replace("a-b-c", "-", "+"), "c": [1..3].($ * $x)}',
      '[$x := 1, items[price > 5].name, $join(items.name, ","), $string(items)]',
      '{"a": $x := 1, "b": items.name, "c": items[price > 0].price}',
    ];
    const input = {
      items: [{ price: 4, name: "a" }, { price: 6, name: "b" }],
    };
    for (const source of cases) {
      const e = compileExpression(source);
      assert.equal(e.compiled, false, source);
      // As they are, sequences and their flags included.
      assert.deepEqual(
        await e.evaluate(input),
        await jsonata(source).evaluate(input),
        source,
      );
    }
  },
);
