import { test } from "node:test";
import assert from "node:assert/strict";
import { problemsOf } from "./_graph_helpers.ts";
import { fakeContext } from "./_helpers.ts";
import { FlowDedupe } from "../../src/components/flow_dedupe.ts";
import { messagesOf, meterOf, runShaping } from "./_shaping_helpers.ts";

/** Runs `values` through flow/Dedupe with `settings` (.fbp IIP lines). */
async function dedupe(values: unknown[], settings = "") {
  const run = await runShaping(`
    '${
    JSON.stringify(values)
  }' -> values V(test/Values) out -> in T(flow/Dedupe)
    T out -> in K(test/Sink)
    T error -> in E(test/Sink)
    ${settings}
  `);
  assert.deepEqual(run.errors, []);
  return {
    out: run.sinks.K ?? [],
    errors: messagesOf(run.sinks.E),
    net: run.net,
  };
}

test('flow/Dedupe passes a value only when it differs from the last (1 and "1" differ)', async () => {
  const { out } = await dedupe([1, 1, 2, 2, "2", 1, 1]);
  assert.deepEqual(out, [1, 2, "2", 1]);
});

test("flow/Dedupe compares objects member by member, key order aside", async () => {
  const { out } = await dedupe([
    { a: 1, b: [1, 2] },
    { b: [1, 2], a: 1 },
    { a: 1, b: [1, 3] },
    { a: 1, b: [1, 3], c: null },
  ]);
  assert.deepEqual(out, [
    { a: 1, b: [1, 2] },
    { a: 1, b: [1, 3] },
    { a: 1, b: [1, 3], c: null },
  ]);
});

test("flow/Dedupe compares the value expression per key (the key expression)", async () => {
  const m = (topic: string, t: number, n: number) => ({
    topic,
    payload: { t },
    n,
  });
  const { out } = await dedupe(
    [m("a", 1, 1), m("b", 1, 2), m("a", 1, 3), m("b", 2, 4), m("a", 2, 5)],
    `'payload.t' -> value T
     'topic' -> key T`,
  );
  // Whole messages go out, unchanged; the third (a still 1) is held back.
  assert.deepEqual(out.map((x) => (x as { n: number }).n), [1, 2, 4, 5]);
});

test("flow/Dedupe keeps the order with expressions left to the jsonata package (asynchronous)", async () => {
  // A := binding inside an object constructor is not compiled.
  const { out } = await dedupe(
    [
      { k: "a", v: 1, n: 1 },
      { k: "a", v: 1, n: 2 },
      { k: "b", v: 1, n: 3 },
      { k: "a", v: 2, n: 4 },
      { k: "b", v: 1, n: 5 },
    ],
    `'{"x": $v := v, "y": $v}.x' -> value T
     '{"x": $k := k, "y": $k}.x' -> key T`,
  );
  assert.deepEqual(out.map((m) => (m as { n: number }).n), [1, 3, 4]);
});

test("flow/Dedupe drops a message where the value expression gives nothing", async () => {
  const { out } = await dedupe(
    [{ p: 1 }, { q: 1 }, { p: 1 }, { p: 2 }],
    "'p' -> value T",
  );
  assert.deepEqual(out, [{ p: 1 }, { p: 2 }]);
});

test("flow/Dedupe with ignoreFirst keeps each key's first value as the reference unsent", async () => {
  const { out } = await dedupe(
    [
      { k: "a", v: 5 },
      { k: "b", v: 7 },
      { k: "a", v: 5 },
      { k: "a", v: 6 },
      { k: "b", v: 7 },
    ],
    `'true' -> ignoreFirst T
     'v' -> value T
     'k' -> key T`,
  );
  assert.deepEqual(out, [{ k: "a", v: 6 }]);
});

test("flow/Dedupe deadband passes a number that moved more than band from the last sent", async () => {
  const { out } = await dedupe(
    [10, 10.5, 11, 11.5, 12.1],
    "'deadband' -> mode T\n'1' -> band T",
  );
  // 11 is exactly 1 away: not more than the band.
  assert.deepEqual(out, [10, 11.5]);
});

test("flow/Dedupe deadband-eq passes a move of band or more", async () => {
  const { out } = await dedupe(
    [10, 10.5, 11, 11.5, 12.1],
    "'deadband-eq' -> mode T\n'1' -> band T",
  );
  assert.deepEqual(out, [10, 11, 12.1]);
});

test("flow/Dedupe deadband against the last seen value lets a slow drift through never, a jump once", async () => {
  const values = [10, 10.6, 11.2, 11.8, 13];
  const sent = await dedupe(values, "'deadband' -> mode T\n'1' -> band T");
  const seen = await dedupe(
    values,
    "'deadband' -> mode T\n'1' -> band T\n'seen' -> compare T",
  );
  // From the last sent, the drift adds up (11.2 is 1.2 from 10).
  assert.deepEqual(sent.out, [10, 11.2, 13]);
  // From the last seen, each step is 0.6: only the jump to 13 passes.
  assert.deepEqual(seen.out, [10, 13]);
});

