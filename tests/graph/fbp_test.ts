import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GraphBuilder,
  GraphError,
  parseFbp,
  sourceMapOf,
  toFbp,
} from "../../src/graph/mod.ts";

function syntaxProblem(text: string) {
  try {
    parseFbp(text, { file: "t.fbp" });
  } catch (e) {
    assert.ok(e instanceof GraphError, `expected a GraphError, got ${e}`);
    assert.equal(e.problems.length, 1);
    return { problem: e.problems[0], message: e.message };
  }
  assert.fail("expected a GraphError");
}

test("parseFbp() reads a capacity on an arrow", () => {
  const graph = parseFbp("A(core/Repeat) out -> (50) in B(core/Output)");
  assert.deepEqual(graph.processes, {
    A: { component: "core/Repeat" },
    B: { component: "core/Output" },
  });
  assert.deepEqual(graph.connections, [{
    src: { process: "A", port: "out" },
    tgt: { process: "B", port: "in" },
    metadata: { capacity: 50 },
  }]);
});

test("parseFbp() reads capacities along a chain", () => {
  const graph = parseFbp(
    "A(core/Repeat) out -> (5) in B(core/Repeat) out -> (7) in C(core/Output)",
  );
  assert.deepEqual(graph.connections?.map((c) => c.metadata?.capacity), [5, 7]);
  assert.deepEqual(graph.connections?.map((c) => c.tgt.process), ["B", "C"]);
});

test("parseFbp() matches capacities to arrows across lines, IIPs and commas", () => {
  const graph = parseFbp(`
'x' -> in A(core/Repeat)
A out -> in B(core/Repeat), B out ->(3) in C(core/Repeat)
C out -> ( 12 ) in D(core/Output)
`);
  assert.deepEqual(graph.connections?.map((c) => c.metadata?.capacity), [
    undefined,
    undefined,
    3,
    12,
  ]);
});

test("parseFbp() leaves -> and (3) inside IIP strings alone", () => {
  const graph = parseFbp(
    `'a -> (3) b' -> in A(core/Repeat) out -> (4) in B(core/Output)
'it\\'s -> (5)' -> in B
{"text": "x -> (6) it's", "n": [1, 2]} -> in A
# a comment -> (7) 'with a quote
"json -> (8)" -> in B`,
  );
  assert.deepEqual(graph.connections?.map((c) => c.data), [
    "a -> (3) b",
    undefined,
    "it's -> (5)",
    { text: "x -> (6) it's", n: [1, 2] },
    "json -> (8)",
  ]);
  assert.deepEqual(graph.connections?.map((c) => c.metadata?.capacity), [
    undefined,
    4,
    undefined,
    undefined,
    undefined,
  ]);
  assert.deepEqual(Object.keys(graph.processes ?? {}), ["A", "B"]);
});

test("parseFbp() reports a syntax error with line:col", () => {
  const { problem, message } = syntaxProblem(
    "A(core/Repeat) out -> in B(core/Output)\nB out => in C(core/Output)",
  );
  assert.deepEqual([problem.line, problem.col], [2, 7]);
  assert.match(problem.message, /^syntax error: unexpected "="; expected "->"/);
  assert.match(message, /\nt\.fbp:2:7: syntax error/);
});

test("parseFbp() keeps line:col right after a capacity is blanked out", () => {
  const { problem } = syntaxProblem(
    "A out -> (50) in B out -> (7) in C out => in D",
  );
  assert.deepEqual([problem.line, problem.col], [1, 40]);
});

test("parseFbp() points at the opening quote of an unclosed IIP string", () => {
  const { problem } = syntaxProblem(
    "A out -> in B(core/Output)\n  'abc -> in B",
  );
  assert.deepEqual([problem.line, problem.col], [2, 3]);
  assert.match(problem.message, /IIP string is not closed/);
});

test("parseFbp() records a process declared twice with different components", () => {
  const graph = parseFbp(
    "A(core/Repeat) out -> in B(core/Output)\n'x' -> in A(core/Kick)",
  );
  const [problem] = sourceMapOf(graph)!.problems;
  assert.equal(problem.path, "processes.A");
  assert.deepEqual([problem.line, problem.col], [2, 11]);
  assert.match(
    problem.message,
    /"A" is declared twice with different components, "core\/Repeat" \(line 1, col 1\) and "core\/Kick"/,
  );
});

