/**
 * `circuitBreaker`: closed, open after repeated failures, half-open after
 * the reset time, closed again on success.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { network, sinkInto, until } from "./_helpers.ts";

test("Network circuit breaker opens, rejects and counts, then half-opens and closes", async () => {
  let healthy = false;
  const passed: unknown[] = [];
  const Dep = defineComponent({
    name: "test/Dep",
    description: "Fails until healthy.",
    inPorts: { in: {} },
    outPorts: { out: {}, error: {} },
    process(v, ctx) {
      if (!healthy) throw new Error("down");
      ctx.send("out", v);
    },
  });
  const errs: unknown[] = [];
  const Feed = defineComponent({
    name: "test/Feed",
    description: "Sends what the test pushes.",
    outPorts: { out: {} },
    async run(ctx) {
      for await (const v of ctx.input("in")) await ctx.send("out", v);
    },
    inPorts: { in: {} },
  });
  const net = network(
    {
      F: Feed,
      D: {
        component: Dep,
        // Long enough that the third message still finds it open on a
        // loaded machine (30 ms failed once in a full bun run beside
        // others' tests).
        circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 400 },
      },
      OK: sinkInto(passed),
      E: sinkInto(errs),
    },
    ["F.out>D.in", "D.out>OK.in", "D.error>E.in"],
    { inports: { IN: { process: "F", port: "in" } } },
  );
  await net.start();
  const breaker = () =>
    net.stats().processes.find((p) => p.name === "D")!.breaker;
  assert.equal(breaker(), "closed");
  await net.send("IN", 1);
  await net.send("IN", 2);
  await until(() => errs.length === 2);
  assert.equal(breaker(), "open");
  await net.send("IN", 3); // rejected while open
  await until(() => errs.length === 3);
  const d = net.stats().processes.find((p) => p.name === "D")!;
  assert.equal(d.drops.circuit_open, 1);
  assert.equal((errs[2] as ProcessError).kind, "circuit_open");
  assert.equal((errs[2] as ProcessError).input, 3);
  await until(() => breaker() !== "open");
  assert.equal(breaker(), "half-open");
  healthy = true;
  await net.send("IN", 4);
  await until(() => passed.length === 1);
  assert.equal(breaker(), "closed");
  assert.deepEqual(passed, [4]);
  net.closeInport("IN");
  await net.finished;
});
