/**
 * Adversarial tests of the graph layer: the text a demanding user writes
 * (CRLF, tabs, comments, odd capacities, unicode), JSON that is almost
 * right, round trips, subgraph corner cases, and a large generated graph.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildNetworkSpec,
  defineSubgraph,
  type Graph,
  GraphBuilder,
  GraphError,
  loadGraph,
  parseFbp,
  parseGraphJson,
  type Problem,
  sourceMapOf,
  stringifyGraph,
  toFbp,
  validateGraph,
} from "../../src/graph/mod.ts";
import { builtins } from "../../src/components/mod.ts";
import { Network } from "../../src/engine/network.ts";
import type { Registry } from "../../src/engine/registry.ts";
import { testRegistry } from "./_registry.ts";

// ---------------------------------------------------------------- helpers

/** 1-based column of the `nth` (0-based) occurrence of `token` in `line`. */
function colOf(line: string, token: string, nth = 0): number {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = line.indexOf(token, at + 1);
    assert.ok(at >= 0, `"${token}" #${nth} not in ${JSON.stringify(line)}`);
  }
  return at + 1;
}

/** The GraphError a call throws (fails when it throws nothing or else). */
function graphErrorOf(fn: () => unknown): GraphError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GraphError, `expected a GraphError, got ${e}`);
    return e;
  }
  assert.fail("expected a GraphError");
}

/** Problems as [path, line, col] triples. */
function where(problems: readonly Problem[]): unknown[] {
  return problems.map((p) => [p.path, p.line, p.col]);
}

/** The graph without its source map, for comparisons. */
function plain(graph: Graph): unknown {
  return JSON.parse(JSON.stringify(graph));
}

/** Reads every value of an exported out-port while the network runs. */
async function runAndCollect(
  graph: Graph,
  registry: Registry,
  outport: string,
): Promise<unknown[]> {
  const net = new Network(buildNetworkSpec(graph, registry));
  const got: unknown[] = [];
  const reading = (async () => {
    for await (const v of net.output(outport)) got.push(v);
  })();
  await net.start();
  await net.finished;
  await reading;
  return got;
}

const LF_FLOW = [
  "# @name crlf",
  "'x' -> in A(core/Repeat) # first",
  "A out -> (4) in B(core/Output)",
  "INPORT=A.in:IN",
  "",
].join("\n");

// ------------------------------------------------------- DSL text shapes

test("parseFbp() reads CRLF text like the same text with LF", () => {
  const crlf = parseFbp(LF_FLOW.replaceAll("\n", "\r\n"));
  assert.deepEqual(plain(crlf), plain(parseFbp(LF_FLOW)));
});

test("parseFbp() gives CRLF text the positions of the same text with LF", () => {
  const crlf = sourceMapOf(parseFbp(LF_FLOW.replaceAll("\n", "\r\n")));
  const lf = sourceMapOf(parseFbp(LF_FLOW));
  assert.deepEqual([...crlf!.positions], [...lf!.positions]);
});

test("parseFbp() accepts a tab as whitespace between tokens", () => {
  const spaced = "'x' -> in A(core/Repeat)\nA out -> in B(core/Output)\n";
  const tabbed = "\t'x'\t->\tin A(core/Repeat)\nA\tout -> in\tB(core/Output)\n";
  assert.deepEqual(plain(parseFbp(tabbed)), plain(parseFbp(spaced)));
});

test("parseFbp() accepts tabs around a capacity", () => {
  const graph = parseFbp("A(core/Repeat) out ->\t(7)\tin B(core/Output)");
  assert.equal(graph.connections?.[0].metadata?.capacity, 7);
});

test("parseFbp() reads text that starts with a byte order mark", () => {
  const graph = parseFbp("\uFEFF" + LF_FLOW.replaceAll("\n", "\r\n"));
  assert.deepEqual(plain(graph), plain(parseFbp(LF_FLOW)));
});

test("loadGraph() reads .fbp text whose first line is a JSON IIP as .fbp", () => {
  const text = '{"a": 1} -> options T(test/Typed)\n';
  assert.deepEqual(plain(loadGraph(text)), plain(parseFbp(text)));
});

test("parseFbp() ignores trailing spaces after a connection", () => {
  const graph = parseFbp("'x' -> in A(core/Repeat)   \nA out -> in B   \n");
  assert.deepEqual(graph.connections?.map((c) => c.tgt.process), ["A", "B"]);
});

