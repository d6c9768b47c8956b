/**
 * Reading the .fbp DSL (with the npm `fbp` parser, plus Morrison's
 * `-> (N)` capacity on an arrow and weir's overflow policy beside it) into
 * an fbp-graph.
 *
 * @module
 */
import { quote } from "../engine/excerpt.ts";
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
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
import { LIMITS } from "../engine/limits.ts";

/** Options of {@linkcode parseFbp}. */
export interface ParseFbpOptions {
  /** The file name, for `file:line:col` in problems. */
  file?: string;
}

const PARSE_FBP_OPTIONS = optionKeys<ParseFbpOptions>()(["file"]);

/**
 * Reads .fbp DSL text into an fbp-graph (`caseSensitive: true`, with
 * `properties`, `inports`, `outports`, `groups`, `processes` and
 * `connections` always present).
 *
 * Beyond the `fbp` parser: `A out -> (50) in B` sets the connection's
 * `metadata.capacity` (any number is read, `(-1)` and `(1.5)` too, for
 * `validateGraph()` to report), `-> (50 drop-oldest)` (or `(50,
 * drop-oldest)`) its `metadata.policy` too, and `-> (drop-oldest)` the
 * policy alone (`block`, `drop-oldest`, `drop-newest` or `error`; `(drop-oldest
 * 50)` reads too; another
 * word after a capacity is a syntax error naming them); numeric node metadata
 * (`A(core/X:timeoutMs=500)`) becomes a number, as does
 * `# @defaultCapacity 20`; `# @allow files in/ out/report.csv` adds to
 * `properties.allow` (one kind a line, the entries split at blanks, lines
 * of one kind adding up). A byte order mark is skipped, tabs are
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
 * exported port name used twice for different ports, and an annotation
 * other than `@allow` given twice with different values, are recorded
 * there as problems.
 *
 * Throws a {@linkcode GraphError} with line:col on a syntax error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFbp } from "./parse_fbp.ts";
 *
 * const graph = parseFbp(`
 * '1s' -> interval Tick(core/Interval)
 * Tick out -> (50) in Log(core/Output)
 * Tick out -> (5 drop-oldest) in Last(core/Drop)
 * `);
 * assert.deepEqual(graph.connections?.[1].metadata, { capacity: 50 });
 * assert.deepEqual(graph.connections?.[2].metadata, {
 *   capacity: 5,
 *   policy: "drop-oldest",
 * });
 * ```
 */
export function parseFbp(text: string, options: ParseFbpOptions = {}): Graph {
  checkOptionKeys("Cannot parse .fbp text", options, PARSE_FBP_OPTIONS);
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
  // Counted before the parser reads the text (about 0.1 ms a statement):
  // validation would refuse the graph anyway.
  const named = new Set<string>();
  const declared = [...scan.declarations, ...scan.anonymous].sort((a, b) =>
    a.at.line - b.at.line || a.at.col - b.at.col
  );
  for (const d of declared) {
    named.add(d.name);
    if (named.size > LIMITS.maxProcesses) {
      fail(
        d.at,
        `a graph has at most ${LIMITS.maxProcesses} processes; this is process ${named.size}; split it into several flows`,
      );
    }
  }
  if (scan.arrows.length > LIMITS.maxConnections) {
    fail(
      scan.arrows[LIMITS.maxConnections],
      `a graph has at most ${LIMITS.maxConnections} connections, initial packets included; this is arrow ${
        LIMITS.maxConnections + 1
      }; split it into several flows`,
    );
  }
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
        message: `process ${
          quote(d.name)
        } is declared twice with different components, "${first.component}" (line ${first.at.line}, col ${first.at.col}) and "${d.component}"; rename one of them`,
      });
    }
  }
  for (const a of scan.anonymous) {
    const path = joinKey("processes", a.name);
    if (!positions.has(path)) positions.set(path, a.at);
  }
  for (const b of scan.bare) {
    const name = restore(b.name);
    const component = Object.hasOwn(processes, name)
      ? processes[name].component
      : undefined;
    if (typeof component === "string" && component !== "") continue;
    problems.push({
      path: joinKey("processes", name),
      line: b.at.line,
      col: b.at.col,
      message:
        `"${name}" is not connected and has no component; declare a process as ${name}(component) and connect it, e.g. 'x' -> in ${name}(core/Output)`,
    });
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
    const policy = scan.policies.get(k);
    const connection = _restoreDeep(c, restore) as GraphConnection;
    if (capacity !== undefined || policy !== undefined) {
      connection.metadata = {};
      if (capacity !== undefined) connection.metadata.capacity = capacity;
      if (policy !== undefined) connection.metadata.policy = policy;
    }
    return connection;
  });
  const properties = new Map<string, unknown>();
  // `# @allow files in/ out/report.csv`, one line a kind, lines adding up.
  const allow = new Map<string, string[]>();
  // Any other annotation given twice says two things; the graph would keep
  // the last (a second `# @name` renamed the flow without a word).
  const annotated = new Map<string, { value: string; at: Position }>();
  for (const { key, value, at } of scan.annotations) {
    const before = annotated.get(key);
    if (key !== "allow" && before !== undefined && before.value !== value) {
      problems.push({
        path: joinKey("properties", key === "runtime" ? "environment" : key),
        line: at.line,
        col: at.col,
        message: `# @${key} is given twice, ${
          JSON.stringify(before.value)
        } (line ${before.at.line}) and ${
          JSON.stringify(value)
        }; the graph would keep only the last, so remove one`,
      });
    }
    annotated.set(key, { value, at });
    if (key === "allow") {
      const [kind, ...entries] = value.split(/[ \t]+/);
      if (!allow.has(kind)) {
        allow.set(kind, []);
        positions.set(joinKey(joinKey("properties", "allow"), kind), at);
      }
      allow.get(kind)!.push(...entries);
      if (!properties.has("allow")) {
        properties.set("allow", undefined);
        positions.set(joinKey("properties", "allow"), at);
      }
      continue;
    }
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
  if (allow.size > 0) properties.set("allow", Object.fromEntries(allow));
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
    ? "the text ends here"
    : /^[\n\r\u2028\u2029]$/.test(e.found)
    ? "the line ends here"
    : `unexpected ${JSON.stringify(e.found)}`;
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
  return `syntax error: ${found}${expected}`;
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
