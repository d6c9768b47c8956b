/**
 * Subgraphs: a graph used as a component of another graph.
 *
 * @module
 */
import {
  type Component,
  defineComponent,
  describeValue,
  type InPortSpec,
  type OutPortSpec,
} from "../engine/component.ts";
import { _allowOf, _restrictRegistry } from "./_allow.ts";
import type { Registry } from "../engine/registry.ts";
import type { Graph, GraphExport } from "./graph.ts";
import { GraphError } from "./graph_error.ts";
import { type Problem, sourceMapOf } from "./problem.ts";
import { joinKey, withPosition } from "./_path.ts";
import { findPort } from "./_ports.ts";

/** What a subgraph component stands for. */
export interface SubgraphDefinition {
  /** The inner graph (kept by reference, not copied). */
  graph: Graph;
  /** The registry the inner graph's components are looked up in. */
  registry: Registry;
}

const _subgraphs = new WeakMap<Component, SubgraphDefinition>();

/** Options of {@linkcode defineSubgraph}. */
export interface DefineSubgraphOptions {
  /** Catalogue sentence. Default the graph's `properties.description`, else `Subgraph "<name>".` */
  description?: string;
}

/**
 * Defines a component that stands for a graph. Its in-ports are the graph's
 * exported `inports`, its out-ports the exported `outports`, each with the
 * spec (type, required, parse, ...) of the inner port it exports; an
 * exported port with an `index` is not addressable, and one that the graph
 * already feeds (with an IIP or a connection) is not required. Like every component it
 * has an `error` out-port: the graph's exported `error` when it has one,
 * else one that `buildNetworkSpec()` connects from the `error` out-port of
 * each inner process that the graph neither connects nor exports, so that
 * `Sub error -> in Log` receives the faults the subgraph leaves unhandled.
 *
 * `buildNetworkSpec()` replaces each process of this component by the inner
 * processes, named `Outer/Inner`, and rewires connections through the
 * exported ports; the component's `process` only throws, as it never runs.
 * Only the exported ports are checked here (their processes must be in the
 * registry already); the rest of the inner graph is checked when a graph
 * using it is validated, so subgraphs may use components registered later.
 *
 * Throws a `GraphError` when an exported port names an unknown process or
 * port, and a `TypeError` when a name is not a valid component or port name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineSubgraph } from "./subgraph.ts";
 * import { GraphBuilder } from "./graph_builder.ts";
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
 * const twice = new GraphBuilder("twice")
 *   .process("A", "core/Repeat").process("B", "core/Repeat")
 *   .connect("A", "out", "B", "in")
 *   .inport("in", "A", "in").outport("out", "B", "out")
 *   .build();
 * const component = defineSubgraph("my/Twice", twice, registry);
 * registry.register(component);
 * assert.deepEqual(Object.keys(component.inPorts), ["in"]);
 * assert.deepEqual(Object.keys(component.outPorts), ["out", "error"]);
 * ```
 */
export function defineSubgraph(
  name: string,
  graph: Graph,
  registry: Registry,
  options: DefineSubgraphOptions = {},
): Component {
  if (graph === null || typeof graph !== "object" || Array.isArray(graph)) {
    throw new TypeError(
      `Cannot define subgraph "${name}": expected a graph object, received ${
        describeValue(graph)
      }`,
    );
  }
  // The subgraph's own allow list limits its processes wherever it is
  // used (a flow's list narrows them further); its exported ports take
  // their specs, and so their checks, from the limited components.
  const allow = _allowOf(graph.properties);
  if (allow !== undefined) {
    registry = _restrictRegistry(registry, allow).registry;
  }
  const problems: Problem[] = [];
  const inPorts = new Map<string, InPortSpec>();
  const outPorts = new Map<string, OutPortSpec>();
  for (const kind of ["inports", "outports"] as const) {
    const exports = graph[kind] ?? {};
    if (exports === null || typeof exports !== "object") {
      problems.push({ path: kind, message: `${kind} must be an object` });
      continue;
    }
    for (const [pub, ref] of Object.entries(exports)) {
      const path = joinKey(kind, pub);
      const spec = _exportedSpec(
        graph,
        registry,
        kind,
        pub,
        ref,
        path,
        problems,
      );
      if (!spec) continue;
      if (kind === "inports") inPorts.set(pub, spec);
      else outPorts.set(pub, spec);
    }
  }
  if (problems.length > 0) {
    const sourceMap = sourceMapOf(graph);
    throw new GraphError(problems.map((p) => withPosition(p, sourceMap)), {
      file: sourceMap?.file,
      action: `Cannot define subgraph "${name}"`,
    });
  }
  const properties = graph.properties ?? {};
  const component: Component = defineComponent({
    name,
    description: options.description ??
      (typeof properties.description === "string"
        ? properties.description
        : `Subgraph "${name}".`),
    inPorts: Object.fromEntries(inPorts),
    outPorts: Object.fromEntries(outPorts),
    process() {
      throw new Error(
        `Component "${name}" is a subgraph: buildNetworkSpec() replaces it by its processes, so it never runs as one process`,
      );
    },
  });
  _subgraphs.set(component, { graph, registry });
  return component;
}

