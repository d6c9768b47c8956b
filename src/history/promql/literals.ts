/**
 * PromQL's literals as Prometheus 2.42's Go lexer and parser read them:
 * durations (`1h30m`), numbers (Go's ParseInt(s, 0, 64), else ParseFloat:
 * `010`, `0x1f`, `Inf`, `1.`), and quoted strings (Go's Unquote, with the
 * lexer's checks of escapes).
 *
 * @module
 */

/**
 * Go's lexer reads `1.`, `1.e1` and `0X1f` as numbers; the lezer grammar
 * does not. Rewritten to what it reads, at the same length (so positions
 * in messages stay right), outside quoted strings only: the dot becomes a
 * space, after the exponent when there is one; `0X` becomes `0x`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { goNumbers } from "./literals.ts";
 *
 * assert.equal(goNumbers('1./6. + x{a="1."}'), '1 /6  + x{a="1."}');
 * assert.equal(goNumbers("1.e1 + 0X1f"), "1e1  + 0x1f");
 * ```
 */
export function goNumbers(text: string): string {
  if (!text.includes(".") && !text.includes("0X")) return text;
  return _rewriteOutsideQuotes(text, (i) => {
    // The word `text[i]` continues: the dot must end a run of digits.
    const word = text.slice(0, i).match(/[A-Za-z0-9_.:]*$/)?.[0] ?? "";
    if (text.startsWith("0X", i) && word === "") return ["0x", 2];
    if (text[i] !== "." || !/^\d+$/.test(word)) return undefined;
    const exponent = /^[eE][+-]?\d+/.exec(text.slice(i + 1))?.[0];
    if (exponent !== undefined) return [`${exponent} `, exponent.length + 1];
    return /[0-9A-Za-z_.]/.test(text[i + 1] ?? "") ? undefined : [" ", 1];
  });
}

/**
 * Copies `text`, but outside its quoted strings (the three PromQL quotes,
 * backslash escapes in all but backticks) asks `at` first: a `[written,
 * consumed]` pair replaces `consumed` characters from `i` with `written`;
 * undefined copies the character. `out` is what was written so far.
 */
function _rewriteOutsideQuotes(
  text: string,
  at: (i: number, out: string) => [string, number] | undefined,
): string {
  let out = "";
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote !== "") {
      out += ch;
      if (ch === "\\" && quote !== "`") out += text[++i] ?? "";
      else if (ch === quote) quote = "";
      continue;
    }
    if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    const replaced = at(i, out);
    if (replaced === undefined) {
      out += ch;
      continue;
    }
    out += replaced[0];
    i += replaced[1] - 1;
  }
  return out;
}

const DURATION_UNITS: ReadonlyArray<[string, number]> = [
  ["y", 365 * 86_400_000],
  ["w", 7 * 86_400_000],
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

/** Go's time.Duration: int64 nanoseconds, so at most this many whole ms. */
const MAX_DURATION_MS = 9_223_372_036_854;

/**
 * A Prometheus duration (`5m`, `1h30m`, `500ms`, or `0`) in ms, as Go's
 * model.ParseDuration reads it; undefined when it is not one, or is beyond
 * int64 nanoseconds (about 292 years).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./literals.ts";
 *
 * assert.equal(parseDuration("1h30m"), 5_400_000);
 * assert.equal(parseDuration("90"), undefined);
 * assert.equal(parseDuration("999999999y"), undefined);
 * ```
 */
export function parseDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const ms = parseQueryDuration(text);
  return typeof ms === "number" ? ms : undefined;
}

/**
 * A duration written in a query, in ms, or what 2.42's lexer and parser
 * say is wrong with it: a number without a unit (even `0`: the lexer reads
 * a number there), a duration beyond int64 nanoseconds, or bad syntax.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseQueryDuration } from "./literals.ts";
 *
 * assert.equal(parseQueryDuration("5m"), 300_000);
 * assert.equal(parseQueryDuration("60"), "missing unit character in duration");
 * assert.equal(parseQueryDuration("999999999y"), "duration out of range");
 * ```
 */
export function parseQueryDuration(text: string): number | string {
  if (/^(\d*\.?\d*)([eE][+-]?\d*)?$/.test(text)) {
    return "missing unit character in duration";
  }
  const re =
    /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
  const match = re.exec(text);
  if (match === null) return `bad duration syntax: ${JSON.stringify(text)}`;
  let ms = 0;
  DURATION_UNITS.forEach(([, size], i) => {
    const n = match[i + 1];
    if (n !== undefined) ms += Number(n) * size;
  });
  return ms > MAX_DURATION_MS ? "duration out of range" : ms;
}

/** Go's int64: ParseInt(s, 0, 64) refuses more, and ParseFloat reads it. */
const MAX_INT64 = 2n ** 63n - 1n;

