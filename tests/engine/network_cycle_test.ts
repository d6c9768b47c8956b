/**
 * Cycles: a process may feed itself, directly or through others, without
 * stalling.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import {
  Countdown,
  edge,
  gate,
  HANG_MS,
  mapOf,
  network,
  proc,
  sinkInto,
  TIMED_OUT,
  until,
  within,
} from "./_helpers.ts";

test("Network runs a cycle A -> B -> A until its terminating condition", async () => {
  const done = gate();
  let result: unknown;
  const Countdown = defineComponent({
    name: "test/Countdown",
    description: "Sends n-1 around the cycle, or 'done' at 0.",
    inPorts: { in: {} },
    outPorts: { out: {}, done: {} },
    process(v, ctx) {
      const n = v as number;
      if (n === 0) ctx.send("done", "done");
      else ctx.send("out", n - 1);
    },
  });
  const Done = defineComponent({
    name: "test/Done",
    description: "Records the result.",
    inPorts: { in: {} },
    process(v) {
      result = v;
      done.open();
    },
  });
  const net = network(
    { A: Countdown, B: mapOf((v) => v), K: Done },
    ["A.out>B.in", "B.out>A.in", "A.done>K.in"],
    { initials: [{ data: 10_000, to: { process: "A", port: "in" } }] },
  );
  await net.start();
  const r = await within(done.promise);
  await net.stop();
  assert.notEqual(r, TIMED_OUT);
  assert.equal(result, "done");
  const s = net.stats();
  assert.equal(proc(s, "A").activations, 10_001);
  assert.equal(proc(s, "B").activations, 10_000);
});

test("Network delivers a message a cycle sends back to a process whose activation is still running", async () => {
  // The host's send hands 1 straight to A, whose activation sends 0 to B,
  // whose activation sends 0 back to A while A is still running.
  const results: unknown[] = [];
  const net = network(
    { A: Countdown, B: mapOf((v) => v), K: sinkInto(results) },
    ["A.out>B.in", "B.out>A.in", "A.done>K.in"],
    { inports: { in: { process: "A", port: "in" } } },
  );
  await net.start();
  net.send("in", 0);
  net.send("in", 1);
  const r = await within(
    until(() => results.length === 2, HANG_MS + 500).then(() => "done"),
  );
  const queuedAtA = proc(net.stats(), "A").queueDepth.in;
  await net.stop();
  assert.notEqual(
    r,
    TIMED_OUT,
    `the cycle stalled with ${queuedAtA} message(s) queued at A`,
  );
  assert.deepEqual(results, [0, 0]);
});

test("Network runs a self-loop whose connection holds a single message", async () => {
  const done = gate();
  const Countdown = defineComponent({
    name: "test/Countdown",
    description: "Sends n-1 to itself, or 'done' at 0.",
    inPorts: { in: {} },
    outPorts: { out: {}, done: {} },
    process(v, ctx) {
      const n = v as number;
      if (n === 0) ctx.send("done", "done");
      else ctx.send("out", n - 1);
    },
  });
  const Done = defineComponent({
    name: "test/Done",
    description: "Signals.",
    inPorts: { in: {} },
    process() {
      done.open();
    },
  });
  const net = network(
    { A: Countdown, K: Done },
    [edge("A.out", "A.in", { capacity: 1 }), "A.done>K.in"],
    { initials: [{ data: 5, to: { process: "A", port: "in" } }] },
  );
  await net.start();
  const r = await within(done.promise);
  await net.stop();
  assert.notEqual(r, TIMED_OUT, "the self-loop stalled");
  assert.equal(proc(net.stats(), "A").activations, 6);
});
