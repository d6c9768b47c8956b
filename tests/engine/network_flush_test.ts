/**
 * `flush`: called once every data in-port is closed and empty, before the
 * out-ports close.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import {
  collectErrors,
  edge,
  network,
  proc,
  range,
  sinkInto,
  sourceOf,
  within,
  work,
} from "./_helpers.ts";

test("Network calls flush once inputs end, before closing the outputs", async () => {
  const got: unknown[] = [];
  const Count = defineComponent<{ n: number }>({
    name: "test/Count",
    description: "Counts, sends the total at the end.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    setup: () => ({ n: 0 }),
    process(_v, ctx) {
      ctx.state.n++;
    },
    flush(ctx) {
      ctx.send("out", ctx.state.n);
    },
  });
  const net = network(
    { S: sourceOf([1, 2, 3, 4]), C: Count, K: sinkInto(got) },
    ["S.out>C.in", "C.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [4]);
});

test("Network delivers everything a flush sends beyond the downstream capacity", async () => {
  const got: unknown[] = [];
  const Batch = defineComponent<unknown[]>({
    name: "test/Batch",
    description: "Keeps values, sends them all on flush without awaiting.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    setup: () => [],
    process(v, ctx) {
      ctx.state.push(v);
    },
    flush(ctx) {
      for (const v of ctx.state) ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf(range(20)), B: Batch, K: sinkInto(got, 1) },
    ["S.out>B.in", edge("B.out", "K.in", { capacity: 2 })],
  );
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(got, range(20));
});

test("Network routes a flush that throws to the error port and still finishes", async () => {
  const errs: ProcessError[] = [];
  const F = defineComponent({
    name: "test/BadFlush",
    description: "Flush throws.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process() {},
    flush() {
      throw new Error("flush failed");
    },
  });
  const net = network(
    { S: sourceOf([1]), F, E: sinkInto(errs) },
    ["S.out>F.in", "F.error>E.in"],
  );
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.equal(errs.length, 1);
  assert.match(errs[0].message, /flush failed/);
  assert.equal(errs[0].port, "");
  assert.equal(proc(net.stats(), "F").errors.exception, 1);
});

test("Network emits a flush that rejects as an error event and still finishes", async () => {
  const F = defineComponent({
    name: "test/BadFlush",
    description: "Flush rejects.",
    inPorts: { in: {} },
    process() {},
    async flush() {
      await work(0);
      throw new Error("flush rejected");
    },
  });
  const net = network({ S: sourceOf([1]), F }, ["S.out>F.in"]);
  const errors = collectErrors(net);
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /flush rejected/);
  assert.equal(errors[0].process, "F");
});

test("Network flush sees ctx.port as the empty string", async () => {
  let portInFlush: string | undefined;
  const F = defineComponent({
    name: "test/PortFlush",
    description: "Records ctx.port in flush.",
    inPorts: { in: {} },
    process() {},
    flush(ctx) {
      portInFlush = ctx.port;
    },
  });
  const net = network({ S: sourceOf([1]), F }, ["S.out>F.in"]);
  await net.start();
  await net.finished;
  assert.equal(portInFlush, "");
});
