import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import {
  deferred,
  fakeContext,
  runComponent,
  statsOf,
  until,
  watchTimers,
} from "./_helpers.ts";
import { OverflowError, type ProcessError } from "../../src/engine/errors.ts";
import { FlowBatch } from "../../src/components/flow.ts";
import { Network } from "../../src/engine/network.ts";

/** setTimeout and clearTimeout replaced: timers fire only when told to. */
function manualTimers() {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const armed = new Map<number, { fn: () => void; ms: number }>();
  let nextId = 1;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    const id = nextId++;
    armed.set(id, { fn, ms: ms ?? 0 });
    return id;
  }) as unknown as typeof setTimeout;
  globalThis.clearTimeout =
    ((id?: number) => void armed.delete(id!)) as unknown as typeof clearTimeout;
  return {
    /** Delays of the armed timers. */
    delays: () => [...armed.values()].map((t) => t.ms),
    /** Runs every armed timer once. */
    fireAll() {
      const due = [...armed];
      armed.clear();
      for (const [, t] of due) t.fn();
    },
    restore() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

test("flow/Batch sends arrays of size and the rest when the input ends", async () => {
  const { outputs } = await runComponent(FlowBatch, {
    iips: { size: 3 },
    input: [1, 2, 3, 4, 5, 6, 7],
  });
  assert.deepEqual(outputs.out, [[1, 2, 3], [4, 5, 6], [7]]);
});

test("flow/Batch sends nothing for an empty input", async () => {
  const { outputs } = await runComponent(FlowBatch, {
    iips: { size: 3 },
    input: [],
  });
  assert.deepEqual(outputs.out, []);
});

test("flow/Batch sends a partial batch once its first message has waited timeout", async () => {
  let batchArrived!: () => void;
  const arrived = new Promise<void>((r) => (batchArrived = r));
  // Sends 1 and 2, waits for the timer's batch, then sends 3 and ends.
  const source = defineComponent({
    name: "test/Pausing",
    description: "Sends, waits for the first batch, sends again.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", 1);
      await ctx.send("out", 2);
      await arrived;
      await ctx.send("out", 3);
    },
  });
  const { outputs } = await runComponent(FlowBatch, {
    iips: { size: 10, timeout: "10ms" },
    feeds: [{ port: "in", component: source }],
    onArrival: () => batchArrived(),
  });
  assert.deepEqual(outputs.out, [[1, 2], [3]]);
});

test("flow/Batch rejects a size that is not a positive integer", () => {
  for (const bad of [0, -2, 2.5, "3", 100_001, 1e12]) {
    assert.throws(
      () => FlowBatch.inPorts.size.parse!(bad),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message.startsWith(
          "expected a positive integer up to 100000, received ",
        ),
    );
  }
});

test("flow/Batch rejects a timeout that is not a duration", () => {
  assert.throws(
    () => FlowBatch.inPorts.timeout.parse!(-5),
    /expected a duration such as 500/,
  );
});

test("flow/Batch keeps a timer batch it could not send and reports the failure with the next message", () => {
  const timers = manualTimers();
  try {
    const { ctx, sent } = fakeContext(FlowBatch, { size: 3, timeout: "1s" });
    const send = ctx.send;
    const full = new OverflowError("B.out -> K.in", 1);
    let failNext = false;
    ctx.send = (port, value, index) => {
      if (failNext) {
        failNext = false;
        throw full;
      }
      return send(port, value, index);
    };
    FlowBatch.process!("a", ctx);
    assert.deepEqual(timers.delays(), [1000]);
    failNext = true;
    assert.doesNotThrow(() => timers.fireAll(), "nothing thrown from a timer");
    assert.deepEqual(sent, []);
    assert.throws(() => FlowBatch.process!("b", ctx), full);
    FlowBatch.process!("c", ctx);
    assert.deepEqual(sent, [["out", ["a", "b", "c"]]]);
    assert.deepEqual(timers.delays(), []);
  } finally {
    timers.restore();
  }
});

test("flow/Batch sends a kept batch at the end, then reports why the timer could not", () => {
  const timers = manualTimers();
  try {
    const { ctx, sent } = fakeContext(FlowBatch, { size: 3, timeout: 5 });
    const send = ctx.send;
    const full = new OverflowError("B.out -> K.in", 1);
    let failNext = false;
    ctx.send = (port, value, index) => {
      if (failNext) {
        failNext = false;
        throw full;
      }
      return send(port, value, index);
    };
    FlowBatch.process!("a", ctx);
    failNext = true;
    timers.fireAll();
    assert.throws(() => FlowBatch.flush!(ctx), full);
    assert.deepEqual(sent, [["out", ["a"]]]);
  } finally {
    timers.restore();
  }
});

test("flow/Batch waits out a timeout beyond setTimeout's limit in steps", () => {
  const timers = manualTimers();
  try {
    const { ctx, sent } = fakeContext(FlowBatch, { size: 10, timeout: "600h" });
    FlowBatch.process!("a", ctx);
    assert.deepEqual(timers.delays(), [2_147_483_647]);
    timers.fireAll();
    assert.deepEqual(timers.delays(), [600 * 3_600_000 - 2_147_483_647]);
    assert.deepEqual(sent, []);
    timers.fireAll();
    assert.deepEqual(sent, [["out", ["a"]]]);
    assert.deepEqual(timers.delays(), []);
  } finally {
    timers.restore();
  }
});

