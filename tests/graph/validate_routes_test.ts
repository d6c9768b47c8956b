/**
 * `validateFlow()` on `http/In` routes: two processes of one flow that
 * serve the same method and path are a problem at the second, naming both,
 * when the graph's initial packets settle their routes; a route known only
 * at run time is the router's to refuse.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { defineSubgraph, parseFbp } from "../../src/graph/mod.ts";
import { validateFlow } from "../../src/graph/validate.ts";

const problemsOf = (text: string, registry = builtins()) =>
  validateFlow(parseFbp(text), registry).map((p) =>
    `${p.path} ${p.line}:${p.col}: ${p.message}`
  );

test("validateFlow(): two http/In serving the same method and path are a problem at the second, naming both", () => {
  const problems = problemsOf(
    `'/a/:x' -> path A(http/In) out -> in R(http/Response)
'/a/:y/' -> path B(http/In) out -> in R
'POST, GET' -> method B
`,
  );
  assert.deepEqual(problems, [
    'processes.B 2:18: Cannot serve GET /a/:y/ from process "B" (http/In): process "A" serves GET /a/:x already, the same method and path, so the flow would fail to start; give each http/In its own method or path',
  ]);
});

test("validateFlow(): http/In routes that differ in method or path shape are fine", () => {
  assert.deepEqual(
    problemsOf(`'/a/:x' -> path A(http/In) out -> in R(http/Response)
'/a/:x' -> path B(http/In) out -> in R
'POST' -> method B
'/a/b' -> path C(http/In) out -> in R
'/a/:x/*' -> path D(http/In) out -> in R
'HEAD' -> method E(http/In) out -> in R
'/a/:x' -> path E
`),
    [],
  );
});

test("validateFlow(): an http/In method fed by a connection is left to run time", () => {
  assert.deepEqual(
    problemsOf(`'/a' -> path A(http/In) out -> in R(http/Response)
'/a' -> path B(http/In) out -> in R
'GET' -> in M(core/Repeat) out -> method B
`),
    [],
  );
});

test("validateFlow(): an http/In inside a subgraph that serves an outer one's route is a problem at the subgraph process", () => {
  const registry = builtins();
  registry.register(defineSubgraph(
    "my/Api",
    parseFbp(`INPORT=In.path:PATH
OUTPORT=In.out:OUT
In(http/In)
`),
    registry,
  ));
  const problems = problemsOf(
    `'/a/:x' -> path A(http/In) out -> in R(http/Response)
'/a/:id' -> PATH S(my/Api) OUT -> in R
`,
    registry,
  );
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(
    problems[0],
    /^processes\.S 2:18: Cannot serve GET \/a\/:id from process "S\/In" \(http\/In\): process "A" serves GET \/a\/:x already/,
  );
});
