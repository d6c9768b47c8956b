/**
 * The error thrown for a graph that cannot be read, built or defined.
 *
 * @module
 */
import { formatProblem, type Problem, sortProblems } from "./problem.ts";

/** Options of {@linkcode GraphError}. */
export interface GraphErrorOptions {
  /** The file the graph was read from, for `file:line:col` lines. */
  file?: string;
  /** What was being done, for the first line. Default `"Invalid graph"`. */
  action?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * A graph with problems. `problems` holds every one of them, by position
 * (line, then column; those without one last, as found); the message lists
 * them one per line (`file:line:col: message` when the position is known,
 * else `path: message`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphError } from "./graph_error.ts";
 *
 * const error = new GraphError([
 *   { path: "processes.A.component", message: 'unknown component "x/Y"' },
 * ]);
 * assert.equal(
 *   error.message,
 *   'Invalid graph: 1 problem\nprocesses.A.component: unknown component "x/Y"',
 * );
 * ```
 */
export class GraphError extends Error {
  /** Always `"GraphError"`. */
  override name = "GraphError";
  /** Every problem found, by position (see `sortProblems()`). */
  readonly problems: readonly Problem[];
  /** The file the graph was read from, when given. */
  readonly file?: string;

  /** Creates the error; the message lists every problem. */
  constructor(found: readonly Problem[], options: GraphErrorOptions = {}) {
    const problems = sortProblems([...found]);
    const count = `${problems.length} problem${
      problems.length === 1 ? "" : "s"
    }`;
    const lines = problems.map((p) => formatProblem(p, options.file));
    super(
      [`${options.action ?? "Invalid graph"}: ${count}`, ...lines].join("\n"),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.problems = problems;
    this.file = options.file;
  }
}
