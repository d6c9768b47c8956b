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
 * is taken over (see {@linkcode _removeStale}). (tests/machine_lock_test.ts
 * shows it.)
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
      const holder = _take(file, aside);
      if (holder === undefined) break;
      if (_gone(holder)) {
        _removeStale(file, holder, aside);
        continue;
      }
      if (Date.now() > end) {
        throw new Error(
          `the lock ${file} is still held after ${waitMs} ms (by ${
            holder || "a process gone"
          })`,
        );
      }
      await sleep(100);
    }
  } finally {
    unlinkSync(aside);
  }
  try {
    return await fn();
  } finally {
    if (_read(file) === token) rmSync(file, { force: true });
  }
}

/**
 * Hard-links `aside` (this process's pid and a random token) to `file`:
 * `undefined` when that took the lock, else what its holder wrote (`""`
 * when the holder let go meanwhile).
 */
export function _take(file: string, aside: string): string | undefined {
  try {
    linkSync(aside, file);
    return undefined;
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw e;
    return _read(file);
  }
}

/**
 * Removes the lock `file` when it still holds `holder`, found gone.
 * Several waiters find the same gone holder; a waiter that read it before
 * another took the lock over must not remove the new holder's lock (the
 * two would then hold it at once). So only the waiter that holds the
 * takeover's guard (`<file>.takeover-<holder>`, taken as the lock is)
 * re-reads the lock and removes it, and none may change it meanwhile; it
 * lets the guard go at once. Nothing is awaited in between, but a guard
 * left by a process killed there is taken over the same way.
 */
export function _removeStale(
  file: string,
  holder: string,
  aside: string,
): void {
  const guard = `${file}.takeover-${
    holder.slice(0, 80).replace(/[^\w.-]/g, "_")
  }`;
  const guardHolder = _take(guard, aside);
  if (guardHolder !== undefined) {
    // Another waiter takes it over; the caller looks again.
    if (_gone(guardHolder)) _removeStale(guard, guardHolder, aside);
    return;
  }
  try {
    if (_read(file) === holder) rmSync(file, { force: true });
  } finally {
    unlinkSync(guard);
  }
}

/** Whether `holder` (a lock's text) names a process that is gone. */
function _gone(holder: string): boolean {
  const pid = Number(holder.split(" ")[0]);
  return holder !== "" && Number.isInteger(pid) && !processAlive(pid);
}

/** The text of `file`, `""` when it is gone. */
function _read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
