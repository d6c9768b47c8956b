/**
 * The server's JSON responses, whose sizes the HTTP metrics see, and error
 * bodies that are never cached.
 *
 * @module
 */
import type { Context } from "hono";
import type { Problem } from "../graph/problem.ts";
import { noteBodySize } from "../metrics/http_metrics.ts";
import { type _JsonBody, _jsonBody } from "./_json_memo.ts";

/**
 * weir's JSON content type. Exactly this text: Deno 2.9 serves a 200
 * response whose only header is `Content-Type: application/json` (or
 * `text/plain`) on its fastest path, without building a header list; any
 * other value (`application/json; charset=utf-8`) or a second header
 * leaves that path. Bun writes a Blob of this type with
 * `;charset=utf-8` added.
 */
const _JSON = "application/json";
/** One header: Hono then hands it to `new Response()` as it is (no `Headers`). */
const _JSON_TYPE: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": _JSON,
});

/**
 * Whether a body answered more than once goes out as a `Blob` of type
 * JSON (no header list at all: the runtime writes the Blob's type as the
 * `Content-Type`) rather than as text with a `Content-Type` header. On Bun
 * 1.4, the text with its header cost the server about 4 µs more CPU a
 * request than `new Response("ok")`, the Blob about 1 µs (wrk, side by
 * side); on Deno 2.9 a Blob body costs several µs more than text
 * (bench/RESULTS.md "Server as shipped vs bare Hono").
 */
const _BLOB_BODIES = globalThis.navigator?.userAgent?.startsWith("Bun/") ??
  false;

/**
 * `c.json()` whose body size the HTTP metrics see (`noteBodySize`), with
 * `headers` added. Not with a `Content-Length` header, and the extra
 * headers set on the response rather than passed to `c.body()`: each cost
 * Deno's server several microseconds a request (Hono turns two headers or
 * more into a `Headers` object; a `Content-Length` of our own takes Deno
 * off its fastest path), see bench/RESULTS.md "Server as shipped vs bare
 * Hono". No default parameters: they slow a hot function on Deno.
 */
export function _json(
  c: Context,
  value: unknown,
  status?: number,
  headers?: Readonly<Record<string, string>>,
): Response {
  return _jsonResponse(c, _jsonBody(value), status, headers);
}

/**
 * {@linkcode _json} of a body serialized already (by `_jsonBody`, kept or
 * not).
 */
export function _jsonResponse(
  c: Context,
  body: _JsonBody,
  status?: number,
  headers?: Readonly<Record<string, string>>,
): Response {
  const res = _BLOB_BODIES && body.kept
    ? c.body(
      body.blob ??= new Blob([body.text], { type: _JSON }),
      (status ?? 200) as 200,
    )
    : c.body(body.text, (status ?? 200) as 200, _JSON_TYPE);
  if (headers !== undefined) {
    for (const name in headers) res.headers.set(name, headers[name]);
  }
  // Hono answers a HEAD with this GET's headers and no body, and the
  // runtime would then say Content-Length: 0; RFC 9110 (8.6) wants the
  // GET's length or none. Only for HEAD: on GET the header would take
  // Deno off its fastest path (see above).
  if (c.req.method === "HEAD") {
    res.headers.set("Content-Length", String(body.size));
  }
  return noteBodySize(res, body.size);
}

/** `{ "error": message, ...extra }`, never cached. */
export function _errorResponse(
  c: Context,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
  extra: Record<string, unknown> = {},
): Response {
  return _json(c, { error: message, ...extra }, status, {
    "Cache-Control": "no-store",
    ...headers,
  });
}

/** A graph problem as the API shows it: a path, and a line:col for text. */
export function _problemJson(p: Problem): Record<string, unknown> {
  return p.line === undefined
    ? { path: p.path, message: p.message }
    : { path: p.path, line: p.line, col: p.col ?? 1, message: p.message };
}

/** A flow's rev as an entity tag. */
export function _etag(rev: number): string {
  return `"${rev}"`;
}

/**
 * The entity tag of a flow's body as `GET /flows/:id` shows it: its rev,
 * then a hash of the body (FNV-1a over its UTF-16 code units). The body
 * tells the flow's state too, which changes under one rev (a flow that
 * finished, failed or restarted by itself): a tag of the rev alone would
 * answer 304 to a client holding the body of a state long gone. An
 * `If-Match` of it is read as its rev (`_expectedRev`).
 */
export function _bodyTag(rev: number, text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return `"${rev}-${(h >>> 0).toString(16).padStart(8, "0")}"`;
}

/**
 * Whether an If-None-Match header names `tag` (or is `*`); weak tags
 * (`W/"3"`) compare as strong ones, as RFC 9110 asks for GET.
 */
export function _tagMatches(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === tag);
}
