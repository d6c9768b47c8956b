/**
 * JSON bodies made once and answered many times: a route that reports the
 * same data again (a flow's info and graph between two changes, the flow
 * list, `{ "status": "ok" }`) keeps the text and byte size of a body it
 * serialized, under a key that tells when the data changed (for the flows,
 * `FlowManager.infoKey()` and `listKey()`).
 *
 * Why: `JSON.stringify` and the size were half of the JavaScript time of
 * `GET /flows/:id` on Deno 2.9 (5.4 of 11 µs a request, `deno run
 * --cpu-prof` of `weir serve`, bench/RESULTS.md "Server as shipped vs bare
 * Hono"), for a body that changes only when the flow does.
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
