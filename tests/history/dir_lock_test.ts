/**
 * The history folder's lock: refused while a live weir holds it, taken
 * over when its holder is gone or its pid now names another process
 * (weir killed and started again as the same pid, as pid 1 of a
 * container is; a pid reused after a reboot).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { lockDir } from "../../src/history/dir_lock.ts";

function withLock(fn: (path: string) => void | Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-lock-test-"));
    try {
      await fn(join(dir, "LOCK"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** `/proc/<pid>/stat`'s start time, as the lock writes it. */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

test(
  "a lock left with this very pid (weir killed and started again as the same pid) is taken over",
  withLock((path) => {
    writeFileSync(path, `${process.pid} 1`);
    const release = lockDir(path);
    assert.match(
      readFileSync(path, "utf8"),
      new RegExp(`^${process.pid}( |$)`),
    );
    // Held now: a second open in this process is refused ...
    assert.throws(() => lockDir(path), /in use by process \d+ \(this one\)/);
    release();
    // ... and a release removes the file.
    assert.throws(() => readFileSync(path), /ENOENT/);
    writeFileSync(path, `${process.pid}`);
    lockDir(path)();
  }),
);

test(
  "a live process holding the lock refuses it; the same pid started at another time does not",
  withLock(async (path) => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    await new Promise((r) => child.once("spawn", r));
    const pid = child.pid!;
    try {
      writeFileSync(path, `${pid} ${startTime(pid)}`);
      assert.throws(
        () => lockDir(path),
        new RegExp(`in use by process ${pid}; if that process is not weir`),
      );
      // An older lock without a start time: a live pid is taken as the owner.
      writeFileSync(path, `${pid}`);
      assert.throws(() => lockDir(path), /in use by process/);
      // The pid reused by another process since (it started at another time).
      writeFileSync(path, `${pid} ${Number(startTime(pid)) + 12345}`);
      const release = lockDir(path);
      assert.match(readFileSync(path, "utf8"), new RegExp(`^${process.pid}`));
      release();
    } finally {
      process.kill(pid);
    }
  }),
);

test(
  "a lock whose process is gone is taken over, and releasing an old hold leaves the new holder's file",
  withLock((path) => {
    writeFileSync(path, "999999999 5");
    const first = lockDir(path);
    // The file replaced behind the first holder's back (as a test's crash does):
    writeFileSync(path, "999999999");
    const second = lockDir(path);
    first(); // the first hold's release must not remove the second's lock
    assert.match(readFileSync(path, "utf8"), new RegExp(`^${process.pid}`));
    second();
    assert.throws(() => readFileSync(path), /ENOENT/);
  }),
);

test(
  "a lock copied with its folder (cp -r while weir runs) holds nothing in the copy; in its own folder a live holder still refuses it",
  withLock(async (path) => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    await new Promise((r) => child.once("spawn", r));
    const pid = child.pid!;
    const other = mkdtempSync(join(tmpdir(), "weir-lock-other-"));
    try {
      const s = statSync(other);
      writeFileSync(path, `${pid} ${startTime(pid)} ${s.dev}:${s.ino}`);
      const release = lockDir(path);
      const here = statSync(dirname(path));
      assert.equal(
        readFileSync(path, "utf8"),
        `${process.pid} ${startTime(process.pid)} ${here.dev}:${here.ino}`,
      );
      release();
      writeFileSync(path, `${pid} ${startTime(pid)} ${here.dev}:${here.ino}`);
      assert.throws(
        () => lockDir(path),
        new RegExp(`in use by process ${pid}; if that process is not weir`),
      );
    } finally {
      process.kill(pid);
      rmSync(other, { recursive: true, force: true });
    }
  }),
);

test(
  "a lock that is a symbolic link to nothing is refused saying so, not without a reason",
  withLock((path) => {
    const target = join(dirname(path), "gone", "LOCK");
    symlinkSync(target, path);
    assert.throws(
      () => lockDir(path),
      {
        name: "HistoryOpenError",
        reason:
          `cannot take its lock ${path}: it is a symbolic link to ${target}, which does not exist; remove it`,
      },
    );
  }),
);
