/**
 * The stall watchdog's own line: written by its worker while the event
 * loop is still blocked, in the server's JSON log format, naming the flow
 * and the process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { runtimeCommand } from "../_runtime.ts";
import { SLOW } from "./_harness.ts";

const FIXTURE = join(import.meta.dirname!, "_stall_fixture.ts");

function run(args: string[]): Promise<{ out: string; err: string }> {
  const [cmd, pre] = runtimeCommand();
  const child = spawn(cmd, [...pre, FIXTURE, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve) =>
    child.on("close", () => resolve({ out, err }))
  );
}

test(
  "the watchdog logs the stalled flow and process while the loop is still blocked, and the flow fails with the reason",
  SLOW,
  async () => {
    const { out, err } = await run(["1500", "300"]);
    const start = Number(/^START (\d+)$/m.exec(out)?.[1]);
    const info = JSON.parse(/^INFO (.*)$/m.exec(out)?.[1] ?? "null");
    const line = err.split("\n").find((l) => l.includes('"watchdog":true'));
    assert.ok(line !== undefined, `no watchdog line in: ${err}`);
    const record = JSON.parse(line);
    assert.equal(record.level, "error");
    assert.equal(record.flow, "poison");
    assert.equal(record.process, "Stall");
    assert.match(record.msg, /flow "poison": process "Stall" has blocked/);
    // Written during the block (1.5 s), not after it.
    const at = Date.parse(record.time);
    assert.ok(at >= start && at < start + 1500, `${at - start} ms`);
    assert.equal(info.state, "failed");
    assert.match(
      info.error,
      /^stalled the server for 1\.\d s in process "Stall"$/,
    );
  },
);

/** Runs `_watchdog_idle_fixture.ts` in `mode`; its `RESULT` line. */
async function idleFixture(mode: string): Promise<Record<string, unknown>> {
  const [cmd, pre] = runtimeCommand();
  const child = spawn(cmd, [...pre, IDLE_FIXTURE, mode], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  await new Promise((resolve) => child.on("close", resolve));
  const line = /^RESULT (.*)$/m.exec(out)?.[1];
  assert.ok(line !== undefined, `no result: ${out}\n${err}`);
  return JSON.parse(line);
}

const IDLE_FIXTURE = join(import.meta.dirname!, "_watchdog_idle_fixture.ts");

test(
  "a loop idle for a while and then blocked for less than the threshold is not counted stalled; one blocked past it is",
  SLOW,
  async () => {
    // Threshold 1000 ms, pings after 750 ms of quiet. The quiet time
    // before a block must not count toward the threshold (a heartbeat
    // every 100 ms counted up to 100 ms of it); a block outside any
    // activation counts from the ping it leaves unanswered, so one of
    // 2400 ms is told (at most 750 + 100 ms after it reached 1000).
    const r = await idleFixture("blocks") as {
      short: number[];
      long: number[];
    };
    assert.deepEqual(r.short, []);
    assert.equal(r.long.length, 1);
    // At least the threshold; at most the block and the worker's look
    // after it (100 ms) with some slack.
    assert.ok(r.long[0] >= 1000 && r.long[0] <= 2700, `${r.long[0]} ms`);
  },
);

test(
  "the watchdog pings an idle loop, and not one that the server's periodic work turns",
  SLOW,
  async () => {
    const r = await idleFixture("pings") as { idle: number; ticking: number };
    // 2.6 s idle: a ping each 750 ms of quiet (and the worker's look).
    assert.ok(r.idle >= 2 && r.idle <= 4, `${r.idle} pings in 2.6 s idle`);
    // A tick every 300 ms (as a sampler's every second) says the loop
    // turns: no ping is needed.
    assert.equal(r.ticking, 0);
  },
);
