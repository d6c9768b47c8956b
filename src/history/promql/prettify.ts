/**
 * weir's PromQL syntax tree back to PromQL text, as Prometheus 2.42 prints
 * its own (`Expr.String()` and `parser.Prettify`, what its
 * `/api/v1/format_query` answers): the printing of the values parsed, not
 * of the text written (`1e3` is `1000`, `90m` is `1h30m`, `'a'` is `"a"`,
 * label matchers sorted, `sum(x) by (job)` is `sum by (job) (x)`), and an
 * expression whose one-line text passes 100 bytes split over lines
 * indented two spaces a level.
 *
 * It prints a tree parsed with `{ syntax: true }` (parentheses and unary
 * `+` kept); a tree parsed for evaluation prints without the parentheses
 * written, which may change the meaning of the text.
 *
 * @module
 */
import type { LabelMatcher } from "../types.ts";
import type {
  Aggregate,
  AtModifier,
  Binary,
  Expr,
  VectorSelector,
} from "./ast.ts";
import { parseQuery } from "./parse.ts";

/** A line longer than this many bytes (UTF-8) is split, as 2.42 splits it. */
const MAX_LINE_BYTES = 100;

/**
 * `query` formatted as Prometheus 2.42's `/api/v1/format_query` formats
 * it. Throws `PromQLError` (`bad_data`) when it does not parse; a
 * function weir does not evaluate but 2.42 knows (`histogram_count`)
 * formats.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatQuery } from "./prettify.ts";
 *
 * assert.equal(
 *   formatQuery("sum(rate(x{b='1',a=~\"2\"}[90m] offset 1d)) by (job)"),
 *   'sum by (job) (rate(x{a=~"2",b="1"}[1h30m] offset 1d))',
 * );
 * assert.equal(formatQuery("(1e3 + -(2))"), "(1000 + -(2))");
 * ```
 */
export function formatQuery(query: string): string {
  return prettify(parseQuery(query, { syntax: true }));
}

/**
 * `expr` as Prometheus 2.42's `parser.Prettify` prints it: its one-line
 * text ({@linkcode exprString}) when that fits in 100 bytes, else split:
 * an aggregation's or a call's arguments and a parenthesis's content on
 * lines of their own, a binary operator on its own line between its
 * operands, each level indented two spaces more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prettify } from "./prettify.ts";
 * import { parseQuery } from "./parse.ts";
 *
 * const name = "a_long_metric_name_".repeat(5);
 * assert.equal(
 *   prettify(parseQuery(`sum(${name}) / 2`, { syntax: true })),
 *   `  sum(${name})\n/\n  2`,
 * );
 * assert.equal(
 *   prettify(parseQuery(`sum(${name} + 100)`, { syntax: true })),
 *   `sum(\n    ${name}\n  +\n    100\n)`,
 * );
 * ```
 */
export function prettify(expr: Expr): string {
  return new _Printer().pretty(expr, 0);
}

/**
 * `expr` on one line, as Prometheus 2.42's `Expr.String()` prints it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exprString } from "./prettify.ts";
 * import { parseQuery } from "./parse.ts";
 *
 * const expr = parseQuery("x / ignoring(a)   group_left y > bool 1e6", { syntax: true });
 * assert.equal(exprString(expr), "x / ignoring (a) group_left () y > bool 1e+06");
 * ```
 */
export function exprString(expr: Expr): string {
  return new _Printer().text(expr);
}

/**
 * One printing: each node's one-line text and its length in bytes,
 * worked out once (prettifying asks for them at every level, which for a
 * deeply nested query would otherwise cost its size times its depth).
 */
class _Printer {
  readonly #texts = new Map<Expr, string>();
  readonly #bytes = new Map<Expr, number>();

  text(expr: Expr): string {
    let text = this.#texts.get(expr);
    if (text === undefined) {
      text = this.#print(expr);
      this.#texts.set(expr, text);
    }
    return text;
  }

