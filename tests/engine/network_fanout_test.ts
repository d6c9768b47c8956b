/**
 * Fan-out: an out-port with several connections gives every receiver the
 * same value.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import {
  collectErrors,
  connTo,
  dropsOf,
  edge,
  gate,
  network,
  proc,
  range,
  sinkInto,
  sourceOf,
  until,
} from "./_helpers.ts";

test("Network fan-out shares the same value with every receiver", async () => {
  const a: unknown[] = [];
  const b: unknown[] = [];
  const value = { deep: { n: 1 } };
  const net = network(
    { S: sourceOf([value]), A: sinkInto(a), B: sinkInto(b) },
    ["S.out>A.in", "S.out>B.in"],
  );
  await net.start();
  await net.finished;
  assert.equal(a[0], value);
  assert.equal(b[0], value);
});

test("Network fan-out to a slow and a fast receiver delivers every message to both, in order", async () => {
  const fast: unknown[] = [];
  const slow: unknown[] = [];
  const net = network(
    { S: sourceOf(range(100)), F: sinkInto(fast), W: sinkInto(slow, 1) },
    [
      edge("S.out", "W.in", { capacity: 3 }),
      edge("S.out", "F.in", { capacity: 3 }),
    ],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(fast, range(100));
  assert.deepEqual(slow, range(100));
  const s = net.stats();
  assert.equal(proc(s, "S").messagesOut.out, 100);
  assert.equal(connTo(s, "S.out", "F.in").delivered, 100);
  assert.equal(connTo(s, "S.out", "W.in").delivered, 100);
  assert.equal(dropsOf(s.drops), 0);
});

test("Network fan-out still delivers a value to the other connections when its full `error` connection refuses it", async () => {
  // G takes "first" and waits at the gate, so B -> G (capacity 1) fills
  // with 0 and refuses 1. C, on its own connection, must still get 1.
  const release = gate();
  const g: unknown[] = [];
  const c: unknown[] = [];
  const Gated = defineComponent({
    name: "test/Gated",
    description: "Waits for the gate on its first message.",
    inPorts: { in: {} },
    async process(v) {
      await release.promise;
      g.push(v);
    },
  });
  const Burst = defineComponent({
    name: "test/Burst",
    description: "Sends 0 and 1 in one activation.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(_v, ctx) {
      ctx.send("out", 0);
      ctx.send("out", 1);
    },
  });
  const net = network(
    { G: Gated, B: Burst, C: sinkInto(c) },
    [
      edge("B.out", "G.in", { capacity: 1, policy: "error" }),
      edge("B.out", "C.in"),
    ],
    {
      initials: [
        { data: "first", to: { process: "G", port: "in" } },
        { data: "go", to: { process: "B", port: "in" } },
      ],
    },
  );
  const errors = collectErrors(net);
  await net.start();
  await until(() => errors.length === 1);
  release.open();
  await net.finished;
  assert.deepEqual(g, ["first", 0]);
  assert.equal(errors.length, 1);
  assert.equal(connTo(net.stats(), "B.out", "G.in").drops.refused, 1);
  assert.deepEqual(c, [0, 1]);
});
