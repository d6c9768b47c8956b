/**
 * Faults: an exception (or rejection, timeout, overflow, open breaker) in a
 * process is counted on the process and becomes a `ProcessError` sent to
 * its `error` out-port when that is connected, else to the network's
 * `error` event. The host never crashes.
 *
 * @module
 */
import {
  BudgetError,
  type ErrorKind,
  OverflowError,
  ProcessError,
  type ReportLevel,
} from "./errors.ts";
import type { Listeners } from "./events.ts";
import { thrownText } from "./excerpt.ts";
import type { ProcessRuntime } from "./process.ts";

/**
 * The error kind of a thrown value: `overflow` for an `OverflowError`,
 * `timeout` for a `BudgetError` (a budget of time or depth spent), else
 * `exception`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorKind } from "./faults.ts";
 *
 * assert.deepEqual(errorKind(new Error("no")), "exception");
 * ```
 */
export function errorKind(e: unknown): ErrorKind {
  try {
    if (e instanceof OverflowError) return "overflow";
    return e instanceof BudgetError ? "timeout" : "exception";
  } catch {
    // A value that cannot be asked its class (a revoked proxy).
    return "exception";
  }
}

/**
 * `e` when it is `process`'s own `ProcessError`; `undefined` for anything
 * else, a value that cannot be asked its class (a revoked proxy) too.
 */
function _ownError(
  e: unknown,
  process: string,
): { error: ProcessError; level: ReportLevel; detail: string } | undefined {
  try {
    if (!(e instanceof ProcessError) || e.process !== process) return undefined;
    // Read once, here: a proxy of a ProcessError may throw from any getter.
    const { level, detail } = e;
    return typeof detail === "string" ? { error: e, level, detail } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Counts and routes the faults of one network's processes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineComponent } from "./component.ts";
 * import { Listeners } from "./events.ts";
 * import { Faults } from "./faults.ts";
 * import { type Engine, ProcessRuntime } from "./process.ts";
 *
 * const listeners = new Listeners();
 * const seen: string[] = [];
 * listeners.on("error", (e) => seen.push(e.message));
 * const faults = new Faults("demo", listeners, () => false);
 * const Parse = defineComponent({
 *   name: "test/Parse",
 *   description: "Parses.",
 *   inPorts: { in: {} },
 *   process() {},
 * });
 * const engine: Engine = {
 *   name: "demo",
 *   sendFrom() {},
 *   receive: () => Promise.resolve(undefined),
 * };
 * const p = new ProcessRuntime(engine, "Parse", Parse, {}, {});
 * faults.fail(p, new Error("boom"), "{oops", "in");
 * assert.deepEqual(seen, ['process "Parse" failed on in-port "in": boom']);
 * assert.deepEqual([p.errorsException, p.failures], [1, 1]);
 * // A warning it reports is routed as one, and not counted.
 * faults.report(p, new Error("device busy; retrying in 1 s"), undefined, { level: "warning" });
 * assert.deepEqual(seen[1], 'process "Parse" (test/Parse): device busy; retrying in 1 s');
 * assert.deepEqual([p.errorsException, p.failures], [1, 1]);
 * // So is an info (a recovery after a warning).
 * faults.report(p, "device ready again", undefined, { level: "info" });
 * assert.deepEqual(seen[2], 'process "Parse" (test/Parse): device ready again');
 * assert.deepEqual([p.errorsException, p.failures], [1, 1]);
 * ```
 */
export class Faults {
  /**
   * Creates the fault handling of network `network`; nothing is routed
   * while `silenced()` (the network is stopping or stopped).
   */
  constructor(
    readonly network: string,
    readonly listeners: Listeners,
    readonly silenced: () => boolean,
  ) {}

  /** Counts one failed attempt of `kind` against `p`, and when it happened. */
  count(p: ProcessRuntime, kind: ErrorKind): void {
    if (kind === "timeout") p.errorsTimeout++;
    else if (kind === "overflow") p.errorsOverflow++;
    else p.errorsException++;
    p.lastErrorAt = Date.now();
  }

  /** `p` failed `input` (taken on `port`) with `e`, for good: counts and routes it. */
  fail(p: ProcessRuntime, e: unknown, input: unknown, port: string): void {
    const kind = errorKind(e);
    this.count(p, kind);
    p.failures++;
    this.route(p, e, input, port, kind);
  }

  /**
   * `p` reported `e` without failing (`ctx.report`): at `level` (default
   * `"error"`), counted as a failed attempt is; at `"warning"` (a
   * condition `p` goes on through) or `"info"`, not counted. Routed with its level; a
   * `ProcessError` of `p` goes as it is, at its own level.
   */
  report(
    p: ProcessRuntime,
    e: unknown,
    input: unknown,
    options?: { level?: ReportLevel },
  ): void {
    const level = _ownError(e, p.name)?.level ?? options?.level ?? "error";
    const kind = errorKind(e);
    if (level === "error") this.count(p, kind);
    this.route(p, e, input, "", kind, level);
  }

  /** `p`'s open breaker rejected `input`: counted as a drop, routed as an error. */
  rejected(p: ProcessRuntime, input: unknown, port: string): void {
    p.rejected++;
    const e = new ProcessError(
      "its circuit breaker is open; the message was rejected",
      {
        network: this.network,
        process: p.name,
        port,
        kind: "circuit_open",
        input,
      },
    );
    this.route(p, e, input, port, "circuit_open");
  }

  /**
   * Sends `e` (as a `ProcessError` of `level`, default `"error"`) to `p`'s
   * error port when connected, else to the `error` event; an error port
   * that cannot take it (a full `error`-policy connection) is reported on
   * the event with the reason.
   */
  route(
    p: ProcessRuntime,
    e: unknown,
    input: unknown,
    port: string,
    kind: ErrorKind,
    level: ReportLevel = "error",
  ): void {
    if (this.silenced()) return;
    const network = this.network;
    // p's own ProcessError goes as it is at its own level; one of another
    // level (a warning thrown, which fails the message) is worded again at
    // this one, from its detail.
    const own = _ownError(e, p.name);
    const pe = own !== undefined && own.level === level
      ? own.error
      : new ProcessError(
        own !== undefined ? own.detail : thrownText(e),
        {
          network,
          process: p.name,
          component: p.component.name,
          port,
          kind,
          level,
          input,
          cause: e,
        },
      );
    const ep = p.errorPort;
    if (ep === null || !ep.connected) {
      this.listeners.emit("error", pe);
      return;
    }
    try {
      void ep.send(pe);
    } catch (e2) {
      this.listeners.emit(
        "error",
        new ProcessError(
          `its error port could not take the ${pe.level} (${
            (e2 as Error).message
          }): ${pe.message}`,
          {
            network,
            process: p.name,
            component: p.component.name,
            port,
            kind,
            level: pe.level,
            input,
            cause: pe,
          },
        ),
      );
    }
  }
}
