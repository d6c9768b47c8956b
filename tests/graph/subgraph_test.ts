import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildNetworkSpec,
  defineSubgraph,
  GraphBuilder,
  GraphError,
  parseFbp,
  subgraphOf,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";

/** A registry with `my/Scale`: IN -> Scale(math/Scale) -> Log(core/Repeat) -> OUT. */
function withScale() {
  const registry = testRegistry();
  const inner = parseFbp(`INPORT=Scale.in:IN
INPORT=Scale.factor:FACTOR
OUTPORT=Log.out:OUT
Scale(math/Scale) out -> (4) in Log(core/Repeat)
`);
  registry.register(defineSubgraph("my/Scale", inner, registry));
  return registry;
}

test("defineSubgraph() derives ports from the exported ports and their specs", () => {
  const registry = withScale();
  const component = registry.get("my/Scale")!;
  assert.deepEqual(Object.keys(component.inPorts), ["IN", "FACTOR"]);
  assert.deepEqual(Object.keys(component.outPorts), ["OUT"]);
  assert.equal(component.inPorts.FACTOR.type, "number");
  assert.equal(component.inPorts.FACTOR.control, true);
  assert.ok(subgraphOf(component)?.graph.processes?.Scale);
  assert.equal(subgraphOf(registry.get("core/Repeat")!), undefined);
});

test("defineSubgraph() gives a component whose process throws", () => {
  const component = withScale().get("my/Scale")!;
  assert.throws(
    () => component.process?.(1, undefined as never),
    /is a subgraph: buildNetworkSpec\(\) replaces it by its processes/,
  );
});

test("defineSubgraph() throws a GraphError for an export of an unknown port", () => {
  const registry = testRegistry();
  const inner = parseFbp(
    "INPORT=A.inn:IN\nOUTPORT=Ghost.out:OUT\nA(core/Repeat)",
  );
  assert.throws(
    () => defineSubgraph("my/Bad", inner, registry),
    (e: unknown) => {
      assert.ok(e instanceof GraphError);
      assert.deepEqual(e.problems.map((p) => [p.path, p.line]), [
        ["inports.IN.port", 1],
        ["outports.OUT.process", 2],
      ]);
      assert.match(e.message, /^Cannot define subgraph "my\/Bad": 2 problems/);
      return true;
    },
  );
});

test("buildNetworkSpec() flattens a subgraph into Outer/Inner processes", () => {
  const spec = buildNetworkSpec(
    parseFbp(`
'x' -> in Src(core/Repeat) out -> (9) IN S(my/Scale) OUT -> in Sink(core/Output)
2 -> FACTOR S
`),
    withScale(),
  );
  assert.deepEqual(spec.processes.map((p) => p.name), [
    "Src",
    "S/Scale",
    "S/Log",
    "Sink",
  ]);
  assert.deepEqual(spec.connections, [
    {
      from: { process: "Src", port: "out" },
      to: { process: "S/Scale", port: "in" },
      capacity: 9,
    },
    {
      from: { process: "S/Log", port: "out" },
      to: { process: "Sink", port: "in" },
    },
    {
      from: { process: "S/Scale", port: "out" },
      to: { process: "S/Log", port: "in" },
      capacity: 4,
    },
  ]);
  assert.deepEqual(spec.initials, [
    { data: "x", to: { process: "Src", port: "in" } },
    { data: 2, to: { process: "S/Scale", port: "factor" } },
  ]);
});

test("buildNetworkSpec() rewires graph exports through a subgraph", () => {
  const spec = buildNetworkSpec(
    parseFbp("INPORT=S.IN:IN\nOUTPORT=S.OUT:OUT\nS(my/Scale)\n2 -> FACTOR S"),
    withScale(),
  );
  assert.deepEqual(spec.inports, { IN: { process: "S/Scale", port: "in" } });
  assert.deepEqual(spec.outports, { OUT: { process: "S/Log", port: "out" } });
});

