import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Graph,
  GraphBuilder,
  parseFbp,
  parseGraphJson,
  toFbp,
} from "../../src/graph/mod.ts";
import { plain, TWO } from "./_helpers.ts";

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
M out -> (1 drop-newest) in Out(core/Output)
Sw error -> in Out
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

test("toFbp() writes an overflow policy beside the capacity, or alone, and it reads back", () => {
  const graph = new GraphBuilder().process("A", "core/Repeat")
    .process("B", "core/Output").process("C", "core/Drop")
    .connect("A", "out", "B", "in", { capacity: 5, policy: "drop-oldest" })
    .connect("A", "out", "C", "in", { policy: "error" })
    .build();
  const text = toFbp(graph);
  assert.match(text, /^A out -> \(5 drop-oldest\) in B$/m);
  assert.match(text, /^A out -> \(error\) in C$/m);
  assert.deepEqual(
    parseFbp(text).connections?.map((c) => c.metadata),
    [{ capacity: 5, policy: "drop-oldest" }, { policy: "error" }],
  );
});

test("toFbp() throws for what the DSL cannot express, listing each", () => {
  const graph = new GraphBuilder()
    .process("M", "flow/Map")
    .process("B", "core/Output")
    .connect("M", "out", "B", "in")
    .initial((x: unknown) => x, "M", "fn")
    .initial(true, "B", "in")
    .group("G", ["M"])
    .build();
  // A policy no network knows (a graph read from JSON may hold one).
  graph.connections![0].metadata = { policy: "drop-everything" as "block" };
  assert.throws(() => toFbp(graph), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^Cannot write the graph as \.fbp/);
    assert.match(
      e.message,
      /\nconnections\[0\]\.metadata\.policy: the DSL has no connection policy but block, drop-oldest, drop-newest, error/,
    );
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
    "M(flow/Map)\nB(core/Output)\nM out -> (4 drop-oldest) in B\n",
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
