/**
 * A network moves every message from its sources to its sinks, in order, and
 * finishes when its sources end.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Component, defineComponent } from "../../src/engine/component.ts";
import {
  collectErrors,
  mapOf,
  network,
  range,
  sinkInto,
  sourceOf,
  within,
} from "./_helpers.ts";

test("Network runs a pipeline and resolves finished when the source ends", async () => {
  const got: unknown[] = [];
  const net = network(
    {
      S: sourceOf([1, 2, 3]),
      M: mapOf((v) => (v as number) * 10),
      K: sinkInto(got),
    },
    ["S.out>M.in", "M.out>K.in"],
  );
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.deepEqual(got, [10, 20, 30]);
  assert.equal(net.state, "finished");
});

test("Network keeps order through a long pipeline of 100 000 messages", async () => {
  const n = 100_000;
  const values = Array.from({ length: n }, (_, i) => i);
  const got: number[] = [];
  const procs: Record<string, ReturnType<typeof mapOf>> = {
    S: sourceOf(values),
  };
  const conns: string[] = [];
  let prev = "S";
  for (let i = 0; i < 8; i++) {
    procs[`M${i}`] = mapOf((v) => v);
    conns.push(`${prev}.out>M${i}.in`);
    prev = `M${i}`;
  }
  procs.K = sinkInto(got as unknown[]);
  conns.push(`${prev}.out>K.in`);
  const net = network(procs, conns);
  await net.start();
  await net.finished;
  assert.equal(got.length, n);
  for (let i = 0; i < n; i++) {
    if (got[i] !== i) assert.fail(`message ${i} out of order: ${got[i]}`);
  }
});

test("Network runs a 200-stage synchronous pipeline without overflowing the stack", async () => {
  const got: number[] = [];
  const procs: Record<string, Component> = { S: sourceOf(range(500)) };
  const conns: string[] = [];
  let prev = "S";
  for (let i = 0; i < 200; i++) {
    procs[`M${i}`] = mapOf((v) => (v as number) + 1);
    conns.push(`${prev}.out>M${i}.in`);
    prev = `M${i}`;
  }
  procs.K = sinkInto(got as unknown[]);
  conns.push(`${prev}.out>K.in`);
  const net = network(procs, conns);
  const errors = collectErrors(net);
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.deepEqual(got, range(500).map((v) => v + 200));
  assert.equal(errors.length, 0);
});

test("Network finishes a 3000-stage pipeline whose stages finish one after another", async () => {
  const got: number[] = [];
  const procs: Record<string, Component> = { S: sourceOf([0]) };
  const conns: string[] = [];
  let prev = "S";
  for (let i = 0; i < 3000; i++) {
    procs[`M${i}`] = mapOf((v) => (v as number) + 1);
    conns.push(`${prev}.out>M${i}.in`);
    prev = `M${i}`;
  }
  procs.K = sinkInto(got as unknown[]);
  conns.push(`${prev}.out>K.in`);
  const net = network(procs, conns);
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(got, [3000]);
});

test("Network treats a process function returning null like one returning nothing", async () => {
  const got: unknown[] = [];
  const Nully = defineComponent({
    name: "test/Nully",
    description: "A JavaScript process that returns null.",
    inPorts: { in: {} },
    process: ((v: unknown) => {
      got.push(v);
      return null;
    }) as unknown as (v: unknown) => void,
  });
  const net = network({ S: sourceOf([1, 2, 3]), N: Nully }, ["S.out>N.in"]);
  const errors = collectErrors(net);
  await net.start();
  const r = await within(net.finished);
  await net.stop();
  assert.equal(r, "finished");
  assert.deepEqual(got, [1, 2, 3]);
  assert.equal(errors.length, 0);
});
