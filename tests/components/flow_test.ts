import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { OverflowError } from "../../src/engine/errors.ts";
import {
  FlowBatch,
  FlowCounter,
  FlowFilter,
  FlowMap,
  FlowThrottle,
} from "../../src/components/flow.ts";
import { fakeContext, runComponent } from "./_helpers.ts";

test("flow/Map with fn sends fn(value) for each message, in order", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: { fn: (v: unknown) => (v as number) * 10 },
    input: [1, 2, 3],
  });
  assert.deepEqual(outputs.out, [10, 20, 30]);
  assert.deepEqual(errors, []);
});

test("flow/Map with an async fn sends the awaited results in order", async () => {
  const { outputs } = await runComponent(FlowMap, {
    iips: {
      fn: async (v: unknown) => {
        await new Promise((r) => setTimeout(r, 3 - (v as number)));
        return `#${v}`;
      },
    },
    input: [1, 2, 3],
  });
  assert.deepEqual(outputs.out, ["#1", "#2", "#3"]);
});

test("flow/Map with a synchronous fn returns no promise from its activation", () => {
  const { ctx, sent } = fakeContext(FlowMap, { fn: (v: unknown) => [v] });
  const returned = FlowMap.process!(7, ctx);
  assert.equal(returned, undefined);
  assert.deepEqual(sent, [["out", [7]]]);
});

test("flow/Map with a JSONata expr sends the expression's result", async () => {
  const { outputs } = await runComponent(FlowMap, {
    iips: { expr: "{ 'total': price * qty, 'name': $uppercase(name) }" },
    input: [
      { name: "nut", price: 2, qty: 3 },
      { name: "bolt", price: 5, qty: 1 },
    ],
  });
  assert.deepEqual(outputs.out, [
    { total: 6, name: "NUT" },
    { total: 5, name: "BOLT" },
  ]);
});

test("flow/Map sends what a JSONata expr builds as plain objects and arrays", async () => {
  const { outputs } = await runComponent(FlowMap, {
    iips: { expr: "items.{ 'p': price }" },
    input: [{ items: [{ price: 1 }, { price: 2 }] }],
  });
  const [result] = outputs.out as [{ p: number }[]];
  assert.deepEqual(Object.keys(result), ["0", "1"]);
  assert.equal(Object.getPrototypeOf(result[0]), Object.prototype);
  assert.deepEqual(result, [{ p: 1 }, { p: 2 }]);
});

test("flow/Map sends the parts of the input a JSONata expr selects by reference", async () => {
  const inner = { deep: [1, 2] };
  const { outputs } = await runComponent(FlowMap, {
    iips: { expr: "a" },
    input: [{ a: inner }],
  });
  assert.equal(outputs.out[0], inner);
});

test("flow/Map reports a failing fn and goes on with the next message", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: {
      fn: (v: unknown) => {
        if (v === 2) throw new Error("two is not allowed");
        return v;
      },
    },
    input: [1, 2, 3],
  });
  assert.deepEqual(outputs.out, [1, 3]);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /two is not allowed/);
  assert.equal(errors[0].input, 2);
});

test("flow/Map reports a JSONata evaluation error as an Error with its position", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: { expr: "$number(x) + 'a'" },
    input: [{ x: "1" }],
  });
  assert.deepEqual(outputs.out, []);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /JSONata expression failed at position \d+: /,
  );
});

test("flow/Map without fn or expr fails every message with a sentence", async () => {
  const { outputs, errors } = await runComponent(FlowMap, { input: [1, 2] });
  assert.deepEqual(outputs.out, []);
  assert.equal(errors.length, 2);
  assert.match(
    errors[0].message,
    /flow\/Map needs an fn or an expr option, and neither is set/,
  );
});

test("flow/Map with both fn and expr fails the message", async () => {
  const { errors } = await runComponent(FlowMap, {
    iips: { fn: (v: unknown) => v, expr: "$" },
    input: [1],
  });
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /takes an fn or an expr option, not both/);
});

