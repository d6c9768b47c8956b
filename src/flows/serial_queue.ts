/**
 * Per-key serialization: operations on one key run one at a time, in call
 * order.
 *
 * @module
 */

/**
 * Runs asynchronous operations one at a time per key, in call order;
 * operations on different keys run concurrently. A failed operation does
 * not stop the ones queued after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SerialQueue } from "./serial_queue.ts";
 *
 * const queue = new SerialQueue();
 * const order: string[] = [];
 * const slow = queue.run("a", async () => {
 *   await Promise.resolve();
 *   order.push("first");
 * });
 * const fast = queue.run("a", () => Promise.resolve(order.push("second")));
 * assert.equal(queue.has("a"), true);
 * await Promise.all([slow, fast]);
 * assert.deepEqual(order, ["first", "second"]);
 * await queue.idle();
 * assert.equal(queue.has("a"), false);
 * ```
 */
export class SerialQueue {
  /** Each key's last queued operation, settled either way; gone when idle. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` after every operation queued earlier on `key`. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const run = before.then(fn);
    const tail = run.then(() => {}, () => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }

  /** Whether an operation on `key` is queued or under way. */
  has(key: string): boolean {
    return this.#tails.has(key);
  }

  /**
   * Resolves when no operation is queued or under way, including those
   * queued while it waits. Never rejects.
   */
  async idle(): Promise<void> {
    // The tails never reject; waiting again catches operations queued
    // behind the ones under way.
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }
}
