import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildNetworkSpec,
  GraphBuilder,
  GraphError,
  type GraphInitial,
  parseFbp,
  parseGraphJson,
  stringifyGraph,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { registry, TWO } from "./_helpers.ts";

test("buildNetworkSpec() resolves components and maps connections", () => {
  const spec = buildNetworkSpec(
    parseFbp("A(core/Repeat) out -> (5) in B(core/Log)"),
    registry,
  );
  assert.deepEqual(spec.processes.map((p) => [p.name, p.component.name]), [
    ["A", "core/Repeat"],
    ["B", "core/Output"],
  ]);
  assert.equal(spec.processes[0].component, registry.get("core/Repeat"));
  assert.deepEqual(spec.connections, [{
    from: { process: "A", port: "out" },
    to: { process: "B", port: "in" },
    capacity: 5,
  }]);
});

test("buildNetworkSpec() maps connection capacity and policy from metadata", () => {
  const graph = new GraphBuilder().process("A", "core/Repeat")
    .process("B", "core/Output").process("C", "core/Output")
    .connect("A", "out", "B", "in", { capacity: 3, policy: "drop-oldest" })
    .connect("A", "out", "C", "in")
    .build();
  const spec = buildNetworkSpec(graph, registry);
  assert.deepEqual(spec.connections.map((c) => [c.capacity, c.policy]), [
    [3, "drop-oldest"],
    [undefined, undefined],
  ]);
  assert.ok(!("capacity" in spec.connections[1]));
});

test("buildNetworkSpec() maps process settings from metadata", () => {
  const graph = parseGraphJson(`{
  "processes": {
    "A": { "component": "core/Output", "metadata": {
      "timeoutMs": 250, "concurrency": 4, "label": "sink",
      "retry": { "attempts": 3, "backoffMs": 10 },
      "circuitBreaker": { "failureThreshold": 5, "resetTimeoutMs": 1000 }
    } }
  }
}`);
  const [process] = buildNetworkSpec(graph, registry).processes;
  assert.equal(process.timeoutMs, 250);
  assert.equal(process.concurrency, 4);
  assert.deepEqual(process.retry, { attempts: 3, backoffMs: 10 });
  assert.deepEqual(process.circuitBreaker, {
    failureThreshold: 5,
    resetTimeoutMs: 1000,
  });
  assert.equal(process.metadata?.label, "sink");
});

test("buildNetworkSpec() turns IIPs into initials, in graph order", () => {
  const double = (x: number) => x * 2;
  const graph = new GraphBuilder().process("M", "flow/Map")
    .initial(double, "M", "fn")
    .initial("a", "M", "in")
    .initial("b", "M", "in")
    .build();
  const spec = buildNetworkSpec(graph, registry);
  assert.deepEqual(spec.initials, [
    { data: double, to: { process: "M", port: "fn" } },
    { data: "a", to: { process: "M", port: "in" } },
    { data: "b", to: { process: "M", port: "in" } },
  ]);
  assert.equal(spec.initials?.[0].data, double);
});

test("buildNetworkSpec() maps exported ports and port indexes", () => {
  const spec = buildNetworkSpec(
    parseFbp(`INPORT=S.in:IN
OUTPORT=M.out:OUT
S(flow/Switch) out[1] -> in[0] M(flow/Merge)`),
    registry,
  );
  assert.deepEqual(spec.inports, { IN: { process: "S", port: "in" } });
  assert.deepEqual(spec.outports, { OUT: { process: "M", port: "out" } });
  assert.deepEqual(spec.connections[0], {
    from: { process: "S", port: "out", index: 1 },
    to: { process: "M", port: "in", index: 0 },
  });
});

test("buildNetworkSpec() writes port names as the component declares them", () => {
  const spec = buildNetworkSpec(
    parseFbp("A(core/Repeat) -> B(core/Output)"),
    registry,
  );
  assert.deepEqual(spec.connections[0].from, { process: "A", port: "out" });
  assert.deepEqual(spec.connections[0].to, { process: "B", port: "in" });
});

test("buildNetworkSpec() takes the name from options, then properties, then main", () => {
  const graph = parseFbp("# @name sensors\nA(core/Output)\n");
  assert.equal(buildNetworkSpec(graph, registry).name, "sensors");
  assert.equal(
    buildNetworkSpec(graph, registry, { name: "other" }).name,
    "other",
  );
  assert.equal(
    buildNetworkSpec(parseFbp("A(core/Output)"), registry).name,
    "main",
  );
  assert.throws(
    () => buildNetworkSpec(graph, registry, { name: "" }),
    TypeError,
  );
});

