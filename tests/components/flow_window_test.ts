import { test } from "node:test";
import assert from "node:assert/strict";
import { problemsOf, runGraph } from "./_graph_helpers.ts";
import { deferred, fakeContext, inTempDir } from "./_helpers.ts";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineComponent } from "../../src/engine/component.ts";
import {
  flowWindow,
  parseWindow,
  type WindowResult,
} from "../../src/components/flow_window.ts";
import { builtins } from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { OverflowError } from "../../src/engine/errors.ts";

/** `value` as JSON in an .fbp IIP (single quotes escaped). */
function iip(value: unknown): string {
  return `'${JSON.stringify(value).replaceAll("'", "\\'")}'`;
}

/** .fbp lines sending each value, as JSON, through json/Parse process `P` to `W`. */
function feed(values: unknown[]): string {
  const lines = values.map((v, i) =>
    `${iip(v)} -> in P${i === 0 ? "(json/Parse)" : ""}`
  );
  return `${lines.join("\n")}\nP out -> in W`;
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

/** A flow/Window on a clock the test sets, called directly. */
function clocked(controls: Record<string, unknown>) {
  const clock = { t: 0 };
  const component = flowWindow({ now: () => clock.t });
  const fake = fakeContext(component, controls);
  const put = (t: number, msg: unknown) => {
    clock.t = t;
    return component.process!(msg, fake.ctx);
  };
  const windows = () => fake.sent.map(([, v]) => v as WindowResult);
  return { clock, component, fake, put, windows };
}

test("flow/Window sends tumbling time windows per key when the clock passes their end", () => {
  const timers = manualTimers();
  try {
    const w = clocked({ window: "10s", key: "s", value: "v" });
    w.put(1_000, { s: "a", v: 1 });
    w.put(2_000, { s: "b", v: 5 });
    w.put(9_000, { s: "a", v: 3 });
    assert.deepEqual(w.windows(), []);
    assert.deepEqual(
      timers.delays(),
      [9_000],
      "one timer, for the end at 10 s",
    );
    w.clock.t = 10_000;
    timers.fireAll();
    // Windows that end together go out in the order their keys were last used.
    assert.deepEqual(w.windows(), [
      {
        key: "b",
        start: 0,
        end: 10_000,
        count: 1,
        sum: 5,
        min: 5,
        max: 5,
        mean: 5,
        last: 5,
      },
      {
        key: "a",
        start: 0,
        end: 10_000,
        count: 2,
        sum: 4,
        min: 1,
        max: 3,
        mean: 2,
        last: 3,
      },
    ]);
    assert.deepEqual(timers.delays(), [], "no timer while no window is open");
    w.put(25_000, { s: "a", v: 7 });
    assert.deepEqual(timers.delays(), [5_000]);
    w.component.flush!(w.fake.ctx);
    assert.deepEqual(w.windows().slice(2), [
      {
        key: "a",
        start: 20_000,
        end: 30_000,
        count: 1,
        sum: 7,
        min: 7,
        max: 7,
        mean: 7,
        last: 7,
      },
    ]);
    assert.deepEqual(timers.delays(), [], "flush stops the timer");
  } finally {
    timers.restore();
  }
});

test("flow/Window closes a due window with the next message, before its timer fires", () => {
  const timers = manualTimers();
  try {
    const w = clocked({ window: "1s" });
    w.put(500, 1);
    w.put(1_200, 2);
    assert.deepEqual(w.windows().map((r) => [r.start, r.count, r.sum]), [[
      0,
      1,
      1,
    ]]);
  } finally {
    timers.restore();
  }
});

test("flow/Window slides a time window by whole steps and flushes every open window at the end", () => {
  const timers = manualTimers();
  try {
    const w = clocked({ window: "30s every 10s" });
    const at = (t: number) => {
      w.clock.t = t;
      timers.fireAll();
    };
    w.put(5_000, 1);
    at(10_000);
    w.put(15_000, 2);
    at(20_000);
    w.put(25_000, 3);
    at(30_000);
    w.component.flush!(w.fake.ctx);
    assert.deepEqual(
      w.windows().map((
        r,
      ) => [r.start, r.end, r.count, r.sum, r.min, r.max, r.last]),
      [
        [-20_000, 10_000, 1, 1, 1, 1, 1],
        [-10_000, 20_000, 2, 3, 1, 2, 2],
        [0, 30_000, 3, 6, 1, 3, 3],
        [10_000, 40_000, 2, 5, 2, 3, 3],
        [20_000, 50_000, 1, 3, 3, 3, 3],
      ],
    );
  } finally {
    timers.restore();
  }
});

test("flow/Window sends a time window on its timer with no message after it (real clock)", async () => {
  const arrived = deferred();
  const Source = defineComponent({
    name: "test/Source",
    description: "Sends three readings, then waits for their window.",
    outPorts: { out: {} },
    async run(ctx) {
      for (const v of [1, 2, 3]) await ctx.send("out", { v });
      await arrived.promise;
    },
  });
  let counted = 0;
  const { sinks, errors } = await runGraph(
    `Src(test/Source) out -> in W(flow/Window)
'40ms' -> window W
'v' -> value W
W out -> in Out(test/Sink)`,
    {
      extra: [Source],
      onSink: (_p, v) => {
        counted += (v as WindowResult).count;
        if (counted === 3) arrived.resolve();
      },
    },
  );
  assert.deepEqual(errors, []);
  const windows = sinks.Out as WindowResult[];
  // Three readings, in one window or two if a boundary fell between them.
  assert.equal(windows.reduce((n, r) => n + r.count, 0), 3);
  assert.equal(windows.reduce((n, r) => n + r.sum, 0), 6);
  for (const r of windows) {
    assert.equal(r.end - r.start, 40);
    assert.equal(r.start % 40, 0, "aligned to the clock");
    assert.equal(r.key, null);
  }
});

test("flow/Window sends tumbling count windows per key, and the partial ones at the end", async () => {
  const readings = [
    { s: "a", v: 1 },
    { s: "b", v: 10 },
    { s: "a", v: "2" },
    { s: "a", v: 3 },
    { s: "b", v: 20 },
    { s: "a", v: 4 },
  ];
  const { sinks, errors } = await runGraph(`
'2' -> window W(flow/Window)
's' -> key W
'v' -> value W
${feed(readings)}
W out -> in Out(test/Sink)`);
  assert.deepEqual(errors, []);
  const rows = (sinks.Out as WindowResult[]).map((r) => [
    r.key,
    r.count,
    r.sum,
    r.min,
    r.max,
    r.mean,
    r.last,
  ]);
  assert.deepEqual(rows, [
    ["a", 2, 3, 1, 2, 1.5, 2],
    ["b", 2, 30, 10, 20, 15, 20],
    ["a", 2, 7, 3, 4, 3.5, 4],
  ]);
});

test("flow/Window slides a count window: every 2 messages, the last 3", async () => {
  const { sinks } = await runGraph(`
'3 every 2' -> window W(flow/Window)
${feed([1, 2, 3, 4, 5, 6, 7])}
W out -> in Out(test/Sink)`);
  const rows = (sinks.Out as WindowResult[]).map((
    r,
  ) => [r.count, r.sum, r.min, r.max, r.last]);
  assert.deepEqual(rows, [
    [2, 3, 1, 2, 2],
    [3, 9, 2, 4, 4],
    [3, 15, 4, 6, 6],
    [3, 18, 5, 7, 7],
  ]);
});

test("flow/Window takes the key and the value from JSONata expressions", async () => {
  const { sinks } = await runGraph(`
'2' -> window W(flow/Window)
'$uppercase(site)' -> key W
'$sum(readings)' -> value W
${feed([{ site: "x", readings: [1, 2] }, { site: "X", readings: [3] }])}
W out -> in Out(test/Sink)`);
  const rows = (sinks.Out as WindowResult[]).map((
    r,
  ) => [r.key, r.count, r.sum]);
  assert.deepEqual(rows, [["X", 2, 6]]);
});

test("flow/Window evicts the least recently used key beyond maxKeys, dropping its windows", async () => {
  const { sinks, net } = await runGraph(`
'10' -> window W(flow/Window)
'2' -> maxKeys W
's' -> key W
'v' -> value W
${
    feed([
      { s: "a", v: 1 },
      { s: "b", v: 1 },
      { s: "a", v: 1 },
      { s: "c", v: 1 },
      { s: "a", v: 1 },
    ])
  }
W out -> in Out(test/Sink)`);
  // c evicted b (a was used later), so only a and c are left to flush.
  const rows = (sinks.Out as WindowResult[]).map((r) => [r.key, r.count]);
  assert.deepEqual(rows, [["c", 1], ["a", 3]]);
  const meters: Record<string, number> = {};
  net.forEachMeter((p, m) => {
    if (p === "W") meters[m.spec.name] = m.value;
  });
  assert.deepEqual(meters, {
    window_keys_evicted_total: 1,
    window_open_keys: 0,
  });
});

test("flow/Window sends a message without a number to error and counts the next", async () => {
  const { sinks, errors } = await runGraph(`
'5' -> window W(flow/Window)
'v' -> value W
${feed([{ v: "x" }, { v: 4 }, {}])}
W out -> in Out(test/Sink)
W error -> in Err(test/Sink)`);
  assert.deepEqual(errors, []);
  assert.deepEqual((sinks.Out as WindowResult[]).map((r) => r.sum), [4]);
  assert.equal(sinks.Err.length, 2);
  assert.match(
    (sinks.Err[0] as Error).message,
    /flow\/Window needs a number from value "v", received string "x"/,
  );
  assert.match((sinks.Err[1] as Error).message, /received undefined/);
});

test("parseWindow() reads times, counts, sliding steps and objects", () => {
  assert.deepEqual(parseWindow("10s"), {
    by: "time",
    size: 10_000,
    every: 10_000,
  });
  assert.deepEqual(parseWindow("1h every 15m"), {
    by: "time",
    size: 3_600_000,
    every: 900_000,
  });
  assert.deepEqual(parseWindow("100 messages"), {
    by: "count",
    size: 100,
    every: 100,
  });
  assert.deepEqual(parseWindow("100 every 10"), {
    by: "count",
    size: 100,
    every: 10,
  });
  assert.deepEqual(parseWindow({ size: "2m", every: "30s" }), {
    by: "time",
    size: 120_000,
    every: 30_000,
  });
  assert.deepEqual(parseWindow({ size: 5 }), {
    by: "count",
    size: 5,
    every: 5,
  });
});

test("validateGraph() reports a bad window setting with its line:col", () => {
  const text = `'x' -> in P(json/Parse) out -> in W(flow/Window)
'1m every 7s' -> window W
W out -> in D(core/Drop)`;
  const problems = validateGraph(loadGraph(text), builtins());
  assert.equal(problems.length, 1);
  assert.equal(problems[0].line, 2);
  assert.equal(
    problems[0].message,
    'IIP for in-port "window" of "W" (flow/Window) is not valid: window string "1m every 7s": the size must be a multiple of the step, at most 1000 steps (windows are aligned to multiples of the step)',
  );
});

const BAD: [string, string, RegExp][] = [
  [
    "a window that is no time nor count",
    "'soon' -> window W",
    /expected a window such as/,
  ],
  ["a zero count", "'0' -> window W", /a count must be an integer from 1/],
  [
    "a step longer than the window",
    "'10 every 20' -> window W",
    /the step must not be longer than the window/,
  ],
  [
    "a sliding count window too long",
    "'20000 every 1' -> window W",
    /from 1 to 10000 for a sliding window/,
  ],
  ["a time and a count", "'1s every 10' -> window W", /the same kind/],
  ["too many steps", "'1h every 1s' -> window W", /at most 1000 steps/],
  [
    "a value that does not compile",
    "'1s' -> window W\n'$sum(' -> value W",
    /in-port "value" of "W" \(flow\/Window\) is not valid: invalid JSONata expression/,
  ],
  [
    "a maxKeys of 0",
    "'1s' -> window W\n'0' -> maxKeys W",
    /in-port "maxKeys" .*expected a number of keys from 1 to 1000000, received number 0/,
  ],
];

for (const [what, lines, message] of BAD) {
  test(`validateGraph() refuses a flow/Window with ${what}`, () => {
    const problems = problemsOf(
      `${lines}\nP(core/Repeat) out -> in W(flow/Window) out -> in D(core/Drop)`,
    );
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0], message);
  });
}

