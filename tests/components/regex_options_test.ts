/**
 * Regular expressions in component options (issue 18, finding 8: a
 * `strings/Split` delimiter blocked the host for 1.5 s per 26-character
 * message on Bun and 14.7 s on Deno): `strings/Split`'s `/pattern/` and
 * the JSONata expressions of `flow/Map` and `flow/Filter` run on the
 * linear-time engine, whatever the pattern's shape; what that engine
 * cannot run is refused at validation, naming the process, the option and
 * the feature.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { StringsSplit } from "../../src/components/strings.ts";
import { compileExpression } from "../../src/expr/compile_expression.ts";
import { problemsOf, runGraph } from "./_graph_helpers.ts";

test("strings/Split runs the finding-8 delimiter (a+)+b over 26 characters, and longer, as a split that finds nothing", async () => {
  const a26 = "a".repeat(26);
  const a5000 = "a".repeat(5000);
  const { sinks, errors } = await runGraph(
    `'/(a+)+b/' -> delimiter S(strings/Split) out -> in Out(test/Sink)
'${a26}' -> in S
'${a5000}x' -> in S`,
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.Out, [a26, a5000 + "x"]);
});

test("strings/Split splits by a polynomial-shaped delimiter over a long run of spaces", async () => {
  const spaces = " ".repeat(20_000);
  const { sinks, errors } = await runGraph(
    `'/\\s*\\s*\\s*,/' -> delimiter S(strings/Split) out -> in Out(test/Sink)
'a ,b${spaces}' -> in S`,
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.Out, ["a", "b" + spaces]);
});

test("strings/Split refuses a backreference with a sentence naming the feature", () => {
  assert.throws(
    () => StringsSplit.inPorts.delimiter.parse!("/(a)\\1/"),
    {
      name: "RangeError",
      message:
        'cannot use the regular expression delimiter /(a)\\1/: it uses a backreference "\\1", which the linear-time regular expression engine (RE2) does not support',
    },
  );
});

test("validateGraph() names the process, the option and the feature of a delimiter RE2 cannot run", () => {
  const problems = problemsOf(
    "'/,(?=x)/' -> delimiter S(strings/Split) out -> in D(core/Drop)",
  );
  assert.deepEqual(problems, [
    'IIP for in-port "delimiter" of "S" (strings/Split) is not valid: cannot use the regular expression delimiter /,(?=x)/: it uses a lookahead "(?=", which the linear-time regular expression engine (RE2) does not support',
  ]);
});

test("flow/Map and flow/Filter refuse a JSONata regular expression RE2 cannot run at validation, naming process and feature", () => {
  const map = problemsOf(
    "'$replace(s, /(\\w)\\1/, \"\")' -> expr M(flow/Map) out -> in D(core/Drop)",
  );
  assert.equal(map.length, 1);
  assert.match(
    map[0],
    /^IIP for in-port "expr" of "M" \(flow\/Map\) is not valid: cannot use the JSONata expression .*: its regular expression \/\(\\w\)\\1\/ at position \d+ is refused: it uses a backreference "\\1", which the linear-time regular expression engine \(RE2\) does not support$/,
  );
  const filter = problemsOf(
    "'$contains(s, /(?<!x)y/)' -> expr F(flow/Filter) out -> in D(core/Drop)",
  );
  assert.equal(filter.length, 1);
  assert.match(
    filter[0],
    /^IIP for in-port "expr" of "F" \(flow\/Filter\) is not valid: .*it uses a lookbehind "\(\?<!"/,
  );
});

test("flow/Map's JSONata regular expressions of the finding-8 shape run on both paths", async () => {
  const a26 = "a".repeat(26);
  for (const compile of [true, false]) {
    const e = compileExpression(
      '{"m": $match(s, /(a+)+b/), "c": $contains(s, /(a|aa)+$/), "r": $replace(s, /(a+)+b/, "x"), "p": $split(s, /(a+)+b/)}',
      { compile },
    );
    assert.equal(e.compiled, compile);
    assert.deepEqual(
      JSON.parse(JSON.stringify(await e.evaluate({ s: a26 }))),
      { c: true, r: a26, p: [a26] },
    );
  }
  const { sinks, errors } = await runGraph(
    `'$split(s, /(a+)+b/)' -> expr M(flow/Map) out -> in Out(test/Sink)
'{"s": "${a26}"}' -> in P(json/Parse) out -> in M`,
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(JSON.parse(JSON.stringify(sinks.Out)), [[a26]]);
});
