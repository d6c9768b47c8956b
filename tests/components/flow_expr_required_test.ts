/**
 * `flow/Map` and `flow/Filter` without an `expr` (or `fn`) are refused when
 * the graph is validated: `weir validate` passed `'1' -> in M(flow/Map)`,
 * and `weir run` then failed every message with "flow/Map needs an fn or
 * an expr option, and neither is set" (found writing a graph by hand and
 * forgetting the expr line).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";

const registry = builtins({ files: { root: "/tmp" } });

for (const component of ["flow/Map", "flow/Filter"]) {
  test(`${component} without an expr is a validation problem at the process`, () => {
    const problems = validateGraph(
      loadGraph(`'1' -> in M(${component}) out -> in D(core/Drop)`),
      registry,
    );
    assert.deepEqual(
      problems.map((p) => [p.line, p.col, p.message]),
      [[
        1,
        11,
        `"M" (${component}): needs an expr, a JSONata expression such as 'price * qty' -> expr (or an fn); with neither, every message would fail`,
      ]],
    );
  });

  test(`${component} with an expr, or one fed by a connection, is valid`, () => {
    for (
      const text of [
        `'1' -> in M(${component}) out -> in D(core/Drop)\n'$ > 0' -> expr M`,
        `'1' -> in M(${component}) out -> in D(core/Drop)\n'x' -> in E(core/Repeat) out -> expr M`,
      ]
    ) {
      assert.deepEqual(validateGraph(loadGraph(text), registry), [], text);
    }
  });

  test(`${component} given both an fn and an expr is a validation problem`, () => {
    const graph = loadGraph(
      `'1' -> in M(${component}) out -> in D(core/Drop)\n'$' -> expr M`,
    );
    graph.connections!.push({
      data: (v: unknown) => v,
      tgt: { process: "M", port: "fn" },
    });
    assert.deepEqual(
      validateGraph(graph, registry).map((p) => p.message),
      [`"M" (${component}): takes an fn or an expr, not both; remove one`],
    );
  });
}
