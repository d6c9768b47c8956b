/**
 * Prometheus's (Go RE2) regular expressions in JavaScript: anchoring,
 * inline flags, named groups, POSIX classes, and refusal of what does not
 * compile.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compileAnchored,
  matchesAll,
} from "../../../src/history/promql/regex.ts";

test("matchers are anchored at both ends", () => {
  assert.ok(compileAnchored("a|b").test("a"));
  assert.ok(!compileAnchored("a|b").test("ab"));
  assert.ok(!compileAnchored("b").test("abc"));
});

test("a (?i) flag inside a group covers only that group", () => {
  const re = compileAnchored("((?i)PRO).*");
  assert.ok(re.test("production"));
  assert.ok(re.test("PROduction"));
  assert.ok(!compileAnchored("x((?i)a)B").test("xAb"));
  assert.ok(compileAnchored("x((?i)a)B").test("xAB"));
  assert.ok(compileAnchored("(?i)[a-c]x").test("BX"));
});

test("Go's named groups and POSIX classes are understood", () => {
  assert.ok(compileAnchored("(?P<n>[[:digit:]]+)").test("123"));
  assert.ok(!compileAnchored("[[:alpha:]]+").test("a1"));
});

test("a regex that does not compile throws SyntaxError", () => {
  assert.throws(() => compileAnchored("("), SyntaxError);
  assert.throws(() => compileAnchored("a{2,1}"), SyntaxError);
});

test("a missing label matches the empty string", () => {
  const labels = { __name__: "up" };
  assert.ok(matchesAll([{ name: "job", type: "=", value: "" }], labels));
  assert.ok(matchesAll([{ name: "job", type: "=~", value: "|x" }], labels));
  assert.ok(!matchesAll([{ name: "job", type: "!~", value: "" }], labels));
});
