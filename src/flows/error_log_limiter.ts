/**
 * Quiet logs: the repeated errors of one process are rate-limited. The
 * first `burst` of an interval are written; the rest are counted, and one
 * summary line per interval says how many there were and the last one
 * ("process X failed 1,938 more times in the last 60 s: last error ...").
 * Warnings (a broker tried again) are limited apart, so that they never
 * hold back an error, and keep their level ("process X warned 12 more
 * times ...: last warning ..."); so are infos (a broker reached again:
 * "process X reported 3 more times ...: last ..."). Only the log is
 * limited: the error counters, metrics and event streams see every error.
 *
 * @module
 */

/** Options of {@linkcode ErrorLogLimiter}. */
export interface ErrorLogLimiterOptions {
  /**
   * Where lines go, with the level of what they tell and the fields given
   * to {@linkcode ErrorLogLimiter.report} (a summary carries those of its
   * key's first report), for structured logs.
   */
  write: (line: string, level: ErrorLogLevel, fields?: ErrorLogFields) => void;
  /** Errors of one key written per interval before the rest are counted. Default 5. */
  burst?: number;
  /** The interval, in ms. Default 60000. */
  intervalMs?: number;
}

/** What a line of an {@linkcode ErrorLogLimiter} tells: a failure, a warning, or an info. */
export type ErrorLogLevel = "error" | "warning" | "info";

/** The facts of a reported error, for structured logs (`flow`, `process`). */
export type ErrorLogFields = Readonly<
  Record<string, string | number | boolean>
>;

/** One error (or warning) given to {@linkcode ErrorLogLimiter.report}. */
export interface ErrorLogReport {
  /** What is limited together, e.g. one process of one flow. */
  key: string;
  /** What each line starts with, e.g. `flow "f"`. */
  prefix: string;
  /** The error (or warning) itself. */
  message: string;
  /** Who failed, as a summary names it, e.g. `process "P"`. */
  subject: string;
  /** Whether it is a failure, a warning or an info. Default `"error"`. */
  level?: ErrorLogLevel;
  /**
   * Go to `write` with the line (a summary carries those of its key's
   * first report, and `suppressed`). Default none.
   */
  fields?: ErrorLogFields;
}

interface _Window {
  level: ErrorLogLevel;
  start: number;
  logged: number;
  suppressed: number;
  last: string;
  prefix: string;
  subject: string;
  fields: ErrorLogFields | undefined;
}

/**
 * Rate-limits log lines by key (a flow's process).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorLogLimiter } from "./error_log_limiter.ts";
 *
 * const lines: string[] = [];
 * const limiter = new ErrorLogLimiter({ write: (l) => lines.push(l), burst: 2 });
 * for (let i = 1; i <= 5; i++) {
 *   limiter.report({
 *     key: "f/P",
 *     prefix: 'flow "f"',
 *     message: `boom ${i}`,
 *     subject: "process P",
 *   });
 * }
 * limiter.flush();
 * assert.deepEqual(lines, [
 *   'flow "f": boom 1',
 *   'flow "f": boom 2',
 *   'flow "f": process P failed 3 more times in the last 60 s: last error boom 5',
 * ]);
 * // Warnings are limited apart, and written with their level.
 * const levels: string[] = [];
 * const warned = new ErrorLogLimiter({ write: (l, level) => levels.push(`${level}: ${l}`), burst: 1 });
 * const at = { key: "f/P", prefix: 'flow "f"', subject: "process P" };
 * warned.report({ ...at, message: "retrying", level: "warning" });
 * warned.report({ ...at, message: "boom" });
 * warned.report({ ...at, message: "retrying again", level: "warning" });
 * // Infos too (news after a warning: a broker reached again).
 * warned.report({ ...at, message: "connected", level: "info" });
 * warned.report({ ...at, message: "connected again", level: "info" });
 * warned.flush();
 * assert.deepEqual(levels, [
 *   'warning: flow "f": retrying',
 *   'error: flow "f": boom',
 *   'info: flow "f": connected',
 *   'warning: flow "f": process P warned 1 more time in the last 60 s: last warning retrying again',
 *   'info: flow "f": process P reported 1 more time in the last 60 s: last connected again',
 * ]);
 * // Fields go with the line, for a structured log.
 * const fielded: unknown[] = [];
 * const withFields = new ErrorLogLimiter({ write: (l, _level, f) => fielded.push(f) });
 * withFields.report({ ...at, message: "boom", fields: { flow: "f", process: "P" } });
 * assert.deepEqual(fielded, [{ flow: "f", process: "P" }]);
 * limiter.close();
 * warned.close();
 * withFields.close();
 * ```
 */
