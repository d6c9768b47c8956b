import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import {
  captureOf,
  deferred,
  fakeContext,
  runComponent,
  statsOf,
  until,
  watchTimers,
} from "./_helpers.ts";
import { Network } from "../../src/engine/network.ts";
import { runGraph } from "./_graph_helpers.ts";
import { FlowThrottle } from "../../src/components/flow.ts";

test("flow/Throttle forwards every message in order, spaced by at least 1/rate", async () => {
  const rate = 100;
  const n = 6;
  // From before the start: the first message goes at once, but its arrival
  // may be late by the scheduler's jitter (measured from it, the spacing
  // came out 1 ms short on Bun once), while the last cannot go before
  // (n - 1) / rate after the first went.
  const t0 = performance.now();
  const { outputs, arrivals } = await runComponent(FlowThrottle, {
    iips: { rate },
    input: Array.from({ length: n }, (_, i) => i),
  });
  assert.deepEqual(outputs.out, [0, 1, 2, 3, 4, 5]);
  const elapsed = arrivals[n - 1].at - t0;
  assert.ok(
    elapsed >= ((n - 1) / rate) * 1000,
    `${n} messages at ${rate}/s took only ${elapsed} ms`,
  );
});

test("flow/Throttle delays the activation rather than dropping messages", async () => {
  const { outputs, errors } = await runComponent(FlowThrottle, {
    iips: { rate: 500 },
    input: Array.from({ length: 20 }, (_, i) => i),
    capacity: 1,
  });
  assert.deepEqual(outputs.out, Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual(errors, []);
});

test("flow/Throttle rejects a rate that is not above 0", () => {
  for (const bad of [0, -1, Infinity]) {
    assert.throws(
      () => FlowThrottle.inPorts.rate.parse!(bad),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message.startsWith(
          "expected a rate in messages per second above 0, received number ",
        ),
    );
  }
});

test("flow/Throttle applies a raised rate to the message already waiting", async () => {
  const { ctx, sent, setControl, abort } = fakeContext(FlowThrottle, {
    rate: 0.01,
  });
  // Without the change m2 would wait 100 s: give up (send nothing) sooner.
  const guard = setTimeout(abort, 2000);
  FlowThrottle.process!("m1", ctx);
  const waiting = FlowThrottle.process!("m2", ctx);
  assert.deepEqual(sent, [["out", "m1"]]);
  setControl("rate", 1000);
  FlowThrottle.onControl!("rate", 1000, ctx);
  await waiting;
  clearTimeout(guard);
  assert.deepEqual(sent, [["out", "m1"], ["out", "m2"]]);
});

test("flow/Throttle applies a raised rate to the next message", async () => {
  const arrived = deferred();
  const Source = defineComponent({
    name: "test/RateChanger",
    description: "Sends m1, raises the rate once it arrived, sends m2 and m3.",
    outPorts: { out: {}, rate: {} },
    async run(ctx) {
      await ctx.send("out", "m1");
      await arrived.promise;
      await ctx.send("rate", 1000);
      await ctx.send("out", "m2");
      await ctx.send("out", "m3");
    },
  });
  const { sinks, errors } = await runGraph(
    `
    '0.01' -> rate T(flow/Throttle)
    S(test/RateChanger) out -> in T out -> in K(test/Sink)
    S rate -> rate T
    `,
    {
      extra: [Source],
      timeoutMs: 3000,
      onSink: () => arrived.resolve(),
    },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.K, ["m1", "m2", "m3"]);
});

test("flow/Throttle spaces the next message by a lowered rate", async () => {
  const { ctx, sent, setControl } = fakeContext(FlowThrottle, { rate: 100 });
  const t0 = performance.now();
  const a = FlowThrottle.process!(1, ctx);
  const b = FlowThrottle.process!(2, ctx);
  setControl("rate", 50);
  const c = FlowThrottle.process!(3, ctx);
  await Promise.all([a, b, c]);
  assert.deepEqual(sent, [["out", 1], ["out", 2], ["out", 3]]);
  // 1 at once, 2 after 1/100 s, and 3, sent with the rate at 50/s, 1/50 s
  // after 2: no two messages closer than the rate in force allows.
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 30, `three messages took only ${elapsed} ms`);
});

test("flow/Throttle at a very high rate forwards every message in order", async () => {
  const values = Array.from({ length: 500 }, (_, i) => i);
  const { outputs, errors } = await runComponent(FlowThrottle, {
    iips: { rate: 1e9 },
    input: values,
    capacity: 2,
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, values);
});

test("flow/Throttle at a rate of 1e-300 per second sends the first message and waits on a chained timer (issue 18)", async () => {
  // 1e303 ms between messages: a raw setTimeout of it fires at once.
  const timers = watchTimers();
  try {
    const kept: unknown[] = [];
    const net = new Network({
      name: "throttle-slow",
      processes: [
        { name: "T", component: FlowThrottle },
        { name: "K", component: captureOf((v) => kept.push(v)) },
      ],
      connections: [
        {
          from: { process: "T", port: "out" },
          to: { process: "K", port: "in" },
        },
      ],
      initials: [
        { data: 1e-300, to: { process: "T", port: "rate" } },
        { data: "a", to: { process: "T", port: "in" } },
        { data: "b", to: { process: "T", port: "in" } },
      ],
    });
    await net.start();
    await until(
      () => kept.length === 1 && timers.live().includes(2_147_483_647),
      "the first message went, the second waits on the longest timer",
    );
    // A timer of 0 ms would have run by now; the second still waits.
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(kept, ["a"]);
    await net.stop();
    assert.equal(statsOf(net, "T").drops.stopped, 1);
  } finally {
    timers.restore();
  }
});