/**
 * The graph a subgraph component stands for, or `undefined` for an
 * ordinary component.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { subgraphOf } from "./subgraph.ts";
 * import { defineComponent } from "../engine/component.ts";
 *
 * const plain = defineComponent({ name: "a/B", description: "", process() {} });
 * assert.equal(subgraphOf(plain), undefined);
 * ```
 */
export function subgraphOf(
  component: Component,
): SubgraphDefinition | undefined {
  return _subgraphs.get(component);
}

function _exportedSpec(
  graph: Graph,
  registry: Registry,
  kind: "inports" | "outports",
  pub: string,
  ref: GraphExport | undefined,
  path: string,
  problems: Problem[],
): InPortSpec | OutPortSpec | undefined {
  const dir = kind === "inports" ? "in" : "out";
  if (pub === "__proto__") {
    // A component's port table is a plain object, where this name would
    // set the prototype instead of adding a port.
    problems.push({
      path,
      message:
        `exported ${dir}-port "__proto__" cannot be a port name (it is JavaScript's prototype key); rename it`,
    });
    return undefined;
  }
  if (
    ref === null || typeof ref !== "object" ||
    typeof ref.process !== "string" ||
    typeof ref.port !== "string"
  ) {
    problems.push({
      path,
      message:
        `exported ${dir}-port "${pub}" must be { "process": ..., "port": ... }`,
    });
    return undefined;
  }
  const process = graph.processes?.[ref.process];
  if (!process || !Object.hasOwn(graph.processes ?? {}, ref.process)) {
    problems.push({
      path: joinKey(path, "process"),
      message:
        `exported ${dir}-port "${pub}" names unknown process "${ref.process}"`,
    });
    return undefined;
  }
  const component = typeof process.component === "string"
    ? registry.get(process.component)
    : undefined;
  if (!component) {
    problems.push({
      path: joinKey(path, "process"),
      message:
        `exported ${dir}-port "${pub}" is on process "${ref.process}", whose component ${
          JSON.stringify(process.component)
        } is not registered (register it before defining the subgraph)`,
    });
    return undefined;
  }
  const ports = dir === "in" ? component.inPorts : component.outPorts;
  const found = findPort(ports, ref.port);
  if (!found) {
    problems.push({
      path: joinKey(path, "port"),
      message:
        `exported ${dir}-port "${pub}" names ${dir}-port "${ref.port}", which "${ref.process}" (${component.name}) does not have; its ${dir}-ports: ${
          Object.keys(ports).join(", ") || "none"
        }`,
    });
    return undefined;
  }
  const spec = { ...found[1] };
  if (ref.index !== undefined) spec.addressable = false;
  if (dir === "in" && (spec as InPortSpec).required) {
    // A port the inner graph already feeds (an IIP, a connection) needs
    // nothing more from outside.
    const connections: unknown[] = Array.isArray(graph.connections)
      ? graph.connections
      : [];
    const fed = connections.some((c) => {
      if (c === null || typeof c !== "object") return false;
      const tgt = (c as { tgt?: unknown }).tgt as Record<string, unknown>;
      return tgt !== null && typeof tgt === "object" &&
        tgt.process === ref.process && typeof tgt.port === "string" &&
        findPort(ports, tgt.port)?.[0] === found[0];
    });
    if (fed) (spec as InPortSpec).required = false;
  }
  return spec;
}
