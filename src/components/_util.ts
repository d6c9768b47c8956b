/**
 * Private helpers shared by the built-in component families: the `error`
 * out-port, option parsers for control ports, sleeping on a signal and
 * file-system error messages.
 *
 * @module
 */
import {
  describeValue,
  type OutPortSpec,
  parseDuration,
} from "../engine/component.ts";

/**
 * The `error` out-port of a component whose messages can fail: the engine
 * sends a `ProcessError` there for each failure when it is connected, and
 * emits the network's `error` event otherwise.
 *
 * @example
 * ```ts
 * import { _errorPort } from "./_util.ts";
 *
 * _errorPort.type; // "object"
 * ```
 */
export const _errorPort: Readonly<OutPortSpec> = Object.freeze({
  type: "object",
  description:
    "A ProcessError for each failed message (when connected; else the network's error event).",
});

/**
 * Parses a positive integer option (a count or a size).
 *
 * @example
 * ```ts
 * import { _positiveInteger } from "./_util.ts";
 *
 * _positiveInteger(3); // 3
 * ```
 */
export function _positiveInteger(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value > 0) {
    return value;
  }
  throw new RangeError(
    `expected a positive integer, received ${describeValue(value)}`,
  );
}

/**
 * Parses a non-negative integer option, where 0 means "no limit".
 *
 * @example
 * ```ts
 * import { _nonNegativeInteger } from "./_util.ts";
 *
 * _nonNegativeInteger(0); // 0
 * ```
 */
export function _nonNegativeInteger(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    return value;
  }
  throw new RangeError(
    `expected a non-negative integer (0 for no limit), received ${
      describeValue(value)
    }`,
  );
}

/**
 * Parses a duration that must be longer than zero, in milliseconds.
 *
 * @example
 * ```ts
 * import { _positiveDuration } from "./_util.ts";
 *
 * _positiveDuration("1s"); // 1000
 * ```
 */
export function _positiveDuration(value: unknown): number {
  const ms = parseDuration(value);
  if (ms > 0) return ms;
  throw new RangeError(
    `expected a duration longer than 0, received ${describeValue(value)}`,
  );
}

/**
 * Resolves `true` once `performance.now()` has reached `deadline`, or
 * `false` as soon as `signal` aborts (the timer is cleared then). Timers may
 * fire a little early, so it sleeps again until the deadline has passed.
 *
 * @example
 * ```ts
 * import { _sleepUntil } from "./_util.ts";
 *
 * await _sleepUntil(performance.now() + 5, new AbortController().signal); // true
 * ```
 */
export function _sleepUntil(
  deadline: number,
  signal: AbortSignal,
): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const wait = () => {
      const left = deadline - performance.now();
      if (left <= 0) {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
        return;
      }
      timer = setTimeout(wait, Math.ceil(left));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    wait();
  });
}

/**
 * Whether a value is a promise (or any thenable).
 *
 * @example
 * ```ts
 * import { _isThenable } from "./_util.ts";
 *
 * _isThenable(Promise.resolve(1)); // true
 * ```
 */
export function _isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}

const _REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
  EMFILE: "too many open files",
  ENOSPC: "no space left on the device",
  EROFS: "the file system is read-only",
};

/**
 * An `Error` saying which file could not be read or written and why, in a
 * few words (`cannot read "x.txt": no such file`); the system error is its
 * `cause`.
 *
 * @example
 * ```ts
 * import { _fileError } from "./_util.ts";
 *
 * const e = _fileError("read", "x.txt", Object.assign(new Error("ENOENT"), { code: "ENOENT" }));
 * e.message; // 'cannot read "x.txt": no such file'
 * ```
 */
export function _fileError(
  verb: "read" | "write",
  path: string,
  cause: unknown,
): Error {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = code === "ENOENT"
    ? verb === "read" ? "no such file" : "no such directory"
    : (typeof code === "string" && _REASONS[code]) ||
      (cause instanceof Error ? cause.message : String(cause));
  return new Error(`cannot ${verb} ${JSON.stringify(path)}: ${reason}`, {
    cause,
  });
}
