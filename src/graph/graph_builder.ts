/**
 * Writing a graph in code.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { describeValue } from "../engine/component.ts";
import { OVERFLOW_POLICIES, type OverflowPolicy } from "../engine/spec.ts";
import type {
  ConnectionMetadata,
  Graph,
  GraphConnection,
  GraphEdge,
  GraphExport,
  GraphGroup,
  GraphPortRef,
  GraphProcess,
  ProcessMetadata,
} from "./graph.ts";
import { isInitial } from "./graph.ts";

/** Options of {@linkcode GraphBuilder.connect}. */
export interface ConnectOptions {
  /** Buffer size (`metadata.capacity`). Default: the graph's `defaultCapacity`. */
  capacity?: number;
  /** Overflow policy (`metadata.policy`). Default `"block"`. */
  policy?: OverflowPolicy;
  /** Index on an addressable out-port. */
  srcIndex?: number;
  /** Index on an addressable in-port. */
  tgtIndex?: number;
  /** Further connection metadata, kept as is. */
  metadata?: Record<string, unknown>;
}

/** Options of {@linkcode GraphBuilder.initial} and the export methods. */
export interface PortOptions {
  /** Index on an addressable port. */
  index?: number;
  /** Metadata, kept as is. */
  metadata?: Record<string, unknown>;
}

const _CONNECT_OPTIONS = optionKeys<ConnectOptions>()([
  "capacity",
  "policy",
  "srcIndex",
  "tgtIndex",
  "metadata",
]);
const _PORT_OPTIONS = optionKeys<PortOptions>()(["index", "metadata"]);

/** Options of the {@linkcode GraphBuilder} constructor. */
export interface GraphBuilderOptions {
  /** Capacity of connections that set none (`properties.defaultCapacity`). Default 10 (the engine's). */
  defaultCapacity?: number;
  /** Further graph properties, kept as is. */
  properties?: Record<string, unknown>;
}

const _BUILDER_OPTIONS = optionKeys<GraphBuilderOptions>()([
  "defaultCapacity",
  "properties",
]);

/**
 * Builds a graph in code. Each method checks its own arguments and returns
 * the builder; whole-graph checks (unknown processes, ports, components)
 * are `validateGraph()`'s job. IIP data may be any JavaScript value, a
 * function included (such a graph cannot be saved as JSON or .fbp).
 *
 * Any non-empty string is a name, `__proto__` and `constructor` included:
 * as in `parseFbp()` and `parseGraphJson()`, such a name becomes an own
 * property of the built graph like any other, and never reaches
 * `Object.prototype`. Metadata and properties are deep-copied (plain
 * objects and arrays), on the way in and in each `build()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphBuilder } from "./graph_builder.ts";
 *
 * const graph = new GraphBuilder("demo")
 *   .process("Tick", "core/Interval")
 *   .process("Log", "core/Output", { timeoutMs: 500 })
 *   .initial("1s", "Tick", "interval")
 *   .connect("Tick", "out", "Log", "in", { capacity: 50 })
 *   .build();
 * assert.equal(graph.connections?.length, 2);
 * assert.deepEqual(graph.connections?.[1].metadata, { capacity: 50 });
 * ```
 */
export class GraphBuilder {
  // Maps, not objects: a name like __proto__ is a key like any other.
  #properties = new Map<string, unknown>();
  #processes = new Map<string, GraphProcess>();
  #connections: GraphConnection[] = [];
  #inports = new Map<string, GraphExport>();
  #outports = new Map<string, GraphExport>();
  #groups: GraphGroup[] = [];

