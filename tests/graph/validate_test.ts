import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Graph,
  GraphBuilder,
  GraphError,
  parseFbp,
  parseGraphJson,
  type Problem,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";

const registry = testRegistry();

function problems(graph: Graph): Problem[] {
  return validateGraph(graph, registry);
}

/** The one problem of a graph. */
function only(graph: Graph): Problem {
  const found = problems(graph);
  assert.equal(found.length, 1, found.map((p) => p.message).join("\n"));
  return found[0];
}

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

test("validateGraph() reports an in-port that takes one connection fed by two", () => {
  const p = only(parseFbp(`
A(core/Repeat) out -> data K(core/Kick)
'bang' -> in K
B(core/Repeat) out -> data K
`));
  assert.equal(p.path, "connections[2].tgt");
  assert.deepEqual([p.line, p.col], [4, 20]);
  assert.equal(
    p.message,
    'in-port "data" of "K" (core/Kick) takes one connection, but connections[0] and connections[2] both feed it; remove all but one, or merge them in a process first',
  );
});

test("validateGraph() lets distinct slots of an addressable port each take one", () => {
  const graph = parseFbp(`
A(core/Repeat) out -> in[0] M(flow/Merge)
B(core/Repeat) out -> in[1] M
`);
  assert.deepEqual(problems(graph), []);
  const twice = parseFbp(`
A(core/Repeat) out -> in[0] M(flow/Merge)
B(core/Repeat) out -> in[0] M
`);
  assert.equal(only(twice).path, "connections[1].tgt");
});

test("validateGraph() reports an index on a port that is not addressable", () => {
  const p = only(parseFbp("A(core/Repeat) out[1] -> in B(core/Output)"));
  assert.equal(p.path, "connections[0].src.index");
  assert.match(
    p.message,
    /out-port "out" of "A" \(core\/Repeat\) is not addressable, so it takes no index; remove \[1\]/,
  );
});

test("validateGraph() reports a capacity that is not a positive integer", () => {
  const graph = new GraphBuilder().process("A", "core/Repeat").process(
    "B",
    "core/Output",
  )
    .connect("A", "out", "B", "in", { metadata: { capacity: 0 } })
    .connect("A", "out", "B", "in", { metadata: { capacity: 2.5 } })
    .connect("A", "out", "B", "in", { metadata: { capacity: "5" } })
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
    /timeoutMs of process "A" must be a positive number of milliseconds, received number -5/,
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
  assert.deepEqual(found.map((p) => [p.path, p.line]), [
    ["processes.A.metadata.retry.attempts", 3],
    ["processes.A.metadata.retry.backoffMs", 3],
    ["processes.A.metadata.retry.backofMs", 3],
    ["processes.B.metadata.retry", 4],
  ]);
  assert.match(found[1].message, /retry of process "A" needs "backoffMs"/);
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
    /must be a non-negative number of milliseconds, received string "1s"/,
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
    [
      "3:20 processes.Parse.component",
      "4:17 processes.Alert.metadata.timeoutMs",
      "2:6 connections[0].data",
      "3:10 connections[1].metadata.capacity",
      "5:11 connections[3].tgt.port",
      "6:13 connections[4].src.process",
    ],
  );
  const error = new GraphError(found, { file: "broken.fbp" });
  const lines = error.message.split("\n");
  assert.equal(lines[0], "Invalid graph: 6 problems");
  assert.equal(
    lines[1],
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