test("flow/Batch with size 1 sends each message as its own array", async () => {
  const { outputs } = await runComponent(FlowBatch, {
    iips: { size: 1 },
    input: ["a", "b", "c"],
  });
  assert.deepEqual(outputs.out, [["a"], ["b"], ["c"]]);
});

test("flow/Batch sends the rest when the input ends and leaves no timer behind", async () => {
  const timers = watchTimers();
  try {
    const { outputs, state } = await runComponent(FlowBatch, {
      iips: { size: 10, timeout: "1h" },
      input: [1, 2, 3],
    });
    assert.equal(state, "finished");
    assert.deepEqual(outputs.out, [[1, 2, 3]]);
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), []);
  } finally {
    timers.restore();
  }
});

test("flow/Batch clears its timer when the network stops", async () => {
  const timers = watchTimers();
  try {
    const stopped = deferred();
    const Source = defineComponent({
      name: "test/Two",
      description: "Sends two values, then waits until stopped.",
      outPorts: { out: {} },
      async run(ctx) {
        await ctx.send("out", 1);
        await ctx.send("out", 2);
        await new Promise((r) =>
          ctx.signal.addEventListener("abort", r, { once: true })
        );
      },
    });
    const net = new Network({
      name: "batch-stop",
      processes: [
        { name: "S", component: Source },
        { name: "B", component: FlowBatch },
      ],
      connections: [{
        from: { process: "S", port: "out" },
        to: { process: "B", port: "in" },
      }],
      initials: [
        { data: 10, to: { process: "B", port: "size" } },
        { data: "1h", to: { process: "B", port: "timeout" } },
      ],
    });
    net.on("state", (s) => s === "stopped" && stopped.resolve());
    await net.start();
    await until(() => statsOf(net, "B").messagesIn.in === 2, "B took both");
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), [3_600_000]);
    await net.stop();
    await stopped.promise;
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), []);
  } finally {
    timers.restore();
  }
});

test("flow/Batch with a timeout beyond 24.8 days does not send a partial batch early", async () => {
  // 600 h is more than setTimeout's 2^31-1 ms: a raw timer fires at once.
  const Pausing = defineComponent({
    name: "test/Pausing",
    description: "Sends 1, waits 100 ms, sends 2.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", 1);
      await new Promise((r) => setTimeout(r, 100));
      await ctx.send("out", 2);
    },
  });
  const { outputs } = await runComponent(FlowBatch, {
    iips: { size: 10, timeout: "600h" },
    feeds: [{ port: "in", component: Pausing }],
  });
  assert.deepEqual(outputs.out, [[1, 2]]);
});

test("flow/Batch sends by timeout and by size in order when both happen", async () => {
  const timers = watchTimers();
  try {
    const Source = defineComponent({
      name: "test/Stepper",
      description: "Sends 1, waits for the timer's batch, then 2 to 4.",
      outPorts: { out: {} },
      async run(ctx) {
        const fired = timers.fired(7);
        await ctx.send("out", 1);
        await fired;
        for (const v of [2, 3, 4]) await ctx.send("out", v);
      },
    });
    const { outputs } = await runComponent(FlowBatch, {
      iips: { size: 2, timeout: 7 },
      feeds: [{ port: "in", component: Source }],
    });
    assert.deepEqual(outputs.out, [[1], [2, 3], [4]]);
    assert.deepEqual(timers.escaped, []);
  } finally {
    timers.restore();
  }
});

test("flow/Batch reports a batch its timer could not send instead of throwing from the timer", async () => {
  const gate = deferred();
  const took = deferred();
  const Gated = defineComponent({
    name: "test/Gated",
    description: "Holds its first message until the gate opens.",
    inPorts: { in: {} },
    process() {
      took.resolve();
      return gate.promise;
    },
  });
  const timers = watchTimers();
  try {
    const Source = defineComponent({
      name: "test/Stepper",
      description: "Sends one value per timer batch.",
      outPorts: { out: {} },
      async run(ctx) {
        await ctx.send("out", "a");
        await took.promise;
        for (const v of ["b", "c"]) {
          const fired = timers.fired(7);
          await ctx.send("out", v);
          await fired;
        }
        gate.resolve();
      },
    });
    const net = new Network({
      name: "batch-overflow",
      processes: [
        { name: "S", component: Source },
        { name: "B", component: FlowBatch },
        { name: "K", component: Gated },
      ],
      connections: [
        {
          from: { process: "S", port: "out" },
          to: { process: "B", port: "in" },
        },
        {
          from: { process: "B", port: "out" },
          to: { process: "K", port: "in" },
          capacity: 1,
          policy: "error",
        },
      ],
      initials: [
        { data: 10, to: { process: "B", port: "size" } },
        { data: 7, to: { process: "B", port: "timeout" } },
      ],
    });
    const errors: ProcessError[] = [];
    net.on("error", (e) => errors.push(e));
    await net.start();
    assert.equal(await net.finished, "finished");
    // A host would have crashed on an exception thrown from the timer.
    assert.deepEqual(
      timers.escaped.map((e) => (e as Error).message),
      [],
      "nothing thrown out of a timer callback",
    );
    assert.equal(errors.length, 1);
    assert.equal(errors[0].kind, "overflow");
  } finally {
    timers.restore();
  }
});
