/**
 * A cheap look at how deep a JSON text nests, before anything parses it.
 *
 * @module
 */

/**
 * The offset of the first `{` or `[` that opens a level deeper than `max`
 * in a JSON text, or -1 when it nests `max` levels or fewer. One pass over
 * the characters, nothing allocated: a body nested 100,000 deep is refused
 * in well under a millisecond per 100 KB, where parsing it could take
 * hundreds of MB of stack and heap (issue 18). Brackets inside strings do
 * not count; the text need not be valid JSON (the parser says why later).
 */
export function _jsonTooDeepAt(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // a backslash: the next character is escaped
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return i;
    } else if (c === 125 || c === 93) depth--;
  }
  return -1;
}

/** The 1-based line and column of `offset` in `text`. */
export function _lineCol(
  text: string,
  offset: number,
): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (
    let i = text.indexOf("\n");
    i >= 0 && i < offset;
    i = text.indexOf("\n", i + 1)
  ) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

/**
 * Why `text` may not be parsed for its depth: `nested too deeply: objects
 * and arrays more than <max> levels within each other (line L, col C)`,
 * where the level too many opens; `undefined` when it nests at most `max`
 * levels. What each reader says before it is its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _jsonDepthProblem } from "./_json_depth.ts";
 *
 * assert.equal(_jsonDepthProblem('{"a":[1]}', 2), undefined);
 * assert.equal(
 *   _jsonDepthProblem('{"a":\n[[1]]}', 2),
 *   "nested too deeply: objects and arrays more than 2 levels within each other (line 2, col 2)",
 * );
 * ```
 */
export function _jsonDepthProblem(
  text: string,
  max: number,
): string | undefined {
  // A text no longer than the limit cannot open more levels than that.
  if (text.length <= max) return undefined;
  const at = _jsonTooDeepAt(text, max);
  if (at < 0) return undefined;
  const { line, col } = _lineCol(text, at);
  return `nested too deeply: objects and arrays more than ${max} levels within each other (line ${line}, col ${col})`;
}
