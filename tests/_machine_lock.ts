/**
 * A lock across the processes of this machine, for a test that needs a
 * machine-wide resource (a fixed port) to itself: the suite runs its Deno
 * and Bun test processes at the same time.
 *
 * @module
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { processAlive } from "../src/history/dir_lock.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding the lock `name` (a folder in the temporary directory
 * holding the holder's pid), waiting up to `waitMs` for another holder to
 * let go; a lock whose holder is gone is taken over.
 * (tests/machine_lock_test.ts shows it.)
 */
export async function withMachineLock<T>(
  name: string,
  fn: () => T | Promise<T>,
  waitMs = 120_000,
): Promise<T> {
  const dir = join(tmpdir(), `${name}.lock`);
  const owner = join(dir, "pid");
  const token = `${process.pid} ${Math.random()}`;
  const end = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(owner, token);
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
      let holder: string | undefined;
      try {
        holder = readFileSync(owner, "utf8");
      } catch { /* being written or removed */ }
      const pid = Number(holder?.split(" ")[0]);
      if (holder !== undefined && Number.isInteger(pid) && !processAlive(pid)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > end) {
        throw new Error(
          `the lock ${dir} is still held after ${waitMs} ms (by ${
            holder ?? "a process that has not written its pid"
          })`,
        );
      }
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    let mine = false;
    try {
      mine = readFileSync(owner, "utf8") === token;
    } catch { /* gone */ }
    if (mine) rmSync(dir, { recursive: true, force: true });
  }
}
