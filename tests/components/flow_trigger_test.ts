import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { createNetwork } from "../../src/embed.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { problemsOf } from "./_graph_helpers.ts";
import {
  deferred,
  fakeContext,
  finishedWithin,
  watchTimers,
} from "./_helpers.ts";
import { flowTrigger } from "../../src/components/flow_trigger.ts";
import { OverflowError } from "../../src/engine/errors.ts";
import { meterOf, runShaping, type Step } from "./_shaping_helpers.ts";

/** Plays `steps` into flow/Trigger with `settings`; what went out where. */
async function trigger(steps: Step[], settings = "", second = false) {
  const run = await runShaping(
    `
    S(test/Script) in -> in T(flow/Trigger) out -> in K(test/Sink)
    S reset -> reset T
    ${second ? "T second -> in K2(test/Sink)" : ""}
    ${settings}
    `,
    { steps, timeoutMs: 15_000 },
  );
  assert.deepEqual(run.errors, []);
  return { out: run.sinks.K ?? [], second: run.sinks.K2 ?? [], net: run.net };
}

test("flow/Trigger sends 1, then 0 after the wait, as Node-RED's defaults", async () => {
  const { out } = await trigger([["in", "x"]], "'20ms' -> duration T");
  assert.deepEqual(out, [1, 0]);
});

test(
  "flow/Trigger ignores messages while it waits; the second value can be the latest of them",
  { timeout: 20_000 },
  async () => {
    const { out } = await trigger(
      [["in", "a"], ["in", "b"], ["in", "c"]],
      `'1s' -> duration T
     'message' -> first T
     'latest' -> second T`,
    );
    assert.deepEqual(out, ["a", "c"]);
  },
);

test(
  "flow/Trigger sends the message that started it, or fixed values, or nothing",
  { timeout: 20_000 },
  async () => {
    const started = await trigger(
      [["in", "a"], ["in", "b"]],
      `'1s' -> duration T
     'nothing' -> first T
     'message' -> second T`,
    );
    assert.deepEqual(started.out, ["a"]);
    const fixed = await trigger(
      [["in", "a"]],
      `'10ms' -> duration T
     'on' -> firstValue T
     'off' -> secondValue T`,
    );
    assert.deepEqual(fixed.out, ["on", "off"]);
    const firstOnly = await trigger(
      [["in", "a"]],
      `'10ms' -> duration T
     'message' -> first T
     'nothing' -> second T`,
    );
    assert.deepEqual(firstOnly.out, ["a"]);
  },
);

test("flow/Trigger starts again once the wait is over", async () => {
  const { out } = await trigger(
    [["in", "a"], 300, ["in", "b"]],
    `'20ms' -> duration T
     'message' -> first T
     'message' -> second T`,
  );
  assert.deepEqual(out, ["a", "a", "b", "b"]);
});

test(
  "flow/Trigger with extend restarts the wait on each message (a watchdog)",
  { timeout: 20_000 },
  async () => {
    // Messages 600 ms apart: extended, a wait of 2 s never ends before the
    // last message; not extended, a wait of 100 ms ends after each message.
    // (Order and counts only: a wide margin either way under load.)
    const steps: Step[] = [["in", 0], 600, ["in", 1], 600, ["in", 2]];
    const settings = `'nothing' -> first T
     'latest' -> second T`;
    const extended = await trigger(
      steps,
      `${settings}\n'2s' -> duration T\n'true' -> extend T`,
    );
    assert.deepEqual(extended.out, [2]);
    const plain = await trigger(steps, `${settings}\n'100ms' -> duration T`);
    assert.deepEqual(plain.out, [0, 1, 2]);
  },
);

test("flow/Trigger's reset port cancels the wait: no second value", async () => {
  const { out } = await trigger(
    [["in", "a"], ["reset", true], ["in", "b"]],
    `'300ms' -> duration T
     'message' -> first T
     'done' -> secondValue T`,
  );
  // a's wait was cancelled; b started a new one, which ran out.
  assert.deepEqual(out, ["a", "b", "done"]);
});

