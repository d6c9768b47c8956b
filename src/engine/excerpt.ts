/**
 * A short excerpt of a text for an error message or a log line, so that
 * neither ever quotes a whole payload (a file's contents, a message).
 *
 * @module
 */

/** The longest excerpt {@linkcode excerpt} keeps by default (characters). */
export const EXCERPT_LENGTH = 200;

/**
 * `text` when it has at most `max` characters, else its first `max`
 * characters, `...` and its length: `"root:x:0:0... (1,024 characters)"`.
 * A surrogate pair is never cut in two.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { excerpt } from "./excerpt.ts";
 *
 * assert.equal(excerpt("short"), "short");
 * assert.equal(excerpt("x".repeat(5000), 10), "xxxxxxxxxx... (5,000 characters)");
 * ```
 */
export function excerpt(text: string, max: number = EXCERPT_LENGTH): string {
  if (text.length <= max) return text;
  let end = max;
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${text.slice(0, end)}... (${
    text.length.toLocaleString("en-US")
  } characters)`;
}

/**
 * A name as a message quotes it: in double quotes, escaped as JSON, and cut
 * to an {@linkcode excerpt} (a name someone sent may be a megabyte long).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quote } from "./excerpt.ts";
 *
 * assert.equal(quote("Tick"), '"Tick"');
 * assert.equal(quote('say "hi"'), '"say \\"hi\\""');
 * assert.equal(quote("x".repeat(900_000), 3), '"xxx... (900,000 characters)"');
 * ```
 */
export function quote(name: string, max: number = EXCERPT_LENGTH): string {
  return JSON.stringify(excerpt(name, max));
}

/**
 * A thrown value as the text of an error message: an `Error`'s message, a
 * string as it is, anything else (a component may `throw { code: 7 }`) as
 * JSON where it can be, an {@linkcode excerpt} of it. It never throws: a
 * value that cannot even be read (a revoked proxy, an object whose
 * message, JSON and text all throw) is {@linkcode UNREADABLE_VALUE}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { thrownText } from "./excerpt.ts";
 *
 * assert.equal(thrownText(new TypeError("bad input")), "bad input");
 * assert.equal(thrownText("no device"), "no device");
 * assert.equal(thrownText({ code: 7, why: "odd" }), '{"code":7,"why":"odd"}');
 * assert.equal(thrownText(undefined), "undefined");
 * assert.equal(thrownText(Object.assign(new Error(), { message: 42 })), "42");
 * const { proxy, revoke } = Proxy.revocable({}, {});
 * revoke();
 * assert.equal(thrownText(proxy), "an unreadable value (its class, JSON and text all throw)");
 * ```
 */
export function thrownText(value: unknown): string {
  try {
    if (value instanceof Error) {
      // A message is a string by contract only: a thrower may set a
      // number, a symbol or an object whose text throws.
      const message: unknown = value.message;
      return typeof message === "string" ? message : String(message);
    }
    if (typeof value === "object" && value !== null) {
      try {
        const json = JSON.stringify(value);
        if (json !== undefined) return excerpt(json);
      } catch {
        // Cyclic, or a BigInt inside: String() below.
      }
    }
    return String(value);
  } catch {
    return UNREADABLE_VALUE;
  }
}

/** What {@linkcode thrownText} says of a value that cannot be read at all. */
export const UNREADABLE_VALUE =
  "an unreadable value (its class, JSON and text all throw)";

/**
 * A thrown value as its thrower wrote it, for a line that says "it threw
 * ...": a string quoted (an {@linkcode excerpt} of it), anything else as
 * {@linkcode thrownText} gives it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { thrownValue } from "./excerpt.ts";
 *
 * assert.equal(thrownValue("no device"), '"no device"');
 * assert.equal(thrownValue({ code: 42 }), '{"code":42}');
 * assert.equal(thrownValue(7), "7");
 * ```
 */
export function thrownValue(value: unknown): string {
  return typeof value === "string"
    ? excerpt(JSON.stringify(value))
    : thrownText(value);
}
