/**
 * Reading a request: its body (size, time and encoding limits), its
 * media type, and the query parameters and headers the flow API takes.
 *
 * @module
 */
import type { Context } from "hono";
import type { FlowInput } from "../flows/flow_info.ts";
import { excerpt } from "../engine/excerpt.ts";
import { HttpError } from "./http_error.ts";
import { _jsonDepthProblem } from "../engine/_json_depth.ts";
import { requestHeader } from "../runtime/request_header.ts";

/**
 * Header `name` of the request (`c.req.header(name)`, without making Deno
 * copy every header: see `runtime/request_header.ts`), or `undefined`.
 */
export function _header(c: Context, name: string): string | undefined {
  return requestHeader(c.req.raw, name) ?? undefined;
}

/**
 * How deep a JSON request body may nest (objects and arrays within each
 * other): a graph needs about 6 levels and an initial packet's data a few
 * more; anything deeper is refused before it is parsed.
 */
export const DEFAULT_MAX_BODY_DEPTH = 64;

/**
 * Refuses (400) a JSON body that nests deeper than `max`, before anything
 * parses it: parsing, merging and validating such a body took seconds and
 * hundreds of MB on Bun (issue 18).
 */
export function _checkJsonDepth(text: string, max: number, what: string): void {
  const deep = _jsonDepthProblem(text, max);
  if (deep === undefined) return;
  throw new HttpError(400, `${what} is ${deep}, the limit; flatten it`);
}

/** JSON media types, `+json` suffixes included. */
export const _JSON_TYPES = /^application\/(?:[\w.+-]*\+)?json$/;
const FBP_TYPES = new Set([
  "text/vnd.fbp",
  "text/x-fbp",
  "application/x-fbp",
]);
// Not text/plain: a web page may post that to any site without a
// preflight (see cross_site_guard.ts).
const ACCEPTED_GRAPH_TYPES =
  "application/json (fbp-graph JSON) or text/vnd.fbp (.fbp text)";

/** The media type of the request body, lower case, without parameters. */
export function _mediaType(c: Context): string | null {
  const h = _header(c, "content-type");
  if (h === undefined || h.trim() === "") return null;
  const [type, ...params] = h.split(";");
  for (const p of params) {
    const [k, v] = p.split("=").map((s) => s.trim().toLowerCase());
    if (k === "charset" && v !== "utf-8" && v !== '"utf-8"' && v !== "utf8") {
      throw new HttpError(
        415,
        `the body must be UTF-8, received charset ${excerpt(v, 40)}`,
      );
    }
  }
  return type.trim().toLowerCase();
}

/**
 * The revision the client expects: `If-Match: "3"` (or the tag a GET of
 * the flow answered, `"3-1a2b3c4d"`: its rev and a hash of the body) or
 * `?rev=3`; `"*"` for `If-Match: *` (RFC 9110: any revision, but the flow
 * must exist). A list (`"3", "4"`) matches when one of its tags does: the
 * rev of the one that names the flow's rev now (`current()`), else the
 * first, which the change then finds stale. A weak tag (`W/"3"`) never
 * matches, as If-Match compares strongly: a list of weak tags alone is a
 * 412.
 */
export function _expectedRev(
  c: Context,
  current: () => number | undefined = () => undefined,
): number | "*" | undefined {
  const header = _header(c, "if-match");
  const query = _query(c, "rev");
  let revs: number[] | undefined;
  if (header?.trim() === "*") {
    if (query !== undefined) {
      throw new HttpError(
        400,
        `If-Match (*) and ?rev= (${excerpt(query, 40)}) disagree; send one`,
      );
    }
    return "*";
  }
  if (header !== undefined) revs = _ifMatchRevs(header);
  if (query !== undefined) {
    if (!/^\d{1,15}$/.test(query)) {
      throw new HttpError(
        400,
        `rev must be a whole number (the flow's revision), received "${
          excerpt(query, 40)
        }"`,
      );
    }
    if (revs !== undefined && !revs.includes(Number(query))) {
      throw new HttpError(
        400,
        `If-Match (${revs.join(", ")}) and ?rev= (${
          excerpt(query, 40)
        }) disagree; send one`,
      );
    }
    return Number(query);
  }
  if (revs === undefined) return undefined;
  if (revs.length === 1) return revs[0];
  // Chosen now, checked by the change itself: a change made in between
  // makes it stale (409), as it would a single tag.
  const now = current();
  return revs.find((r) => r === now) ?? revs[0];
}

/**
 * The revs an If-Match list names with strong tags: 400 for a tag that is
 * no flow's, 412 when every tag is weak (RFC 9110 13.1.1: If-Match
 * compares strongly, so a weak tag never matches, whatever its rev).
 */
