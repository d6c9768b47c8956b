import { test } from "node:test";
import assert from "node:assert/strict";
import { problemsOf, runGraph } from "./_graph_helpers.ts";
import { deferred, fakeContext, until, watchTimers } from "./_helpers.ts";
import { createNetwork } from "../../src/embed.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { flowJoin, type JoinedParts } from "../../src/components/flow_join.ts";
import { builtins } from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { OverflowError } from "../../src/engine/errors.ts";

/** `value` as JSON in an .fbp IIP (single quotes escaped). */
function iip(value: unknown): string {
  return `'${JSON.stringify(value).replaceAll("'", "\\'")}'`;
}

/** .fbp lines sending each value, as JSON, through json/Parse process `P` to `J`. */
function feed(values: unknown[]): string {
  const lines = values.map((v, i) =>
    `${iip(v)} -> in P${i === 0 ? "(json/Parse)" : ""}`
  );
  return `${lines.join("\n")}\nP out -> in J`;
}

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
    delays: () => [...armed.values()].map((t) => t.ms),
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

test("flow/Join joins every N messages of a key into an array, and sends the rest at the end", async () => {
  const { sinks, errors } = await runGraph(`
'2' -> parts J(flow/Join)
'k' -> key J
'v' -> value J
${
    feed([
      { k: "a", v: 1 },
      { k: "b", v: 2 },
      { k: "a", v: 3 },
      { k: "b", v: 4 },
      { k: "a", v: 5 },
    ])
  }
J out -> in Out(test/Sink)`);
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.Out, [[1, 3], [2, 4], [5]]);
});

test("flow/Join joins named parts per key into one object once every part arrived", async () => {
  const { sinks, errors } = await runGraph(`
'["temp", "hum"]' -> parts J(flow/Join)
'room' -> key J
'value' -> value J
${
    feed([
      { room: "kitchen", topic: "temp", value: 21 },
      { room: "hall", topic: "hum", value: 40 },
      { room: "kitchen", topic: "temp", value: 22 },
      { room: "kitchen", topic: "hum", value: 55 },
      { room: "hall", topic: "temp", value: 18 },
    ])
  }
J out -> in Out(test/Sink)`);
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.Out, [
    {
      key: "kitchen",
      parts: { temp: 22, hum: 55 },
      complete: true,
      missing: [],
    },
    { key: "hall", parts: { temp: 18, hum: 40 }, complete: true, missing: [] },
  ]);
});

test('flow/Join keeps a part named "__proto__" as a field of parts, never the prototype of parts', async () => {
  // Part names are data (topics): assigned, "__proto__" set the prototype
  // of parts on Bun, and a complete group went out without that part.
  const { sinks, errors } = await runGraph(`
'["__proto__", "hum"]' -> parts J(flow/Join)
'value' -> value J
${feed([{ topic: "__proto__", value: { x: 1 } }, { topic: "hum", value: 40 }])}
J out -> in Out(test/Sink)`);
  assert.deepEqual(errors, []);
  const joined = sinks.Out[0] as JoinedParts;
  assert.equal(Object.getPrototypeOf(joined.parts), Object.prototype);
  assert.equal(
    JSON.stringify(joined),
    '{"key":null,"parts":{"__proto__":{"x":1},"hum":40},"complete":true,"missing":[]}',
  );
});

test("flow/Join joins a part whose value is missing as null, so a complete group shows every part as JSON", async () => {
  const { sinks, errors } = await runGraph(`
'["temp", "hum"]' -> parts J(flow/Join)
'v' -> value J
${feed([{ topic: "temp" }, { topic: "hum", v: 3 }, { v: 1 }])}
J out -> in Out(test/Sink)
'2' -> parts C(flow/Join)
'v' -> value C
P out -> in C
C out -> in Out`);
  assert.deepEqual(errors.map((e) => e.cause), [
    new RangeError(
      'flow/Join: the part undefined (from part "topic") is not one of temp, hum',
    ),
  ]);
  assert.deepEqual(sinks.Out, [
    { key: null, parts: { temp: null, hum: 3 }, complete: true, missing: [] },
    [null, 3],
    [1],
  ]);
  assert.equal(
    JSON.stringify(sinks.Out[0]),
    '{"key":null,"parts":{"temp":null,"hum":3},"complete":true,"missing":[]}',
  );
});

