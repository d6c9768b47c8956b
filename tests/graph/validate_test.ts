import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Graph,
  GraphBuilder,
  GraphError,
  parseFbp,
  parseGraphJson,
  validateFlow,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { colOf, only, problems, where } from "./_helpers.ts";

test("validateGraph() accepts a valid graph", () => {
  const graph = parseFbp(`
'1s' -> interval Tick(core/Interval) out -> (50) in Map(flow/Map) out -> in Log(core/Output)
'$uppercase(name)' -> expr Map
Map error -> in Log
`);
  assert.deepEqual(problems(graph), []);
});

test("validateGraph() matches the DSL's default IN and OUT ports ignoring case", () => {
  assert.deepEqual(problems(parseFbp("A(core/Repeat) -> B(core/Output)")), []);
});

test("validateGraph() reports an unknown component with the closest name", () => {
  const p = only(
    parseFbp("'x' -> in A(core/Repeat)\n'y' -> in Log(core/Ouput)"),
  );
  assert.equal(p.path, "processes.Log.component");
  assert.deepEqual([p.line, p.col], [2, 11]);
  assert.equal(
    p.message,
    'unknown component "core/Ouput" for process "Log"; did you mean "core/Output"?',
  );
});

test("validateGraph() reports an unknown component with no close name", () => {
  const p = only(new GraphBuilder().process("A", "acme/Frobnicate").build());
  assert.equal(p.path, "processes.A.component");
  assert.match(p.message, /no registered component has a similar name/);
});

test("validateGraph() reports a process without a component", () => {
  const p = only({ processes: { A: { metadata: {} } } } as unknown as Graph);
  assert.equal(p.path, "processes.A.component");
  assert.match(p.message, /process "A" has no component/);
});

test("validateGraph() reports an unknown in-port, listing the in-ports", () => {
  const p = only(
    parseFbp("A(core/Repeat) out -> fn M(flow/Map)\n'1' -> exprs M"),
  );
  assert.equal(p.path, "connections[1].tgt.port");
  assert.deepEqual([p.line, p.col], [2, 5]);
  assert.equal(
    p.message,
    'IIP target: process "M" (flow/Map) has no in-port "exprs" (did you mean "expr"?); its in-ports are in, fn and expr',
  );
});

test("validateGraph() reports an unknown out-port, naming an in-port used as one", () => {
  const p = only(parseFbp("A(core/Repeat) in -> in B(core/Output)"));
  assert.equal(p.path, "connections[0].src.port");
  assert.match(
    p.message,
    /process "A" \(core\/Repeat\) has no out-port "in" \("in" is an in-port\); its out-ports are out and error$/,
  );
});

test("validateGraph() reports a connection to an unknown process", () => {
  const p = only(
    parseFbp("'x' -> in Parse(core/Repeat)\nParse out -> in Prase"),
  );
  assert.equal(p.path, "connections[1].tgt.process");
  assert.deepEqual([p.line, p.col], [2, 11]);
  assert.equal(
    p.message,
    'connection target names unknown process "Prase"; did you mean "Parse"?',
  );
});

test("validateGraph() reports a connection from an unknown process", () => {
  const p = only(parseFbp("Ghost out -> in B(core/Output)"));
  assert.equal(p.path, "connections[0].src.process");
  assert.match(p.message, /connection source names unknown process "Ghost"/);
});

test("validateGraph() reports an index on a port that is not addressable", () => {
  const p = only(parseFbp("A(core/Repeat) out[1] -> in B(core/Output)"));
  assert.equal(p.path, "connections[0].src.index");
  assert.match(
    p.message,
    /out-port "out" of "A" \(core\/Repeat\) is not addressable, so it takes no index; remove \[1\]/,
  );
});

test("validateGraph() reports a duplicate process name in DSL text", () => {
  const p = only(parseFbp("'x' -> in A(core/Repeat)\n'y' -> in A(core/Kick)"));
  assert.equal(p.path, "processes.A");
  assert.deepEqual([p.line, p.col], [2, 11]);
  assert.match(p.message, /declared twice with different components/);
});

test("validateGraph() reports a duplicate process name in JSON text", () => {
  const p = only(parseGraphJson(`{"processes": {
  "A": { "component": "core/Repeat" },
  "A": { "component": "core/Output" }
}}`));
  assert.equal(p.path, "processes.A");
  assert.deepEqual([p.line, p.col], [3, 3]);
});

test("validateGraph() reports an IIP that fails the port's type", () => {
  const p = only(parseFbp("'two' -> factor S(math/Scale)"));
  assert.equal(p.path, "connections[0].data");
  assert.deepEqual([p.line, p.col], [1, 7]);
  assert.equal(
    p.message,
    'IIP for in-port "factor" of "S" (math/Scale): expected a number, received string "two"',
  );
  assert.deepEqual(problems(parseFbp("2 -> factor S(math/Scale)")), []);
});