  /** Starts a graph; `name` becomes `properties.name` (the flow's name). */
  constructor(name?: string, options: GraphBuilderOptions = {}) {
    checkOptionKeys("Cannot create graph", options, _BUILDER_OPTIONS);
    if (options.properties !== undefined) {
      _record("Cannot create graph", "properties", options.properties);
      for (const [key, value] of Object.entries(options.properties)) {
        this.#properties.set(key, _copy(value));
      }
    }
    if (name !== undefined) {
      _name("Cannot create graph", "name", name);
      this.#properties.set("name", name);
    }
    if (options.defaultCapacity !== undefined) {
      _capacity(
        "Cannot create graph",
        "defaultCapacity",
        options.defaultCapacity,
      );
      this.#properties.set("defaultCapacity", options.defaultCapacity);
    }
  }

  /** Adds a process of a component; a name already taken throws. */
  process(name: string, component: string, metadata?: ProcessMetadata): this {
    const where = `Cannot add process "${name}"`;
    _name(where, "name", name);
    _name(where, "component", component);
    if (this.#processes.has(name)) {
      throw new Error(`${where}: the graph already has a process of that name`);
    }
    const process: GraphProcess = { component };
    if (metadata !== undefined) {
      _record(where, "metadata", metadata);
      process.metadata = _copy(metadata);
    }
    this.#processes.set(name, process);
    return this;
  }

  /** Connects an out-port to an in-port. */
  connect(
    srcProcess: string,
    srcPort: string,
    tgtProcess: string,
    tgtPort: string,
    options: ConnectOptions = {},
  ): this {
    const where =
      `Cannot connect "${srcProcess}" ${srcPort} -> ${tgtPort} "${tgtProcess}"`;
    checkOptionKeys(where, options, _CONNECT_OPTIONS);
    let metadata: ConnectionMetadata = {};
    if (options.metadata !== undefined) {
      _record(where, "metadata", options.metadata);
      metadata = _copy(options.metadata);
    }
    if (options.capacity !== undefined) {
      _capacity(where, "capacity", options.capacity);
      metadata.capacity = options.capacity;
    }
    if (options.policy !== undefined) {
      if (!OVERFLOW_POLICIES.includes(options.policy)) {
        throw new RangeError(
          `${where}: policy must be one of ${
            OVERFLOW_POLICIES.join(", ")
          }, received ${describeValue(options.policy)}`,
        );
      }
      metadata.policy = options.policy;
    }
    const connection: GraphConnection = {
      src: _ref(where, srcProcess, srcPort, options.srcIndex),
      tgt: _ref(where, tgtProcess, tgtPort, options.tgtIndex),
    };
    if (Object.keys(metadata).length > 0) connection.metadata = metadata;
    this.#connections.push(connection);
    return this;
  }

  /** Adds an initial packet (IIP) for an in-port; `data` may be any value. */
  initial(
    data: unknown,
    process: string,
    port: string,
    options: PortOptions = {},
  ): this {
    const where = `Cannot add an IIP for ${port} "${process}"`;
    checkOptionKeys(where, options, _PORT_OPTIONS);
    const connection: GraphConnection = {
      data,
      tgt: _ref(where, process, port, options.index),
    };
    if (options.metadata !== undefined) {
      _record(where, "metadata", options.metadata);
      connection.metadata = _copy(options.metadata);
    }
    this.#connections.push(connection);
    return this;
  }

