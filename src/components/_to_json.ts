/**
 * JSON text with the same error sentence on every runtime, for the
 * components that write JSON (`json/Stringify`, `fs/WriteLines`).
 *
 * @module
 */
import { describeValue } from "../engine/component.ts";

/**
 * `JSON.stringify(value, null, indent)`, failing with the same sentence on
 * every runtime (their own messages differ) when JSON cannot hold the
 * value: `TypeError("cannot write object as JSON: it holds a bigint at
 * .n")`. Returns `undefined` for a value JSON has no text for (a function,
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