test("flow/Trigger cancels on a message equal to resetValue", async () => {
  const { out } = await trigger(
    [["in", "a"], ["in", "stop"], ["in", "b"], ["in", "stop"]],
    `'10s' -> duration T
     'message' -> first T
     'stop' -> resetValue T`,
  );
  // Both waits were cancelled: no second value, and the run ended at once.
  assert.deepEqual(out, ["a", "b"]);
});

test("flow/Trigger with duration 0 holds until a reset, ignoring messages", async () => {
  const { out } = await trigger(
    [["in", "a"], ["in", "b"], ["reset", "go"], ["in", "c"], ["in", "d"]],
    `'0' -> duration T
     'message' -> first T`,
  );
  // c is held when the input ends: dropped, and the run ends.
  assert.deepEqual(out, ["a", "c"]);
});

test(
  "flow/Trigger keeps one trigger per key, and reset cancels only its key's",
  { timeout: 20_000 },
  async () => {
    const m = (k: string, n: number) => ({ k, n });
    const { out } = await trigger(
      [
        ["in", m("x", 1)],
        ["in", m("y", 2)],
        ["in", m("x", 3)], // x waits: ignored
        ["in", m("z", 4)],
        ["reset", { k: "z" }],
      ],
      `'1s' -> duration T
     'k' -> key T
     'message' -> first T
     'latest' -> second T`,
    );
    assert.deepEqual(out, [
      m("x", 1),
      m("y", 2),
      m("z", 4),
      m("x", 3),
      m("y", 2),
    ]);
  },
);

test("flow/Trigger takes a key expression left to the jsonata package (asynchronous)", async () => {
  const m = (k: string, n: number) => ({ k, n });
  const { out } = await trigger(
    [["in", m("x", 1)], ["in", m("x", 2)], ["in", m("y", 3)]],
    `'50ms' -> duration T
     '{"a": $k := k, "b": $k}.a' -> key T
     'message' -> first T
     'nothing' -> second T`,
  );
  assert.deepEqual(out, [m("x", 1), m("y", 3)]);
});

test("flow/Trigger cancels the oldest trigger beyond maxKeys, and counts it", async () => {
  const { out, net } = await trigger(
    [["in", "x"], ["in", "y"], ["in", "z"]],
    `'100ms' -> duration T
     '$' -> key T
     '2' -> maxKeys T
     'message' -> first T
     'message' -> second T`,
  );
  assert.deepEqual(out, ["x", "y", "z", "y", "z"]);
  assert.equal(meterOf(net, "T", "trigger_keys_evicted_total"), 1);
  assert.equal(meterOf(net, "T", "trigger_waiting"), 0);
});

test("flow/Trigger sends second values on its second port when connected", async () => {
  const { out, second } = await trigger(
    [["in", "a"], ["in", "b"]],
    `'20ms' -> duration T
     'a' -> key T
     'message' -> first T
     'message' -> second T`,
    true,
  );
  assert.deepEqual(out, ["a"]);
  assert.deepEqual(second, ["a"]);
});

test("flow/Trigger's second values wait for room, and the run ends once they went", async () => {
  // Six keys at once, a wait of 10 ms, and a sink that takes 20 ms a
  // message behind a connection of 1: the second values come while the
  // first ones still wait for room.
  const keys = ["a", "b", "c", "d", "e", "f"];
  const run = await runShaping(
    `
    '${JSON.stringify(keys)}' -> values V(test/Values) out -> in T(flow/Trigger)
    T out -> (1) in K(test/SlowSink)
    '10ms' -> duration T
    '$' -> key T
    'message' -> first T
    'latest' -> second T
    `,
    { timeoutMs: 15_000 },
  );
  assert.deepEqual(run.errors, []);
  const out = run.sinks.K ?? [];
  assert.equal(out.length, 12, JSON.stringify(out));
  // Each key once as its first value, then once as its second.
  for (const k of keys) {
    assert.deepEqual(out.filter((v) => v === k).length, 2, k);
  }
  assert.equal(meterOf(run.net, "T", "trigger_waiting"), 0);
});