test("parseFbp() trims trailing spaces from a # @ annotation value", () => {
  const graph = parseFbp("# @name sensors  \nA(core/Repeat)\n");
  assert.equal(graph.properties?.name, "sensors");
});

test("parseFbp() reads # @defaultCapacity with a trailing space as a number", () => {
  const graph = parseFbp("# @defaultCapacity 20 \nA(core/Repeat)\n");
  assert.equal(graph.properties?.defaultCapacity, 20);
});

test("parseFbp() reads a # @ annotation on the last line without a newline", () => {
  const graph = parseFbp("A(core/Repeat)\n# @name sensors");
  assert.equal(graph.properties?.name, "sensors");
});

test("parseFbp() ignores a comment at the end of a line, with quotes and arrows in it", () => {
  const graph = parseFbp(
    "'x' -> in A(core/Repeat) # it's A -> (3) B, \"really\"\nA out -> in B(core/Output) #\n",
  );
  assert.equal(graph.connections?.length, 2);
  assert.equal(graph.connections?.[1].metadata, undefined);
});

test("parseFbp() keeps # inside a quoted IIP", () => {
  const graph = parseFbp("'color #fff # not a comment' -> in A(core/Repeat)");
  assert.equal(graph.connections?.[0].data, "color #fff # not a comment");
});

test("parseFbp() keeps -> and (3) inside a JSON IIP and reads the capacity after it", () => {
  const graph = parseFbp(
    '{"a": "-> (3)", "b": ["#", "\'"]} -> in A(core/Repeat) out -> (4) in B(core/Output)',
  );
  assert.deepEqual(graph.connections?.[0].data, { a: "-> (3)", b: ["#", "'"] });
  assert.deepEqual(graph.connections?.map((c) => c.metadata?.capacity), [
    undefined,
    4,
  ]);
});

test("parseFbp() reads \\' as a quote and keeps any other backslash", () => {
  const graph = parseFbp(String.raw`'it\'s C:\dir\n' -> in A(core/Repeat)`);
  assert.equal(graph.connections?.[0].data, String.raw`it's C:\dir\n`);
});

test("parseFbp() keeps unicode IIP text and counts columns in UTF-16 code units", () => {
  const line = "'héllo 🌊' -> in A(core/Repeat) out -> (3) in B(core/Output)";
  const graph = parseFbp(line);
  assert.equal(graph.connections?.[0].data, "héllo 🌊");
  const positions = sourceMapOf(graph)!.positions;
  assert.deepEqual(positions.get("connections[1]"), {
    line: 1,
    col: colOf(line, "->", 1),
  });
  assert.deepEqual(positions.get("processes.B"), {
    line: 1,
    col: colOf(line, "B("),
  });
});

test("parseFbp() reports a non-ASCII process name at its column", () => {
  const line = "'x' -> in Zähler(core/Repeat)";
  const error = graphErrorOf(() => parseFbp(line));
  assert.deepEqual(where(error.problems), [["$", 1, colOf(line, "ä")]]);
});

test("parseFbp() reads empty text as an empty graph", () => {
  const graph = parseFbp("");
  assert.deepEqual(graph.processes, {});
  assert.deepEqual(graph.connections, []);
  assert.deepEqual(validateGraph(graph, testRegistry()), []);
});

test("parseFbp() reads text of only comments and blank lines as an empty graph", () => {
  const graph = parseFbp("# one\n\n   # two -> (3)\r\n#\n");
  assert.deepEqual(graph.processes, {});
  assert.deepEqual(graph.connections, []);
});

test("parseFbp() reads a 200,000-character line", () => {
  const long = "y".repeat(200_000);
  const graph = parseFbp(`'${long}' -> in A(core/Repeat) out -> (2) in B`);
  assert.equal((graph.connections?.[0].data as string).length, 200_000);
  assert.equal(graph.connections?.[1].metadata?.capacity, 2);
});

test("parseFbp() reads a JSON IIP written over several lines, placed at its arrow", () => {
  const text = '{\n  "a": 1,\n  "b": "->"\n} -> options T(test/Typed)\n';
  const graph = parseFbp(text);
  assert.deepEqual(graph.connections?.[0].data, { a: 1, b: "->" });
  assert.deepEqual(sourceMapOf(graph)!.positions.get("connections[0]"), {
    line: 4,
    col: 3,
  });
});

// -------------------------------------------------------------- capacities

