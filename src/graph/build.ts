/**
 * From a graph to the engine's input: validate, resolve components, map
 * weir's settings, flatten subgraphs.
 *
 * @module
 */
import type { Component } from "../engine/component.ts";
import { describeValue } from "../engine/component.ts";
import type { Registry } from "../engine/registry.ts";
import type {
  ConnectionSpec,
  ExportSpec,
  InitialSpec,
  NetworkSpec,
  PortRef,
  ProcessSpec,
} from "../engine/spec.ts";
import {
  type Graph,
  type GraphPortRef,
  isInitial,
  type ProcessMetadata,
} from "./graph.ts";
import { GraphError } from "./graph_error.ts";
import { type SourceMap, sourceMapOf } from "./problem.ts";
import { findPort } from "./_ports.ts";
import { subgraphOf } from "./subgraph.ts";
import { validateGraph } from "./validate.ts";

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
 * connections.
 *
 * @example
 * ```ts
 * import { buildNetworkSpec } from "./build.ts";
 * import { parseFbp } from "./fbp.ts";
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
 * spec.connections[0].capacity; // 5
 * ```
 */
export function buildNetworkSpec(
  graph: Graph,
  registry: Registry,
  options: BuildNetworkSpecOptions = {},
): NetworkSpec {
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
  const problems = validateGraph(graph, registry, sourceMap);
  if (problems.length > 0) {
    throw new GraphError(problems, { file: sourceMap?.file });
  }
  const flat = _flatten(graph, registry, "", undefined);
  const graphName = graph.properties?.name;
  const spec: NetworkSpec = {
    name: options.name ??
      (typeof graphName === "string" && graphName !== "" ? graphName : "main"),
    processes: flat.processes,
    connections: flat.connections,
    initials: flat.initials,
    inports: flat.inports,
    outports: flat.outports,
  };
  const defaultCapacity = graph.properties?.defaultCapacity;
  if (defaultCapacity !== undefined) spec.defaultCapacity = defaultCapacity;
  return spec;
}

interface _Flat {
  processes: ProcessSpec[];
  connections: ConnectionSpec[];
  initials: InitialSpec[];
  inports: Record<string, ExportSpec>;
  outports: Record<string, ExportSpec>;
}

/**
 * Flattens a valid graph; `prefix` names its processes, `defaultCapacity`
 * (when set) goes to each of its connections that sets no capacity.
 */
function _flatten(
  graph: Graph,
  registry: Registry,
  prefix: string,
  defaultCapacity: number | undefined,
): _Flat {
  const flat: _Flat = {
    processes: [],
    connections: [],
    initials: [],
    inports: {},
    outports: {},
  };
  const components = new Map<string, Component>();
  const subgraphs = new Map<string, _Flat>();
  for (const [name, process] of Object.entries(graph.processes ?? {})) {
    const component = registry.get(process.component)!;
    components.set(name, component);
    const definition = subgraphOf(component);
    if (definition) {
      const inner = _flatten(
        definition.graph,
        definition.registry,
        `${prefix}${name}/`,
        definition.graph.properties?.defaultCapacity ?? defaultCapacity,
      );
      subgraphs.set(name, inner);
      flat.processes.push(...inner.processes);
    } else {
      flat.processes.push(
        _processSpec(`${prefix}${name}`, component, process.metadata),
      );
    }
  }

  const resolve = (ref: GraphPortRef, dir: "in" | "out"): PortRef => {
    const component = components.get(ref.process)!;
    const ports = dir === "in" ? component.inPorts : component.outPorts;
    const port = findPort(ports, ref.port)![0];
    const inner = subgraphs.get(ref.process);
    if (inner) {
      const exported = (dir === "in" ? inner.inports : inner.outports)[port];
      return _portRef(
        exported.process,
        exported.port,
        exported.index ?? ref.index,
      );
    }
    return _portRef(`${prefix}${ref.process}`, port, ref.index);
  };

  for (const c of graph.connections ?? []) {
    if (isInitial(c)) {
      flat.initials.push({ data: c.data, to: resolve(c.tgt, "in") });
      continue;
    }
    const connection: ConnectionSpec = {
      from: resolve(c.src, "out"),
      to: resolve(c.tgt, "in"),
    };
    const capacity = c.metadata?.capacity ?? defaultCapacity;
    if (capacity !== undefined) connection.capacity = capacity;
    if (c.metadata?.policy !== undefined) connection.policy = c.metadata.policy;
    flat.connections.push(connection);
  }
  for (const inner of subgraphs.values()) {
    flat.connections.push(...inner.connections);
    flat.initials.push(...inner.initials);
  }
  for (const [name, ref] of Object.entries(graph.inports ?? {})) {
    flat.inports[name] = resolve(ref, "in");
  }
  for (const [name, ref] of Object.entries(graph.outports ?? {})) {
    flat.outports[name] = resolve(ref, "out");
  }
  return flat;
}

function _portRef(process: string, port: string, index?: number): PortRef {
  return index === undefined ? { process, port } : { process, port, index };
}

function _processSpec(
  name: string,
  component: Component,
  metadata: ProcessMetadata | undefined,
): ProcessSpec {
  const spec: ProcessSpec = { name, component };
  if (metadata === undefined) return spec;
  spec.metadata = { ...metadata };
  const { timeoutMs, retry, circuitBreaker, concurrency } = metadata;
  if (timeoutMs !== undefined) spec.timeoutMs = timeoutMs;
  if (retry !== undefined) {
    spec.retry = { attempts: retry.attempts, backoffMs: retry.backoffMs };
  }
  if (circuitBreaker !== undefined) {
    spec.circuitBreaker = {
      failureThreshold: circuitBreaker.failureThreshold,
      resetTimeoutMs: circuitBreaker.resetTimeoutMs,
    };
  }
  if (concurrency !== undefined) spec.concurrency = concurrency;
  return spec;
}
