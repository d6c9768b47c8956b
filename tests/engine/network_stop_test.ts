/**
 * `stop()`: abort the processes at once, run each teardown once, count what
 * was discarded.
 *
 * @module
 */
import { test } from "node:test";
import { consoleErrors } from "../_console.ts";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { Network } from "../../src/engine/network.ts";
import {
  collectErrors,
  connTo,
  gate,
  network,
  proc,
  range,
  sinkInto,
  sleep,
  sourceOf,
  until,
  within,
} from "./_helpers.ts";

/** A component whose teardown throws an error carrying its client's settings. */
const Untidy = defineComponent({
  name: "test/Untidy",
  description: "Its teardown throws an error carrying its client's settings.",
  inPorts: { in: {} },
  process() {},
  teardown() {
    throw Object.assign(new Error("socket already closed"), {
      options: { url: "mqtt://ops:hunter2@broker:1883" },
    });
  },
});

test("Network stop aborts processes, runs teardown and counts discarded messages", async () => {
  let tornDown = 0;
  const Forever = defineComponent({
    name: "test/Forever",
    description: "Sends until aborted.",
    outPorts: { out: {} },
    async run(ctx) {
      let i = 0;
      while (!ctx.signal.aborted) await ctx.send("out", i++);
    },
    teardown() {
      tornDown++;
    },
  });
  const Never = defineComponent({
    name: "test/Never",
    description: "Never finishes an activation.",
    inPorts: { in: {} },
    process: () => new Promise<void>(() => {}),
  });
  const net = network({ F: Forever, N: Never }, ["F.out>N.in"]);
  await net.start();
  await until(() => net.backlog === 11);
  await net.stop();
  assert.equal(await net.finished, "stopped");
  assert.equal(tornDown, 1);
  // 10 buffered + 1 waiting for room + 1 taken by N's endless activation.
  assert.equal(net.stats().drops.stopped, 12);
  assert.equal(proc(net.stats(), "N").drops.stopped, 12);
});

test("Network stop() called inside an activation ends the network at once", async () => {
  const got: unknown[] = [];
  let teardowns = 0;
  const Stopper = defineComponent({
    name: "test/Stopper",
    description: "Stops the network on 3.",
    inPorts: { in: {} },
    process(v) {
      got.push(v);
      if (v === 3) void net.stop();
    },
    teardown() {
      teardowns++;
    },
  });
  const net: Network = network({ S: sourceOf(range(10)), K: Stopper }, [
    "S.out>K.in",
  ]);
  const errors = collectErrors(net);
  await net.start();
  assert.equal(await within(net.finished), "stopped");
  // Nothing to await: the point is that no message comes after the stop.
  await sleep(0);
  assert.deepEqual(got, [0, 1, 2, 3]);
  assert.equal(teardowns, 1);
  assert.equal(errors.length, 0);
});

test("Network stop() emits a teardown that throws as an error event of its process, not on console.error, and runs the other teardowns", async () => {
  let tidied = 0;
  const Tidy = defineComponent({
    name: "test/Tidy",
    description: "Counts its teardown.",
    inPorts: { in: {} },
    process() {},
    teardown() {
      tidied++;
    },
  });
  // Exported in-ports keep both processes live until the stop.
  const net = network({ U: Untidy, T: Tidy }, [], {
    inports: {
      u: { process: "U", port: "in" },
      t: { process: "T", port: "in" },
    },
  });
  const errors = collectErrors(net);
  const printed = await consoleErrors(async () => {
    await net.start();
    await net.stop();
  });
  assert.equal(await net.finished, "stopped");
  assert.equal(tidied, 1);
  assert.deepEqual(printed, []);
  assert.deepEqual(
    errors.map((e) => [e.network, e.process, e.level, e.kind, e.message]),
    [[
      net.name,
      "U",
      "error",
      "exception",
      'process "U" failed: its teardown threw: socket already closed',
    ]],
  );
  assert.doesNotMatch(errors[0].message, /hunter2/);
  assert.equal((errors[0].cause as Error).message, "socket already closed");
});