test("buildNetworkSpec() flattens nested subgraphs as A/B/C", () => {
  const registry = withScale();
  const middle = new GraphBuilder("middle", { defaultCapacity: 7 })
    .process("Inner", "my/Scale")
    .process("After", "core/Repeat")
    .connect("Inner", "OUT", "After", "in")
    .initial(3, "Inner", "FACTOR")
    .inport("IN", "Inner", "IN")
    .outport("OUT", "After", "out")
    .build();
  registry.register(defineSubgraph("my/Middle", middle, registry));
  const spec = buildNetworkSpec(
    parseFbp("5 -> IN Outer(my/Middle) OUT -> in Log(core/Output)"),
    registry,
  );
  assert.deepEqual(spec.processes.map((p) => p.name), [
    "Outer/Inner/Scale",
    "Outer/Inner/Log",
    "Outer/After",
    "Log",
  ]);
  assert.deepEqual(
    spec.connections.map((c) =>
      `${c.from.process} -> ${c.to.process} (${c.capacity})`
    ),
    [
      "Outer/After -> Log (undefined)",
      "Outer/Inner/Log -> Outer/After (7)",
      "Outer/Inner/Scale -> Outer/Inner/Log (4)",
    ],
  );
  assert.deepEqual(
    spec.initials?.map((i) => `${i.to.process}.${i.to.port}=${i.data}`),
    [
      "Outer/Inner/Scale.in=5",
      "Outer/Inner/Scale.factor=3",
    ],
  );
});

test("validateGraph() checks an IIP to a subgraph port against the inner port", () => {
  const problems = validateGraph(
    parseFbp("'2' -> FACTOR S(my/Scale)"),
    withScale(),
  );
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, "connections[0].data");
  assert.match(
    problems[0].message,
    /"FACTOR" of "S" \(my\/Scale\): expected a number/,
  );
});

test("validateGraph() reports a subgraph that contains itself", () => {
  const registry = testRegistry();
  const loop = parseFbp(
    "INPORT=A.in:IN\nA(core/Repeat) out -> IN Again(my/Loop)",
  );
  registry.register(defineSubgraph("my/Loop", loop, registry));
  const problems = validateGraph(parseFbp("\n'x' -> IN L(my/Loop)"), registry);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, "processes.L.component");
  assert.deepEqual([problems[0].line, problems[0].col], [2, 11]);
  assert.equal(
    problems[0].message,
    'subgraph "my/Loop" contains itself (my/Loop -> my/Loop); a subgraph cannot include itself, directly or through other subgraphs',
  );
});

test("validateGraph() reports a subgraph that contains itself through another", () => {
  const registry = testRegistry();
  registry.register(
    defineSubgraph(
      "my/Ping",
      parseFbp("INPORT=A.in:IN\nA(core/Repeat) out -> IN B(my/Pong)"),
      registry,
    ),
  );
  registry.register(
    defineSubgraph(
      "my/Pong",
      parseFbp("INPORT=A.in:IN\nA(core/Repeat) out -> IN B(my/Ping)"),
      registry,
    ),
  );
  const graph = parseFbp("'x' -> IN P(my/Ping)");
  const problems = validateGraph(graph, registry);
  assert.equal(problems.length, 1);
  assert.match(problems[0].message, /\(my\/Ping -> my\/Pong -> my\/Ping\)/);
  assert.throws(() => buildNetworkSpec(graph, registry), GraphError);
});

test("validateGraph() reports the problems inside a subgraph at the outer process", () => {
  const registry = testRegistry();
  const inner = parseFbp(
    "INPORT=A.in:IN\nA(core/Repeat) out -> in B(core/Ouput)",
    {
      file: "inner.fbp",
    },
  );
  registry.register(defineSubgraph("my/Broken", inner, registry));
  const problems = validateGraph(
    parseFbp("'x' -> IN X(my/Broken)\n'y' -> IN Y(my/Broken)"),
    registry,
  );
  assert.equal(problems.length, 1, "reported once, not once per use");
  assert.equal(problems[0].path, "processes.X.component");
  assert.match(
    problems[0].message,
    /^subgraph "my\/Broken" has a problem: inner\.fbp:2:26: unknown component "core\/Ouput"/,
  );
});

test("validateGraph() reports weir settings on a subgraph process", () => {
  const graph = new GraphBuilder().process("S", "my/Scale", { timeoutMs: 100 })
    .initial(1, "S", "FACTOR").build();
  const problems = validateGraph(graph, withScale());
  assert.deepEqual(problems.map((p) => p.path), [
    "processes.S.metadata.timeoutMs",
  ]);
  assert.match(problems[0].message, /set timeoutMs on those/);
});

test("validateGraph() reports an outer process named like a flattened inner one", () => {
  const graph = new GraphBuilder()
    .process("S", "my/Scale")
    .process("S/Log", "core/Output")
    .initial(1, "S", "FACTOR")
    .build();
  const problems = validateGraph(graph, withScale());
  assert.deepEqual(problems.map((p) => p.path), ['processes["S/Log"]']);
  assert.match(
    problems[0].message,
    /process "S\/Log" has the name that process "S" \(subgraph "my\/Scale"\) gives one of its inner processes/,
  );
});
