/**
 * `retry`: a failed message is tried again after a backoff, and fails for
 * good after the last attempt.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import {
  collectErrors,
  network,
  proc,
  range,
  sinkInto,
  sourceOf,
  work,
} from "./_helpers.ts";

test("Network retries a failing activation with backoff until it succeeds", async () => {
  let calls = 0;
  const ok: unknown[] = [];
  const Flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails twice, then works.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if (++calls < 3) throw new Error("not yet");
      ctx.send("out", v);
    },
  });
  const net = network(
    {
      S: sourceOf(["x"]),
      F: { component: Flaky, retry: { attempts: 3, backoffMs: 1 } },
      K: sinkInto(ok),
    },
    ["S.out>F.in", "F.out>K.in"],
  );
  const events: unknown[] = [];
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(ok, ["x"]);
  assert.equal(calls, 3);
  assert.equal(events.length, 0);
  const f = net.stats().processes.find((p) => p.name === "F")!;
  assert.equal(f.errors.exception, 2);
  assert.equal(f.failures, 0);
});

test("Network gives up after the last retry and counts one failure", async () => {
  const Always = defineComponent({
    name: "test/Always",
    description: "Always fails.",
    inPorts: { in: {} },
    process() {
      throw new Error("no");
    },
  });
  const net = network(
    {
      S: sourceOf(["x"]),
      F: { component: Always, retry: { attempts: 2, backoffMs: 1 } },
    },
    ["S.out>F.in"],
  );
  const events: ProcessError[] = [];
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.equal(events.length, 1);
  const f = net.stats().processes.find((p) => p.name === "F")!;
  assert.equal(f.errors.exception, 2);
  assert.equal(f.failures, 1);
});

test("Network retries each failing message of a concurrent guarded sync process on its own", async () => {
  const tries = new Map<number, number>();
  const got: number[] = [];
  const Flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails the first attempt of every message (synchronously).",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      const n = (tries.get(v as number) ?? 0) + 1;
      tries.set(v as number, n);
      if (n === 1) throw new Error(`first attempt of ${v}`);
      ctx.send("out", v);
    },
  });
  const net = network(
    {
      S: sourceOf(range(20)),
      F: {
        component: Flaky,
        concurrency: 3,
        retry: { attempts: 2, backoffMs: 1 },
      },
      K: sinkInto(got),
    },
    ["S.out>F.in", "F.out>K.in"],
  );
  const errors = collectErrors(net);
  await net.start();
  await net.finished;
  assert.deepEqual([...got].sort((a, b) => a - b), range(20));
  assert.equal(errors.length, 0);
  const f = proc(net.stats(), "F");
  assert.equal(f.activations, 40);
  assert.equal(f.errors.exception, 20);
  assert.equal(f.failures, 0);
  assert.equal(f.activeActivations, 0);
});

test("Network retries each failing message of a concurrent guarded async process on its own", async () => {
  const tries = new Map<number, number>();
  const got: number[] = [];
  const Flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails the first attempt of every message (rejects).",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      const n = (tries.get(v as number) ?? 0) + 1;
      tries.set(v as number, n);
      await work(0);
      if (n === 1) throw new Error(`first attempt of ${v}`);
      await ctx.send("out", v);
    },
  });
  const net = network(
    {
      S: sourceOf(range(20)),
      F: {
        component: Flaky,
        concurrency: 4,
        retry: { attempts: 2, backoffMs: 1 },
      },
      K: sinkInto(got),
    },
    ["S.out>F.in", "F.out>K.in"],
  );
  const errors = collectErrors(net);
  await net.start();
  await net.finished;
  assert.deepEqual([...got].sort((a, b) => a - b), range(20));
  assert.equal(errors.length, 0);
  const f = proc(net.stats(), "F");
  assert.equal(f.activations, 40);
  assert.equal(f.errors.exception, 20);
  assert.equal(f.failures, 0);
});
