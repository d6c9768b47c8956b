/**
 * A lock file for a store's folder: two processes appending to the same
 * files would hand out the same series ids and segment numbers. The lock
 * holds the owner's pid and, where `/proc` tells it, the time that
 * process started (in clock ticks since boot). A lock is taken over when
 * its process is gone (a crash, SIGKILL), and when the pid now belongs to
 * another process: one that started at another time (the pid reused after
 * a reboot), or this very process when it does not hold the lock (weir
 * killed and started again as the same pid, as pid 1 of a container is).
 * It also holds its folder's device and inode: a lock copied with the
 * folder (`cp -r history copy/`, while weir runs) names another folder,
 * and the copy opens.
 *
 * @module
 */
import {
  closeSync,
  openSync,
  readFileSync,
  readlinkSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { HistoryOpenError, refusedWrite } from "./history_open_error.ts";

/** When process `pid` started (`/proc/<pid>/stat`'s 22nd field), or "" when unknown. */
function _startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (2nd field) is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return /^\d+$/.test(fields[19] ?? "") ? fields[19] : "";
  } catch {
    return "";
  }
}

/** This process's lock text: its pid, and when it started if known. */
const _MINE =
  ((start) => start === "" ? `${process.pid}` : `${process.pid} ${start}`)(
    _startTime(process.pid),
  );

/**
 * The lock file's size, at most: this process's lock text and its
 * folder's device and inode (each up to 20 digits).
 */
export const LOCK_BYTES: number = _MINE.length + 44;

/** The folder of lock file `path` as `dev:ino`, or "" when unknown. */
function _folder(path: string): string {
  try {
    const s = statSync(dirname(path));
    return `${s.dev}:${s.ino}`;
  } catch {
    return "";
  }
}

/** This process's lock text for a lock file in `folder` (`dev:ino`). */
function _mine(folder: string): string {
  // A folder without a start time would read as one: "-" holds its place.
  return folder === ""
    ? _MINE
    : `${_MINE.includes(" ") ? _MINE : `${_MINE} -`} ${folder}`;
}

/** The text of file `path`, or undefined when it cannot be read. */
function _read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The lock files this process holds now, each with its holder's token. */
const _held = new Map<string, object>();

/** Whether process `pid` runs (a lock left by a process gone is stale). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Takes the lock file `path` for this process; throws a
 * {@linkcode HistoryOpenError} when a live process (this one included)
 * holds it, when `path` is a folder, or when the file system refuses to
 * write it (permission denied, read-only), saying which. Returns a
 * function that releases it.
 * A lock left by a process that is gone, or whose pid another process
 * has now (see the module's documentation), is taken over.
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
  try {
    return _lock(path);
  } catch (error) {
    const refused = error instanceof HistoryOpenError
      ? undefined
      : refusedWrite(error);
    if (refused === undefined) throw error;
    throw new HistoryOpenError(
      dirname(path),
      `cannot take its lock ${path}: ${refused}`,
      { cause: error },
    );
  }
}

/** lockDir() but for the file system's refusals, thrown as they come. */
function _lock(path: string): () => void {
  const key = resolve(path);
  const here = _folder(path);
  const mine = _mine(here);
  if (_held.has(key) && _read(path) === mine) {
    throw new HistoryOpenError(
      dirname(path),
      `${path} is in use by process ${process.pid} (this one)`,
    );
  }
  // Held here but its file replaced (its holder taken over): not held.
  _held.delete(key);
  const token = {};
  const release = () => {
    if (_held.get(key) !== token) return;
    _held.delete(key);
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
      _held.set(key, token);
      return release;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    let text: string;
    try {
      text = readFileSync(path, "utf8").trim();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "ENOENT") continue; // released meanwhile: try again
      if (code !== "EISDIR") throw error;
      throw new HistoryOpenError(
        dirname(path),
        `cannot take its lock ${path}: it is a folder, where weir keeps its lock file; remove it`,
        { cause: error },
      );
    }
    const [pidText, startedText = "", folder = ""] = text.split(" ");
    const started = startedText === "-" ? "" : startedText;
    const owner = Number(pidText);
    // A lock of another folder (this one is a copy) holds nothing here.
    const ours = folder === "" || folder === here;
    const live = ours && Number.isInteger(owner) && owner > 0 &&
      owner !== process.pid && processAlive(owner);
    // The same pid, started at another time: another process now.
    const now = live && started !== "" ? _startTime(owner) : "";
    const held = live && (now === "" || now === started);
    if (held) {
      throw new HistoryOpenError(
        dirname(path),
        `${path} is in use by process ${owner}; if that process is not weir, delete the file`,
      );
    }
    // The owner is gone (a crash), or its pid is another process's now.
    writeFileSync(path, mine);
    _held.set(key, token);
    return release;
  }
  // There for the exclusive create, gone for the read, twice: a symbolic
  // link to nothing, or another process taking and letting go of it.
  let target: string | undefined;
  try {
    target = readlinkSync(path);
  } catch {
    // Not a symbolic link.
  }
  throw new HistoryOpenError(
    dirname(path),
    target === undefined
      ? `cannot take its lock ${path}: another process takes it and lets it go again and again; stop that process, or try again`
      : `cannot take its lock ${path}: it is a symbolic link to ${target}, which does not exist; remove it`,
  );
}
