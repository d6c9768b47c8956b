/**
 * JSON bodies made once and answered many times: a route that reports the
 * same data again (a flow's info and graph between two changes, the flow
 * list, `{ "status": "ok" }`) keeps the text and byte size of the last
 * value it serialized, and serializes again only when the value differs.
 *
 * Why: `JSON.stringify` and the size were half of the JavaScript time of
 * `GET /flows/:id` on Deno 2.9 (5.4 of 11 µs a request, `deno run
 * --cpu-prof` of `weir serve`, bench/RESULTS.md "Server as shipped vs bare
 * Hono"), for a body that changes only when the flow does. Comparing the
 * new value with the last one costs a fraction of serializing it, since
 * large parts (a flow's graph) are the very same objects from one request
 * to the next.
 *
 * @module
 */

const _encoder = new TextEncoder();
// deno-lint-ignore no-control-regex
const _NON_ASCII = /[^\x00-\x7f]/;

/** A serialized JSON body: its text and its size in bytes (UTF-8). */
export interface _JsonBody {
  readonly text: string;
  readonly size: number;
  /** Whether it is kept to be answered again (a memo's, a constant). */
  readonly kept: boolean;
  /**
   * The text as a `Blob` typed JSON, for a kept body on a runtime that
   * serves a Blob cheaper than a text with a `Content-Type` header (Bun);
   * made by `_response.ts` when first answered.
   */
  blob?: Blob;
}

/**
 * `value` serialized, with its size in bytes; `kept` when it will be
 * answered again (see {@linkcode _JsonBody.kept}).
 */
export function _jsonBody(value: unknown, kept?: boolean): _JsonBody {
  const text = JSON.stringify(value);
  return {
    text,
    size: _NON_ASCII.test(text)
      ? _encoder.encode(text).byteLength
      : text.length,
    kept: kept === true,
  };
}

/**
 * The JSON body of the last value given, kept while the next value is the
 * same data ({@linkcode _sameData}). A value given must not be changed in
 * place afterwards (the server's values are made per request, or are
 * replaced, never edited: a flow's graph is a new object at each change).
 */
export class _JsonMemo {
  #value: unknown = undefined;
  #body: _JsonBody | undefined = undefined;

  /** The body of `value`: the last one when `value` is the same data. */
  body(value: unknown): _JsonBody {
    return this.bodyOf(value, _itself);
  }

  /**
   * The body of `make(key)`, made again only when `key` is not the same
   * data as the last key: for a value that is dear to assemble (copies of
   * objects) and whose changes `key` tells apart.
   */
  bodyOf<K>(key: K, make: (key: K) => unknown): _JsonBody {
    const last = this.#body;
    if (last !== undefined && _sameData(key, this.#value)) return last;
    const body = _jsonBody(make(key), true);
    this.#value = key;
    this.#body = body;
    return body;
  }
}

/**
 * Whether `a` and `b` serialize alike because they hold the same data:
 * the same object (not changed in place since, see {@linkcode _JsonMemo}),
 * equal primitives, or plain objects and arrays whose members are the same
 * data, key for key in the same order (the order `JSON.stringify` writes).
 * Anything else (a class instance such as a `Date`, a `NaN`) counts as
 * different: the caller then serializes, which is never wrong.
 */
export function _sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (
    typeof a !== "object" || typeof b !== "object" || a === null ||
    b === null
  ) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!_sameData(a[i], b[i])) return false;
    }
    return true;
  }
  if (Array.isArray(b) || !_plain(a) || !_plain(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  // One key array, and for-in over the other (no prototype keys: plain
  // objects): about half the time of two Object.keys() on Deno.
  const keysY = Object.keys(y);
  let i = 0;
  for (const k in x) {
    if (k !== keysY[i++] || !_sameData(x[k], y[k])) return false;
  }
  return i === keysY.length;
}

function _itself<T>(value: T): T {
  return value;
}

function _plain(o: object): boolean {
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
}
