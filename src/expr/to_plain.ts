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
 * Nesting deeper than 100 levels is kept as it is.
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
  return _plain(value, 0);
}

function _plain(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object" || depth > 100) return value;
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
