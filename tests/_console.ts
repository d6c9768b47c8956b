/**
 * What code printed on the console while it ran, for the tests that check
 * the engine reports through its events (and the operator's log) rather
 * than on standard error, or where it prints when it has nothing else.
 *
 * @module
 */

/** A console method the helpers capture. */
export type ConsoleMethod = "error" | "warn" | "info" | "log";

/**
 * Runs `fn` with the console's `methods` (default all four) captured (and put back after,
 * whatever `fn` does); resolves with each call, in order: the method and
 * its arguments.
 */
export async function consoleCalls(
  fn: () => void | Promise<void>,
  methods: readonly ConsoleMethod[] = ["error", "warn", "info", "log"],
): Promise<{ method: ConsoleMethod; args: unknown[] }[]> {
  const printed: { method: ConsoleMethod; args: unknown[] }[] = [];
  const kept = methods.map((m) => [m, console[m]] as const);
  for (const m of methods) {
    console[m] = (...args: unknown[]) => void printed.push({ method: m, args });
  }
  try {
    await fn();
  } finally {
    for (const [m, f] of kept) console[m] = f;
  }
  return printed;
}

/**
 * Runs `fn` with `console.error` captured (and put back after, whatever
 * `fn` does); resolves with each call's arguments, in order.
 */
export async function consoleErrors(
  fn: () => void | Promise<void>,
): Promise<unknown[][]> {
  return (await consoleCalls(fn, ["error"])).map((c) => c.args);
}
