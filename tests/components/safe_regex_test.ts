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
import { _unsafeRegexReason } from "../../src/components/_safe_regex.ts";
import { StringsSplit } from "../../src/components/strings.ts";
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

test("_unsafeRegexReason() refuses the patterns whose backtracking can grow exponentially", () => {
  for (const [source, reason] of REFUSED) {
    const why = _unsafeRegexReason(source);
    assert.ok(why !== undefined, `${source} should be refused`);
    assert.match(why, reason, source);
  }
});

test("_unsafeRegexReason() accepts the delimiters people write", () => {
  for (const source of ACCEPTED) {
    assert.equal(_unsafeRegexReason(source), undefined, source);
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
