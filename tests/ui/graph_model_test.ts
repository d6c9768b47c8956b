/**
 * The dashboard's model of a flow's graph: one edge per connection, an
 * addressable port's outputs apart.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildModel,
  type ModelComponent,
  type ModelGraph,
} from "../../src/ui/graph_model.ts";
import type { NetworkStats } from "../../src/ui/stats.ts";
import { builtins } from "../../src/components/mod.ts";
import { createNetwork } from "../../src/embed.ts";

const SWITCH =
  `'[{"op": ">", "value": 30}, {"op": "else"}]' -> rules Sw(flow/Switch)
'payload.temp' -> property Sw
'{"payload": {"temp": 31}}' -> in Sw
Sw out[0] -> in Hot(core/Drop)
Sw out[1] -> in Cold(core/Drop)
`;

const catalogue = new Map<string, ModelComponent>([
  ["flow/Switch", {
    inPorts: [{ name: "in" }, { name: "rules" }, { name: "property" }],
    outPorts: [{ name: "out" }],
  }],
  ["core/Drop", { inPorts: [{ name: "in" }], outPorts: [] }],
]);

const graph: ModelGraph = {
  processes: {
    Sw: { component: "flow/Switch" },
    Hot: { component: "core/Drop" },
    Cold: { component: "core/Drop" },
  },
  connections: [
    { data: "[]", tgt: { process: "Sw", port: "rules" } },
    {
      src: { process: "Sw", port: "out", index: 0 },
      tgt: { process: "Hot", port: "in" },
    },
    {
      src: { process: "Sw", port: "out", index: 1 },
      tgt: { process: "Cold", port: "in" },
    },
  ],
};

test("the dashboard draws an edge for each output of an addressable port, from the graph and from the stats alike", async () => {
  const fromGraph = buildModel(graph, catalogue, null);
  assert.deepEqual(fromGraph.edges.map((e) => [e.from, e.to]), [
    ["Sw.out[0]", "Hot.in"],
    ["Sw.out[1]", "Cold.in"],
  ]);
  const net = createNetwork(SWITCH, { registry: builtins() });
  await net.start();
  await net.finished;
  const stats = net.stats() as unknown as NetworkStats;
  const fromStats = buildModel(graph, catalogue, stats);
  assert.deepEqual(
    fromStats.edges.map((e) => [e.from, e.to]).sort(),
    [["Sw.out[0]", "Hot.in"], ["Sw.out[1]", "Cold.in"]],
  );
  const sw = fromStats.nodes.find((n) => n.name === "Sw")!;
  assert.ok(
    ["out[0]", "out[1]"].every((p) => sw.outs.some((o) => o.name === p)),
    JSON.stringify(sw.outs),
  );
});

test("the dashboard draws an addressable port by its indexes only, not once more bare and unconnected", async () => {
  const net = createNetwork(SWITCH, { registry: builtins() });
  await net.start();
  await net.finished;
  const stats = net.stats() as unknown as NetworkStats;
  for (
    const model of [
      buildModel(graph, catalogue, null),
      buildModel(graph, catalogue, stats),
    ]
  ) {
    const sw = model.nodes.find((n) => n.name === "Sw")!;
    const names = sw.outs.map((p) => p.name);
    assert.ok(
      names.includes("out[0]") && names.includes("out[1]") &&
        !names.includes("out"),
      names.join(", "),
    );
  }
});

test("the dashboard marks an initial packet on the port it goes to (its name, with an index where it has one)", () => {
  const withIips: ModelGraph = {
    ...graph,
    connections: [
      ...graph.connections,
      { data: 7, tgt: { process: "Hot", port: "in", index: 2 } },
    ],
  };
  const model = buildModel(withIips, catalogue, null);
  const sw = model.nodes.find((n) => n.name === "Sw")!;
  assert.deepEqual(sw.ins, [
    { name: "in" },
    { name: "rules", iip: "[]" },
    { name: "property" },
  ]);
  const hot = model.nodes.find((n) => n.name === "Hot")!;
  assert.deepEqual(hot.ins, [{ name: "in" }, { name: "in[2]", iip: "7" }]);
});
