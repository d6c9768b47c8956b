import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkDrainTimeout,
  drainedQuietly,
  settlesWithin,
} from "../../src/engine/drain.ts";
import { connect, processOf } from "./_fakes.ts";

test("checkDrainTimeout() refuses a negative or non-finite timeout, or one past the longest timer", () => {
  // A timer past 2^31-1 ms fires at once: the drain would give up at once.
  for (const ms of [-1, NaN, Infinity, 2 ** 31]) {
    assert.throws(
      () => checkDrainTimeout("net", ms),
      (e) =>
        e instanceof RangeError &&
        e.message.startsWith(
          'Cannot drain network "net": timeoutMs must be a non-negative number',
        ),
    );
  }
});

test("checkDrainTimeout() accepts zero and positive timeouts", () => {
  checkDrainTimeout("net", 0);
  checkDrainTimeout("net", 1500);
  checkDrainTimeout("net", 2 ** 31 - 1);
});

test("settlesWithin() is true when the promise settles in time", async () => {
  assert.equal(await settlesWithin(Promise.resolve("x"), 60_000), true);
});

test("settlesWithin() is false when time runs out first", async () => {
  assert.equal(await settlesWithin(new Promise(() => {}), 1), false);
});

test("drainedQuietly() holds with nothing in flight, nothing buffered and everyone waiting", () => {
  const a = processOf("A");
  const b = processOf("B");
  connect(a, b);
  assert.equal(drainedQuietly(0, 0, [a, b]), true);
});

test("drainedQuietly() does not hold while work is in flight or buffered", () => {
  const a = processOf("A");
  assert.equal(drainedQuietly(1, 0, [a]), false);
  assert.equal(drainedQuietly(0, 3, [a]), false);
});

test("drainedQuietly() does not hold while a process is busy", () => {
  const a = processOf("A");
  a.active = 1;
  assert.equal(drainedQuietly(0, 0, [a]), false);
});
