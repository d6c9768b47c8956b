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
