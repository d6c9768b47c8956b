import { test } from "node:test";
import assert from "node:assert/strict";
import {
  allWaiting,
  deadlockReport,
  progress,
  StallWatch,
} from "../../src/engine/deadlock.ts";
import { connect, processOf } from "./_fakes.ts";

/** A watch (1 ms apart) whose stall and progress the test sets, counting its looks and reports. */
function watchOf(progressOf: () => number = () => 0) {
  const state = { stalled: true, looks: 0, reports: 0 };
  const watch = new StallWatch(
    1,
    () => {
      state.looks++;
      return state.stalled;
    },
    progressOf,
    () => state.reports++,
  );
  return { watch, state };
}

/** Resolves once `cond()` holds, checking on each turn of the event loop. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
}

test("StallWatch reports a stall seen twice with no progress in between", async () => {
  const { watch, state } = watchOf();
  watch.arm();
  await until(() => state.reports === 1);
  assert.equal(state.looks, 2);
});

test("StallWatch reports one stall once, however often it is armed", async () => {
  const { watch, state } = watchOf();
  watch.arm();
  await until(() => state.reports === 1);
  watch.arm();
  await until(() => state.looks === 3);
  assert.equal(state.reports, 1);
});

test("StallWatch does not report while messages are taken", async () => {
  let taken = 0;
  const { watch, state } = watchOf(() => ++taken);
  watch.arm();
  // Each look sees progress, so it looks again.
  await until(() => state.looks >= 4);
  watch.cancel();
  assert.equal(state.reports, 0);
});

test("StallWatch stays quiet when there is no stall", async () => {
  const { watch, state } = watchOf();
  state.stalled = false;
  watch.arm();
  await until(() => state.looks === 1);
  watch.arm();
  await until(() => state.looks === 2);
  assert.equal(state.reports, 0);
});

test("StallWatch.cancel() stops the look that was due", async () => {
  const { watch, state } = watchOf();
  watch.arm();
  watch.cancel();
  // A second watch, due later, has looked: the first one's time has passed.
  const later = watchOf();
  later.state.stalled = false;
  later.watch.arm();
  await until(() => later.state.looks === 1);
  assert.equal(state.looks, 0);
});

test("allWaiting() is true when every live process is idle and waits for input", () => {
  const a = processOf("A");
  const b = processOf("B");
  connect(a, b);
  assert.equal(allWaiting([a, b]), true);
});

test("allWaiting() is false while an activation runs without a parked send", () => {
  const a = processOf("A");
  a.active = 1;
  assert.equal(allWaiting([a]), false);
  a.parked = 1;
  assert.equal(allWaiting([a]), true);
});

test("allWaiting() is false while a process flushes, and ignores finished ones", () => {
  const a = processOf("A");
  a.phase = "flushing";
  assert.equal(allWaiting([a]), false);
  a.phase = "finished";
  a.active = 1;
  assert.equal(allWaiting([a]), true);
});

test("progress() counts the messages taken from every connection", () => {
  const a = processOf("A");
  const b = processOf("B");
  const c1 = connect(a, b);
  const c2 = connect(b, a);
  c1.delivered = 3;
  c2.delivered = 4;
  assert.equal(progress([c1, c2]), 7);
});

test("deadlockReport() names a process blocked on a full connection", () => {
  const a = processOf("A");
  const b = processOf("B");
  const c = connect(a, b, 1);
  c.offer("x", 0, 0);
  void c.offer("y", 0, 0);
  const r = deadlockReport("net", [a, b]);
  assert.equal(r.network, "net");
  assert.deepEqual(r.processes[0], {
    process: "A",
    waitingOn: "send",
    port: "out",
    connections: ["A.out -> B.in (1/1, 1 more waiting)"],
  });
  assert.match(r.message, /^network "net" is deadlocked/);
  assert.match(r.message, /A waits to send on "out": A\.out -> B\.in/);
});

test("deadlockReport() names what a waiting receiver waits for", () => {
  const a = processOf("A");
  const b = processOf("B");
  connect(a, b);
  const r = deadlockReport("net", [b]);
  assert.deepEqual(r.processes, [{
    process: "B",
    waitingOn: "receive",
    port: "in",
    connections: ["A.out -> B.in (0/2)"],
  }]);
  assert.match(r.message, /B waits for input on "in" from A\.out -> B\.in/);
});

test("deadlockReport() leaves out finished and hidden processes", () => {
  const a = processOf("A");
  a.phase = "finished";
  assert.deepEqual(deadlockReport("net", [a]).processes, []);
});
