/**
 * The regular expressions a graph may give `strings/Split` (issue 18: a
 * delimiter blocked the host for seconds per message by catastrophic
 * backtracking): the exponential forms are refused with a sentence, the
 * delimiters people write are accepted.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { unsafeRegexReason } from "../../src/expr/safe_regex.ts";
import { StringsSplit } from "../../src/components/strings.ts";
import { compileExpression } from "../../src/expr/compile_expression.ts";
import { problemsOf } from "./_graph_helpers.ts";

const REFUSED: [string, RegExp][] = [
  ["(a+)+$", /repeats a group that holds a quantifier/],
  ["^(\\w+\\s?)*$", /repeats a group that holds a quantifier/],
  ["(a|aa)+b", /repeats a group of alternatives/],
  ["(?:x+x+)+y", /repeats a group that holds a quantifier/],
  ["(a?){25}a{25}", /repeats a group that holds a quantifier/],
  ["((ab)*c)+", /repeats a group that holds a quantifier/],
  ["((?:\\r\\n|\\n))+", /repeats a group of alternatives/],
  ["(?<w>a+){2,}", /repeats a group that holds a quantifier/],
  ["(a)\\1", /backreference/],
  ["(?<x>a)\\k<x>", /backreference/],
];

const ACCEPTED = [
  "\\s*,\\s*",
  "\\r?\\n",
  "[;,]",
  "[(+*)]+",
  "(?:ab)+",
  "(?:\\r\\n|\\n)",
  "a{2,3}",
  "(a|b)?",
  "\\d+(?:\\.\\d+)?",
  "[\\]+]+",
  "\\(+",
];

test("unsafeRegexReason() refuses the patterns whose backtracking can grow exponentially", () => {
  for (const [source, reason] of REFUSED) {
    const why = unsafeRegexReason(source);
    assert.ok(why !== undefined, `${source} should be refused`);
    assert.match(why, reason, source);
  }
});

test("unsafeRegexReason() accepts the delimiters people write", () => {
  for (const source of ACCEPTED) {
    assert.equal(unsafeRegexReason(source), undefined, source);
    assert.ok(new RegExp(source));
  }
});

test("strings/Split refuses a catastrophic delimiter with a sentence naming it", () => {
  assert.throws(
    () => StringsSplit.inPorts.delimiter.parse!("/(a+)+b/"),
    {
      name: "RangeError",
      message:
        "cannot use the regular expression delimiter /(a+)+b/: it repeats a group that holds a quantifier (as (a+)+ or (a?){20} do), which can take time exponential in the text",
    },
  );
});

test("validateGraph() refuses a graph whose strings/Split IIP is a catastrophic pattern", () => {
  const problems = problemsOf(
    "'/^(\\w+\\s?)*$/' -> delimiter S(strings/Split) out -> in D(core/Drop)",
  );
  assert.equal(problems.length, 1);
  assert.match(
    problems[0],
    /^IIP for in-port "delimiter" of "S" \(strings\/Split\) is not valid: cannot use the regular expression delimiter .*exponential/,
  );
});

test("compileExpression() refuses a JSONata expression holding a catastrophic regular expression, so flow/Map's expr is refused at validation", () => {
  assert.throws(
    () => compileExpression("$split(line, /(a+)+b/)"),
    {
      name: "RangeError",
      message:
        'cannot use the JSONata expression "$split(line, /(a+)+b/)": its regular expression /(a+)+b/ at position 21 is refused: it repeats a group that holds a quantifier (as (a+)+ or (a?){20} do), which can take time exponential in the text',
    },
  );
  assert.equal(
    compileExpression("$match(s, /\\d+(?:\\.\\d+)?/i)").compiled,
    true,
  );
  const problems = problemsOf(
    "'$contains(s, /(x|xx)+y/)' -> expr M(flow/Map) out -> in D(core/Drop)",
  );
  assert.equal(problems.length, 1);
  assert.match(
    problems[0],
    /^IIP for in-port "expr" of "M" \(flow\/Map\) is not valid: cannot use the JSONata expression .*repeats a group of alternatives/,
  );
});
