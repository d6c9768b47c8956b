/**
 * The graph model: NoFlo's fbp-graph JSON, with weir's settings inside
 * `properties` and `metadata` so NoFlo tools still read weir graphs.
 *
 * Every interface keeps an index signature: fields weir does not know are
 * part of the graph and survive a load and save.
 *
 * @module
 */
import type {
  CircuitBreakerSpec,
  OverflowPolicy,
  RetrySpec,
} from "../engine/spec.ts";

/** One end of a connection: a port of a process, with an optional index. */
export interface GraphPortRef {
  /** The process's name in the graph. */
  process: string;
  /** The port's name. */
  port: string;
  /** Index on an addressable (array) port. */
  index?: number;
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/** weir's settings of a process, kept in its `metadata`. */
export interface ProcessMetadata {
  /** Fails an async activation that has not settled in this many ms. */
  timeoutMs?: number;
  /** Retries a failed activation. */
  retry?: RetrySpec;
  /** Stops calling a failing process for a while. */
  circuitBreaker?: CircuitBreakerSpec;
  /** Activations in flight at once; overrides the component's. */
  concurrency?: number;
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/** A process: an instance of a component. */
export interface GraphProcess {
  /** The component's catalogue name (e.g. `core/Repeat`). */
  component: string;
  /** Component options, weir settings and editor data (`x`, `y`, `label`). */
  metadata?: ProcessMetadata;
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/** weir's settings of a connection, kept in its `metadata`. */
export interface ConnectionMetadata {
  /** Buffer size, a positive integer; default the graph's `defaultCapacity`. */
  capacity?: number;
  /** What a full buffer does with one more message; default `"block"`. */
  policy?: OverflowPolicy;
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/** A connection from an out-port to an in-port. */
export interface GraphEdge {
  /** The out-port the messages come from. */
  src: GraphPortRef;
  /** The in-port they go to. */
  tgt: GraphPortRef;
  /** weir's connection settings and editor data. */
  metadata?: ConnectionMetadata;
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/**
 * An initial information packet (IIP): a value delivered to an in-port
 * before the first message. In JSON it is any JSON value; a graph built in
 * code may hold any JavaScript value (e.g. a function). A string to a
 * `number`, `integer`, `boolean`, `object` or `array` port is delivered
 * converted by that type when it stands for such a value (see
 * `buildNetworkSpec()`); `data` itself keeps what the graph says.
 */
export interface GraphInitial {
  /** The value delivered. */
  data: unknown;
  /** The in-port it is delivered to. */
  tgt: GraphPortRef;
  /** Editor data; weir reads none. */
  metadata?: Record<string, unknown>;
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/** An entry of `connections`: an edge or an IIP. */
export type GraphConnection = GraphEdge | GraphInitial;

/** A port of the graph, exported from a port of one of its processes. */
export interface GraphExport {
  /** The process whose port is exported. */
  process: string;
  /** The port's name on that process. */
  port: string;
  /** Index on an addressable port. */
  index?: number;
  /** Editor data; weir reads none. */
  metadata?: Record<string, unknown>;
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/** A named group of processes (an editor feature; weir keeps it as is). */
export interface GraphGroup {
  /** The group's name. */
  name: string;
  /** The names of the processes in it. */
  nodes: string[];
  /** Editor data; weir reads none. */
  metadata?: Record<string, unknown>;
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/** Graph-wide properties. */
export interface GraphProperties {
  /** The flow's name (`# @name` in the .fbp DSL). */
  name?: string;
  /** Capacity of connections that set none; a positive integer, default 10. */
  defaultCapacity?: number;
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/** The top-level keys of fbp-graph JSON, in its schema's order. */
export const GRAPH_KEYS: readonly string[] = [
  "caseSensitive",
  "properties",
  "inports",
  "outports",
  "groups",
  "processes",
  "connections",
];

/**
 * A graph in NoFlo's fbp-graph JSON shape.
 *
 * A graph read from text has not been checked: use `validateGraph()` (or
 * `buildNetworkSpec()`, which validates) before trusting its shape.
 */
export interface Graph {
  /** NoFlo: whether port names keep their case; weir matches ports case-insensitively when no exact match exists. */
  caseSensitive?: boolean;
  /** Graph-wide properties (`name`, `defaultCapacity`, ...). */
  properties?: GraphProperties;
  /** The graph's in-ports, by public name. */
  inports?: Record<string, GraphExport>;
  /** The graph's out-ports, by public name. */
  outports?: Record<string, GraphExport>;
  /** Groups of processes (an editor feature). */
  groups?: GraphGroup[];
  /** The processes, by name. */
  processes?: Record<string, GraphProcess>;
  /** Edges and IIPs, in order (IIPs are delivered in this order). */
  connections?: GraphConnection[];
  /** Fields weir does not know, kept as they are. */
  [key: string]: unknown;
}

/**
 * Whether a connection is an IIP (it has a `data` field) rather than an edge.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isInitial } from "./graph.ts";
 *
 * const tgt = { process: "Tick", port: "interval" };
 * assert.equal(isInitial({ data: "1s", tgt }), true);
 * assert.equal(isInitial({ src: { process: "A", port: "out" }, tgt }), false);
 * ```
 */
export function isInitial(
  connection: GraphConnection,
): connection is GraphInitial {
  return Object.hasOwn(connection, "data");
}
