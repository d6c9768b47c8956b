/**
 * The .fbp DSL: read it (with the npm `fbp` parser, plus Morrison's
 * `-> (N)` capacity on an arrow) and write a graph back as DSL text.
 *
 * @module
 */
// @ts-types="./_fbp_parser.d.ts"
import fbp from "fbp";
import type {
  FbpExpectation,
  FbpResult,
  FbpSyntaxError,
} from "./_fbp_parser.d.ts";
import { type FbpExportLine, restoreNames, scanFbp } from "./_fbp_scan.ts";
import type {
  Graph,
  GraphConnection,
  GraphExport,
  GraphProcess,
} from "./graph.ts";
import { GraphError } from "./graph_error.ts";
import type { Position, Problem } from "./problem.ts";
import { joinIndex, joinKey, sourceMaps } from "./_path.ts";
import { describeValue } from "../engine/component.ts";

/** Options of {@linkcode parseFbp}. */
export interface ParseFbpOptions {
  /** The file name, for `file:line:col` in problems. */
  file?: string;
}

/**
 * Reads .fbp DSL text into an fbp-graph (`caseSensitive: true`, with
 * `properties`, `inports`, `outports`, `groups`, `processes` and
 * `connections` always present).
 *
 * Beyond the `fbp` parser: `A out -> (50) in B` sets the connection's
 * `metadata.capacity` (any number is read, `(-1)` and `(1.5)` too, for
 * `validateGraph()` to report); numeric node metadata
 * (`A(core/X:timeoutMs=500)`) becomes a number, as does
 * `# @defaultCapacity 20`. A byte order mark is skipped, tabs are
 * whitespace like spaces, and a `# @key value` annotation's value is
 * trimmed (also on a last line without a line break). Lines end at `\n`,
 * `\r\n`, a lone `\r`, U+2028 and U+2029, as the parser counts them.
 *
 * Any name the DSL allows is kept, `__proto__` and `constructor` included:
 * it becomes an own property of the graph like any other, and the text
 * never reaches `Object.prototype` (the `fbp` parser keeps processes in a
 * plain object, so such names are hidden from it and restored after).
 *
 * Positions of connections (their arrow), process declarations (the last
 * one that names the component, or writes metadata, for those),
 * `INPORT=`/`OUTPORT=` lines (the last one of a name, which the graph
 * keeps) and annotations go to the graph's source map
 * ({@linkcode sourceMapOf}), so `validateGraph()` reports problems with
 * line:col. A process declared twice with different components, and an
 * exported port name used twice for different ports, are recorded there as
 * problems.
 *
 * Throws a {@linkcode GraphError} with line:col on a syntax error.
 *
 * @example
 * ```ts
 * import { parseFbp } from "./fbp.ts";
 *
 * const graph = parseFbp(`
 * '1s' -> interval Tick(core/Interval)
 * Tick out -> (50) in Log(core/Output)
 * `);
 * graph.connections?.[1].metadata; // { capacity: 50 }
 * ```
 */