/**
 * A number literal as 2.42's parser reads it: Go's ParseInt(s, 0, 64)
 * first (so a leading `0` is octal and `0x`/`0X` hexadecimal), else Go's
 * ParseFloat (`1.5e3`, `.5`, `Inf`, `NaN`). When both refuse it, Go's
 * reason: `invalid syntax` (a duration such as `1m`, an underscore, a
 * hexadecimal beyond int64) or `value out of range` (`1e400`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNumber } from "./literals.ts";
 *
 * assert.equal(parseNumber("0x1f"), 31);
 * assert.equal(parseNumber("-010"), -8);
 * assert.equal(parseNumber("-Inf"), -Infinity);
 * assert.equal(parseNumber("1m"), "invalid syntax");
 * assert.equal(parseNumber("1e400"), "value out of range");
 * ```
 */
export function parseNumber(text: string): number | string {
  const sign = text.startsWith("-") ? -1 : 1;
  const body = /^[+-]/.test(text) ? text.slice(1) : text;
  const lower = body.toLowerCase();
  if (lower === "inf" || lower === "infinity") return sign * Infinity;
  if (lower === "nan") return NaN;
  const int = /^0[xX][0-9a-fA-F]+$/.test(body)
    ? BigInt(body.toLowerCase())
    : /^0[0-7]+$/.test(body)
    ? BigInt(`0o${body.slice(1)}`)
    : undefined;
  if (int !== undefined && int <= MAX_INT64) return sign * Number(int);
  // Decimal integers read the same either way; an octal beyond int64 is
  // read as decimal by ParseFloat, a hexadecimal one refused (no `p`).
  if (!/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) {
    return "invalid syntax";
  }
  const value = Number(body);
  return Number.isFinite(value) ? sign * value : "value out of range";
}

/**
 * Go's strconv.ParseFloat(text, 64), which 2.42 reads a bucket's `le`, a
 * time and a duration parameter with: decimal (`1`, `.5`, `1.`, `1e3`),
 * hexadecimal with a binary exponent (`0x1p-2`; `0x1` alone is refused),
 * `_` between digits (`1_000`), and `inf`, `infinity`, `nan` in any case
 * (a sign before `inf` only). Undefined where Go returns an error: bad
 * syntax, or a value beyond float64 (`1e400`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGoFloat } from "./literals.ts";
 *
 * assert.equal(parseGoFloat("1e0"), 1);
 * assert.equal(parseGoFloat("0x1p1"), 2);
 * assert.equal(parseGoFloat("1_0"), 10);
 * assert.equal(parseGoFloat("+Inf"), Infinity);
 * assert.equal(parseGoFloat("0x1"), undefined);
 * assert.equal(parseGoFloat("1__0"), undefined);
 * assert.equal(parseGoFloat("+nan"), undefined);
 * assert.equal(parseGoFloat("1e400"), undefined);
 * ```
 */