test("validateGraph() accepts IIP strings that convert to the port's type", () => {
  const graph = parseFbp(`
' 2.5 ' -> ratio T(test/Typed)
'-1e3' -> ratio T
'42' -> size T
'2.0' -> size T
'true' -> on T
'false' -> on T
'{"a": [1]}' -> options T
'[1, "x"]' -> cases T
'5' -> text T
'5' -> in T
`);
  assert.deepEqual(problems(graph), []);
});

test("validateGraph() reports IIP strings that do not convert, with path and line:col", () => {
  const found = problems(parseFbp(`'' -> ratio T(test/Typed)
'  ' -> ratio T
'Infinity' -> ratio T
'12px' -> ratio T
'2.5' -> size T
'True' -> on T
'1' -> on T
'[1]' -> options T
'null' -> options T
'{"a": 1}' -> cases T
'[1,' -> cases T
`));
  assert.deepEqual(
    found.map((p) => `${p.line}:${p.col} ${p.path}`),
    [
      "1:4 connections[0].data",
      "2:6 connections[1].data",
      "3:12 connections[2].data",
      "4:8 connections[3].data",
      "5:7 connections[4].data",
      "6:8 connections[5].data",
      "7:5 connections[6].data",
      "8:7 connections[7].data",
      "9:8 connections[8].data",
      "10:12 connections[9].data",
      "11:7 connections[10].data",
    ],
  );
  assert.deepEqual(
    found.map((p) => p.message.replace(/^IIP for [^:]*: /, "")),
    [
      'expected a number, received string ""',
      'expected a number, received string "  "',
      'expected a number, received string "Infinity"',
      'expected a number, received string "12px"',
      'expected an integer, received string "2.5"',
      'expected a boolean, received string "True"',
      'expected a boolean, received string "1"',
      'expected an object, received string "[1]"',
      'expected an object, received string "null"',
      'expected an array, received string "{\\"a\\": 1}"',
      'expected an array, received string "[1,"',
    ],
  );
});

test("validateGraph() reports a string IIP of a JSON graph that does not convert, with line:col", () => {
  const graph = parseGraphJson(`{
  "processes": { "T": { "component": "test/Typed" } },
  "connections": [
    { "data": "7", "tgt": { "process": "T", "port": "size" } },
    { "data": "seven", "tgt": { "process": "T", "port": "size" } }
  ]
}`);
  const p = only(graph);
  assert.equal(p.path, "connections[1].data");
  assert.deepEqual([p.line, p.col], [5, 7]);
  assert.match(
    p.message,
    /"size" of "T" \(test\/Typed\): expected an integer, received string "seven"$/,
  );
});

test("validateGraph() reports a duration IIP that does not parse", () => {
  const p = only(parseFbp("'1x' -> interval Tick(core/Interval)"));
  assert.equal(p.path, "connections[0].data");
  assert.match(
    p.message,
    /IIP for in-port "interval" of "Tick" \(core\/Interval\): expected a duration/,
  );
});

test("validateGraph() reports an IIP that the port's parse function rejects", () => {
  const p = only(parseFbp("'$uppercase(name' -> expr M(flow/Map)"));
  assert.equal(p.path, "connections[0].data");
  assert.match(
    p.message,
    /^IIP for in-port "expr" of "M" \(flow\/Map\) is not valid: invalid JSONata expression: /,
  );
});

test("validateGraph() accepts a function IIP on a function port", () => {
  const graph = new GraphBuilder().process("M", "flow/Map")
    .initial((x: number) => x * 2, "M", "fn").build();
  assert.deepEqual(problems(graph), []);
  const wrong = new GraphBuilder().process("M", "flow/Map").initial(
    "x * 2",
    "M",
    "fn",
  )
    .build();
  assert.match(
    only(wrong).message,
    /expected a function, received string "x \* 2"/,
  );
});

test("validateGraph() reports a required in-port with no connection or IIP", () => {
  const p = only(parseFbp("\nTick(core/Interval) out -> in Log(core/Output)"));
  assert.equal(p.path, "processes.Tick");
  assert.deepEqual([p.line, p.col], [2, 1]);
  assert.equal(
    p.message,
    'in-port "interval" of "Tick" (core/Interval) is required: connect it or give it an IIP',
  );
});

test("validateGraph() counts an exported in-port as feeding a required port", () => {
  const graph = parseFbp("INPORT=Tick.interval:INTERVAL\nTick(core/Interval)");
  assert.deepEqual(problems(graph), []);
});

test("validateGraph() reports exported ports naming unknown processes and ports", () => {
  const found = problems(parseFbp(`INPORT=Nope.in:IN
OUTPORT=A.oute:OUT
A(core/Repeat)
'x' -> in A`));
  assert.deepEqual(found.map((p) => [p.path, p.line]), [
    ["inports.IN.process", 1],
    ["outports.OUT.port", 2],
  ]);
  assert.match(
    found[0].message,
    /exported in-port "IN" names unknown process "Nope"/,
  );
  assert.match(
    found[1].message,
    /has no out-port "oute" \(did you mean "out"\?\); its out-ports are out and error$/,
  );
});

