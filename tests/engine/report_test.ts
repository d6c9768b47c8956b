import { test } from "node:test";
import assert from "node:assert/strict";
import {
  defineComponent,
  Network,
  ProcessError,
} from "../../src/engine/mod.ts";

/** A source that reports two faults it survives, then sends one value. */
const Source = defineComponent({
  name: "test/Reporting",
  description: "Reports two faults and goes on.",
  outPorts: { out: {} },
  async run(ctx) {
    ctx.report(new Error("the broker refused the credentials"));
    ctx.report(new Error("a payload is not JSON"), { topic: "a/b" });
    await ctx.send("out", "still running");
  },
});

test("ctx.report routes a fault to the network's error event without ending the process, and counts it", async () => {
  const seen: ProcessError[] = [];
  const got: unknown[] = [];
  const Sink = defineComponent({
    name: "test/Sink",
    description: "Keeps.",
    inPorts: { in: {} },
    process(v) {
      got.push(v);
    },
  });
  const net = new Network({
    name: "r",
    processes: [{ name: "S", component: Source }, {
      name: "K",
      component: Sink,
    }],
    connections: [{
      from: { process: "S", port: "out" },
      to: { process: "K", port: "in" },
    }],
    initials: [],
  });
  net.on("error", (e) => seen.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["still running"]);
  assert.deepEqual(seen.map((e) => [e.process, e.message]), [
    ["S", 'process "S" failed: the broker refused the credentials'],
    ["S", 'process "S" failed: a payload is not JSON'],
  ]);
  assert.deepEqual(seen[1].input, { topic: "a/b" });
  const s = net.stats().processes.find((p) => p.name === "S")!;
  assert.equal(s.errors.exception, 2);
});

test("ctx.report goes to a connected error port instead", async () => {
  const errors: unknown[] = [];
  const Catch = defineComponent({
    name: "test/Catch",
    description: "Keeps errors.",
    inPorts: { in: {} },
    process(v) {
      errors.push(v);
    },
  });
  const net = new Network({
    name: "r2",
    processes: [
      { name: "S", component: Source },
      { name: "C", component: Catch },
      { name: "D", component: Catch },
    ],
    connections: [
      {
        from: { process: "S", port: "error" },
        to: { process: "C", port: "in" },
      },
      { from: { process: "S", port: "out" }, to: { process: "D", port: "in" } },
    ],
    initials: [],
  });
  const events: unknown[] = [];
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.equal(events.length, 0);
  assert.deepEqual(
    errors.filter((e) => e instanceof ProcessError).map((e) =>
      (e as ProcessError).message
    ),
    [
      'process "S" failed: the broker refused the credentials',
      'process "S" failed: a payload is not JSON',
    ],
  );
});
