/**
 * Graph validation: every problem at once, each with its path (and line:col
 * for graphs read from text) and a sentence a user can act on.
 *
 * @module
 */
import { quote } from "../engine/excerpt.ts";
import {
  checkPortValue,
  type Component,
  describeType,
  describeValue,
  type InPortSpec,
} from "../engine/component.ts";
import { closestName, type Registry } from "../engine/registry.ts";
import { LIMITS } from "../engine/limits.ts";
import { type Graph, GRAPH_KEYS } from "./graph.ts";
import {
  formatProblem,
  type Problem,
  sortProblems,
  type SourceMap,
  sourceMapOf,
} from "./problem.ts";
import { convertIip } from "./_iip.ts";
import { joinIndex, joinKey, withPosition } from "./_path.ts";
import { findPort } from "./_ports.ts";
import { innerInPort } from "./_inner_port.ts";
import { subgraphOf } from "./subgraph.ts";
import {
  didYouMean,
  errorMessage,
  isRecord,
  listNames,
  type Report,
  type ResolvedEnd,
} from "./_validation.ts";
import {
  checkConnectionMetadata,
  checkProcessSettings,
  checkProperties,
} from "./_validate_settings.ts";
import {
  checkFlatNames,
  checkSubgraphCycle,
  checkSubgraphSettings,
} from "./_validate_subgraphs.ts";
import { FeedCheck } from "./_validate_feeds.ts";
import { _allowOf, _restrictRegistry, _wellFormedKinds } from "./_allow.ts";
import { _readSupervision } from "./_supervision.ts";
import { buildProblems } from "./_flatten.ts";

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
 * - the allow list `properties.allow` (its shape, and each `files` entry
 *   against the file components' data folder); the graph's components
 *   are then checked as limited to it, so an IIP path outside the list
 *   is a problem naming the process and the path;
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
 * their path (or an enclosing one), and come by position: line, then
 * column, those without one last in the order found. The source map
 * defaults to the one the parser recorded for this graph object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateGraph } from "./validate.ts";
 * import { parseFbp } from "./parse_fbp.ts";
 * import { Registry } from "../engine/registry.ts";
 *
 * const problems = validateGraph(parseFbp("'x' -> in A(core/Ouput)"), new Registry());
 * assert.equal(problems[0].path, "processes.A.component");
 * assert.equal(problems[0].line, 1);
 * assert.match(problems[0].message, /unknown component "core\/Ouput"/);
 * ```
 */
export function validateGraph(
  graph: Graph,
  registry: Registry,
  sourceMap: SourceMap | undefined = sourceMapOf(graph),
  options: ValidateOptions = {},
): Problem[] {
  return new _Validator(
    graph,
    registry,
    sourceMap,
    new Set(),
    options.maxCapacity ?? LIMITS.maxCapacity,
  ).run();
}

/** Options of {@linkcode validateGraph} and {@linkcode validateFlow}. */
export interface ValidateOptions {
  /**
   * The largest `capacity` and `defaultCapacity` accepted (a server
   * setting, `--max-capacity`). Default `LIMITS.maxCapacity` (100,000).
   */
  maxCapacity?: number;
}

/**
 * Checks a graph that is to run as a flow: every problem
 * {@linkcode validateGraph} finds, the flow's supervision properties
 * (`restart` one of `never`, `on-failure`, `always`; `restartDelayMs` and
 * `restartMaxDelayMs` 1 to 2^31-1, the first at most the second;
 * `restartLimit` 0 to 1000; `required` `true` or `false`, each also as
 * text), and a graph with no process at all (which would start, do nothing
 * and never end). A graph with none of these is then built as the flow
 * would be, without starting it: an exported out-port that stands for the
 * error ports of a subgraph's inner processes (several, or none: a
 * network's exported port is one), whatever else `new Network()` would
 * refuse, and what each component's check across the flow's processes
 * finds (`ComponentSpec.checkProcesses`, a subgraph's inner processes
 * included, each problem at its process), are problems too. A subgraph's
 * inner graph is checked by `validateGraph()` only: its properties are
 * not a flow's, and an empty one is merely useless. This is the check of `weir validate`, of `weir serve`'s graph
 * files and of the flow API (through `buildNetworkSpec()`), so the three
 * agree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateFlow } from "./validate.ts";
 * import { Registry } from "../engine/registry.ts";
 *
 * const problems = validateFlow({ processes: {} }, new Registry());
 * assert.match(problems[0].message, /no process/);
 * const bad = validateFlow(
 *   { processes: {}, properties: { required: "maybe", restartLimit: 5000 } },
 *   new Registry(),
 * );
 * assert.deepEqual(bad.map((p) => p.path), [
 *   "properties.restartLimit",
 *   "properties.required",
 * ]);
 * ```
 */
