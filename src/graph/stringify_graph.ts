/**
 * Writing a graph as fbp-graph JSON text, refusing what JSON cannot hold.
 *
 * @module
 */
import type { Graph } from "./graph.ts";
import { joinIndex, joinKey } from "./_path.ts";
import { describeValue } from "../engine/component.ts";

/** Options of {@linkcode stringifyGraph}. */
export interface StringifyGraphOptions {
  /** Indentation, as for `JSON.stringify`. Default `2`. */
  indent?: number | string;
}

/**
 * Writes a graph as fbp-graph JSON text. Unlike a bare `JSON.stringify`,
 * it refuses to lose data: a value JSON cannot hold (a function IIP, a
 * `Map`, `NaN`, `undefined` data, a cycle) throws a `TypeError` naming its
 * path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stringifyGraph } from "./stringify_graph.ts";
 *
 * assert.equal(
 *   stringifyGraph({ processes: { A: { component: "core/Repeat" } } }, { indent: 0 }),
 *   '{"processes":{"A":{"component":"core/Repeat"}}}',
 * );
 * ```
 */
export function stringifyGraph(
  graph: Graph,
  options: StringifyGraphOptions = {},
): string {
  const problem = _findNonJson(graph, "", new Set());
  if (problem) {
    throw new TypeError(
      `Cannot write the graph as JSON: ${
        problem.path || "$"
      } ${problem.message}`,
    );
  }
  return JSON.stringify(graph, null, options.indent ?? 2);
}

function _findNonJson(
  value: unknown,
  path: string,
  seen: Set<object>,
): { path: string; message: string } | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value)
        ? undefined
        : { path, message: `is ${value}, which JSON cannot hold` };
    case "undefined":
      return { path, message: "is undefined, which JSON cannot hold" };
    case "object": {
      if (value === null) return undefined;
      if (seen.has(value)) {
        return { path, message: "refers back to itself (a cycle)" };
      }
      const proto = Object.getPrototypeOf(value);
      if (
        !Array.isArray(value) && proto !== Object.prototype && proto !== null
      ) {
        const kind = (value as { constructor?: { name?: string } })
          .constructor?.name ?? "object";
        return { path, message: `is a ${kind}, which JSON cannot hold` };
      }
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const p = _findNonJson(value[i], joinIndex(path, i), seen);
            if (p) return p;
          }
        } else {
          for (const [k, v] of Object.entries(value)) {
            // JSON.stringify drops an undefined field, as if it were absent;
            // only an IIP's data must be there.
            if (v === undefined && k !== "data") continue;
            const p = _findNonJson(v, joinKey(path, k), seen);
            if (p) return p;
          }
        }
      } finally {
        seen.delete(value);
      }
      return undefined;
    }
    default:
      return {
        path,
        message: `is ${describeValue(value)}, which JSON cannot hold`,
      };
  }
}
