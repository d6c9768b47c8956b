/**
 * Deadlock detection: reported when every live process waits on a full or an
 * empty connection, and only then.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { DeadlockReport } from "../../src/engine/deadlock.ts";
import {
  deadlockWithin,
  edge,
  gate,
  mapOf,
  network,
  range,
  sinkInto,
  sleep,
  sourceOf,
  until,
  Waiter,
  work,
} from "./_helpers.ts";

test("Network reports a deadlock naming each stuck process and what it waits on", async () => {
  // A -> B -> A: a cycle whose buffers fill up.
  const Echo = defineComponent({
    name: "test/Echo",
    description: "Sends every message twice.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      ctx.send("out", v);
      ctx.send("out", v);
    },
  });
  const net = network(
    { A: Echo, B: Echo },
    [
      {
        from: { process: "A", port: "out" },
        to: { process: "B", port: "in" },
        capacity: 2,
      },
      {
        from: { process: "B", port: "out" },
        to: { process: "A", port: "in" },
        capacity: 2,
      },
    ],
    { initials: [{ data: 1, to: { process: "A", port: "in" } }] },
    { deadlockDelayMs: 10 },
  );
  const report = new Promise<
    DeadlockReport
  >((r) => net.on("deadlock", r));
  await net.start();
  const d = await report;
  assert.equal(d.network, "test");
  assert.deepEqual(d.processes.map((p) => [p.process, p.waitingOn]).sort(), [[
    "A",
    "send",
  ], ["B", "send"]]);
  assert.match(
    d.message,
    /A waits to send on "out": A\.out -> B\.in \(\d+\/2\) is full/,
  );
  await net.stop();
});

test("Network does not report a deadlock while a source is waiting on a timer", async () => {
  const Slow = defineComponent({
    name: "test/SlowSource",
    description: "One message after 60 ms.",
    outPorts: { out: {} },
    async run(ctx) {
      // A source waiting on a timer is what this test is about.
      await sleep(60);
      await ctx.send("out", "late");
    },
  });
  const got: unknown[] = [];
  const net = network({ S: Slow, K: sinkInto(got) }, ["S.out>K.in"], {}, {
    deadlockDelayMs: 5,
  });
  let deadlocks = 0;
  net.on("deadlock", () => deadlocks++);
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["late"]);
  assert.equal(deadlocks, 0);
});

test("Network reports a deadlock in a graph whose exported in-port was closed before start", async () => {
  const net = network(
    { A: Waiter, B: Waiter, K: sinkInto([]) },
    ["A.out>B.in", "B.out>A.in"],
    { inports: { in: { process: "K", port: "in" } } },
    { deadlockDelayMs: 10 },
  );
  net.closeInport("in");
  await net.start();
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(d.processes.map((p) => p.process).sort(), ["A", "B"]);
});

test("Network does not report a deadlock for a slow pipeline of timer-driven async processes", async () => {
  const got: unknown[] = [];
  const Slow = defineComponent({
    name: "test/Slow",
    description: "Async map.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      // Timer-driven work is what this test is about.
      await work(15);
      await ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf(range(5), 15), M: Slow, K: sinkInto(got, 15) },
    [
      edge("S.out", "M.in", { capacity: 1 }),
      edge("M.out", "K.in", {
        capacity: 1,
      }),
    ],
    {},
    { deadlockDelayMs: 5 },
  );
  let deadlocks = 0;
  net.on("deadlock", () => deadlocks++);
  await net.start();
  await net.finished;
  assert.deepEqual(got, range(5));
  assert.equal(deadlocks, 0);
});

test("Network does not report a deadlock while a retry backs off", async () => {
  let attempts = 0;
  const got: unknown[] = [];
  const Flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails its first attempt.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if (++attempts === 1) throw new Error("first");
      ctx.send("out", v);
    },
  });
  const net = network(
    {
      S: sourceOf([1]),
      F: { component: Flaky, retry: { attempts: 2, backoffMs: 40 } },
      K: sinkInto(got),
    },
    ["S.out>F.in", "F.out>K.in"],
    {},
    { deadlockDelayMs: 5 },
  );
  let deadlocks = 0;
  net.on("deadlock", () => deadlocks++);
  await net.start();
  await net.finished;
  assert.deepEqual(got, [1]);
  assert.equal(deadlocks, 0);
});

test("Network reports a deadlock when a loop never reads the port its upstream fills", async () => {
  const OnlyA = defineComponent({
    name: "test/OnlyA",
    description: "Reads port a only.",
    inPorts: { a: {}, b: {} },
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.receive("a");
    },
  });
  const net = network(
    { S: sourceOf(range(20)), L: OnlyA, T: mapOf((v) => v) },
    [edge("S.out", "L.b", { capacity: 5 }), "L.out>T.in", "T.out>L.a"],
    {},
    { deadlockDelayMs: 10 },
  );
  await net.start();
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(
    d.processes.map((p) => [p.process, p.waitingOn, p.port]).sort(),
    [["L", "receive", "a"], ["S", "send", "out"], ["T", "receive", "in"]],
  );
  assert.match(d.message, /S waits to send on "out": S\.out -> L\.b/);
});

test("Network does not report a deadlock while a receiver works through an async activation's unawaited sends", async () => {
  const got: unknown[] = [];
  const Fire = defineComponent({
    name: "test/Fire",
    description: "After an await, sends four values without awaiting.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(_v, ctx) {
      await work(0);
      for (let i = 0; i < 4; i++) void ctx.send("out", i);
    },
  });
  const net = network(
    { A: Fire, B: sinkInto(got, 30) },
    [edge("A.out", "B.in", { capacity: 1 })],
    { initials: [{ data: "go", to: { process: "A", port: "in" } }] },
    { deadlockDelayMs: 5 },
  );
  const reports: DeadlockReport[] = [];
  net.on("deadlock", (d) => void reports.push(d));
  await net.start();
  await net.finished;
  assert.deepEqual(got, range(4));
  assert.deepEqual(reports.map((d) => d.message), []);
});

test("Network does not report a deadlock while a receiver works through a guarded synchronous activation's surplus", async () => {
  const got: unknown[] = [];
  const Burst = defineComponent({
    name: "test/Burst",
    description: "Sends three values per input, synchronously.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      for (let i = 0; i < 3; i++) ctx.send("out", `${v}${i}`);
    },
  });
  const net = network(
    {
      S: sourceOf(["a", "b"]),
      G: { component: Burst, timeoutMs: 1000 },
      K: sinkInto(got, 30),
    },
    ["S.out>G.in", edge("G.out", "K.in", { capacity: 1 })],
    {},
    { deadlockDelayMs: 5 },
  );
  const reports: DeadlockReport[] = [];
  net.on("deadlock", (d) => void reports.push(d));
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["a0", "a1", "a2", "b0", "b1", "b2"]);
  assert.deepEqual(reports.map((d) => d.message), []);
});

test("Network reports a deadlock after a loop's parked send was taken while it waits in receive()", async () => {
  const release = gate();
  const holding = gate();
  const got: unknown[] = [];
  const A = defineComponent({
    name: "test/A",
    description: "Sends three values without awaiting, then waits for B.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async run(ctx) {
      for (let i = 0; i < 3; i++) void ctx.send("out", i);
      await ctx.receive("in");
    },
  });
  const B = defineComponent({
    name: "test/B",
    description: "Holds its first message at a gate; never sends.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v) {
      if (v === 0) {
        holding.open();
        await release.promise;
      }
      got.push(v);
    },
  });
  const net = network(
    { A, B },
    [edge("A.out", "B.in", { capacity: 1 }), "B.out>A.in"],
    {},
    { deadlockDelayMs: 10 },
  );
  await net.start();
  await holding.promise;
  release.open();
  await until(() => got.length === 3);
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(d.processes.map((p) => p.process).sort(), ["A", "B"]);
});

test("Network reports a deadlock after a source loop ended with an unawaited send", async () => {
  const release = gate();
  const holding = gate();
  const got: unknown[] = [];
  const S = defineComponent({
    name: "test/S",
    description: "Sends three values without awaiting and ends.",
    outPorts: { out: {} },
    run(ctx) {
      for (let i = 0; i < 3; i++) void ctx.send("out", i);
      return Promise.resolve();
    },
  });
  const K = defineComponent({
    name: "test/K",
    description: "Holds its first message at a gate.",
    inPorts: { in: {} },
    async process(v) {
      if (v === 0) {
        holding.open();
        await release.promise;
      }
      got.push(v);
    },
  });
  const net = network(
    { S, K, A: Waiter, B: Waiter },
    [edge("S.out", "K.in", { capacity: 1 }), "A.out>B.in", "B.out>A.in"],
    {},
    { deadlockDelayMs: 10 },
  );
  await net.start();
  await holding.promise;
  release.open();
  await until(() => got.length === 3);
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(d.processes.map((p) => p.process).sort(), ["A", "B"]);
});

test("Network reports a deadlock while an async activation awaits a send it made before its first await", async () => {
  const Both = defineComponent({
    name: "test/Both",
    description: "Sends v and -v and awaits both.",
    inPorts: { in: {} },
    outPorts: { out: {}, x: {} },
    async process(v, ctx) {
      await Promise.all([
        ctx.send("out", v),
        ctx.send("out", -(v as number)),
      ]);
    },
  });
  const OnlyX = defineComponent({
    name: "test/OnlyX",
    description: "Reads port x only.",
    inPorts: { in: {}, x: {} },
    async run(ctx) {
      await ctx.receive("x");
    },
  });
  const net = network(
    { S: sourceOf([1, 2]), A: Both, B: OnlyX },
    ["S.out>A.in", edge("A.out", "B.in", { capacity: 1 }), "A.x>B.x"],
    {},
    { deadlockDelayMs: 10 },
  );
  await net.start();
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(
    d.processes.map((p) => [p.process, p.waitingOn]).sort(),
    [["A", "send"], ["B", "receive"]],
  );
});
