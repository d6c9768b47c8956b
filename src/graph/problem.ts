/**
 * Problems found in a graph, where they are (a JSON path and, for text, a
 * line and column), and the source map that links the two.
 *
 * @module
 */
import { sourceMaps } from "./_path.ts";

/** A place in a text: 1-based line and column (UTF-16 code units). */
export interface Position {
  /** Line, from 1. */
  line: number;
  /** Column, from 1. */
  col: number;
}

/**
 * One thing wrong with a graph, stated so that a user can act on it.
 *
 * `path` is a JSON path into the graph (`processes.Tick.component`,
 * `connections[3].tgt.port`, `$` for the graph itself); `line` and `col` are
 * set when the graph was read from text.
 */
export interface Problem {
  /** JSON path into the graph; `$` for the graph itself. */
  path: string;
  /** Line in the source text, from 1. */
  line?: number;
  /** Column in the source text, from 1. */
  col?: number;
  /** What is wrong and what to do about it, as a sentence. */
  message: string;
}

/**
 * Where the parts of a graph were written in its source text, recorded by
 * `parseGraphJson()` and `parseFbp()`.
 */
export interface SourceMap {
  /** The file name given to the parser, for `file:line:col` messages. */
  file?: string;
  /**
   * Positions by JSON path (`processes.Tick`, `connections[2]`,
   * `inports.IN`); a problem takes the position of its path or of the
   * nearest enclosing path that has one.
   */
  positions: Map<string, Position>;
  /**
   * Problems found while reading the text that the parsed graph can no
   * longer show (a duplicate process name: the parser keeps only one).
   * `validateGraph()` reports them with the others.
   */
  problems: Problem[];
}

/**
 * The source map a parser recorded for a graph, or `undefined` for a graph
 * written in code. Kept beside the graph object, not inside it, so the graph
 * stays plain fbp-graph JSON; a graph changed after parsing keeps its old map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFbp } from "./parse_fbp.ts";
 * import { sourceMapOf } from "./problem.ts";
 *
 * const graph = parseFbp("'1s' -> interval Tick(core/Interval)");
 * assert.deepEqual(
 *   sourceMapOf(graph)?.positions.get("processes.Tick"),
 *   { line: 1, col: 18 },
 * );
 * ```
 */
export function sourceMapOf(graph: object): SourceMap | undefined {
  return sourceMaps.get(graph);
}

/**
 * Formats a problem as one line: `file:line:col: message` when its position
 * is known, else `file: path: message` (without a file, `line:col: message`
 * and `path: message`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatProblem } from "./problem.ts";
 *
 * assert.equal(
 *   formatProblem({ path: "processes.A", line: 3, col: 1, message: "oops" }, "a.fbp"),
 *   "a.fbp:3:1: oops",
 * );
 * assert.equal(
 *   formatProblem({ path: "processes", message: "no process" }, "a.json"),
 *   "a.json: processes: no process",
 * );
 * ```
 */
export function formatProblem(problem: Problem, file?: string): string {
  if (problem.line !== undefined) {
    const where = `${problem.line}:${problem.col ?? 1}`;
    return `${file ? `${file}:` : ""}${where}: ${problem.message}`;
  }
  return `${file ? `${file}: ` : ""}${problem.path}: ${problem.message}`;
}

/**
 * Sorts problems in place by where they are, as a reader meets them: by
 * line, then column; problems without a position come after, in the order
 * they were found (the sort is stable). Returns the array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sortProblems } from "./problem.ts";
 *
 * const sorted = sortProblems([
 *   { path: "processes", message: "a" },
 *   { path: "connections[1]", line: 4, col: 2, message: "b" },
 *   { path: "properties", message: "c" },
 *   { path: "connections[0]", line: 2, col: 9, message: "d" },
 *   { path: "connections[0].tgt", line: 2, col: 1, message: "e" },
 * ]);
 * assert.deepEqual(sorted.map((p) => p.message), ["e", "d", "b", "a", "c"]);
 * ```
 */
export function sortProblems(problems: Problem[]): Problem[] {
  const at = (p: Problem) => p.line === undefined ? Infinity : p.line;
  return problems.sort((a, b) =>
    at(a) - at(b) ||
    (a.line === undefined ? 0 : (a.col ?? 1) - (b.col ?? 1))
  );
}
