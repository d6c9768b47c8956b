/**
 * Regular expressions from graphs on the linear-time engine (issue 18):
 * `LinearRegExp` answers as JavaScript's `RegExp` does (exec, lastIndex,
 * split) on a table of patterns and on generated ones, runs the patterns
 * that backtrack exponentially or polynomially in JavaScript's engine in
 * linear time, and refuses what RE2 cannot match, naming the feature.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RE2JS } from "re2js";
import {
  LinearRegExp,
  linearRegexProblem,
} from "../../src/expr/linear_regexp.ts";
import { _toRe2 } from "../../src/expr/_re2_syntax.ts";
import { seededRandom } from "../_seeded_random.ts";

/** Every match of a global regex over `input`, as JSONata walks them. */
function allMatches(
  re: { lastIndex: number; exec(s: string): RegExpExecArray | null },
  input: string,
): unknown[] {
  const out: unknown[] = [];
  re.lastIndex = 0;
  for (let n = 0; n < 100; n++) {
    const m = re.exec(input);
    if (m === null) break;
    out.push([[...m], m.index, re.lastIndex]);
    if (m[0] === "") re.lastIndex++;
    if (re.lastIndex > input.length) break;
  }
  return out;
}

const TABLE: [string, string, string[]][] = [
  ["\\s*,\\s*", "", ["a ,  b,c , d", "", ",", " , "]],
  ["(\\d+)(x)?", "", ["ab 12 34x", "x", "1x2"]],
  ["^b", "m", ["a\nb\nb", "b"]],
  ["b$", "m", ["b\na b\n", "b"]],
  ["^b$", "", ["b", "b\n", "ab"]],
  ["x*", "", ["abc", "", "xx"]],
  ["[\\]}{]", "", ["a]b}c{"]],
  ["a{,2}", "", ["xa{,2}"]],
  ["\\u0041\\x42\\103", "", ["zABC"]],
  ["[^]", "", ["\n", ""]],
  ["[]", "", ["abc"]],
  ["[\\w-z]+", "", ["a-z!"]],
  ["[\\s\\S]+", "", ["a b\n"]],
  ["[^\\S]+", "", ["ab  \u00a0c\u2028"]],
  [".+", "", ["ab\rcd\u2028e\nf"]],
  [".+", "s", ["ab\rcd\ne"]],
  ["\\/", "", ["a/b/"]],
  ["(?<year>\\d{4})-(?<m>\\d\\d)", "", ["on 2024-05 and 2025-11"]],
  ["ab|cd", "i", ["xxCD Ab"]],
  ["[a-c]+", "i", ["xABCabcD"]],
  ["\\bfoo\\b", "", ["a foo b foox"]],
  ["\\B.\\B", "", ["abc de"]],
  ["\\cJ", "", ["a\nb"]],
  ["\\8\\a\\e", "", ["a8ae"]],
  ["[\\b]", "", ["a\bb"]],
  ["\\0", "", ["a\0b"]],
  ["(a)|b", "", ["b a"]],
  ["a+?", "", ["aaa"]],
  ["a{2,3}?", "", ["aaaaaaa"]],
  ["(?:ab)*c", "", ["ababc abc c"]],
  ["(a|ab)(c|bcd)(d*)", "", ["abcd"]],
  ["\\d+(?:\\.\\d+)?", "", ["pi 3.14 and 2."]],
  ["\\r?\\n", "", ["a\r\nb\nc\r"]],
  ["[;,]", "", ["a;b,c"]],
  ["\\t|\\v|\\f", "", ["a\tb\vc\fd"]],
  ["[\\d-]+", "", ["tel 555-1234 x"]],
  ["\\W+", "", ["a, b!c"]],
  ["(a*)*b", "", ["aaab", "aaa"]],
  ["(a+)+b", "", ["aaab", "aaaa"]],
  ["()", "", ["ab"]],
  ["(a)?(b)?c", "", ["c bc ac"]],
  ["\\u00e9", "i", ["\u00c9t\u00e9"]],
];