export function validateFlow(
  graph: Graph,
  registry: Registry,
  sourceMap: SourceMap | undefined = sourceMapOf(graph),
  options: ValidateOptions = {},
): Problem[] {
  const problems = validateGraph(graph, registry, sourceMap, options);
  if (isRecord(graph)) {
    for (const p of _readSupervision(graph.properties).problems) {
      problems.push(withPosition(p, sourceMap));
    }
  }
  if (
    problems.length === 0 && isRecord(graph) &&
    (!isRecord(graph.processes) || Object.keys(graph.processes).length === 0)
  ) {
    // A graph wrapped in another object ({"id": ..., "graph": ...}) reads
    // as an empty one: say what was sent instead.
    const foreign = Object.keys(graph).filter((k) => !GRAPH_KEYS.includes(k));
    problems.push(withPosition({
      path: "processes",
      message:
        "the graph has no process, so a flow of it would do nothing; declare at least one, e.g. 'x' -> in Log(core/Output)" +
        (foreign.length === 0
          ? ""
          : `; its keys ${
            foreign.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(
              ", ",
            )
          } are not fbp-graph JSON's (${
            GRAPH_KEYS.join(", ")
          }): send the graph itself`),
    }, sourceMap));
  }
  // A graph valid so far is built as the flow would be (not started), so
  // what the build or the engine refuses is found here too, with a path.
  if (problems.length === 0) {
    for (const p of buildProblems(graph, registry)) {
      problems.push(withPosition(p, sourceMap));
    }
  }
  return sortProblems(problems);
}

class _Validator {
  readonly #problems: Problem[] = [];
  readonly #graph: Graph;
  /** The registry, limited to the graph's allow list when it has one. */
  #registry: Registry;
  readonly #sourceMap: SourceMap | undefined;
  /** Subgraph components whose inner problems were already reported. */
  readonly #reported: Set<Component>;
  /** Processes by name, with their component when it is known. */
  readonly #components = new Map<string, Component | undefined>();
  /** Per process, the parsed initial packet of each in-port that has one. */
  readonly #settings = new Map<string, Record<string, unknown>>();
  /** Subgraph processes whose subgraph contains itself: not flattened. */
  readonly #cyclic = new Set<string>();

  constructor(
    graph: Graph,
    registry: Registry,
    sourceMap: SourceMap | undefined,
    reported: Set<Component>,
    readonly maxCapacity: number,
  ) {
    this.#graph = graph;
    this.#registry = registry;
    this.#sourceMap = sourceMap;
    this.#reported = reported;
  }

