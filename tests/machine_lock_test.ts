import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { _removeStale, _take, withMachineLock } from "./_machine_lock.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("withMachineLock runs one holder at a time and lets go after an error", async () => {
  const name = `weir-lock-test-${process.pid}`;
  const order: string[] = [];
  await Promise.all([
    withMachineLock(name, async () => {
      order.push("a in");
      await sleep(150);
      order.push("a out");
    }),
    sleep(20).then(() => withMachineLock(name, () => order.push("b"))),
  ]);
  assert.deepEqual(order, ["a in", "a out", "b"]);
  await assert.rejects(
    withMachineLock(name, () => {
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(await withMachineLock(name, () => 7), 7);
  assert.deepEqual(
    readdirSync(tmpdir()).filter((f) => f.startsWith(`${name}.lock`)),
    [],
    "no lock and no file written aside is left",
  );
});

test("withMachineLock takes over a lock whose holder is gone, and names a live holder it waited for", async () => {
  const name = `weir-lock-stale-${process.pid}`;
  const file = join(tmpdir(), `${name}.lock`);
  const child = spawn(process.execPath, ["--version"], { stdio: "ignore" });
  await new Promise((r) => child.on("close", r));
  writeFileSync(file, `${child.pid} 0.5`);
  assert.equal(await withMachineLock(name, () => "taken", 1_000), "taken");
  assert.equal(existsSync(file), false);

  writeFileSync(file, `${process.pid} 0.25`);
  try {
    await assert.rejects(
      withMachineLock(name, () => "never", 300),
      new RegExp(`still held after 300 ms \\(by ${process.pid} 0\\.25\\)`),
    );
  } finally {
    await import("node:fs").then((fs) => fs.rmSync(file, { force: true }));
  }
});

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["--version"], { stdio: "ignore" });
  await new Promise((r) => child.on("close", r));
  return child.pid!;
}

test("two waiters that found the same gone holder: the one that takes over second leaves the first one's new lock in place", async () => {
  const name = `weir-lock-race-${process.pid}`;
  const file = join(tmpdir(), `${name}.lock`);
  const stale = `${await deadPid()} 0.5`;
  writeFileSync(file, stale);
  const [a, b] = ["a", "b"].map((w) => {
    const aside = `${file}.${w}`;
    writeFileSync(aside, `${process.pid} ${w}`);
    return aside;
  });
  try {
    // Both read the gone holder before either takes it over.
    assert.equal(_take(file, a!), stale);
    assert.equal(_take(file, b!), stale);
    _removeStale(file, stale, a!);
    assert.equal(_take(file, a!), undefined, "a holds the lock");
    // b goes on from what it read: it used to remove a's lock and take it.
    _removeStale(file, stale, b!);
    assert.equal(readFileSync(file, "utf8"), `${process.pid} a`);
    assert.equal(_take(file, b!), `${process.pid} a`, "b waits for a");
    assert.deepEqual(
      readdirSync(tmpdir()).filter((f) => f.startsWith(`${name}.lock.take`)),
      [],
      "no takeover guard is left",
    );
  } finally {
    for (const f of [file, a!, b!]) rmSync(f, { force: true });
  }
});

test("withMachineLock takes over a lock whose takeover a process gone left half done", async () => {
  const name = `weir-lock-guard-${process.pid}`;
  const file = join(tmpdir(), `${name}.lock`);
  const stale = `${await deadPid()} 0.5`;
  writeFileSync(file, stale);
  writeFileSync(`${file}.takeover-${stale.replace(" ", "_")}`, stale);
  assert.equal(await withMachineLock(name, () => "taken", 1_000), "taken");
  assert.deepEqual(
    readdirSync(tmpdir()).filter((f) => f.startsWith(`${name}.lock`)),
    [],
  );
});
