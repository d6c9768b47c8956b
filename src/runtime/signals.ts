/**
 * Shutdown signals (SIGINT, SIGTERM, SIGHUP) on Deno and Bun.
 *
 * Both runtimes deliver them through `node:process`, so one adapter serves.
 * SIGHUP (the terminal or SSH session weir runs in closed, or an operator
 * who expects a reload) drains as SIGTERM does: its default action would
 * end weir at once, the flows undrained and the history's last samples
 * unwritten. weir reloads nothing; its settings and graph files are read
 * at start.
 *
 * @module
 */
import process from "node:process";

/** The signals that ask weir to shut down. */
export const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** A shutdown signal's name. */
export type ShutdownSignal = typeof SHUTDOWN_SIGNALS[number];

/**
 * Calls `handler` once on the first SIGINT, SIGTERM or SIGHUP (not on
 * Windows, which has no SIGHUP); a second signal
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
  const signals = SHUTDOWN_SIGNALS.filter((s) =>
    s !== "SIGHUP" || process.platform !== "win32"
  );
  for (const s of signals) process.on(s, listener);
  return () => {
    for (const s of signals) process.off(s, listener);
  };
}
