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

test("a pattern that backtracks catastrophically in JavaScript matches in linear time", () => {
  // On JavaScript's engine (a+)+b over 40 'a's takes about 2^40 steps: this
  // test would not end. A query can come from any client with `read`.
  const long = "a".repeat(40);
  assert.equal(compileAnchored("(a+)+b").test(long), false);
  assert.equal(compileAnchored("(a|a)*b").test(long), false);
  assert.ok(
    matchesAll([{ name: "v", type: "!~", value: "(a+)+b" }], { v: long }),
  );
});

test("what RE2 (and so Prometheus) lacks is refused: backreferences, lookaround", () => {
  assert.throws(() => compileAnchored("(a)\\1"), SyntaxError);
  assert.throws(() => compileAnchored("a(?=b)"), SyntaxError);
});

test("named groups reach label_replace's $name on either engine", () => {
  const m = compileAnchored("(?P<first>[a-z]+)-(?P<rest>.*)").exec("abc-d-e");
  assert.equal(m?.groups?.first, "abc");
  assert.equal(m?.groups?.rest, "d-e");
});

test("Go's flag groups (?i:...) and literal alternations match as in Prometheus", () => {
  assert.ok(compileAnchored("(?i:PRO).*").test("production"));
  assert.ok(!compileAnchored("(?i:PRO)x").test("PROX"));
  assert.ok(compileAnchored("f1|f2").test("f2"));
  assert.ok(!compileAnchored("f1|f2").test("f1|f2"));
  assert.ok(compileAnchored("").test(""));
  assert.ok(!compileAnchored("").test("x"));
});

test("(?<name>...) is refused as the Go of Prometheus 2.42 (1.19) refuses it; in a class, escaped or quoted it is text", () => {
  // Prometheus 2.42: a{job=~"(?<x>.)"} -> 400 "error parsing regexp:
  // invalid or unsupported Perl syntax: `(?<`"; label_replace with it 422.
  for (const source of ["(?<x>.)", "a|(?<x>b)", "((?<=a)b)"]) {
    assert.throws(
      () => compileAnchored(source),
      (e) =>
        e instanceof SyntaxError &&
        e.message ===
          "error parsing regexp: invalid or unsupported Perl syntax: `(?<`",
      source,
    );
  }
  assert.ok(compileAnchored("[(?<x>]+").test("<x"));
  assert.ok(compileAnchored("[]a(?<]+").test("]<"));
  assert.ok(compileAnchored("[[:alpha:](?<]+").test("a<"));
  assert.ok(compileAnchored("\\(?<x>").test("(<x>"));
  assert.ok(compileAnchored("\\Q(?<x>\\E").test("(?<x>"));
  assert.ok(compileAnchored("(?P<x>a)").test("a"));
});
