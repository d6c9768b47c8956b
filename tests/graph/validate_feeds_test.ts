import { test } from "node:test";
import assert from "node:assert/strict";
import {
  defineSubgraph,
  parseFbp,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { only, problems } from "./_helpers.ts";

test("validateGraph() reports an in-port that takes one connection fed by two", () => {
  const p = only(parseFbp(`
A(core/Repeat) out -> data K(core/Kick)
'bang' -> in K
B(core/Repeat) out -> data K
`));
  assert.equal(p.path, "connections[2].tgt");
  assert.deepEqual([p.line, p.col], [4, 20]);
  assert.equal(
    p.message,
    'in-port "data" of "K" (core/Kick) takes one connection, but connections[0] and connections[2] both feed it; remove all but one, or merge them in a process first',
  );
});

test("validateGraph() lets distinct slots of an addressable port each take one", () => {
  const graph = parseFbp(`
A(core/Repeat) out -> in[0] M(flow/Merge)
B(core/Repeat) out -> in[1] M
`);
  assert.deepEqual(problems(graph), []);
  const twice = parseFbp(`
A(core/Repeat) out -> in[0] M(flow/Merge)
B(core/Repeat) out -> in[0] M
`);
  assert.equal(only(twice).path, "connections[1].tgt");
});

test("validateGraph() reports two connections reaching a single-connection port through two exports of it", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/Twice",
    parseFbp("INPORT=S.factor:F1\nINPORT=S.factor:F2\nS(math/Scale)"),
    registry,
  ));
  const graph = parseFbp(
    "A(core/Repeat) out -> F1 T(my/Twice)\nB(core/Repeat) out -> F2 T",
  );
  const problems = validateGraph(graph, registry);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.match(problems[0].message, /factor/);
});

test("validateGraph() reports an outer connection to a single-connection port the subgraph already feeds", () => {
  const registry = testRegistry();
  registry.register(defineSubgraph(
    "my/Fed",
    parseFbp("INPORT=S.factor:F\nK(core/Repeat) out -> factor S(math/Scale)"),
    registry,
  ));
  const problems = validateGraph(
    parseFbp("A(core/Repeat) out -> F T(my/Fed)"),
    registry,
  );
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.match(problems[0].message, /factor/);
});
