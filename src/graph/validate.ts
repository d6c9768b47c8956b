/**
 * Graph validation: every problem at once, each with its path (and line:col
 * for graphs read from text) and a sentence a user can act on.
 *
 * @module
 */
import {
  checkPortValue,
  type Component,
  describeValue,
  type InPortSpec,
} from "../engine/component.ts";
import { closestName, type Registry } from "../engine/registry.ts";
import { OVERFLOW_POLICIES } from "../engine/spec.ts";
import type { Graph } from "./graph.ts";
import {
  formatProblem,
  type Problem,
  type SourceMap,
  sourceMapOf,
} from "./problem.ts";
import { convertIip } from "./_iip.ts";
import { joinIndex, joinKey, withPosition } from "./_path.ts";
import { findPort } from "./_ports.ts";
import { type InnerInPort, innerInPort } from "./_inner_port.ts";
import { subgraphOf } from "./subgraph.ts";

/**
 * Checks a graph against a registry and returns every problem found (an
 * empty array for a valid graph):
 *
 * - the shape of the graph, its processes, connections and exported ports;
 * - unknown components (with the closest registered name) and unknown
 *   processes and ports (listing the ports there are);
 * - an index on a port that is not addressable;
 * - an in-port with `multiple: false` fed by more than one connection,
 *   counting, for a port inside a subgraph, the connections that reach it
 *   through each of its exports and those of the subgraph itself;
 * - a required in-port with neither a connection, an IIP nor an export (a
 *   subgraph port exported twice is fed through either export);
 * - an IIP whose value fails the port's type or its `parse` function,
 *   once a string is converted by the port's type as the build converts it
 *   (`"5"` to a `number` port is 5; see `buildNetworkSpec()`);
 * - weir settings: `properties.defaultCapacity`, connection
 *   `metadata.capacity` and `metadata.policy`, process `metadata.timeoutMs`,
 *   `retry`, `circuitBreaker` and `concurrency`;
 * - duplicate process names found by the parser (from the source map);
 * - subgraphs: problems of their inner graphs, a subgraph that contains
 *   itself (directly or through others), settings on a subgraph process,
 *   and flattened process names (`Outer/Inner`) that clash with outer ones
 *   or with those of another subgraph process.
 *
 * Problems carry `line` and `col` when the source map has a position for
 * their path (or an enclosing one). The source map defaults to the one the
 * parser recorded for this graph object.
 *
 * @example
 * ```ts
 * import { validateGraph } from "./validate.ts";
 * import { parseFbp } from "./fbp.ts";
 * import { Registry } from "../engine/registry.ts";
 *
 * const problems = validateGraph(parseFbp("'x' -> in A(core/Ouput)"), new Registry());
 * problems[0].path; // "processes.A.component"
 * problems[0].line; // 1
 * ```
 */
export function validateGraph(
  graph: Graph,
  registry: Registry,
  sourceMap: SourceMap | undefined = sourceMapOf(graph),
): Problem[] {
  return new _Validator(graph, registry, sourceMap, new Set()).run();
}

function _isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function _isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