test("flow/Join names parts with a JSONata expression and keeps the whole message by default", async () => {
  const { sinks } = await runGraph(`
'["a", "b"]' -> parts J(flow/Join)
'$lowercase(kind)' -> part J
${feed([{ kind: "B", x: 1 }, { kind: "A", x: 2 }])}
J out -> in Out(test/Sink)`);
  assert.deepEqual(sinks.Out, [{
    key: null,
    parts: { a: { kind: "A", x: 2 }, b: { kind: "B", x: 1 } },
    complete: true,
    missing: [],
  }]);
});

test("flow/Join sends a group incomplete when its timeout passes, with no message after it (real clock)", async () => {
  const arrived = deferred();
  const Source = defineComponent({
    name: "test/Source",
    description: "Sends one part, then waits for its group.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", { topic: "temp", value: 20 });
      await arrived.promise;
      await ctx.send("out", { topic: "hum", value: 50 });
    },
  });
  const { sinks, errors, net } = await runGraph(
    `Src(test/Source) out -> in J(flow/Join)
'["temp", "hum"]' -> parts J
'value' -> value J
'30ms' -> timeout J
J out -> in Out(test/Sink)`,
    { extra: [Source], onSink: () => arrived.resolve() },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.Out, [
    { key: null, parts: { temp: 20 }, complete: false, missing: ["hum"] },
    { key: null, parts: { hum: 50 }, complete: false, missing: ["temp"] },
  ]);
  const meters: Record<string, number> = {};
  net.forEachMeter((_p, m) => {
    meters[`${m.spec.name}${JSON.stringify(m.labels)}`] = m.value;
  });
  assert.deepEqual(meters, {
    'join_incomplete_groups_total{"reason":"timeout","action":"emitted"}': 1,
    'join_incomplete_groups_total{"reason":"timeout","action":"dropped"}': 0,
    'join_incomplete_groups_total{"reason":"evicted","action":"emitted"}': 0,
    'join_incomplete_groups_total{"reason":"evicted","action":"dropped"}': 0,
    'join_incomplete_groups_total{"reason":"end","action":"emitted"}': 1,
    'join_incomplete_groups_total{"reason":"end","action":"dropped"}': 0,
    "join_open_groups{}": 0,
  });
});

test("flow/Join drops incomplete groups when told to, and counts them by reason", () => {
  const timers = manualTimers();
  try {
    const clock = { t: 0 };
    const J = flowJoin({ now: () => clock.t });
    const { ctx, sent } = fakeContext(J, {
      parts: 2,
      key: "k",
      timeout: "1s",
      incomplete: "drop",
      maxGroups: 2,
    });
    J.process!({ k: "a" }, ctx);
    clock.t = 100;
    J.process!({ k: "b" }, ctx);
    assert.deepEqual(
      timers.delays(),
      [1000],
      "one timer, for the oldest group",
    );
    clock.t = 200;
    J.process!({ k: "c" }, ctx); // evicts a
    clock.t = 1_150;
    timers.fireAll(); // b times out
    J.process!({ k: "c", n: 2 }, ctx); // completes c
    J.process!({ k: "d" }, ctx);
    J.flush!(ctx); // d is open at the end
    assert.deepEqual(sent, [["out", [{ k: "c" }, { k: "c", n: 2 }]]]);
    const state = ctx.state as {
      incomplete: Record<string, Record<string, { value: number }>>;
      open: { value: number };
    };
    const counts = Object.fromEntries(
      Object.entries(state.incomplete).map((
        [reason, by],
      ) => [reason, [by.emitted.value, by.dropped.value]]),
    );
    assert.deepEqual(counts, {
      timeout: [0, 1],
      evicted: [0, 1],
      end: [0, 1],
    });
    assert.equal(state.open.value, 0);
    assert.deepEqual(timers.delays(), []);
  } finally {
    timers.restore();
  }
});