test("parseFbp() reads a capacity on the last arrow of a chain", () => {
  const graph = parseFbp(
    "'x' -> in A(core/Repeat) out -> in B(core/Repeat) out -> (9) in C(core/Output)",
  );
  assert.deepEqual(graph.connections?.map((c) => c.metadata?.capacity), [
    undefined,
    undefined,
    9,
  ]);
});

test("parseFbp() reads -> ( 7 ) with spaces inside the parentheses", () => {
  const graph = parseFbp("A(core/Repeat) out -> ( 7 ) in B(core/Output)");
  assert.deepEqual(graph.connections?.[0].metadata, { capacity: 7 });
});

/** What the graph layer says about the capacity written in `line`. */
function capacityComplaint(line: string): Problem | undefined {
  let graph: Graph;
  try {
    graph = parseFbp(line);
  } catch (e) {
    assert.ok(e instanceof GraphError, `expected a GraphError, got ${e}`);
    return e.problems[0];
  }
  return validateGraph(graph, testRegistry())[0];
}

test("parseFbp() says a capacity of -1 must be a positive integer (not an unknown component)", () => {
  const line = "A(core/Repeat) out -> (-1) in B(core/Output)";
  const problem = capacityComplaint(line);
  assert.ok(problem, "expected a problem");
  assert.match(problem.message, /capacity/);
  assert.ok(
    [colOf(line, "->"), colOf(line, "(-1)")].includes(problem.col!),
    `col ${problem.col} is neither the arrow nor the capacity`,
  );
});

test("parseFbp() says a capacity of 1.5 must be a positive integer", () => {
  const line = "A(core/Repeat) out -> (1.5) in B(core/Output)";
  const problem = capacityComplaint(line);
  assert.ok(problem, "expected a problem");
  assert.match(problem.message, /capacity/);
  assert.ok(
    [colOf(line, "->"), colOf(line, "(1.5)")].includes(problem.col!),
    `col ${problem.col} is neither the arrow nor the capacity`,
  );
});

test("validateGraph() reports a capacity on an IIP arrow at that arrow", () => {
  const line = "A(core/Repeat) out -> in B(core/Output)\n'x' -> (5) in A";
  const problems = validateGraph(parseFbp(line), testRegistry());
  assert.deepEqual(where(problems), [
    ["connections[1].metadata.capacity", 2, 5],
  ]);
  assert.match(problems[0].message, /IIP .* takes no capacity/);
});

test("validateGraph() points at the arrow of the connection at fault among many on one line", () => {
  const line =
    "'x' -> in A(core/Repeat) out -> (2) in B(core/Repeat) out -> in C(core/Repeat) nope -> (3) in D(core/Output) out -> in E(core/Output)";
  const problems = validateGraph(parseFbp(line), testRegistry());
  assert.deepEqual(where(problems), [
    ["connections[3].src.port", 1, colOf(line, "->", 3)],
  ]);
  assert.match(
    problems[0].message,
    /process "C" \(core\/Repeat\) has no out-port "nope"/,
  );
});

test("parseFbp() matches 2,000 capacities to 2,000 arrows on one line", () => {
  let line = "'x' -> in C0(core/Repeat)";
  for (let i = 1; i < 2000; i++) {
    line += ` out -> (${i}) in C${i}(core/Repeat)`;
  }
  const graph = parseFbp(line);
  const connections = graph.connections!;
  assert.equal(connections.length, 2000);
  for (let i = 1; i < 2000; i++) {
    assert.equal(connections[i].metadata?.capacity, i);
    assert.equal(connections[i].tgt.process, `C${i}`);
  }
  assert.deepEqual(sourceMapOf(graph)!.positions.get("connections[1999]"), {
    line: 1,
    col: colOf(line, "->", 1999),
  });
});

// ---------------------------------------------------------- line counting

test("parseFbp() counts lone CR line breaks as the parser does, for validation problems too", () => {
  // The parser (and its syntax errors) treats a lone \r as a line break.
  const syntax = graphErrorOf(() =>
    parseFbp("'a' -> in A(core/Repeat)\rA out -> in B(core/Output) ]")
  );
  assert.equal(syntax.problems[0].line, 2);
  const graph = parseFbp(
    "'a' -> in A(core/Repeat)\rA out -> in B(core/Output)\rB out -> in C(nope/X)",
  );
  const problems = validateGraph(graph, testRegistry());
  assert.deepEqual(where(problems), [["processes.C.component", 3, 13]]);
});