function _ifMatchRevs(header: string): number[] {
  const revs: number[] = [];
  let weak = 0;
  for (const item of header.split(",")) {
    const tag = item.trim();
    if (tag === "") continue;
    if (tag.startsWith("W/")) {
      weak++;
      continue;
    }
    const m = /^"?(\d{1,15})(?:-[0-9a-f]{8})?"?$/.exec(tag);
    if (m === null) {
      throw new HttpError(
        400,
        `If-Match must be a flow revision such as "3" (or a list of them), received ${
          excerpt(header, 40)
        }`,
      );
    }
    revs.push(Number(m[1]));
  }
  if (revs.length > 0) return revs;
  if (weak > 0) {
    throw new HttpError(
      412,
      `If-Match ${excerpt(header.trim(), 40)} ${
        weak === 1
          ? "is a weak entity tag, which never matches"
          : "lists weak entity tags alone, which never match"
      } (If-Match compares tags strongly, RFC 9110 13.1.1): send the flow's rev as a strong tag, such as "3"; nothing was changed`,
    );
  }
  throw new HttpError(
    400,
    `If-Match must be a flow revision such as "3" (or a list of them), received ${
      excerpt(header, 40)
    }`,
  );
}

/** A rev for a route where the flow must exist anyway: `*` checks nothing more. */
export function _anyRev(rev: number | "*" | undefined): number | undefined {
  return rev === "*" ? undefined : rev;
}

export function _queryBool(
  c: Context,
  name: string,
  fallback: boolean,
): boolean {
  const v = _query(c, name);
  if (v === undefined || v === "") return fallback;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new HttpError(
    400,
    `${name} must be true or false, received "${excerpt(v, 40)}"`,
  );
}

/**
 * Query parameter `name`, or `undefined`. Given more than once, its
 * values must agree (400 otherwise): `?rev=3&rev=5` would else pass the
 * revision check as whichever one was read, and `?start=true&start=false`
 * do one of two things asked.
 */
export function _query(c: Context, name: string): string | undefined {
  const all = c.req.queries(name);
  if (all === undefined || all.length === 0) return undefined;
  const first = all[0];
  if (all.some((v) => v !== first)) {
    throw new HttpError(
      400,
      `${name} is given ${all.length} times with different values (${
        all.slice(0, 3).map((v) => JSON.stringify(excerpt(v, 40))).join(", ")
      }${all.length > 3 ? ", ..." : ""}); send it once`,
    );
  }
  return first;
}

/** Reads a graph body and tells its format from the Content-Type. */
export async function _readGraph(
  c: Context,
  limit: number,
  timeoutMs: number,
  maxDepth: number = DEFAULT_MAX_BODY_DEPTH,
): Promise<FlowInput> {
  const type = _mediaType(c);
  let format: FlowInput["format"];
  if (type !== null && _JSON_TYPES.test(type)) format = "json";
  else if (type !== null && FBP_TYPES.has(type)) format = "fbp";
  else {
    throw new HttpError(
      415,
      `a graph must be sent as ${ACCEPTED_GRAPH_TYPES}, received ${
        type === null ? "no Content-Type" : `"${excerpt(type, 100)}"`
      }`,
    );
  }
  const text = await _readBody(c, limit, timeoutMs);
  if (text.trim() === "") {
    throw new HttpError(400, "the request body is empty: send a graph");
  }
  // .fbp text too: its JSON initial packets are parsed (a 100,000-deep
  // one was stored after 0.6 s); outside them, brackets only index ports
  // (`out[0]`), one level each.
  _checkJsonDepth(text, maxDepth, "the graph");
  return { text, format };
}

/** Requests whose body is being read now. */
export const _readingBody = new WeakSet<Request>();

export function _bodyTimeout(timeoutMs: number): HttpError {
  return new HttpError(
    408,
    `the request body did not arrive within ${timeoutMs} ms`,
  );
}

/**
 * The body as UTF-8 text, refused past `limit` bytes (413) or when it
 * takes longer than `timeoutMs` to arrive (408).
 *
 * Not `hono/body-limit`: it runs before the handler, so its 413 would come
 * before the 415 of a wrong media type and the 400 of a bad `If-Match`;
 * it buffers a chunked body and makes a new `Request` (so the request
 * whose body is being read could no longer be told apart for the 408);
 * and a body that stalls or breaks off mid-way reaches the error handler
 * as the runtime's raw error, not as the client's 408 or 400.
 */
export async function _readBody(
  c: Context,
  limit: number,
  timeoutMs: number,
): Promise<string> {
  const declared = _header(c, "content-length");
  const tooBig = () =>
    new HttpError(
      413,
      `the request body is larger than the ${limit}-byte limit`,
    );
  if (declared !== undefined && Number(declared) > limit) throw tooBig();
  const body = c.req.raw.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(_bodyTimeout(timeoutMs)), timeoutMs);
  });
  _readingBody.add(c.req.raw);
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), expired]);
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw tooBig();
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    if (e instanceof HttpError) throw e;
    // The client went away or broke the framing mid-body: its fault, not
    // an internal error worth a stack in the log.
    throw new HttpError(
      400,
      `the request body could not be read to its end: ${
        (e as Error)?.message || String(e)
      }`,
    );
  } finally {
    clearTimeout(timer);
    _readingBody.delete(c.req.raw);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const ch of chunks) {
    all.set(ch, at);
    at += ch.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw new HttpError(400, "the request body is not valid UTF-8");
  }
}