test("flow/Join times a group out with the next message even before its timer fires", () => {
  const timers = manualTimers();
  try {
    const clock = { t: 0 };
    const J = flowJoin({ now: () => clock.t });
    const { ctx, sent } = fakeContext(J, { parts: 3, timeout: 50 });
    J.process!(1, ctx);
    clock.t = 60;
    J.process!(2, ctx);
    assert.deepEqual(sent, [["out", [1]]]);
  } finally {
    timers.restore();
  }
});

test("flow/Join sends every group that timed out, earliest deadline first, after timeout is shortened behind a longer one", () => {
  const timers = manualTimers();
  try {
    const clock = { t: 0 };
    const J = flowJoin({ now: () => clock.t });
    const { ctx, sent, setControl } = fakeContext(J, {
      parts: 2,
      key: "k",
      timeout: 0,
    });
    const begin = (k: string, t: number, timeout: number) => {
      clock.t = t;
      setControl("timeout", timeout);
      J.process!({ k }, ctx);
    };
    begin("never", 0, 0); // no limit
    begin("a", 10, 1000); // due at 1010
    begin("b", 20, 100); // due at 120
    begin("c", 30, 500); // due at 530
    begin("d", 40, 50); // due at 90
    begin("e", 50, 40); // due at 90 too, begun after d
    assert.deepEqual(
      timers.delays(),
      [50],
      "the timer is armed (at 40) for the earliest deadline (90), not for a's",
    );
    clock.t = 600;
    timers.fireAll();
    assert.deepEqual(sent, [
      ["out", [{ k: "d" }]],
      ["out", [{ k: "e" }]],
      ["out", [{ k: "b" }]],
      ["out", [{ k: "c" }]],
    ]);
    assert.deepEqual(timers.delays(), [410], "then for a's, at 1010");
    sent.length = 0;
    // The next message sends what is due too, before its timer fires.
    begin("f", 1100, 0);
    assert.deepEqual(sent, [["out", [{ k: "a" }]]]);
    J.flush!(ctx);
    assert.deepEqual(sent.slice(1), [
      ["out", [{ k: "never" }]],
      ["out", [{ k: "f" }]],
    ]);
  } finally {
    timers.restore();
  }
});

test("flow/Join sends a part that is not named to error and joins the next", async () => {
  const { sinks, errors } = await runGraph(`
'["a", "b"]' -> parts J(flow/Join)
${feed([{ topic: "a" }, { topic: "c" }, { topic: "b" }])}
J out -> in Out(test/Sink)
J error -> in Err(test/Sink)`);
  assert.deepEqual(errors, []);
  assert.equal((sinks.Out[0] as JoinedParts).complete, true);
  assert.equal(sinks.Err.length, 1);
  assert.match(
    (sinks.Err[0] as Error).message,
    /flow\/Join: the part "c" \(from part "topic"\) is not one of a, b/,
  );
});

test("validateGraph() reports bad join settings with their line:col", () => {
  const text = `'x' -> in P(json/Parse) out -> in J(flow/Join)
'["a", "a"]' -> parts J
'keep' -> incomplete J
J out -> in D(core/Drop)`;
  const problems = validateGraph(loadGraph(text), builtins());
  assert.deepEqual(problems.map((p) => [p.line, p.message]), [
    [
      2,
      'IIP for in-port "parts" of "J" (flow/Join) is not valid: expected distinct part names, received "a" twice',
    ],
    [
      3,
      'IIP for in-port "incomplete" of "J" (flow/Join) is not valid: expected "emit" (send an incomplete group) or "drop" (count it and let it go), received string "keep"',
    ],
  ]);
});

const BAD: [string, string, RegExp][] = [
  ["no parts", "", /in-port "parts" of "J" \(flow\/Join\) is required/],
  [
    "a count of 0",
    "'0' -> parts J",
    /expected a count of messages from 1 to 100000/,
  ],
  ["an empty list", "'[]' -> parts J", /expected a count of messages/],
  [
    "a bad timeout",
    "'2' -> parts J\n'soon' -> timeout J",
    /in-port "timeout" .*expected a duration/,
  ],
  [
    "a key that does not compile",
    "'2' -> parts J\n'a +' -> key J",
    /in-port "key" .*invalid JSONata expression/,
  ],
  [
    "a maxGroups of 0",
    "'2' -> parts J\n'0' -> maxGroups J",
    /expected a number of groups from 1 to 1000000/,
  ],
];

