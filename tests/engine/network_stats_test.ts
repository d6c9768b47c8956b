/**
 * `stats()`: what a network counts per process and per connection.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import {
  collectErrors,
  connTo,
  mapOf,
  network,
  proc,
  range,
  sinkInto,
  sourceOf,
  until,
} from "./_helpers.ts";

test("Network stats count messages per port, queue depth, timing and latency", async () => {
  const got: unknown[] = [];
  const n = 1000;
  const net = network(
    {
      S: sourceOf(Array.from({ length: n }, (_, i) => i)),
      M: mapOf((v) => v),
      K: sinkInto(got),
    },
    ["S.out>M.in", "M.out>K.in"],
    {},
    { timingSampleEvery: 1 },
  );
  await net.start();
  await net.finished;
  const s = net.stats();
  const m = s.processes.find((p) => p.name === "M")!;
  assert.equal(m.messagesIn.in, n);
  assert.equal(m.messagesOut.out, n);
  assert.equal(m.activations, n);
  assert.equal(m.processing.count, n); // timingSampleEvery: 1 times every activation
  assert.equal(m.processing.counts.reduce((a, b) => a + b, 0), n);
  assert.equal(m.queueWait.in.count, n);
  assert.equal(m.queueDepth.in, 0);
  assert.equal(m.queueCapacity.in, 10);
  assert.equal(m.starts, 1);
  assert.equal(s.latency.count, n);
  assert.equal(s.backlog, 0);
  assert.equal(s.activeProcesses, 0);
  assert.equal(s.state, "finished");
  assert.equal(s.processes.find((p) => p.name === "S")!.messagesOut.out, n);
});

test("Network stats sample the timing of synchronous processes", async () => {
  const n = 10_000;
  const net = network(
    { S: sourceOf(Array.from({ length: n }, (_, i) => i)), K: sinkInto([]) },
    ["S.out>K.in"],
    {},
    { timingSampleEvery: 100 },
  );
  await net.start();
  await net.finished;
  const k = net.stats().processes.find((p) => p.name === "K")!;
  assert.equal(k.messagesIn.in, n);
  assert.ok(k.processing.count >= n / 100, `timed ${k.processing.count}`);
  assert.ok(k.processing.count < n, `timed ${k.processing.count}`);
});

test("Network stats report queue depth at capacity behind a blocked receiver", async () => {
  const Never = defineComponent({
    name: "test/Never",
    description: "Holds its first message forever.",
    inPorts: { in: {} },
    process: () => new Promise<void>(() => {}),
  });
  const net = network(
    { S: sourceOf(Array.from({ length: 100 }, (_, i) => i)), N: Never },
    [{
      from: { process: "S", port: "out" },
      to: { process: "N", port: "in" },
      capacity: 7,
    }],
  );
  await net.start();
  await until(() => net.backlog === 8);
  const s = net.stats();
  const nStats = s.processes.find((p) => p.name === "N")!;
  assert.equal(nStats.queueDepth.in, 8); // 7 buffered + 1 waiting for room
  assert.equal(nStats.activeActivations, 1);
  assert.equal(nStats.bufferedBytes, 8 * 8);
  assert.equal(s.backlog, 8);
  assert.equal(s.activeProcesses, 2);
  assert.equal(s.activeConnections, 1);
  assert.equal(s.partitions, 1);
  await net.stop();
});

test("Network stats count connected parts among healthy processes", async () => {
  const Idle = defineComponent({
    name: "test/Idle",
    description: "Waits.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process() {},
  });
  const net = network(
    { A: Idle, B: Idle, C: Idle, D: Idle },
    ["A.out>B.in", "C.out>D.in"],
    {
      inports: {
        IA: { process: "A", port: "in" },
        IC: { process: "C", port: "in" },
      },
    },
  );
  await net.start();
  assert.equal(net.stats().partitions, 2);
  net.closeInport("IC");
  await until(() => net.stats().partitions === 1);
  assert.equal(net.stats().partitions, 1);
  await net.stop();
});

test("Network stats count a control message that fails its port's parse as taken", async () => {
  const Strict = defineComponent({
    name: "test/Strict",
    description: "A control port that wants numbers.",
    inPorts: {
      in: {},
      n: {
        control: true,
        parse: (v) => {
          if (typeof v !== "number") throw new TypeError("expected a number");
          return v;
        },
      },
    },
    process() {},
  });
  const Ctl = defineComponent({
    name: "test/Ctl",
    description: "Sends a bad, then a good control value.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", "bad");
      await ctx.send("out", 2);
    },
  });
  const net = network({ C: Ctl, T: Strict }, ["C.out>T.n"], {
    initials: [{ data: 1, to: { process: "T", port: "in" } }],
  });
  collectErrors(net);
  await net.start();
  await net.finished;
  const s = net.stats();
  assert.equal(connTo(s, "C.out", "T.n").delivered, 2);
  assert.equal(proc(s, "T").messagesIn.n, 2);
});

test("Network stats record source-to-sink latency for the messages a loop sink takes", async () => {
  const got: unknown[] = [];
  const LoopSink = defineComponent({
    name: "test/LoopSink",
    description: "A loop that keeps what it reads.",
    inPorts: { in: {} },
    async run(ctx) {
      for await (const v of ctx.input("in")) got.push(v);
    },
  });
  const net = network({ S: sourceOf(range(10)), L: LoopSink }, ["S.out>L.in"]);
  await net.start();
  await net.finished;
  assert.equal(got.length, 10);
  assert.equal(net.stats().latency.count, 10);
});
