/**
 * Request headers read without making Deno copy them all.
 *
 * On Deno, the first read of `request.headers` (any header, through
 * `Headers` or Hono's `c.req.header()`) fetches the whole header list from
 * Rust and marks the request's headers exposed; Deno then copies the list
 * again when the response goes out and answers through a promise, even
 * for a response made at once (`ext/http/00_serve.ts`,
 * `cacheRequestHeaders`). Measured here (`Deno.serve`, one core, `wrk
 * -t1 -c16`): a GET whose handler reads `If-None-Match` cost 0.6-0.75 µs
 * of CPU more than one that reads it through the served request's own
 * `header(name)` (one op for one header), and a POST echo that hands all
 * headers on 0.87 µs more than one that reads the list without exposing
 * it (bench/RESULTS.md "Session 21").
 *
 * A request that `Deno.serve` handed over keeps its inner request under a
 * symbol of the `Request`, with `header(name)` and `headerList`; these
 * functions use them when they are there and `request.headers` otherwise
 * (Bun, a `Request` made with `new Request()`, a later Deno without
 * them), with the same answers for a valid header name (one that is not
 * gets `null` here where `Headers.get` throws): names case-insensitive,
 * repeated headers joined with `, `, `null` for a missing one. Read them
 * before answering: once the response is out, Deno's inner request is
 * closed, and it kept a copy of the headers only if `request.headers`
 * was read.
 *
 * @module
 */

/** A served Deno request's inner request (the part used here). */
interface _Inner {
  header(name: string): string | null;
  readonly headerList: readonly (readonly [string, string])[];
}

/** The symbol Deno keeps a request's inner request under (found once). */
let _innerKey: symbol | null | undefined = "Deno" in globalThis &&
    !("Bun" in globalThis)
  ? undefined
  : null;

function _inner(request: Request): _Inner | undefined {
  let key = _innerKey;
  if (key === null) return undefined;
  if (key === undefined) {
    key = _findInnerKey(request);
    if (key === undefined) return undefined;
    _innerKey = key;
  }
  const inner = (request as unknown as Record<symbol, unknown>)[key] as
    | Partial<_Inner>
    | undefined;
  return typeof inner?.header === "function" ? inner as _Inner : undefined;
}

/** The own symbol of `request` whose value holds a header list, if any. */
function _findInnerKey(request: Request): symbol | undefined {
  for (const key of Object.getOwnPropertySymbols(request)) {
    const value = (request as unknown as Record<symbol, unknown>)[key];
    if (typeof value === "object" && value !== null && "headerList" in value) {
      return key;
    }
  }
  return undefined;
}

/**
 * Whether `request` is read through Deno's inner request (else through
 * `request.headers`), for tests.
 */
export function _readsInner(request: Request): boolean {
  return _inner(request) !== undefined;
}

/**
 * The value of header `name` of `request` (`request.headers.get(name)`
 * without exposing the headers on Deno), or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestHeader } from "./request_header.ts";
 *
 * const request = new Request("http://localhost/", {
 *   headers: [["X-A", "1"], ["x-a", "2"], ["If-None-Match", '"v1"']],
 * });
 * assert.equal(requestHeader(request, "if-none-match"), '"v1"');
 * assert.equal(requestHeader(request, "x-a"), "1, 2");
 * assert.equal(requestHeader(request, "accept"), null);
 * ```
 */
export function requestHeader(request: Request, name: string): string | null {
  const inner = _inner(request);
  if (inner !== undefined) {
    try {
      return inner.header(name);
    } catch {
      // Closed: answered already. Deno keeps a copy of the headers then
      // only if `request.headers` was read before, so read them before
      // answering; this falls back to what `Headers` says (or throws).
    }
  }
  return request.headers.get(name);
}

/**
 * Calls `fn` with each header of `request`, its name in lower case: on
 * Deno each header line of the request as it came (a repeated header once
 * a line), without exposing the headers; elsewhere as `Headers.forEach`
 * hands them (sorted, a repeated header once with its values joined by
 * `, `, but each `set-cookie` apart).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eachRequestHeader } from "./request_header.ts";
 *
 * const request = new Request("http://localhost/", {
 *   headers: [["X-B", "1"], ["Accept", "*\/*"], ["x-b", "2"]],
 * });
 * const seen: string[] = [];
 * eachRequestHeader(request, (name, value) => seen.push(`${name}=${value}`));
 * assert.deepEqual(seen, ["accept=*\/*", "x-b=1, 2"]);
 * ```
 */
export function eachRequestHeader(
  request: Request,
  fn: (name: string, value: string) => void,
): void {
  const inner = _inner(request);
  let list: readonly (readonly [string, string])[] | undefined;
  if (inner !== undefined) {
    try {
      list = inner.headerList;
    } catch {
      list = undefined;
    }
  }
  if (list === undefined) {
    request.headers.forEach((value, name) => fn(name, value));
    return;
  }
  for (let i = 0; i < list.length; i++) {
    // Deno hands names in lower case already (the call then costs little).
    fn(list[i][0].toLowerCase(), list[i][1]);
  }
}