for (const [what, lines, message] of BAD) {
  test(`validateGraph() refuses a flow/Join with ${what}`, () => {
    const problems = problemsOf(
      `${lines}\nP(core/Repeat) out -> in J(flow/Join) out -> in D(core/Drop)`,
    );
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0], message);
  });
}

test("flow/Window and flow/Join leave no timer behind when the network stops", async () => {
  const timers = watchTimers();
  try {
    const Source = defineComponent({
      name: "test/Hold",
      description: "Sends two messages, then waits until stopped.",
      outPorts: { out: {} },
      async run(ctx) {
        await ctx.send("out", { topic: "a", v: 1 });
        await ctx.send("out", { topic: "a", v: 2 });
        await new Promise((r) => ctx.signal.addEventListener("abort", r));
      },
    });
    const net = createNetwork(
      `Src(test/Hold) out -> in W(flow/Window) out -> in D(core/Drop)
Src out -> in J(flow/Join) out -> in D2(core/Drop)
'400h' -> window W
'v' -> value W
'["a", "b"]' -> parts J
'2h' -> timeout J`,
      { registry: builtins().register(Source) },
    );
    await net.start();
    // Windows end on whole multiples of their length since the epoch: a
    // 1h window's timer was under a minute within the last minute of each
    // hour, and the test failed then (CI, 17:00 UTC); a 400h one's is that
    // short for a minute every 400 hours.
    await until(
      () => timers.live().filter((ms) => ms >= 60_000).length === 2,
      "the window's end and the group's timeout are both armed",
    );
    await net.stop();
    assert.deepEqual(timers.live().filter((ms) => ms >= 60_000), []);
    assert.deepEqual(timers.escaped, []);
  } finally {
    timers.restore();
  }
});

test("flow/Join ends the groups of the old parts setting when it changes", () => {
  const J = flowJoin({ now: () => 0 });
  const { ctx, sent, setControl } = fakeContext(J, { parts: 3 });
  J.process!(1, ctx);
  J.process!(2, ctx);
  setControl("parts", '["a"]');
  J.onControl!("parts", ctx.control("parts"), ctx);
  J.process!({ topic: "a" }, ctx);
  assert.deepEqual(sent, [
    ["out", [1, 2]],
    ["out", {
      key: null,
      parts: { a: { topic: "a" } },
      complete: true,
      missing: [],
    }],
  ]);
});

test("flow/Join reports a group it could not send on its timeout when it fails, not with the next message", async () => {
  const timers = manualTimers();
  try {
    const clock = { t: 0 };
    const J = flowJoin({ now: () => clock.t });
    const { ctx, sent } = fakeContext(J, { parts: 2, key: "k", timeout: 50 });
    const full = new OverflowError("J.out -> K.in", 1);
    const refused = new Error("the sink refused it");
    const send = ctx.send;
    // Group "a" meets a full connection whose policy is error (a throw),
    // "b" a send that fails later (a rejection); "c" goes.
    ctx.send = ((port: string, value: unknown) => {
      const key = (value as { k: string }[])[0].k;
      if (key === "a") throw full;
      if (key === "b") return Promise.reject(refused);
      return send(port, value);
    }) as typeof ctx.send;
    J.process!({ k: "a" }, ctx);
    J.process!({ k: "b" }, ctx);
    J.process!({ k: "c" }, ctx);
    clock.t = 60;
    timers.fireAll();
    assert.deepEqual(sent, [["error", full]], "reported as it failed");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [
      ["error", full],
      ["error", refused],
      ["out", [{ k: "c" }]],
    ]);
    // The next message is taken as any other: the failures are not its.
    assert.equal(J.process!({ k: "d" }, ctx), undefined);
    assert.equal(J.flush!(ctx), undefined);
    assert.deepEqual(sent.slice(3), [["out", [{ k: "d" }]]]);
  } finally {
    timers.restore();
  }
});