export class ErrorLogLimiter {
  readonly #write: ErrorLogLimiterOptions["write"];
  readonly #burst: number;
  readonly #intervalMs: number;
  readonly #windows = new Map<string, _Window>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** A bad option is a `RangeError` naming it. */
  constructor(options: ErrorLogLimiterOptions) {
    this.#write = options.write;
    this.#burst = options.burst ?? 5;
    this.#intervalMs = options.intervalMs ?? 60_000;
    if (!Number.isInteger(this.#burst) || this.#burst < 0) {
      throw new RangeError(
        `Cannot create error log limiter: burst must be a non-negative integer, received ${this.#burst}`,
      );
    }
    if (
      !Number.isInteger(this.#intervalMs) || this.#intervalMs < 1 ||
      this.#intervalMs > 2_147_483_647
    ) {
      throw new RangeError(
        `Cannot create error log limiter: intervalMs must be an integer from 1 to 2147483647, received ${this.#intervalMs}`,
      );
    }
  }

  /**
   * One error of `report.key` (of `report.level`, default `"error"`):
   * written as `${prefix}: ${message}` while the interval's burst lasts,
   * else counted for the summary, which reads `${prefix}: ${subject} failed
   * N more times ...` (a warning's: `warned`, an info's: `reported`).
   * `fields` go to `write` with the line.
   */
  report(report: ErrorLogReport): void {
    const { key, prefix, message, subject, level = "error", fields } = report;
    const now = Date.now();
    // Each level's window is its own: "w", "i" and "e" keep them apart.
    const k = `${level[0]}${key}`;
    let w = this.#windows.get(k);
    if (w !== undefined && now - w.start >= this.#intervalMs) {
      this.#summarize(w);
      w = undefined;
    }
    if (w === undefined) {
      w = {
        level,
        start: now,
        logged: 0,
        suppressed: 0,
        last: "",
        prefix,
        subject,
        fields,
      };
      this.#windows.set(k, w);
    }
    if (w.logged < this.#burst) {
      w.logged++;
      this.#write(`${prefix}: ${message}`, level, fields);
      return;
    }
    w.suppressed++;
    w.last = message;
    // A summary is due even when no later error arrives to trigger it.
    this.#timer ??= setTimeout(() => this.#sweep(), this.#intervalMs);
  }

  /** Writes the summary of every window with errors not written yet. */
  flush(): void {
    for (const w of this.#windows.values()) this.#summarize(w);
    this.#windows.clear();
  }

  /** Writes what is pending and stops the timer. */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = Date.now();
    let pending = false;
    for (const [key, w] of this.#windows) {
      if (now - w.start >= this.#intervalMs) {
        this.#summarize(w);
        this.#windows.delete(key);
      } else if (w.suppressed > 0) {
        pending = true;
      }
    }
    if (pending) {
      this.#timer = setTimeout(() => this.#sweep(), this.#intervalMs);
    }
  }

  #summarize(w: _Window): void {
    if (w.suppressed === 0) return;
    const span = this.#intervalMs >= 1000
      ? `${Math.round(this.#intervalMs / 1000)} s`
      : `${this.#intervalMs} ms`;
    const n = w.suppressed.toLocaleString("en-US");
    const times = w.suppressed === 1 ? "time" : "times";
    const [did, last] = _SUMMARY[w.level];
    this.#write(
      `${w.prefix}: ${w.subject} ${did} ${n} more ${times} in the last ${span}: ${last}${w.last}`,
      w.level,
      w.fields === undefined
        ? undefined
        : { ...w.fields, suppressed: w.suppressed },
    );
    w.suppressed = 0;
  }
}

/** What a summary says of the lines it counts, by level. */
const _SUMMARY: Readonly<Record<ErrorLogLevel, readonly [string, string]>> = {
  error: ["failed", "last error "],
  warning: ["warned", "last warning "],
  info: ["reported", "last "],
};

/** The level of a log line (`FlowLogLevel`) of a line of `level`. */
export function _logLevel(level: ErrorLogLevel): "error" | "warn" | "info" {
  return level === "warning" ? "warn" : level;
}
