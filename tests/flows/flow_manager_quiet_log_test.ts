/**
 * Quiet logs: a process that fails on every message writes its first few
 * errors, then one summary line per interval; its error counter counts
 * every failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { ErrorLogLimiter } from "../../src/flows/error_log_limiter.ts";
import { registryOf, SLOW, WAIT } from "./_harness.ts";
import { until } from "../engine/_helpers.ts";

test(
  "a process that throws on every message: 3 lines an interval, then one summary naming the process, the count and the last error; the counter exact",
  SLOW,
  async () => {
    const lines: string[] = [];
    const flows = new FlowManager({
      store: FlowStore.open(":memory:"),
      registry: registryOf([], []),
      log: (m) => lines.push(m),
      errorLog: { burst: 3, intervalMs: 60_000 },
    });
    await flows.create({
      id: "noisy",
      text: "'1ms' -> interval T(core/Interval) out -> in X(test/Throw)",
      format: "fbp",
    });
    const errors = () =>
      flows.stats("noisy").processes.find((p) => p.name === "X")!.errors
        .exception;
    await until(() => errors() >= 50, WAIT);
    const stop = await flows.stop("noisy");
    const counted = errors();
    const logged = lines.filter((l) => /cannot handle/.test(l));
    assert.equal(logged.length, 3, logged.join("\n"));
    await flows.close();
    const summary = lines.filter((l) => /more times/.test(l));
    assert.equal(summary.length, 1, lines.join("\n"));
    assert.match(
      summary[0],
      /^flow "noisy": process "X" failed (\d+) more times in the last 60 s: last error .*cannot handle/,
    );
    const n = Number(/failed (\d+) more/.exec(summary[0])![1]);
    assert.equal(n + 3, counted);
    assert.ok(stop.state === "stopped");
  },
);

test("ErrorLogLimiter: keys are limited apart, a new interval writes again, and a summary comes without a later error", async () => {
  const lines: string[] = [];
  const limiter = new ErrorLogLimiter({
    write: (l) => lines.push(l),
    burst: 1,
    intervalMs: 30,
  });
  limiter.report({ key: "a", prefix: "A", message: "a1", subject: "p" });
  limiter.report({ key: "a", prefix: "A", message: "a2", subject: "p" });
  limiter.report({ key: "b", prefix: "B", message: "b1", subject: "q" });
  limiter.report({ key: "a", prefix: "A", message: "a3", subject: "p" });
  assert.deepEqual(lines, ["A: a1", "B: b1"]);
  await until(() => lines.length === 3, WAIT);
  assert.deepEqual(
    lines[2],
    "A: p failed 2 more times in the last 30 ms: last error a3",
  );
  limiter.report({ key: "a", prefix: "A", message: "a4", subject: "p" });
  assert.deepEqual(lines.at(-1), "A: a4");
  limiter.close();
  assert.throws(
    () => new ErrorLogLimiter({ write: () => {}, burst: -1 }),
    /burst must be a non-negative integer, received -1/,
  );
});