test("parseFbp() gives a syntax error after an IIP holding U+2028 the line a validation problem would get", () => {
  const before = "'a\u2028b' -> in A(core/Repeat)\n";
  const bad = graphErrorOf(() =>
    parseFbp(before + "A out -> in B(core/Output) ]")
  );
  const checked = validateGraph(
    parseFbp(before + "A out -> in B(nope/X)"),
    testRegistry(),
  );
  assert.equal(bad.problems[0].line, checked[0].line);
});

test("parseFbp() ends a comment at U+2028 as the parser does", () => {
  const graph = parseFbp("# note\u2028A(core/Repeat) out -> in B(core/Output)");
  assert.equal(graph.connections?.length, 1);
});

// --------------------------------------------------------- INPORT/OUTPORT

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

test("parseFbp() accepts a process used before the line that declares it", () => {
  const graph = parseFbp(
    "'x' -> in A\nA out -> in B(core/Output)\nA(core/Repeat)\n",
  );
  assert.deepEqual(sourceMapOf(graph)!.positions.get("processes.A"), {
    line: 3,
    col: 1,
  });
  assert.deepEqual(validateGraph(graph, testRegistry()), []);
  const spec = buildNetworkSpec(graph, testRegistry());
  assert.deepEqual(spec.processes.map((p) => p.name).sort(), ["A", "B"]);
});

test("validateGraph() reports a bad setting at the declaration that wrote it", () => {
  const text =
    "A(core/Repeat)\nA out -> in B(core/Output)\nA(core/Repeat:timeoutMs=0)\n";
  const problems = validateGraph(parseFbp(text), testRegistry());
  assert.deepEqual(where(problems), [["processes.A.metadata.timeoutMs", 3, 1]]);
});

// ---------------------------------------------- names from Object.prototype

test("parseFbp() keeps a process named constructor and leaves Object alone", () => {
  const object = Object as unknown as Record<string, unknown>;
  try {
    const graph = parseFbp("'x' -> in constructor(core/Repeat)");
    assert.equal(
      Object.hasOwn(object, "component"),
      false,
      "Object.component set",
    );
    assert.deepEqual(graph.processes, {
      constructor: { component: "core/Repeat" },
    });
  } finally {
    delete object.component;
  }
});

test("parseFbp() keeps a process named __proto__ and leaves Object.prototype alone", () => {
  const proto = Object.prototype as Record<string, unknown>;
  try {
    const graph = parseFbp("'x' -> in __proto__(core/Repeat:k=v)");
    const leaked = ["component", "metadata"].filter((k) =>
      Object.hasOwn(proto, k)
    );
    assert.deepEqual(leaked, [], "Object.prototype polluted");
    assert.ok(Object.hasOwn(graph.processes!, "__proto__"));
  } finally {
    delete proto.component;
    delete proto.metadata;
  }
});

test("parseFbp() of one text leaves the processes of the next text alone", () => {
  const proto = Object.prototype as Record<string, unknown>;
  try {
    try {
      parseFbp("'x' -> in __proto__(core/Repeat:timeoutMs=1)");
    } catch {
      // Refusing the name is fine too; what matters is the next graph.
    }
    const next = parseFbp("'x' -> in A(core/Repeat)");
    assert.deepEqual(next.processes, { A: { component: "core/Repeat" } });
  } finally {
    delete proto.component;
    delete proto.metadata;
  }
});

test("GraphBuilder keeps a process named __proto__", () => {
  const graph = new GraphBuilder().process("__proto__", "core/Repeat").build();
  assert.ok(Object.hasOwn(graph.processes!, "__proto__"));
  assert.deepEqual(Object.keys(graph.processes!), ["__proto__"]);
});

// -------------------------------------------------------------------- JSON

const TWO = `{
  "processes": {
    "A": { "component": "core/Repeat" },
    "B": { "component": "core/Output" }
  },
  "connections": [
    { "src": { "process": "A", "port": "out" }, "tgt": { "process": "B", "port": "in" } }
  ]
}`;

test("parseGraphJson() reads text that starts with a byte order mark", () => {
  const graph = parseGraphJson("\uFEFF" + TWO);
  assert.deepEqual(plain(graph), JSON.parse(TWO));
});

test("parseGraphJson() does not count a byte order mark as a column", () => {
  const graph = parseGraphJson('\uFEFF{"processes": {}}');
  assert.deepEqual(sourceMapOf(graph)!.positions.get("processes"), {
    line: 1,
    col: 2,
  });
});

