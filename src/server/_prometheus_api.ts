/**
 * The edge of the Prometheus HTTP API: its parameters (times, durations)
 * parsed as Prometheus 2.42 parses them, its error shape, and its sample
 * formatting (series selectors, which need the PromQL parser, are in
 * `_series_selector.ts`). Inside `src/history` times are
 * integer milliseconds; here they become Prometheus's float seconds.
 *
 * @module
 */
import { _isScalarValue, parseGoFloat } from "../history/promql/literals.ts";

/** Prometheus's error types, and the HTTP status each is answered with. */
export const PROM_ERROR_STATUS = {
  bad_data: 400,
  execution: 422,
  canceled: 503,
  timeout: 503,
  internal: 500,
  unavailable: 503,
  not_found: 404,
} as const;

/** One of Prometheus's error types (`errorType` in an error body). */
export type PromErrorType = keyof typeof PROM_ERROR_STATUS;

/**
 * A request the query API refuses, answered as Prometheus does:
 * `{"status":"error","errorType":type,"error":message}` with the status of
 * {@linkcode PROM_ERROR_STATUS}.
 */
export class PromApiError extends Error {
  override name = "PromApiError";
  /** The error type. */
  readonly type: PromErrorType;
  /** Creates the error. */
  constructor(type: PromErrorType, message: string) {
    super(message);
    this.type = type;
  }
}

/**
 * The earliest and latest times (ms) the API takes: JavaScript's Date
 * range. Prometheus's own boundaries (year -292273086 and 292277025, which
 * clients send for "all time") are clamped to them.
 */
export const MIN_TIME_MS = -8.64e15;
/** See {@linkcode MIN_TIME_MS}. */
export const MAX_TIME_MS = 8.64e15;

// Prometheus's minTime and maxTime as time.RFC3339Nano formats them.
const PROM_MIN_TIME = "-292273086-05-16T16:47:06Z";
const PROM_MAX_TIME = "292277025-08-18T07:12:54.999999999Z";
// time.RFC3339Nano as Go's time.Parse reads it: upper-case T and Z, an
// hour of one or two digits, a fraction of one to nine digits after "." or
// "," (a tenth digit is text its layout does not take: 2.42 refuses it).
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;
/** Nanoseconds in a millisecond, to turn Go's times and durations to ms. */
export const NS_PER_MS = 1_000_000n;

/**
 * An RFC 3339 time in ns since the epoch (Go's time.Time keeps them), or
 * undefined where Go's time.Parse refuses it: a field out of range, a day
 * its month does not have (2023-02-29).
 */
function _parseRfc3339(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (
    month < 1 || month > 12 || day < 1 || day > days[month - 1] ||
    hour > 23 || minute > 59 || second > 59
  ) {
    return undefined;
  }
  let offsetMs = 0;
  if (m[8] !== undefined) {
    // Go's time.Parse (2.42) checks neither field: +25:00 is 25 hours
    // ahead, +01:61 is 2 hours 1 minute, +99:99 is 100 hours 39 minutes.
    const [oh, om] = [Number(m[9]), Number(m[10])];
    offsetMs = (m[8] === "-" ? -1 : 1) * (oh * 3_600_000 + om * 60_000);
  }
  const ns = m[7] === undefined ? 0 : Number(m[7].padEnd(9, "0"));
  // Not Date.UTC: it reads years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return BigInt(date.getTime() - offsetMs) * NS_PER_MS + BigInt(ns);
}

