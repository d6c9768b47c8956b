/**
 * A lock file for a store's folder: two processes appending to the same
 * files would hand out the same series ids and segment numbers. The lock
 * holds the owner's pid; a lock whose process is gone (a crash, SIGKILL)
 * is taken over.
 *
 * @module
 */
import {
  closeSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import process from "node:process";

/** The lock file's size: this process's pid as text. */
export const LOCK_BYTES: number = String(process.pid).length;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Takes the lock file `path` for this process; throws when a live process
 * (this one included) holds it. Returns a function that releases it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { lockDir } from "./dir_lock.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-lock-"));
 * try {
 *   const release = lockDir(join(dir, "LOCK"));
 *   assert.throws(() => lockDir(join(dir, "LOCK")), /is in use by process/);
 *   release();
 *   lockDir(join(dir, "LOCK"))();
 * } finally {
 *   rmSync(dir, { recursive: true });
 * }
 * ```
 */
export function lockDir(path: string): () => void {
  const mine = String(process.pid);
  const release = () => {
    try {
      if (readFileSync(path, "utf8") === mine) unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      try {
        writeSync(fd, mine);
      } finally {
        closeSync(fd);
      }
      return release;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, "utf8").trim());
    } catch {
      continue; // released meanwhile: try again
    }
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
      throw new Error(
        `Cannot open history store: ${path} is in use by process ${owner}; if that process is not weir, delete the file`,
      );
    }
    // The owner is gone (crash): take the lock over.
    writeFileSync(path, mine);
    return release;
  }
  throw new Error(`Cannot open history store: cannot take the lock ${path}`);
}
