import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildNetworkSpec,
  parseFbp,
  sourceMapOf,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { syntaxProblem } from "./_helpers.ts";

test("parseFbp() reports a syntax error with line:col", () => {
  const { problem, message } = syntaxProblem(
    "A(core/Repeat) out -> in B(core/Output)\nB out => in C(core/Output)",
  );
  assert.deepEqual([problem.line, problem.col], [2, 7]);
  assert.match(problem.message, /^syntax error: unexpected "="; expected "->"/);
  assert.match(message, /\nt\.fbp:2:7: syntax error/);
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

test("parseFbp() records an annotation given twice with different values; the same value twice and @allow lines add up", () => {
  const graph = parseFbp(
    "# @name sensors\n# @restart always\nA(core/Repeat)\n# @name sensors-2\n# @restart always\n",
  );
  const problems = sourceMapOf(graph)!.problems;
  assert.deepEqual(
    problems.map((p) => [p.path, p.line, p.col]),
    [["properties.name", 4, 1]],
  );
  assert.match(
    problems[0].message,
    /# @name is given twice, "sensors" \(line 1\) and "sensors-2"; the graph would keep only the last/,
  );
  // As the flow server sees it: a 400 that says so.
  assert.ok(
    validateGraph(graph, testRegistry()).some((p) =>
      /@name is given twice/.test(p.message)
    ),
  );
  assert.deepEqual(
    sourceMapOf(
      parseFbp(
        "# @allow files in/\n# @allow files out/\n# @runtime weir\n# @runtime weir\nA(core/Repeat)\n",
      ),
    )!.problems,
    [],
  );
});

test("parseFbp() reads text whose last line is only indentation", () => {
  const graph = parseFbp("\n    'x' -> in R(core/Repeat)\n    ");
  assert.equal(graph.connections?.length, 1);
  const { problem } = syntaxProblem("A(core/Repeat) out ->");
  assert.deepEqual([problem.line, problem.col], [1, 22]);
  assert.match(problem.message, /^syntax error: the text ends here; expected /);
  const line = syntaxProblem("A(core/Repeat\nB(core/Output)").problem;
  assert.match(line.message, /^syntax error: the line ends here; expected /);
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
