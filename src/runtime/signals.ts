/**
 * Shutdown signals (SIGINT, SIGTERM) on Deno and Bun.
 *
 * Both runtimes deliver them through `node:process`, so one adapter serves.
 *
 * @module
 */
import process from "node:process";

/** The signals that ask weir to shut down. */
export const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** A shutdown signal's name. */
export type ShutdownSignal = typeof SHUTDOWN_SIGNALS[number];

/**
 * Calls `handler` once on the first SIGINT or SIGTERM; a second signal
 * while the handler runs exits at once with code 130 (the user insists).
 * Returns a function that removes the listeners.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { onShutdown } from "./signals.ts";
 *
 * const before = process.listenerCount("SIGTERM");
 * const off = onShutdown(async (signal) => {
 *   console.error(`${signal}: draining`);
 * });
 * assert.equal(process.listenerCount("SIGTERM"), before + 1);
 * off();
 * assert.equal(process.listenerCount("SIGTERM"), before);
 * ```
 */
export function onShutdown(
  handler: (signal: ShutdownSignal) => void | Promise<void>,
): () => void {
  let called = false;
  const listener = (signal: ShutdownSignal) => {
    if (called) {
      process.exit(130);
    }
    called = true;
    void handler(signal);
  };
  for (const s of SHUTDOWN_SIGNALS) process.on(s, listener);
  return () => {
    for (const s of SHUTDOWN_SIGNALS) process.off(s, listener);
  };
}