test("parseGraphJson() reports a // comment as a syntax error at the slash", () => {
  const error = graphErrorOf(() =>
    parseGraphJson('{\n  // flows\n  "processes": {}\n}')
  );
  assert.deepEqual(where(error.problems), [["$", 2, 3]]);
  assert.match(error.message, /JSON syntax error/);
});

test("parseGraphJson() reports a trailing comma in an object at the closing brace", () => {
  const line = '  "processes": { "A": { "component": "x" }, }';
  const error = graphErrorOf(() => parseGraphJson(`{\n${line}\n}`));
  assert.deepEqual(where(error.problems), [
    ["processes", 2, colOf(line, "}", 1)],
  ]);
  assert.match(error.message, /trailing comma before "}"/);
});

test("parseGraphJson() reports a trailing comma in an array at the closing bracket", () => {
  const error = graphErrorOf(() =>
    parseGraphJson('{ "groups": [\n  { "name": "g", "nodes": [] },\n] }')
  );
  assert.deepEqual(where(error.problems), [["groups", 3, 1]]);
  assert.match(error.message, /trailing comma before "]"/);
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

test("buildNetworkSpec() takes a capacity written 1e3 as 1000", () => {
  const graph = parseGraphJson(
    TWO.replace('"tgt"', '"metadata": { "capacity": 1e3 }, "tgt"'),
  );
  const spec = buildNetworkSpec(graph, testRegistry());
  assert.equal(spec.connections[0].capacity, 1000);
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

/** A graph as Flowhub saves it (from the fbp package's own tests). */
const FLOWHUB_GRAPH = `{
    "caseSensitive": false,
    "properties": {
        "name": "ConfigPaths",
        "environment": {
            "type": "noflo-nodejs"
        },
        "description": "Read Ingress Table configuration files",
        "icon": "file"
    },
    "inports": {
        "envvar": {
            "process": "core/ReadEnv_2mde7",
            "port": "key",
            "metadata": {
                "x": -612,
                "y": 432,
                "width": 72,
                "height": 72
            }
        }
    },
    "outports": {
        "serverfile": {
            "process": "strings/CompileString_pjcg2",
            "port": "out",
            "metadata": {
                "x": 0,
                "y": 432.5,
                "width": 72,
                "height": 72
            }
        }
    },
    "groups": [
        {
            "name": "Read",
            "nodes": [
                "core/ReadEnv_2mde7"
            ],
            "metadata": {
                "description": "reads \\"env\\" \\u00e9"
            }
        }
    ],
    "processes": {
        "core/ReadEnv_2mde7": {
            "component": "core/ReadEnv",
            "metadata": {
                "label": "core/ReadEnv",
                "x": -468,
                "y": 432,
                "width": 72,
                "height": 72
            }
        },
        "strings/CompileString_pjcg2": {
            "component": "strings/CompileString",
            "metadata": {
                "label": "strings/CompileString",
                "x": -144,
                "y": 432,
                "width": 72,
                "height": 72
            }
        }
    },
    "connections": [
        {
            "src": {
                "process": "core/ReadEnv_2mde7",
                "port": "out"
            },
            "tgt": {
                "process": "strings/CompileString_pjcg2",
                "port": "in",
                "index": 0
            },
            "metadata": {
                "route": null
            }
        },
        {
            "data": "/",
            "tgt": {
                "process": "strings/CompileString_pjcg2",
                "port": "delimiter"
            }
        },
        {
            "data": {
                "nested": [
                    1,
                    -2.5,
                    true,
                    null,
                    "🌊"
                ]
            },
            "tgt": {
                "process": "strings/CompileString_pjcg2",
                "port": "in"
            }
        }
    ]
}`;

test("stringifyGraph(parseGraphJson(text)) gives back a Flowhub graph's text exactly", () => {
  const text = FLOWHUB_GRAPH.replace("\\u00e9", "é");
  assert.equal(stringifyGraph(parseGraphJson(text), { indent: 4 }), text);
});

// ------------------------------------------------------------ round trips

const KITCHEN_SINK = `# @name kitchen-sink
# @defaultCapacity 20
# @runtime deno
INPORT=Split.in:IN
OUTPORT=Out.out:OUT
'it\\'s -> (3) #1' -> in Split(strings/Split:timeoutMs=500,label=splitter)
',' -> delimiter Split
Split out -> (5) in Sw(flow/Switch) out[1] -> in[2] M(flow/Merge)
{"a": ["->", "#"], "b": -2.5} -> in M
[1, 2] -> cases Sw
"ends with \\\\" -> in M
"line\\nbreak" -> in M
7 -> in M
M out -> (1) in Out(core/Output)
Sw error -> in Out
`;

test("parseFbp(toFbp(parseFbp(text))) equals parseFbp(text) for every DSL feature", () => {
  const graph = parseFbp(KITCHEN_SINK);
  assert.deepEqual(plain(parseFbp(toFbp(graph))), plain(graph));
});

test("parseFbp(toFbp(g)) equals g for the fbp package's NoFlo sample", () => {
  const graph = parseFbp(
    `'8003' -> LISTEN WebServer(HTTP/Server) REQUEST -> IN Profiler(HTTP/Profiler) OUT -> IN Authentication(HTTP/BasicAuth)
Authentication() OUT -> IN GreetUser(HelloController) OUT[0] -> IN[0] WriteResponse(HTTP/WriteResponse) OUT -> IN Send(HTTP/SendResponse)
'hello.jade' -> SOURCE ReadTemplate(ReadFile) OUT -> TEMPLATE Render(Template)
GreetUser() DATA -> OPTIONS Render() OUT -> STRING WriteResponse()
`,
  );
  assert.equal(Object.keys(graph.processes!).length, 8);
  assert.equal(graph.connections?.length, 10);
  assert.deepEqual(plain(parseFbp(toFbp(graph))), plain(graph));
});

test("toFbp() of a graph read from JSON reads back as that graph", () => {
  const graph = parseGraphJson(
    TWO.replace('"tgt"', '"metadata": { "capacity": 3 }, "tgt"'),
  );
  const back = parseFbp(toFbp(graph));
  assert.deepEqual(back.processes, graph.processes);
  assert.deepEqual(back.connections, graph.connections);
});

test("toFbp() refuses or keeps an x/y metadata string (the parser reads x and y as numbers)", () => {
  const graph: Graph = {
    processes: { A: { component: "core/Repeat", metadata: { x: "left" } } },
  };
  let text: string;
  try {
    text = toFbp(graph);
  } catch (e) {
    assert.ok(e instanceof TypeError);
    return;
  }
  assert.deepEqual(parseFbp(text).processes, graph.processes);
});

test("toFbp() refuses or keeps a property value with a leading space", () => {
  const graph: Graph = { properties: { name: " padded" } };
  let text: string;
  try {
    text = toFbp(graph);
  } catch (e) {
    assert.ok(e instanceof TypeError);
    return;
  }
  assert.equal(parseFbp(text).properties?.name, " padded");
});

test("toFbp() refuses an object IIP that JSON would change, naming its path", () => {
  assert.throws(
    () =>
      toFbp({
        processes: { A: { component: "core/Repeat" } },
        connections: [
          { data: { ok: 1, bad: NaN }, tgt: { process: "A", port: "in" } },
          { data: [1, () => 2], tgt: { process: "A", port: "in" } },
        ],
      }),
    (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /\nconnections\[0\]\.data: object cannot/);
      assert.match(e.message, /\nconnections\[1\]\.data: array of 2 cannot/);
      return true;
    },
  );
});

// --------------------------------------------------------------- subgraphs

/** Three levels of subgraphs around one core/Repeat: my/L1 > my/L2 > my/L3. */
function nestedRegistry(registry: Registry): Registry {
  registry.register(defineSubgraph(
    "my/L3",
    parseFbp("INPORT=R.in:IN\nOUTPORT=R.out:OUT\nR(core/Repeat)"),
    registry,
  ));
  registry.register(defineSubgraph(
    "my/L2",
    parseFbp(
      "INPORT=X.IN:IN\nOUTPORT=Y.out:OUT\nX(my/L3) OUT -> (2) in Y(core/Repeat)",
    ),
    registry,
  ));
  registry.register(defineSubgraph(
    "my/L1",
    parseFbp("INPORT=Z.IN:IN\nOUTPORT=Z.OUT:OUT\nZ(my/L2)"),
    registry,
  ));
  return registry;
}

test("buildNetworkSpec() flattens subgraphs nested three deep and the network runs", async () => {
  const registry = nestedRegistry(builtins());
  const graph = parseFbp("OUTPORT=T.OUT:OUT\n'a' -> IN T(my/L1)\n'b' -> IN T");
  const spec = buildNetworkSpec(graph, registry);
  assert.deepEqual(spec.processes.map((p) => p.name).sort(), [
    "T/Z/X/R",
    "T/Z/Y",
  ]);
  assert.deepEqual(spec.outports, { OUT: { process: "T/Z/Y", port: "out" } });
  assert.deepEqual(await runAndCollect(graph, registry, "OUT"), ["a", "b"]);
});

test("buildNetworkSpec() converts an IIP string to a subgraph port three deep by the innermost port's type", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/W3",
    parseFbp("INPORT=T.ratio:RATIO\nINPORT=T.options:OPTS\nT(test/Typed)"),
    registry,
  ));
  registry.register(defineSubgraph(
    "my/W2",
    parseFbp("INPORT=I.RATIO:RATIO\nINPORT=I.OPTS:OPTS\nI(my/W3)"),
    registry,
  ));
  registry.register(defineSubgraph(
    "my/W1",
    parseFbp("INPORT=M.RATIO:RATIO\nINPORT=M.OPTS:OPTS\nM(my/W2)"),
    registry,
  ));
  const graph = parseFbp(`'2.5' -> RATIO S(my/W1)\n'{"a": [1]}' -> OPTS S`);
  assert.deepEqual(validateGraph(graph, registry), []);
  assert.deepEqual(buildNetworkSpec(graph, registry).initials, [
    { data: 2.5, to: { process: "S/M/I/T", port: "ratio" } },
    { data: { a: [1] }, to: { process: "S/M/I/T", port: "options" } },
  ]);
});

