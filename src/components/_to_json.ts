/**
 * JSON text with the same error sentence on every runtime, for the
 * components that write JSON (`json/Stringify`, `fs/WriteLines`).
 *
 * @module
 */
import { describeValue } from "../engine/component.ts";

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
 * flat, are not walked; `toJSON` is not called): one pass, no recursion,
 * each object measured once however often it is shared, and a reference
 * back to an object on the path not followed.
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
  if (!_walked(value)) return false;
  if (max < 1) return true;
  // A message is small and shallow: a recursive look at up to
  // _QUICK_NODES objects settles it without the walk's map, set and stack
  // (which tripled what a small message costs to write).
  if (max >= _QUICK_DEPTH) {
    _quickLeft = _QUICK_NODES;
    if (_within(value as object, _QUICK_DEPTH)) return false;
  }
  // Heights (levels from an object down) of the objects measured.
  const height = new Map<object, number>();
  const open = new Set<object>([value as object]);
  const stack: { obj: object; items: unknown[]; i: number; h: number }[] = [
    { obj: value as object, items: _items(value as object), i: 0, h: 0 },
  ];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.i < top.items.length) {
      const item = top.items[top.i++];
      if (!_walked(item) || open.has(item as object)) continue;
      const h = height.get(item as object);
      if (h !== undefined) {
        if (stack.length + h > max) return true;
        if (h > top.h) top.h = h;
        continue;
      }
      if (stack.length + 1 > max) return true;
      open.add(item as object);
      stack.push({
        obj: item as object,
        items: _items(item as object),
        i: 0,
        h: 0,
      });
      continue;
    }
    stack.pop();
    open.delete(top.obj);
    height.set(top.obj, top.h + 1);
    const parent = stack[stack.length - 1];
    if (parent !== undefined && top.h + 1 > parent.h) parent.h = top.h + 1;
  }
  return false;
}

/** The levels and objects the quick look of `_nestedDeeperThan` takes. */
const _QUICK_DEPTH = 64;
const _QUICK_NODES = 4_096;
/** Objects the quick look may still enter. */
let _quickLeft = 0;

/**
 * Whether `v` nests at most `levels` levels (itself the first), found
 * within the objects `_quickLeft` allows; false when it may nest deeper
 * (a reference back to the path, too) or the allowance ran out: then the
 * walk decides.
 */
function _within(v: object, levels: number): boolean {
  if (levels === 0 || --_quickLeft < 0) return false;
  for (const item of _items(v)) {
    if (_walked(item) && !_within(item as object, levels - 1)) return false;
  }
  return true;
}

/** An object `_nestedDeeperThan` walks into: not bytes, which JSON writes flat. */
function _walked(v: unknown): boolean {
  return v !== null && typeof v === "object" && !ArrayBuffer.isView(v) &&
    !(v instanceof ArrayBuffer);
}

function _items(v: object): unknown[] {
  return Array.isArray(v) ? v : Object.values(v);
}

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
  if (_nestedDeeperThan(value, MAX_JSON_DEPTH)) {
    throw new TypeError(
      `cannot write ${
        describeValue(value)
      } as JSON: it is nested too deeply, objects and arrays more than ${MAX_JSON_DEPTH} levels within each other`,
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
