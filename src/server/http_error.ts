/**
 * An HTTP-level refusal the server makes itself (a bad header, a body too
 * large, a missing token), before or around the flow domain.
 *
 * @module
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * A request the server refuses with a status of its own: a Hono
 * `HTTPException` (so `hono/timeout` can throw it) with the response
 * headers the refusal needs (`Allow`, `WWW-Authenticate`, ...). The error
 * table answers it as `{ "error": message }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./http_error.ts";
 *
 * const e = new HttpError(405, "method PUT is not allowed on /healthz: use GET, HEAD", {
 *   Allow: "GET, HEAD",
 * });
 * assert.deepEqual([e.name, e.status, e.headers.Allow], ["HttpError", 405, "GET, HEAD"]);
 * ```
 */
export class HttpError extends HTTPException {
  /** Always `"HttpError"`. */
  override name = "HttpError";
  /** Headers the response carries besides the error body. */
  readonly headers: Readonly<Record<string, string>>;

  /** Creates the error. */
  constructor(
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(status as ContentfulStatusCode, { message });
    this.headers = headers;
  }
}
