/**
 * A connection written twice between the same two ports is a validation
 * problem: `A out -> in B` on two lines made two edges, and every message
 * reached B twice (found running a hand-written graph that repeated a
 * chain; NoFlo's fbp-graph keeps one such edge, Node-RED cannot draw two).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFbp, parseGraphJson } from "../../src/graph/mod.ts";
import { only, problems } from "./_helpers.ts";

test("validateGraph() reports a connection written twice at the second, naming the first's line", () => {
  const p = only(parseFbp(`'x' -> in A(core/Repeat) out -> in B(core/Output)
A out -> in B
`));
  assert.equal(p.path, "connections[2]");
  assert.deepEqual([p.line, p.col], [2, 7]);
  assert.equal(
    p.message,
    "connection A.out -> B.in is written twice (first on line 1), so each message would reach B.in twice; remove one",
  );
});

test("validateGraph() tells repeated edges of an addressable port by index", () => {
  assert.deepEqual(
    problems(parseFbp(`S(flow/Switch) out[0] -> in B(core/Output)
S out[1] -> in B
`)),
    [],
  );
  assert.match(
    only(parseFbp(`S(flow/Switch) out[1] -> in B(core/Output)
S out[1] -> in B
`)).message,
    /^connection S\.out\[1\] -> B\.in is written twice \(first on line 1\)/,
  );
});

test("validateGraph() names the first connection by its path in a graph without positions", () => {
  const graph = parseGraphJson(JSON.stringify({
    processes: {
      A: { component: "core/Repeat" },
      B: { component: "core/Output" },
    },
    connections: [
      { src: { process: "A", port: "out" }, tgt: { process: "B", port: "in" } },
      { src: { process: "A", port: "out" }, tgt: { process: "B", port: "in" } },
    ],
  }));
  const p = only(graph);
  assert.equal(p.path, "connections[1]");
  assert.match(p.message, /\(first (at connections\[0\]|on line 1)\)/);
});

test("validateGraph() lets one out-port feed two processes and two out-ports feed one in-port", () => {
  assert.deepEqual(
    problems(parseFbp(`'x' -> in A(core/Repeat) out -> in B(core/Output)
A out -> in C(core/Output)
'y' -> in D(core/Repeat) out -> in B
`)),
    [],
  );
});