  #needsSplit(expr: Expr): boolean {
    let bytes = this.#bytes.get(expr);
    if (bytes === undefined) {
      bytes = _utf8Length(this.text(expr));
      this.#bytes.set(expr, bytes);
    }
    return bytes > MAX_LINE_BYTES;
  }

  #print(expr: Expr): string {
    switch (expr.type) {
      case "number":
        return formatNumber(expr.value);
      case "string":
        return goQuote(expr.value);
      case "vector":
        return _selector(expr) + _modifiers(expr.at, expr.offsetMs);
      case "matrix":
        return `${_selector(expr.selector)}[${formatDuration(expr.rangeMs)}]${
          _modifiers(expr.selector.at, expr.selector.offsetMs)
        }`;
      case "subquery":
        return this.text(expr.expr) + _subquerySuffix(expr);
      case "call":
        return `${expr.func}(${expr.args.map((a) => this.text(a)).join(", ")})`;
      case "aggregate":
        return `${_aggregateOp(expr)}(${
          expr.param === undefined ? "" : `${this.text(expr.param)}, `
        }${this.text(expr.expr)})`;
      case "binary":
        return `${this.text(expr.lhs)} ${_binaryOp(expr)} ${
          this.text(expr.rhs)
        }`;
      case "unary":
        return expr.op + this.text(expr.expr);
      case "paren":
        return `(${this.text(expr.expr)})`;
    }
  }

  pretty(expr: Expr, level: number): string {
    const indent = "  ".repeat(level);
    switch (expr.type) {
      case "number":
      case "string":
      case "vector":
      case "matrix":
        return indent + this.text(expr);
      case "subquery":
        // 2.42 does not indent a subquery that fits on its line.
        if (!this.#needsSplit(expr)) return this.text(expr);
        return this.pretty(expr.expr, level) + _subquerySuffix(expr);
      case "unary":
        return indent + expr.op + this.pretty(expr.expr, level).trim();
    }
    if (!this.#needsSplit(expr)) return indent + this.text(expr);
    const inner = level + 1;
    switch (expr.type) {
      case "aggregate": {
        const param = expr.param === undefined
          ? ""
          : `${this.pretty(expr.param, inner)},\n`;
        return `${indent}${_aggregateOp(expr)}(\n${param}${
          this.pretty(expr.expr, inner)
        }\n${indent})`;
      }
      case "binary":
        return `${this.pretty(expr.lhs, inner)}\n${indent}${_binaryOp(expr)}\n${
          this.pretty(expr.rhs, inner)
        }`;
      case "call":
        return `${indent}${expr.func}(\n${
          expr.args.map((a) => this.pretty(a, inner)).join(",\n")
        }\n${indent})`;
      case "paren":
        return `${indent}(\n${this.pretty(expr.expr, inner)}\n${indent})`;
    }
  }
}

/** `sum by (a, b) `, `sum without () `, `sum`: what precedes the arguments. */
function _aggregateOp(expr: Aggregate): string {
  if (expr.without) return `${expr.op} without (${expr.grouping.join(", ")}) `;
  if (expr.grouping.length > 0) {
    return `${expr.op} by (${expr.grouping.join(", ")}) `;
  }
  return expr.op;
}

/**
 * The operator with its modifiers: `> bool`, `* on (a) group_left (b)`.
 * 2.42 prints no matching for an empty `ignoring ()`, and then no
 * `group_left` either.
 */
function _binaryOp(expr: Binary): string {
  let out = expr.op + (expr.bool ? " bool" : "");
  const m = expr.matching;
  if (m !== undefined && (m.labels.length > 0 || m.on)) {
    out += ` ${m.on ? "on" : "ignoring"} (${m.labels.join(", ")})`;
    if (m.card === "many-to-one" || m.card === "one-to-many") {
      out += ` group_${m.card === "many-to-one" ? "left" : "right"} (${
        m.include.join(", ")
      })`;
    }
  }
  return out;
}

/**
 * `name{a="1",b!~"2"}`: the matchers sorted by their text, the metric
 * name's own left out.
 */
function _selector(sel: VectorSelector): string {
  const name = sel.name ?? "";
  const matchers = sel.matchers
    .filter((m) =>
      !(m.name === "__name__" && m.type === "=" && m.value === name)
    )
    .map(_matcher)
    .sort(_compareCodePoints);
  return matchers.length === 0 ? name : `${name}{${matchers.join(",")}}`;
}

function _matcher(m: LabelMatcher): string {
  return `${m.name}${m.type}${goQuote(m.value)}`;
}

/** `[5m:1m] @ 10.000 offset 1m` of a subquery. */
function _subquerySuffix(
  expr: Extract<Expr, { type: "subquery" }>,
): string {
  const step = expr.stepMs === undefined ? "" : formatDuration(expr.stepMs);
  return `[${formatDuration(expr.rangeMs)}:${step}]${
    _modifiers(expr.at, expr.offsetMs)
  }`;
}

/** ` @ 10.000 offset -5m`: `@` first, as 2.42 prints them. */
function _modifiers(at: AtModifier | undefined, offsetMs: number): string {
  let out = "";
  if (at === "start" || at === "end") out += ` @ ${at}()`;
  else if (at !== undefined) out += ` @ ${((at || 0) / 1000).toFixed(3)}`;
  if (offsetMs > 0) out += ` offset ${formatDuration(offsetMs)}`;
  if (offsetMs < 0) out += ` offset -${formatDuration(-offsetMs)}`;
  return out;
}

/** Go's string order: by bytes of UTF-8, which is by code points. */
function _compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0)! - y[i].codePointAt(0)!;
  }
  return x.length - y.length;
}

