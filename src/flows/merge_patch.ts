/**
 * RFC 7386 JSON merge patch.
 *
 * @module
 */

/**
 * Applies a JSON merge patch (RFC 7386) to `target` and returns the result;
 * neither argument is changed. Objects merge member by member, a member set
 * to `null` is removed, anything else replaces. A member named `__proto__`
 * stays a plain member.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergePatch } from "./merge_patch.ts";
 *
 * const graph = { processes: { A: { component: "core/Repeat" } }, properties: { name: "a" } };
 * assert.deepEqual(
 *   mergePatch(graph, { processes: { B: { component: "core/Drop" } }, properties: null }),
 *   { processes: { A: { component: "core/Repeat" }, B: { component: "core/Drop" } } },
 * );
 * assert.deepEqual(mergePatch({ a: 1 }, [2]), [2]);
 * ```
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target)
    ? { ...target }
    : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
      continue;
    }
    const merged = mergePatch(
      Object.hasOwn(result, key) ? result[key] : undefined,
      value,
    );
    // defineProperty, so that a member named __proto__ stays a member.
    Object.defineProperty(result, key, {
      value: merged,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

/**
 * Whether `v` is a JSON object (not `null`, not an array): what a merge
 * patch merges into.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPlainObject } from "./merge_patch.ts";
 *
 * assert.deepEqual([isPlainObject({}), isPlainObject([]), isPlainObject(null)], [true, false, false]);
 * ```
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
