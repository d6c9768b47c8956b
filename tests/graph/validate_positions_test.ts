import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatProblem,
  parseFbp,
  parseGraphJson,
  validateFlow,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { colOf, where } from "./_helpers.ts";

test("validateGraph() reports an INPORT= of an unknown process at its line", () => {
  const text = "A(core/Repeat)\r\n  INPORT=X.in:IN # typo\r\n";
  const problems = validateGraph(parseFbp(text), testRegistry());
  assert.deepEqual(where(problems), [["inports.IN.process", 2, 3]]);
  assert.match(problems[0].message, /unknown process "X"; did you mean "A"\?/);
});

test("validateGraph() reports an OUTPORT= of an unknown port at its line", () => {
  const text = "A(core/Repeat)\nOUTPORT=A.outt:OUT\n";
  const problems = validateGraph(parseFbp(text), testRegistry());
  assert.deepEqual(where(problems), [["outports.OUT.port", 2, 1]]);
  assert.match(
    problems[0].message,
    /has no out-port "outt" \(did you mean "out"\?\)/,
  );
});

test("validateGraph() reports an INPORT= name used twice at the line the graph keeps", () => {
  // The parser keeps the last INPORT=...:IN, so its problem is on line 3.
  const text = "A(core/Repeat)\nINPORT=A.in:IN\nINPORT=A.nope:IN\n";
  const graph = parseFbp(text);
  assert.deepEqual(graph.inports, { IN: { process: "A", port: "nope" } });
  const problems = validateGraph(graph, testRegistry());
  assert.ok(
    problems.some((p) => p.path === "inports.IN.port" && p.line === 3),
    JSON.stringify(problems),
  );
});

test("validateGraph() reports a bad setting at the declaration that wrote it", () => {
  const text =
    "A(core/Repeat)\nA out -> in B(core/Output)\nA(core/Repeat:timeoutMs=0)\n";
  const problems = validateGraph(parseFbp(text), testRegistry());
  assert.deepEqual(where(problems), [["processes.A.metadata.timeoutMs", 3, 1]]);
});

test("validateGraph() reports duplicate keys deep inside connections with both positions", () => {
  const text = `{
  "processes": {
    "A": { "component": "core/Repeat" },
    "B": { "component": "core/Output" }
  },
  "connections": [{
    "src": { "process": "A", "port": "out", "port": "out" },
    "tgt": { "process": "B", "port": "in" },
    "metadata": { "capacity": 1, "capacity": 2 }
  }]
}`;
  const problems = validateGraph(parseGraphJson(text), testRegistry());
  assert.deepEqual(where(problems), [
    ["connections[0].src.port", 7, 45],
    ["connections[0].metadata.capacity", 9, 34],
  ]);
  assert.match(problems[0].message, /first at line 7, col 30/);
  assert.match(problems[1].message, /first at line 9, col 19/);
});

test("validateGraph() puts each problem of a JSON graph at the key holding the bad value", () => {
  const lines = [
    "{",
    '  "properties": { "defaultCapacity": 0 },',
    '  "processes": {',
    '    "my proc": { "component": "core/Repet" },',
    '    "S": { "component": "math/Scale", "metadata": { "retry": { "attempts": 0, "backoffMs": 1 } } },',
    '    "O": { "component": "core/Output" }',
    "  },",
    '  "connections": [',
    '    { "src": { "process": "S", "port": "out" }, "tgt": { "process": "O", "port": "in", "index": 1 } },',
    '    { "src": { "process": "S", "port": "out" }, "tgt": { "process": "O", "port": "in" }, "metadata": { "policy": "drop-old" } },',
    '    { "data": "fast", "tgt": { "process": "S", "port": "factor" } }',
    "  ]",
    "}",
  ];
  const problems = validateGraph(
    parseGraphJson(lines.join("\n")),
    testRegistry(),
  );
  const at = (n: number, key: string): [number, number] => [
    n,
    colOf(lines[n - 1], `"${key}"`),
  ];
  assert.deepEqual(where(problems), [
    ["properties.defaultCapacity", ...at(2, "defaultCapacity")],
    ['processes["my proc"].component', ...at(4, "component")],
    ["processes.S.metadata.retry.attempts", ...at(5, "attempts")],
    ["connections[0].tgt.index", ...at(9, "index")],
    ["connections[1].metadata.policy", ...at(10, "policy")],
    ["connections[2].data", ...at(11, "data")],
  ]);
});

test("validateFlow() reports bad supervision properties with the graph's other problems, at their lines", () => {
  const text =
    "# @restart sometimes\n# @restartLimit 5000\n# @allow bogus x\nA(core/Repeat)\n";
  const problems = validateFlow(parseFbp(text), testRegistry());
  assert.deepEqual(
    where([...problems].sort((a, b) => a.line! - b.line!)),
    [
      ["properties.restart", 1, 1],
      ["properties.restartLimit", 2, 1],
      ["properties.allow.bogus", 3, 1],
    ],
  );
  assert.deepEqual(
    validateFlow(
      parseFbp("# @restart on-failure\n# @required true\nA(core/Repeat)\n"),
      testRegistry(),
    ),
    [],
  );
});

test("formatProblem() names the file of a problem without a position", () => {
  const problems = validateFlow(
    parseGraphJson('{"processes":{}}'),
    testRegistry(),
  );
  assert.equal(
    formatProblem(
      { ...problems[0], line: undefined, col: undefined },
      "e.json",
    ),
    `e.json: processes: ${problems[0].message}`,
  );
  const [fromText] = validateFlow(parseFbp("# nothing\n"), testRegistry());
  assert.match(
    formatProblem(fromText, "e.fbp"),
    /^e\.fbp: processes: the graph has no process/,
  );
});