test("validateGraph() reports an IIP to a subgraph port three deep that fails the innermost type", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/V3",
    parseFbp("INPORT=T.size:SIZE\nT(test/Typed)"),
    registry,
  ));
  registry.register(
    defineSubgraph("my/V2", parseFbp("INPORT=I.SIZE:SIZE\nI(my/V3)"), registry),
  );
  registry.register(
    defineSubgraph("my/V1", parseFbp("INPORT=M.SIZE:SIZE\nM(my/V2)"), registry),
  );
  const problems = validateGraph(
    parseFbp("X(core/Repeat)\n'2.5' -> SIZE S(my/V1)"),
    registry,
  );
  assert.deepEqual(where(problems), [["connections[0].data", 2, 7]]);
});

test("validateGraph() counts either export of an inner port exported twice as feeding it", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/Tick2",
    parseFbp(
      "INPORT=T.interval:I1\nINPORT=T.interval:I2\nOUTPORT=T.out:OUT\nT(core/Interval)",
    ),
    registry,
  ));
  const graph = parseFbp("'1s' -> I1 X(my/Tick2) OUT -> in L(core/Output)");
  assert.deepEqual(validateGraph(graph, registry), []);
});

test("validateGraph() reports two connections reaching a single-connection port through two exports of it", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/Twice",
    parseFbp("INPORT=S.factor:F1\nINPORT=S.factor:F2\nS(math/Scale)"),
    registry,
  ));
  const graph = parseFbp(
    "A(core/Repeat) out -> F1 T(my/Twice)\nB(core/Repeat) out -> F2 T",
  );
  const problems = validateGraph(graph, registry);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.match(problems[0].message, /factor/);
});

