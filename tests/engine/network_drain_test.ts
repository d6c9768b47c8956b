/**
 * `drain(timeout)`: stop the sources, let the backlog and in-flight work
 * reach zero, then stop.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import {
  Countdown,
  edge,
  endless,
  mapOf,
  network,
  range,
  sinkInto,
  sleep,
  until,
  work,
} from "./_helpers.ts";

test("Network drain lets every accepted message reach the sink", async () => {
  const got: number[] = [];
  const Ticker = defineComponent({
    name: "test/Ticker",
    description: "Counts up until aborted.",
    outPorts: { out: {} },
    async run(ctx) {
      let i = 0;
      while (!ctx.signal.aborted) {
        await ctx.send("out", i++);
        // Paced by a timer, as a real source is: the point, not a wait.
        await sleep(0);
      }
    },
  });
  let sent = 0;
  const Counted = defineComponent({
    name: "test/Counted",
    description: "Counts what passes.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      sent++;
      ctx.send("out", v);
    },
  });
  const net = network(
    { T: Ticker, C: Counted, K: sinkInto(got as unknown[], 1) },
    ["T.out>C.in", "C.out>K.in"],
  );
  await net.start();
  await until(() => got.length >= 5);
  const result = await net.drain(5000);
  assert.deepEqual(result, { drained: true, backlog: 0, discarded: 0 });
  assert.equal(net.state, "finished");
  assert.ok(got.length > 0);
  assert.equal(got.length, sent);
  assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i));
  assert.equal(net.stats().drops.stopped, 0);
});

test("Network drain past its timeout stops and reports the discarded backlog", async () => {
  let sourceDone!: () => void;
  const done = new Promise<void>((r) => (sourceDone = r));
  const Stubborn = defineComponent({
    name: "test/Stubborn",
    description: "Ignores the abort signal: sends 20 values whatever happens.",
    outPorts: { out: {} },
    async run(ctx) {
      for (let i = 0; i < 20; i++) await ctx.send("out", i);
      sourceDone();
    },
  });
  const Stuck = defineComponent({
    name: "test/Stuck",
    description: "Takes forever.",
    inPorts: { in: {} },
    process: () => new Promise<void>(() => {}),
  });
  const net = network({ S: Stubborn, K: Stuck }, [
    {
      from: { process: "S", port: "out" },
      to: { process: "K", port: "in" },
      capacity: 5,
    },
  ]);
  await net.start();
  await until(() => net.backlog === 6);
  const result = await net.drain(20);
  assert.equal(result.drained, false);
  assert.equal(result.backlog, 6); // 5 buffered + 1 waiting for room
  // ...and the one K took and was still working on.
  assert.equal(result.discarded, 7);
  assert.equal(net.state, "stopped");
  await done;
  // K's one value was cut off by the stop; the other 19 were discarded at
  // the stop or sent after it: all 20 counted.
  assert.equal(net.stats().drops.stopped, 20);
});

test("Network drain waits for in-flight async activations and delivers every accepted message", async () => {
  const sent = { n: 0 };
  const got: unknown[] = [];
  const Slow = defineComponent({
    name: "test/Slow",
    description: "Async work.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    concurrency: 3,
    async process(v, ctx) {
      await work(5);
      await ctx.send("out", v);
    },
  });
  const net = network(
    { S: endless(sent), W: Slow, K: sinkInto(got) },
    ["S.out>W.in", "W.out>K.in"],
  );
  await net.start();
  await until(() => got.length >= 5);
  const r = await net.drain(5000);
  assert.deepEqual(r, { drained: true, backlog: 0, discarded: 0 });
  assert.equal(net.state, "finished");
  assert.deepEqual(
    [...got].sort((a, b) => (a as number) - (b as number)),
    range(sent.n),
  );
});

test("Network drain waits for a retry's backoff and the retried activation", async () => {
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
      F: { component: Flaky, retry: { attempts: 2, backoffMs: 30 } },
      K: sinkInto(got),
    },
    ["F.out>K.in"],
    { inports: { in: { process: "F", port: "in" } } },
  );
  await net.start();
  await net.send("in", "x");
  assert.equal(attempts, 1);
  const r = await net.drain(5000);
  assert.deepEqual(r, { drained: true, backlog: 0, discarded: 0 });
  assert.equal(attempts, 2);
  assert.deepEqual(got, ["x"]);
});

test("Network drain waits for an async flush and everything it sends", async () => {
  const got: unknown[] = [];
  const Batch = defineComponent<unknown[]>({
    name: "test/Batch",
    description: "Keeps values, sends them all on flush.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    setup: () => [],
    process(v, ctx) {
      ctx.state.push(v);
    },
    async flush(ctx) {
      await work(5);
      for (const v of ctx.state) await ctx.send("out", v);
    },
  });
  const net = network(
    { B: Batch, K: sinkInto(got, 1) },
    [edge("B.out", "K.in", { capacity: 1 })],
    { inports: { in: { process: "B", port: "in" } } },
  );
  await net.start();
  for (const v of range(5)) await net.send("in", v);
  const r = await net.drain(5000);
  assert.deepEqual(r, { drained: true, backlog: 0, discarded: 0 });
  assert.deepEqual(got, range(5));
});

test("Network drain closes exported in-ports and resolves once their messages are processed", async () => {
  const got: unknown[] = [];
  const net = network(
    { M: mapOf((v) => v), K: sinkInto(got, 1) },
    ["M.out>K.in"],
    { inports: { in: { process: "M", port: "in" } } },
  );
  await net.start();
  for (const v of range(5)) await net.send("in", v);
  const r = await net.drain(5000);
  assert.deepEqual(r, { drained: true, backlog: 0, discarded: 0 });
  assert.deepEqual(got, range(5));
  assert.equal(net.state, "finished");
});

test("Network drain of a cycle resolves drained once every message is processed", async () => {
  const results: unknown[] = [];
  const net = network(
    { A: Countdown, B: mapOf((v) => v), K: sinkInto(results) },
    ["A.out>B.in", "B.out>A.in", "A.done>K.in"],
    {
      initials: [
        { data: 3, to: { process: "A", port: "in" } },
        { data: 5, to: { process: "A", port: "in" } },
      ],
    },
  );
  await net.start();
  await until(() => results.length === 2);
  const r = await net.drain(300);
  assert.deepEqual(r, { drained: true, backlog: 0, discarded: 0 });
});
