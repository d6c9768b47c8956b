/**
 * What the flow manager takes and reports: a flow's graph as text, a
 * flow's state, and the events its subscribers hear.
 *
 * @module
 */

/** What a flow's subscribers hear. */
export type FlowEvent =
  | { type: "state"; state: string }
  | { type: "error"; process?: string; message: string }
  | { type: "replaced"; rev: number }
  | { type: "deleted" };

/** A flow as the manager reports it. */
export interface FlowInfo {
  /** The flow's id (the `flow` label of its metrics). */
  id: string;
  /** The stored rev: 1 on create, one more on every change. */
  rev: number;
  /** The format of its stored text. */
  format: "json" | "fbp";
  /** Whether it should run (and runs again after a restart). */
  running: boolean;
  /** The network's state, or `"failed"` when it could not be built or started. */
  state: string;
  /** Why it failed, when `state` is `"failed"`. */
  error?: string;
  /** Number of processes of its network (subgraphs flattened). */
  processes: number;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601. */
  updatedAt: string;
}

/** A graph as text. */
export interface FlowInput {
  /** The graph: fbp-graph JSON or .fbp text. */
  text: string;
  /** The text's format. */
  format: "json" | "fbp";
}
