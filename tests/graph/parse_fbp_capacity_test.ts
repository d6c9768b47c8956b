import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Graph,
  GraphError,
  parseFbp,
  type Problem,
  sourceMapOf,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { createNetwork } from "../../src/embed.ts";
import { colOf, syntaxProblem, where } from "./_helpers.ts";

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

test("parseFbp() keeps line:col right after a capacity is blanked out", () => {
  const { problem } = syntaxProblem(
    "A out -> (50) in B out -> (7) in C out => in D",
  );
  assert.deepEqual([problem.line, problem.col], [1, 40]);
});

test("parseFbp() accepts tabs around a capacity", () => {
  const graph = parseFbp("A(core/Repeat) out ->\t(7)\tin B(core/Output)");
  assert.equal(graph.connections?.[0].metadata?.capacity, 7);
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

test("parseFbp() reads an overflow policy beside a capacity, or alone, and the network uses it", async () => {
  const graph = parseFbp(`
A(core/Repeat) out -> (50 drop-oldest) in B(core/Output)
A out -> (3, drop-newest) in C(core/Output)
A out -> (error) in D(core/Output)
A out -> ( 2	block ) in E(core/Output)
A out -> (drop-oldest 7) in F(core/Output)
`);
  assert.deepEqual(graph.connections?.map((c) => c.metadata), [
    { capacity: 50, policy: "drop-oldest" },
    { capacity: 3, policy: "drop-newest" },
    { policy: "error" },
    { capacity: 2, policy: "block" },
    { capacity: 7, policy: "drop-oldest" },
  ]);
  assert.deepEqual(validateGraph(graph, testRegistry()), []);
  // The policy reaches the network: B holds the first message, two wait,
  // the fourth drops the oldest of them.
  let release = () => {};
  const held = new Promise<void>((r) => release = r);
  const seen: unknown[] = [];
  const Hold = defineComponent({
    name: "test/Hold",
    description: "Holds its first message until released.",
    inPorts: { in: {} },
    async process(v) {
      seen.push(v);
      if (seen.length === 1) await held;
    },
  });
  const net = createNetwork(
    `'1' -> in A(core/Repeat)
'2' -> in A
'3' -> in A
'4' -> in A
A out -> (2 drop-oldest) in B(test/Hold)`,
    { registry: builtins().register(Hold) },
  );
  await net.start();
  for (let i = 0; i < 100 && net.stats().drops.drop_oldest === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const c = net.stats().connections.find((x) => x.to === "B.in")!;
  assert.equal(c.policy, "drop-oldest");
  assert.equal(c.capacity, 2);
  assert.equal(c.drops.drop_oldest, 1);
  release();
  await net.finished;
  assert.deepEqual(seen, ["1", "3", "4"]);
});

test("parseFbp() refuses a word after a capacity that is no overflow policy, naming the policies and where", () => {
  const p = capacityComplaint(
    "A(core/Repeat) out -> (5 drop-olde) in B(core/Output)",
  );
  assert.ok(p);
  assert.equal(p.line, 1);
  assert.equal(
    p.col,
    colOf("A(core/Repeat) out -> (5 drop-olde)", "drop-olde"),
  );
  assert.match(
    p.message,
    /^"drop-olde" is no overflow policy: after the capacity, write one of block, drop-oldest, drop-newest, error/,
  );
});

test("parseFbp() points at the word after the capacity, not at the capacity it repeats, and at a comma's missing policy", () => {
  for (
    const [line, token, nth, message] of [
      ["A(core/Repeat) out -> (5 5) in B(core/Output)", "5", 1, /^"5" is no/],
      ["A(core/Repeat) out -> (10 1) in B(core/Output)", "1", 1, /^"1" is no/],
      [
        "A(core/Repeat) out -> (50,) in B(core/Output)",
        ")",
        1,
        /^the comma has no overflow policy after it: after the capacity, write one of block,/,
      ],
    ] as const
  ) {
    const p = capacityComplaint(line);
    assert.ok(p, line);
    assert.deepEqual([p.line, p.col], [1, colOf(line, token, nth)], line);
    assert.match(p.message, message, line);
  }
});
