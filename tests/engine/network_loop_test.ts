/**
 * Loop components (`run`): they pull with `input()` and `receive()` and push
 * with `send()` until they return.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent, END } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import {
  connTo,
  dropsOf,
  edge,
  gate,
  network,
  proc,
  range,
  sinkInto,
  sourceOf,
  within,
} from "./_helpers.ts";

/** A loop that forwards the first three values of its input and returns. */
const Take3 = defineComponent({
  name: "test/Take3",
  description: "Forwards three values, then ends.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  async run(ctx) {
    for (let i = 0; i < 3; i++) {
      const v = await ctx.receive("in");
      if (v === END) return;
      await ctx.send("out", v);
    }
  },
});

test("Network loops read ports with input() and receive() until END", async () => {
  const got: unknown[] = [];
  const Pairs = defineComponent({
    name: "test/Pairs",
    description: "Pairs messages of a and b.",
    inPorts: { a: {}, b: {} },
    outPorts: { out: {} },
    async run(ctx) {
      for await (const a of ctx.input("a")) {
        const b = await ctx.receive("b");
        if (b === END) break;
        await ctx.send("out", [a, b]);
      }
      assert.equal(await ctx.receive("b"), END);
    },
  });
  const net = network(
    {
      A: sourceOf([1, 2, 3]),
      B: sourceOf(["x", "y", "z"]),
      P: Pairs,
      K: sinkInto(got),
    },
    ["A.out>P.a", "B.out>P.b", "P.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [[1, "x"], [2, "y"], [3, "z"]]);
});

test("Network keeps every value a loop sends without awaiting, in order", async () => {
  const got: unknown[] = [];
  const Eager = defineComponent({
    name: "test/Eager",
    description: "Sends 50 values without awaiting.",
    outPorts: { out: {} },
    run(ctx) {
      for (let i = 0; i < 50; i++) void ctx.send("out", i);
      return Promise.resolve();
    },
  });
  const net = network(
    { L: Eager, K: sinkInto(got, 1) },
    [edge("L.out", "K.in", { capacity: 2 })],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, range(50));
  assert.equal(connTo(net.stats(), "L.out", "K.in").delivered, 50);
});

test("Network releases upstream senders when a loop returns before reading all of its input", async () => {
  const got: unknown[] = [];
  const net = network(
    { S: sourceOf(range(100)), T: Take3, K: sinkInto(got) },
    [edge("S.out", "T.in", { capacity: 5 }), "T.out>K.in"],
  );
  await net.start();
  const r = await within(net.finished);
  await net.stop();
  assert.equal(r, "finished");
  assert.deepEqual(got, [0, 1, 2]);
});

test("Network counts the messages a finished loop never read as dropped", async () => {
  const Quit = defineComponent({
    name: "test/Quit",
    description: "Ends at once without reading.",
    inPorts: { in: {} },
    async run() {},
  });
  const net = network(
    { S: sourceOf(range(5)), Q: Quit },
    ["S.out>Q.in"],
  );
  await net.start();
  assert.equal(await within(net.finished), "finished");
  const s = net.stats();
  assert.equal(s.backlog, 0, "a finished network holds no messages");
  const c = connTo(s, "S.out", "Q.in");
  assert.equal(c.delivered + dropsOf(c.drops), 5);
});

test("Network routes an exception thrown by a loop to its error port and finishes", async () => {
  const errs: ProcessError[] = [];
  const Broken = defineComponent({
    name: "test/Broken",
    description: "Reads one value, then throws.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.receive("in");
      throw new Error("loop broke");
    },
  });
  const net = network(
    { S: sourceOf([1]), L: Broken, E: sinkInto(errs) },
    ["S.out>L.in", "L.error>E.in"],
  );
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.equal(errs.length, 1);
  assert.equal(errs[0].process, "L");
  assert.equal(errs[0].kind, "exception");
  assert.match(errs[0].message, /loop broke/);
  assert.equal(proc(net.stats(), "L").errors.exception, 1);
});

test("Network ends a loop's pending receive() with END when its upstream finishes", async () => {
  const release = gate();
  const seen: unknown[] = [];
  const waiting = gate();
  const Late = defineComponent({
    name: "test/Late",
    description: "Sends one value once released.",
    outPorts: { out: {} },
    async run(ctx) {
      await release.promise;
      await ctx.send("out", "v");
    },
  });
  const Read = defineComponent({
    name: "test/Read",
    description: "Reads until END.",
    inPorts: { in: {} },
    async run(ctx) {
      for (;;) {
        const p = ctx.receive("in");
        waiting.open();
        const v = await p;
        seen.push(v);
        if (v === END) return;
      }
    },
  });
  const net = network({ R: Read, S: Late }, ["S.out>R.in"]);
  await net.start();
  await waiting.promise;
  release.open();
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(seen, ["v", END]);
});

test("Network lets a loop await receive() on two ports at once", async () => {
  const got: unknown[] = [];
  const Zip = defineComponent({
    name: "test/Zip",
    description: "Pairs one value of a with one of b.",
    inPorts: { a: {}, b: {} },
    outPorts: { out: {} },
    async run(ctx) {
      for (;;) {
        const [x, y] = await Promise.all([
          ctx.receive("a"),
          ctx.receive("b"),
        ]);
        if (x === END || y === END) return;
        await ctx.send("out", [x, y]);
      }
    },
  });
  const net = network(
    {
      Z: Zip,
      A: sourceOf([1, 2, 3], 1),
      B: sourceOf(["x", "y", "z"], 1),
      K: sinkInto(got),
    },
    ["A.out>Z.a", "B.out>Z.b", "Z.out>K.in"],
  );
  await net.start();
  const r = await within(net.finished);
  await net.stop();
  assert.equal(r, "finished");
  assert.deepEqual(got, [[1, "x"], [2, "y"], [3, "z"]]);
});
