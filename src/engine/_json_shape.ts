/**
 * A look at a value before `JSON.stringify` writes it: how deep it nests
 * and how long its text would at least be, counting a shared object once
 * for every place it is written.
 *
 * @module
 */

/**
 * The longest JSON text weir writes for one value, in UTF-16 units: 64 Mi,
 * as `text/Template`'s bound. A value whose text would be longer is
 * refused before it is written: an expression can build, in a few steps, a
 * value of a few dozen objects that share each other (`$a := [[$a], [$a]]`
 * thirty times) whose text is billions of characters, which
 * `JSON.stringify` would take a minute and gigabytes over.
 */
export const MAX_JSON_CHARS = 67_108_864;

/**
 * What keeps `value` from being written as JSON within `maxDepth` levels
 * and `maxChars` characters: `"deep"` when objects and arrays nest more
 * than `maxDepth` within each other along some path, `"long"` when its
 * text would be longer than `maxChars`, `undefined` when neither (JSON may
 * still fail on it: a bigint, a cycle). Bytes are written flat (not
 * walked), `toJSON` is not called, a reference back to an object on the
 * path (a cycle) is not followed. The length is a lower bound (a string's
 * characters and quotes, a key, a bracket, a comma and one character for
 * any other value), so a value is never refused for a length it would
 * not reach.
 *
 * One recursive look at up to 4,096 objects settles a small message;
 * beyond that one pass without recursion measures each object once,
 * however often it is shared: linear in the objects, not in the text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _jsonShapeProblem } from "./_json_shape.ts";
 *
 * let v: unknown = 1;
 * for (let i = 0; i < 10; i++) v = { a: v };
 * assert.equal(_jsonShapeProblem(v, 10, 1000), undefined);
 * assert.equal(_jsonShapeProblem([v], 10, 1000), "deep");
 * let shared: unknown = ["x"];
 * for (let i = 0; i < 40; i++) shared = [shared, shared];
 * assert.equal(_jsonShapeProblem(shared, 100, 1_000_000), "long");
 * ```
 */
export function _jsonShapeProblem(
  value: unknown,
  maxDepth: number,
  maxChars: number,
): "deep" | "long" | undefined {
  if (typeof value === "string") {
    return value.length + 2 > maxChars ? "long" : undefined;
  }
  if (!_walked(value)) return undefined;
  if (maxDepth < 1) return "deep";
  // A message is small and shallow: a recursive look at up to
  // _QUICK_NODES objects settles it without the walk's maps, set and
  // stack (which tripled what a small message costs to write).
  if (maxDepth >= _QUICK_DEPTH) {
    _quickLeft = _QUICK_NODES;
    const chars = _quick(value as object, _QUICK_DEPTH);
    if (chars >= 0) return chars > maxChars ? "long" : undefined;
  }
  // Heights (levels from an object down) and text lengths of the objects
  // measured.
  const height = new Map<object, number>();
  const length = new Map<object, number>();
  const open = new Set<object>([value as object]);
  const stack: _Open[] = [_open(value as object)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.i < top.items.length) {
      const at = top.i++;
      const item = top.items[at];
      if (top.keys !== undefined) {
        if (_omitted(item)) continue;
        top.chars += top.keys[at].length + 3;
      }
      if (!_walked(item)) {
        top.chars += _flatLength(item);
        continue;
      }
      if (open.has(item as object)) continue;
      const h = height.get(item as object);
      if (h !== undefined) {
        if (stack.length + h > maxDepth) return "deep";
        if (h > top.h) top.h = h;
        top.chars += length.get(item as object)!;
        if (top.chars > maxChars) return "long";
        continue;
      }
      if (stack.length + 1 > maxDepth) return "deep";
      open.add(item as object);
      stack.push(_open(item as object));
      continue;
    }
    stack.pop();
    open.delete(top.obj);
    height.set(top.obj, top.h + 1);
    length.set(top.obj, top.chars);
    if (top.chars > maxChars) return "long";
    const parent = stack[stack.length - 1];
    if (parent !== undefined) {
      if (top.h + 1 > parent.h) parent.h = top.h + 1;
      parent.chars += top.chars;
    }
  }
  return undefined;
}

/** An object on the walk's path: its items, the next one, what it adds up to. */
interface _Open {
  obj: object;
  items: unknown[];
  /** An object's keys (an array's items have none). */
  keys: string[] | undefined;
  i: number;
  h: number;
  chars: number;
}

function _open(obj: object): _Open {
  const keys = Array.isArray(obj) ? undefined : Object.keys(obj);
  const items = keys === undefined
    ? obj as unknown[]
    : keys.map((k) => (obj as Record<string, unknown>)[k]);
  // The brackets and the commas.
  return { obj, items, keys, i: 0, h: 0, chars: 1 + Math.max(items.length, 1) };
}

/** The levels and objects the quick look takes. */
const _QUICK_DEPTH = 64;
const _QUICK_NODES = 4_096;
/** Objects the quick look may still enter. */
let _quickLeft = 0;

/**
 * The text length of `v` (lower bound, as above) when it nests at most
 * `levels` levels (itself the first), found within the objects
 * `_quickLeft` allows; -1 when it may nest deeper (a reference back to the
 * path, too) or the allowance ran out: then the walk decides.
 */
function _quick(v: object, levels: number): number {
  if (levels === 0 || --_quickLeft < 0) return -1;
  let chars: number;
  if (Array.isArray(v)) {
    chars = 1 + Math.max(v.length, 1);
    for (let i = 0; i < v.length; i++) {
      const n = _quickItem(v[i], levels);
      if (n < 0) return -1;
      chars += n;
    }
    return chars;
  }
  const keys = Object.keys(v);
  chars = 1 + Math.max(keys.length, 1);
  for (let i = 0; i < keys.length; i++) {
    const item = (v as Record<string, unknown>)[keys[i]];
    if (_omitted(item)) continue;
    const n = _quickItem(item, levels);
    if (n < 0) return -1;
    chars += keys[i].length + 3 + n;
  }
  return chars;
}

/** `_quick` of an item of an object `levels` deep, or its flat length. */
function _quickItem(item: unknown, levels: number): number {
  return _walked(item) ? _quick(item as object, levels - 1) : _flatLength(item);
}

/** A member JSON leaves out of an object (an array writes it as null). */
function _omitted(v: unknown): boolean {
  return v === undefined || typeof v === "function" || typeof v === "symbol";
}

/** The least text JSON writes for a value not walked into. */
function _flatLength(v: unknown): number {
  if (typeof v === "string") return v.length + 2;
  if (v !== null && typeof v === "object") {
    // Bytes: at least a digit and a comma each, however written.
    return 2 * (v as ArrayBufferView | ArrayBuffer).byteLength;
  }
  return 1;
}

/** An object the look walks into: not bytes, which JSON writes flat. */
function _walked(v: unknown): boolean {
  return v !== null && typeof v === "object" && !ArrayBuffer.isView(v) &&
    !(v instanceof ArrayBuffer);
}