function _isDuration(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function _didYouMean(name: string, candidates: Iterable<string>): string {
  const close = closestName(name, candidates);
  return close === undefined ? "" : `; did you mean "${close}"?`;
}

function _errorMessage(e: unknown): string {
  // A port's parse function may come from a library that throws plain
  // objects with a message (jsonata does; src/expr words those itself).
  if (e !== null && typeof e === "object") {
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  return String(e);
}

function _list(names: string[]): string {
  if (names.length === 0) return "none";
  if (names.length === 1) return names[0];
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

const _SETTINGS = ["timeoutMs", "retry", "circuitBreaker", "concurrency"];

interface _End {
  process: string;
  port: string;
  index?: number;
  spec?: InPortSpec;
  component?: Component;
}

class _Validator {
  readonly #problems: Problem[] = [];
  readonly #graph: Graph;
  readonly #registry: Registry;
  readonly #sourceMap: SourceMap | undefined;
  /** Subgraph components whose inner problems were already reported. */
  readonly #reported: Set<Component>;
  /** Processes by name, with their component when it is known. */
  readonly #components = new Map<string, Component | undefined>();
  /** Subgraph processes whose subgraph contains itself: not flattened. */
  readonly #cyclic = new Set<string>();

  constructor(
    graph: Graph,
    registry: Registry,
    sourceMap: SourceMap | undefined,
    reported: Set<Component>,
  ) {
    this.#graph = graph;
    this.#registry = registry;
    this.#sourceMap = sourceMap;
    this.#reported = reported;
  }

  #add(path: string, message: string): void {
    this.#problems.push({ path: path || "$", message });
  }

  run(): Problem[] {
    const graph: unknown = this.#graph;
    if (!_isRecord(graph)) {
      this.#add(
        "$",
        `a graph must be an object with "processes" and "connections", received ${
          describeValue(graph)
        }`,
      );
      return this.#problems;
    }
    this.#properties(graph.properties);
    this.#processes(graph.processes);
    this.#flatNames();
    const fed = new Set<string>();
    this.#exports(graph.inports, "inports", fed);
    this.#exports(graph.outports, "outports", fed);
    this.#connections(graph.connections, fed);
    this.#required(fed);
    const parsed = this.#sourceMap?.problems ?? [];
    return [...parsed, ...this.#problems].map((p) =>
      withPosition(p, this.#sourceMap)
    );
  }

  #properties(properties: unknown): void {
    if (properties === undefined) return;
    if (!_isRecord(properties)) {
      this.#add(
        "properties",
        `properties must be an object, received ${describeValue(properties)}`,
      );
      return;
    }
    const capacity = properties.defaultCapacity;
    if (capacity !== undefined && !_isPositiveInteger(capacity)) {
      this.#add(
        "properties.defaultCapacity",
        `defaultCapacity must be a positive integer (messages a connection buffers), received ${
          describeValue(capacity)
        }`,
      );
    }
  }

  #processes(processes: unknown): void {
    if (processes === undefined) return;
    if (!_isRecord(processes)) {
      this.#add(
        "processes",
        `processes must be an object of { "Name": { "component": ... } }, received ${
          describeValue(processes)
        }`,
      );
      return;
    }
    for (const [name, process] of Object.entries(processes)) {
      const path = joinKey("processes", name);
      if (name === "") this.#add(path, "a process needs a non-empty name");
      if (!_isRecord(process)) {
        this.#add(
          path,
          `process "${name}" must be an object with a "component", received ${
            describeValue(process)
          }`,
        );
        this.#components.set(name, undefined);
        continue;
      }
      const component = this.#component(name, process.component, path);
      this.#components.set(name, component);
      const metadata = process.metadata;
      if (metadata !== undefined && !_isRecord(metadata)) {
        this.#add(
          joinKey(path, "metadata"),
          `metadata of process "${name}" must be an object, received ${
            describeValue(metadata)
          }`,
        );
      } else if (metadata !== undefined) {
        this.#settings(name, metadata, joinKey(path, "metadata"));
      }
      if (component && subgraphOf(component)) {
        this.#subgraph(name, component, metadata, path);
      }
    }
  }

  #component(
    name: string,
    component: unknown,
    path: string,
  ): Component | undefined {
    const cpath = joinKey(path, "component");
    if (typeof component !== "string" || component === "") {
      this.#add(
        cpath,
        `process "${name}" has no component; name one, e.g. "component": "core/Repeat"`,
      );
      return undefined;
    }
    const found = this.#registry.get(component);
    if (!found) {
      const close = this.#registry.closest(component);
      this.#add(
        cpath,
        `unknown component "${component}" for process "${name}"${
          close === undefined
            ? "; no registered component has a similar name"
            : `; did you mean "${close}"?`
        }`,
      );
    }
    return found;
  }

  #settings(
    name: string,
    metadata: Record<string, unknown>,
    path: string,
  ): void {
    const { timeoutMs, retry, circuitBreaker, concurrency } = metadata;
    if (
      timeoutMs !== undefined &&
      !(typeof timeoutMs === "number" && Number.isFinite(timeoutMs) &&
        timeoutMs > 0)
    ) {
      this.#add(
        joinKey(path, "timeoutMs"),
        `timeoutMs of process "${name}" must be a positive number of milliseconds, received ${
          describeValue(timeoutMs)
        }`,
      );
    }
    if (concurrency !== undefined && !_isPositiveInteger(concurrency)) {
      this.#add(
        joinKey(path, "concurrency"),
        `concurrency of process "${name}" must be a positive integer (activations in flight at once), received ${
          describeValue(concurrency)
        }`,
      );
    }
    if (retry !== undefined) {
      this.#object(name, "retry", retry, joinKey(path, "retry"), {
        attempts: [
          _isPositiveInteger,
          "a positive integer (attempts in all, the first included)",
        ],
        backoffMs: [_isDuration, "a non-negative number of milliseconds"],
      });
    }
    if (circuitBreaker !== undefined) {
      this.#object(
        name,
        "circuitBreaker",
        circuitBreaker,
        joinKey(path, "circuitBreaker"),
        {
          failureThreshold: [
            _isPositiveInteger,
            "a positive integer (consecutive failures that open the breaker)",
          ],
          resetTimeoutMs: [
            _isDuration,
            "a non-negative number of milliseconds",
          ],
        },
      );
    }
  }

  /** Checks a settings object whose fields are all required. */
  #object(
    name: string,
    setting: string,
    value: unknown,
    path: string,
    fields: Record<string, [(v: unknown) => boolean, string]>,
  ): void {
    const example = `{ ${
      Object.keys(fields).map((f) => `"${f}": ...`).join(", ")
    } }`;
    if (!_isRecord(value)) {
      this.#add(
        path,
        `${setting} of process "${name}" must be an object ${example}, received ${
          describeValue(value)
        }`,
      );
      return;
    }
    for (const [field, [ok, what]] of Object.entries(fields)) {
      const v = value[field];
      if (v === undefined) {
        this.#add(
          joinKey(path, field),
          `${setting} of process "${name}" needs "${field}", ${what}`,
        );
      } else if (!ok(v)) {
        this.#add(
          joinKey(path, field),
          `${setting}.${field} of process "${name}" must be ${what}, received ${
            describeValue(v)
          }`,
        );
      }
    }
    for (const field of Object.keys(value)) {
      if (!Object.hasOwn(fields, field)) {
        this.#add(
          joinKey(path, field),
          `${setting} of process "${name}" has an unknown setting "${field}"${
            _didYouMean(field, Object.keys(fields))
          } (it takes ${_list(Object.keys(fields))})`,
        );
      }
    }
  }

  #subgraph(
    name: string,
    component: Component,
    metadata: unknown,
    path: string,
  ): void {
    const cpath = joinKey(path, "component");
    if (_isRecord(metadata)) {
      for (const setting of _SETTINGS) {
        if (metadata[setting] !== undefined) {
          this.#add(
            joinKey(joinKey(path, "metadata"), setting),
            `${setting} does not apply to process "${name}": it is the subgraph "${component.name}", which runs as its inner processes; set ${setting} on those`,
          );
        }
      }
    }
    const cycle = _subgraphCycle(component, [component]);
    if (cycle) {
      this.#cyclic.add(name);
      this.#add(
        cpath,
        `subgraph "${cycle[cycle.length - 1]}" contains itself (${
          cycle.join(" -> ")
        }); a subgraph cannot include itself, directly or through other subgraphs`,
      );
      return;
    }
    const definition = subgraphOf(component)!;
    if (!this.#reported.has(component)) {
      this.#reported.add(component);
      const inner = sourceMapOf(definition.graph);
      const problems = new _Validator(
        definition.graph,
        definition.registry,
        inner,
        this.#reported,
      ).run();
      for (const p of problems) {
        this.#add(
          cpath,
          `subgraph "${component.name}" has a problem: ${
            formatProblem(p, inner?.file)
          }`,
        );
      }
    }
  }

  /**
   * Names that two processes take once subgraphs are flattened: an outer
   * process named like an inner one (`S/Log` beside subgraph process `S`),
   * or two subgraph processes whose inner names meet (`S` holding `A/B`
   * and `S/A` holding `B` both give `S/A/B`).
   */
  #flatNames(): void {
    const owners = new Map<string, string>();
    const flat = new Map<string, string[]>();
    for (const [name, component] of this.#components) {
      const names = component && subgraphOf(component) &&
          !this.#cyclic.has(name)
        ? _flatNames(component, `${name}/`)
        : [name];
      flat.set(name, names);
      // A plain process owns its own name, whoever comes first.
      if (names.length === 1 && names[0] === name) owners.set(name, name);
    }
    for (const [name, names] of flat) {
      if (names.length === 1 && names[0] === name) continue;
      const component = this.#components.get(name)!;
      for (const inner of names) {
        const owner = owners.get(inner);
        if (owner === undefined) {
          owners.set(inner, name);
        } else if (owner === inner) {
          this.#add(
            joinKey("processes", inner),
            `process "${inner}" has the name that process "${name}" (subgraph "${component.name}") gives one of its inner processes; rename it`,
          );
        } else if (owner !== name) {
          const other = this.#components.get(owner)!;
          this.#add(
            joinKey("processes", name),
            `processes "${owner}" (subgraph "${other.name}") and "${name}" (subgraph "${component.name}") both give an inner process the name "${inner}" once flattened; rename one of them`,
          );
        }
      }
    }
  }

  #exports(
    exports: unknown,
    kind: "inports" | "outports",
    fed: Set<string>,
  ): void {
    if (exports === undefined) return;
    if (!_isRecord(exports)) {
      this.#add(
        kind,
        `${kind} must be an object of { "NAME": { "process": ..., "port": ... } }, received ${
          describeValue(exports)
        }`,
      );
      return;
    }
    const dir = kind === "inports" ? "in" : "out";
    for (const [pub, ref] of Object.entries(exports)) {
      const end = this.#end(
        ref,
        joinKey(kind, pub),
        dir,
        `exported ${dir}-port "${pub}"`,
      );
      if (end && dir === "in") fed.add(`${end.process}\0${end.port}`);
    }
  }

  /**
   * Checks one end of a connection (or an export) and returns it with the
   * port's real name and spec when its process and port are known.
   */
  #end(
    ref: unknown,
    path: string,
    dir: "in" | "out",
    what: string,
  ): _End | undefined {
    if (!_isRecord(ref)) {
      this.#add(
        path,
        `${what} must be { "process": ..., "port": ... }, received ${
          describeValue(ref)
        }`,
      );
      return undefined;
    }
    const { process, port, index } = ref;
    let ok = true;
    if (typeof process !== "string" || process === "") {
      this.#add(
        joinKey(path, "process"),
        `${what} needs a process name, received ${describeValue(process)}`,
      );
      ok = false;
    }
    if (typeof port !== "string" || port === "") {
      this.#add(
        joinKey(path, "port"),
        `${what} needs a port name, received ${describeValue(port)}`,
      );
      ok = false;
    }
    if (
      index !== undefined &&
      !(Number.isSafeInteger(index) && (index as number) >= 0)
    ) {
      this.#add(
        joinKey(path, "index"),
        `${what}: the port index must be a non-negative integer, received ${
          describeValue(index)
        }`,
      );
      ok = false;
    }
    if (!ok) return undefined;
    const processName = process as string;
    const portName = port as string;
    if (!this.#components.has(processName)) {
      this.#add(
        joinKey(path, "process"),
        `${what} names unknown process "${processName}"${
          _didYouMean(processName, this.#components.keys())
        }`,
      );
      return undefined;
    }
    const component = this.#components.get(processName);
    if (!component) return undefined;
    const ports = dir === "in" ? component.inPorts : component.outPorts;
    const found = findPort(ports, portName);
    if (!found) {
      const other = dir === "in" ? component.outPorts : component.inPorts;
      const names = Object.keys(ports);
      const close = closestName(portName, names);
      const hint = findPort(other, portName)
        ? ` ("${portName}" is an ${dir === "in" ? "out" : "in"}-port)`
        : close === undefined
        ? ""
        : ` (did you mean "${close}"?)`;
      this.#add(
        joinKey(path, "port"),
        `${what}: process "${processName}" (${component.name}) has no ${dir}-port "${portName}"${hint}; its ${dir}-ports are ${
          _list(names)
        }`,
      );
      return undefined;
    }
    const [realPort, spec] = found;
    if (index !== undefined && !spec.addressable) {
      this.#add(
        joinKey(path, "index"),
        `${what}: ${dir}-port "${realPort}" of "${processName}" (${component.name}) is not addressable, so it takes no index; remove [${index}]`,
      );
    }
    return {
      process: processName,
      port: realPort,
      index: index as number | undefined,
      spec: spec as InPortSpec,
      component,
    };
  }

  #connections(connections: unknown, fed: Set<string>): void {
    if (connections === undefined) return;
    if (!Array.isArray(connections)) {
      this.#add(
        "connections",
        `connections must be an array, received ${describeValue(connections)}`,
      );
      return;
    }
    const feeds = new Map<
      string,
      { end: _End; paths: string[]; ports: Set<string>; inner?: InnerInPort }
    >();
    connections.forEach((c: unknown, i) => {
      const path = joinIndex("connections", i);
      if (!_isRecord(c)) {
        this.#add(
          path,
          `a connection must be an object with "tgt" and "src" or "data", received ${
            describeValue(c)
          }`,
        );
        return;
      }
      const hasSrc = c.src !== undefined;
      const isIip = Object.hasOwn(c, "data");
      if (hasSrc && isIip) {
        this.#add(
          path,
          'a connection has either "src" (an edge) or "data" (an IIP), not both',
        );
      } else if (!hasSrc && !isIip) {
        this.#add(
          path,
          'a connection needs "src" (an edge from an out-port) or "data" (an IIP)',
        );
      }
      const what = isIip && !hasSrc ? "IIP" : "connection";
      const tgt = c.tgt === undefined
        ? (this.#add(
          joinKey(path, "tgt"),
          `${what} has no "tgt" (target in-port)`,
        ),
          undefined)
        : this.#end(c.tgt, joinKey(path, "tgt"), "in", `${what} target`);
      if (hasSrc) {
        this.#end(c.src, joinKey(path, "src"), "out", "connection source");
      }
      this.#connectionMetadata(
        c.metadata,
        joinKey(path, "metadata"),
        isIip && !hasSrc,
      );
      if (!tgt) return;
      fed.add(`${tgt.process}\0${tgt.port}`);
      if (isIip && !hasSrc) this.#initial(c.data, tgt, joinKey(path, "data"));
      if (hasSrc && !isIip) {
        // Connections to distinct slots of an addressable port do not share it.
        if (tgt.spec?.addressable && tgt.index === undefined) return;
        // Through a subgraph, the port that counts is the inner one: it may
        // be exported twice, or fed inside the subgraph as well.
        const inner = tgt.component && subgraphOf(tgt.component)
          ? innerInPort(tgt.component, tgt.port, tgt.index)
          : undefined;
        const key = inner
          ? `\0${tgt.process}/${inner.process}\0${inner.port}\0${
            inner.index ?? ""
          }`
          : `${tgt.process}\0${tgt.port}\0${tgt.index ?? ""}`;
        const entry = feeds.get(key) ??
          { end: tgt, paths: [], ports: new Set(), inner };
        entry.paths.push(path);
        entry.ports.add(tgt.port);
        feeds.set(key, entry);
      }
    });
    for (const { end, paths, ports, inner } of feeds.values()) {
      if (end.spec?.multiple !== false) continue;
      if (inner && (ports.size > 1 || inner.edges > 0)) {
        if (paths.length + inner.edges < 2) continue;
        const exports = [...ports].map((p) => `"${p}"`);
        const feeders = inner.edges === 0
          ? _list(paths)
          : `${_list(paths)} and ${
            inner.edges === 1 ? "a connection" : `${inner.edges} connections`
          } inside subgraph "${end.component?.name}"`;
        this.#add(
          joinKey(paths[paths.length > 1 ? 1 : 0], "tgt"),
          `in-port "${inner.port}" of "${end.process}/${inner.process}" (${inner.component.name}) takes one connection, but ${feeders} feed it (through ${
            _list(exports)
          } of "${end.process}"); remove all but one, or merge them in a process first`,
        );
        continue;
      }
      if (paths.length < 2) continue;
      this.#add(
        joinKey(paths[1], "tgt"),
        `in-port "${end.port}" of "${end.process}" (${end.component?.name}) takes one connection, but ${
          _list(paths)
        } ${
          paths.length > 2 ? "all" : "both"
        } feed it; remove all but one, or merge them in a process first`,
      );
    }
  }

  #connectionMetadata(metadata: unknown, path: string, iip: boolean): void {
    if (metadata === undefined) return;
    if (!_isRecord(metadata)) {
      this.#add(
        path,
        `connection metadata must be an object, received ${
          describeValue(metadata)
        }`,
      );
      return;
    }
    const { capacity, policy } = metadata;
    if (iip) {
      for (const [key, value] of [["capacity", capacity], ["policy", policy]]) {
        if (value !== undefined) {
          this.#add(
            joinKey(path, key as string),
            `an IIP is delivered directly, with no buffer, so it takes no ${key}; remove it`,
          );
        }
      }
      return;
    }
    if (capacity !== undefined && !_isPositiveInteger(capacity)) {
      this.#add(
        joinKey(path, "capacity"),
        `capacity must be a positive integer (messages the connection buffers), received ${
          describeValue(capacity)
        }`,
      );
    }
    if (
      policy !== undefined &&
      !(OVERFLOW_POLICIES as readonly unknown[]).includes(policy)
    ) {
      this.#add(
        joinKey(path, "policy"),
        `policy must be one of ${
          OVERFLOW_POLICIES.map((p) => `"${p}"`).join(", ")
        }, received ${describeValue(policy)}${
          typeof policy === "string"
            ? _didYouMean(policy, OVERFLOW_POLICIES)
            : ""
        }`,
      );
    }
  }

  #initial(data: unknown, tgt: _End, path: string): void {
    const spec = tgt.spec;
    if (!spec) return;
    const where =
      `IIP for in-port "${tgt.port}" of "${tgt.process}" (${tgt.component?.name})`;
    // Checked as the build delivers it: a string converted by the port's type.
    const value = convertIip(spec.type, data);
    const wrongType = checkPortValue(spec.type, value);
    if (wrongType !== undefined) {
      this.#add(path, `${where}: ${wrongType}`);
      return;
    }
    if (spec.parse) {
      try {
        spec.parse(value);
      } catch (e) {
        this.#add(
          path,
          `${where} is not valid: ${_errorMessage(e)}`,
        );
      }
    }
  }

  #required(fed: Set<string>): void {
    for (const [name, component] of this.#components) {
      if (!component) continue;
      // A subgraph port exported twice is fed through either export.
      const target = (port: string) => {
        const inner = innerInPort(component, port);
        return inner && `${inner.process}\0${inner.port}`;
      };
      const fedInner = new Set<string>();
      if (subgraphOf(component)) {
        for (const port of Object.keys(component.inPorts)) {
          const inner = fed.has(`${name}\0${port}`) ? target(port) : undefined;
          if (inner) fedInner.add(inner);
        }
      }
      for (const [port, spec] of Object.entries(component.inPorts)) {
        if (!spec.required || fed.has(`${name}\0${port}`)) continue;
        const inner = fedInner.size > 0 ? target(port) : undefined;
        if (inner === undefined || !fedInner.has(inner)) {
          this.#add(
            joinKey("processes", name),
            `in-port "${port}" of "${name}" (${component.name}) is required: connect it or give it an IIP`,
          );
        }
      }
    }
  }
}

