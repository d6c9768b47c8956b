/**
 * Setting a field named by data (a CSV header, a query parameter, a
 * request header): `__proto__` included.
 *
 * @module
 */

/**
 * Sets `obj[key] = value` as an own, enumerable field, also when `key` is
 * `__proto__`: a plain assignment to `__proto__` sets the object's
 * prototype where the runtime has that accessor (Bun, Node.js; Deno
 * removes it) and drops a string value without an error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setOwnField } from "./_own_field.ts";
 *
 * const row: Record<string, unknown> = {};
 * setOwnField(row, "__proto__", "1");
 * setOwnField(row, "b", "2");
 * assert.ok(Object.hasOwn(row, "__proto__"));
 * assert.equal(JSON.stringify(row), '{"__proto__":"1","b":"2"}');
 * assert.equal(Object.getPrototypeOf(row), Object.prototype);
 * ```
 */
export function setOwnField(
  obj: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else obj[key] = value;
}
