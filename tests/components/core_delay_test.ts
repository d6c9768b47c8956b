import { test } from "node:test";
import assert from "node:assert/strict";
import { CoreDelay } from "../../src/components/core.ts";
import { type Component, defineComponent } from "../../src/engine/component.ts";
import {
  fakeContext,
  feedOf,
  runComponent,
  statsOf,
  until,
  watchTimers,
} from "./_helpers.ts";
import { runGraph } from "./_graph_helpers.ts";
import { Network } from "../../src/engine/network.ts";
import { createNetwork } from "../../src/embed.ts";

/** A sink that pushes every message onto `kept`. */
function keeper(kept: unknown[]): Component {
  return defineComponent({
    name: "test/Keep",
    description: "Keeps values.",
    inPorts: { in: {} },
    process(v) {
      kept.push(v);
    },
  });
}

test("core/Delay forwards every message in order, none before the delay has passed", async () => {
  const t0 = performance.now();
  const { outputs, arrivals } = await runComponent(CoreDelay, {
    iips: { delay: "30ms" },
    input: [1, 2, 3, 4, 5],
  });
  assert.deepEqual(outputs.out, [1, 2, 3, 4, 5]);
  assert.ok(
    arrivals[0].at - t0 >= 30,
    `first message after ${arrivals[0].at - t0} ms`,
  );
});

test("core/Delay keeps order when the delay shrinks between messages", async () => {
  const { ctx, sent, setControl } = fakeContext(CoreDelay, { delay: 40 });
  const first = CoreDelay.process!(1, ctx);
  setControl("delay", 0);
  const second = CoreDelay.process!(2, ctx);
  await Promise.all([first, second]);
  assert.deepEqual(sent, [["out", 1], ["out", 2]]);
});

test("core/Delay sends nothing once the network stops", async () => {
  const { ctx, sent, abort } = fakeContext(CoreDelay, { delay: "1h" });
  const pending = CoreDelay.process!(1, ctx);
  abort();
  await pending;
  assert.deepEqual(sent, []);
});

test("core/Delay rejects a delay that is not a duration", () => {
  assert.throws(
    () => CoreDelay.inPorts.delay.parse!("soon"),
    (e: unknown) =>
      e instanceof RangeError && /expected a duration/.test(e.message) &&
      /received string "soon"/.test(e.message),
  );
});

test("core/Delay keeps order when its delay changes while messages wait", async () => {
  const Source = defineComponent({
    name: "test/DelayChanger",
    description: "Sends with a long, then a short, then a long delay.",
    outPorts: { out: {}, delay: {} },
    async run(ctx) {
      await ctx.send("out", 1);
      await ctx.send("delay", 0);
      await ctx.send("out", 2);
      await ctx.send("delay", "20ms");
      await ctx.send("out", 3);
      await ctx.send("delay", 0);
      await ctx.send("out", 4);
    },
  });
  const { sinks, errors } = await runGraph(
    `
    '40ms' -> delay D(core/Delay)
    S(test/DelayChanger) out -> in D out -> in K(test/Sink)
    S delay -> delay D
    `,
    { extra: [Source] },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.K, [1, 2, 3, 4]);
});

test("core/Delay delivers the messages still waiting when the network drains", async () => {
  const kept: unknown[] = [];
  const net = new Network({
    name: "delay-drain",
    processes: [
      { name: "S", component: feedOf([1, 2, 3]) },
      { name: "D", component: CoreDelay },
      { name: "K", component: keeper(kept) },
    ],
    connections: [
      { from: { process: "S", port: "out" }, to: { process: "D", port: "in" } },
      { from: { process: "D", port: "out" }, to: { process: "K", port: "in" } },
    ],
    initials: [{ data: "50ms", to: { process: "D", port: "delay" } }],
  });
  await net.start();
  await until(() => statsOf(net, "D").messagesIn.in === 3, "D took all 3");
  assert.deepEqual(kept, [], "nothing before the delay");
  const result = await net.drain(3000);
  assert.equal(result.drained, true);
  assert.deepEqual(kept, [1, 2, 3]);
});

