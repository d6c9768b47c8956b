/**
 * The one error the PromQL module throws, typed as Prometheus types its API
 * errors so the query API can answer `{"errorType": type}` unchanged.
 *
 * @module
 */

/** Prometheus's error types that a query can end with. */
export type PromQLErrorType = "bad_data" | "execution" | "timeout" | "canceled";

/**
 * A query that cannot be parsed (`bad_data`), cannot be evaluated
 * (`execution`), ran out of time (`timeout`) or was given up (`canceled`).
 * The message is Prometheus's own where Prometheus has one (`1:5: parse
 * error: ...`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PromQLError } from "./promql_error.ts";
 *
 * const error = new PromQLError("bad_data", "1:1: parse error: unexpected end of input");
 * assert.equal(error.type, "bad_data");
 * assert.ok(error instanceof Error);
 * ```
 */
export class PromQLError extends Error {
  /** Prometheus's `errorType`. */
  readonly type: PromQLErrorType;

  /** Creates the error; `message` is the text the API returns as `error`. */
  constructor(type: PromQLErrorType, message: string) {
    super(message);
    this.name = "PromQLError";
    this.type = type;
  }
}
