/**
 * Errors a network reports about its processes.
 *
 * @module
 */

import { excerpt } from "./excerpt.ts";

/** Why a process failed a message. */
export type ErrorKind = "exception" | "timeout" | "overflow" | "circuit_open";

/** The error kinds, in documentation order. */
export const ERROR_KINDS: readonly ErrorKind[] = [
  "exception",
  "timeout",
  "overflow",
  "circuit_open",
];

/**
 * How much a process's report matters: `"error"` (it failed a message or
 * its work), `"warning"` (a condition it goes on through: a broker it
 * cannot reach yet, tried again with a backoff), `"info"` (news an
 * operator waits for after a warning: that broker reached again).
 */
export type ReportLevel = "error" | "warning" | "info";

/**
 * A fault of one process, sent to its `error` out-port when connected and
 * otherwise emitted as the network's `error` event. Its `level` (see
 * {@linkcode ReportLevel}) is `"error"` (the default) when the process
 * failed a message or its work, and `"warning"` for a condition it reports
 * and goes on through: the message of a warning says what happens, never
 * that the process failed. An `"info"` is no fault but goes the same way,
 * so that whoever saw the warning sees the recovery it waited for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessError } from "./errors.ts";
 *
 * const e = new ProcessError("boom", {
 *   network: "demo",
 *   process: "Parse",
 *   port: "in",
 *   kind: "exception",
 *   input: "{oops",
 * });
 * assert.deepEqual(e.message, 'process "Parse" failed on in-port "in": boom');
 * assert.deepEqual([e.name, e.kind, e.input, e.level], [
 *   "ProcessError",
 *   "exception",
 *   "{oops",
 *   "error",
 * ]);
 * const w = new ProcessError("cannot connect to broker mqtt://b:1883; retrying in 2 s", {
 *   network: "demo",
 *   process: "In",
 *   component: "mqtt/In",
 *   port: "",
 *   kind: "exception",
 *   level: "warning",
 * });
 * assert.equal(w.message, 'process "In" (mqtt/In): cannot connect to broker mqtt://b:1883; retrying in 2 s');
 * // An info reads as a warning does.
 * const i = new ProcessError("connected to broker mqtt://b:1883 again", {
 *   network: "demo",
 *   process: "In",
 *   component: "mqtt/In",
 *   port: "",
 *   kind: "exception",
 *   level: "info",
 * });
 * assert.equal(i.message, 'process "In" (mqtt/In): connected to broker mqtt://b:1883 again');
 * ```
 */
export class ProcessError extends Error {
  /** Always `"ProcessError"`. */
  override name = "ProcessError";
  /** The network (flow) name. */
  readonly network: string;
  /** The failing process. */
  readonly process: string;
  /** The in-port of the message being processed (`""` when none). */
  readonly port: string;
  /** What went wrong (of a warning or an info, which are no failure: `exception`). */
  readonly kind: ErrorKind;
  /** `"error"`: the process failed; `"warning"`, `"info"`: it goes on (see above). */
  readonly level: ReportLevel;
  /** The message being processed when it failed, if any. */
  readonly input: unknown;
  /**
   * What happened, without the process's name (the message is this,
   * prefixed with it): a `ProcessError` at level warning or info that a
   * process throws, a failure after all, is routed again at level error
   * with this detail.
   */
  readonly detail: string;

  /** Creates the error; `detail` is the underlying reason. */
  constructor(
    detail: string,
    info: {
      network: string;
      process: string;
      port: string;
      kind: ErrorKind;
      input?: unknown;
      cause?: unknown;
      /** Default `"error"`. */
      level?: ReportLevel;
      /** The process's component, named in a warning's (or info's) message when given. */
      component?: string;
    },
  ) {
    // The detail often quotes the value that failed (a thrown string, a
    // path): this message reaches the log and the event stream, so it
    // keeps an excerpt, never a whole payload; `input` and `cause` keep
    // everything for the code that handles the error.
    const why = excerpt(detail);
    const level = info.level ?? "error";
    const on = info.port ? ` on in-port "${info.port}"` : "";
    super(
      level !== "error"
        ? `process "${info.process}"${
          info.component === undefined ? "" : ` (${info.component})`
        }${on}: ${why}`
        : `process "${info.process}" failed${on}: ${why}`,
      { cause: info.cause },
    );
    this.network = info.network;
    this.process = info.process;
    this.port = info.port;
    this.kind = info.kind;
    this.level = level;
    this.input = info.input;
    this.detail = why;
  }
}

/**
 * Whether `value` is a {@linkcode ProcessError}: `false` for anything else,
 * a value that cannot be asked its class too (a revoked proxy, on which
 * `instanceof` throws).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isProcessError, ProcessError } from "./errors.ts";
 *
 * const e = new ProcessError("bad", { network: "n", process: "P", port: "in", kind: "exception" });
 * assert.equal(isProcessError(e), true);
 * assert.equal(isProcessError(new Error("bad")), false);
 * const { proxy, revoke } = Proxy.revocable({}, {});
 * revoke();
 * assert.equal(isProcessError(proxy), false);
 * ```
 */
export function isProcessError(value: unknown): value is ProcessError {
  try {
    return value instanceof ProcessError;
  } catch {
    return false;
  }
}

/**
 * Thrown by a send into a full connection whose overflow policy is `error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OverflowError } from "./errors.ts";
 *
 * const e = new OverflowError("A.out -> B.in", 10);
 * assert.deepEqual(
 *   e.message,
 *   'connection A.out -> B.in is full (10 of 10) and its policy is "error"',
 * );
 * assert.deepEqual([e.name, e.connection, e.capacity], [
 *   "OverflowError",
 *   "A.out -> B.in",
 *   10,
 * ]);
 * ```
 */
export class OverflowError extends Error {
  /** Always `"OverflowError"`. */
  override name = "OverflowError";
  /** The connection, as `A.out -> B.in`. */
  readonly connection: string;
  /** Its capacity. */
  readonly capacity: number;

  /** Creates the error for a connection and its capacity. */
  constructor(connection: string, capacity: number) {
    super(
      `connection ${connection} is full (${capacity} of ${capacity}) and its policy is "error"`,
    );
    this.connection = connection;
    this.capacity = capacity;
  }
}

/** Which limit of a budget a {@linkcode BudgetError} went over. */
export type BudgetLimit = "timeoutMs" | "maxDepth";

/**
 * Thrown by an activation that went over a budget of its work (a JSONata
 * expression evaluated longer than its time budget, or nested deeper than
 * its depth budget), so that one message cannot block the host. The
 * engine counts it as an error of kind `timeout`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BudgetError } from "./errors.ts";
 *
 * const e = new BudgetError("too slow", "timeoutMs", 1000);
 * assert.deepEqual([e.name, e.limit, e.budget], ["BudgetError", "timeoutMs", 1000]);
 * assert.ok(e instanceof RangeError);
 * ```
 */
export class BudgetError extends RangeError {
  /** Always `"BudgetError"`. */
  override name = "BudgetError";
  /** The limit it went over. */
  readonly limit: BudgetLimit;
  /** That limit's value (ms or nesting steps). */
  readonly budget: number;
  /** Creates the error; `cause` keeps the underlying error. */
  constructor(
    message: string,
    limit: BudgetLimit,
    budget: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.limit = limit;
    this.budget = budget;
  }
}