test("parseFbp() accepts a process declared twice with the same component", () => {
  const graph = parseFbp(
    "A(core/Repeat) out -> in B(core/Output)\nA(core/Repeat)",
  );
  assert.deepEqual(sourceMapOf(graph)!.problems, []);
});

test("parseFbp() turns numeric node metadata into numbers", () => {
  const graph = parseFbp(
    "A(core/Repeat:timeoutMs=500,concurrency=4,label=fast)",
  );
  assert.deepEqual(graph.processes?.A.metadata, {
    timeoutMs: 500,
    concurrency: 4,
    label: "fast",
  });
});

test("parseFbp() puts # @ annotations in properties", () => {
  const graph = parseFbp(
    "# @name sensors\n# @defaultCapacity 20\nA(core/Repeat)\n",
  );
  assert.deepEqual(graph.properties, { name: "sensors", defaultCapacity: 20 });
});

test("parseFbp() reads INPORT= and OUTPORT= with positions", () => {
  const graph = parseFbp(
    "INPORT=A.in:IN\n  OUTPORT=B.out:OUT\nA(core/Repeat) out -> in B(core/Repeat)",
  );
  assert.deepEqual(graph.inports, { IN: { process: "A", port: "in" } });
  assert.deepEqual(graph.outports, { OUT: { process: "B", port: "out" } });
  const positions = sourceMapOf(graph)!.positions;
  assert.deepEqual(positions.get("inports.IN"), { line: 1, col: 1 });
  assert.deepEqual(positions.get("outports.OUT"), { line: 2, col: 3 });
});

test("parseFbp() records where each process and connection is written", () => {
  const graph = parseFbp(
    "'1s' -> interval Tick(core/Interval)\nTick out -> (50) in Log(core/Output)\n",
  );
  const positions = sourceMapOf(graph)!.positions;
  assert.deepEqual(positions.get("processes.Tick"), { line: 1, col: 18 });
  assert.deepEqual(positions.get("processes.Log"), { line: 2, col: 21 });
  assert.deepEqual(positions.get("connections[0]"), { line: 1, col: 6 });
  assert.deepEqual(positions.get("connections[1]"), { line: 2, col: 10 });
});

test("parseFbp() records where anonymous processes are written", () => {
  const graph = parseFbp("'x' -> in (core/Output)\n'y' -> in (core/Output)");
  const positions = sourceMapOf(graph)!.positions;
  assert.deepEqual(Object.keys(graph.processes ?? {}), [
    "_core_Output_1",
    "_core_Output_2",
  ]);
  assert.deepEqual(positions.get("processes._core_Output_2"), {
    line: 2,
    col: 11,
  });
});

test("parseFbp() keeps port indexes", () => {
  const graph = parseFbp("S(flow/Switch) out[1] -> in[0] M(flow/Merge)");
  assert.deepEqual(graph.connections?.[0], {
    src: { process: "S", port: "out", index: 1 },
    tgt: { process: "M", port: "in", index: 0 },
  });
});

const DSL = `# @name sensors
# @defaultCapacity 20
INPORT=Tick.interval:INTERVAL
OUTPORT=Alert.out:ALERTS
'1s' -> interval Tick(core/Interval)
Tick out -> (50) in Parse(flow/Map:timeoutMs=500,concurrency=2) out -> in Alert(core/Repeat)
Parse error -> (3) in Log(core/Output)
'say \\'hi\\' -> (2)' -> in Log
{"threshold": 5, "tags": ["a", "b"]} -> in Alert
-1.5 -> in Log
S(flow/Switch) out[2] -> in[1] M(flow/Merge)
`;

test("toFbp() round trip: parseFbp(toFbp(g)) equals g", () => {
  const graph = parseFbp(DSL);
  assert.deepEqual(parseFbp(toFbp(graph)), graph);
});

test("toFbp() round trip of a graph built in code", () => {
  const graph = new GraphBuilder("built", { defaultCapacity: 5 })
    .process("A", "core/Repeat", { concurrency: 3 })
    .process("B", "core/Output")
    .connect("A", "out", "B", "in", { capacity: 9 })
    .initial("ends with a backslash \\", "A", "in")
    .initial("two\nlines", "A", "in")
    .initial(["x", { y: null }], "B", "in", { index: 2 })
    .inport("IN", "A", "in")
    .build();
  assert.deepEqual(parseFbp(toFbp(graph)), graph);
});