  readonly #report: Report = (path, message) => {
    this.#problems.push({ path: path || "$", message });
  };

  run(): Problem[] {
    const graph: unknown = this.#graph;
    if (!isRecord(graph)) {
      this.#report(
        "$",
        `a graph must be an object with "processes" and "connections", received ${
          describeValue(graph)
        }`,
      );
      return this.#problems;
    }
    // Counted before anything else is checked: what follows takes time
    // in proportion to them.
    if (this.#tooLarge(graph)) {
      return this.#problems.map((p) => withPosition(p, this.#sourceMap));
    }
    checkProperties(graph.properties, this.#report, this.maxCapacity);
    const allow = _allowOf(graph.properties);
    // A malformed list (reported above) restricts nothing, but the entries
    // of its well-formed kinds are still checked: every problem at once.
    const checked = allow ?? _wellFormedKinds(graph.properties);
    if (checked !== undefined) {
      const restricted = _restrictRegistry(this.#registry, checked);
      for (const { kind, message } of restricted.problems) {
        this.#report(`properties.allow.${kind}`, `allow.${kind}: ${message}`);
      }
      if (allow !== undefined) this.#registry = restricted.registry;
    }
    this.#processes(graph.processes);
    checkFlatNames(this.#components, this.#cyclic, this.#report);
    const fed = new Set<string>();
    this.#exports(graph.inports, "inports", fed);
    this.#exports(graph.outports, "outports", fed);
    this.#connections(graph.connections, fed);
    this.#required(fed);
    this.#together(fed);
    const parsed = this.#sourceMap?.problems ?? [];
    return sortProblems(
      [...parsed, ...this.#problems].map((p) =>
        withPosition(p, this.#sourceMap)
      ),
    );
  }

  /** Reports more processes or connections than LIMITS allows. */
  #tooLarge(graph: Record<string, unknown>): boolean {
    const processes = isRecord(graph.processes)
      ? Object.keys(graph.processes).length
      : 0;
    const connections = Array.isArray(graph.connections)
      ? graph.connections.length
      : 0;
    if (processes > LIMITS.maxProcesses) {
      this.#report(
        "processes",
        `a graph has at most ${LIMITS.maxProcesses} processes, received ${processes}; split it into several flows`,
      );
    }
    if (connections > LIMITS.maxConnections) {
      this.#report(
        "connections",
        `a graph has at most ${LIMITS.maxConnections} connections, initial packets included, received ${connections}; split it into several flows`,
      );
    }
    return this.#problems.length > 0;
  }

  #processes(processes: unknown): void {
    if (processes === undefined) return;
    if (!isRecord(processes)) {
      this.#report(
        "processes",
        `processes must be an object of { "Name": { "component": ... } }, received ${
          describeValue(processes)
        }`,
      );
      return;
    }
    for (const [name, process] of Object.entries(processes)) {
      const path = joinKey("processes", name);
      if (name === "") this.#report(path, "a process needs a non-empty name");
      if (name.length > LIMITS.maxNameLength) {
        this.#report(
          path,
          `process name ${
            quote(name, 40)
          } is longer than the ${LIMITS.maxNameLength} characters a name may have (it labels every metric series of its process)`,
        );
      }
      if (!isRecord(process)) {
        this.#report(
          path,
          `process ${
            quote(name)
          } must be an object with a "component", received ${
            describeValue(process)
          }`,
        );
        this.#components.set(name, undefined);
        continue;
      }
      const component = this.#component(name, process.component, path);
      this.#components.set(name, component);
      const metadata = process.metadata;
      if (metadata !== undefined && !isRecord(metadata)) {
        this.#report(
          joinKey(path, "metadata"),
          `metadata of process ${quote(name)} must be an object, received ${
            describeValue(metadata)
          }`,
        );
      } else if (metadata !== undefined) {
        checkProcessSettings(
          name,
          metadata,
          joinKey(path, "metadata"),
          this.#report,
        );
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
      this.#report(
        cpath,
        `process ${
          quote(name)
        } has no component; name one, e.g. "component": "core/Repeat"`,
      );
      return undefined;
    }
    const found = this.#registry.get(component);
    if (!found) {
      const close = this.#registry.closest(component);
      this.#report(
        cpath,
        `unknown component ${quote(component)} for process ${quote(name)}${
          close === undefined
            ? "; no registered component has a similar name"
            : `; did you mean "${close}"?`
        }`,
      );
    }
    return found;
  }

  #subgraph(
    name: string,
    component: Component,
    metadata: unknown,
    path: string,
  ): void {
    const report = this.#report;
    checkSubgraphSettings(name, component, metadata, path, report);
    const cpath = joinKey(path, "component");
    if (checkSubgraphCycle(component, cpath, report)) {
      this.#cyclic.add(name);
      return;
    }
    if (this.#reported.has(component)) return;
    this.#reported.add(component);
    const definition = subgraphOf(component)!;
    const inner = sourceMapOf(definition.graph);
    const problems = new _Validator(
      definition.graph,
      definition.registry,
      inner,
      this.#reported,
      this.maxCapacity,
    ).run();
    for (const p of problems) {
      report(
        cpath,
        `subgraph "${component.name}" has a problem: ${
          formatProblem(p, inner?.file)
        }`,
      );
    }
  }

  #exports(
    exports: unknown,
    kind: "inports" | "outports",
    fed: Set<string>,
  ): void {
    if (exports === undefined) return;
    if (!isRecord(exports)) {
      this.#report(
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
  ): ResolvedEnd | undefined {
    if (!isRecord(ref)) {
      this.#report(
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
      this.#report(
        joinKey(path, "process"),
        `${what} needs a process name, received ${describeValue(process)}`,
      );
      ok = false;
    }
    if (typeof port !== "string" || port === "") {
      this.#report(
        joinKey(path, "port"),
        `${what} needs a port name, received ${describeValue(port)}`,
      );
      ok = false;
    }
    if (
      index !== undefined &&
      !(Number.isSafeInteger(index) && (index as number) >= 0)
    ) {
      this.#report(
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
      this.#report(
        joinKey(path, "process"),
        `${what} names unknown process ${quote(processName)}${
          didYouMean(processName, this.#components.keys())
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
        ? ` (${quote(portName)} is an ${dir === "in" ? "out" : "in"}-port)`
        : close === undefined
        ? ""
        : ` (did you mean "${close}"?)`;
      this.#report(
        joinKey(path, "port"),
        `${what}: process ${
          quote(processName)
        } (${component.name}) has no ${dir}-port ${
          quote(portName)
        }${hint}; its ${dir}-ports are ${listNames(names)}`,
      );
      return undefined;
    }
    const [realPort, spec] = found;
    if (index !== undefined && !spec.addressable) {
      this.#report(
        joinKey(path, "index"),
        `${what}: ${dir}-port "${realPort}" of ${
          quote(processName)
        } (${component.name}) is not addressable, so it takes no index; remove [${index}]`,
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
      this.#report(
        "connections",
        `connections must be an array, received ${describeValue(connections)}`,
      );
      return;
    }
    const feeds = new FeedCheck();
    // Each edge by its two ends, to find one written twice.
    const edges = new Map<string, string>();
    // Edges from one index of an addressable out-port, checked once every
    // initial packet is known.
    const indexed: { src: ResolvedEnd; path: string }[] = [];
    connections.forEach((c: unknown, i) => {
      const path = joinIndex("connections", i);
      if (!isRecord(c)) {
        this.#report(
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
        this.#report(
          path,
          'a connection has either "src" (an edge) or "data" (an IIP), not both',
        );
      } else if (!hasSrc && !isIip) {
        this.#report(
          path,
          'a connection needs "src" (an edge from an out-port) or "data" (an IIP)',
        );
      }
      const what = isIip && !hasSrc ? "IIP" : "connection";
      const tgt = c.tgt === undefined
        ? (this.#report(
          joinKey(path, "tgt"),
          `${what} has no "tgt" (target in-port)`,
        ),
          undefined)
        : this.#end(c.tgt, joinKey(path, "tgt"), "in", `${what} target`);
      const src = hasSrc
        ? this.#end(c.src, joinKey(path, "src"), "out", "connection source")
        : undefined;
      checkConnectionMetadata(
        c.metadata,
        joinKey(path, "metadata"),
        isIip && !hasSrc,
        this.#report,
        this.maxCapacity,
      );
      if (!tgt) return;
      fed.add(`${tgt.process}\0${tgt.port}`);
      if (isIip && !hasSrc) this.#initial(c.data, tgt, joinKey(path, "data"));
      if (hasSrc && !isIip) feeds.add(tgt, path);
      if (src && !isIip) this.#repeated(edges, src, tgt, path);
      if (src?.index !== undefined && !isIip) indexed.push({ src, path });
    });
    feeds.check(this.#report);
    for (const { src, path } of indexed) this.#unsent(src, path);
  }

  /**
   * Reports an edge from an index its process never sends on, as its
   * settings say (`OutPortSpec.indexes`): `Sw out[3]` after three rules.
   */
  #unsent(src: ResolvedEnd, path: string): void {
    const component = src.component;
    const indexes = component?.outPorts[src.port]?.indexes?.(
      this.#settings.get(src.process) ?? {},
    );
    if (indexes === undefined || indexes.includes(src.index!)) return;
    const port = (i: number) => `${src.port}[${i}]`;
    this.#report(
      joinKey(joinKey(path, "src"), "index"),
      `connection source: process ${quote(src.process)} (${
        component!.name
      }) never sends on ${
        port(src.index!)
      }, so nothing would reach this connection; its settings send on ${
        indexes.length === 0 ? "no index" : listNames(indexes.map(port))
      } only (indexes count from 0)`,
    );
  }

  /**
   * Reports an edge between the same two ports as an earlier one: the
   * engine would make both, so each message would arrive twice (NoFlo's
   * fbp-graph keeps one; Node-RED cannot draw two).
   */
  #repeated(
    edges: Map<string, string>,
    src: ResolvedEnd,
    tgt: ResolvedEnd,
    path: string,
  ): void {
    const end = (e: ResolvedEnd) =>
      `${e.process}.${e.port}${e.index === undefined ? "" : `[${e.index}]`}`;
    const edge = `${end(src)} -> ${end(tgt)}`;
    const first = edges.get(edge);
    if (first === undefined) {
      edges.set(edge, path);
      return;
    }
    const at = withPosition({ path: first, message: "" }, this.#sourceMap);
    this.#report(
      path,
      `connection ${edge} is written twice (first ${
        at.line === undefined ? `at ${first}` : `on line ${at.line}`
      }), so each message would reach ${end(tgt)} twice; remove one`,
    );
  }

  #initial(data: unknown, tgt: ResolvedEnd, path: string): void {
    const spec = tgt.spec;
    if (!spec) return;
    const where = `IIP for in-port "${tgt.port}" of ${
      quote(tgt.process)
    } (${tgt.component?.name})`;
    // Checked as the build delivers it: a string converted by the port's type.
    const value = convertIip(spec.type, data);
    const wrongType = checkPortValue(spec.type, value);
    if (wrongType !== undefined) {
      // A secret's port: a number there may be the password itself.
      this.#report(
        path,
        `${where}: ${
          spec.secret === true
            ? `expected ${
              spec.type === "object"
                ? "an object (of secret references)"
                : `a ${spec.type} (a secret reference)`
            }, received ${describeType(value)} (not shown)`
            : wrongType
        }`,
      );
      return;
    }
    let parsed = value;
    if (spec.parse) {
      try {
        parsed = spec.parse(value);
      } catch (e) {
        this.#report(
          path,
          `${where} is not valid: ${errorMessage(e)}`,
        );
        return;
      }
    }
    let settings = this.#settings.get(tgt.process);
    if (settings === undefined) {
      settings = {};
      this.#settings.set(tgt.process, settings);
    }
    settings[tgt.port] = parsed;
  }

  /** Each component's check of its settings together (`checkSettings`). */
  #together(fed: Set<string>): void {
    for (const [name, component] of this.#components) {
      if (!component?.checkSettings) continue;
      const settings = this.#settings.get(name) ?? {};
      const connected = new Set<string>();
      for (const port of Object.keys(component.inPorts)) {
        if (fed.has(`${name}\0${port}`) && !Object.hasOwn(settings, port)) {
          connected.add(port);
        }
      }
      const problem = component.checkSettings(settings, connected);
      if (problem !== undefined) {
        this.#report(
          joinKey("processes", name),
          `${quote(name)} (${component.name}): ${problem}`,
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
          this.#report(
            joinKey("processes", name),
            `in-port "${port}" of ${
              quote(name)
            } (${component.name}) is required: connect it or give it an IIP`,
          );
        }
      }
    }
  }
}