test("core/Delay fed by an IIP delivers its message when the network drains", async () => {
  // NoFlo's classic "'x' -> in D(core/RepeatDelayed)": D has no upstream
  // process, but its message is in-flight work that drain promises to finish.
  const kept: unknown[] = [];
  const net = new Network({
    name: "delay-iip-drain",
    processes: [
      { name: "D", component: CoreDelay },
      { name: "K", component: keeper(kept) },
    ],
    connections: [
      { from: { process: "D", port: "out" }, to: { process: "K", port: "in" } },
    ],
    initials: [
      { data: "50ms", to: { process: "D", port: "delay" } },
      { data: "x", to: { process: "D", port: "in" } },
    ],
  });
  await net.start();
  const result = await net.drain(3000);
  assert.equal(result.drained, true);
  assert.deepEqual(kept, ["x"]);
});

test("core/Delay keeps order beyond 1000 waiting messages", async () => {
  const values = Array.from({ length: 2500 }, (_, i) => i);
  const { outputs, errors } = await runComponent(CoreDelay, {
    iips: { delay: "10ms" },
    input: values,
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, values);
});

test("core/Delay and flow/Throttle leave no timer behind when the network stops", async () => {
  const timers = watchTimers();
  try {
    const net = createNetwork(`
      'a' -> in D(core/Delay) out -> in Drop(core/Drop)
      '1h' -> delay D
      'b' -> in T(flow/Throttle) out -> in Drop2(core/Drop)
      'c' -> in T
      '0.001' -> rate T
    `.trimEnd());
    await net.start();
    await until(
      () => timers.live().filter((ms) => ms >= 1000).length === 2,
      "both wait",
    );
    await net.stop();
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), []);
  } finally {
    timers.restore();
  }
});

test("core/Delay: a drain that times out counts every message it gives up (delivered + dropped = sent)", async () => {
  // Issue 18: with 1,000 messages waiting inside a Delay, a short drain
  // reported only the 11 buffered ones; the 1,000 vanished uncounted.
  const kept: unknown[] = [];
  let sent = 0;
  const Source = defineComponent({
    name: "test/Flood",
    description: "Sends 0..1999, counting each send it makes.",
    outPorts: { out: {} },
    async run(ctx) {
      for (let i = 0; i < 2000 && !ctx.signal.aborted; i++) {
        sent++;
        const wait = ctx.send("out", i);
        if (wait) await wait;
      }
    },
  });
  const net = new Network({
    name: "delay-stop",
    processes: [
      { name: "S", component: Source },
      { name: "D", component: CoreDelay },
      { name: "K", component: keeper(kept) },
    ],
    connections: [
      { from: { process: "S", port: "out" }, to: { process: "D", port: "in" } },
      { from: { process: "D", port: "out" }, to: { process: "K", port: "in" } },
    ],
    initials: [{ data: "1h", to: { process: "D", port: "delay" } }],
  });
  await net.start();
  await until(
    () => statsOf(net, "D").activeActivations === 1000,
    "1,000 messages wait in D",
  );
  await until(() => net.backlog === 11, "10 buffered + 1 parked send");
  const result = await net.drain(50);
  assert.equal(result.drained, false);
  assert.equal(result.backlog, 11);
  assert.equal(result.discarded, 1011);
  assert.deepEqual(kept, []);
  const stats = net.stats();
  assert.equal(statsOf(net, "D").drops.stopped, 1011);
  assert.equal(kept.length + stats.drops.stopped, sent);
  assert.equal(sent, 1011);
});

test("core/Delay of 999999999999h waits on a chained timer instead of firing at once (issue 18)", async () => {
  // 3.6e18 ms: a raw setTimeout of it fires at once.
  const timers = watchTimers();
  try {
    const kept: unknown[] = [];
    const net = new Network({
      name: "delay-huge",
      processes: [
        { name: "D", component: CoreDelay },
        { name: "K", component: keeper(kept) },
      ],
      connections: [
        {
          from: { process: "D", port: "out" },
          to: { process: "K", port: "in" },
        },
      ],
      initials: [
        { data: "999999999999h", to: { process: "D", port: "delay" } },
        { data: "x", to: { process: "D", port: "in" } },
      ],
    });
    await net.start();
    await until(
      () => timers.live().includes(2_147_483_647),
      "the longest timer is armed",
    );
    // A timer of 0 ms would have run by now; the message still waits.
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(kept, []);
    assert.equal(statsOf(net, "D").activeActivations, 1);
    await net.stop();
    assert.equal(statsOf(net, "D").drops.stopped, 1);
  } finally {
    timers.restore();
  }
});
