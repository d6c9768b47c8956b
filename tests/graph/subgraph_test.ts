import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildNetworkSpec,
  defineSubgraph,
  GraphBuilder,
  GraphError,
  parseFbp,
  subgraphOf,
  validateFlow,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { defineComponent, ERROR_PORT } from "../../src/engine/component.ts";
import { ProcessError } from "../../src/engine/errors.ts";
import { Network } from "../../src/engine/network.ts";
import type { ConnectionSpec } from "../../src/engine/spec.ts";
import { builtins } from "../../src/components/mod.ts";
import type { Registry } from "../../src/engine/registry.ts";
import { runAndCollect, withScale } from "./_helpers.ts";

/**
 * A registry with `my/Guarded`: Parse -> Check -> Out, where Check's faults
 * go to Fix inside the subgraph and Fix -> Out.
 */
function withGuarded() {
  const registry = testRegistry();
  const inner = parseFbp(`INPORT=Parse.in:IN
OUTPORT=Out.out:OUT
Parse(core/Repeat) out -> in Check(core/Repeat) out -> in Out(core/Repeat)
Check error -> in Fix(core/Repeat) out -> in Out
`);
  registry.register(defineSubgraph("my/Guarded", inner, registry));
  return registry;
}

/** `from -> to` of each connection that ends at `process`. */
function feedsOf(spec: { connections: ConnectionSpec[] }, process: string) {
  return spec.connections.filter((c) => c.to.process === process).map((c) =>
    `${c.from.process}.${c.from.port} -> ${c.to.process}.${c.to.port} (${c.capacity})`
  );
}

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

test("defineSubgraph() derives ports from the exported ports and their specs", () => {
  const registry = withScale();
  const component = registry.get("my/Scale")!;
  assert.deepEqual(Object.keys(component.inPorts), ["IN", "FACTOR"]);
  assert.deepEqual(Object.keys(component.outPorts), ["OUT", "error"]);
  assert.deepEqual(component.outPorts.error, ERROR_PORT);
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

test("buildNetworkSpec() converts IIP strings by the type of the inner port, inside and outside a subgraph", () => {
  const registry = testRegistry();
  const inner = parseFbp(`INPORT=T.in:IN
INPORT=Scale.factor:FACTOR
'3' -> size T(test/Typed)
Scale(math/Scale)
`);
  registry.register(defineSubgraph("my/Scaled", inner, registry));
  const spec = buildNetworkSpec(
    parseFbp("'2' -> FACTOR S(my/Scaled)\n'4' -> IN S"),
    registry,
  );
  assert.deepEqual(
    spec.initials?.map((i) => [`${i.to.process}.${i.to.port}`, i.data]),
    [["S/Scale.factor", 2], ["S/T.in", "4"], ["S/T.size", 3]],
  );
  assert.equal(inner.connections?.[0].data, "3");
});

test("buildNetworkSpec() connects a subgraph's error port from each inner error port it leaves unconnected", () => {
  const spec = buildNetworkSpec(
    parseFbp(`'x' -> IN G(my/Guarded) OUT -> in Sink(core/Output)
G error -> (3) in Log(core/Output)`),
    withGuarded(),
  );
  assert.deepEqual(feedsOf(spec, "Log"), [
    "G/Parse.error -> Log.in (3)",
    "G/Out.error -> Log.in (3)",
    "G/Fix.error -> Log.in (3)",
  ]);
  assert.deepEqual(feedsOf(spec, "G/Fix"), [
    "G/Check.error -> G/Fix.in (undefined)",
  ]);
});

test("buildNetworkSpec() gathers the error ports of nested subgraphs the middle one leaves unconnected", () => {
  const registry = withGuarded();
  registry.register(defineSubgraph(
    "my/Twice",
    parseFbp(`INPORT=A.IN:IN
A(my/Guarded) OUT -> IN B(my/Guarded)
A error -> in Handle(core/Output)`),
    registry,
  ));
  const spec = buildNetworkSpec(
    parseFbp("'x' -> IN T(my/Twice)\nT error -> in Log(core/Output)"),
    registry,
  );
  assert.deepEqual(feedsOf(spec, "T/Handle").map((f) => f.split(" -> ")[0]), [
    "T/A/Parse.error",
    "T/A/Out.error",
    "T/A/Fix.error",
  ]);
  assert.deepEqual(feedsOf(spec, "Log").map((f) => f.split(" -> ")[0]), [
    "T/B/Parse.error",
    "T/B/Out.error",
    "T/B/Fix.error",
    "T/Handle.error",
  ]);
});

test("buildNetworkSpec() leaves out inner error ports that the subgraph exports", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/Exported",
    parseFbp(`INPORT=A.in:IN
OUTPORT=A.error:FAULTS
A(core/Repeat) out -> in B(core/Repeat)`),
    registry,
  ));
  const spec = buildNetworkSpec(
    parseFbp(`'x' -> IN S(my/Exported)
S FAULTS -> in Faults(core/Output)
S error -> in Log(core/Output)`),
    registry,
  );
  assert.deepEqual(feedsOf(spec, "Faults"), [
    "S/A.error -> Faults.in (undefined)",
  ]);
  assert.deepEqual(feedsOf(spec, "Log"), ["S/B.error -> Log.in (undefined)"]);
});