/** Go's math.Round: halves away from zero (JavaScript's go up). */
function _goRound(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/**
 * Parses a time parameter as Prometheus 2.42 does, to ns since the epoch
 * (Go's time.Time): unix seconds as Go's ParseFloat reads them
 * (`1700000000.5`, `0x1p30`), their fraction rounded to the millisecond
 * with halves away from zero (`-0.0005` is -1 ms), or RFC 3339
 * (`2023-11-14T22:13:20.5Z`, to the ns). Prometheus's own minimum and
 * maximum times (what clients send for "all time") and times beyond
 * ±8.64e15 ms are clamped when `clamp` is true and refused otherwise (2.42
 * wraps a time beyond the years 1678 to 2262 around int64 nanoseconds and
 * answers for another time). Throws a bad_data {@linkcode PromApiError}
 * naming `param`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimeParamNs } from "./_prometheus_api.ts";
 *
 * assert.equal(parseTimeParamNs("1.5", "time"), 1_500_000_000n);
 * assert.equal(parseTimeParamNs("-0.0005", "time"), -1_000_000n);
 * assert.equal(parseTimeParamNs("1970-01-01T00:00:00.0000005Z", "time"), 500n);
 * ```
 */
export function parseTimeParamNs(
  text: string,
  param: string,
  clamp = false,
): bigint {
  let ns: bigint | undefined;
  let outside: number | undefined;
  const seconds = parseGoFloat(text);
  if (seconds !== undefined && Number.isFinite(seconds)) {
    // 2.42: the whole seconds, and the fraction rounded to whole ms.
    const whole = Math.trunc(seconds);
    const ms = _goRound((seconds - whole) * 1000);
    const total = whole * 1000 + ms;
    if (total < MIN_TIME_MS || total > MAX_TIME_MS) outside = total;
    else ns = BigInt(whole) * 1_000_000_000n + BigInt(ms) * NS_PER_MS;
  } else if (text === PROM_MIN_TIME) {
    outside = -Infinity;
  } else if (text === PROM_MAX_TIME) {
    outside = Infinity;
  } else if (seconds === undefined) {
    ns = _parseRfc3339(text);
  }
  if (outside !== undefined) {
    if (clamp) {
      return BigInt(outside < 0 ? MIN_TIME_MS : MAX_TIME_MS) * NS_PER_MS;
    }
    throw new PromApiError(
      "bad_data",
      `invalid parameter ${JSON.stringify(param)}: ${
        JSON.stringify(text)
      } is out of range: times must lie between years -271821 and 275760 ` +
        `(±8.64e15 ms)`,
    );
  }
  if (ns === undefined) {
    throw new PromApiError(
      "bad_data",
      `invalid parameter ${JSON.stringify(param)}: cannot parse ${
        JSON.stringify(text)
      } to a valid timestamp`,
    );
  }
  return ns;
}

/**
 * {@linkcode parseTimeParamNs} in whole ms, truncated toward zero as
 * 2.42's engine truncates a time (`1969-12-31T23:59:59.9995Z` is 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimeParam } from "./_prometheus_api.ts";
 *
 * // The float's own fraction is rounded: 0.00149999... here, as in 2.42.
 * assert.equal(parseTimeParam("1700000000.0015", "time"), 1_700_000_000_001);
 * assert.equal(parseTimeParam("-0.0005", "time"), -1);
 * assert.equal(parseTimeParam("1969-12-31T23:59:59.9995Z", "time"), 0);
 * ```
 */
export function parseTimeParam(
  text: string,
  param: string,
  clamp = false,
): number {
  return Number(parseTimeParamNs(text, param, clamp) / NS_PER_MS);
}

const DURATION =
  /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS_MS = [
  365 * 86_400_000,
  7 * 86_400_000,
  86_400_000,
  3_600_000,
  60_000,
  1000,
  1,
];

/**
 * Parses a duration parameter (`step`, `timeout`) as Prometheus 2.42
 * does, to Go's time.Duration (int64 ns): float seconds as Go's ParseFloat
 * reads them (`15`, `0.5`, `1e-3`, `0x1p4`), truncated to whole ns, or a
 * Prometheus duration (`1m30s`, `2h`, `1d`). Throws a bad_data
 * {@linkcode PromApiError} naming `param`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDurationParamNs } from "./_prometheus_api.ts";
 *
 * assert.equal(parseDurationParamNs("1.0001", "step"), 1_000_100_000n);
 * assert.equal(parseDurationParamNs("1m30s", "step"), 90_000_000_000n);
 * ```
 */
export function parseDurationParamNs(text: string, param: string): bigint {
  const seconds = parseGoFloat(text);
  if (seconds !== undefined && !Number.isNaN(seconds)) {
    const ns = seconds * 1e9;
    // Prometheus refuses what overflows int64 nanoseconds.
    if (ns >= 2 ** 63 || ns < -(2 ** 63)) {
      throw new PromApiError(
        "bad_data",
        `invalid parameter ${JSON.stringify(param)}: cannot parse ${
          JSON.stringify(text)
        } to a valid duration. It overflows int64`,
      );
    }
    return BigInt(Math.trunc(ns));
  }
  const m = text === "" ? null : DURATION.exec(text);
  if (
    m === null || (text !== "0" && m.slice(1).every((g) => g === undefined))
  ) {
    throw new PromApiError(
      "bad_data",
      `invalid parameter ${JSON.stringify(param)}: cannot parse ${
        JSON.stringify(text)
      } to a valid duration`,
    );
  }
  let ms = 0;
  for (let i = 0; i < DURATION_UNITS_MS.length; i++) {
    const g = m[i + 1];
    if (g !== undefined) ms += Number(g) * DURATION_UNITS_MS[i];
  }
  return BigInt(ms) * NS_PER_MS;
}

/**
 * {@linkcode parseDurationParamNs} in whole ms, truncated toward zero as
 * 2.42's engine truncates a step (`0.0019` steps by 1 ms).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDurationParam } from "./_prometheus_api.ts";
 *
 * assert.equal(parseDurationParam("0.0019", "step"), 1);
 * assert.equal(parseDurationParam("1_0", "step"), 10_000);
 * ```
 */
export function parseDurationParam(text: string, param: string): number {
  return Number(parseDurationParamNs(text, param) / NS_PER_MS);
}

/**
 * A PromQL string literal's value: `"..."` and `'...'` with Go's escapes
 * (`\n`, `\"`, `\x41`, `\u00e9`, `\101`, ...), `` `...` `` raw.
 */
export function unquoteString(literal: string): string {
  const q = literal[0];
  if (literal.length < 2 || literal[literal.length - 1] !== q) {
    throw new PromApiError(
      "bad_data",
      `cannot read the string ${literal}: it is not closed`,
    );
  }
  const body = literal.slice(1, -1);
  if (q === "`") return body;
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
      "\\": "\\",
      "'": "'",
      '"': '"',
    };
    if (e in simple) {
      out += simple[e];
    } else if (e === "x" || e === "u" || e === "U") {
      const len = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) {
        throw new PromApiError(
          "bad_data",
          `cannot read the string ${literal}: bad escape \\${e}${hex}`,
        );
      }
      const code = parseInt(hex, 16);
      if (e !== "x" && !_isScalarValue(code)) _invalidCodePoint(literal);
      out += e === "x" ? String.fromCharCode(code) : String.fromCodePoint(code);
      i += len;
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) {
        throw new PromApiError(
          "bad_data",
          `cannot read the string ${literal}: bad escape \\${oct}`,
        );
      }
      const code = parseInt(oct, 8);
      // An octal escape is one byte, as \x is: \377 at most.
      if (code > 0xff) _invalidCodePoint(literal);
      out += String.fromCharCode(code);
      i += 2;
    } else {
      throw new PromApiError(
        "bad_data",
        `cannot read the string ${literal}: unknown escape \\${e ?? ""}`,
      );
    }
  }
  return out;
}