test("flow/Dedupe deadband as a percentage of the reference", async () => {
  const { out } = await dedupe(
    [100, 105, 111, 120, 123],
    "'deadband' -> mode T\n'10%' -> band T",
  );
  // 111 moved 11 (> 10% of 100); then the band is 11.1: 120 is 9 away,
  // 123 is 12 away.
  assert.deepEqual(out, [100, 111, 123]);
});

test("flow/Dedupe deadband reads numbers in strings as Node-RED does (parseFloat)", async () => {
  const { out } = await dedupe(
    ["21.5 C", "21.7 C", "23 C"],
    "'deadband' -> mode T\n'1' -> band T",
  );
  assert.deepEqual(out, ["21.5 C", "23 C"]);
});

test("flow/Dedupe deadband sends a value that is not a number to error, and goes on", async () => {
  const { out, errors } = await dedupe(
    [1, "abc", { n: 1 }, 3],
    "'deadband' -> mode T\n'1' -> band T",
  );
  assert.deepEqual(out, [1, 3]);
  assert.equal(errors.length, 2);
  assert.match(
    errors[0],
    /Cannot compare with a dead band: the value is not a number, received string "abc"$/,
  );
  assert.match(errors[1], /received object$/);
});

test("flow/Dedupe forgets the least recently seen key beyond maxKeys, and counts it", async () => {
  const { out, net } = await dedupe(
    ["a", "b", "a", "c", "b", "a"],
    "'2' -> maxKeys T\n'$' -> key T",
  );
  assert.equal(meterOf(net, "T", "dedupe_keys_evicted_total"), 3);
  assert.equal(meterOf(net, "T", "dedupe_keys"), 2);
  // Keys a, b; a seen again (b is now the oldest); c evicts b; b is new
  // again (evicting a), and so is a (evicting c).
  assert.deepEqual(out, ["a", "b", "c", "b", "a"]);
});

test("flow/Dedupe's reset port forgets the reset message's key, or every key", async () => {
  const m = (k: string, v: number) => ({ k, v });
  const { sinks, errors } = await runShaping(
    `
    S(test/Script) in -> in T(flow/Dedupe) out -> in K(test/Sink)
    S reset -> reset T
    'v' -> value T
    'k' -> key T
    `,
    {
      steps: [
        ["in", m("a", 1)],
        ["in", m("b", 1)],
        ["reset", { k: "a" }],
        ["in", m("a", 1)], // a forgotten: passes
        ["in", m("b", 1)], // b kept: held back
        ["reset", "everything"], // no key: every key forgotten
        ["in", m("b", 1)],
        ["in", m("a", 1)],
      ],
    },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.K, [
    m("a", 1),
    m("b", 1),
    m("a", 1),
    m("b", 1),
    m("a", 1),
  ]);
});

test("flow/Dedupe keeps a copy of an object value: a later change of the message does not move the reference", () => {
  const { ctx, sent } = fakeContext(FlowDedupe);
  const shared = { v: 1 };
  FlowDedupe.process!(shared, ctx);
  // Fan-out shares a message: a process downstream may change it.
  shared.v = 2;
  FlowDedupe.process!({ v: 1 }, ctx);
  FlowDedupe.process!({ v: 2 }, ctx);
  assert.deepEqual(sent, [["out", { v: 2 }], ["out", { v: 2 }]]);
});

test("flow/Dedupe takes NaN after NaN as no change (a stuck NaN passes once), and -0 and 0 as the same value", () => {
  const { ctx, sent } = fakeContext(FlowDedupe);
  const values = [NaN, NaN, 1, NaN, NaN, -0, 0, -0, { a: NaN }, { a: NaN }];
  for (const v of values) FlowDedupe.process!(v, ctx);
  assert.deepEqual(sent, [
    ["out", NaN],
    ["out", 1],
    ["out", NaN],
    ["out", -0],
    ["out", { a: NaN }],
  ]);
});

test("flow/Dedupe settings are checked when the graph is validated", () => {
  const cases: [string, RegExp][] = [
    [
      "'narrowband' -> mode T(flow/Dedupe)",
      /in-port "mode" of "T" \(flow\/Dedupe\) is not valid: expected one of "change", "deadband", "deadband-eq", received string "narrowband"$/,
    ],
    [
      "'-1' -> band T(flow/Dedupe)",
      /in-port "band" of "T" \(flow\/Dedupe\) is not valid: expected a dead band: a non-negative number such as 0.5, or a percentage such as "10%", received string "-1"$/,
    ],
    [
      "'ten%' -> band T(flow/Dedupe)",
      /is not valid: expected a dead band/,
    ],
    [
      "'0' -> maxKeys T(flow/Dedupe)",
      /in-port "maxKeys" of "T" \(flow\/Dedupe\) is not valid: expected a positive integer up to 1000000, received number 0$/,
    ],
    [
      "'payload.(' -> value T(flow/Dedupe)",
      /in-port "value" of "T" \(flow\/Dedupe\) is not valid: /,
    ],
  ];
  for (const [text, re] of cases) {
    const problems = problemsOf(text);
    assert.equal(problems.length, 1, `${text}: ${problems}`);
    assert.match(problems[0], re);
  }
});