test("validateGraph() reports malformed connections", () => {
  const found = problems({
    processes: { A: { component: "core/Output" } },
    connections: [
      { tgt: { process: "A", port: "in" } },
      {
        data: 1,
        src: { process: "A", port: "out" },
        tgt: { process: "A", port: "in" },
      },
      { data: 1, tgt: { process: "A" } },
      "A -> B",
    ],
  } as unknown as Graph);
  assert.deepEqual(found.map((p) => p.path), [
    "connections[0]",
    "connections[1]",
    "connections[2].tgt.port",
    "connections[3]",
  ]);
});

test("validateGraph() reports a graph that is not an object", () => {
  const found = problems([] as unknown as Graph);
  assert.deepEqual(found.map((p) => p.path), ["$"]);
});

test("validateGraph() reports every problem at once, each with line:col", () => {
  const text = `# @name broken
'1x' -> interval Tick(core/Interval)
Tick out -> (0) in Parse(core/Ouput)
Parse out -> in Alert(core/Repeat:timeoutMs=0)
Alert out -> nope Log(core/Output)
Missing out -> in Log
`;
  const found = problems(parseFbp(text));
  assert.deepEqual(
    found.map((p) => `${p.line}:${p.col} ${p.path}`),
    // By position, as a reader meets them, not in the order checked.
    [
      "2:6 connections[0].data",
      "3:10 connections[1].metadata.capacity",
      "3:20 processes.Parse.component",
      "4:17 processes.Alert.metadata.timeoutMs",
      "5:11 connections[3].tgt.port",
      "6:13 connections[4].src.process",
    ],
  );
  const error = new GraphError(found, { file: "broken.fbp" });
  const lines = error.message.split("\n");
  assert.equal(lines[0], "Invalid graph: 6 problems");
  assert.equal(
    lines[3],
    'broken.fbp:3:20: unknown component "core/Ouput" for process "Parse"; did you mean "core/Output"?',
  );
  assert.equal(lines.length, 7);
});

test("GraphError lists problems without a position as path: message", () => {
  const error = new GraphError([{ path: "processes.A", message: "broken" }]);
  assert.equal(error.message, "Invalid graph: 1 problem\nprocesses.A: broken");
  assert.equal(error.name, "GraphError");
  assert.ok(error instanceof Error);
});

test("validateGraph() reports null metadata of a process, an edge and an IIP at their keys", () => {
  const a = '    "A": { "component": "core/Repeat", "metadata": null },';
  const edge =
    '    { "src": { "process": "A", "port": "out" }, "tgt": { "process": "B", "port": "in" }, "metadata": null },';
  const iip =
    '    { "data": 1, "tgt": { "process": "A", "port": "in" }, "metadata": null }';
  const text = `{
  "processes": {
${a}
    "B": { "component": "core/Output" }
  },
  "connections": [
${edge}
${iip}
  ]
}`;
  const problems = validateGraph(parseGraphJson(text), testRegistry());
  const key = '"metadata"';
  assert.deepEqual(where(problems), [
    ["processes.A.metadata", 3, colOf(a, key)],
    ["connections[0].metadata", 7, colOf(edge, key)],
    ["connections[1].metadata", 8, colOf(iip, key)],
  ]);
  assert.deepEqual(problems.map((p) => p.message), [
    'metadata of process "A" must be an object, received null',
    "connection metadata must be an object, received null",
    "connection metadata must be an object, received null",
  ]);
});

test("validateGraph() reports a connection with both src and data", () => {
  const text = `{
  "processes": { "A": { "component": "core/Repeat" }, "B": { "component": "core/Output" } },
  "connections": [
    { "src": { "process": "A", "port": "out" }, "data": 5, "tgt": { "process": "B", "port": "in" } }
  ]
}`;
  const problems = validateGraph(parseGraphJson(text), testRegistry());
  assert.deepEqual(where(problems), [["connections[0]", 4, 5]]);
  assert.equal(
    problems[0].message,
    'a connection has either "src" (an edge) or "data" (an IIP), not both',
  );
});

test("validateGraph() reports an edge and an IIP without tgt at their connection", () => {
  const text = `{
  "processes": { "A": { "component": "core/Repeat" } },
  "connections": [
    { "src": { "process": "A", "port": "out" } },
    { "data": "x" }
  ]
}`;
  const problems = validateGraph(parseGraphJson(text), testRegistry());
  assert.deepEqual(where(problems), [
    ["connections[0].tgt", 4, 5],
    ["connections[1].tgt", 5, 5],
  ]);
  assert.deepEqual(problems.map((p) => p.message), [
    'connection has no "tgt" (target in-port)',
    'IIP has no "tgt" (target in-port)',
  ]);
});

test("validateFlow() reports a graph with no process; validateGraph() does not", () => {
  for (const graph of [{ processes: {} }, { connections: [] }, parseFbp("")]) {
    const problems = validateFlow(graph, testRegistry());
    assert.equal(problems.length, 1);
    assert.equal(problems[0].path, "processes");
    assert.match(problems[0].message, /the graph has no process/);
  }
  assert.deepEqual(validateGraph({ processes: {} }, testRegistry()), []);
});