test("flow/Map's expr port rejects a JSONata syntax error, naming the position", () => {
  assert.throws(
    () => FlowMap.inPorts.expr.parse!("price * "),
    (e: unknown) =>
      e instanceof SyntaxError &&
      /^invalid JSONata expression "price \* " at position \d+: /.test(
        e.message,
      ),
  );
});

test("flow/Map's fn port rejects a value that is not a function", () => {
  assert.throws(
    () => FlowMap.inPorts.fn.parse!("x => x"),
    {
      name: "TypeError",
      message:
        'expected a function (value) => result, received string "x => x"',
    },
  );
});

test("flow/Filter with fn forwards truthy messages on out and the rest on rejected", async () => {
  const { outputs } = await runComponent(FlowFilter, {
    iips: { fn: (v: unknown) => (v as number) % 2 === 0 },
    input: [1, 2, 3, 4, 5, 6],
  });
  assert.deepEqual(outputs.out, [2, 4, 6]);
  assert.deepEqual(outputs.rejected, [1, 3, 5]);
});

test("flow/Filter with a JSONata expr forwards the messages it holds for", async () => {
  const readings = [{ temp: 25 }, { temp: 31 }, { temp: 40 }, { temp: 12 }];
  const { outputs } = await runComponent(FlowFilter, {
    iips: { expr: "temp > 30" },
    input: readings,
  });
  assert.deepEqual(outputs.out, [{ temp: 31 }, { temp: 40 }]);
  assert.deepEqual(outputs.rejected, [{ temp: 25 }, { temp: 12 }]);
});

test("flow/Filter with an async fn keeps the order of messages", async () => {
  const { outputs } = await runComponent(FlowFilter, {
    iips: { fn: (v: unknown) => Promise.resolve((v as number) > 1) },
    input: [3, 1, 2],
  });
  assert.deepEqual(outputs.out, [3, 2]);
});

test("flow/Filter drops rejected messages when rejected is not connected", async () => {
  const { outputs, errors } = await runComponent(FlowFilter, {
    iips: { fn: (v: unknown) => v !== "no" },
    input: ["yes", "no", "ok"],
    capture: ["out"],
  });
  assert.deepEqual(outputs, { out: ["yes", "ok"] });
  assert.deepEqual(errors, []);
});

test("flow/Filter with a synchronous fn returns no promise from its activation", () => {
  const { ctx, sent } = fakeContext(FlowFilter, { fn: () => false });
  assert.equal(FlowFilter.process!(1, ctx), undefined);
  assert.deepEqual(sent, [["rejected", 1]]);
});

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
  for (const bad of [0, -2, 2.5, "3"]) {
    assert.throws(
      () => FlowBatch.inPorts.size.parse!(bad),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message.startsWith("expected a positive integer, received "),
    );
  }
});

test("flow/Batch rejects a timeout that is not a duration", () => {
  assert.throws(
    () => FlowBatch.inPorts.timeout.parse!(-5),
    /expected a duration such as 500/,
  );
});

test("flow/Throttle forwards every message in order, spaced by at least 1/rate", async () => {
  const rate = 100;
  const n = 6;
  const { outputs, arrivals } = await runComponent(FlowThrottle, {
    iips: { rate },
    input: Array.from({ length: n }, (_, i) => i),
  });
  assert.deepEqual(outputs.out, [0, 1, 2, 3, 4, 5]);
  const elapsed = arrivals[n - 1].at - arrivals[0].at;
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

test("flow/Counter forwards every message and sends the total on count at the end", async () => {
  const { outputs, arrivals } = await runComponent(FlowCounter, {
    input: ["a", "b", "c"],
  });
  assert.deepEqual(outputs.out, ["a", "b", "c"]);
  assert.deepEqual(outputs.count, [3]);
  assert.deepEqual(arrivals.at(-1)?.port, "count");
});

test("flow/Counter sends 0 on count for an empty input", async () => {
  const { outputs } = await runComponent(FlowCounter, { input: [] });
  assert.deepEqual(outputs.count, [0]);
});

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
