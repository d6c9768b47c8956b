/**
 * The server's JSON responses: bodies with a `Content-Length`, and error
 * bodies that are never cached.
 *
 * @module
 */
import type { Context } from "hono";
import type { Problem } from "../graph/problem.ts";

const _encoder = new TextEncoder();

/**
 * `c.json()` with a `Content-Length`: Hono leaves it to the runtime, and
 * then the HTTP metrics cannot see a response's size.
 */
export function _json(
  c: Context,
  value: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  const body = _encoder.encode(JSON.stringify(value));
  return c.body(body, status as 200, {
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": String(body.byteLength),
  });
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
 * Whether an If-None-Match header names `tag` (or is `*`); weak tags
 * (`W/"3"`) compare as strong ones, as RFC 9110 asks for GET.
 */
export function _tagMatches(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === tag);
}
