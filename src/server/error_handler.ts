/**
 * The one place where an error becomes an HTTP response: a table from the
 * domain's errors to statuses, and a logged 500 with a request id for
 * anything else.
 *
 * @module
 */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
// For its typing of c.get("requestId").
import type {} from "hono/request-id";
import { GraphError } from "../graph/graph_error.ts";
import {
  FlowConflictError,
  FlowManagerClosedError,
  FlowNotFoundError,
  FlowStartError,
  FlowStorageError,
  GraphTooDeepError,
  InvalidFlowArgumentError,
  InvalidPatchError,
} from "../flows/errors.ts";
import { _errorResponse, _json, _problemJson } from "./_response.ts";
import { HttpError } from "./http_error.ts";

/** An error class of the flow domain. */
// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * The status of each domain error the API answers with its own message.
 * Order matters only between a class and its subclasses (none here).
 */
export const ERROR_STATUS: ReadonlyArray<readonly [ErrorClass, number]> = [
  [InvalidFlowArgumentError, 400],
  [InvalidPatchError, 400],
  [FlowNotFoundError, 404],
  [FlowConflictError, 409],
  [FlowStartError, 422],
  [FlowManagerClosedError, 503],
];

/**
 * The status {@linkcode errorHandler} answers `error` with, or `undefined`
 * for an error it does not know (a 500, logged).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowNotFoundError, FlowStorageError } from "../flows/errors.ts";
 * import { statusOf } from "./error_handler.ts";
 *
 * assert.equal(statusOf(new FlowNotFoundError("a")), 404);
 * assert.equal(statusOf(new FlowStorageError("w.db", "disk_full", "full")), 507);
 * assert.equal(statusOf(new FlowStorageError("w.db", "read_only", "read-only")), 503);
 * assert.equal(statusOf(new TypeError("x is undefined")), undefined);
 * ```
 */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof HTTPException) return error.status;
  if (error instanceof GraphError || error instanceof GraphTooDeepError) {
    return 400;
  }
  // 507 Insufficient Storage for a full disk; a read-only database or an
  // I/O error is the server unable to serve changes for now.
  if (error instanceof FlowStorageError) {
    return error.reason === "disk_full" ? 507 : 503;
  }
  for (const [type, status] of ERROR_STATUS) {
    if (error instanceof type) return status;
  }
  return undefined;
}

/** Told of a request that failed with an internal error (answered 500). */
export type InternalErrorListener = (
  request: { method: string; path: string; requestId: string },
  error: unknown,
) => void;

/** The default {@linkcode InternalErrorListener}: a line on standard error. */
export const logInternalError: InternalErrorListener = (r, error) =>
  console.error(
    `weir: ${r.method} ${r.path} failed (request id ${r.requestId}):`,
    error,
  );

/**
 * Tells `onInternalError` of a request that failed with `error`, and
 * returns its request id: the one `hono/request-id` set when it ran, else
 * a new one, given to the client as `X-Request-Id`.
 */
export function reportInternalError(
  c: Context,
  error: unknown,
  onInternalError: InternalErrorListener,
): string {
  let requestId = c.get("requestId");
  if (requestId === undefined) {
    requestId = crypto.randomUUID();
    c.header("X-Request-Id", requestId);
  }
  onInternalError(
    { method: c.req.method, path: c.req.path, requestId },
    error,
  );
  return requestId;
}

/**
 * A Hono `onError` handler that answers every error as JSON
 * `{ "error": "..." }`: the domain's errors with the status of
 * {@linkcode statusOf} (an invalid graph with its `problems`), and anything
 * else with a 500 whose body and `X-Request-Id` header carry the request id
 * (from `hono/request-id` when it ran, else a new one) that the log line
 * of `onInternalError` names. No stack trace leaves the server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { errorHandler } from "./error_handler.ts";
 *
 * const logged: string[] = [];
 * const app = new Hono()
 *   .get("/bug", () => {
 *     throw new TypeError("x is undefined");
 *   })
 *   .onError(errorHandler((r) => logged.push(r.requestId)));
 * const res = await app.request("/bug");
 * const body = await res.json();
 * assert.equal(res.status, 500);
 * assert.deepEqual(logged, [body.requestId]);
 * assert.equal(res.headers.get("x-request-id"), body.requestId);
 * ```
 */
export function errorHandler(
  onInternalError: InternalErrorListener,
): ErrorHandler {
  return (error: Error, c: Context): Response => {
    if (error instanceof HttpError) {
      return _errorResponse(c, error.status, error.message, error.headers);
    }
    if (error instanceof GraphError) {
      return _json(c, {
        error: error.message.split("\n")[0],
        problems: error.problems.map(_problemJson),
      }, 400);
    }
    if (error instanceof GraphTooDeepError) {
      return _errorResponse(
        c,
        400,
        "the request body is nested too deeply to read (JSON objects and arrays within each other thousands of levels deep); flatten it",
      );
    }
    if (error instanceof HTTPException) {
      return _errorResponse(c, error.status, error.message || "bad request");
    }
    if (error instanceof FlowStorageError) {
      return _errorResponse(c, statusOf(error)!, error.message, {}, {
        reason: error.reason,
      });
    }
    const status = statusOf(error);
    if (status !== undefined) return _errorResponse(c, status, error.message);
    const requestId = reportInternalError(c, error, onInternalError);
    return _errorResponse(
      c,
      500,
      `internal error while handling ${c.req.method} ${c.req.path}; the server log has the details`,
      { "X-Request-Id": requestId },
      { requestId },
    );
  };
}
