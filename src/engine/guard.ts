/**
 * The guarded activation of a process with a timeout, retries or a circuit
 * breaker: each attempt is timed, a failed one is retried after a backoff
 * that doubles, and the message is given up on (a failure, routed as an
 * error) once the attempts are spent. Processes without these settings
 * never come here: their activations stay on the network's direct path.
 *
 * @module
 */
import { marked } from "./activation.ts";
import { MAX_TIMER_MS } from "./limits.ts";
import { isThenable } from "./component.ts";
import { type ErrorKind, ProcessError } from "./errors.ts";
import { errorKind, type Faults } from "./faults.ts";
import type { ProcessRuntime } from "./process.ts";
import type { RetrySpec } from "./spec.ts";

/** What a guarded activation needs from its network. */
export interface GuardHost {
  /** The network's name. */
  readonly name: string;
  /** Counts failed attempts and routes failures. */
  readonly faults: Pick<Faults, "count" | "route">;
  /** A message that entered at `origin` reached a sink at `at` (ms). */
  reachedSink(at: number, origin: number): void;
  /** The network's clock (ms, `performance.now()`). */
  now(): number;
  /** A watchdog found an activation of `p` stalling the event loop. */
  stalled(p: ProcessRuntime): void;
}

/** The rejection of {@linkcode withTimeout} when time ran out. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Settles as `p` does, or rejects with {@linkcode TIMED_OUT} after `ms`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TIMED_OUT, withTimeout } from "./guard.ts";
 *
 * const never = new Promise<void>(() => {});
 * await assert.rejects(withTimeout(never, 1), (e) => e === TIMED_OUT);
 * ```
 */
export function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(TIMED_OUT), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The wait before retry number `attempt` (1 for the first retry):
 * `backoffMs`, doubled for each further retry, at most 2^31-1 ms (the
 * longest timer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffMs } from "./guard.ts";
 *
 * const retry = { attempts: 4, backoffMs: 10 };
 * assert.deepEqual([1, 2, 3].map((a) => backoffMs(retry, a)), [10, 20, 40]);
 * // Never past the longest timer (2^31-1 ms), which would fire at once.
 * assert.deepEqual(backoffMs({ attempts: 9, backoffMs: 1e9 }, 8), 2 ** 31 - 1);
 * ```
 */
export function backoffMs(retry: RetrySpec, attempt: number): number {
  // Capped at the longest timer: a longer one would fire at once.
  return Math.min(retry.backoffMs * 2 ** (attempt - 1), MAX_TIMER_MS);
}

/**
 * Resolves after `ms`, or at once when `signal` aborts (or has).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pause } from "./guard.ts";
 *
 * const stop = new AbortController();
 * const waited = pause(60_000, stop.signal);
 * stop.abort();
 * assert.deepEqual(await waited, undefined);
 * ```
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

const _NONE = Symbol("none");

/**
 * Runs one message `v` through process `p` under its guard: attempts until
 * one succeeds or `p.retry.attempts` are spent (backing off between them,
 * and stopping when the process is aborted), each limited to `p.timeoutMs`
 * when set; then reports the outcome to its breaker, and routes the last
 * failure through `host`.
 */
export async function runGuarded(
  host: GuardHost,
  p: ProcessRuntime,
  v: unknown,
  port: string,
  index: number,
  origin: number,
): Promise<void> {
  const attempts = p.retry?.attempts ?? 1;
  for (let attempt = 1;; attempt++) {
    p.ctx.port = port;
    p.ctx.index = index;
    p.origin = origin;
    const ctx = p.concurrency > 1 ? p.activationContext() : p.ctx;
    const t0 = performance.now();
    let failure: unknown = _NONE;
    let kind: ErrorKind = "exception";
    try {
      const r = marked(p.id, () => p.fn!(v, ctx), () => host.stalled(p));
      if (isThenable(r)) {
        p.becomeAsync();
        if (p.timeoutMs > 0) {
          await withTimeout(r as Promise<void>, p.timeoutMs);
        } else await r;
      }
    } catch (e) {
      failure = e;
      kind = e === TIMED_OUT ? "timeout" : errorKind(e);
    }
    const t1 = performance.now();
    p.activations++;
    p.timing.observe((t1 - t0) / 1000);
    if (failure === _NONE) {
      p.breaker?.succeeded();
      if (p.sink && origin !== 0) host.reachedSink(t1, origin);
      return;
    }
    host.faults.count(p, kind);
    if (attempt < attempts && !p.abort.signal.aborted) {
      await pause(backoffMs(p.retry!, attempt), p.abort.signal);
      if (p.abort.signal.aborted) return;
      continue;
    }
    p.failures++;
    p.breaker?.failed(host.now());
    const e = failure === TIMED_OUT
      ? new ProcessError(
        `activation did not settle within ${p.timeoutMs} ms`,
        {
          network: host.name,
          process: p.name,
          port,
          kind: "timeout",
          input: v,
        },
      )
      : failure;
    host.faults.route(p, e, v, port, kind);
    return;
  }
}
