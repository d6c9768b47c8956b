/**
 * Reading fbp-graph JSON text loss-free, with the position of every key and
 * element for validation's line:col.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import type { Graph } from "./graph.ts";
import { GraphError } from "./graph_error.ts";
import type { SourceMap } from "./problem.ts";
import { sourceMaps } from "./_path.ts";
import { describeValue } from "../engine/component.ts";
import { JsonScanner, JsonSyntaxError } from "./_json_scan.ts";

/** Options of {@linkcode parseGraphJson}. */
export interface ParseGraphJsonOptions {
  /** The file name, for `file:line:col` in problems. */
  file?: string;
}

const PARSE_JSON_OPTIONS = optionKeys<ParseGraphJsonOptions>()(["file"]);

/**
 * Reads fbp-graph JSON text. The graph is exactly what `JSON.parse` returns
 * (every field kept, unknown ones too, a `"__proto__"` key as an own
 * property), so `JSON.stringify` of the result equals the input in
 * content. A byte order mark is skipped and takes no column. Positions of every key and array element are
 * recorded in the graph's source map ({@linkcode sourceMapOf}), and a key
 * written twice in one object (which `JSON.parse` silently collapses to the
 * last) becomes a problem there, reported by `validateGraph()`.
 *
 * Throws a {@linkcode GraphError} with the line and column of a JSON syntax
 * error, or when the text is not a JSON object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGraphJson } from "./parse_graph_json.ts";
 *
 * const graph = parseGraphJson(`{
 *   "processes": { "Tick": { "component": "core/Interval" } },
 *   "connections": [{ "data": "1s", "tgt": { "process": "Tick", "port": "interval" } }]
 * }`);
 * assert.equal(graph.processes?.Tick.component, "core/Interval");
 * ```
 */
export function parseGraphJson(
  text: string,
  options: ParseGraphJsonOptions = {},
): Graph {
  checkOptionKeys("Cannot parse graph JSON", options, PARSE_JSON_OPTIONS);
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot parse graph JSON: expected a string, received ${
        describeValue(text)
      }`,
    );
  }
  // A byte order mark is no part of the text, and takes no column.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const at = scanner.positionAt(e.offset);
    throw new GraphError([{
      path: e.path || "$",
      line: at.line,
      col: at.col,
      message: `JSON syntax error: ${e.message}`,
    }], { file: options.file, action: "Cannot read graph JSON" });
  }
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const at = scanner.positionAt(scanner.firstValueOffset);
    throw new GraphError([{
      path: "$",
      line: at.line,
      col: at.col,
      message:
        `a graph must be a JSON object with "processes" and "connections", found ${
          describeValue(value)
        }`,
    }], { file: options.file, action: "Cannot read graph JSON" });
  }
  const graph = value as Graph;
  const sourceMap: SourceMap = {
    file: options.file,
    positions: scanner.positions,
    problems: scanner.problems,
  };
  sourceMaps.set(graph, sourceMap);
  return graph;
}
