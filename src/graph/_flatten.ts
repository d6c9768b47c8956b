/**
 * Flattening a valid graph into the engine's spec: subgraph processes
 * replaced by their inner processes, connections rewired through exported
 * ports. Shared by `buildNetworkSpec()` and by validation, which builds
 * what it validated to find what the engine would refuse
 * ({@linkcode buildProblems}).
 *
 * @module
 */
import type { Component } from "../engine/component.ts";
import { Network } from "../engine/network.ts";
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
import type { Problem } from "./problem.ts";
import { convertIip } from "./_iip.ts";
import { joinIndex, joinKey } from "./_path.ts";
import { findPort } from "./_ports.ts";
import { subgraphOf } from "./subgraph.ts";
import { _allowOf, _restrictRegistry } from "./_allow.ts";
import { processProblems } from "./_validate_processes.ts";

/**
 * The engine's spec of a valid graph (see `buildNetworkSpec()`), or the
 * problems that keep it from being one: an exported out-port that stands
 * for the error ports of several inner processes of a subgraph, or none.
 * `origins` tells, for each connection and initial packet of the spec, the
 * graph's path it comes from (`connections[3]`, or `processes.S` for what
 * subgraph process `S` brings).
 */
export function _networkSpecOf(
  graph: Graph,
  registry: Registry,
  name: string,
): {
  spec: NetworkSpec;
  problems: Problem[];
  origins: Map<object, string>;
} {
  const flat = _flatten(graph, registry, "", undefined);
  const outports = new Map<string, ExportSpec>();
  const problems: Problem[] = [];
  for (const [pub, refs] of flat.outports) {
    if (refs.length === 1) {
      outports.set(pub, refs[0]);
      continue;
    }
    const ref = graph.outports![pub];
    const gathered = refs.length === 0
      ? "no port at all (the subgraph routes every fault itself)"
      : `the error ports of ${refs.length} inner processes`;
    problems.push({
      path: joinKey("outports", pub),
      message:
        `exported out-port "${pub}" names "${ref.process} ${ref.port}", which stands for ${gathered} of subgraph process "${ref.process}", but a network's exported out-port is one port; connect "${ref.process} ${ref.port}" to a process (e.g. core/Repeat) and export that process's out-port`,
    });
  }
  const spec: NetworkSpec = {
    name,
    processes: flat.processes,
    connections: flat.connections,
    initials: flat.initials,
    inports: Object.fromEntries(flat.inports),
    outports: Object.fromEntries(outports),
  };
  const defaultCapacity = graph.properties?.defaultCapacity;
  if (defaultCapacity !== undefined) spec.defaultCapacity = defaultCapacity;
  return { spec, problems, origins: flat.origins };
}

/**
 * What building a valid graph would refuse, as problems with the graph's
 * paths: the exported out-ports {@linkcode _networkSpecOf} refuses, then
 * whatever `new Network()` refuses of the spec (it is built, not started:
 * no component's setup runs), then what the components' checks across the
 * flow's processes find ({@linkcode processProblems}). Empty when it finds
 * none of these.
 */
export function buildProblems(graph: Graph, registry: Registry): Problem[] {
  const { spec, problems, origins } = _networkSpecOf(
    graph,
    registry,
    "validation",
  );
  if (problems.length > 0) return problems;
  try {
    new Network(spec);
  } catch (e) {
    const message = (e as Error).message.replace(
      /^Cannot create network "validation": /,
      "",
    );
    return [{ path: _pathOf(message, spec, origins), message }];
  }
  return processProblems(spec);
}

/** The graph's path a message of the engine's wiring names, else `$`. */
function _pathOf(
  message: string,
  spec: NetworkSpec,
  origins: Map<object, string>,
): string {
  let m = /^(connection|initial packet) (\d+)\b/.exec(message);
  if (m !== null) {
    const list: object[] = m[1] === "connection"
      ? spec.connections
      : spec.initials ?? [];
    return origins.get(list[Number(m[2])]) ?? "$";
  }
  m = /^exported (in|out)-port "((?:[^"\\]|\\.)*)"/.exec(message);
  if (m !== null) return joinKey(`${m[1]}ports`, JSON.parse(`"${m[2]}"`));
  // An inner process of a subgraph is the subgraph process's, outside.
  m = /\bprocess(?: name)? "((?:[^"\\]|\\.)*)"/.exec(message);
  if (m !== null) {
    return joinKey("processes", JSON.parse(`"${m[1]}"`).split("/")[0]);
  }
  m = /^component (\S+) has no process function/.exec(message);
  if (m !== null) {
    const p = spec.processes.find((p) => p.component.name === m![1]);
    if (p !== undefined) return joinKey("processes", p.name.split("/")[0]);
  }
  return "$";
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
  /** Each connection's and initial packet's path in this graph. */
  origins: Map<object, string>;
}

/**
 * Flattens a valid graph; `prefix` names its processes, `defaultCapacity`
 * (when set) goes to each of its connections that sets no capacity.
 */
export function _flatten(
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
    origins: new Map(),
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
      // What the subgraph brings is, in this graph, its process's.
      for (const item of inner.origins.keys()) {
        flat.origins.set(item, joinKey("processes", name));
      }
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
  for (const [i, c] of (graph.connections ?? []).entries()) {
    const path = joinIndex("connections", i);
    if (isInitial(c)) {
      const spec = inPort(c.tgt)[1];
      const to = resolveIn(c.tgt);
      for (let k = 0; k < innerInitials.length; k++) {
        if (_samePort(innerInitials[k].to, to)) {
          flat.initials.push(...innerInitials.splice(k--, 1));
        }
      }
      const initial = { data: convertIip(spec.type, c.data), to };
      flat.origins.set(initial, path);
      flat.initials.push(initial);
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
      flat.origins.set(connection, path);
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
