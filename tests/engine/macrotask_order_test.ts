/**
 * `macrotask` keeps the order its callbacks were given in, on Deno too,
 * where a long run of immediates takes a timer (see `_pollingMacrotask`):
 * a callback queued after the one behind the timer must not run first.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { macrotask } from "../../src/engine/network.ts";

const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

test("macrotask runs callbacks in the order they were given, through a long run of immediates", async () => {
  const order: string[] = [];
  const steps = 40;
  await new Promise<void>((resolve) => {
    let n = 0;
    // A busy flow's slices, each queuing two more callbacks: 40 slices of
    // at least 4 ms pass the 50 ms after which Deno takes a timer.
    const step = () => {
      spin(4);
      const i = n;
      macrotask(() => order.push(`a${i}`));
      macrotask(() => order.push(`b${i}`));
      if (++n < steps) macrotask(step);
      else macrotask(resolve);
    };
    macrotask(step);
  });
  const expected = Array.from(
    { length: steps },
    (_, i) => [`a${i}`, `b${i}`],
  ).flat();
  assert.deepEqual(order, expected);
});

test("macrotask still runs the callbacks given after one that throws, in order, through a long run of immediates", async () => {
  // Bun's macrotask is setImmediate itself; an error thrown there fails
  // the test run.
  if (!("Deno" in globalThis)) return;
  const ran: string[] = [];
  let thrown = 0;
  // Deno reports an error thrown in a task as an error event.
  const onError = (e: ErrorEvent) => {
    if (e.error?.message === "boom") {
      thrown++;
      e.preventDefault();
    }
  };
  globalThis.addEventListener("error", onError);
  const steps = 40;
  try {
    await new Promise<void>((resolve) => {
      let n = 0;
      const step = () => {
        spin(4);
        const i = n;
        macrotask(() => {
          ran.push(`a${i}`);
          throw new Error("boom");
        });
        macrotask(() => ran.push(`b${i}`));
        if (++n < steps) macrotask(step);
        else macrotask(resolve);
      };
      macrotask(step);
    });
  } finally {
    globalThis.removeEventListener("error", onError);
  }
  const expected = Array.from(
    { length: steps },
    (_, i) => [`a${i}`, `b${i}`],
  ).flat();
  assert.deepEqual(ran, expected);
  assert.equal(thrown, steps);
});
