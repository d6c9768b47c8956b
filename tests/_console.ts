/**
 * What code printed with `console.error` while it ran, for the tests that
 * check the engine reports through its events (and the operator's log)
 * rather than on standard error.
 *
 * @module
 */

/**
 * Runs `fn` with `console.error` captured (and put back after, whatever
 * `fn` does); resolves with each call's arguments, in order.
 */
export async function consoleErrors(
  fn: () => void | Promise<void>,
): Promise<unknown[][]> {
  const printed: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => void printed.push(args);
  try {
    await fn();
  } finally {
    console.error = error;
  }
  return printed;
}