test("the README's Switch and Window example validates, and runs on a file of readings", async () => {
  const readme = readFileSync(
    new URL("../../README.md", import.meta.url),
    "utf8",
  );
  const section = readme.slice(
    readme.indexOf("### Switch, Change, Window and Join"),
  );
  const graph = section.slice(
    section.indexOf("```fbp\n") + 7,
    section.indexOf("```\n", section.indexOf("```fbp\n")),
  );
  assert.deepEqual(problemsOf(graph), []);
  await inTempDir(async (dir) => {
    const file = join(dir, "readings.jsonl");
    const lines = [
      { room: "lab", payload: { celsius: 35 } },
      { room: "hall", payload: { celsius: 20 } },
      { room: "lab", payload: { celsius: 31 } },
      { room: "cellar", payload: { celsius: 5 } },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const { sinks, errors } = await runGraph(
      graph.replace("'readings.jsonl'", `'${file}'`)
        .replace("Alert(core/Output)", "Alert(test/Sink)")
        .replace("Cold(core/Output)", "Cold(test/Sink)"),
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(sinks.Cold, [lines[3]]);
    // The two hot lab readings come within milliseconds: in one 10 s step
    // (6 windows of a minute hold it), or in two if a step ends between
    // them (7 windows, 5 holding both). All go out when the input ends.
    const windows = sinks.Alert as WindowResult[];
    assert.ok(
      windows.length === 6 || windows.length === 7,
      `${windows.length}`,
    );
    assert.ok(
      windows.every((w) => w.key === "lab" && w.end - w.start === 60_000),
    );
    const both = windows.filter((w) => w.count === 2);
    assert.ok(both.length === 6 || both.length === 5, `${both.length}`);
    for (const w of both) {
      assert.deepEqual([w.sum, w.min, w.max, w.mean, w.last], [
        66,
        31,
        35,
        33,
        31,
      ]);
    }
  });
});

test("flow/Window sends the windows of the old setting when the window setting changes", () => {
  const w = clocked({ window: "10" });
  w.put(1, 5);
  w.put(2, 7);
  w.fake.setControl("window", "2");
  w.component.onControl!("window", parseWindow("2"), w.fake.ctx);
  w.put(3, 1);
  w.put(4, 2);
  assert.deepEqual(
    w.windows().map((r) => [r.count, r.sum, r.start, r.end]),
    [[2, 12, 1, 2], [2, 3, 3, 4]],
  );
});

test("flow/Window reports a window it could not send on its timer when it fails, not with the next message", async () => {
  const timers = manualTimers();
  try {
    const w = clocked({ window: "10s", key: "s", value: "v" });
    const full = new OverflowError("W.out -> K.in", 1);
    const refused = new Error("the sink refused it");
    const send = w.fake.ctx.send;
    // Key "a"'s window meets a full connection whose policy is error (a
    // throw), "b"'s a send that fails later (a rejection); "c"'s goes.
    w.fake.ctx.send = ((port: string, value: unknown) => {
      const key = (value as WindowResult).key;
      if (key === "a") throw full;
      if (key === "b") return Promise.reject(refused);
      return send(port, value);
    }) as typeof w.fake.ctx.send;
    w.put(1_000, { s: "a", v: 1 });
    w.put(2_000, { s: "b", v: 2 });
    w.put(3_000, { s: "c", v: 3 });
    w.clock.t = 10_000;
    timers.fireAll();
    const kinds = () =>
      w.fake.sent.map((
        [port, v],
      ) => [port, port === "error" ? v : (v as WindowResult).key]);
    assert.deepEqual(kinds(), [["error", full]], "reported as it failed");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(kinds(), [["error", full], ["error", refused], [
      "out",
      "c",
    ]]);
    // The next message is taken as any other: the failures are not its.
    assert.equal(w.put(12_000, { s: "c", v: 4 }), undefined);
    assert.equal(w.component.flush!(w.fake.ctx), undefined);
    assert.deepEqual(kinds().slice(3), [["out", "c"]]);
  } finally {
    timers.restore();
  }
});
