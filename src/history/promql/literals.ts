/**
 * PromQL's literals as Prometheus's Go parser reads them: durations
 * (`1h30m`), numbers (Go's ParseFloat: `0x1f`, `Inf`, `1.`), and quoted
 * strings (Go's Unquote).
 *
 * @module
 */

/**
 * Go reads `1.` as a number; the lezer grammar does not. The dot becomes a
 * space (same length, so positions in messages stay right), outside
 * quoted strings only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trailingDots } from "./literals.ts";
 *
 * assert.equal(trailingDots('1./6. + x{a="1."}'), '1 /6  + x{a="1."}');
 * ```
 */
export function trailingDots(text: string): string {
  if (!text.includes(".")) return text;
  return _rewriteOutsideQuotes(
    text,
    (i) =>
      text[i] === "." && /[0-9]/.test(text[i - 1] ?? "") &&
        !/[0-9A-Za-z_.]/.test(text[i + 1] ?? "") &&
        !/[A-Za-z_]/.test(
          text.slice(0, i).match(/[A-Za-z0-9_.]*$/)?.[0][0] ?? "",
        )
        ? [" ", 1]
        : undefined,
  );
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

/**
 * A Prometheus duration (`5m`, `1h30m`, `500ms`, or plain seconds) in ms;
 * undefined when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./literals.ts";
 *
 * assert.equal(parseDuration("1h30m"), 5_400_000);
 * assert.equal(parseDuration("bad"), undefined);
 * ```
 */
export function parseDuration(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const re =
    /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
  const match = re.exec(text);
  if (match === null || text === "") return undefined;
  let ms = 0;
  DURATION_UNITS.forEach(([, size], i) => {
    const n = match[i + 1];
    if (n !== undefined) ms += Number(n) * size;
  });
  return ms;
}

/**
 * A number literal as Go's ParseFloat (plus durations, as seconds) reads
 * it; undefined when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNumber } from "./literals.ts";
 *
 * assert.equal(parseNumber("0x1f"), 31);
 * assert.equal(parseNumber("-Inf"), -Infinity);
 * assert.equal(parseNumber("1m"), 60);
 * ```
 */
export function parseNumber(text: string): number | undefined {
  let sign = 1;
  let body = text;
  if (body.startsWith("-") || body.startsWith("+")) {
    if (body[0] === "-") sign = -1;
    body = body.slice(1);
  }
  const lower = body.toLowerCase();
  if (lower === "inf" || lower === "infinity") return sign * Infinity;
  if (lower === "nan") return NaN;
  const plain = body.replace(/_/g, "");
  if (/^0x[0-9a-f]+$/i.test(plain)) return sign * parseInt(plain.slice(2), 16);
  if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(plain)) {
    return sign * Number(plain);
  }
  const ms = parseDuration(body);
  return ms === undefined ? undefined : sign * ms / 1000;
}

/**
 * Go's strconv.Unquote for the three PromQL quotes; undefined when
 * malformed.
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
        out += next === "x"
          ? String.fromCharCode(parseInt(hex, 16))
          : String.fromCodePoint(parseInt(hex, 16));
        i += len;
        break;
      }
      default: {
        const oct = body.slice(i, i + 3);
        if (!/^[0-7]{3}$/.test(oct)) return undefined;
        out += String.fromCharCode(parseInt(oct, 8));
        i += 2;
      }
    }
  }
  return out;
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
