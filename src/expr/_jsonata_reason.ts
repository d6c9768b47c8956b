/**
 * How weir words a JSONata failure: the `jsonata` package throws plain
 * objects (`{ position, message, code }`), not `Error`s, so compile and
 * evaluation errors read them the same way here.
 *
 * @module
 */

/**
 * `" at position N: message"` for a JSONata error (the position left out
 * when JSONata gives none), or `": "` and the text of anything else thrown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _jsonataReason } from "./_jsonata_reason.ts";
 *
 * assert.equal(
 *   _jsonataReason({ position: 7, message: "Expected \")\"" }),
 *   ' at position 7: Expected ")"',
 * );
 * assert.equal(_jsonataReason("boom"), ": boom");
 * ```
 */
export function _jsonataReason(error: unknown): string {
  const { position, message } = (error ?? {}) as {
    position?: unknown;
    message?: unknown;
  };
  const where = typeof position === "number" ? ` at position ${position}` : "";
  return `${where}: ${String(message ?? error)}`;
}
