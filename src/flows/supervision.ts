/**
 * A flow's supervision settings, read from its graph's `properties`: what
 * happens when its network fails to start or ends by itself (a restart
 * policy with backoff and a limit, as a service manager has), and whether
 * `/readyz` waits for it (`required`).
 *
 * They live in the graph (`properties.restart`, ...) rather than in a
 * request parameter because DESIGN.md keeps weir's settings inside
 * `properties` and `metadata`: a flow's text then says everything about
 * it, the .fbp DSL sets them as `# @restart on-failure`, and a PUT or
 * PATCH changes them like any other part of the graph.
 *
 * @module
 */
import type { Graph } from "../graph/graph.ts";
import { GraphError } from "../graph/graph_error.ts";
import { _readSupervision, type Supervision } from "../graph/_supervision.ts";

export {
  DEFAULT_SUPERVISION,
  MAX_RESTART_LIMIT,
  RESTART_POLICIES,
  type RestartPolicy,
  type Supervision,
} from "../graph/_supervision.ts";

/**
 * Reads a graph's supervision settings. The .fbp DSL gives every property
 * as text, so numbers and booleans are taken as text too (`"5"`,
 * `"true"`). A bad value is a `GraphError` listing each problem with its
 * path (`properties.restart`), the range and what was received.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { supervisionOf } from "./supervision.ts";
 *
 * const s = supervisionOf({ properties: { restart: "on-failure", restartLimit: "3" } });
 * assert.deepEqual([s.restart, s.restartLimit, s.required], ["on-failure", 3, false]);
 * assert.throws(
 *   () => supervisionOf({ properties: { restart: "sometimes" } }),
 *   /properties.restart: restart must be one of never, on-failure, always, received "sometimes"/,
 * );
 * ```
 */
export function supervisionOf(graph: Graph | null | undefined): Supervision {
  const { supervision, problems } = _readSupervision(graph?.properties);
  if (problems.length > 0) throw new GraphError(problems);
  return supervision;
}

/**
 * The wait before restart number `attempt` (1 for the first) in a row:
 * `restartDelayMs` doubled per earlier attempt, at most
 * `restartMaxDelayMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SUPERVISION, restartDelay } from "./supervision.ts";
 *
 * assert.deepEqual(
 *   [1, 2, 3, 10].map((n) => restartDelay(DEFAULT_SUPERVISION, n)),
 *   [1000, 2000, 4000, 60000],
 * );
 * ```
 */
export function restartDelay(s: Supervision, attempt: number): number {
  const doubled = s.restartDelayMs *
    2 ** Math.min(Math.max(attempt - 1, 0), 40);
  return Math.min(doubled, s.restartMaxDelayMs);
}