export function parseFbp(text: string, options: ParseFbpOptions = {}): Graph {
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot parse .fbp text: expected a string, received ${
        describeValue(text)
      }`,
    );
  }
  const fail = (at: Position, message: string): never => {
    throw new GraphError([{ path: "$", line: at.line, col: at.col, message }], {
      file: options.file,
      action: "Cannot read .fbp graph",
    });
  };
  // A byte order mark is no part of the text, and takes no column.
  const scan = scanFbp(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (scan.error) fail(scan.error.at, scan.error.message);
  const parse = (input: string) =>
    fbp.parse(input, { caseSensitive: true, validateContents: false });
  let result: FbpResult;
  try {
    // The grammar wants a line break after the last line too: without one
    // it refuses a last line of spaces (the end of an indented template
    // literal). A syntax error is the text's own, though: the added line
    // break would only move it past the end of the text.
    try {
      result = parse(
        /[\n\r\u2028\u2029]$/.test(scan.text) ? scan.text : scan.text + "\n",
      );
    } catch (e) {
      if (!(e instanceof fbp.SyntaxError)) throw e;
      result = parse(scan.text);
    }
  } catch (e) {
    if (!(e instanceof fbp.SyntaxError)) throw e;
    const { line, column } = e.location.start;
    return fail({ line, col: column }, _syntaxMessage(e));
  }
  if (result.connections.length !== scan.arrows.length) {
    // One connection per arrow is what lets capacities and positions be
    // matched by number; if that ever fails, refuse rather than misplace.
    return fail(
      scan.arrows[0] ?? { line: 1, col: 1 },
      `found ${scan.arrows.length} arrows (->) but the parser read ${result.connections.length} connections; check the lines with arrows`,
    );
  }

  const restore = restoreNames(scan.placeholders);
  const positions = new Map<string, Position>();
  const problems: Problem[] = [];
  // Built with Object.fromEntries, so that a process (or port, or key)
  // named __proto__ is an own property like any other.
  const processes = Object.fromEntries(
    Object.entries(result.processes).map(([name, p]) => {
      const process = _restoreDeep(p, restore) as GraphProcess;
      if (p.metadata) process.metadata = _numericMetadata(process.metadata!);
      return [restore(name), process];
    }),
  );
  const firstDeclaration = new Map<
    string,
    { component: string; at: Position }
  >();
  for (const d of scan.declarations) {
    const path = joinKey("processes", d.name);
    // The parser keeps the last component and the last metadata written.
    if (d.component !== "") positions.set(joinKey(path, "component"), d.at);
    if (d.metadata) positions.set(joinKey(path, "metadata"), d.at);
    const first = firstDeclaration.get(d.name);
    if (!first) {
      firstDeclaration.set(d.name, { component: d.component, at: d.at });
      positions.set(path, d.at);
    } else if (d.component === "") {
      continue;
    } else if (first.component === "") {
      first.component = d.component;
    } else if (first.component !== d.component) {
      problems.push({
        path,
        line: d.at.line,
        col: d.at.col,
        message:
          `process "${d.name}" is declared twice with different components, "${first.component}" (line ${first.at.line}, col ${first.at.col}) and "${d.component}"; rename one of them`,
      });
    }
  }
  for (const a of scan.anonymous) {
    const path = joinKey("processes", a.name);
    if (!positions.has(path)) positions.set(path, a.at);
  }
  const exported = new Map<string, FbpExportLine>();
  for (const e of scan.exports) {
    const path = joinKey(e.kind, e.name);
    const before = exported.get(path);
    if (
      before && (before.process !== e.process || before.port !== e.port)
    ) {
      const keyword = e.kind === "inports" ? "INPORT" : "OUTPORT";
      problems.push({
        path,
        line: e.at.line,
        col: e.at.col,
        message:
          `${keyword}= name "${e.name}" is used twice, for ${before.process}.${before.port} (line ${before.at.line}, col ${before.at.col}) and ${e.process}.${e.port}; the graph keeps only the last, so rename one of them`,
      });
    }
    // The parser keeps the last export of a name.
    exported.set(path, e);
    positions.set(path, e.at);
  }
  const connections: GraphConnection[] = result.connections.map((c, k) => {
    positions.set(joinIndex("connections", k), scan.arrows[k]);
    const capacity = scan.capacities.get(k);
    const connection = _restoreDeep(c, restore) as GraphConnection;
    if (capacity !== undefined) connection.metadata = { capacity };
    return connection;
  });
  const properties = new Map<string, unknown>();
  for (const { key, value, at } of scan.annotations) {
    if (key === "runtime") {
      properties.set("environment", { type: value });
      positions.set(joinKey("properties", "environment"), at);
      continue;
    }
    properties.set(
      key,
      key === "defaultCapacity" && /^[0-9]+$/.test(value)
        ? Number(value)
        : value,
    );
    positions.set(joinKey("properties", key), at);
  }
  const exports = (kind: "inports" | "outports") =>
    Object.fromEntries(
      Object.entries(result[kind]).map((
        [name, ref],
      ) => [restore(name), _restoreDeep(ref, restore) as GraphExport]),
    );
  const graph: Graph = {
    caseSensitive: true,
    properties: Object.fromEntries(properties),
    inports: exports("inports"),
    outports: exports("outports"),
    groups: result.groups as Graph["groups"],
    processes,
    connections,
  };
  sourceMaps.set(graph, { file: options.file, positions, problems });
  return graph;
}

/**
 * A copy of what the parser built, with the names the pre-scan hid given
 * back; objects are rebuilt with Object.fromEntries (an own `__proto__`
 * key stays a key).
 */
function _restoreDeep(value: unknown, restore: (s: string) => string): unknown {
  if (typeof value === "string") return restore(value);
  if (Array.isArray(value)) return value.map((v) => _restoreDeep(v, restore));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map((
        [k, v],
      ) => [restore(k), _restoreDeep(v, restore)]),
    );
  }
  return value;
}

function _numericMetadata(
  metadata: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(metadata).map(([k, v]) => [
      k,
      typeof v === "string" && /^-?[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : v,
    ]),
  );
}

function _syntaxMessage(e: FbpSyntaxError): string {
  const found = e.found === null
    ? "the end of the text"
    : /^[\n\r\u2028\u2029]$/.test(e.found)
    ? "the end of the line"
    : JSON.stringify(e.found);
  const wanted = new Set<string>();
  for (const x of e.expected ?? []) {
    const w = _expectationName(x);
    if (w) wanted.add(w);
  }
  const list = _EXPECTATION_ORDER.filter((w) => wanted.has(w));
  const expected = list.length === 0
    ? ""
    : `; expected ${
      list.length === 1
        ? list[0]
        : `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`
    }`;
  return `syntax error: unexpected ${found}${expected}`;
}

const _EXPECTATION_ORDER = [
  '"->"',
  "a process or port name",
  "a (component)",
  "a component name",
  "metadata (key=value)",
  "a port index",
  "a quoted IIP",
  "a JSON IIP",
  '")"',
  '":"',
  '"."',
  '"]"',
  '"="',
];

function _expectationName(x: FbpExpectation): string | undefined {
  if (x.type === "literal") {
    switch (x.value) {
      case "->":
        return '"->"';
      case "'":
        return "a quoted IIP";
      case "{":
        return "a JSON IIP";
      case "(":
        return "a (component)";
      case ")":
      case ":":
      case ".":
      case "]":
      case "=":
        return JSON.stringify(x.value);
      default:
        return undefined;
    }
  }
  if (x.type === "class") {
    switch (x.description) {
      case "[a-zA-Z_]":
        return "a process or port name";
      case "[a-zA-Z/\\-0-9_]":
        return "a component name";
      case "[a-zA-Z/=_,0-9]":
        return "metadata (key=value)";
      case "[0-9]":
        return "a port index";
      default:
        return undefined;
    }
  }
  if (
    x.type === "other" &&
    (x.description === "number" || x.description === "string")
  ) {
    return "a JSON IIP";
  }
  return undefined;
}

/** Options of {@linkcode toFbp}. */
export interface ToFbpOptions {
  /**
   * Leave out what the DSL cannot express instead of throwing. Default
   * `false`.
   */
  dropUnsupported?: boolean;
}

const _NODE_NAME = /^[a-zA-Z_][a-zA-Z0-9_-]*$/;
const _PORT_NAME = /^[a-zA-Z_][a-zA-Z.0-9_]*$/;
const _COMPONENT_NAME = /^[a-zA-Z/\-0-9_]+$/;
const _META_TOKEN = /^[a-zA-Z/_0-9]+$/;
const _ANNOTATION_KEY = /^[a-zA-Z0-9\-_]+$/;
/** Inner spaces only: parseFbp() trims an annotation's value. */
const _ANNOTATION_VALUE =
  /^[a-zA-Z0-9\-_.](?:[a-zA-Z0-9\-_ .]*[a-zA-Z0-9\-_.])?$/;

/**
 * Writes a graph as .fbp DSL text: `# @` annotations for string properties
 * (and `defaultCapacity`), `INPORT=`/`OUTPORT=` lines, one declaration line
 * per process (`Name(component:key=value,...)`), then one line per
 * connection, with `-> (N)` for a capacity, `'...'` for string IIPs and
 * JSON for numbers, arrays and objects.
 *
 * The DSL cannot express: groups, connection metadata other than
 * `capacity` (so no `policy`), IIP metadata, port metadata and indexes on
 * exported ports, boolean, null and non-JSON IIPs (e.g. a function),
 * process metadata values other than names and non-negative integers (and
 * for `x` and `y`, which read back as numbers, other than non-negative
 * integers), annotation values with outer spaces, names
 * outside the DSL's character sets, and graph fields it does not know.
 * These throw a `TypeError` listing every one, unless `dropUnsupported` is
 * set, in which case they are left out. `caseSensitive` is not written: the
 * text reads back as `true`. So `parseFbp(toFbp(g))` equals `g` in all
 * that the DSL expresses.
 *
 * @example
 * ```ts
 * import { toFbp } from "./fbp.ts";
 *
 * toFbp({
 *   processes: { A: { component: "core/Repeat" }, B: { component: "core/Output" } },
 *   connections: [{ src: { process: "A", port: "out" }, tgt: { process: "B", port: "in" }, metadata: { capacity: 5 } }],
 * });
 * // "A(core/Repeat)\nB(core/Output)\nA out -> (5) in B\n"
 * ```
 */
export function toFbp(graph: Graph, options: ToFbpOptions = {}): string {
  const unsupported: string[] = [];
  const lines: string[] = [];
  const no = (path: string, what: string) =>
    unsupported.push(`${path}: ${what}`);
  if (graph === null || typeof graph !== "object" || Array.isArray(graph)) {
    throw new TypeError(
      `Cannot write the graph as .fbp: expected a graph object, received ${
        describeValue(graph)
      }`,
    );
  }

  for (const key of Object.keys(graph)) {
    if (
      ![
        "caseSensitive",
        "properties",
        "inports",
        "outports",
        "groups",
        "processes",
        "connections",
      ].includes(key)
    ) {
      no(joinKey("", key), "the DSL has no field for it");
    }
  }

  for (const [key, value] of Object.entries(graph.properties ?? {})) {
    const path = joinKey("properties", key);
    if (!_ANNOTATION_KEY.test(key)) {
      no(path, "the name cannot be written as a # @ annotation");
      continue;
    }
    if (key === "environment") {
      const env = value as Record<string, unknown> | null;
      if (
        env !== null && typeof env === "object" &&
        Object.keys(env).length === 1 && typeof env.type === "string" &&
        _ANNOTATION_VALUE.test(env.type)
      ) {
        lines.push(`# @runtime ${env.type}`);
      } else no(path, "only { type } can be written (as # @runtime)");
      continue;
    }
    if (key === "runtime") {
      no(path, "# @runtime reads back as environment.type");
      continue;
    }
    if (
      key === "defaultCapacity" && Number.isSafeInteger(value) &&
      (value as number) >= 0
    ) {
      lines.push(`# @${key} ${value}`);
    } else if (
      typeof value === "string" && _ANNOTATION_VALUE.test(value) &&
      !(key === "defaultCapacity" && /^[0-9]+$/.test(value))
    ) {
      lines.push(`# @${key} ${value}`);
    } else {
      no(
        path,
        `${
          describeValue(value)
        } cannot be written as a # @ annotation (letters, digits, -, _, . and inner spaces only)`,
      );
    }
  }

  if (Array.isArray(graph.groups) && graph.groups.length > 0) {
    no("groups", "the DSL has no groups");
  }

  const exportLine = (kind: "inports" | "outports") => {
    for (const [name, ref] of Object.entries(graph[kind] ?? {})) {
      const path = joinKey(kind, name);
      if (!_isExport(ref)) {
        no(path, "must be { process, port }");
        continue;
      }
      if (!_PORT_NAME.test(name)) no(path, "the name is not a DSL port name");
      else if (!_NODE_NAME.test(ref.process)) {
        no(path, `process name "${ref.process}" is not a DSL name`);
      } else if (!_PORT_NAME.test(ref.port)) {
        no(path, `port name "${ref.port}" is not a DSL port name`);
      } else {
        if (ref.index !== undefined) {
          no(joinKey(path, "index"), "exported ports take no index in the DSL");
        }
        for (const key of Object.keys(ref)) {
          if (!["process", "port", "index"].includes(key)) {
            no(joinKey(path, key), "the DSL has no field for it");
          }
        }
        lines.push(
          `${
            kind === "inports" ? "IN" : "OUT"
          }PORT=${ref.process}.${ref.port}:${name}`,
        );
      }
    }
  };
  exportLine("inports");
  exportLine("outports");

  for (const [name, p] of Object.entries(graph.processes ?? {})) {
    const path = joinKey("processes", name);
    if (!_NODE_NAME.test(name)) {
      no(
        path,
        "the name is not a DSL process name (letters, digits, _ and -, not starting with a digit or -)",
      );
      continue;
    }
    if (
      p === null || typeof p !== "object" || typeof p.component !== "string" ||
      !_COMPONENT_NAME.test(p.component)
    ) {
      no(
        joinKey(path, "component"),
        "needs a component name of letters, digits, /, - and _",
      );
      continue;
    }
    for (const key of Object.keys(p)) {
      if (key !== "component" && key !== "metadata") {
        no(joinKey(path, key), "the DSL has no field for it");
      }
    }
    const meta: string[] = [];
    for (const [key, value] of Object.entries(p.metadata ?? {})) {
      const mpath = joinKey(joinKey(path, "metadata"), key);
      if (!_META_TOKEN.test(key)) {
        no(mpath, "the key cannot be written in the DSL");
      } else if (
        typeof value === "number" && Number.isSafeInteger(value) && value >= 0
      ) {
        meta.push(`${key}=${value}`);
      } else if (key === "x" || key === "y") {
        // The parser reads x and y (editor coordinates) as numbers.
        no(
          mpath,
          `${
            describeValue(value)
          } cannot be written in the DSL, which reads ${key} as a number (non-negative integers only)`,
        );
      } else if (
        typeof value === "string" && _META_TOKEN.test(value) &&
        !/^[0-9]+$/.test(value)
      ) {
        meta.push(`${key}=${value}`);
      } else {
        no(
          mpath,
          `${
            describeValue(value)
          } cannot be written in the DSL (names and non-negative integers only)`,
        );
      }
    }
    lines.push(
      `${name}(${p.component}${meta.length > 0 ? `:${meta.join(",")}` : ""})`,
    );
  }

  (graph.connections ?? []).forEach((c, k) => {
    const path = joinIndex("connections", k);
    if (c === null || typeof c !== "object") {
      no(path, "is not a connection");
      return;
    }
    const tgt = _portText(c.tgt, "in", joinKey(path, "tgt"), no);
    if (tgt === undefined) return;
    for (const key of Object.keys(c)) {
      if (!["src", "tgt", "data", "metadata"].includes(key)) {
        no(joinKey(path, key), "the DSL has no field for it");
      }
    }
    if (Object.hasOwn(c, "data")) {
      const data = _iipText(c.data);
      if (data === undefined) {
        no(
          joinKey(path, "data"),
          `${
            describeValue(c.data)
          } cannot be written as an IIP (strings, numbers, arrays and objects only)`,
        );
        return;
      }
      for (const key of Object.keys(c.metadata ?? {})) {
        no(
          joinKey(joinKey(path, "metadata"), key),
          "an IIP takes no metadata in the DSL",
        );
      }
      lines.push(`${data} -> ${tgt}`);
      return;
    }
    const src = _portText(c.src, "out", joinKey(path, "src"), no);
    if (src === undefined) return;
    let capacity = "";
    for (const [key, value] of Object.entries(c.metadata ?? {})) {
      const mpath = joinKey(joinKey(path, "metadata"), key);
      if (
        key === "capacity" && Number.isSafeInteger(value) &&
        (value as number) >= 0
      ) {
        capacity = `(${value}) `;
      } else if (key === "policy" && value === "block") {
        no(
          mpath,
          "the DSL has no policy (block is the default, but it would not read back)",
        );
      } else {
        no(
          mpath,
          `the DSL has no connection ${
            key === "capacity"
              ? "capacity other than a non-negative integer"
              : "metadata but capacity"
          }`,
        );
      }
    }
    lines.push(`${src} -> ${capacity}${tgt}`);
  });

  if (unsupported.length > 0 && !options.dropUnsupported) {
    throw new TypeError(
      `Cannot write the graph as .fbp: the DSL cannot express ${
        unsupported.length === 1 ? "this" : "these"
      } (write JSON instead, or pass { dropUnsupported: true } to leave ${
        unsupported.length === 1 ? "it" : "them"
      } out):\n${unsupported.join("\n")}`,
    );
  }
  return lines.map((l) => l + "\n").join("");
}

function _isExport(ref: unknown): ref is GraphExport {
  return ref !== null && typeof ref === "object" &&
    typeof (ref as GraphExport).process === "string" &&
    typeof (ref as GraphExport).port === "string";
}

/** `Proc port[i]` (out) or `port[i] Proc` (in), or `undefined` when it cannot be written. */
function _portText(
  ref: unknown,
  dir: "in" | "out",
  path: string,
  no: (path: string, what: string) => void,
): string | undefined {
  if (!_isExport(ref)) {
    no(path, "must be { process, port }");
    return undefined;
  }
  if (!_NODE_NAME.test(ref.process)) {
    no(joinKey(path, "process"), `"${ref.process}" is not a DSL process name`);
    return undefined;
  }
  if (!_PORT_NAME.test(ref.port)) {
    no(joinKey(path, "port"), `"${ref.port}" is not a DSL port name`);
    return undefined;
  }
  let port = ref.port;
  if (ref.index !== undefined) {
    if (!Number.isSafeInteger(ref.index) || ref.index < 0) {
      no(joinKey(path, "index"), "must be a non-negative integer");
      return undefined;
    }
    port += `[${ref.index}]`;
  }
  for (const key of Object.keys(ref)) {
    if (!["process", "port", "index"].includes(key)) {
      no(joinKey(path, key), "the DSL has no field for it");
    }
  }
  return dir === "out" ? `${ref.process} ${port}` : `${port} ${ref.process}`;
}

/** The DSL text of an IIP value, or `undefined` when the DSL cannot hold it. */
function _iipText(data: unknown): string | undefined {
  if (typeof data === "string") {
    // '...' reads \' as a quote and any other backslash as itself, so a
    // string ending in a backslash (or holding line breaks) goes as JSON.
    if (data.endsWith("\\") || _hasControl(data)) return JSON.stringify(data);
    return `'${data.replaceAll("'", "\\'")}'`;
  }
  if (typeof data === "number") {
    return Number.isFinite(data) ? JSON.stringify(data) : undefined;
  }
  if (data !== null && typeof data === "object") {
    let text: string;
    try {
      text = JSON.stringify(data);
    } catch {
      return undefined;
    }
    // Only plain JSON survives: JSON.stringify would drop a function or
    // turn NaN into null without a word.
    return _sameJson(data, JSON.parse(text)) ? text : undefined;
  }
  return undefined;
}

function _hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) < 0x20) return true;
  }
  return false;
}

function _sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (
    a === null || b === null || typeof a !== "object" || typeof b !== "object"
  ) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const proto = Object.getPrototypeOf(a);
  if (!Array.isArray(a) && proto !== Object.prototype && proto !== null) {
    return false;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    _sameJson(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
    )
  );
}
