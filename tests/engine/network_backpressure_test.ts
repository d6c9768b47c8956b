/**
 * Back pressure (the `block` policy): a full connection makes the sender
 * wait, so memory stays bounded.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { Network } from "../../src/engine/network.ts";
import {
  edge,
  mapOf,
  network,
  proc,
  range,
  sourceOf,
  work,
} from "./_helpers.ts";

test("Network never buffers more than the capacity behind a slow receiver (block)", async () => {
  const got: unknown[] = [];
  let maxDepth = 0;
  const Slow = defineComponent({
    name: "test/Slow",
    description: "Slow sink that watches its queue.",
    inPorts: { in: {} },
    async process(v) {
      const depth = net.stats().processes.find((p) =>
        p.name === "K"
      )!.queueDepth.in;
      if (depth > maxDepth) maxDepth = depth;
      await work(1);
      got.push(v);
    },
  });
  const net: Network = network(
    { S: sourceOf(Array.from({ length: 40 }, (_, i) => i)), K: Slow },
    [{
      from: { process: "S", port: "out" },
      to: { process: "K", port: "in" },
      capacity: 3,
    }],
  );
  await net.start();
  await net.finished;
  assert.equal(got.length, 40);
  assert.equal(maxDepth, 3);
  assert.equal(
    net.stats().drops.drop_oldest + net.stats().drops.drop_newest,
    0,
  );
});

test("Network holds no more than capacity per connection over many messages (memory bound)", async () => {
  let maxBacklog = 0;
  const n = 20_000;
  const Watch = defineComponent({
    name: "test/Watch",
    description: "Watches the backlog every 100 messages.",
    inPorts: { in: {} },
    async process(v) {
      if ((v as number) % 100 === 0) {
        maxBacklog = Math.max(maxBacklog, net.backlog);
        await null;
      }
    },
  });
  const net: Network = network(
    {
      S: sourceOf(Array.from({ length: n }, (_, i) => i)),
      M: mapOf((v) => v),
      W: Watch,
    },
    ["S.out>M.in", "M.out>W.in"],
  );
  await net.start();
  await net.finished;
  // Two connections of capacity 10, plus at most one value waiting for room on each.
  assert.ok(maxBacklog <= 22, `backlog reached ${maxBacklog}`);
});

test("Network delivers in order every message a synchronous activation emits beyond the capacity", async () => {
  const got: number[] = [];
  const depthsAtSplit: number[] = [];
  let maxDepth = 0;
  const Split = defineComponent({
    name: "test/Split",
    description: "Emits 1000 messages per input.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      depthsAtSplit.push(proc(net.stats(), "K").queueDepth.in);
      for (let i = 0; i < 1000; i++) ctx.send("out", (v as number) * 1000 + i);
    },
  });
  const Sink = defineComponent({
    name: "test/AsyncSink",
    description: "Async sink that samples its queue.",
    inPorts: { in: {} },
    process(v) {
      if ((v as number) % 100 === 0) {
        const d = proc(net.stats(), "K").queueDepth.in;
        if (d > maxDepth) maxDepth = d;
      }
      got.push(v as number);
      // Settles later, so the splitter's output queues up.
      return Promise.resolve();
    },
  });
  const net: Network = network(
    { S: sourceOf([0, 1, 2]), P: Split, K: Sink },
    ["S.out>P.in", edge("P.out", "K.in", { capacity: 2 })],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, range(3000));
  assert.equal(depthsAtSplit.length, 3);
  // The splitter runs again only once its previous surplus has drained.
  for (const d of depthsAtSplit) assert.ok(d <= 2, `depth ${d} at activation`);
  // Capacity plus one activation's output.
  assert.ok(maxDepth <= 2 + 1000, `max depth ${maxDepth}`);
});
