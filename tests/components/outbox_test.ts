import { test } from "node:test";
import assert from "node:assert/strict";
import { deferred } from "./_helpers.ts";
import { _Outbox } from "../../src/components/_outbox.ts";

test("_Outbox holds an activation and a due timer behind sends that wait for room", async () => {
  const room = deferred();
  const sent: unknown[] = [];
  let due: unknown[] = [];
  const clock = { t: 0 };
  const box = new _Outbox({
    send(v) {
      sent.push(v);
      // The first send waits until the test makes room.
      return sent.length === 1 ? room.promise : undefined;
    },
    due: () => {
      const out = due;
      due = [];
      return out;
    },
    next: () => (due.length > 0 ? 5 : Infinity),
    now: () => clock.t,
  });
  const first = box.activation(() => ["a", "b"]);
  assert.ok(first instanceof Promise, "the activation waits for room");
  assert.deepEqual(sent, ["a"]);
  due = ["timer"];
  box.arm();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(sent, ["a"], "nothing overtakes a send waiting for room");
  room.resolve();
  await first;
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(sent, ["a", "b", "timer"]);
  box.stop();
});

test("_Outbox raises a timer's failed send with the next activation, after its work", async () => {
  const full = new Error("the connection is full");
  let due: unknown[] = ["late"];
  const worked: string[] = [];
  const box = new _Outbox({
    send(v) {
      if (v === "late") throw full;
    },
    due: () => {
      const out = due;
      due = [];
      return out;
    },
    next: () => (due.length > 0 ? Date.now() : Infinity),
    now: () => Date.now(),
  });
  box.arm();
  await new Promise((r) => setTimeout(r, 20));
  assert.throws(
    () => box.activation(() => (worked.push("x"), [])),
    full,
  );
  assert.deepEqual(worked, ["x"], "the message's work was done");
  assert.equal(box.activation(() => []), undefined, "raised once");
  box.stop();
});