test("buildNetworkSpec() uses a subgraph's exported error port like any other", () => {
  const registry = testRegistry();
  const inner = parseFbp(`INPORT=A.in:IN
OUTPORT=Catch.out:error
A(core/Repeat) out -> in B(core/Repeat)
A error -> in Catch(core/Repeat)`);
  const component = defineSubgraph("my/Catching", inner, registry);
  registry.register(component);
  assert.deepEqual(Object.keys(component.outPorts), ["error"]);
  assert.equal(component.outPorts.error.type, "any", "the inner port's spec");
  const spec = buildNetworkSpec(
    parseFbp("'x' -> IN S(my/Catching)\nS error -> in Log(core/Output)"),
    registry,
  );
  assert.deepEqual(feedsOf(spec, "Log"), ["S/Catch.out -> Log.in (undefined)"]);
});

test("buildNetworkSpec() exports a subgraph's error port from the network only when it is one port", () => {
  const registry = withGuarded();
  registry.register(defineSubgraph(
    "my/Single",
    parseFbp("INPORT=A.in:IN\nA(core/Repeat)"),
    registry,
  ));
  const single = buildNetworkSpec(
    parseFbp("OUTPORT=S.error:ERR\n'x' -> IN S(my/Single)"),
    registry,
  );
  assert.deepEqual(single.outports, {
    ERR: { process: "S/A", port: "error" },
  });
  const graph = parseFbp("'x' -> IN G(my/Guarded)\nOUTPORT=G.error:ERR", {
    file: "many.fbp",
  });
  // A graph may export it (a subgraph's outports stand for several); a
  // flow may not: validateFlow() says so before anything runs.
  assert.deepEqual(validateGraph(graph, registry), []);
  assert.deepEqual(
    validateFlow(graph, registry).map((p) => [p.path, p.line, p.col]),
    [["outports.ERR", 2, 1]],
  );
  assert.throws(() => buildNetworkSpec(graph, registry), (e: unknown) => {
    assert.ok(e instanceof GraphError);
    assert.deepEqual(e.problems.map((p) => [p.path, p.line]), [
      ["outports.ERR", 2],
    ]);
    assert.match(
      e.message,
      /\nmany\.fbp:2:\d+: exported out-port "ERR" names "G error", which stands for the error ports of 3 inner processes of subgraph process "G", but a network's exported out-port is one port/,
    );
    return true;
  });
});

test("a subgraph's error port delivers the faults of its inner processes when run", async () => {
  const registry = testRegistry();
  registry.register(defineComponent({
    name: "test/Boom",
    description: "Fails every message.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(value) {
      throw new Error(`boom on ${value}`);
    },
  }));
  const caught: unknown[] = [];
  registry.register(defineComponent({
    name: "test/Catch",
    description: "Keeps what it gets.",
    inPorts: { in: {} },
    process(value) {
      caught.push(value);
    },
  }));
  registry.register(defineSubgraph(
    "my/Fragile",
    parseFbp("INPORT=Pass.in:IN\nPass(core/Repeat) out -> in Boom(test/Boom)"),
    registry,
  ));
  const net = new Network(buildNetworkSpec(
    parseFbp(`'a' -> IN F(my/Fragile)
'b' -> IN F
F error -> in Catch(test/Catch)`),
    registry,
    { name: "faults" },
  ));
  const unrouted: unknown[] = [];
  net.on("error", (e) => unrouted.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(unrouted, []);
  assert.equal(caught.length, 2);
  for (const [i, input] of ["a", "b"].entries()) {
    const e = caught[i];
    assert.ok(e instanceof ProcessError);
    assert.equal(e.network, "faults");
    assert.equal(e.process, "F/Boom");
    assert.equal(e.port, "in");
    assert.equal(e.kind, "exception");
    assert.equal(e.input, input);
    assert.match(e.message, new RegExp(`boom on ${input}$`));
  }
});

test("defineSubgraph() refuses an exported port named __proto__", () => {
  const registry = testRegistry();
  const inner = parseFbp("INPORT=A.in:__proto__\nA(core/Repeat)");
  assert.throws(
    () => defineSubgraph("my/Proto", inner, registry),
    (e: unknown) => {
      assert.ok(e instanceof GraphError);
      assert.deepEqual(e.problems.map((p) => [p.path, p.line]), [
        ["inports.__proto__", 1],
      ]);
      assert.match(e.message, /cannot be a port name/);
      return true;
    },
  );
});

test("defineSubgraph() does not require an exported port the subgraph feeds", () => {
  const registry = testRegistry();
  const fed = defineSubgraph(
    "my/Fed",
    parseFbp("INPORT=T.interval:I\n'1s' -> interval T(core/Interval)"),
    registry,
  );
  const unfed = defineSubgraph(
    "my/Unfed",
    parseFbp("INPORT=T.interval:I\nT(core/Interval)"),
    registry,
  );
  assert.equal(fed.inPorts.I.required, false);
  assert.equal(unfed.inPorts.I.required, true);
});

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
