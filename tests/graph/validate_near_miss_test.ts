/**
 * A misspelt weir setting is a validation problem, not ignored: with
 * `A(core/Repeat:timeoutMS=500)`, `"capcity": 5` on a connection or
 * `# @restrat always`, `weir validate` said nothing, and the flow ran
 * without the timeout, the capacity or the restart policy its author
 * wrote (found writing graphs by hand). Keys of other tools stay allowed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFbp, parseGraphJson } from "../../src/graph/mod.ts";
import { only, problems } from "./_helpers.ts";

test("validateGraph() reports a process setting close to one of weir's at its process", () => {
  const p = only(parseFbp(
    "'x' -> in A(core/Repeat:timeoutMS=500) out -> in B(core/Output)",
  ));
  assert.equal(p.path, "processes.A.metadata.timeoutMS");
  assert.deepEqual([p.line, p.col], [1, 11]);
  assert.equal(
    p.message,
    `process "A" has no setting "timeoutMS", so it would be ignored; did you mean "timeoutMs"? (process "A"'s settings are timeoutMs, retry, circuitBreaker and concurrency)`,
  );
  assert.match(
    only(parseFbp("'x' -> in A(core/Repeat:timeout=500)")).message,
    /no setting "timeout", .*did you mean "timeoutMs"\?/,
  );
});

test("validateGraph() reports a connection setting close to capacity or policy", () => {
  const found = problems(parseGraphJson(JSON.stringify({
    processes: {
      A: { component: "core/Repeat" },
      B: { component: "core/Output" },
    },
    connections: [{
      src: { process: "A", port: "out" },
      tgt: { process: "B", port: "in" },
      metadata: { capcity: 5, Policy: "drop-oldest" },
    }],
  })));
  assert.deepEqual(found.map((p) => [p.path, p.message]), [
    [
      "connections[0].metadata.capcity",
      `a connection has no setting "capcity", so it would be ignored; did you mean "capacity"? (a connection's settings are capacity and policy)`,
    ],
    [
      "connections[0].metadata.Policy",
      `a connection has no setting "Policy", so it would be ignored; did you mean "policy"? (a connection's settings are capacity and policy)`,
    ],
  ]);
});

test("validateGraph() reports a .fbp annotation close to a graph property at its line", () => {
  const found = problems(parseFbp(`# @name x
# @defaultcapacity 5
# @restrat always
'x' -> in A(core/Repeat) out -> in B(core/Output)
`));
  assert.deepEqual(found.map((p) => [p.line, p.path]), [
    [2, "properties.defaultcapacity"],
    [3, "properties.restrat"],
  ]);
  assert.match(found[1].message, /did you mean "restart"\?/);
});

test("validateGraph() keeps the metadata and properties of other tools", () => {
  assert.deepEqual(
    problems(parseGraphJson(JSON.stringify({
      properties: {
        name: "f",
        description: "d",
        environment: { type: "noflo-nodejs" },
        icon: "cog",
        id: "x",
        changed: true,
      },
      processes: {
        A: {
          component: "core/Repeat",
          metadata: { label: "A", x: 1, y: 2, width: 72, height: 72 },
        },
        B: { component: "core/Output" },
      },
      connections: [{
        src: { process: "A", port: "out" },
        tgt: { process: "B", port: "in" },
        metadata: { route: 4, secure: false },
      }],
    }))),
    [],
  );
});
