/**
 * A lock across the processes of this machine, for a test that needs a
 * machine-wide resource (a fixed port) to itself: the suite runs its Deno
 * and Bun test processes at the same time.
 *
 * @module
 */
import {
  linkSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { processAlive } from "../src/history/dir_lock.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding the lock `name` (a file in the temporary directory
 * holding the holder's pid, made whole at once: written aside, then
 * hard-linked to its name, which fails while another holds it), waiting
 * up to `waitMs` for another holder to let go; a lock whose holder is gone
 * is taken over. (tests/machine_lock_test.ts shows it.)
 */
export async function withMachineLock<T>(
  name: string,
  fn: () => T | Promise<T>,
  waitMs = 120_000,
): Promise<T> {
  const file = join(tmpdir(), `${name}.lock`);
  const token = `${process.pid} ${Math.random()}`;
  const aside = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(aside, token);
  const end = Date.now() + waitMs;
  try {
    for (;;) {
      try {
        linkSync(aside, file);
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== "EEXIST") throw e;
        let holder: string | undefined;
        try {
          holder = readFileSync(file, "utf8");
        } catch { /* let go meanwhile */ }
        const pid = Number(holder?.split(" ")[0]);
        if (
          holder !== undefined && Number.isInteger(pid) && !processAlive(pid)
        ) {
          rmSync(file, { force: true });
          continue;
        }
        if (Date.now() > end) {
          throw new Error(
            `the lock ${file} is still held after ${waitMs} ms (by ${
              holder ?? "a process gone"
            })`,
          );
        }
        await sleep(100);
      }
    }
  } finally {
    unlinkSync(aside);
  }
  try {
    return await fn();
  } finally {
    let mine = false;
    try {
      mine = readFileSync(file, "utf8") === token;
    } catch { /* gone */ }
    if (mine) rmSync(file, { force: true });
  }
}
