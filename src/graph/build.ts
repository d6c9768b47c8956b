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
import { type Problem, type SourceMap, sourceMapOf } from "./problem.ts";
import { convertIip } from "./_iip.ts";
import { joinKey, withPosition } from "./_path.ts";
import { findPort } from "./_ports.ts";
import { subgraphOf } from "./subgraph.ts";
import { validateFlow } from "./validate.ts";
import { _allowOf, _restrictRegistry } from "./_allow.ts";

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
 * such a port from the network itself throws a `GraphError` unless it
 * stands for exactly one inner port, as a network's exported port is one.
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
  const flat = _flatten(graph, registry, "", undefined);
  const outports = new Map<string, ExportSpec>();
  const exportProblems: Problem[] = [];
  for (const [name, refs] of flat.outports) {
    if (refs.length === 1) {
      outports.set(name, refs[0]);
      continue;
    }
    const ref = graph.outports![name];
    const gathered = refs.length === 0
      ? "no port at all (the subgraph routes every fault itself)"
      : `the error ports of ${refs.length} inner processes`;
    exportProblems.push(withPosition({
      path: joinKey("outports", name),
      message:
        `exported out-port "${name}" names "${ref.process} ${ref.port}", which stands for ${gathered} of subgraph process "${ref.process}", but a network's exported out-port is one port; connect "${ref.process} ${ref.port}" to a process (e.g. core/Repeat) and export that process's out-port`,
    }, sourceMap));
  }
  if (exportProblems.length > 0) {
    throw new GraphError(exportProblems, { file: sourceMap?.file });
  }
  const graphName = graph.properties?.name;
  const spec: NetworkSpec = {
    name: options.name ??
      (typeof graphName === "string" && graphName !== "" ? graphName : "main"),
    processes: flat.processes,
    connections: flat.connections,
    initials: flat.initials,
    inports: Object.fromEntries(flat.inports),
    outports: Object.fromEntries(outports),
  };
  const defaultCapacity = graph.properties?.defaultCapacity;
  if (defaultCapacity !== undefined) spec.defaultCapacity = defaultCapacity;
  return spec;
}

/** The out-port that receives a process's faults (see `ERROR_PORT`). */
const _ERROR = "error";

/** Exports are Maps: a name like `__proto__` is a key like any other. */
interface _Flat {
  processes: ProcessSpec[];
  connections: ConnectionSpec[];
  initials: InitialSpec[];
  inports: Map<string, PortRef>;
  /** Each exported out-port stands for one port, or several for an `error`. */
  outports: Map<string, PortRef[]>;
  /**
   * The `error` out-ports of inner processes that nothing in the graph
   * routes (no connection from them, no export of them): where a
   * connection from the subgraph's implicit `error` port goes.
   */
  errors: PortRef[];
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
    inports: new Map(),
    outports: new Map(),
    errors: [],
  };
  // The graph's allow list limits its components, and those of its
  // subgraphs (whose own lists narrow further when they flatten).
  const allow = _allowOf(graph.properties);
  if (allow !== undefined) {
    registry = _restrictRegistry(registry, allow).registry;
  }
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

  const inPort = (ref: GraphPortRef) =>
    findPort(components.get(ref.process)!.inPorts, ref.port)!;
  const outPortName = (ref: GraphPortRef) =>
    findPort(components.get(ref.process)!.outPorts, ref.port)![0];
  const resolveIn = (ref: GraphPortRef): PortRef => {
    const port = inPort(ref)[0];
    const inner = subgraphs.get(ref.process);
    if (!inner) return _portRef(`${prefix}${ref.process}`, port, ref.index);
    const exported = inner.inports.get(port)!;
    return _portRef(
      exported.process,
      exported.port,
      exported.index ?? ref.index,
    );
  };
  /** Out-ports are a list: a subgraph's implicit `error` gathers several. */
  const resolveOut = (ref: GraphPortRef): PortRef[] => {
    const port = outPortName(ref);
    const inner = subgraphs.get(ref.process);
    if (!inner) return [_portRef(`${prefix}${ref.process}`, port, ref.index)];
    const exported = inner.outports.get(port);
    if (!exported) return inner.errors.map((error) => ({ ...error }));
    return exported.map((exported) =>
      _portRef(exported.process, exported.port, exported.index ?? ref.index)
    );
  };

  const routed = new Set<string>();
  const inner: _Flat[] = [...subgraphs.values()];
  // A subgraph's own IIPs go first, so that the graph using it overrides
  // them: an IIP to an exported control port must be the value that stays.
  const innerInitials = inner.flatMap((i) => i.initials);
  for (const c of graph.connections ?? []) {
    if (isInitial(c)) {
      const spec = inPort(c.tgt)[1];
      const to = resolveIn(c.tgt);
      for (let k = 0; k < innerInitials.length; k++) {
        if (_samePort(innerInitials[k].to, to)) {
          flat.initials.push(...innerInitials.splice(k--, 1));
        }
      }
      flat.initials.push({ data: convertIip(spec.type, c.data), to });
      continue;
    }
    if (outPortName(c.src) === _ERROR) routed.add(c.src.process);
    const to = resolveIn(c.tgt);
    for (const from of resolveOut(c.src)) {
      const connection: ConnectionSpec = { from, to: { ...to } };
      const capacity = c.metadata?.capacity ?? defaultCapacity;
      if (capacity !== undefined) connection.capacity = capacity;
      if (c.metadata?.policy !== undefined) {
        connection.policy = c.metadata.policy;
      }
      flat.connections.push(connection);
    }
  }
  for (const i of inner) flat.connections.push(...i.connections);
  flat.initials.push(...innerInitials);
  for (const [name, ref] of Object.entries(graph.inports ?? {})) {
    flat.inports.set(name, resolveIn(ref));
  }
  for (const [name, ref] of Object.entries(graph.outports ?? {})) {
    if (outPortName(ref) === _ERROR) routed.add(ref.process);
    flat.outports.set(name, resolveOut(ref));
  }
  for (const [name, component] of components) {
    if (routed.has(name) || !Object.hasOwn(component.outPorts, _ERROR)) {
      continue;
    }
    flat.errors.push(...resolveOut({ process: name, port: _ERROR }));
  }
  return flat;
}

function _samePort(a: PortRef, b: PortRef): boolean {
  return a.process === b.process && a.port === b.port && a.index === b.index;
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