test("validateGraph() reports an outer connection to a single-connection port the subgraph already feeds", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/Fed",
    parseFbp("INPORT=S.factor:F\nK(core/Repeat) out -> factor S(math/Scale)"),
    registry,
  ));
  const problems = validateGraph(
    parseFbp("A(core/Repeat) out -> F T(my/Fed)"),
    registry,
  );
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.match(problems[0].message, /factor/);
});

test("validateGraph() does not require an exported port that the subgraph feeds with an IIP", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/Tick",
    parseFbp(
      "INPORT=T.interval:INTERVAL\nOUTPORT=T.out:OUT\n'1s' -> interval T(core/Interval)",
    ),
    registry,
  ));
  const graph = parseFbp("X(my/Tick) OUT -> in L(core/Output)");
  assert.deepEqual(validateGraph(graph, registry), []);
});

test("an IIP to a subgraph's exported control port overrides the subgraph's own IIP when run", async () => {
  const registry = builtins();
  registry.register(defineSubgraph(
    "my/Greeter",
    parseFbp(
      "INPORT=K.in:IN\nINPORT=K.data:GREETING\nOUTPORT=K.out:OUT\n'inner default' -> data K(core/Kick)",
    ),
    registry,
  ));
  const graph = parseFbp(
    "OUTPORT=G.OUT:OUT\n'outer value' -> GREETING G(my/Greeter)\n'bang' -> IN G",
  );
  assert.deepEqual(await runAndCollect(graph, registry, "OUT"), [
    "outer value",
  ]);
});

