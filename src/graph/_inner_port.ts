/**
 * Where an in-port of a subgraph leads, through nested subgraphs: shared by
 * validation (one connection per port, required ports) and the build.
 *
 * @module
 */
import type { Component } from "../engine/component.ts";
import { findPort } from "./_ports.ts";
import { isRecord } from "./_validation.ts";
import { subgraphOf } from "./subgraph.ts";

/** The in-port of an inner process that an exported in-port stands for. */
export interface InnerInPort {
  /**
   * The innermost process, named as it is once flattened, relative to the
   * subgraph process: `T`, or `X/R` through a nested subgraph.
   */
  process: string;
  /** The port's name as its component declares it. */
  port: string;
  /** The index it is reached at, if any. */
  index?: number;
  /** The innermost process's component. */
  component: Component;
  /** Edges (not IIPs) inside the subgraphs that already feed it there. */
  edges: number;
}

/**
 * The inner port that in-port `port` (at `index`) of a subgraph component
 * leads to, or `undefined` when `component` is no subgraph or the way in is
 * broken (validation reports that on its own).
 */
export function innerInPort(
  component: Component,
  port: string,
  index?: number,
): InnerInPort | undefined {
  const path: string[] = [];
  const seen = new Set<Component>();
  let edges = 0;
  for (
    let definition = subgraphOf(component);
    definition !== undefined;
    definition = subgraphOf(component)
  ) {
    if (seen.has(component)) return undefined;
    seen.add(component);
    const { graph, registry } = definition;
    const exports = graph.inports;
    if (!isRecord(exports) || !Object.hasOwn(exports, port)) return undefined;
    const ref = exports[port];
    if (
      !isRecord(ref) || typeof ref.process !== "string" ||
      typeof ref.port !== "string"
    ) return undefined;
    const processes = graph.processes;
    if (!isRecord(processes) || !Object.hasOwn(processes, ref.process)) {
      return undefined;
    }
    const process = processes[ref.process];
    const inner = isRecord(process) && typeof process.component === "string"
      ? registry.get(process.component)
      : undefined;
    if (!inner) return undefined;
    const found = findPort(inner.inPorts, ref.port);
    if (!found) return undefined;
    const at = typeof ref.index === "number" ? ref.index : index;
    const connections = Array.isArray(graph.connections)
      ? graph.connections
      : [];
    for (const c of connections as unknown[]) {
      if (
        isRecord(c) && c.src !== undefined && !Object.hasOwn(c, "data") &&
        isRecord(c.tgt) && c.tgt.process === ref.process &&
        typeof c.tgt.port === "string" &&
        findPort(inner.inPorts, c.tgt.port)?.[0] === found[0] &&
        c.tgt.index === at
      ) edges++;
    }
    path.push(ref.process);
    component = inner;
    port = found[0];
    index = at;
  }
  if (path.length === 0) return undefined;
  return { process: path.join("/"), port, index, component, edges };
}