export function parseGoFloat(text: string): number | undefined {
  const special = /^([+-]?)(inf|infinity)$|^nan$/i.exec(text);
  if (special !== null) {
    if (special[2] === undefined) return NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  const hex =
    /^([+-]?)0[xX]([0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?)[pP]([+-]?\d[\d_]*)$/
      .exec(text);
  if (hex !== null) {
    if (!/[0-9a-fA-F]/.test(hex[2]) || !_underscoresOk(text)) return undefined;
    const [whole, fraction = ""] = hex[2].replaceAll("_", "").split(".");
    const mantissa = BigInt(`0x0${whole}${fraction}`);
    const exponent = Number(hex[3].replaceAll("_", "")) - 4 * fraction.length;
    const value = _scaleBinary(mantissa, exponent);
    if (value === undefined) return undefined;
    return hex[1] === "-" ? -value : value;
  }
  if (
    !/^[+-]?(?:[\d_]+(?:\.[\d_]*)?|\.[\d_]+)(?:[eE][+-]?\d[\d_]*)?$/.test(
      text,
    ) ||
    !/\d/.test(text.split(/[eE]/)[0]) || !_underscoresOk(text)
  ) return undefined;
  const value = Number(text.replaceAll("_", ""));
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Go's strconv underscoreOK: each `_` between two digits (a base prefix
 * counts as a digit).
 */
function _underscoresOk(text: string): boolean {
  let s = text.replace(/^[+-]/, "");
  let saw = "^";
  let hex = false;
  if (/^0[xXbBoO]/.test(s)) {
    hex = /^0[xX]/.test(s);
    s = s.slice(2);
    saw = "0";
  }
  for (const c of s) {
    if (/\d/.test(c) || (hex && /[a-fA-F]/.test(c))) {
      saw = "0";
    } else if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
    } else {
      if (saw === "_") return false;
      saw = "!";
    }
  }
  return saw !== "_";
}

/**
 * `mantissa * 2 ** exponent` rounded to the nearest float64 (ties to
 * even, subnormals included), or undefined beyond float64's range.
 */
function _scaleBinary(mantissa: bigint, exponent: number): number | undefined {
  if (mantissa === 0n) return 0;
  const bits = mantissa.toString(2).length;
  // The float64 keeps 53 bits, fewer for a subnormal (below 2 ** -1022).
  const top = bits - 1 + exponent;
  if (top > 1024) return undefined;
  const keep = Math.max(0, Math.min(53, 53 - (-1022 - top)));
  let m = mantissa;
  let e = exponent;
  const drop = bits - keep;
  if (drop > 0) {
    const half = 1n << BigInt(drop - 1);
    const rest = m & ((1n << BigInt(drop)) - 1n);
    m >>= BigInt(drop);
    if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
    e += drop;
  }
  // Two steps: each product exact, as the result is a float64.
  const first = Math.max(e, -1000);
  const value = Number(m) * 2 ** first * 2 ** (e - first);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Go's strconv.Unquote for the three PromQL quotes; undefined when
 * malformed, or when 2.42's lexer refuses an escape (a code point beyond
 * Unicode or a surrogate, an octal escape above `\377`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unquote } from "./literals.ts";
 *
 * assert.equal(unquote('"a\\tb"'), "a\tb");
 * assert.equal(unquote("`raw\\n`"), "raw\\n");
 * assert.equal(unquote('"open'), undefined);
 * ```
 */
export function unquote(text: string): string | undefined {
  const quote = text[0];
  if (text.length < 2 || text[text.length - 1] !== quote) return undefined;
  const body = text.slice(1, -1);
  if (quote === "`") return body;
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = body[++i];
    switch (next) {
      case "a":
        out += "\x07";
        break;
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "n":
        out += "\n";
        break;
      case "r":
        out += "\r";
        break;
      case "t":
        out += "\t";
        break;
      case "v":
        out += "\v";
        break;
      case "\\":
      case "'":
      case '"':
        if ((next === "'" || next === '"') && next !== quote) return undefined;
        out += next;
        break;
      case "x":
      case "u":
      case "U": {
        const len = next === "x" ? 2 : next === "u" ? 4 : 8;
        const hex = body.slice(i + 1, i + 1 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) return undefined;
        const code = parseInt(hex, 16);
        if (next !== "x" && !_isScalarValue(code)) return undefined;
        out += next === "x"
          ? String.fromCharCode(code)
          : String.fromCodePoint(code);
        i += len;
        break;
      }
      default: {
        const oct = body.slice(i, i + 3);
        if (!/^[0-7]{3}$/.test(oct)) return undefined;
        // 2.42's lexer: an octal escape above \377 is no byte.
        const code = parseInt(oct, 8);
        if (code > 0xff) return undefined;
        out += String.fromCharCode(code);
        i += 2;
      }
    }
  }
  return out;
}

/**
 * Whether `code` is a Unicode scalar value, what 2.42's lexer wants of a
 * `\u`/`\U` escape ("escape sequence is an invalid Unicode code point").
 */
export function _isScalarValue(code: number): boolean {
  return code <= 0x10ffff && (code < 0xd800 || code >= 0xe000);
}

/**
 * Prometheus 2.42's `holt_winters` is `double_exponential_smoothing` in the
 * newer grammar the lezer parser follows: renamed before parsing, with
 * where each rename ends so messages give positions in the query as
 * written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renameHoltWinters } from "./literals.ts";
 *
 * const { text, ends } = renameHoltWinters('holt_winters(x[5m], 0.1, 0.5) + y{a="holt_winters("}');
 * assert.ok(text.startsWith("double_exponential_smoothing("));
 * assert.ok(text.endsWith('y{a="holt_winters("}'));
 * assert.deepEqual(ends, [28]);
 * ```
 */
export function renameHoltWinters(
  text: string,
): { text: string; ends: number[] } {
  const ends: number[] = [];
  if (!text.includes("holt_winters")) return { text, ends };
  const out = _rewriteOutsideQuotes(text, (i, written) => {
    if (
      !text.startsWith(HOLT_WINTERS, i) ||
      /[A-Za-z0-9_:]/.test(text[i - 1] ?? "") ||
      !/^\s*\(/.test(text.slice(i + HOLT_WINTERS.length))
    ) return undefined;
    ends.push(written.length + RENAMED.length);
    return [RENAMED, HOLT_WINTERS.length];
  });
  return { text: out, ends };
}

/** The 2.42 name. */
export const HOLT_WINTERS = "holt_winters";
/** The name in the lezer grammar. */
export const RENAMED = "double_exponential_smoothing";
