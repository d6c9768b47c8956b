/**
 * A turn of the event loop for long work done in pieces.
 *
 * @module
 */

/**
 * Resolves once the event loop has run: timers, I/O, other requests. A
 * timer, not `setImmediate`: on Deno 2.9 a chain of immediates (a piece,
 * an immediate, the next piece) lets no socket be read until it ends, so
 * a request that came during a 2.3 s range query waited 2.3 s. A timer
 * costs a piece 1 to 4 ms more (the runtimes' least timer delay), against
 * the 15 to 250 ms a piece of a heavy query takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _nextTurn } from "./_next_turn.ts";
 *
 * let ran = false;
 * setTimeout(() => ran = true, 0);
 * await _nextTurn();
 * assert.equal(ran, true);
 * ```
 */
export function _nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
