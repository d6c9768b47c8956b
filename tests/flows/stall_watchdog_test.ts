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

test(
  "a loop idle for a while and then blocked for less than the threshold is not counted stalled; one blocked past it is",
  SLOW,
  async () => {
    const { StallWatchdog } = await import(
      "../../src/flows/stall_watchdog.ts"
    );
    const ends: number[] = [];
    const dog = await StallWatchdog.start({
      thresholdMs: 1000,
      onStallEnd: (s) => ends.push(s.ms),
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const block = (ms: number) => {
      const t0 = Date.now();
      while (Date.now() - t0 < ms) {
        // Blocks the thread: the point.
      }
    };
    try {
      // Idle: nothing turns the loop but the worker's pings. The quiet
      // time before the block must not count toward the threshold (a
      // heartbeat every 100 ms counted up to 100 ms of it).
      await sleep(1500);
      block(960);
      await sleep(1500);
      assert.deepEqual(ends, []);
      block(1600);
      await sleep(1500);
      assert.equal(ends.length, 1);
      // From the unanswered ping: at least the threshold; at most the
      // block and the worker's look after it (100 ms) with some slack.
      assert.ok(ends[0] >= 1000 && ends[0] <= 1900, `${ends[0]} ms`);
    } finally {
      dog.close();
    }
  },
);

test(
  "the watchdog pings an idle loop, and not one that the server's periodic work turns",
  SLOW,
  async () => {
    const { StallWatchdog } = await import(
      "../../src/flows/stall_watchdog.ts"
    );
    const { noteLoopTurn } = await import("../../src/engine/activation.ts");
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Pings after 750 ms of quiet.
    const dog = await StallWatchdog.start({ thresholdMs: 1000 });
    try {
      await sleep(2600);
      const idle = dog.pings;
      assert.ok(idle >= 2 && idle <= 4, `${idle} pings in 2.6 s idle`);
      // A tick every 300 ms (as a sampler's every second) says the loop
      // turns: no ping is needed.
      const tick = setInterval(noteLoopTurn, 300);
      try {
        await sleep(300);
        const before = dog.pings;
        await sleep(2600);
        assert.equal(dog.pings - before, 0);
      } finally {
        clearInterval(tick);
      }
    } finally {
      dog.close();
    }
  },
);