test("LinearRegExp.exec() gives RegExp's matches, groups, index and lastIndex, on either engine", () => {
  for (const [source, flags, inputs] of TABLE) {
    for (const input of inputs) {
      const label = `/${source}/${flags} on ${JSON.stringify(input)}`;
      assert.deepEqual(
        allMatches(new LinearRegExp(source, flags + "g"), input),
        allMatches(new RegExp(source, flags + "g"), input),
        label,
      );
      const once = new LinearRegExp(source, flags).exec(input);
      const native = new RegExp(source, flags).exec(input);
      assert.deepEqual(
        once && [...once, once.index],
        native && [...native, native.index],
        label,
      );
    }
  }
});

test("String.prototype.split() with a LinearRegExp splits as with the RegExp, captures and limits included", () => {
  for (const [source, flags, inputs] of TABLE) {
    for (const input of inputs) {
      const label = `/${source}/${flags} on ${JSON.stringify(input)}`;
      assert.deepEqual(
        input.split(new LinearRegExp(source, flags)),
        input.split(new RegExp(source, flags)),
        label,
      );
      assert.deepEqual(
        input.split(new LinearRegExp(source, flags), 2),
        input.split(new RegExp(source, flags), 2),
        label,
      );
    }
  }
});

test("the RE2 rewriting of a pattern matches as JavaScript's engine does (2,000 generated patterns, seeded)", () => {
  const random = seededRandom(18);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const atoms = [
    "a",
    "b",
    " ",
    ",",
    ".",
    "\\s",
    "\\S",
    "\\d",
    "\\w",
    "\\W",
    "[ab]",
    "[^a]",
    "[a-c,]",
    "[\\s,]",
    "\\n",
    "\\x61",
    "\\u0062",
    "\\-",
    "\\.",
  ];
  const quantifiers = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "*?", "+?"];
  // A repeated group whose body can match nothing ("(a*|b)*") is left
  // out: there JavaScript refuses an empty iteration and backtracks, RE2
  // drops it, and the two may pick different matches. A capture inside a
  // repeated group ("(?:x(a)|y){2}") is compared by the whole match only:
  // JavaScript resets it at each repetition, RE2 keeps the last value it
  // took. Both are known differences (see linear_regexp.ts).
  type Gen = { s: string; empty: boolean; captures: boolean; stale: boolean };
  const gen = (depth: number): Gen => {
    const out: Gen = { s: "", empty: true, captures: false, stale: false };
    const n = 1 + Math.floor(random() * 3);
    for (let i = 0; i < n; i++) {
      const r = random();
      let atom: string;
      let inner: Gen = { s: "", empty: false, captures: false, stale: false };
      if (depth > 0 && r < 0.3) {
        const x = gen(depth - 1);
        if (r < 0.2) {
          atom = `(${x.s})`;
          inner = { ...x, captures: true };
        } else {
          const y = gen(depth - 1);
          atom = `(?:${x.s}|${y.s})`;
          inner = {
            s: atom,
            empty: x.empty || y.empty,
            captures: x.captures || y.captures,
            stale: x.stale || y.stale,
          };
        }
      } else if (r < 0.35) {
        atom = pick(["^", "$", "\\b"]);
        inner.empty = true;
      } else atom = pick(atoms);
      const q = inner.empty ? "" : pick(quantifiers);
      out.s += atom + q;
      if (!inner.empty && !/^[*?]|^\{0/.test(q)) out.empty = false;
      out.captures ||= inner.captures;
      out.stale ||= inner.stale ||
        (inner.captures && q !== "" && q !== "?");
    }
    return out;
  };
  const alphabet = "ab ,\n1.-c\u00a0";
  let compared = 0;
  for (let k = 0; k < 2000; k++) {
    const generated = gen(2);
    const source = generated.s;
    const flags = pick(["g", "gi", "gm"]);
    let native: RegExp;
    try {
      native = new RegExp(source, flags);
    } catch {
      continue;
    }
    const syntax = _toRe2(source, flags);
    assert.equal(syntax.feature, undefined, source);
    const re2 = RE2JS.compile(syntax.pattern!, syntax.flags!);
    for (let t = 0; t < 3; t++) {
      let input = "";
      const len = Math.floor(random() * 12);
      for (let i = 0; i < len; i++) input += pick([...alphabet]);
      const want = native.exec(input);
      native.lastIndex = 0;
      const got = re2.exec(input) as RegExpExecArray | null;
      const groups = generated.stale ? 1 : Infinity;
      assert.deepEqual(
        got &&
          [[...got].slice(0, groups).map((g) => g ?? undefined), got.index],
        want && [[...want].slice(0, groups), want.index],
        `/${source}/${flags} (RE2: ${syntax.pattern}) on ${
          JSON.stringify(input)
        }`,
      );
      compared++;
    }
  }
  assert.ok(compared > 3000, `compared ${compared}`);
});