test("buildNetworkSpec() passes the graph's defaultCapacity on", () => {
  const graph = parseFbp(
    "# @defaultCapacity 20\nA(core/Repeat) out -> in B(core/Output)\n",
  );
  const spec = buildNetworkSpec(graph, registry);
  assert.equal(spec.defaultCapacity, 20);
  assert.equal(spec.connections[0].capacity, undefined);
});

test("buildNetworkSpec() throws a GraphError with every problem and its position", () => {
  const graph = parseFbp(
    "'x' -> in A(core/Ouput)\nA out -> (0) in B(core/Output)\n",
    { file: "bad.fbp" },
  );
  assert.throws(() => buildNetworkSpec(graph, registry), (e: unknown) => {
    assert.ok(e instanceof GraphError);
    assert.equal(e.problems.length, 2);
    assert.equal(e.file, "bad.fbp");
    assert.match(e.message, /\nbad\.fbp:1:11: unknown component "core\/Ouput"/);
    assert.match(
      e.message,
      /\nbad\.fbp:2:7: capacity must be a positive integer/,
    );
    return true;
  });
});

test("buildNetworkSpec() converts IIP strings of .fbp text by the target port's type", () => {
  const text = `
' 2.5 ' -> ratio T(test/Typed)
'42' -> size T
'true' -> on T
'false' -> on T
'{"a": [1]}' -> options T
'[1, "x"]' -> cases T
'5' -> text T
'5' -> in T
`;
  const graph = parseFbp(text);
  const spec = buildNetworkSpec(graph, registry);
  assert.deepEqual(graph, parseFbp(text), "the graph keeps its strings");
  assert.deepEqual(spec.initials?.map((i) => [i.to.port, i.data]), [
    ["ratio", 2.5],
    ["size", 42],
    ["on", true],
    ["on", false],
    ["options", { a: [1] }],
    ["cases", [1, "x"]],
    ["text", "5"],
    ["in", "5"],
  ]);
});

test("buildNetworkSpec() converts string IIPs of a NoFlo JSON graph and leaves the graph as it was", () => {
  const text = `{
  "processes": { "T": { "component": "test/Typed" } },
  "connections": [
    { "data": "7", "tgt": { "process": "T", "port": "size" } },
    { "data": "0.5", "tgt": { "process": "T", "port": "ratio" } },
    { "data": "true", "tgt": { "process": "T", "port": "on" } },
    { "data": "{\\"k\\": null}", "tgt": { "process": "T", "port": "options" } },
    { "data": "[]", "tgt": { "process": "T", "port": "cases" } }
  ]
}`;
  const graph = parseGraphJson(text);
  const spec = buildNetworkSpec(graph, registry);
  assert.deepEqual(spec.initials?.map((i) => i.data), [
    7,
    0.5,
    true,
    { k: null },
    [],
  ]);
  assert.deepEqual(JSON.parse(stringifyGraph(graph)), JSON.parse(text));
  assert.equal(
    (graph.connections?.[0] as GraphInitial).data,
    "7",
    "the graph keeps its string",
  );
});

test("buildNetworkSpec() throws for an IIP string that does not convert, with its line:col", () => {
  const graph = parseFbp("'42' -> size T(test/Typed)\n'4.2' -> size T", {
    file: "typed.fbp",
  });
  assert.throws(() => buildNetworkSpec(graph, registry), (e: unknown) => {
    assert.ok(e instanceof GraphError);
    assert.deepEqual(e.problems.map((p) => p.path), ["connections[1].data"]);
    assert.match(
      e.message,
      /\ntyped\.fbp:2:7: IIP for in-port "size" of "T" \(test\/Typed\): expected an integer, received string "4\.2"$/,
    );
    return true;
  });
});

test("buildNetworkSpec() takes a capacity written 1e3 as 1000", () => {
  const graph = parseGraphJson(
    TWO.replace('"tgt"', '"metadata": { "capacity": 1e3 }, "tgt"'),
  );
  const spec = buildNetworkSpec(graph, testRegistry());
  assert.equal(spec.connections[0].capacity, 1000);
});

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