/** The chain of subgraph names that leads back to one already in `chain`. */
function _subgraphCycle(
  component: Component,
  chain: Component[],
): string[] | undefined {
  const definition = subgraphOf(component);
  if (!definition || !_isRecord(definition.graph.processes)) return undefined;
  for (const p of Object.values(definition.graph.processes)) {
    if (!_isRecord(p) || typeof p.component !== "string") continue;
    const inner = definition.registry.get(p.component);
    if (!inner || !subgraphOf(inner)) continue;
    const next = [...chain, inner];
    if (chain.includes(inner)) return next.map((c) => c.name);
    const found = _subgraphCycle(inner, next);
    if (found) return found;
  }
  return undefined;
}

/** The names a subgraph's processes take once flattened under `prefix`. */
function _flatNames(component: Component, prefix: string): string[] {
  const definition = subgraphOf(component);
  if (!definition || !_isRecord(definition.graph.processes)) return [];
  const names: string[] = [];
  for (const [name, p] of Object.entries(definition.graph.processes)) {
    const inner = _isRecord(p) && typeof p.component === "string"
      ? definition.registry.get(p.component)
      : undefined;
    if (inner && subgraphOf(inner)) {
      names.push(..._flatNames(inner, `${prefix}${name}/`));
    } else {
      names.push(`${prefix}${name}`);
    }
  }
  return names;
}
