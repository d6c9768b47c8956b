/**
 * Real storage faults for the tests of what weir does when its database
 * cannot be written: a small tmpfs that fills up (mounting needs root: the
 * test is skipped with the reason when the mount fails, except in CI or
 * with WEIR_REQUIRE_INTEGRATION=1, where it fails), and SQLite's own
 * read-only state (`PRAGMA query_only`) switched on inside the store's
 * transactions.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** A mounted tmpfs. */
export interface Tmpfs {
  /** Its folder. */
  dir: string;
  /** Writes a file that takes all the space left; returns a function that removes it. */
  fill(): () => void;
  /** Unmounts it and removes the folder. */
  unmount(): void;
}

let probed: string | false | undefined;

/**
 * Why a tmpfs cannot be mounted here (a `skip` reason), or `false` when it
 * can: a small one is mounted and unmounted once to find out. In CI (`CI`
 * set) or with WEIR_REQUIRE_INTEGRATION=1 it is `false` anyway, so that
 * the test fails instead of skipping.
 */
export function tmpfsSkip(): string | false {
  if (probed === undefined) {
    const t = mountTmpfs(64);
    if (typeof t === "string") {
      probed = process.env.CI || process.env.WEIR_REQUIRE_INTEGRATION === "1"
        ? false
        : t;
    } else {
      t.unmount();
      probed = false;
    }
  }
  return probed;
}

/**
 * Mounts a tmpfs of `kib` KiB, or returns why it cannot.
 */
export function mountTmpfs(kib: number): Tmpfs | string {
  const dir = mkdtempSync(join(tmpdir(), "weir-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs (needs root): ${
      String((e as { stderr?: unknown }).stderr ?? e).trim()
    }`;
  }
  return {
    dir,
    fill() {
      const filler = join(dir, "filler");
      const fd = openSync(filler, "w");
      try {
        // Ever smaller writes until not one byte more fits: ENOSPC.
        for (let n = 64 * 1024; n >= 1;) {
          try {
            writeSync(fd, new Uint8Array(n));
          } catch (e) {
            if ((e as { code?: string }).code !== "ENOSPC") throw e;
            n = Math.floor(n / 2);
          }
        }
      } finally {
        closeSync(fd);
      }
      return () => rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync("umount", ["-l", dir], { stdio: "ignore" });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Makes every SQLite connection of this process read-only from its next
 * transaction on (`PRAGMA query_only = ON`, so SQLite itself refuses the
 * write with SQLITE_READONLY), until the returned function is called.
 */
export function readOnlyDatabases(): () => void {
  const exec = DatabaseSync.prototype.exec;
  const seen = new Set<DatabaseSync>();
  DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
    if (sql === "BEGIN IMMEDIATE") {
      seen.add(this);
      exec.call(this, "PRAGMA query_only = ON");
    }
    return exec.call(this, sql);
  };
  return () => {
    DatabaseSync.prototype.exec = exec;
    for (const db of seen) {
      try {
        db.exec("PRAGMA query_only = OFF");
      } catch { /* closed */ }
    }
  };
}
