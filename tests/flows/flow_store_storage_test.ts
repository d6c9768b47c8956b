/**
 * FlowStore when its storage fails: a full disk (a real tmpfs), a read-only
 * database (SQLite's own read-only state) and an I/O error each become a
 * FlowStorageError naming the file and the reason, and `problem` says so
 * until a write succeeds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { DatabaseSync } from "node:sqlite";
import { FlowStorageError } from "../../src/flows/errors.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import {
  mountTmpfs,
  readOnlyDatabases,
  tmpfsSkip,
} from "../_storage_faults.ts";

test(
  "FlowStore on a full disk: writes fail with FlowStorageError disk_full, reads work, and the next write after space is freed succeeds",
  {
    skip: tmpfsSkip(),
  },
  () => {
    const tmpfs = mountTmpfs(512);
    if (typeof tmpfs === "string") throw new Error(tmpfs);
    const path = join(tmpfs.dir, "weir.db");
    const store = FlowStore.open(path);
    try {
      store.create({ id: "a", text: "x", format: "fbp", running: true });
      const free = tmpfs.fill();
      // Bigger than any free page or WAL room left: it needs the disk.
      const big = "y".repeat(200_000);
      assert.throws(
        () =>
          store.create({ id: "b", text: big, format: "fbp", running: true }),
        (e: unknown) => {
          assert.ok(e instanceof FlowStorageError);
          assert.equal(e.reason, "disk_full");
          assert.equal(e.path, path);
          assert.equal(
            e.message,
            `Cannot create flow "b": the flow database ${path} cannot be written: its disk is full (SQLite: database or disk is full); nothing was changed: free space on its file system, then retry`,
          );
          return true;
        },
      );
      assert.equal(store.problem?.reason, "disk_full");
      assert.match(store.problem!.message, /its disk is full/);
      // Reads work; nothing half-written.
      assert.deepEqual(store.list().map((f) => f.id), ["a"]);
      free();
      store.create({ id: "b", text: big, format: "fbp", running: true });
      assert.equal(store.problem, undefined);
      assert.deepEqual(store.list().map((f) => f.id), ["a", "b"]);
    } finally {
      store.close();
      tmpfs.unmount();
    }
  },
);

test("FlowStore on a read-only database: FlowStorageError read_only until a write succeeds", () => {
  const store = FlowStore.open(":memory:");
  store.create({ id: "a", text: "x", format: "fbp", running: false });
  const writable = readOnlyDatabases();
  try {
    for (
      const [what, op] of [
        ["update flow", () => store.update("a", { running: true })],
        ["delete flow", () => store.delete("a")],
        [
          "create flow",
          () =>
            store.create({ id: "b", text: "x", format: "fbp", running: false }),
        ],
      ] as const
    ) {
      assert.throws(op, (e: unknown) => {
        assert.ok(e instanceof FlowStorageError);
        assert.equal(e.reason, "read_only");
        assert.match(
          e.message,
          new RegExp(
            `^Cannot ${what} "[ab]": the flow database :memory: is read-only \\(SQLite: attempt to write a readonly database\\); nothing was changed`,
          ),
        );
        return true;
      });
    }
    assert.equal(store.problem?.reason, "read_only");
    const since = store.problem!.since;
    assert.throws(() => store.update("a", { running: true }));
    assert.equal(store.problem!.since, since, "the first failure's time");
  } finally {
    writable();
  }
  assert.equal(store.update("a", { running: true }).rev, 2);
  assert.equal(store.problem, undefined);
  store.close();
});

test("FlowStore: an I/O error is FlowStorageError io_error; other errors pass unchanged and leave no problem", () => {
  const store = FlowStore.open(":memory:");
  store.create({ id: "a", text: "x", format: "fbp", running: false });
  const exec = DatabaseSync.prototype.exec;
  DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
    if (sql === "COMMIT") throw new Error("disk I/O error");
    return exec.call(this, sql);
  };
  try {
    assert.throws(
      () => store.update("a", { running: true }),
      (e: unknown) =>
        e instanceof FlowStorageError && e.reason === "io_error" &&
        /the system reported an I\/O error \(SQLite: disk I\/O error\)/.test(
          e.message,
        ),
    );
  } finally {
    DatabaseSync.prototype.exec = exec;
  }
  assert.equal(store.problem?.reason, "io_error");
  assert.deepEqual(store.get("a")?.rev, 1, "rolled back");
  // A conflict is not a storage problem, and does not clear one either.
  assert.throws(() => store.update("a", { running: true }, 7), /stale/);
  assert.equal(store.problem?.reason, "io_error");
  store.update("a", { running: true }, 1);
  assert.equal(store.problem, undefined);
  store.close();
});
