/**
 * Bodies and headers as the HTTP components carry them in messages: a body
 * read by its content type (JSON, text, form, or bytes) and a value turned
 * back into a body with its content type. Shared by `http/In`,
 * `http/Response` and `http/Request`.
 *
 * @module
 */
import { _jsonDepthProblem } from "../engine/_json_depth.ts";
import { setOwnField } from "./_own_field.ts";
import { _jsonWriteProblem } from "./_to_json.ts";
import { eachRequestHeader } from "../runtime/request_header.ts";

/** The methods the HTTP components accept, in documentation order. */
export const HTTP_COMPONENT_METHODS: readonly string[] = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
];

/** A JSON media type (`application/json`, `application/x+json`). */
/**
 * How deep a JSON body of `http/In` (and of an `http/Request` answer) may
 * nest, objects and arrays within each other: deeper is refused before it
 * is parsed (parsing and then copying such a value can stall the server
 * for seconds; issue 18).
 */
export const MAX_JSON_BODY_DEPTH = 64;

/**
 * `text` parsed as JSON, refused with a `SyntaxError` saying where when
 * it nests deeper than {@linkcode MAX_JSON_BODY_DEPTH}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonBody } from "./http_body.ts";
 *
 * assert.deepEqual(parseJsonBody('{"a":[1]}'), { a: [1] });
 * assert.throws(() => parseJsonBody("[".repeat(65)), /nested too deeply: .* \(line 1, col 65\)/);
 * ```
 */
