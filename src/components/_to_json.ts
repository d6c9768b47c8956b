/**
 * JSON text with the same error sentence on every runtime, for the
 * components that write JSON (`json/Stringify`, `fs/WriteLines`).
 *
 * @module
 */
import { describeValue } from "../engine/component.ts";
import { _jsonShapeProblem, MAX_JSON_CHARS } from "../engine/_json_shape.ts";

export { MAX_JSON_CHARS };

/**
 * How deep a value may nest, objects and arrays within each other, for
 * `json/Parse` to take its text and the components that write JSON to
 * write it: 1,000. Bun's JSON.stringify slows with the square of the
 * depth (a value nested 100,000 deep took it 9 s), Deno's gives up near
 * 8,000; one bound answers the same on both, at once.
 */
export const MAX_JSON_DEPTH = 1_000;

/**
 * Whether `value` nests more than `max` objects and arrays within each
 * other along some path, as `JSON.stringify` would walk it (bytes, written
 * flat, are not walked; `toJSON` is not called): each object measured once
 * however often it is shared, and a reference back to an object on the
 * path not followed. See `_jsonShapeProblem`, which also bounds the length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _nestedDeeperThan } from "./_to_json.ts";
 *
 * let v: unknown = 1;
 * for (let i = 0; i < 10; i++) v = { a: v };
 * assert.equal(_nestedDeeperThan(v, 10), false);
 * assert.equal(_nestedDeeperThan([v], 10), true);
 * const loop: Record<string, unknown> = {};
 * loop.self = loop;
 * assert.equal(_nestedDeeperThan(loop, 1), false);
 * ```
 */
export function _nestedDeeperThan(value: unknown, max: number): boolean {
  return _jsonShapeProblem(value, max, Infinity) === "deep";
}

/**
 * Why `value` is not written as JSON, found before `JSON.stringify` walks
 * it: nested deeper than {@linkcode MAX_JSON_DEPTH}, or a text longer than
 * `MAX_JSON_CHARS` (64 Mi characters; objects shared in many places count
 * in each); `undefined` when it may be written. `short` gives the first
 * words only (`it is nested too deeply`, `it is too large`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _jsonWriteProblem } from "./_to_json.ts";
 *
 * let shared: unknown = [1];
 * for (let i = 0; i < 30; i++) shared = [shared, shared];
 * assert.equal(
 *   _jsonWriteProblem(shared),
 *   "it is too large, its text more than 67,108,864 characters",
 * );
 * assert.equal(_jsonWriteProblem({ a: [1, 2] }), undefined);
 * ```
 */
export function _jsonWriteProblem(
  value: unknown,
  short?: boolean,
): string | undefined {
  const problem = _jsonShapeProblem(value, MAX_JSON_DEPTH, MAX_JSON_CHARS);
  if (problem === undefined) return undefined;
  if (problem === "deep") {
    return short
      ? TOO_DEEP
      : `${TOO_DEEP}, objects and arrays more than ${MAX_JSON_DEPTH} levels within each other`;
  }
  return short
    ? TOO_LARGE
    : `${TOO_LARGE}, its text more than ${
      MAX_JSON_CHARS.toLocaleString("en-US")
    } characters`;
}

/**
 * The first words of why JSON cannot write a value, the same whether it
 * was looked at first or `JSON.stringify` said so (`core/Output`).
 */
export const TOO_DEEP = "it is nested too deeply";
/** See {@linkcode TOO_DEEP}. */
export const TOO_LARGE = "it is too large";

/**
 * `JSON.stringify(value, null, indent)`, failing with the same sentence on
 * every runtime (their own messages differ) when JSON cannot hold the
 * value: `TypeError("cannot write object as JSON: it holds a bigint at
 * .n")`, or when it nests deeper than {@linkcode MAX_JSON_DEPTH}, which is
 * refused before it is written. Returns `undefined` for a value JSON has no text for (a function,
 * a symbol, `undefined`), as `JSON.stringify` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _toJson } from "./_to_json.ts";
 *
 * assert.equal(_toJson({ a: [1, 2] }), '{"a":[1,2]}');
 * assert.throws(() => _toJson({ n: 1n }), {
 *   name: "TypeError",
 *   message: "cannot write object as JSON: it holds a bigint at .n",
 * });
 * ```
 */
export function _toJson(
  value: unknown,
  indent?: number | string,
): string | undefined {
  const problem = _jsonWriteProblem(value);
  if (problem !== undefined) {
    throw new TypeError(
      `cannot write ${describeValue(value)} as JSON: ${problem}`,
    );
  }
  try {
    return JSON.stringify(value, null, indent);
  } catch (e) {
    throw new TypeError(
      `cannot write ${describeValue(value)} as JSON: ${_jsonProblem(value, e)}`,
      { cause: e },
    );
  }
}

/**
 * Why `JSON.stringify` failed on `value`, found by walking it as
 * `JSON.stringify` does (`toJSON` included): a bigint or a cycle, with
 * where it is; else the message of what was thrown (a `toJSON` that threw).
 */
function _jsonProblem(value: unknown, error: unknown): string {
  const ancestors: unknown[] = [];
  let found: string | undefined;
  const walk = (v: unknown, where: string, key: string) => {
    if (found !== undefined) return;
    if (v !== null && typeof v === "object" || typeof v === "bigint") {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") {
        try {
          v = toJSON.call(v, key);
        } catch {
          return;
        }
      }
    }
    if (typeof v === "bigint") {
      found = where === ""
        ? "JSON has no bigints"
        : `it holds a bigint at ${where}`;
      return;
    }
    if (v === null || typeof v !== "object") return;
    if (ancestors.includes(v)) {
      found = `it refers to itself at ${where}`;
      return;
    }
    ancestors.push(v);
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${where}[${i}]`, String(i)));
    } else {
      for (const k of Object.keys(v)) {
        walk((v as Record<string, unknown>)[k], _member(where, k), k);
      }
    }
    ancestors.pop();
  };
  try {
    walk(value, "", "");
  } catch {
    // A getter that throws: JSON.stringify met the same error.
  }
  return found ?? (error instanceof Error ? error.message : String(error));
}

/** `where.key`, or `where["key"]` for a key that is not an identifier. */
function _member(where: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? `${where}.${key}`
    : `${where}[${JSON.stringify(key)}]`;
}
