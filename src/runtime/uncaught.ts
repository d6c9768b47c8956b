/**
 * Errors that escape every `try` and every awaited promise, on Deno and
 * Bun: a callback's throw (a timer, an event listener) and a rejected
 * promise nobody awaits. By default Deno ends the process on either, and
 * Bun prints them to standard error and goes on; a server that runs code
 * it did not write (an operator's components) wants neither.
 *
 * Both runtimes deliver them through `node:process`, so one adapter serves.
 *
 * @module
 */
import process from "node:process";

/** How an error escaped: thrown by a callback, or a rejection nobody handled. */
export type UncaughtKind = "exception" | "rejection";

/**
 * Calls `handler` with each error that escapes (instead of the runtime's
 * default: Deno ends the process, Bun prints it). Returns a function that
 * removes the listeners, and with them the runtime's default comes back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onUncaught } from "./uncaught.ts";
 *
 * const seen: string[] = [];
 * const off = onUncaught((error, kind) => {
 *   seen.push(`${kind}: ${(error as Error).message}`);
 * });
 * void Promise.reject(new Error("nobody awaits me"));
 * setTimeout(() => {
 *   throw new Error("thrown by a timer");
 * });
 * await new Promise((resolve) => setTimeout(resolve, 50));
 * off();
 * assert.deepEqual(seen, [
 *   "rejection: nobody awaits me",
 *   "exception: thrown by a timer",
 * ]);
 * ```
 */
export function onUncaught(
  handler: (error: unknown, kind: UncaughtKind) => void,
): () => void {
  const exception = (error: unknown) => handler(error, "exception");
  const rejection = (reason: unknown) => handler(reason, "rejection");
  process.on("uncaughtException", exception);
  process.on("unhandledRejection", rejection);
  return () => {
    process.off("uncaughtException", exception);
    process.off("unhandledRejection", rejection);
  };
}
