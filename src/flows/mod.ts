/**
 * The flow manager domain: the stored flows of one weir instance, built
 * from their graphs, run, replaced, patched (RFC 7386 merge patch), stopped
 * and deleted, one operation at a time per flow, and kept in an SQLite
 * database across restarts. Its errors say what happened and carry their
 * data; none carries an HTTP status (the server maps them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowManager, FlowNotFoundError, FlowStore } from "./mod.ts";
 * import { builtins } from "../components/mod.ts";
 *
 * const flows = new FlowManager({
 *   store: FlowStore.open(":memory:"),
 *   registry: builtins(),
 * });
 * await flows.restore();
 * const info = await flows.create({
 *   id: "a",
 *   text: "A(core/Repeat)",
 *   format: "fbp",
 *   start: false,
 * });
 * assert.deepEqual([info.id, info.rev, info.state], ["a", 1, "created"]);
 * assert.throws(() => flows.get("b"), FlowNotFoundError);
 * await flows.close();
 * ```
 *
 * @module
 */
export {
  FlowConflictError,
  FlowManagerClosedError,
  FlowNotFoundError,
  FlowStartError,
  FlowStorageError,
  FlowStoreError,
  GraphTooDeepError,
  InvalidFlowArgumentError,
  InvalidPatchError,
  type StorageFailure,
} from "./errors.ts";
export type { FlowEvent, FlowInfo, FlowInput, FlowStats } from "./flow_info.ts";
export { type LineWriter, OutputHub, type OutputLine } from "./output_hub.ts";
export {
  type StallInfo,
  StallWatchdog,
  type StallWatchdogOptions,
} from "./stall_watchdog.ts";
export {
  ErrorLogLimiter,
  type ErrorLogLimiterOptions,
} from "./error_log_limiter.ts";
export {
  type CrashLoopOptions,
  type FlowLogLevel,
  FlowManager,
  type FlowManagerOptions,
} from "./flow_manager.ts";
export {
  DEFAULT_SUPERVISION,
  MAX_RESTART_LIMIT,
  RESTART_POLICIES,
  restartDelay,
  type RestartPolicy,
  type Supervision,
  supervisionOf,
} from "./supervision.ts";
export {
  FlowStore,
  type FlowStoreOptions,
  type StoredFlow,
} from "./flow_store.ts";
