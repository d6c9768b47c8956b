/**
 * The error of a request the server answered with an error status: plain
 * TypeScript, no DOM, so the page's pure parts and their tests use it.
 *
 * @module
 */

/** A request the server answered with an error status. */
export class ApiError extends Error {
  override name = "ApiError";
  /** The HTTP status. */
  readonly status: number;
  /** The parsed JSON body, when it was JSON. */
  readonly body: unknown;
  constructor(status: number, message: string, body: unknown) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/**
 * What the page shows of a refusal (`status` 403) whose answer says
 * `message`: it names the token only when the page sent one, since a
 * server without tokens refuses for other reasons (beyond loopback with
 * none, a foreign Host). Other statuses: `message` as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refusalText } from "./api_error.ts";
 *
 * assert.equal(refusalText(403, "no write scope", true), "this token cannot do that: no write scope");
 * assert.equal(refusalText(403, "no write scope", false), "refused: no write scope");
 * assert.equal(refusalText(404, "no flow", true), "no flow");
 * ```
 */
export function refusalText(
  status: number,
  message: string,
  tokenSent: boolean,
): string {
  if (status !== 403) return message;
  return tokenSent
    ? `this token cannot do that: ${message}`
    : `refused: ${message}`;
}
