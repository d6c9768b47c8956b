import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildNetworkSpec,
  defineSubgraph,
  GraphBuilder,
  GraphError,
  parseFbp,
  parseGraphJson,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { where, withScale } from "./_helpers.ts";

test("validateGraph() checks an IIP to a subgraph port against the inner port", () => {
  const problems = validateGraph(
    parseFbp("'2' -> FACTOR S(my/Scale)\n'two' -> FACTOR S"),
    withScale(),
  );
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, "connections[1].data");
  assert.deepEqual([problems[0].line, problems[0].col], [2, 7]);
  assert.match(
    problems[0].message,
    /"FACTOR" of "S" \(my\/Scale\): expected a number, received string "two"$/,
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
