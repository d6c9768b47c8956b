/**
 * A conservative check of a regular expression from a graph (issue 18: a
 * `strings/Split` delimiter blocked the host for 1.5 s per 26-character
 * message on Bun and 14.7 s on Deno). JavaScript's regular expressions
 * backtrack, and neither runtime offers a linear-time engine, so the
 * patterns whose backtracking can grow exponentially with the input are
 * refused before they run:
 *
 * - a group repeated more than once (`*`, `+`, `{n,}`, `{n,m}` with m > 1)
 *   that holds a quantifier or an alternation, as in `(a+)+`, `(\w+\s?)*`,
 *   `(a?){20}` or `(a|aa)+` (star height above one, or ambiguous
 *   alternatives);
 * - backreferences (`\1`, `\k<name>`), which no automaton can match.
 *
 * What is left repeats only single characters, classes and groups of
 * fixed text, which is what delimiters need (`\s*,\s*`, `\r?\n`, `[;,]`,
 * `(?:ab)+`). Such patterns can still take time polynomial in a long run of
 * matching characters (`\s*\s*x` over many spaces): that case is not
 * bounded here.
 *
 * @module
 */

/** Where a group starts: what it holds so far. */
interface _Group {
  /** It holds a quantifier (`?` included): its length varies. */
  varies: boolean;
  /** It holds an alternation. */
  alternates: boolean;
}

/**
 * Why `source` (a pattern, without slashes or flags) is refused, or
 * `undefined` when it is accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsafeRegexReason } from "./safe_regex.ts";
 *
 * assert.equal(unsafeRegexReason("\\s*,\\s*"), undefined);
 * assert.match(unsafeRegexReason("(a+)+$")!, /repeats a group that holds a quantifier/);
 * ```
 */
export function unsafeRegexReason(source: string): string | undefined {
  const stack: _Group[] = [{ varies: false, alternates: false }];
  // What the last atom was: a group just closed (with what it held), or a
  // single character or class, or nothing that a quantifier could apply to.
  let last: _Group | "atom" | undefined;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (/[1-9]/.test(next) || (next === "k" && source[i + 2] === "<")) {
        return `it uses a backreference (\\${next}...), which can take time exponential in the text`;
      }
      i++;
      last = "atom";
      continue;
    }
    if (c === "[") {
      // A class is one atom: skip to its unescaped closing bracket.
      let j = i + 1;
      if (source[j] === "^") j++;
      if (source[j] === "]") j++;
      while (j < source.length && source[j] !== "]") {
        if (source[j] === "\\") j++;
        j++;
      }
      i = j;
      last = "atom";
      continue;
    }
    if (c === "(") {
      stack.push({ varies: false, alternates: false });
      // Skip a group's prefix (?: (?= (?! (?<= (?<! (?<name>.
      if (source[i + 1] === "?") {
        if (source[i + 2] === "<" && /[A-Za-z_$]/.test(source[i + 3] ?? "")) {
          i = source.indexOf(">", i);
        } else {
          i += source[i + 2] === "<" ? 3 : 2;
        }
      }
      last = undefined;
      continue;
    }
    if (c === ")") {
      const group = stack.length > 1 ? stack.pop()! : undefined;
      last = group;
      if (group !== undefined) {
        // What the group holds counts for the group around it too.
        const outer = stack[stack.length - 1];
        outer.varies ||= group.varies;
        outer.alternates ||= group.alternates;
      }
      continue;
    }
    if (c === "|") {
      stack[stack.length - 1].alternates = true;
      last = undefined;
      continue;
    }
    const max = _quantifierMax(source, i);
    if (max !== undefined) {
      const { end, repeats } = max;
      if (repeats && last !== undefined && last !== "atom") {
        if (last.varies) {
          return "it repeats a group that holds a quantifier (as (a+)+ or (a?){20} do), which can take time exponential in the text";
        }
        if (last.alternates) {
          return "it repeats a group of alternatives (as (a|aa)+ does), which can take time exponential in the text; use a character class such as [ab]+";
        }
      }
      stack[stack.length - 1].varies = true;
      i = end;
      // A lazy or possessive-looking suffix belongs to the quantifier.
      if (source[i + 1] === "?") i++;
      last = undefined;
      continue;
    }
    last = "atom";
  }
  return undefined;
}

/**
 * The quantifier at `i`, if one starts there: where it ends and whether
 * it allows more than one repetition.
 */
function _quantifierMax(
  source: string,
  i: number,
): { end: number; repeats: boolean } | undefined {
  const c = source[i];
  if (c === "*" || c === "+") return { end: i, repeats: true };
  if (c === "?") return { end: i, repeats: false };
  if (c !== "{") return undefined;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
  if (m === null) return undefined;
  const max = m[2] === undefined
    ? Number(m[1])
    : m[3] === ""
    ? Infinity
    : Number(m[3]);
  return { end: i + m[0].length - 1, repeats: max > 1 };
}