export function parseJsonBody(text: string): unknown {
  const deep = _jsonDepthProblem(text, MAX_JSON_BODY_DEPTH);
  if (deep !== undefined) throw new SyntaxError(`the body is ${deep}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(
      `the body is not valid JSON: ${(e as Error).message}`,
    );
  }
}

export const _JSON_TYPE: RegExp = /^application\/(?:[\w.+-]*\+)?json$/;
const _TEXT_TYPE =
  /^(?:text\/[\w.+-]+|application\/(?:[\w.+-]*\+)?xml|application\/(?:javascript|ecmascript|x-ndjson|yaml|x-yaml|graphql|sql))$/;
const _FORM_TYPE = "application/x-www-form-urlencoded";

/**
 * Parses a method setting: one name, a list, or names separated by commas
 * in one string (`"GET, POST"`, as `.fbp` text gives a list), upper-cased, each one of
 * {@linkcode HTTP_COMPONENT_METHODS}. Throws a `RangeError` naming an
 * unknown method, a `TypeError` for a value that is not a string or a list
 * of strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMethods } from "./http_body.ts";
 *
 * assert.deepEqual(parseMethods("post"), ["POST"]);
 * assert.deepEqual(parseMethods(["GET", "put"]), ["GET", "PUT"]);
 * assert.deepEqual(parseMethods("GET, POST"), ["GET", "POST"]);
 * assert.throws(() => parseMethods("FETCH"), /unknown HTTP method "FETCH"/);
 * ```
 */
export function parseMethods(value: unknown): string[] {
  // A list in .fbp text is one string: "GET, POST".
  const list = Array.isArray(value)
    ? value
    : typeof value === "string" && /[,\s]/.test(value.trim())
    ? value.split(/[\s,]+/).filter((m) => m !== "")
    : [value];
  if (list.length === 0) {
    throw new RangeError("expected at least one HTTP method, received []");
  }
  return list.map((m) => parseMethod(m));
}

/**
 * Parses one HTTP method name (case-insensitive): one of
 * {@linkcode HTTP_COMPONENT_METHODS}, upper-cased.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMethod } from "./http_body.ts";
 *
 * assert.equal(parseMethod("delete"), "DELETE");
 * assert.throws(() => parseMethod(3), /expected an HTTP method name/);
 * ```
 */
export function parseMethod(value: unknown): string {
  if (typeof value !== "string") {
    throw new TypeError(
      `expected an HTTP method name such as "GET" or "POST", received ${
        value === null ? "null" : typeof value
      }`,
    );
  }
  const m = value.toUpperCase();
  if (!HTTP_COMPONENT_METHODS.includes(m)) {
    throw new RangeError(
      `unknown HTTP method ${JSON.stringify(value.slice(0, 40))}; use one of ${
        HTTP_COMPONENT_METHODS.join(", ")
      }`,
    );
  }
  return m;
}

/**
 * The media type of a `Content-Type` header value, lower-cased and without
 * parameters (`application/json; charset=utf-8` -> `application/json`);
 * `""` when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mediaType } from "./http_body.ts";
 *
 * assert.equal(mediaType("Application/JSON; charset=utf-8"), "application/json");
 * assert.equal(mediaType(null), "");
 * ```
 */
export function mediaType(contentType: string | null | undefined): string {
  if (!contentType) return "";
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim()
    .toLowerCase();
}

/**
 * A body read by its content type: JSON (`application/json`, `+json`)
 * parsed, text (`text/*`, XML, and a few other textual types) as a string,
 * a form (`application/x-www-form-urlencoded`) as an object (a name given
 * twice becomes a list), anything else as bytes (`Uint8Array`); an empty
 * body is `null`. Throws a `SyntaxError` when JSON does not parse or text
 * is not UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBody } from "./http_body.ts";
 *
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * assert.deepEqual(parseBody(bytes('{"a":1}'), "application/json"), { a: 1 });
 * assert.equal(parseBody(bytes("hi"), "text/plain; charset=utf-8"), "hi");
 * assert.deepEqual(parseBody(bytes("a=1&b=2&b=3"), "application/x-www-form-urlencoded"), { a: "1", b: ["2", "3"] });
 * assert.deepEqual(parseBody(bytes("\u0001"), "application/octet-stream"), new Uint8Array([1]));
 * assert.equal(parseBody(new Uint8Array(0), "application/json"), null);
 * ```
 */
export function parseBody(
  bytes: Uint8Array,
  contentType: string | null | undefined,
): unknown {
  if (bytes.byteLength === 0) return null;
  const type = mediaType(contentType);
  if (_JSON_TYPE.test(type)) {
    return parseJsonBody(_utf8(bytes));
  }
  if (type === _FORM_TYPE) return searchParamsObject(_utf8(bytes));
  if (_TEXT_TYPE.test(type)) return _utf8(bytes);
  return bytes;
}

const _decoder = new TextDecoder("utf-8", { fatal: true });

function _utf8(bytes: Uint8Array): string {
  try {
    return _decoder.decode(bytes);
  } catch {
    throw new SyntaxError("the body is not valid UTF-8 text");
  }
}

/**
 * A query string or form body as an object: each name to its value, or to
 * the list of its values when it is given more than once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { searchParamsObject } from "./http_body.ts";
 *
 * assert.deepEqual(searchParamsObject("from=1&tag=a&tag=b"), { from: "1", tag: ["a", "b"] });
 * assert.deepEqual(searchParamsObject(""), {});
 * ```
 */
export function searchParamsObject(
  text: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (text === "") return out;
  for (const [k, v] of new URLSearchParams(text)) {
    const had = out[k];
    if (had === undefined || !Object.hasOwn(out, k)) setOwnField(out, k, v);
    else if (Array.isArray(had)) had.push(v);
    else out[k] = [had, v];
  }
  return out;
}

/**
 * Headers as a plain object (names lower-cased, as `Headers` gives them;
 * repeated headers joined with `, ` as `Headers` does, `set-cookie` kept
 * one per line: a cookie's `Expires` holds a comma, so `, ` could not
 * tell two apart).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headersObject } from "./http_body.ts";
 *
 * assert.deepEqual(headersObject(new Headers({ "X-A": "1" })), { "x-a": "1" });
 * const h = new Headers([["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]);
 * assert.deepEqual(headersObject(h), { "set-cookie": "a=1\nb=2" });
 * ```
 */
export function headersObject(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  // Headers gives each set-cookie apart (the others joined already): the
  // last one overwrote the others.
  headers.forEach((v, k) =>
    setOwnField(
      out,
      k,
      k === "set-cookie" && Object.hasOwn(out, k) ? `${out[k]}\n${v}` : v,
    )
  );
  return out;
}

/**
 * A request's headers as a plain object, names in lower case, a repeated
 * header once with its values joined by `, ` (as `Headers.get` answers,
 * `set-cookie` too), leaving out the names in `omit`; read without making
 * Deno copy them all (`eachRequestHeader`). In the order they came on
 * Deno, in `Headers`' order (sorted) elsewhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestHeaderRecord } from "./http_body.ts";
 *
 * const request = new Request("http://localhost/", {
 *   headers: [["X-B", "1"], ["Authorization", "Bearer t"], ["x-b", "2"]],
 * });
 * const headers = requestHeaderRecord(request, new Set(["authorization"]));
 * assert.deepEqual(headers, { "x-b": "1, 2" });
 * ```
 */
export function requestHeaderRecord(
  request: Request,
  omit?: ReadonlySet<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  eachRequestHeader(
    request,
    (name, value) => _addHeader(out, name, value, omit),
  );
  return out;
}

/**
 * {@linkcode requestHeaderRecord} of a request's `Headers`, read already
 * (`request.headers`): the same record, names as `Headers` hands them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headersRecord } from "./http_body.ts";
 *
 * const headers = new Headers([["X-B", "1"], ["Authorization", "Bearer t"], ["x-b", "2"]]);
 * assert.deepEqual(headersRecord(headers, new Set(["authorization"])), { "x-b": "1, 2" });
 * ```
 */
export function headersRecord(
  headers: Headers,
  omit?: ReadonlySet<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => _addHeader(out, name, value, omit));
  return out;
}

/** One header into a record: a repeated one joined by `, `. */
function _addHeader(
  out: Record<string, string>,
  name: string,
  value: string,
  omit: ReadonlySet<string> | undefined,
): void {
  if (omit !== undefined && omit.has(name)) return;
  setOwnField(
    out,
    name,
    Object.hasOwn(out, name) ? `${out[name]}, ${value}` : value,
  );
}

/**
 * A message value as a body and its default content type: a string as
 * `text/plain;charset=UTF-8` (the Fetch standard's type for a text body,
 * spelled as `new Response("...")` spells it: Deno sends an answer with
 * that one header, or `application/json`, on its fast path, about 1.2 µs
 * a request less than with any other header; bench/RESULTS.md "Session
 * 22"), bytes (`Uint8Array`, `ArrayBuffer`) as `application/octet-stream`,
 * `null` and `undefined` as no body, anything else as JSON. Throws a
 * `TypeError` for a value JSON cannot hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBody } from "./http_body.ts";
 *
 * assert.deepEqual(encodeBody({ a: 1 }), { body: '{"a":1}', type: "application/json" });
 * assert.deepEqual(encodeBody("hi"), { body: "hi", type: "text/plain;charset=UTF-8" });
 * assert.deepEqual(encodeBody(null), { body: null, type: null });
 * ```
 */
export function encodeBody(
  value: unknown,
): { body: string | Uint8Array | null; type: string | null } {
  if (value === null || value === undefined) return { body: null, type: null };
  if (typeof value === "string") {
    return { body: value, type: "text/plain;charset=UTF-8" };
  }
  if (value instanceof Uint8Array) {
    return { body: value, type: "application/octet-stream" };
  }
  if (value instanceof ArrayBuffer) {
    return { body: new Uint8Array(value), type: "application/octet-stream" };
  }
  const problem = _jsonWriteProblem(value);
  if (problem !== undefined) {
    throw new TypeError(`the body cannot be sent as JSON: ${problem}`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new TypeError(
      `the body cannot be sent as JSON: ${(e as Error).message}`,
    );
  }
  if (text === undefined) {
    throw new TypeError(
      `the body cannot be sent as JSON: received ${typeof value}`,
    );
  }
  return { body: text, type: "application/json" };
}

/**
 * Reads a stream to its end as bytes, failing with a `RangeError` once it
 * holds more than `limit` bytes (the rest is cancelled, not read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLimited } from "./http_body.ts";
 *
 * const body = new Response("hello").body!;
 * assert.deepEqual(await readLimited(body, 10), new TextEncoder().encode("hello"));
 * await assert.rejects(readLimited(new Response("hello").body!, 3), /larger than 3 bytes/);
 * ```
 */
export async function readLimited(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        throw new RangeError(`the body is larger than ${limit} bytes`);
      }
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}
