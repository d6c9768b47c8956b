/**
 * `concurrency` above 1: several async activations of one process in flight
 * at once.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { Network } from "../../src/engine/network.ts";
import {
  gate,
  network,
  proc,
  range,
  sinkInto,
  sleep,
  sourceOf,
  work,
} from "./_helpers.ts";

test("Network runs at most `concurrency` async activations at once and processes every message", async () => {
  let maxActive = 0;
  const got: number[] = [];
  const Work = defineComponent({
    name: "test/Work",
    description: "Async work.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      const a = proc(net.stats(), "W").activeActivations;
      if (a > maxActive) maxActive = a;
      await work(1);
      await ctx.send("out", v);
    },
  });
  const net: Network = network(
    {
      S: sourceOf(range(40)),
      W: { component: Work, concurrency: 4 },
      K: sinkInto(got),
    },
    ["S.out>W.in", "W.out>K.in"],
  );
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.equal(maxActive, 4);
  assert.deepEqual([...got].sort((a, b) => a - b), range(40));
  const w = proc(net.stats(), "W");
  assert.equal(w.activations, 40);
  assert.equal(w.activeActivations, 0);
});

test("Network gives each concurrent activation the in-port its own message arrived on", async () => {
  const seen: [string, string][] = [];
  const Tag = defineComponent({
    name: "test/Tag",
    description: "Records the port after an await.",
    inPorts: { a: {}, b: {} },
    async process(v, ctx) {
      await work(1);
      seen.push([ctx.port, String(v)[0]]);
    },
  });
  const net = network(
    {
      SA: sourceOf(range(10).map((i) => `a${i}`)),
      SB: sourceOf(range(10).map((i) => `b${i}`)),
      T: { component: Tag, concurrency: 3 },
    },
    ["SA.out>T.a", "SB.out>T.b"],
  );
  await net.start();
  await net.finished;
  assert.equal(seen.length, 20);
  for (const [port, tag] of seen) assert.equal(port, tag);
});

test("Network flushes and finishes a concurrent process only after every activation settled", async () => {
  let settled = 0;
  let settledAtFlush = -1;
  const Work = defineComponent({
    name: "test/Work",
    description: "Async work of varied length.",
    inPorts: { in: {} },
    concurrency: 5,
    async process(v) {
      await work(1 + (v as number) % 3);
      settled++;
    },
    flush() {
      settledAtFlush = settled;
    },
  });
  const net = network({ S: sourceOf(range(30)), W: Work }, ["S.out>W.in"]);
  await net.start();
  await net.finished;
  assert.equal(settledAtFlush, 30);
  assert.equal(settled, 30);
});

test("Network keeps ctx.state assignments of a process with concurrency above 1", async () => {
  const got: unknown[] = [];
  const Count = defineComponent<number>({
    name: "test/Count",
    description: "Counts messages in ctx.state, sends the count on flush.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    concurrency: 3,
    setup: () => 0,
    async process(_v, ctx) {
      ctx.state = ctx.state + 1;
      await work(0);
    },
    flush(ctx) {
      ctx.send("out", ctx.state);
    },
  });
  const net = network(
    { S: sourceOf(range(10)), C: Count, K: sinkInto(got) },
    ["S.out>C.in", "C.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [10]);
});

test("Network keeps each message's origin time through concurrent async activations", async () => {
  // "first" enters the network, 60 ms later "second" does; the activation of
  // "first" sends after the one of "second" started. Its latency at the sink
  // is at least the 60 ms it spent in the network.
  const release = gate();
  const Hold = defineComponent({
    name: "test/Hold",
    description: "Holds 'first' until 'second' arrives.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    concurrency: 2,
    async process(v, ctx) {
      if (v === "first") await release.promise;
      else release.open();
      await ctx.send("out", v);
    },
  });
  const Src = defineComponent({
    name: "test/Src",
    description: "first, pause, second.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", "first");
      // The time "first" spends in the network: the point, not a wait.
      await sleep(60);
      await ctx.send("out", "second");
    },
  });
  const got: unknown[] = [];
  const net = network(
    { S: Src, H: Hold, K: sinkInto(got) },
    ["S.out>H.in", "H.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["second", "first"]);
  const lat = net.stats().latency;
  assert.equal(lat.count, 2);
  assert.ok(
    lat.sum >= 0.05,
    `latency of "first" was measured from the origin of "second": sum ${lat.sum}s`,
  );
});
