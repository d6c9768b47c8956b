/**
 * `timeoutMs`: an async activation that does not settle in time fails with
 * kind `timeout`.
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
  sinkInto,
  sourceOf,
  work,
} from "./_helpers.ts";

test("Network fails an async activation that outlives timeoutMs", async () => {
  const events: ProcessError[] = [];
  const ok: unknown[] = [];
  const Hang = defineComponent({
    name: "test/Hang",
    description: "Never settles on 'hang'.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if (v === "hang") return new Promise<void>(() => {});
      return ctx.send("out", v) ?? Promise.resolve();
    },
  });
  const net = network(
    {
      S: sourceOf(["a", "hang", "b"]),
      H: { component: Hang, timeoutMs: 20 },
      K: sinkInto(ok),
    },
    ["S.out>H.in", "H.out>K.in"],
  );
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(ok, ["a", "b"]);
  assert.equal(events.length, 1);
  assert.equal(events[0].kind, "timeout");
  assert.match(events[0].message, /did not settle within 20 ms/);
  assert.equal(
    net.stats().processes.find((p) => p.name === "H")!.errors.timeout,
    1,
  );
});

test("Network times out only the concurrent activations that outlive timeoutMs", async () => {
  const got: unknown[] = [];
  const Maybe = defineComponent({
    name: "test/Maybe",
    description: "Never settles on 'hang', else forwards.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if (v === "hang") return new Promise<void>(() => {});
      return (async () => {
        await work(1);
        await ctx.send("out", v);
      })();
    },
  });
  const net = network(
    {
      S: sourceOf(["hang", 1, 2, "hang", 3, 4]),
      M: { component: Maybe, concurrency: 2, timeoutMs: 30 },
      K: sinkInto(got),
    },
    ["S.out>M.in", "M.out>K.in"],
  );
  const errors = collectErrors(net);
  await net.start();
  await net.finished;
  assert.deepEqual([...got].sort(), [1, 2, 3, 4]);
  assert.deepEqual(errors.map((e) => [e.kind, e.input]), [
    ["timeout", "hang"],
    ["timeout", "hang"],
  ]);
  assert.equal(proc(net.stats(), "M").errors.timeout, 2);
});