test("validateGraph() reports two subgraph processes whose flattened names clash", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/Slash",
    parseGraphJson(
      '{ "processes": { "A/B": { "component": "core/Repeat" } } }',
    ),
    registry,
  ));
  registry.register(defineSubgraph(
    "my/Plain",
    parseGraphJson('{ "processes": { "B": { "component": "core/Repeat" } } }'),
    registry,
  ));
  const graph = parseGraphJson(
    '{ "processes": { "S": { "component": "my/Slash" }, "S/A": { "component": "my/Plain" } } }',
  );
  const problems = validateGraph(graph, registry);
  assert.ok(
    problems.some((p) => p.message.includes('"S/A/B"')),
    JSON.stringify(problems),
  );
  // Today the clash only shows when the engine refuses the spec.
  assert.throws(() => buildNetworkSpec(graph, registry), GraphError);
});

// ------------------------------------------------------------- engine runs

test("a CRLF .fbp flow with capacities, comments and a JSON IIP runs in the engine", async () => {
  const text = [
    "# @name crlf-flow",
    `'{"n": 2}' -> in P(json/Parse) # parse it`,
    "'{\"n\": 5}' -> in P",
    "P out -> (2) in M(flow/Map) out -> (1) in Out(core/Repeat)",
    "'n * 10' -> expr M # JSONata",
    "OUTPORT=Out.out:RESULT",
    "",
  ].join("\r\n");
  const registry = builtins();
  const graph = parseFbp(text);
  const spec = buildNetworkSpec(graph, registry);
  assert.equal(spec.name, "crlf-flow");
  assert.deepEqual(spec.connections.map((c) => c.capacity), [2, 1]);
  assert.deepEqual(await runAndCollect(graph, registry, "RESULT"), [20, 50]);
});

// ---------------------------------------------------------- GraphBuilder

test("GraphBuilder.build() gives each graph its own nested metadata", () => {
  const builder = new GraphBuilder("x").process("A", "core/Repeat", {
    retry: { attempts: 2, backoffMs: 1 },
  });
  const first = builder.build();
  (first.processes!.A.metadata!.retry as { attempts: number }).attempts = 9;
  assert.deepEqual(builder.build().processes!.A.metadata, {
    retry: { attempts: 2, backoffMs: 1 },
  });
});

// ------------------------------------------------------------- performance

test("a generated graph of 5,000 processes and 5,000 connections parses, validates and builds", () => {
  const n = 5000;
  const lines = ["'seed' -> in P0(core/Repeat)"];
  for (let i = 1; i < n; i++) {
    lines.push(`P${i - 1} out -> (${1 + (i % 50)}) in P${i}(core/Repeat)`);
  }
  lines.push(`P${n - 1} out -> in P0`);
  const text = lines.join("\n") + "\n";
  const registry = testRegistry();

  const t0 = performance.now();
  const graph = parseFbp(text);
  const t1 = performance.now();
  const problems = validateGraph(graph, registry);
  const t2 = performance.now();
  const spec = buildNetworkSpec(graph, registry);
  const t3 = performance.now();
  const json = stringifyGraph(graph);
  const fromJson = parseGraphJson(json);
  const t4 = performance.now();
  const specFromJson = buildNetworkSpec(fromJson, registry);
  const t5 = performance.now();

  assert.deepEqual(problems, []);
  assert.equal(spec.processes.length, n);
  assert.equal(spec.connections.length, n);
  assert.equal(spec.initials?.length, 1);
  assert.equal(specFromJson.connections.length, n);
  const ms = (a: number, b: number) => `${(b - a).toFixed(0)} ms`;
  console.log(
    `5,000 processes: parseFbp ${ms(t0, t1)}, validateGraph ${
      ms(t1, t2)
    }, buildNetworkSpec ${ms(t2, t3)}; JSON (${json.length} chars) ` +
      `stringify+parse ${ms(t3, t4)}, build ${ms(t4, t5)}`,
  );
});
