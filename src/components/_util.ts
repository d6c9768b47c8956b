/**
 * Private helpers shared by the built-in component families: the `error`
 * out-port, option parsers for control ports, sleeping on a signal, timers
 * longer than `setTimeout` allows, JSON text with runtime-neutral errors
 * and file-system error messages.
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
 * The longest delay `setTimeout` honours (2^31-1 ms, about 24.8 days); a
 * longer one fires at once on every runtime, so longer waits are chained.
 */
export const _MAX_TIMER_MS = 2_147_483_647;

/**
 * Resolves `true` once `performance.now()` has reached `deadline`, or
 * `false` as soon as `signal` (or `wake`, when given) aborts; the timer is
 * cleared then. Timers may fire a little early, so it sleeps again until
 * the deadline has passed; a deadline beyond {@linkcode _MAX_TIMER_MS} is
 * reached through several timers.
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
  wake?: AbortSignal,
): Promise<boolean> {
  if (signal.aborted || wake?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopListening = () => {
      signal.removeEventListener("abort", onAbort);
      wake?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      clearTimeout(timer);
      stopListening();
      resolve(false);
    };
    const wait = () => {
      const left = deadline - performance.now();
      if (left <= 0) {
        stopListening();
        resolve(true);
        return;
      }
      timer = setTimeout(wait, Math.min(Math.ceil(left), _MAX_TIMER_MS));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    wake?.addEventListener("abort", onAbort, { once: true });
    wait();
  });
}

/** A timer from {@linkcode _setTimer}, cleared with {@linkcode _clearTimer}. */
export interface _Timer {
  /** The `setTimeout` currently armed, `undefined` once fired or cleared. */
  id: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Calls `fn` once after `ms` milliseconds, like `setTimeout`, but honours
 * delays beyond {@linkcode _MAX_TIMER_MS} by chaining timers (one timer when
 * the delay fits).
 *
 * @example
 * ```ts
 * import { _clearTimer, _setTimer } from "./_util.ts";
 *
 * const timer = _setTimer(() => console.log("600 h later"), 600 * 3_600_000);
 * _clearTimer(timer);
 * ```
 */
export function _setTimer(fn: () => void, ms: number): _Timer {
  const timer: _Timer = { id: undefined };
  let left = Math.max(0, ms);
  const step = () => {
    if (left <= 0) {
      timer.id = undefined;
      fn();
      return;
    }
    const delay = Math.min(left, _MAX_TIMER_MS);
    left -= delay;
    timer.id = setTimeout(step, delay);
  };
  const first = Math.min(left, _MAX_TIMER_MS);
  left -= first;
  timer.id = setTimeout(step, first);
  return timer;
}

/**
 * Clears a timer from {@linkcode _setTimer} (nothing happens for
 * `undefined` or a timer that has fired).
 *
 * @example
 * ```ts
 * import { _clearTimer, _setTimer } from "./_util.ts";
 *
 * _clearTimer(_setTimer(() => {}, 10));
 * ```
 */
export function _clearTimer(timer: _Timer | undefined): void {
  if (timer === undefined) return;
  clearTimeout(timer.id);
  timer.id = undefined;
}

/**
 * `JSON.stringify(value, null, indent)`, failing with the same sentence on
 * every runtime (their own messages differ) when JSON cannot hold the
 * value: `TypeError("cannot write object as JSON: it holds a bigint at
 * .n")`. Returns `undefined` for a value JSON has no text for (a function,
 * a symbol, `undefined`), as `JSON.stringify` does.
 *
 * @example
 * ```ts
 * import { _toJson } from "./_util.ts";
 *
 * _toJson({ a: [1, 2] }); // '{"a":[1,2]}'
 * ```
 */
export function _toJson(
  value: unknown,
  indent?: number | string,
): string | undefined {
  try {
    return JSON.stringify(value, null, indent);
  } catch (e) {
    throw new TypeError(
      `cannot write ${describeValue(value)} as JSON: ${_jsonProblem(value, e)}`,
      { cause: e },
    );
  }
}

/**
 * Why `JSON.stringify` failed on `value`, found by walking it as
 * `JSON.stringify` does (`toJSON` included): a bigint or a cycle, with
 * where it is; else the message of what was thrown (a `toJSON` that threw).
 */
function _jsonProblem(value: unknown, error: unknown): string {
  const ancestors: unknown[] = [];
  let found: string | undefined;
  const walk = (v: unknown, where: string, key: string) => {
    if (found !== undefined) return;
    if (v !== null && typeof v === "object" || typeof v === "bigint") {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") {
        try {
          v = toJSON.call(v, key);
        } catch {
          return;
        }
      }
    }
    if (typeof v === "bigint") {
      found = where === ""
        ? "JSON has no bigints"
        : `it holds a bigint at ${where}`;
      return;
    }
    if (v === null || typeof v !== "object") return;
    if (ancestors.includes(v)) {
      found = `it refers to itself at ${where}`;
      return;
    }
    ancestors.push(v);
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${where}[${i}]`, String(i)));
    } else {
      for (const k of Object.keys(v)) {
        walk((v as Record<string, unknown>)[k], _member(where, k), k);
      }
    }
    ancestors.pop();
  };
  try {
    walk(value, "", "");
  } catch {
    // A getter that throws: JSON.stringify met the same error.
  }
  return found ?? (error instanceof Error ? error.message : String(error));
}

/** `where.key`, or `where["key"]` for a key that is not an identifier. */
function _member(where: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? `${where}.${key}`
    : `${where}[${JSON.stringify(key)}]`;
}

const _REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
  EMFILE: "too many open files",
  ENOSPC: "no space left on the device",
  EROFS: "the file system is read-only",
  ENXIO: "no such device (a socket cannot be opened by its path)",
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
