import { test } from "node:test";
import assert from "node:assert/strict";
import { CoreInterval } from "../../src/components/core.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { fakeContext, runComponent, watchTimers } from "./_helpers.ts";
import { runGraph } from "./_graph_helpers.ts";
import { createNetwork } from "../../src/embed.ts";

test("core/Interval with count sends 0..count-1 and finishes the network", async () => {
  const { outputs, state } = await runComponent(CoreInterval, {
    iips: { interval: "5ms", count: 4 },
  });
  assert.deepEqual(outputs.out, [0, 1, 2, 3]);
  assert.equal(state, "finished");
});

test("core/Interval without count ticks until the network drains", async () => {
  const { outputs, state } = await runComponent(CoreInterval, {
    iips: { interval: 2 },
    onArrival: ({ value }, net) => {
      if (value === 2) void net.drain(1000);
    },
  });
  assert.deepEqual(outputs.out, [0, 1, 2]);
  assert.equal(state, "finished");
});

test("core/Interval waits for room instead of dropping ticks", async () => {
  const { outputs } = await runComponent(CoreInterval, {
    iips: { interval: 1, count: 30 },
    capacity: 1,
  });
  assert.deepEqual(outputs.out, Array.from({ length: 30 }, (_, i) => i));
});

test("core/Interval rejects an interval of 0 with a sentence", () => {
  assert.throws(
    () => CoreInterval.inPorts.interval.parse!(0),
    {
      name: "RangeError",
      message: "expected a duration of at least 1 ms, received number 0",
    },
  );
});

test("core/Interval rejects a negative or fractional count", () => {
  for (const bad of [-1, 1.5]) {
    assert.throws(
      () => CoreInterval.inPorts.count.parse!(bad),
      {
        name: "RangeError",
        message:
          `expected a non-negative integer (0 for no limit), received number ${bad}`,
      },
    );
  }
});

test("core/Interval with a bad interval IIP fails the network start", async () => {
  await assert.rejects(
    runComponent(CoreInterval, { iips: { interval: "fast", count: 1 } }),
    /Cannot start network "test": process "T" \(core\/Interval\), control port "interval": expected a duration/,
  );
});

test("core/Interval applies a count lowered below the ticks sent at once", async () => {
  let thirdTick!: () => void;
  const ticked = new Promise<void>((r) => thirdTick = r);
  const Lower = defineComponent({
    name: "test/Lower",
    description: "Sets count to 2 once tick 2 has arrived.",
    outPorts: { out: {} },
    async run(ctx) {
      await ticked;
      await ctx.send("out", 2);
    },
  });
  const { outputs, state } = await runComponent(CoreInterval, {
    iips: { interval: 1, count: 0 },
    feeds: [{ port: "count", component: Lower }],
    onArrival: ({ value }) => value === 2 && thirdTick(),
  });
  assert.equal(state, "finished");
  assert.deepEqual(outputs.out.slice(0, 3), [0, 1, 2]);
});

test("core/Interval restarts its wait from the last tick when the interval changes", async () => {
  const { ctx, sent, setControl } = fakeContext(CoreInterval, {
    interval: "1h",
    count: 1,
  });
  const t0 = performance.now();
  const running = CoreInterval.run!(ctx);
  setControl("interval", 20);
  CoreInterval.onControl!("interval", 20, ctx);
  await running;
  const elapsed = performance.now() - t0;
  assert.deepEqual(sent, [["out", 0]]);
  assert.ok(elapsed >= 19 && elapsed < 1000, `ticked after ${elapsed} ms`);
});

test("core/Interval with count 1 sends one tick and finishes", async () => {
  const { outputs, state } = await runComponent(CoreInterval, {
    iips: { interval: 1, count: 1 },
  });
  assert.deepEqual(outputs.out, [0]);
  assert.equal(state, "finished");
});

test("core/Interval with count 0 ticks on until the network drains", async () => {
  const { outputs, state } = await runComponent(CoreInterval, {
    iips: { interval: 1, count: 0 },
    onArrival: ({ value }, net) => {
      if (value === 20) void net.drain(1000);
    },
  });
  assert.deepEqual(outputs.out, Array.from({ length: 21 }, (_, i) => i));
  assert.equal(state, "finished");
});

test("core/Interval applies a shortened interval without waiting out the old one", async () => {
  const Source = defineComponent({
    name: "test/Faster",
    description: "Sets the interval to 5 ms.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", "5ms");
    },
  });
  // Tick starts first, so it is already waiting out its hour.
  const { sinks } = await runGraph(
    `
    '1h' -> interval Tick(core/Interval)
    '2' -> count Tick
    Tick out -> in K(test/Sink)
    S(test/Faster) out -> interval Tick
    `,
    { extra: [Source], timeoutMs: 3000 },
  );
  assert.deepEqual(sinks.K, [0, 1]);
});

test("core/Interval with a 1 h interval stops at once on drain, leaving no timer", async () => {
  const timers = watchTimers();
  try {
    const net = createNetwork(
      `'1h' -> interval Tick(core/Interval) out -> in Drop(core/Drop)`,
    );
    await net.start();
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), [3_600_000]);
    const result = await net.drain(3000);
    assert.equal(result.drained, true);
    assert.equal(net.state, "finished");
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), []);
  } finally {
    timers.restore();
  }
});
