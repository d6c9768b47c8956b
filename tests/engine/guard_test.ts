import { test } from "node:test";
import assert from "node:assert/strict";
import type { ErrorKind } from "../../src/engine/errors.ts";
import { ProcessError } from "../../src/engine/errors.ts";
import {
  backoffMs,
  type GuardHost,
  pause,
  runGuarded,
  TIMED_OUT,
  withTimeout,
} from "../../src/engine/guard.ts";
import type { ProcessRuntime } from "../../src/engine/process.ts";
import { componentOf, processOf } from "./_fakes.ts";

/** A host that records what the guard reports. */
function hostOf() {
  const errors: ErrorKind[] = [];
  const routed: { e: unknown; kind: ErrorKind; input: unknown }[] = [];
  const reached: number[] = [];
  const host: GuardHost = {
    name: "test",
    faults: {
      count: (_p: ProcessRuntime, kind: ErrorKind) => void errors.push(kind),
      route: (_p, e, input, _port, kind) =>
        void routed.push({ e, kind, input }),
    },
    reachedSink: (at, origin) => reached.push(at - origin),
    now: () => performance.now(),
    stalled: () => {},
  };
  return { host, errors, routed, reached };
}

test("withTimeout() settles as the promise does when it is in time", async () => {
  await withTimeout(Promise.resolve(), 1000);
  await assert.rejects(withTimeout(Promise.reject(new Error("x")), 1000), /x/);
});

test("withTimeout() rejects with TIMED_OUT when time runs out", async () => {
  await assert.rejects(
    withTimeout(new Promise(() => {}), 1),
    (e) => e === TIMED_OUT,
  );
});

test("backoffMs() doubles the wait for each further retry", () => {
  const retry = { attempts: 5, backoffMs: 3 };
  assert.deepEqual([1, 2, 3, 4].map((a) => backoffMs(retry, a)), [
    3,
    6,
    12,
    24,
  ]);
});

test("backoffMs() never goes past the longest timer, which would fire at once", () => {
  // 1e9 ms doubled 3 times is 8e9 ms: setTimeout would run it at once.
  const retry = { attempts: 5, backoffMs: 1e9 };
  assert.deepEqual(
    [1, 2, 3, 4].map((a) => backoffMs(retry, a)),
    [1e9, 2e9, 2 ** 31 - 1, 2 ** 31 - 1],
  );
});

test("pause() resolves at once when its signal has aborted", async () => {
  const stop = new AbortController();
  stop.abort();
  await pause(60_000, stop.signal);
});

test("pause() resolves when its signal aborts during the wait", async () => {
  const stop = new AbortController();
  const waited = pause(60_000, stop.signal);
  stop.abort();
  await waited;
});

test("runGuarded() retries a failing message until it succeeds", async () => {
  let calls = 0;
  const p = processOf(
    "P",
    componentOf(() => {
      if (++calls < 3) throw new Error(`attempt ${calls}`);
    }),
    { retry: { attempts: 3, backoffMs: 1 } },
  );
  const { host, errors, routed } = hostOf();
  await runGuarded(host, p, "m", "in", -1, 0);
  assert.equal(calls, 3);
  assert.deepEqual(errors, ["exception", "exception"]);
  assert.equal(routed.length, 0);
  assert.equal(p.activations, 3);
  assert.equal(p.failures, 0);
});

test("runGuarded() routes the last failure once the attempts are spent", async () => {
  const p = processOf(
    "P",
    componentOf(() => {
      throw new Error("always");
    }),
    { retry: { attempts: 2, backoffMs: 1 } },
  );
  const { host, errors, routed } = hostOf();
  await runGuarded(host, p, "m", "in", -1, 0);
  assert.deepEqual(errors, ["exception", "exception"]);
  assert.equal(routed.length, 1);
  assert.equal(routed[0].kind, "exception");
  assert.equal(routed[0].input, "m");
  assert.match((routed[0].e as Error).message, /always/);
  assert.equal(p.failures, 1);
});

test("runGuarded() fails an activation that outlasts timeoutMs with kind timeout", async () => {
  const p = processOf("P", componentOf(() => new Promise(() => {})), {
    timeoutMs: 5,
  });
  const { host, errors, routed } = hostOf();
  await runGuarded(host, p, "m", "in", -1, 0);
  assert.deepEqual(errors, ["timeout"]);
  assert.equal(routed[0].kind, "timeout");
  assert.ok(routed[0].e instanceof ProcessError);
  assert.match((routed[0].e as Error).message, /did not settle within 5 ms/);
  assert.equal(p.async, true);
});

test("runGuarded() stops retrying when the process is aborted", async () => {
  let calls = 0;
  const p = processOf(
    "P",
    componentOf(() => {
      calls++;
      throw new Error("no");
    }),
    { retry: { attempts: 5, backoffMs: 60_000 } },
  );
  const { host, routed } = hostOf();
  const run = runGuarded(host, p, "m", "in", -1, 0);
  p.abort.abort();
  await run;
  assert.equal(calls, 1);
  assert.equal(routed.length, 0);
});

test("runGuarded() opens the breaker after failureThreshold messages fail", async () => {
  const p = processOf(
    "P",
    componentOf(() => {
      throw new Error("no");
    }),
    { circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 60_000 } },
  );
  const { host } = hostOf();
  await runGuarded(host, p, 1, "in", -1, 0);
  assert.equal(p.breaker!.state, "closed");
  await runGuarded(host, p, 2, "in", -1, 0);
  assert.equal(p.breaker!.state, "open");
});

test("runGuarded() closes the breaker when a message succeeds", async () => {
  let fail = true;
  const p = processOf(
    "P",
    componentOf(() => {
      if (fail) throw new Error("no");
    }),
    { circuitBreaker: { failureThreshold: 5, resetTimeoutMs: 60_000 } },
  );
  const { host } = hostOf();
  await runGuarded(host, p, 1, "in", -1, 0);
  assert.equal(p.breaker!.consecutiveFailures, 1);
  fail = false;
  await runGuarded(host, p, 2, "in", -1, 0);
  assert.equal(p.breaker!.consecutiveFailures, 0);
});

test("runGuarded() reports a message that reached a sink", async () => {
  const p = processOf("P");
  p.sink = true;
  const { host, reached } = hostOf();
  await runGuarded(host, p, "m", "in", -1, performance.now());
  assert.equal(reached.length, 1);
  assert.ok(reached[0] >= 0);
});

test("runGuarded() hands the component the message's port and index", async () => {
  const seen: [string, number][] = [];
  const p = processOf(
    "P",
    componentOf((_v, ctx) => {
      seen.push([ctx.port, ctx.index]);
    }),
    { timeoutMs: 1000 },
  );
  const { host } = hostOf();
  await runGuarded(host, p, "m", "in", 2, 0);
  assert.deepEqual(seen, [["in", 2]]);
});