function _utf8Length(text: string): number {
  let n = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

const DURATION_UNITS: readonly [string, number, boolean][] = [
  ["y", 365 * 86_400_000, true],
  ["w", 7 * 86_400_000, true],
  ["d", 86_400_000, false],
  ["h", 3_600_000, false],
  ["m", 60_000, false],
  ["s", 1000, false],
  ["ms", 1, false],
];

/**
 * A duration as Prometheus prints one (`model.Duration`): the largest
 * units first, years and weeks only when they divide it exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./prettify.ts";
 *
 * assert.equal(formatDuration(5_400_000), "1h30m");
 * assert.equal(formatDuration(8 * 86_400_000), "8d");
 * assert.equal(formatDuration(14 * 86_400_000), "2w");
 * assert.equal(formatDuration(0), "0s");
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size, exact] of DURATION_UNITS) {
    if (exact && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/**
 * A number as Go's `%v` prints a float64 (what 2.42 prints a number
 * literal with): the shortest digits, in exponent form below 1e-4 and
 * from 1e6 (`1e+06`, `1.5e-05`), `+Inf`, `-Inf`, `NaN`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatNumber } from "./prettify.ts";
 *
 * assert.equal(formatNumber(123456.7), "123456.7");
 * assert.equal(formatNumber(1234567.8), "1.2345678e+06");
 * assert.equal(formatNumber(0.00001), "1e-05");
 * assert.equal(formatNumber(Infinity), "+Inf");
 * ```
 */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mantissa, exp] = x.toExponential().split("e");
  const e = Number(exp);
  if (e < -4 || e >= 6) {
    const digits = String(Math.abs(e)).padStart(2, "0");
    return `${mantissa}e${e < 0 ? "-" : "+"}${digits}`;
  }
  return String(x);
}

/**
 * A string quoted as Go's `strconv.Quote` quotes it (what 2.42 prints a
 * string and a label value with): double quotes; `\n`-style escapes;
 * `\xNN`, `\uNNNN` or `\UNNNNNNNN` for what is not printable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { goQuote } from "./prettify.ts";
 *
 * assert.equal(goQuote('a"b\n\u0001ü\u00a0'), '"a\\"b\\n\\x01ü\\u00a0"');
 * ```
 */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const escape = GO_ESCAPES[ch];
    if (escape !== undefined) out += escape;
    else if (c === 0x20 || (c >= 0x21 && c < 0x7f)) out += ch;
    else if (c < 0x80) out += `\\x${_hex(c, 2)}`;
    else if (_GO_PRINTABLE.test(ch)) out += ch;
    // A lone surrogate reaches Go as UTF-8's replacement character.
    else if (c >= 0xd800 && c < 0xe000) out += "\ufffd";
    else if (c < 0x10000) out += `\\u${_hex(c, 4)}`;
    else out += `\\U${_hex(c, 8)}`;
  }
  return out + '"';
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
  '"': '\\"',
};

/** Go's `unicode.IsPrint` beyond ASCII: letters, marks, numbers, punctuation, symbols. */
const _GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function _hex(c: number, width: number): string {
  return c.toString(16).padStart(width, "0");
}