test("patterns that backtrack exponentially or polynomially in JavaScript's engine run on RE2 in linear time", () => {
  // Each of these takes minutes or more in JavaScript's engine (finding
  // 8: (a+)+b took 1.5 s per 26-character message on Bun, 14.7 s on Deno).
  const a40 = "a".repeat(40);
  assert.equal(new LinearRegExp("(a+)+b").exec(a40), null);
  assert.equal(new LinearRegExp("(a|aa)+$").test(a40 + "!"), false);
  assert.equal(
    new LinearRegExp("^(\\w+\\s?)*$").test("word ".repeat(30) + "!"),
    false,
  );
  assert.deepEqual(a40.split(new LinearRegExp("(a+)+b")), [a40]);
  const spaces = " ".repeat(20_000);
  assert.equal(new LinearRegExp("\\s*\\s*\\s*x").test(spaces), false);
  assert.deepEqual(
    (spaces + "y").split(new LinearRegExp("\\s*\\s*\\s*x")),
    [spaces + "y"],
  );
  for (const source of ["(a+)+b", "(a|aa)+$", "\\s*\\s*\\s*x", "(\\w+\\s?)*"]) {
    assert.equal(new LinearRegExp(source).engine, "re2", source);
  }
});

test("patterns linear by construction run on JavaScript's engine, the rest on RE2", () => {
  for (
    const source of [
      ",",
      "[;,]",
      "\\r?\\n",
      "(\\d{4})-(\\d\\d)",
      "^(GET|POST) ",
      "(?:ab){2,5}",
    ]
  ) {
    assert.equal(new LinearRegExp(source).engine, "native", source);
  }
  for (
    const source of [
      "\\s*,\\s*",
      "\\d+",
      "a{2,}",
      "(a|b){2}",
      "(a?){3}",
      "a?".repeat(9),
    ]
  ) {
    assert.equal(new LinearRegExp(source).engine, "re2", source);
  }
});

test("linearRegexProblem() names the feature RE2 lacks; nothing falls back to backtracking", () => {
  const refused: [string, string][] = [
    ["(a)\\1", 'a backreference "\\1"'],
    ["(?<x>a)\\k<x>", 'a backreference "\\k<x>"'],
    ["a(?=b)", 'a lookahead "(?="'],
    ["a(?!b)", 'a lookahead "(?!"'],
    ["(?<=a)b", 'a lookbehind "(?<="'],
    ["(?<!a)b", 'a lookbehind "(?<!"'],
    ["a{1001}", 'a repetition count above 1000 "{1001}"'],
    ["(?i:a)", 'an inline modifier group "(?i:"'],
  ];
  for (const [source, feature] of refused) {
    assert.equal(
      linearRegexProblem(source),
      `it uses ${feature}, which the linear-time regular expression engine (RE2) does not support`,
      source,
    );
    assert.throws(() => new LinearRegExp(source), {
      name: "SyntaxError",
      message:
        `Cannot run the regular expression /${source}/: it uses ${feature}, which the linear-time regular expression engine (RE2) does not support`,
    });
  }
  assert.match(linearRegexProblem("a", "u")!, /the u flag/);
  // Annex B reads these as characters, not backreferences: accepted.
  assert.equal(linearRegexProblem("\\1"), undefined);
  assert.equal(new LinearRegExp("a\\2").exec("a\x02")?.[0], "a\x02");
  assert.equal(linearRegexProblem("\\k<x>"), undefined);
});
