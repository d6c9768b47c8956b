/**
 * Reads a graph from text in either format.
 *
 * @module
 */
import { parseFbp } from "./fbp.ts";
import type { Graph } from "./graph.ts";
import { parseGraphJson } from "./graph_json.ts";
import { describeValue } from "../engine/component.ts";

/** A text format of graphs. */
export type GraphFormat = "json" | "fbp";

/** Options of {@linkcode loadGraph}. */
export interface LoadGraphOptions {
  /**
   * The text's format. Default: `"json"` when the text starts with `{`
   * (after whitespace), else `"fbp"`.
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
 * import { loadGraph } from "./load_graph.ts";
 *
 * loadGraph("'1s' -> interval Tick(core/Interval)").processes?.Tick.component;
 * // "core/Interval"
 * loadGraph('{ "processes": {} }').processes; // {}
 * ```
 */
export function loadGraph(text: string, options: LoadGraphOptions = {}): Graph {
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot load graph: expected text, received ${describeValue(text)}`,
    );
  }
  const format = options.format ??
    (/^\uFEFF?\s*\{/.test(text) ? "json" : "fbp");
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
