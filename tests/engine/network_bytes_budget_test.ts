/**
 * The flow's bytes budget: over it, sources wait on their sends as on a
 * full connection, the network says `pressure: "bytes"`, and everything
 * still arrives.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { defineComponent } from "../../src/engine/component.ts";
import { Network } from "../../src/engine/network.ts";

const MiB = 2 ** 20;

/** Sends `n` fresh buffers of `size` bytes, awaiting each send. */
function bigSource(n: number, size: number) {
  return defineComponent({
    name: "test/Big",
    description: "Sends big buffers.",
    outPorts: { out: {} },
    async run(ctx) {
      for (let i = 0; i < n && !ctx.signal.aborted; i++) {
        const b = new Uint8Array(size);
        b[0] = i & 255;
        await ctx.send("out", b);
      }
    },
  });
}

/** Takes one buffer per macrotask (slower than the source), noting sizes. */
function slowSink(seen: { n: number; bytes: number }) {
  return defineComponent({
    name: "test/Slow",
    description: "Takes one per macrotask.",
    inPorts: { in: {} },
    async process(v) {
      seen.n++;
      seen.bytes += (v as Uint8Array).byteLength;
      await new Promise((r) => setTimeout(r, 0));
    },
  });
}

function flow(
  n: number,
  size: number,
  seen: { n: number; bytes: number },
  budget?: number,
) {
  return new Network({
    name: "big",
    processes: [
      { name: "Src", component: bigSource(n, size) },
      { name: "Sink", component: slowSink(seen) },
    ],
    connections: [{
      from: { process: "Src", port: "out" },
      to: { process: "Sink", port: "in" },
      capacity: 100_000,
    }],
  }, budget === undefined ? {} : { bytesBudget: budget });
}

test(
  "over its bytes budget a flow's source waits (pressure bytes), the buffers stay within it, and everything arrives",
  { timeout: 120_000 },
  async () => {
    const n = 1000;
    const size = 200_000; // 200 MB in all, if it were buffered at once
    const seen = { n: 0, bytes: 0 };
    const budget = 4 * MiB;
    const net = flow(n, size, seen, budget);
    let maxBuffered = 0;
    let pressured = 0;
    const rss0 = process.memoryUsage().rss;
    let maxRss = rss0;
    const watch = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, net.bufferedBytes);
      if (net.pressure === "bytes") pressured++;
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }, 1);
    await net.start();
    assert.equal(await net.finished, "finished");
    clearInterval(watch);
    assert.deepEqual(seen, { n, bytes: n * size });
    assert.ok(pressured > 0, "never under pressure");
    // At most one message over the budget: the send that crossed it.
    assert.ok(maxBuffered <= budget + size + 32, `buffered ${maxBuffered}`);
    assert.equal(net.bufferedBytes, 0);
    assert.equal(net.pressure, null);
    assert.equal(net.stats().pressure, null);
    // The 200 MB never were in memory at once: what RSS gained is the
    // budget and the garbage of the buffers taken, not yet collected
    // (bench/bytes_budget_bench.ts: +57 to +72 MiB for 120 MB sent, +122
    // MiB without a budget).
    assert.ok(
      maxRss - rss0 < 110 * MiB,
      `RSS grew ${((maxRss - rss0) / MiB).toFixed(0)} MiB`,
    );
  },
);

test(
  "without a budget the same flow buffers far more (what the budget prevents)",
  {
    timeout: 120_000,
  },
  async () => {
    const seen = { n: 0, bytes: 0 };
    const net = flow(200, 200_000, seen);
    let maxBuffered = 0;
    const watch = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, net.bufferedBytes);
    }, 1);
    await net.start();
    await net.finished;
    clearInterval(watch);
    assert.equal(seen.n, 200);
    assert.ok(maxBuffered > 8 * MiB, `buffered at most ${maxBuffered}`);
  },
);

test("the per-process and per-flow buffered bytes follow what is buffered", async () => {
  const net = new Network({
    name: "held",
    processes: [{
      name: "Hold",
      component: defineComponent({
        name: "test/Hold",
        description: "Never finishes its first message.",
        inPorts: { in: {} },
        process: () => new Promise<void>(() => {}),
      }),
    }],
    connections: [],
    inports: { in: { process: "Hold", port: "in" } },
  });
  await net.start();
  net.send("in", "first"); // taken, held in the activation
  net.send("in", "abcd");
  net.send("in", new Uint8Array(1000));
  const stats = net.stats();
  assert.equal(stats.bufferedBytes, 24 + 1032);
  assert.equal(stats.processes[0].bufferedBytes, 24 + 1032);
  assert.equal(stats.pressure, null);
  await net.stop();
  assert.equal(net.bufferedBytes, 0);
});

test("a host sending into an exported in-port over the budget waits for room", async () => {
  const taken: unknown[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const net = new Network({
    name: "host",
    processes: [{
      name: "Gate",
      component: defineComponent({
        name: "test/Gate",
        description: "Waits for the gate on its first message.",
        inPorts: { in: {} },
        async process(v) {
          taken.push(v);
          if (taken.length === 1) await gate;
        },
      }),
    }],
    connections: [],
    inports: { in: { process: "Gate", port: "in" } },
  }, { bytesBudget: 100 });
  await net.start();
  assert.equal(net.send("in", "a"), undefined); // taken at once
  // 116 bytes buffered, over the budget: the value is in, the host waits.
  const wait = net.send("in", "b".repeat(50));
  assert.ok(wait instanceof Promise);
  assert.equal(net.pressure, "bytes");
  assert.equal(net.stats().pressure, "bytes");
  release();
  await wait;
  assert.equal(net.pressure, null);
  net.closeInport("in");
  await net.finished;
  assert.equal(taken.length, 2);
});
