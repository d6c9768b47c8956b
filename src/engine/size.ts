/**
 * Rough memory estimates of buffered values: the bytes each connection
 * holds (its `bytes`, kept as values come and go), the flow's bytes budget
 * and the `buffered_bytes` metrics.
 *
 * @module
 */

const MAX_NODES = 256;

/**
 * Estimates the bytes a value holds: 8 per number, 2 per string character
 * plus a header, the byte length of binary data, and the sum over the
 * entries of arrays and plain objects. At most 256 nodes are visited, so
 * that a huge value is quick to measure: the entries of an array left
 * unvisited are counted as the average of those visited.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateBytes } from "./size.ts";
 *
 * assert.deepEqual(estimateBytes("abcd"), 24);
 * assert.deepEqual(estimateBytes([1, 2]), 16 + 2 * (8 + 8));
 * ```
 */
export function estimateBytes(value: unknown): number {
  switch (typeof value) {
    case "number":
      return 8;
    case "string":
      return 16 + 2 * value.length;
  }
  const budget = { nodes: MAX_NODES };
  return _size(value, budget);
}

function _size(value: unknown, budget: { nodes: number }): number {
  if (--budget.nodes < 0) return 0;
  switch (typeof value) {
    case "number":
      return 8;
    case "boolean":
      return 4;
    case "bigint":
      return 16;
    case "string":
      return 16 + 2 * value.length;
    case "undefined":
    case "symbol":
    case "function":
      return 0;
  }
  if (value === null) return 0;
  if (ArrayBuffer.isView(value)) return 32 + value.byteLength;
  if (value instanceof ArrayBuffer) return 32 + value.byteLength;
  let total = 16;
  if (Array.isArray(value)) {
    const n = value.length;
    for (let i = 0; i < n; i++) {
      const entry = 8 + _size(value[i], budget);
      if (budget.nodes < 0) {
        // This one was cut short: it and the rest count as the average of
        // the ones visited whole.
        return i === 0 ? total + entry * n : total + (total - 16) / i * (n - i);
      }
      total += entry;
    }
    return total;
  }
  for (const k in value as Record<string, unknown>) {
    total += 16 + 2 * k.length +
      _size((value as Record<string, unknown>)[k], budget);
    if (budget.nodes < 0) break;
  }
  return total;
}

/**
 * The UTF-8 byte length of `s`, without encoding it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8Length } from "./size.ts";
 *
 * assert.equal(utf8Length("a\u00e9\u20ac\u{1F600}"), 1 + 2 + 3 + 4);
 * ```
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) n += 1;
    else if (code < 0x800) n += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < s.length) {
      // A surrogate pair is one 4-byte character.
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
