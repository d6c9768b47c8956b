/**
 * From a graph to the engine's input: validate, resolve components, map
 * weir's settings, flatten subgraphs.
 *
 * @module
 */
import { describeValue } from "../engine/component.ts";
import { Registry } from "../engine/registry.ts";
import type { NetworkSpec } from "../engine/spec.ts";
import type { Graph } from "./graph.ts";
import { GraphError } from "./graph_error.ts";
import { type SourceMap, sourceMapOf } from "./problem.ts";
import { validateFlow } from "./validate.ts";
import { _networkSpecOf } from "./_flatten.ts";

/** Options of {@linkcode buildNetworkSpec}. */
export interface BuildNetworkSpecOptions {
  /**
   * The flow's name (the `flow` label of its metrics). Default the graph's
   * `properties.name`, else `"main"`.
   */
  name?: string;
  /**
   * Positions for problems. Default the source map the parser recorded for
   * this graph (see `sourceMapOf()`).
   */
  sourceMap?: SourceMap;
  /** The largest capacity accepted (see `ValidateOptions`). Default 100,000. */
  maxCapacity?: number;
}

/**
 * Turns a graph into a {@linkcode NetworkSpec}. Validates first and throws a
 * {@linkcode GraphError} holding every problem; then resolves components in
 * the registry, maps connection `metadata.capacity`/`policy` and process
 * `metadata.timeoutMs`/`retry`/`circuitBreaker`/`concurrency` to their
 * fields, IIPs to `initials` (in graph order), exported ports to
 * `inports`/`outports` and `properties.defaultCapacity` to
 * `defaultCapacity`. Port names take the component's spelling (a port
 * matched ignoring case is written as declared).
 *
 * A process whose component is a subgraph (see `defineSubgraph()`) is
 * replaced by the subgraph's processes, named `Process/Inner` (nested:
 * `A/B/C`); connections and IIPs to its ports are rewired to the inner
 * ports they export. A subgraph's own `defaultCapacity` applies to its inner
 * connections. Its `error` out-port, unless its graph exports one named
 * `error`, stands for the `error` out-ports of its inner processes that the
 * subgraph neither connects nor exports (nested subgraphs likewise): a
 * connection from it becomes one connection from each of those. Exporting
 * such a port from the network itself is a problem of `validateFlow()`
 * (so a `GraphError` here) unless it stands for exactly one inner port, as
 * a network's exported port is one.
 *
 * IIPs are delivered in graph order, except that a subgraph's own IIP to a
 * port goes before an IIP that the graph using it sends there (through an
 * exported port): the outer value is the one a control port keeps.
 *
 * An IIP that is a string goes to a `number`, `integer`, `boolean`,
 * `object` or `array` in-port converted by that type, as NoFlo does (IIPs
 * in .fbp text are always strings): `"5"` becomes 5, `"true"` true,
 * `'{"a":1}'` an object. A string that does not stand for a value of the
 * type stays a string (and validation reports it). The graph itself is
 * left as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildNetworkSpec } from "./build.ts";
 * import { parseFbp } from "./parse_fbp.ts";
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
 * const spec = buildNetworkSpec(
 *   parseFbp("A(core/Repeat) out -> (5) in B(core/Repeat)"),
 *   registry,
 *   { name: "demo" },
 * );
 * assert.equal(spec.connections[0].capacity, 5);
 * assert.deepEqual(spec.processes.map((p) => p.name), ["A", "B"]);
 * ```
 */
export function buildNetworkSpec(
  graph: Graph,
  registry: Registry,
  options: BuildNetworkSpecOptions = {},
): NetworkSpec {
  if (!(registry instanceof Registry)) {
    throw new TypeError(
      `Cannot build network: the registry must be a Registry (builtins() or new Registry()), received ${
        describeValue(registry)
      }`,
    );
  }
  if (
    options.name !== undefined &&
    (typeof options.name !== "string" || options.name === "")
  ) {
    throw new TypeError(
      `Cannot build network: name must be a non-empty string, received ${
        describeValue(options.name)
      }`,
    );
  }
  const sourceMap = options.sourceMap ?? sourceMapOf(graph);
  const problems = validateFlow(graph, registry, sourceMap, {
    maxCapacity: options.maxCapacity,
  });
  if (problems.length > 0) {
    throw new GraphError(problems, { file: sourceMap?.file });
  }
  const graphName = graph.properties?.name;
  return _networkSpecOf(
    graph,
    registry,
    options.name ??
      (typeof graphName === "string" && graphName !== "" ? graphName : "main"),
  ).spec;
}
