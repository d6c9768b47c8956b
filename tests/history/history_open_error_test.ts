/**
 * What a history whose folder cannot be opened says: a HistoryOpenError
 * with the folder and the reason apart, for a lock that is a folder, a
 * read-only file system (a real tmpfs, remounted read-only; skipped where
 * it cannot be mounted) and the file system's refusals as codes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { lockDir } from "../../src/history/dir_lock.ts";
import { History } from "../../src/history/history.ts";
import {
  HistoryOpenError,
  refusedWrite,
} from "../../src/history/history_open_error.ts";
import { mountTmpfs, tmpfsSkip } from "../_storage_faults.ts";

test("refusedWrite() says permission denied for EACCES and EPERM, read-only for EROFS, and nothing for another error", () => {
  const error = (code: string) => Object.assign(new Error(code), { code });
  for (const code of ["EACCES", "EPERM"]) {
    assert.equal(
      refusedWrite(error(code)),
      `permission denied (${code}); run weir as the folder's owner, or give the user weir runs as write access to it`,
    );
  }
  assert.equal(
    refusedWrite(error("EROFS")),
    "the file system is read-only (EROFS); remount it read-write",
  );
  for (const other of [error("EIO"), new Error("x"), null, undefined]) {
    assert.equal(refusedWrite(other), undefined);
  }
});

test("lockDir() on a LOCK that is a folder throws a HistoryOpenError saying so, and leaves it", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-lock-folder-"));
  try {
    const lock = join(dir, "LOCK");
    mkdirSync(join(lock, "inside"), { recursive: true });
    assert.throws(() => lockDir(lock), (e) => {
      assert.ok(e instanceof HistoryOpenError, String(e));
      assert.equal(e.dir, dir);
      assert.equal(
        e.reason,
        `cannot take its lock ${lock}: it is a folder, where weir keeps its lock file; remove it`,
      );
      assert.equal(e.message, `Cannot open history in "${dir}": ${e.reason}`);
      return true;
    });
    assert.deepEqual(readdirSync(lock), ["inside"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "History.open() on a read-only file system throws a HistoryOpenError naming the path and EROFS",
  {
    skip: tmpfsSkip(),
  },
  async () => {
    const fs = mountTmpfs(1024);
    assert.ok(typeof fs !== "string", String(fs));
    try {
      const made = join(fs.dir, "made");
      await (await History.open({ dir: made })).close();
      execFileSync("mount", ["-o", "remount,ro", fs.dir]);
      // A history made before: its lock is the first write refused.
      await assert.rejects(History.open({ dir: made }), (e) => {
        assert.ok(e instanceof HistoryOpenError, String(e));
        assert.equal(e.dir, made);
        assert.equal(
          e.reason,
          `cannot take its lock ${
            join(made, "LOCK")
          }: the file system is read-only (EROFS); remount it read-write`,
        );
        return true;
      });
      // A new one: its folder cannot be made.
      const fresh = join(fs.dir, "fresh");
      await assert.rejects(History.open({ dir: fresh }), (e) => {
        assert.ok(e instanceof HistoryOpenError, String(e));
        assert.equal(e.dir, fresh);
        assert.equal(
          e.reason,
          "cannot create it: the file system is read-only (EROFS); remount it read-write",
        );
        return true;
      });
    } finally {
      fs.unmount();
    }
  },
);
