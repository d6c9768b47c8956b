/**
 * Keeps `weir serve` and `weir run` up when an error escapes every flow (a
 * component's timer that throws, a promise it leaves rejected) and tells
 * the operator in the log, one `error` line each (5 a minute, then a
 * summary), with where it was thrown.
 *
 * @module
 */
import { ErrorLogLimiter } from "../flows/error_log_limiter.ts";
import { onUncaught } from "../runtime/uncaught.ts";
import { thrownValue } from "../engine/excerpt.ts";
import type { Logger } from "./log.ts";

/** Options of {@linkcode logUncaught}. */
export interface LogUncaughtOptions {
  /** Called for each error that escaped (`weir run` counts it as a failure). Default none. */
  onEscaped?: () => void;
  /**
   * Whether weir is stopping now: an error that escapes then is said to
   * have come as weir was stopping, and the line ends with the shutdown
   * going on, not with weir going on. Default: never.
   */
  stopping?: () => boolean;
}

/**
 * Logs each error that escapes every `try` and awaited promise to `log`
 * instead of letting the runtime end the process (Deno) or print it
 * unstructured (Bun). The line ends "weir goes on", or, while `stopping()`,
 * "as weir was stopping; the shutdown goes on". Returns a function that
 * stops it one turn of the event loop later (so that an error escaping
 * just before is still heard), writing the pending summary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logUncaught } from "./log_uncaught.ts";
 * import type { Logger } from "./log.ts";
 *
 * const lines: string[] = [];
 * const log = {
 *   log: (level: string, msg: string) => lines.push(`${level} ${msg}`),
 * } as unknown as Logger;
 * const off = logUncaught(log);
 * setTimeout(() => {
 *   throw new RangeError("out of range");
 * });
 * await new Promise((resolve) => setTimeout(resolve, 50));
 * await off();
 * assert.equal(lines.length, 1);
 * assert.match(
 *   lines[0],
 *   /^error uncaught error: RangeError: out of range \(at .+:\d+:\d+\), thrown outside any flow's activation \(a callback or a promise nobody awaits, as in an own component\); weir goes on$/,
 * );
 *
 * // While weir stops, the line does not promise that it goes on.
 * const offStopping = logUncaught(log, { stopping: () => true });
 * void Promise.reject("closed twice");
 * await new Promise((resolve) => setTimeout(resolve, 50));
 * await offStopping();
 * assert.match(
 *   lines[1],
 *   /^error uncaught error: "closed twice", thrown outside any flow's activation \(.*\) as weir was stopping; the shutdown goes on$/,
 * );
 * ```
 */
export function logUncaught(
  log: Logger,
  options: LogUncaughtOptions = {},
): () => Promise<void> {
  const { onEscaped = () => {}, stopping = () => false } = options;
  const limiter = new ErrorLogLimiter({
    write: (line, level, fields) =>
      log.log(level === "warning" ? "warn" : level, line, fields),
  });
  const off = onUncaught((error, kind) => {
    onEscaped();
    const at = _thrownAt(error);
    limiter.report({
      key: "uncaught",
      prefix: "uncaught error",
      message: `${_describe(error)}${
        at === undefined ? "" : ` (at ${at})`
      }, thrown outside any flow's activation (a callback or a promise nobody awaits, as in an own component)${
        stopping()
          ? " as weir was stopping; the shutdown goes on"
          : "; weir goes on"
      }`,
      subject: "code outside the flows",
      fields: { uncaught: kind, ...(at === undefined ? {} : { at }) },
    });
  });
  return async () => {
    // A promise left rejected just before (a teardown's, at a shutdown)
    // is reported once this turn ends: heard and logged, rather than by
    // the runtime, or not at all once weir has exited.
    await new Promise((resolve) => setTimeout(resolve, 0));
    off();
    limiter.close();
  };
}

/**
 * An error in one line: `Name: message`, anything else as
 * {@linkcode thrownValue} gives it (a string quoted, JSON where it can be).
 */
function _describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return thrownValue(error);
}

/** The file, line and column the error's stack starts at, if it has one. */
function _thrownAt(error: unknown): string | undefined {
  if (!(error instanceof Error) || typeof error.stack !== "string") {
    return undefined;
  }
  for (const line of error.stack.split("\n")) {
    const m = /^\s*at .*?\(?((?:file:\/\/)?\/[^\s()]+:\d+:\d+)\)?\s*$/.exec(
      line,
    );
    if (m !== null) {
      return m[1].startsWith("file://")
        ? decodeURIComponent(m[1].slice("file://".length))
        : m[1];
    }
  }
  return undefined;
}
