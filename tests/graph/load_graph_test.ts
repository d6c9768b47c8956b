import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildNetworkSpec,
  GraphError,
  loadGraph,
  parseFbp,
  sourceMapOf,
} from "../../src/graph/mod.ts";
import { builtins } from "../../src/components/mod.ts";
import { plain, runAndCollect } from "./_helpers.ts";

test("loadGraph() reads text starting with { as JSON", () => {
  const graph = loadGraph(
    '\n  {"processes": {"A": {"component": "core/Repeat"}}}',
  );
  assert.deepEqual(graph, { processes: { A: { component: "core/Repeat" } } });
});

test("loadGraph() reads other text as .fbp", () => {
  const graph = loadGraph(
    "# @name x\nA(core/Repeat) out -> (3) in B(core/Output)\n",
  );
  assert.equal(graph.properties?.name, "x");
  assert.equal(graph.connections?.[0].metadata?.capacity, 3);
});

test("loadGraph() follows an explicit format", () => {
  assert.throws(
    () => loadGraph("A(core/Repeat)", { format: "json" }),
    (e: unknown) =>
      e instanceof GraphError && /JSON syntax error/.test(e.message),
  );
  const graph = loadGraph('{"n": 1} -> in A(core/Repeat)', { format: "fbp" });
  assert.deepEqual(graph.connections?.[0].data, { n: 1 });
});

test("loadGraph() records the file name for positions", () => {
  const graph = loadGraph("A(core/Repeat)", { file: "a.fbp" });
  assert.equal(sourceMapOf(graph)?.file, "a.fbp");
});

test("loadGraph() throws a RangeError for an unknown format", () => {
  assert.throws(
    () => loadGraph("{}", { format: "yaml" as "json" }),
    {
      name: "RangeError",
      message: /format must be "json" or "fbp", received string "yaml"/,
    },
  );
});

test("loadGraph() reports the .fbp syntax error of .fbp text that starts with a JSON IIP", () => {
  assert.throws(
    () => loadGraph('{"n": 1} -> in A(core/Repeat)\nA out => in B'),
    (e: unknown) =>
      e instanceof GraphError && /^Cannot read \.fbp graph/.test(e.message) &&
      /\n2:7: syntax error/.test(e.message),
  );
  assert.throws(
    () => loadGraph('{"processes": {,}}'),
    (e: unknown) =>
      e instanceof GraphError && /\n1:16: JSON syntax error/.test(e.message),
  );
});

test("loadGraph() reads .fbp text whose first line is a JSON IIP as .fbp", () => {
  const text = '{"a": 1} -> options T(test/Typed)\n';
  assert.deepEqual(plain(loadGraph(text)), plain(parseFbp(text)));
});

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
