/**
 * What the flow manager takes and reports: a flow's graph as text, a
 * flow's state, and the events its subscribers hear.
 *
 * @module
 */
import type { NetworkStats } from "../engine/stats.ts";
import type { RestartPolicy } from "./supervision.ts";

/**
 * What a flow's subscribers hear. An `error` is a fault of a process (or,
 * without `process`, of the flow: a deadlock); its `level` is `"error"`
 * when something failed and `"warning"` for a condition the flow goes on
 * through (a broker tried again, a deadlock reported while the flow waits),
 * `"info"` for news of such a condition (the broker reached again): the
 * level its log line has.
 */
export type FlowEvent =
  | { type: "state"; state: string }
  | {
    type: "error";
    level: "error" | "warning" | "info";
    process?: string;
    message: string;
  }
  | { type: "replaced"; rev: number }
  | { type: "deleted" };

/**
 * A flow's statistics as the manager reports them: the engine's, with the
 * flow's state as {@linkcode FlowInfo.state} says it (a flow whose graph
 * no longer builds is `failed`, not its empty snapshot's `created`).
 */
export interface FlowStats extends Omit<NetworkStats, "state"> {
  /** As {@linkcode FlowInfo.state}. */
  state: string;
}

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
  /**
   * What happened: the network's state (`created`, `running`, `draining`,
   * `stopping`, `stopped`, `finished` when its sources ended by
   * themselves), `failed` when it could not be built or started (or the
   * supervisor gave up), `restarting` while a restart waits for its delay.
   */
  state: string;
  /** Why it failed, when `state` is `"failed"` or `"restarting"`. */
  error?: string;
  /**
   * `"bytes"` while its sources wait because its connections hold more
   * than the bytes budget per flow (`--flow-bytes-budget`); absent otherwise.
   */
  pressure?: "bytes";
  /**
   * Why weir did not start a flow that should run (safe mode): it is
   * `stopped` (or `failed` when its graph does not build) and does not
   * count against readiness; a start or a change clears it.
   */
  reason?: string;
  /** When it last failed (ISO 8601), when `state` is `"failed"` or `"restarting"`. */
  failedAt?: string;
  /** When the waiting restart is due (ISO 8601), when `state` is `"restarting"`. */
  nextRestartAt?: string;
  /** Its restart policy (`properties.restart` of its graph). */
  restart: RestartPolicy;
  /** Whether `/readyz` waits for it (`properties.required`). */
  required: boolean;
  /** Restarts the supervisor made since the flow was created or the server started. */
  restarts: number;
  /** Number of processes of its network (subgraphs flattened). */
  processes: number;
  /** When its current network started (ISO 8601), while `state` is `"running"`. */
  startedAt?: string;
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
