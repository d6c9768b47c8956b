/**
 * Helpers shared by the graph tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  buildNetworkSpec,
  defineSubgraph,
  type Graph,
  GraphError,
  parseFbp,
  type Problem,
  validateGraph,
} from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { Network } from "../../src/engine/network.ts";
import type { Registry } from "../../src/engine/registry.ts";

export function syntaxProblem(text: string) {
  try {
    parseFbp(text, { file: "t.fbp" });
  } catch (e) {
    assert.ok(e instanceof GraphError, `expected a GraphError, got ${e}`);
    assert.equal(e.problems.length, 1);
    return { problem: e.problems[0], message: e.message };
  }
  assert.fail("expected a GraphError");
}

/** A registry with `my/Scale`: IN -> Scale(math/Scale) -> Log(core/Repeat) -> OUT. */
export function withScale() {
  const registry = testRegistry();
  const inner = parseFbp(`INPORT=Scale.in:IN
INPORT=Scale.factor:FACTOR
OUTPORT=Log.out:OUT
Scale(math/Scale) out -> (4) in Log(core/Repeat)
`);
  registry.register(defineSubgraph("my/Scale", inner, registry));
  return registry;
}

export const registry = testRegistry();

export function problems(graph: Graph): Problem[] {
  return validateGraph(graph, registry);
}

/** The one problem of a graph. */
export function only(graph: Graph): Problem {
  const found = problems(graph);
  assert.equal(found.length, 1, found.map((p) => p.message).join("\n"));
  return found[0];
}

/** 1-based column of the `nth` (0-based) occurrence of `token` in `line`. */
export function colOf(line: string, token: string, nth = 0): number {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = line.indexOf(token, at + 1);
    assert.ok(at >= 0, `"${token}" #${nth} not in ${JSON.stringify(line)}`);
  }
  return at + 1;
}

/** The GraphError a call throws (fails when it throws nothing or else). */
export function graphErrorOf(fn: () => unknown): GraphError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GraphError, `expected a GraphError, got ${e}`);
    return e;
  }
  assert.fail("expected a GraphError");
}

/** Problems as [path, line, col] triples. */
export function where(problems: readonly Problem[]): unknown[] {
  return problems.map((p) => [p.path, p.line, p.col]);
}

/** The graph without its source map, for comparisons. */
export function plain(graph: Graph): unknown {
  return JSON.parse(JSON.stringify(graph));
}

/** Reads every value of an exported out-port while the network runs. */
export async function runAndCollect(
  graph: Graph,
  registry: Registry,
  outport: string,
): Promise<unknown[]> {
  const net = new Network(buildNetworkSpec(graph, registry));
  const got: unknown[] = [];
  const reading = (async () => {
    for await (const v of net.output(outport)) got.push(v);
  })();
  await net.start();
  await net.finished;
  await reading;
  return got;
}

export const TWO = `{
  "processes": {
    "A": { "component": "core/Repeat" },
    "B": { "component": "core/Output" }
  },
  "connections": [
    { "src": { "process": "A", "port": "out" }, "tgt": { "process": "B", "port": "in" } }
  ]
}`;
