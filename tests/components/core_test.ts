import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CoreDelay,
  CoreDrop,
  CoreInterval,
  CoreKick,
  CoreMerge,
  CoreOutput,
  CoreRepeat,
} from "../../src/components/core.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { fakeContext, runComponent } from "./_helpers.ts";

test("core/Repeat forwards every message unchanged and in order", async () => {
  const value = { a: 1 };
  const { outputs, errors } = await runComponent(CoreRepeat, {
    input: [1, "two", value, null],
  });
  assert.deepEqual(outputs.out, [1, "two", value, null]);
  assert.equal(outputs.out[2], value);
  assert.deepEqual(errors, []);
});

test("core/Drop takes every message, sends nothing and finishes", async () => {
  const { outputs, errors, state } = await runComponent(CoreDrop, {
    input: [1, 2, 3],
  });
  assert.deepEqual(outputs, {});
  assert.deepEqual(errors, []);
  assert.equal(state, "finished");
});

test("core/Output logs each message as one line and forwards it", async () => {
  const logged: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  let outputs: Record<string, unknown[]>;
  try {
    ({ outputs } = await runComponent(CoreOutput, {
      input: ["hello", { n: 1 }, 2, new TypeError("bad"), 10n],
    }));
  } finally {
    console.log = original;
  }
  assert.deepEqual(logged, [
    ["hello"],
    ['{"n":1}'],
    ["2"],
    ["TypeError: bad"],
    ["10"],
  ]);
  assert.deepEqual(outputs.out?.slice(0, 3), ["hello", { n: 1 }, 2]);
});

test("core/Kick sends its data value once for each message on in", async () => {
  const { outputs } = await runComponent(CoreKick, {
    iips: { data: { go: true } },
    input: ["a", "b", "c"],
  });
  assert.deepEqual(outputs.out, [{ go: true }, { go: true }, { go: true }]);
});

test("core/Kick sends null when no data value was given", async () => {
  const { outputs } = await runComponent(CoreKick, { input: [1] });
  assert.deepEqual(outputs.out, [null]);
});

test("core/Merge forwards every message of every connection, each connection in order", async () => {
  const { outputs } = await runComponent(CoreMerge, {
    feeds: [
      { port: "in", values: ["a1", "a2", "a3"] },
      { port: "in", values: ["b1", "b2"] },
      { port: "in", values: ["c1"] },
    ],
  });
  const got = outputs.out as string[];
  assert.deepEqual([...got].sort(), ["a1", "a2", "a3", "b1", "b2", "c1"]);
  for (const prefix of ["a", "b", "c"]) {
    const mine = got.filter((v) => v.startsWith(prefix));
    assert.deepEqual(mine, [...mine].sort());
  }
});

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
      message: "expected a duration longer than 0, received number 0",
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
    /Cannot start network "test": expected a duration/,
  );
});

test("core/Output ignores NoFlo's options and logs the same line", async () => {
  const logged: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  try {
    await runComponent(CoreOutput, {
      iips: { options: { depth: 0, colors: true } },
      input: [{ deep: { er: [1] } }],
    });
  } finally {
    console.log = original;
  }
  assert.deepEqual(logged, [['{"deep":{"er":[1]}}']]);
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
