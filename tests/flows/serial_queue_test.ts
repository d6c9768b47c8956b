/** SerialQueue: one operation at a time per key, in call order. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SerialQueue } from "../../src/flows/serial_queue.ts";

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

test("SerialQueue.run() runs operations on one key one at a time, in call order", async () => {
  const queue = new SerialQueue();
  const gate = deferred();
  const order: string[] = [];
  const first = queue.run("a", async () => {
    order.push("first starts");
    await gate.promise;
    order.push("first ends");
  });
  const second = queue.run("a", () => {
    order.push("second");
    return Promise.resolve();
  });
  await Promise.resolve();
  assert.deepEqual(order, ["first starts"]);
  gate.resolve();
  await Promise.all([first, second]);
  assert.deepEqual(order, ["first starts", "first ends", "second"]);
});

test("SerialQueue.run() runs operations on different keys concurrently", async () => {
  const queue = new SerialQueue();
  const gate = deferred();
  const held = queue.run("a", () => gate.promise);
  assert.equal(await queue.run("b", () => Promise.resolve("b ran")), "b ran");
  gate.resolve();
  await held;
});

test("SerialQueue.run() goes on after a failed operation, which rejects its caller", async () => {
  const queue = new SerialQueue();
  const failed = queue.run("a", () => Promise.reject(new Error("boom")));
  const next = queue.run("a", () => Promise.resolve(2));
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 2);
});

test("SerialQueue.idle() waits for operations queued while it waits", async () => {
  const queue = new SerialQueue();
  const done: number[] = [];
  void queue.run("a", async () => {
    await Promise.resolve();
    void queue.run("a", () => Promise.resolve(done.push(2)));
    done.push(1);
  });
  await queue.idle();
  assert.deepEqual(done, [1, 2]);
  assert.equal(queue.has("a"), false);
});
