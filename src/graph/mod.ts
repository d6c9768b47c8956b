/**
 * weir's graph layer: the fbp-graph JSON model, the .fbp DSL (with
 * Morrison's `-> (N)` capacities), validation that reports every problem
 * with a path and line:col, and the build step that turns a graph into the
 * engine's `NetworkSpec`, flattening subgraphs.
 *
 * Names: any name a format allows is kept, `__proto__` and `constructor`
 * included. `parseFbp()`, `parseGraphJson()` and `GraphBuilder` all make
 * it an own property of the graph like any other name, and no input ever
 * changes `Object.prototype`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildNetworkSpec, loadGraph } from "./mod.ts";
 * import { Registry } from "../engine/registry.ts";
 * import { defineComponent } from "../engine/component.ts";
 *
 * const registry = new Registry().register(defineComponent({
 *   name: "core/Repeat",
 *   description: "Sends what it receives.",
 *   inPorts: { in: {} },
 *   outPorts: { out: {} },
 *   process(value, ctx) { ctx.send("out", value); },
 * }));
 * const graph = loadGraph(
 *   "'hello' -> in A(core/Repeat) out -> (50) in B(core/Repeat)",
 * );
 * // Throws a GraphError listing every problem, if any:
 * const spec = buildNetworkSpec(graph, registry, { name: "demo" });
 * assert.equal(spec.connections[0].capacity, 50);
 * ```
 *
 * @module
 */
export type {
  ConnectionMetadata,
  Graph,
  GraphConnection,
  GraphEdge,
  GraphExport,
  GraphGroup,
  GraphInitial,
  GraphPortRef,
  GraphProcess,
  GraphProperties,
  ProcessMetadata,
} from "./graph.ts";
export { isInitial } from "./graph.ts";
export {
  type ConnectOptions,
  GraphBuilder,
  type GraphBuilderOptions,
  type PortOptions,
} from "./graph_builder.ts";
export { GraphError, type GraphErrorOptions } from "./graph_error.ts";
export {
  parseGraphJson,
  type ParseGraphJsonOptions,
} from "./parse_graph_json.ts";
export {
  stringifyGraph,
  type StringifyGraphOptions,
} from "./stringify_graph.ts";
export { parseFbp, type ParseFbpOptions } from "./parse_fbp.ts";
export { toFbp, type ToFbpOptions } from "./to_fbp.ts";
export {
  type GraphFormat,
  loadGraph,
  type LoadGraphOptions,
} from "./load_graph.ts";
export {
  formatProblem,
  type Position,
  type Problem,
  sortProblems,
  type SourceMap,
  sourceMapOf,
} from "./problem.ts";
export {
  validateFlow,
  validateGraph,
  type ValidateOptions,
} from "./validate.ts";
export { buildNetworkSpec, type BuildNetworkSpecOptions } from "./build.ts";
export {
  defineSubgraph,
  type DefineSubgraphOptions,
  type SubgraphDefinition,
  subgraphOf,
} from "./subgraph.ts";
