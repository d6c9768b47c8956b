/**
 * Reads a graph from text in either format.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { parseFbp } from "./parse_fbp.ts";
import type { Graph } from "./graph.ts";
import { GraphError } from "./graph_error.ts";
import { parseGraphJson } from "./parse_graph_json.ts";
import { describeValue } from "../engine/component.ts";

/** A text format of graphs. */
export type GraphFormat = "json" | "fbp";

/** Options of {@linkcode loadGraph}. */
export interface LoadGraphOptions {
  /**
   * The text's format. Default: `"json"` when the text starts with `{`
   * (after whitespace) and reads as JSON, else `"fbp"` (.fbp text may start
   * with a JSON IIP: `{"a": 1} -> options A(x/Y)`).
   */
  format?: GraphFormat;
  /** The file name, for `file:line:col` in problems. */
  file?: string;
}

/**
 * Reads fbp-graph JSON or .fbp DSL text into a graph, with its source map
 * (see `sourceMapOf()`). Throws a `GraphError` with line:col on a syntax
 * error; other problems are found by `validateGraph()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadGraph } from "./load_graph.ts";
 *
 * const fbp = loadGraph("'1s' -> interval Tick(core/Interval)");
 * assert.equal(fbp.processes?.Tick.component, "core/Interval");
 * assert.deepEqual(loadGraph('{ "processes": {} }').processes, {});
 * ```
 */
const LOAD_GRAPH_OPTIONS = optionKeys<LoadGraphOptions>()(["format", "file"]);

export function loadGraph(text: string, options: LoadGraphOptions = {}): Graph {
  checkOptionKeys("Cannot load graph", options, LOAD_GRAPH_OPTIONS);
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot load graph: expected text, received ${describeValue(text)}`,
    );
  }
  if (options.format === undefined) {
    if (!/^\uFEFF?\s*\{/.test(text)) {
      return parseFbp(text, { file: options.file });
    }
    return _jsonOrFbp(text, options.file);
  }
  const format = options.format;
  switch (format) {
    case "json":
      return parseGraphJson(text, { file: options.file });
    case "fbp":
      return parseFbp(text, { file: options.file });
    default:
      throw new RangeError(
        `Cannot load graph: format must be "json" or "fbp", received ${
          describeValue(format)
        }`,
      );
  }
}

/**
 * Text that starts with `{`: a JSON graph, or .fbp text whose first IIP is
 * JSON. When neither reads, the error of the reader that got further into
 * the text is the one that tells what is wrong (JSON's on a tie).
 */
function _jsonOrFbp(text: string, file: string | undefined): Graph {
  let jsonError: GraphError;
  try {
    return parseGraphJson(text, { file });
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    jsonError = e;
  }
  try {
    return parseFbp(text, { file });
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    const json = jsonError.problems[0];
    const fbp = e.problems[0];
    const further = (fbp?.line ?? 0) - (json?.line ?? 0) ||
      (fbp?.col ?? 0) - (json?.col ?? 0);
    throw further > 0 ? e : jsonError;
  }
}
