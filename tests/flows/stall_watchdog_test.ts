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