test("flow/Trigger reports a second value that could not be sent when it fails, not with the next message", async () => {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const armed = new Map<number, () => void>();
  let nextId = 1;
  globalThis.setTimeout = ((fn: () => void) => {
    armed.set(nextId, fn);
    return nextId++;
  }) as unknown as typeof setTimeout;
  globalThis.clearTimeout =
    ((id?: number) => void armed.delete(id!)) as unknown as typeof clearTimeout;
  const fireAll = () => {
    const due = [...armed.values()];
    armed.clear();
    for (const fn of due) fn();
  };
  try {
    const T = flowTrigger();
    const { ctx, sent } = fakeContext(T, {
      duration: 10,
      key: "$",
      first: "nothing",
      second: "latest",
    });
    const full = new OverflowError("T.second -> K.in", 1);
    const refused = new Error("the sink refused it");
    const send = ctx.send;
    // "a" meets a full connection whose policy is error (a throw), "b" a
    // send that fails later (a rejection); "c" goes.
    ctx.send = ((port: string, value: unknown) => {
      if (value === "a") throw full;
      if (value === "b") return Promise.reject(refused);
      return send(port, value);
    }) as typeof ctx.send;
    assert.equal(T.process!("a", ctx), undefined);
    assert.equal(T.process!("b", ctx), undefined);
    fireAll();
    assert.deepEqual(sent, [["error", full]], "reported as it failed");
    await Promise.resolve();
    assert.deepEqual(sent, [["error", full], ["error", refused]]);
    // The next message is taken as any other: the failures are not its.
    assert.equal(T.process!("c", ctx), undefined);
    fireAll();
    await T.flush!(ctx);
    assert.deepEqual(sent, [
      ["error", full],
      ["error", refused],
      ["second", "c"],
    ]);
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
});

test("flow/Trigger leaves no timer behind when the network stops while it waits", async () => {
  const timers = watchTimers();
  try {
    const arrived = deferred();
    const registry = builtins().register(defineComponent({
      name: "test/Arrived",
      description: "Resolves once a message arrives.",
      inPorts: { in: {} },
      process() {
        arrived.resolve();
      },
    }));
    const net = createNetwork(
      `'a' -> in T(flow/Trigger) out -> in K(test/Arrived)
       '1h' -> duration T
       '$' -> key T`,
      { registry },
    );
    await net.start();
    await arrived.promise;
    assert.ok(timers.live().includes(3_600_000), "the 1 h wait is armed");
    // The input has ended: the process waits for its second value.
    assert.equal(await finishedWithin(net, 50), "timeout");
    assert.deepEqual(timers.live().filter((d) => d === 3_600_000), []);
    assert.deepEqual(timers.escaped, []);
  } finally {
    timers.restore();
  }
});

test("flow/Trigger settings are checked when the graph is validated", () => {
  const cases: [string, RegExp][] = [
    [
      "'soon' -> duration T(flow/Trigger)",
      /in-port "duration" of "T" \(flow\/Trigger\): expected a duration such as/,
    ],
    [
      "'payload' -> second T(flow/Trigger)",
      /in-port "second" of "T" \(flow\/Trigger\) is not valid: expected one of "message", "latest", "value", "nothing", received string "payload"$/,
    ],
    [
      "'always' -> first T(flow/Trigger)",
      /in-port "first" of "T" \(flow\/Trigger\) is not valid: expected one of "message", "value", "nothing"/,
    ],
    [
      "'yes' -> extend T(flow/Trigger)",
      /in-port "extend" of "T" \(flow\/Trigger\): expected a boolean, received string "yes"$/,
    ],
    [
      "'-2' -> maxKeys T(flow/Trigger)",
      /in-port "maxKeys" of "T" \(flow\/Trigger\) is not valid: expected a positive integer up to 1000000, received number -2$/,
    ],
  ];
  for (const [text, re] of cases) {
    const problems = problemsOf(text);
    assert.equal(problems.length, 1, `${text}: ${problems}`);
    assert.match(problems[0], re);
  }
});