test("toFbp() writes a capacity as -> (N)", () => {
  const text = toFbp(
    new GraphBuilder().process("A", "core/Repeat").process("B", "core/Output")
      .connect("A", "out", "B", "in", { capacity: 5 }).build(),
  );
  assert.match(text, /^A out -> \(5\) in B$/m);
});

test("toFbp() throws for what the DSL cannot express, listing each", () => {
  const graph = new GraphBuilder()
    .process("M", "flow/Map")
    .process("B", "core/Output")
    .connect("M", "out", "B", "in", { policy: "drop-oldest" })
    .initial((x: unknown) => x, "M", "fn")
    .initial(true, "B", "in")
    .group("G", ["M"])
    .build();
  assert.throws(() => toFbp(graph), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^Cannot write the graph as \.fbp/);
    assert.match(e.message, /\nconnections\[0\]\.metadata\.policy: /);
    assert.match(
      e.message,
      /\nconnections\[1\]\.data: a function cannot be written/,
    );
    assert.match(
      e.message,
      /\nconnections\[2\]\.data: boolean true cannot be written/,
    );
    assert.match(e.message, /\ngroups: /);
    return true;
  });
});

test("toFbp() leaves unsupported parts out with dropUnsupported", () => {
  const graph = new GraphBuilder()
    .process("M", "flow/Map", { x: 10.5 })
    .process("B", "core/Output")
    .connect("M", "out", "B", "in", { policy: "drop-oldest", capacity: 4 })
    .initial((x: unknown) => x, "M", "fn")
    .build();
  assert.equal(
    toFbp(graph, { dropUnsupported: true }),
    "M(flow/Map)\nB(core/Output)\nM out -> (4) in B\n",
  );
});

test("parseFbp() keeps each Object.prototype name wherever a name goes, and leaves Object.prototype alone", () => {
  const before = Object.getOwnPropertyNames(Object.prototype);
  for (const k of ["__proto__", "constructor", "toString", "valueOf"]) {
    const graph = parseFbp(
      `# @${k} v\nINPORT=${k}.${k}:${k}\n'x' -> ${k} ${k}(core/Repeat:${k}=${k}) out -> in B\n{"${k}": 1} -> in B(${k})\n(${k}) out -> in B\n`,
    );
    const processes = graph.processes!;
    assert.ok(Object.hasOwn(processes, k), k);
    assert.deepEqual(processes[k].metadata, { [k]: k } as object);
    assert.equal(processes.B.component, k);
    assert.ok(Object.hasOwn(processes, `_${k}_1`), k);
    assert.ok(Object.hasOwn(graph.inports!, k), k);
    assert.deepEqual({ ...graph.inports![k] }, { process: k, port: k });
    assert.equal(graph.properties?.[k], "v");
    assert.deepEqual(graph.connections?.[0].tgt, { process: k, port: k });
    assert.ok(Object.hasOwn(graph.connections?.[2].data as object, k), k);
  }
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype), before);
});

test("parseFbp() records an exported port name used twice for different ports", () => {
  const graph = parseFbp("A(core/Repeat)\nINPORT=A.in:IN\n  INPORT=A.IN:IN\n");
  const [problem] = sourceMapOf(graph)!.problems;
  assert.deepEqual([problem.path, problem.line, problem.col], [
    "inports.IN",
    3,
    3,
  ]);
  assert.match(
    problem.message,
    /INPORT= name "IN" is used twice, for A\.in \(line 2, col 1\) and A\.IN; the graph keeps only the last/,
  );
  assert.deepEqual(
    sourceMapOf(parseFbp("A(core/Repeat)\nINPORT=A.in:IN\nINPORT=A.in:IN\n"))!
      .problems,
    [],
  );
});

test("toFbp() writes x and y that are non-negative integers, which read back as numbers", () => {
  const graph = {
    processes: {
      A: { component: "core/Repeat", metadata: { x: 40, y: 0 } },
    },
  };
  assert.deepEqual(parseFbp(toFbp(graph)).processes, graph.processes);
});

test("parseFbp() reads text whose last line is only indentation", () => {
  const graph = parseFbp("\n    'x' -> in R(core/Repeat)\n    ");
  assert.equal(graph.connections?.length, 1);
  const { problem } = syntaxProblem("A(core/Repeat) out ->");
  assert.deepEqual([problem.line, problem.col], [1, 22]);
  assert.match(problem.message, /unexpected the end of the text/);
});