test("Network stop ends a retry's backoff without running another attempt", async () => {
  let calls = 0;
  const first = gate();
  const Bad = defineComponent({
    name: "test/Bad",
    description: "Always throws.",
    inPorts: { in: {} },
    process() {
      calls++;
      first.open();
      throw new Error("no");
    },
  });
  const net = network(
    { B: { component: Bad, retry: { attempts: 3, backoffMs: 10_000 } } },
    [],
    { initials: [{ data: "x", to: { process: "B", port: "in" } }] },
  );
  await net.start();
  await first.promise;
  await net.stop();
  // Nothing to await: the point is that no attempt comes after the stop.
  await sleep(0);
  assert.equal(calls, 1, "the process ran again after the network stopped");
});

test("Network stop during an async flush counts the flush's later sends as stopped drops", async () => {
  const release = gate();
  const flushing = gate();
  let sendThrew: unknown = undefined;
  let flushDone = false;
  const got: unknown[] = [];
  const F = defineComponent({
    name: "test/LateFlush",
    description: "Sends in flush after a gate.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process() {},
    async flush(ctx) {
      flushing.open();
      await release.promise;
      try {
        ctx.send("out", "late");
      } catch (e) {
        sendThrew = e;
      }
      flushDone = true;
    },
  });
  const net = network(
    { F, K: sinkInto(got) },
    ["F.out>K.in"],
    { initials: [{ data: "x", to: { process: "F", port: "in" } }] },
  );
  const errors = collectErrors(net);
  await net.start();
  await flushing.promise;
  await net.stop();
  release.open();
  await until(() => flushDone);
  assert.equal(sendThrew, undefined);
  assert.deepEqual(got, []);
  assert.equal(errors.length, 0);
  assert.equal(connTo(net.stats(), "F.out", "K.in").drops.stopped, 1);
});

test("Network counts the sends of an activation that settles after stop as stopped drops, never throws", async () => {
  const release = gate();
  const started = gate();
  let outcome: string | undefined;
  const W = defineComponent({
    name: "test/Late",
    description: "Sends after a gate.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      started.open();
      await release.promise;
      try {
        const r = ctx.send("out", v);
        outcome = r === undefined ? "returned" : "promise";
      } catch (e) {
        outcome = `threw ${(e as Error).message}`;
      }
    },
  });
  const net = network(
    { W, K: sinkInto([]) },
    ["W.out>K.in"],
    { initials: [{ data: 1, to: { process: "W", port: "in" } }] },
  );
  await net.start();
  await started.promise;
  await net.stop();
  release.open();
  await until(() => outcome !== undefined);
  assert.equal(outcome, "returned");
  // One message given up, counted once: on W, whose activation the stop
  // cut off; its late send is that same message, not counted again.
  assert.equal(net.stats().drops.stopped, 1);
  assert.equal(proc(net.stats(), "W").drops.stopped, 1);
  assert.equal(proc(net.stats(), "W").activeActivations, 0);
});

test("Network runs each teardown once when a state listener calls stop() again", async () => {
  let teardowns = 0;
  const T = defineComponent({
    name: "test/Torn",
    description: "Counts teardowns.",
    inPorts: { in: {} },
    process() {},
    teardown() {
      teardowns++;
    },
  });
  const net = network({ T }, [], {
    inports: { in: { process: "T", port: "in" } },
  });
  net.on("state", (s) => {
    if (s === "stopping") void net.stop();
  });
  await net.start();
  await net.stop();
  assert.equal(teardowns, 1);
});

test("Network counts a teardown that throws as an error of its process, of kind exception, with its time", async () => {
  const net = network({ U: Untidy }, [], {
    inports: { u: { process: "U", port: "in" } },
  });
  collectErrors(net);
  await net.start();
  const before = Date.now();
  await net.stop();
  const u = net.stats().processes.find((p) => p.name === "U")!;
  assert.deepEqual(u.errors, { exception: 1, timeout: 0, overflow: 0 });
  // No message failed: a teardown is no activation.
  assert.equal(u.failures, 0);
  assert.ok(
    u.lastErrorAt !== null && Date.parse(u.lastErrorAt) >= before - 1000,
    String(u.lastErrorAt),
  );
});
