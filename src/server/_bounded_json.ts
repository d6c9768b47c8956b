/**
 * A value's JSON text cut at a length, made without writing the rest: a
 * tap samples messages on their sender's path, and a message of megabytes
 * must cost there what its first kilobytes cost.
 *
 * @module
 */

/** What {@linkcode _boundedJson} made. */
export interface _BoundedJson {
  /** JSON text (whole), or its first `max` characters (cut). */
  text: string;
  /** Whether `text` is the whole value. */
  complete: boolean;
}

/**
 * The JSON text of `value` as `JSON.stringify` writes it (`toJSON` called,
 * `undefined` and functions left out of objects, `null` in arrays), when it
 * has at most `max` characters; else its first `max` characters, with
 * `complete` false. What JSON cannot hold is written as a string saying
 * what it was: a bigint as its digits, bytes as `"<N bytes>"`, a cycle as
 * `"[Circular]"`, a `Map` or `Set` as an object or array of its entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _boundedJson } from "./_bounded_json.ts";
 *
 * assert.deepEqual(_boundedJson({ a: [1, "x", undefined], b: undefined }, 100), { text: '{"a":[1,"x",null]}', complete: true });
 * assert.deepEqual(_boundedJson({ big: "y".repeat(1e6) }, 10), { text: '{"big":"yy', complete: false });
 * assert.deepEqual(_boundedJson(new Uint8Array(3), 100), { text: '"<3 bytes>"', complete: true });
 * ```
 */
export function _boundedJson(value: unknown, max: number): _BoundedJson {
  const parts: string[] = [];
  let length = 0;
  const seen = new Set<object>();
  /** Adds `s`; false once the budget is spent (the text is then cut). */
  const put = (s: string): boolean => {
    if (length + s.length > max) {
      parts.push(s.slice(0, max - length));
      length = max;
      return false;
    }
    parts.push(s);
    length += s.length;
    return true;
  };
  const write = (v: unknown): boolean => {
    if (v !== null && typeof v === "object" || typeof v === "bigint") {
      const toJson = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJson === "function") v = toJson.call(v);
    }
    switch (typeof v) {
      case "string":
        // A long string is quoted by its first part only.
        return put(
          v.length > max - length
            ? JSON.stringify(v.slice(0, max - length + 1))
            : JSON.stringify(v),
        );
      case "number":
        return put(Number.isFinite(v) ? String(v) : "null");
      case "boolean":
        return put(v ? "true" : "false");
      case "bigint":
        return put(JSON.stringify(String(v)));
      case "undefined":
      case "function":
      case "symbol":
        // Left out of an object by the caller; null in an array or alone.
        return put("null");
    }
    if (v === null) return put("null");
    const o = v as object;
    if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer) {
      return put(`"<${(o as ArrayBuffer).byteLength} bytes>"`);
    }
    if (seen.has(o)) return put('"[Circular]"');
    seen.add(o);
    let ok: boolean;
    if (Array.isArray(o) || o instanceof Set) {
      ok = put("[");
      let first = true;
      for (const item of o as Iterable<unknown>) {
        if (!ok) break;
        if (!first) ok = put(",");
        first = false;
        if (ok) ok = write(item);
      }
      if (ok) ok = put("]");
    } else {
      const entries: Iterable<[unknown, unknown]> = o instanceof Map
        ? o.entries()
        : o instanceof Error
        ? [["name", o.name], ["message", o.message]]
        : Object.entries(o);
      ok = put("{");
      let first = true;
      for (const [k, item] of entries) {
        if (!ok) break;
        if (
          item === undefined || typeof item === "function" ||
          typeof item === "symbol"
        ) continue;
        if (!first) ok = put(",");
        first = false;
        if (ok) ok = put(`${JSON.stringify(String(k))}:`);
        if (ok) ok = write(item);
      }
      if (ok) ok = put("}");
    }
    seen.delete(o);
    return ok;
  };
  const complete = write(value);
  return { text: parts.join(""), complete };
}
