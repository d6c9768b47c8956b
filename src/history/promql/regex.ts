/**
 * Prometheus's regular expressions (Go's RE2 syntax, fully anchored) as
 * JavaScript `RegExp`s, and label matching with them.
 *
 * Go and JavaScript agree on the syntax PromQL queries use in practice;
 * the differences handled here: a leading `(?i)`/`(?s)`/`(?is)` flag group,
 * named groups written `(?P<name>...)`, `\A` and `\z`, and POSIX classes
 * (`[[:alpha:]]`) inside brackets. Anything else JavaScript refuses is
 * reported as a regex that does not compile.
 *
 * @module
 */
import type { LabelMatcher, SeriesLabels } from "../types.ts";

const POSIX_CLASSES: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

const cache = new Map<string, RegExp>();

/**
 * Compiles a Prometheus regular expression, anchored at both ends as
 * Prometheus anchors label matchers and `label_replace`.
 * Throws `SyntaxError` when it does not compile.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileAnchored } from "./regex.ts";
 *
 * assert.ok(compileAnchored("a.*").test("abc"));
 * assert.ok(!compileAnchored("a.*").test("xabc"));
 * assert.ok(compileAnchored("(?i)ABC").test("abc"));
 * assert.ok(compileAnchored(".*((?i)DUC).*").test("production"));
 * ```
 */
export function compileAnchored(source: string): RegExp {
  let re = cache.get(source);
  if (re !== undefined) return re;
  let body = source;
  let flags = "";
  const flagGroup = /^\(\?([is]+)\)/.exec(body);
  if (flagGroup !== null) {
    if (flagGroup[1].includes("i")) flags += "i";
    if (flagGroup[1].includes("s")) flags += "s";
    body = body.slice(flagGroup[0].length);
  }
  body = body
    .replace(/\(\?P</g, "(?<")
    .replace(/\\A/g, "^")
    .replace(/\\z/g, "$")
    .replace(/\[:(\^?)([a-z]+):\]/g, (whole, negate: string, name: string) => {
      const chars = POSIX_CLASSES[name];
      if (chars === undefined) return whole;
      return negate === "" ? chars : whole;
    });
  if (body.includes("(?i)")) body = inlineCaseless(body);
  re = new RegExp(`^(?:${body})$`, flags);
  if (cache.size > 1000) cache.clear();
  cache.set(source, re);
  return re;
}

function swapCase(ch: string): string {
  const lower = ch.toLowerCase();
  return lower === ch ? ch.toUpperCase() : lower;
}

/**
 * Go's `(?i)` inside a group (`((?i)abc)def`): JavaScript has no scoped
 * flag everywhere, so the letters it covers become `[aA]` classes, up to
 * the end of the group that holds it.
 */
function inlineCaseless(body: string): string {
  let out = "";
  let depth = 0;
  let caselessFrom = -1; // the depth whose group the flag covers; -1 when off
  let inClass = false;
  let classExtra = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === "\\") {
      out += ch + (body[i + 1] ?? "");
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") {
        out += classExtra + ch;
        inClass = false;
        classExtra = "";
        continue;
      }
      if (caselessFrom >= 0 && /[A-Za-z]/.test(ch)) {
        if (body[i + 1] === "-" && /[A-Za-z]/.test(body[i + 2] ?? "")) {
          classExtra += swapCase(ch) + "-" + swapCase(body[i + 2]);
          out += ch + "-" + body[i + 2];
          i += 2;
          continue;
        }
        classExtra += swapCase(ch);
      }
      out += ch;
      continue;
    }
    if (body.startsWith("(?i)", i)) {
      caselessFrom = depth;
      i += 3;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      out += ch;
      if (body[i + 1] === "^") {
        out += "^";
        i++;
      }
      continue;
    }
    if (ch === "(") depth++;
    if (ch === ")") {
      if (depth === caselessFrom) caselessFrom = -1;
      depth--;
    }
    if (caselessFrom >= 0 && /[A-Za-z]/.test(ch) && ch !== swapCase(ch)) {
      out += `[${ch}${swapCase(ch)}]`;
      continue;
    }
    out += ch;
  }
  return out;
}

/**
 * Whether `labels` satisfy every matcher (a missing label is the empty
 * string), as Prometheus selects series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesAll } from "./regex.ts";
 *
 * const labels = { __name__: "up", job: "weir" };
 * assert.ok(matchesAll([{ name: "job", type: "=~", value: "w.*" }], labels));
 * assert.ok(matchesAll([{ name: "zone", type: "=", value: "" }], labels));
 * assert.ok(!matchesAll([{ name: "job", type: "!=", value: "weir" }], labels));
 * ```
 */
export function matchesAll(
  matchers: readonly LabelMatcher[],
  labels: SeriesLabels,
): boolean {
  for (const m of matchers) {
    const value = labels[m.name] ?? "";
    switch (m.type) {
      case "=":
        if (value !== m.value) return false;
        break;
      case "!=":
        if (value === m.value) return false;
        break;
      case "=~":
        if (!compileAnchored(m.value).test(value)) return false;
        break;
      case "!~":
        if (compileAnchored(m.value).test(value)) return false;
        break;
    }
  }
  return true;
}
