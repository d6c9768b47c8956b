/**
 * Prometheus's regular expressions (Go's RE2 syntax, fully anchored),
 * matched by RE2 itself (the `re2js` package, a port of Go's `regexp`), and
 * label matching with them.
 *
 * RE2 is Prometheus's own engine, so the syntax is Go's as written (flag
 * groups such as `(?i:...)`, `(?P<name>...)`, `\A`, `\z`, POSIX classes)
 * and what Go refuses (backreferences, lookaround) is refused here. It also
 * matches in time linear in the text: a query comes from any client with
 * the `read` scope, and on JavaScript's backtracking engine a pattern such
 * as `(a+)+b` over 30 characters blocks the device for seconds. A literal,
 * or an alternation of literals (`f1|f2`), the most common matchers, is
 * compared without an engine (RE2 takes about 1 µs a test; a comparison
 * nanoseconds).
 *
 * @module
 */
import { RE2JS } from "re2js";
import type { LabelMatcher, SeriesLabels } from "../types.ts";

/** RE2's syntax characters: a pattern without them is its own text. */
const SYNTAX = /[\\.+*?()|[\]{}^$]/;

/** A compiled Prometheus regular expression, anchored at both ends. */
export interface PromRegex {
  /** Whether the whole of `value` matches. */
  test(value: string): boolean;
  /**
   * The match of the whole of `value`: `[0]` the text, `[n]` group n
   * (`undefined` when it took no part), `groups` by name; or `null`.
   */
  exec(value: string): RegExpExecArray | null;
}

/** Literals and alternations of literals: a set lookup. */
class LiteralRegex implements PromRegex {
  readonly #values: ReadonlySet<string>;
  constructor(values: readonly string[]) {
    this.#values = new Set(values);
  }
  test(value: string): boolean {
    return this.#values.has(value);
  }
  exec(value: string): RegExpExecArray | null {
    if (!this.#values.has(value)) return null;
    const result = [value] as unknown as RegExpExecArray;
    result.index = 0;
    result.input = value;
    return result;
  }
}

/** Everything else, on RE2. */
class Re2Regex implements PromRegex {
  readonly #re: RE2JS;
  readonly #named: Record<string, number>;
  constructor(re: RE2JS) {
    this.#re = re;
    this.#named = re.namedGroups();
  }
  test(value: string): boolean {
    return this.#re.matches(value);
  }
  exec(value: string): RegExpExecArray | null {
    const m = this.#re.matcher(value);
    if (!m.matches()) return null;
    const result = [value] as unknown as RegExpExecArray;
    for (let g = 1; g <= m.groupCount(); g++) {
      result.push(m.group(g) ?? undefined as unknown as string);
    }
    result.index = 0;
    result.input = value;
    let groups: Record<string, string> | undefined;
    for (const name in this.#named) {
      groups ??= {};
      groups[name] = m.group(this.#named[name]) ??
        undefined as unknown as string;
    }
    if (groups !== undefined) result.groups = groups;
    return result;
  }
}

const cache = new Map<string, PromRegex>();

/**
 * Compiles a Prometheus regular expression, anchored at both ends as
 * Prometheus anchors label matchers and `label_replace`. Throws
 * `SyntaxError` naming the problem when Go's RE2 would refuse it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileAnchored } from "./regex.ts";
 *
 * assert.ok(compileAnchored("a.*").test("abc"));
 * assert.ok(!compileAnchored("a.*").test("xabc"));
 * assert.ok(compileAnchored("(?i)ABC").test("abc"));
 * assert.ok(compileAnchored(".*(?i:DUC).*").test("production"));
 * assert.ok(compileAnchored("f1|f2").test("f2"));
 * // Linear in the text: no catastrophic backtracking.
 * assert.ok(!compileAnchored("(a+)+b").test("a".repeat(10000)));
 * assert.throws(() => compileAnchored("(a)\\1"), SyntaxError);
 * ```
 */
export function compileAnchored(source: string): PromRegex {
  let re = cache.get(source);
  if (re !== undefined) return re;
  const parts = source.split("|");
  if (parts.every((p) => !SYNTAX.test(p))) {
    re = new LiteralRegex(parts);
  } else {
    let compiled: RE2JS;
    try {
      _refuseNewerSyntax(source);
      compiled = RE2JS.compile(source);
    } catch (error) {
      throw new SyntaxError((error as Error).message);
    }
    re = new Re2Regex(compiled);
  }
  if (cache.size > 1000) cache.clear();
  cache.set(source, re);
  return re;
}

/**
 * Refuses what re2js (Go's newer regexp) takes and the Go of Prometheus
 * 2.42 (1.19) did not: `(?<name>...)`, Go 1.22's spelling of
 * `(?P<name>...)`. Outside character classes, escapes and `\Q...\E`.
 */
function _refuseNewerSyntax(source: string): void {
  if (!source.includes("(?<")) return;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      if (source[i + 1] === "Q") {
        const end = source.indexOf("\\E", i + 2);
        i = end < 0 ? source.length : end + 1;
      } else {
        i++;
      }
    } else if (c === "[") {
      // A class: `]` first (after `^`) is a member, `[:alpha:]` nests.
      let j = i + 1;
      if (source[j] === "^") j++;
      if (source[j] === "]") j++;
      for (; j < source.length && source[j] !== "]"; j++) {
        if (source[j] === "\\") j++;
        else if (source.startsWith("[:", j)) {
          const end = source.indexOf(":]", j + 2);
          if (end >= 0) j = end + 1;
        }
      }
      i = j;
    } else if (source.startsWith("(?<", i)) {
      throw new SyntaxError(
        "error parsing regexp: invalid or unsupported Perl syntax: `(?<`",
      );
    }
  }
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