/** A `\u`, `\U` or octal escape Prometheus's lexer refuses. */
function _invalidCodePoint(literal: string): never {
  throw new PromApiError(
    "bad_data",
    `cannot read the string ${literal}: escape sequence is an invalid Unicode code point`,
  );
}

/**
 * A sample value as Prometheus writes it in a scalar result: Go's
 * `strconv.FormatFloat(v, 'f', -1, 64)` (the shortest decimal that reads
 * back, never an exponent), `NaN`, `+Inf`, `-Inf`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatSampleValue } from "./_prometheus_api.ts";
 *
 * assert.equal(formatSampleValue(1e21), "1000000000000000000000");
 * assert.equal(formatSampleValue(1.5e-7), "0.00000015");
 * assert.equal(formatSampleValue(-Infinity), "-Inf");
 * ```
 */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const s = String(v);
  const e = s.indexOf("e");
  if (e < 0) return s;
  // Expand the exponent: the digits stay the shortest ones that read back.
  const negative = s[0] === "-";
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exponent = Number(s.slice(e + 1));
  const dot = mantissa.indexOf(".");
  const digits = dot < 0
    ? mantissa
    : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot < 0 ? mantissa.length : dot) + exponent;
  let out: string;
  if (point <= 0) out = "0." + "0".repeat(-point) + digits;
  else if (point >= digits.length) {
    out = digits + "0".repeat(point - digits.length);
  } else out = digits.slice(0, point) + "." + digits.slice(point);
  return (negative ? "-" : "") + out;
}

/**
 * A vector's or matrix's sample value as Prometheus 2.42 writes it
 * (`marshalPointJSON`): as {@linkcode formatSampleValue}, but in Go's
 * exponent form (`strconv.FormatFloat(v, 'e', -1, 64)`) when the magnitude
 * is at least 1e21 or below 1e-6. A scalar result keeps
 * {@linkcode formatSampleValue}'s form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPointValue } from "./_prometheus_api.ts";
 *
 * assert.equal(formatPointValue(1e21), "1e+21");
 * assert.equal(formatPointValue(1.5e-7), "1.5e-07");
 * assert.equal(formatPointValue(0.000001), "0.000001");
 * assert.equal(formatPointValue(Infinity), "+Inf");
 * ```
 */
export function formatPointValue(v: number): string {
  const abs = Math.abs(v);
  const exponent = abs !== 0 && abs !== Infinity &&
    (abs < 1e-6 || abs >= 1e21);
  if (!exponent) return formatSampleValue(v);
  // JavaScript switches to the exponent at the same magnitudes; Go writes
  // the exponent with two digits at least.
  return String(v).replace(/e([+-])(\d)$/, "e$10$2");
}

/** A time (ms) as Prometheus's JSON writes it: float seconds. */
export function formatTime(ms: number): number {
  return ms / 1000;
}
