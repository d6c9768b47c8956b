import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphBuilder, parseFbp, parseGraphJson } from "../../src/graph/mod.ts";
import { only, problems } from "./_helpers.ts";

test("validateGraph() reports a capacity that is not a positive integer", () => {
  const graph = new GraphBuilder().process("A", "core/Repeat")
    .process("B", "core/Output").process("C", "core/Output")
    .process("D", "core/Output")
    .connect("A", "out", "B", "in", { metadata: { capacity: 0 } })
    .connect("A", "out", "C", "in", { metadata: { capacity: 2.5 } })
    .connect("A", "out", "D", "in", { metadata: { capacity: "5" } })
    .build();
  const found = problems(graph);
  assert.deepEqual(found.map((p) => p.path), [
    "connections[0].metadata.capacity",
    "connections[1].metadata.capacity",
    "connections[2].metadata.capacity",
  ]);
  assert.match(
    found[0].message,
    /capacity must be a positive integer .*received number 0$/,
  );
  assert.match(found[2].message, /received string "5"$/);
});

test("validateGraph() reports a capacity of 0 on a DSL arrow at the arrow", () => {
  const p = only(parseFbp("A(core/Repeat)\nA out -> (0) in B(core/Output)"));
  assert.equal(p.path, "connections[0].metadata.capacity");
  assert.deepEqual([p.line, p.col], [2, 7]);
});

test("validateGraph() reports a bad defaultCapacity", () => {
  const p = only(
    parseGraphJson('{\n  "properties": { "defaultCapacity": -1 }\n}'),
  );
  assert.equal(p.path, "properties.defaultCapacity");
  assert.deepEqual([p.line, p.col], [2, 19]);
  assert.match(p.message, /defaultCapacity must be a positive integer/);
});

test("validateGraph() reports an unknown policy with the closest one", () => {
  const p = only(parseGraphJson(`{
  "processes": { "A": { "component": "core/Repeat" }, "B": { "component": "core/Output" } },
  "connections": [
    { "src": { "process": "A", "port": "out" }, "tgt": { "process": "B", "port": "in" },
      "metadata": { "policy": "drop-olderst" } }
  ]
}`));
  assert.equal(p.path, "connections[0].metadata.policy");
  assert.deepEqual([p.line, p.col], [5, 21]);
  assert.equal(
    p.message,
    'policy must be one of "block", "drop-oldest", "drop-newest", "error", received string "drop-olderst"; did you mean "drop-oldest"?',
  );
});

test("validateGraph() reports a capacity or policy on an IIP", () => {
  const p = only(parseFbp("'x' -> (5) in A(core/Output)"));
  assert.equal(p.path, "connections[0].metadata.capacity");
  assert.match(
    p.message,
    /an IIP is delivered directly, with no buffer, so it takes no capacity/,
  );
});

test("validateGraph() reports bad timeoutMs and concurrency", () => {
  const found = problems(
    new GraphBuilder().process("A", "core/Output", {
      timeoutMs: -5,
      concurrency: 1.5,
    })
      .build(),
  );
  assert.deepEqual(found.map((p) => p.path), [
    "processes.A.metadata.timeoutMs",
    "processes.A.metadata.concurrency",
  ]);
  assert.match(
    found[0].message,
    /timeoutMs of process "A" must be a positive number of milliseconds up to 2147483647 \(about 24\.8 days, the longest timer\), received number -5/,
  );
  assert.match(
    found[1].message,
    /concurrency of process "A" must be a positive integer/,
  );
});

test("validateGraph() reports bad retry settings", () => {
  const found = problems(parseGraphJson(`{
  "processes": {
    "A": { "component": "core/Output", "metadata": { "retry": { "attempts": 0, "backofMs": 10 } } },
    "B": { "component": "core/Output", "metadata": { "retry": 3 } }
  }
}`));
  // By position: the missing backoffMs at its retry object, then its keys.
  assert.deepEqual(found.map((p) => [p.path, p.line]), [
    ["processes.A.metadata.retry.backoffMs", 3],
    ["processes.A.metadata.retry.attempts", 3],
    ["processes.A.metadata.retry.backofMs", 3],
    ["processes.B.metadata.retry", 4],
  ]);
  assert.match(found[0].message, /retry of process "A" needs "backoffMs"/);
  assert.match(
    found[2].message,
    /unknown setting "backofMs"; did you mean "backoffMs"\?/,
  );
  assert.match(
    found[3].message,
    /must be an object \{ "attempts": \.\.\., "backoffMs": \.\.\. \}/,
  );
});

test("validateGraph() reports bad circuitBreaker settings", () => {
  const p = only(
    new GraphBuilder().process("A", "core/Output", {
      circuitBreaker: {
        failureThreshold: 3,
        resetTimeoutMs: "1s" as unknown as number,
      },
    }).build(),
  );
  assert.equal(p.path, "processes.A.metadata.circuitBreaker.resetTimeoutMs");
  assert.match(
    p.message,
    /must be a non-negative number of milliseconds up to 2147483647 \(about 24\.8 days, the longest timer\), received string "1s"/,
  );
});
