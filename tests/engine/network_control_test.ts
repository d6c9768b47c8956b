/**
 * Control ports: parsed values that a process reads, which hold data back
 * until they have one.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { Network } from "../../src/engine/network.ts";
import {
  network,
  proc,
  scaleOf,
  sinkInto,
  sourceOf,
  until,
} from "./_helpers.ts";

test("Network applies control IIPs (parsed) before data and keeps the latest value", async () => {
  const got: unknown[] = [];
  const Scale = scaleOf();
  const net = network(
    { S: sourceOf([1, 2]), X: Scale, K: sinkInto(got) },
    ["S.out>X.in", "X.out>K.in"],
    { initials: [{ data: "3", to: { process: "X", port: "factor" } }] },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [3, 6]);
  assert.equal(
    net.stats().processes.find((p) => p.name === "X")!.messagesIn.factor,
    1,
  );
});

test("Network start rejects when a control IIP fails its port's parse", async () => {
  const C = defineComponent({
    name: "test/C",
    description: "Needs a positive size.",
    inPorts: {
      size: {
        control: true,
        parse(v) {
          if (!(typeof v === "number" && v > 0)) {
            throw new RangeError("size must be positive");
          }
          return v;
        },
      },
      in: {},
    },
    process() {},
  });
  const net = network({ C }, [], {
    initials: [{ data: 0, to: { process: "C", port: "size" } }],
  });
  await assert.rejects(
    net.start(),
    // Which process, of which component, and the port: a graph may hold
    // many processes of one component.
    /^Error: Cannot start network "test": process "C" \(test\/C\), control port "size": size must be positive$/,
  );
  assert.equal(net.state, "stopped");
});

test("Network holds messages back until a connected control port has a value", async () => {
  const got: unknown[] = [];
  const Scale = scaleOf();
  const Late = defineComponent({
    name: "test/Late",
    description: "Sends 3 once the data wait at X.",
    outPorts: { out: {} },
    async run(ctx) {
      await until(() => proc(net.stats(), "X").queueDepth.in === 2);
      await ctx.send("out", 3);
    },
  });
  const net: Network = network(
    { S: sourceOf([1, 2]), F: Late, X: Scale, K: sinkInto(got) },
    ["S.out>X.in", "F.out>X.factor", "X.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [3, 6]);
});

test("Network releases the hold when the control port's connections close without a value", async () => {
  const got: unknown[] = [];
  const Scale = scaleOf();
  const net = network(
    { S: sourceOf([1, 2]), F: sourceOf([]), X: Scale, K: sinkInto(got) },
    ["S.out>X.in", "F.out>X.factor", "X.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [1, 2]);
});

test("Network calls onControl when a control port takes a new value while running", async () => {
  const seen: [string, unknown][] = [];
  const Watch = defineComponent({
    name: "test/Watch2",
    description: "Records control changes.",
    inPorts: { in: {}, level: { control: true, parse: (v) => Number(v) } },
    process() {},
    onControl(port, value) {
      seen.push([port, value]);
    },
  });
  const net = network(
    { S: sourceOf(["4", "5"]), W: Watch },
    ["S.out>W.level"],
    { initials: [{ data: "1", to: { process: "W", port: "level" } }] },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(seen, [["level", 4], ["level", 5]]);
});
