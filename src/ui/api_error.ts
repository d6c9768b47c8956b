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