  /** Exports an in-port of a process as the graph's in-port `name`. */
  inport(
    name: string,
    process: string,
    port: string,
    options: PortOptions = {},
  ): this {
    this.#inports.set(
      name,
      this.#export("inport", name, process, port, options),
    );
    return this;
  }

  /** Exports an out-port of a process as the graph's out-port `name`. */
  outport(
    name: string,
    process: string,
    port: string,
    options: PortOptions = {},
  ): this {
    this.#outports.set(
      name,
      this.#export("outport", name, process, port, options),
    );
    return this;
  }

  /** Adds a group of processes (an editor feature). */
  group(
    name: string,
    nodes: string[],
    metadata?: Record<string, unknown>,
  ): this {
    const where = `Cannot add group "${name}"`;
    _name(where, "name", name);
    if (!Array.isArray(nodes) || !nodes.every((n) => typeof n === "string")) {
      throw new TypeError(`${where}: nodes must be an array of process names`);
    }
    const group: GraphGroup = { name, nodes: [...nodes] };
    if (metadata !== undefined) {
      _record(where, "metadata", metadata);
      group.metadata = _copy(metadata);
    }
    this.#groups.push(group);
    return this;
  }

  /** Sets a graph property. */
  property(key: string, value: unknown): this {
    _name("Cannot set graph property", "key", key);
    if (key === "defaultCapacity") {
      _capacity("Cannot set graph property", "defaultCapacity", value);
    }
    this.#properties.set(key, _copy(value));
    return this;
  }

  /**
   * The graph so far, as a fresh plain object that shares nothing with the
   * builder or with other built graphs (later calls do not change it); IIP
   * data is shared, not copied.
   */
  build(): Graph {
    const copyRef = (r: GraphPortRef): GraphPortRef => ({ ...r });
    return {
      caseSensitive: true,
      properties: _fromMap(this.#properties, _copy),
      inports: _fromMap(this.#inports, (e) => _copyMeta({ ...e })),
      outports: _fromMap(this.#outports, (e) => _copyMeta({ ...e })),
      groups: this.#groups.map((g) => _copyMeta({ ...g, nodes: [...g.nodes] })),
      processes: _fromMap(this.#processes, (p) => _copyMeta({ ...p })),
      connections: this.#connections.map((c) => {
        const copy: GraphConnection = { ...c, tgt: copyRef(c.tgt) };
        if (!isInitial(c)) (copy as GraphEdge).src = copyRef(c.src);
        return _copyMeta(copy);
      }),
    };
  }

  #export(
    kind: string,
    name: string,
    process: string,
    port: string,
    options: PortOptions,
  ): GraphExport {
    const where = `Cannot export ${kind} "${name}"`;
    checkOptionKeys(where, options, _PORT_OPTIONS);
    _name(where, "name", name);
    const ref: GraphExport = _ref(where, process, port, options.index);
    if (options.metadata !== undefined) {
      _record(where, "metadata", options.metadata);
      ref.metadata = { ...options.metadata };
    }
    return ref;
  }
}

function _name(where: string, what: string, value: unknown): void {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `${where}: ${what} must be a non-empty string, received ${
        describeValue(value)
      }`,
    );
  }
}

function _record(where: string, what: string, value: unknown): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `${where}: ${what} must be an object, received ${describeValue(value)}`,
    );
  }
}

function _capacity(where: string, what: string, value: unknown): void {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new RangeError(
      `${where}: ${what} must be a positive integer, received ${
        describeValue(value)
      }`,
    );
  }
}

function _ref(
  where: string,
  process: string,
  port: string,
  index: number | undefined,
): GraphPortRef {
  _name(where, "process", process);
  _name(where, "port", port);
  if (index === undefined) return { process, port };
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(
      `${where}: a port index must be a non-negative integer, received ${
        describeValue(index)
      }`,
    );
  }
  return { process, port, index };
}

function _copyMeta<T extends { metadata?: unknown }>(value: T): T {
  if (value.metadata !== undefined) value.metadata = _copy(value.metadata);
  return value;
}

/** An object of the map's entries (Object.fromEntries: __proto__ is a key). */
function _fromMap<T>(
  map: ReadonlyMap<string, T>,
  f: (value: T) => T,
): Record<string, T> {
  return Object.fromEntries([...map].map(([k, v]) => [k, f(v)]));
}

/**
 * A deep copy of plain objects and arrays (cycles kept as cycles); other
 * values (functions, class instances) are shared.
 */
function _copy<T>(value: T, seen = new Map<object, unknown>()): T {
  if (value === null || typeof value !== "object") return value;
  const done = seen.get(value);
  if (done !== undefined) return done as T;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const v of value) out.push(_copy(v, seen));
    return out as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, {
      value: _copy(v, seen),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out as T;
}
