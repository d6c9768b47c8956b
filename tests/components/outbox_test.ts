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
    report: (error) => assert.fail(`reported ${error}`),
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

test("_Outbox reports a timer's failed sends as they fail, sends the rest, and raises nothing later", async () => {
  const full = new Error("the connection is full");
  const refused = new Error("the sink refused it");
  let due: unknown[] = ["full", "refused", "late"];
  const sent: unknown[] = [];
  const reported: unknown[][] = [];
  const box = new _Outbox({
    send(v) {
      if (v === "full") throw full;
      if (v === "refused") return Promise.reject(refused);
      sent.push(v);
    },
    report: (error, v) => void reported.push([error, v]),
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
  assert.deepEqual(reported, [[full, "full"], [refused, "refused"]]);
  assert.deepEqual(sent, ["late"]);
  assert.equal(box.activation(() => ["next"]), undefined, "nothing raised");
  assert.equal(box.flush(() => []), undefined);
  assert.deepEqual(sent, ["late", "next"]);
});
