/**
 * JSONata results as plain data.
 *
 * @module
 */

/** Flags JSONata sets on the arrays it builds. */
const _ARRAY_FLAGS = [
  "sequence",
  "keepSingleton",
  "outerWrapper",
  "tupleStream",
  "cons",
];

/**
 * A JSONata result as plain data: JSONata builds objects without a
 * prototype and flags its arrays (`sequence: true`), which shows when they
 * are logged or compared. Those are copied; anything else (parts of the
 * input) is kept by reference, and nothing is copied when nothing needs it.
 * Nesting deeper than 100 levels is kept as it is. An object shared in
 * many places is looked at once (past the first 4,096 objects), and its
 * copy shared in the same places.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileExpression } from "./compile_expression.ts";
 * import { toPlain } from "./to_plain.ts";
 *
 * const input = { items: [{ p: 1 }, { p: 2 }] };
 * const built = await compileExpression("items.{ 'q': p }").evaluate(input);
 * assert.equal(Object.getPrototypeOf(toPlain(built)), Array.prototype);
 * assert.deepEqual(toPlain(built), [{ q: 1 }, { q: 2 }]);
 * assert.equal(toPlain(input), input);
 * ```
 */
export function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  _visits = 0;
  _done = undefined;
  const plain = _plain(value, 0);
  _done = undefined;
  return plain;
}

/**
 * Objects a result may hold before each is looked at once only: past
 * this many, every object looked at keeps its answer in `_done`, so that
 * a result of a few objects shared in many places (`$a := [[$a], [$a]]`
 * thirty times: 61 arrays, a billion paths) costs its objects, not its
 * paths. Below it, nothing is allocated for the common small result.
 */
const _QUICK_VISITS = 4_096;
let _visits = 0;
/** The answers of the objects looked at past `_QUICK_VISITS`. */
let _done: Map<object, unknown> | undefined;

function _plain(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object" || depth > 100) return value;
  if (++_visits > _QUICK_VISITS) {
    _done ??= new Map();
    if (_done.has(value)) return _done.get(value);
    const result = _copied(value, depth);
    _done.set(value, result);
    return result;
  }
  return _copied(value, depth);
}

function _copied(value: object, depth: number): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined = _ARRAY_FLAGS.some((f) =>
        Object.hasOwn(value, f)
      )
      ? []
      : undefined;
    for (let i = 0; i < value.length; i++) {
      const item = _plain(value[i], depth + 1);
      if (copy === undefined && item !== value[i]) copy = value.slice(0, i);
      copy?.push(item);
    }
    return copy ?? value;
  }
  if (Object.getPrototypeOf(value) !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    copy[key] = _plain((value as Record<string, unknown>)[key], depth + 1);
  }
  return copy;
}
