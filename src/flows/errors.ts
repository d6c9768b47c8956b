/**
 * The conditions of the flow domain that callers catch. Each says what
 * happened and carries its data; none knows of HTTP (the server maps them
 * to statuses in one table).
 *
 * @module
 */

/**
 * A flow that does not exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowNotFoundError } from "./errors.ts";
 *
 * const e = new FlowNotFoundError("sensors");
 * assert.deepEqual(
 *   [e.name, e.id, e.message],
 *   ["FlowNotFoundError", "sensors", 'Flow "sensors" does not exist'],
 * );
 * ```
 */
export class FlowNotFoundError extends Error {
  /** Always `"FlowNotFoundError"`. */
  override name = "FlowNotFoundError";
  /** The flow's id. */
  readonly id: string;

  /** Creates the error; `message` defaults to a sentence naming the flow. */
  constructor(id: string, message?: string) {
    super(message ?? `Flow ${JSON.stringify(id)} does not exist`);
    this.id = id;
  }
}

/**
 * A change that conflicts with the stored flow: its `rev` is stale, the id
 * of a new flow is taken, or the stored graph cannot take a patch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowConflictError } from "./errors.ts";
 *
 * const e = new FlowConflictError("sensors", "Cannot update flow: stale rev", {
 *   expectedRev: 2,
 *   actualRev: 3,
 * });
 * assert.deepEqual([e.name, e.expectedRev, e.actualRev], ["FlowConflictError", 2, 3]);
 * ```
 */
export class FlowConflictError extends Error {
  /** Always `"FlowConflictError"`. */
  override name = "FlowConflictError";
  /** The flow's id. */
  readonly id: string;
  /** The rev the caller expected, when it gave one. */
  readonly expectedRev?: number;
  /** The rev stored, when the flow exists. */
  readonly actualRev?: number;

  /** Creates the error. */
  constructor(
    id: string,
    message: string,
    revs: { expectedRev?: number; actualRev?: number } = {},
  ) {
    super(message);
    this.id = id;
    this.expectedRev = revs.expectedRev;
    this.actualRev = revs.actualRev;
  }
}

/**
 * A graph that built but could not start (a component's `setup` threw, a
 * control IIP was refused); `cause` holds the underlying error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowStartError } from "./errors.ts";
 *
 * const boom = new Error("boom");
 * const e = new FlowStartError("a", 'Cannot start flow "a": boom', { cause: boom });
 * assert.deepEqual([e.name, e.id, e.cause], ["FlowStartError", "a", boom]);
 * ```
 */
export class FlowStartError extends Error {
  /** Always `"FlowStartError"`. */
  override name = "FlowStartError";
  /** The flow's id. */
  readonly id: string;

  /** Creates the error. */
  constructor(id: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.id = id;
  }
}

/**
 * An operation refused because the flow manager is closed (weir is shutting
 * down); the same operation may succeed against a manager that runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowManagerClosedError } from "./errors.ts";
 *
 * const e = new FlowManagerClosedError("Cannot start flow: the flow manager is closed");
 * assert.equal(e.name, "FlowManagerClosedError");
 * ```
 */
export class FlowManagerClosedError extends Error {
  /** Always `"FlowManagerClosedError"`. */
  override name = "FlowManagerClosedError";
}

/**
 * An argument that no flow operation can take: an `id` that breaks the id
 * rule (1 to 128 letters, digits, `_`, `.` or `-`, starting with a letter
 * or digit) or a `rev` that is not a positive integer. `received` is what
 * was given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidFlowArgumentError } from "./errors.ts";
 *
 * const e = new InvalidFlowArgumentError("rev", 0, "Cannot update flow: rev must be a positive integer, received 0");
 * assert.ok(e instanceof RangeError);
 * assert.deepEqual([e.name, e.argument, e.received], ["InvalidFlowArgumentError", "rev", 0]);
 * ```
 */
export class InvalidFlowArgumentError extends RangeError {
  /** Always `"InvalidFlowArgumentError"`. */
  override name = "InvalidFlowArgumentError";
  /**
   * Which argument: the flow's `id` (or the graph name it would come
   * from), an expected `rev`, or a `connection` to tap.
   */
  readonly argument: "id" | "rev" | "connection";
  /** What was given. */
  readonly received: unknown;

  /** Creates the error. */
  constructor(
    argument: "id" | "rev" | "connection",
    received: unknown,
    message: string,
  ) {
    super(message);
    this.argument = argument;
    this.received = received;
  }
}

/**
 * A JSON merge patch of a graph that is not an object (an array, a string,
 * `null`, ...), so there is nothing to merge.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidPatchError } from "./errors.ts";
 *
 * const e = new InvalidPatchError("a", 'Cannot patch flow "a": not an object');
 * assert.ok(e instanceof TypeError);
 * assert.deepEqual([e.name, e.id], ["InvalidPatchError", "a"]);
 * ```
 */
export class InvalidPatchError extends TypeError {
  /** Always `"InvalidPatchError"`. */
  override name = "InvalidPatchError";
  /** The flow's id. */
  readonly id: string;

  /** Creates the error. */
  constructor(id: string, message: string) {
    super(message);
    this.id = id;
  }
}

/**
 * A graph or patch nested too deeply to read (JSON objects and arrays
 * within each other thousands of levels deep): reading it overflowed the
 * call stack. `cause` holds the runtime's error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphTooDeepError } from "./errors.ts";
 *
 * const e = new GraphTooDeepError("Cannot create flow: its graph is nested too deeply");
 * assert.ok(e instanceof RangeError);
 * assert.equal(e.name, "GraphTooDeepError");
 * ```
 */
export class GraphTooDeepError extends RangeError {
  /** Always `"GraphTooDeepError"`. */
  override name = "GraphTooDeepError";
}

/**
 * The flow database failed: it could not be opened, or it is closed. The
 * message names the file and says why; `cause` holds SQLite's error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowStoreError } from "./errors.ts";
 *
 * const e = new FlowStoreError("/data/flows.db", "Cannot list flows: the flow database /data/flows.db is closed");
 * assert.deepEqual([e.name, e.path], ["FlowStoreError", "/data/flows.db"]);
 * ```
 */
export class FlowStoreError extends Error {
  /** Always `"FlowStoreError"`. */
  override name = "FlowStoreError";
  /** The database file, or `":memory:"`. */
  readonly path: string;

  /** Creates the error. */
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

/** Why the flow database cannot be written. */
export type StorageFailure = "disk_full" | "read_only" | "io_error";

/**
 * The flow database could not be written: its disk is full (SQLite's
 * `SQLITE_FULL`, the system's `ENOSPC`), it is read-only, or the system
 * reported an I/O error. The change was not made. `reason` says which;
 * `cause` holds SQLite's error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowStorageError, FlowStoreError } from "./errors.ts";
 *
 * const e = new FlowStorageError("/data/weir.db", "disk_full", "Cannot create flow \"a\": the disk of the flow database /data/weir.db is full");
 * assert.deepEqual([e.name, e.reason, e instanceof FlowStoreError], ["FlowStorageError", "disk_full", true]);
 * ```
 */
export class FlowStorageError extends FlowStoreError {
  /** Always `"FlowStorageError"`. */
  override name = "FlowStorageError";
  /** Why the database cannot be written. */
  readonly reason: StorageFailure;

  /** Creates the error. */
  constructor(
    path: string,
    reason: StorageFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(path, message, options);
    this.reason = reason;
  }
}
