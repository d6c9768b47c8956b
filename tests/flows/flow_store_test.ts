import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import {
  FlowConflictError,
  FlowNotFoundError,
} from "../../src/flows/errors.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { asNobody, NOBODY, setprivSkip } from "../_nobody.ts";
import { runtimeCommand } from "../_runtime.ts";

const A = {
  id: "a",
  text: "A(core/Repeat)",
  format: "fbp",
  running: true,
} as const;

function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "weir-store-"));
  return {
    dir,
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test("FlowStore.create() stores a flow at rev 1 and get() reads it back", () => {
  const store = FlowStore.open(":memory:");
  const before = Date.now();
  const flow = store.create(A);
  assert.equal(flow.rev, 1);
  assert.equal(flow.running, true);
  assert.ok(flow.createdAt >= before && flow.updatedAt === flow.createdAt);
  assert.deepEqual(store.get("a"), flow);
  assert.equal(store.get("b"), undefined);
  store.close();
});

test("FlowStore.list() returns every flow ordered by id", () => {
  const store = FlowStore.open(":memory:");
  store.create({ ...A, id: "b" });
  store.create({ ...A, id: "a", format: "json", text: "{}", running: false });
  assert.deepEqual(store.list().map((f) => [f.id, f.format, f.running]), [
    ["a", "json", false],
    ["b", "fbp", true],
  ]);
  store.close();
});

test("FlowStore.update() changes only the given fields and adds one to rev", () => {
  const store = FlowStore.open(":memory:");
  store.create(A);
  const r2 = store.update("a", { running: false });
  assert.equal(r2.rev, 2);
  assert.equal(r2.running, false);
  assert.equal(r2.text, A.text);
  const r3 = store.update("a", { text: "{}", format: "json" }, 2);
  assert.deepEqual([r3.rev, r3.text, r3.format, r3.running], [
    3,
    "{}",
    "json",
    false,
  ]);
  assert.deepEqual(store.get("a"), r3);
  store.close();
});

test("FlowStore.create() refuses a taken id and leaves the flow unchanged", () => {
  const store = FlowStore.open(":memory:");
  store.create(A);
  store.update("a", { running: false });
  const before = store.list();
  assert.throws(
    () => store.create({ ...A, text: "B(core/Drop)" }),
    (e: unknown) =>
      e instanceof FlowConflictError && e.actualRev === 2 &&
      /Cannot create flow "a": a flow with that id exists/.test(e.message),
  );
  assert.deepEqual(store.list(), before);
  store.close();
});

test("FlowStore conflict and not-found errors carry the id and the revs, and no HTTP status", () => {
  const store = FlowStore.open(":memory:");
  store.create(A);
  store.update("a", { running: false });
  const before = store.list();
  let caught: unknown;
  try {
    store.update("a", { text: "B(core/Drop)" }, 1);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof FlowConflictError);
  assert.equal(caught.name, "FlowConflictError");
  assert.equal("status" in caught, false, "no HTTP status in the domain");
  assert.equal(caught.id, "a");
  assert.equal(caught.expectedRev, 1);
  assert.equal(caught.actualRev, 2);
  assert.match(caught.message, /rev 1 is stale, the stored rev is 2/);
  try {
    store.update("zz", { running: true });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof FlowNotFoundError);
  assert.equal(caught.name, "FlowNotFoundError");
  assert.equal("status" in caught, false, "no HTTP status in the domain");
  assert.equal(caught.id, "zz");
  assert.deepEqual(store.list(), before);
  store.close();
});

test("FlowStore.delete() removes a flow; a stale rev or an unknown id changes nothing", () => {
  const store = FlowStore.open(":memory:");
  store.create(A);
  store.create({ ...A, id: "b" });
  store.update("a", { running: false });
  const before = store.list();
  assert.throws(() => store.delete("a", 1), FlowConflictError);
  assert.throws(() => store.delete("nope"), FlowNotFoundError);
  assert.deepEqual(store.list(), before);
  store.delete("a", 2);
  store.delete("b");
  assert.deepEqual(store.list(), []);
  store.close();
});

test("FlowStore refuses malformed arguments with a sentence and changes nothing", () => {
  const store = FlowStore.open(":memory:");
  store.create(A);
  const before = store.list();
  const bad = (fn: () => unknown, type: typeof Error, re: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof type && re.test(String(e)));
  const loose = store as unknown as {
    create(flow: unknown): unknown;
    update(id: string, changes: unknown): unknown;
  };
  bad(
    () => loose.create({ ...A, id: "" }),
    TypeError,
    /id must be a non-empty string/,
  );
  bad(
    () => loose.create({ ...A, id: "x", text: 5 }),
    TypeError,
    /text must be a string/,
  );
  bad(
    () => loose.create({ ...A, id: "x", format: "yaml" }),
    RangeError,
    /format must be "json" or "fbp", received "yaml"/,
  );
  bad(
    () => loose.create({ ...A, id: "x", running: "yes" }),
    TypeError,
    /running must be a boolean/,
  );
  bad(
    () => loose.create(null),
    TypeError,
    /expected \{ id, text, format, running \}/,
  );
  bad(() => loose.update("a", null), TypeError, /changes must be an object/);
  bad(() => loose.update("a", { format: "xml" }), RangeError, /format must be/);
  bad(
    () => store.update("a", { running: false }, 0),
    RangeError,
    /rev must be a positive integer, received 0/,
  );
  bad(
    () => store.delete("a", 1.5),
    RangeError,
    /rev must be a positive integer/,
  );
  assert.deepEqual(store.list(), before);
  store.close();
});

test("FlowStore keeps flows in a file across close and open, in WAL mode with the schema version set", () => {
  using tmp = tempDir();
  const path = join(tmp.dir, "flows.db");
  const store = FlowStore.open(path);
  assert.equal(store.path, path);
  store.create(A);
  store.update("a", { running: false }, 1);
  store.create({ ...A, id: "b", format: "json", text: "{}" });
  const before = store.list();
  store.close();

  const again = FlowStore.open(path);
  assert.deepEqual(again.list(), before);
  again.close();

  const raw = new DatabaseSync(path);
  const row = (sql: string) =>
    raw.prepare(sql).get() as Record<string, unknown>;
  assert.equal(row("PRAGMA journal_mode").journal_mode, "wal");
  assert.equal(row("PRAGMA user_version").user_version, 1);
  raw.close();
});

test("FlowStore.open() says why it cannot open: a missing folder, a file that is not a database", () => {
  using tmp = tempDir();
  assert.throws(
    () => FlowStore.open(join(tmp.dir, "missing", "flows.db")),
    (e: unknown) =>
      e instanceof Error &&
      e.message.startsWith(
        `Cannot open flow database ${join(tmp.dir, "missing", "flows.db")}: `,
      ) && /does its folder exist/.test(e.message),
  );
  const junk = join(tmp.dir, "junk.db");
  writeFileSync(junk, "not a database, ".repeat(200));
  assert.throws(
    () => FlowStore.open(junk),
    /Cannot open flow database .*junk\.db: file is not a database/,
  );
  assert.throws(
    () => FlowStore.open(""),
    /Cannot open flow database: path must be a file name or ":memory:"/,
  );
});

test("FlowStore.open() refuses another program's database, leaving its tables and journal mode alone", () => {
  using tmp = tempDir();
  const other = join(tmp.dir, "other.db");
  let raw = new DatabaseSync(other);
  raw.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
  raw.exec("INSERT INTO users (name) VALUES ('alice')");
  raw.close();
  assert.throws(
    () => FlowStore.open(other),
    /Cannot open flow database .*other\.db: it is another program's database \(tables "users"\), not weir's; it was left as it was: choose another file/,
  );
  raw = new DatabaseSync(other);
  assert.deepEqual(
    raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
      .map((r) => (r as Record<string, unknown>).name),
    ["users"],
  );
  assert.deepEqual(
    (raw.prepare("PRAGMA journal_mode").get() as Record<string, unknown>)
      .journal_mode,
    "delete",
  );
  raw.close();
});

test("FlowStore.open() refuses a newer weir's database and a foreign flows table, leaving them alone", () => {
  using tmp = tempDir();
  const newer = join(tmp.dir, "newer.db");
  let raw = new DatabaseSync(newer);
  raw.exec("PRAGMA user_version = 99");
  raw.close();
  assert.throws(
    () => FlowStore.open(newer),
    /schema version is 99, newer than this weir's 1/,
  );
  const foreign = join(tmp.dir, "foreign.db");
  raw = new DatabaseSync(foreign);
  raw.exec("CREATE TABLE flows (x INTEGER)");
  raw.close();
  assert.throws(
    () => FlowStore.open(foreign),
    /holds a table named flows that weir did not create/,
  );
  raw = new DatabaseSync(foreign);
  assert.deepEqual(
    raw.prepare("PRAGMA table_info(flows)").all().map((c) =>
      (c as Record<string, unknown>).name
    ),
    ["x"],
  );
  raw.close();
});

test("FlowStore.open() gives up on a database another connection holds locked past busyTimeoutMs", () => {
  using tmp = tempDir();
  const path = join(tmp.dir, "flows.db");
  FlowStore.open(path).close();
  const holder = new DatabaseSync(path);
  holder.exec("BEGIN EXCLUSIVE");
  try {
    assert.throws(
      () => FlowStore.open(path, { busyTimeoutMs: 20 }),
      /Cannot open flow database .*: database is locked \(another process holds it/,
    );
  } finally {
    holder.exec("ROLLBACK");
    holder.close();
  }
  assert.throws(
    () => FlowStore.open(path, { busyTimeoutMs: -1 }),
    RangeError,
  );
});

test("FlowStore.open() refuses a file another open FlowStore holds, until it is closed", () => {
  using tmp = tempDir();
  const path = join(tmp.dir, "flows.db");
  const first = FlowStore.open(path);
  first.create(A);
  assert.throws(
    () => FlowStore.open(path, { busyTimeoutMs: 20 }),
    /Cannot open flow database .*: database is locked \(another process holds it; is another weir running on this file\?\)/,
  );
  assert.deepEqual(first.list().map((f) => f.rev), [1]);
  first.close();
  const second = FlowStore.open(path, { busyTimeoutMs: 20 });
  assert.deepEqual(second.list().map((f) => f.id), ["a"]);
  second.close();
});

test("FlowStore.open() of a database it made before changes no byte of it", () => {
  using tmp = tempDir();
  const path = join(tmp.dir, "flows.db");
  const first = FlowStore.open(path);
  first.create(A);
  first.close();
  const before = readFileSync(path);
  const again = FlowStore.open(path);
  assert.deepEqual(again.list().map((f) => f.id), ["a"]);
  again.close();
  assert.deepEqual(readFileSync(path), before);
});

test("FlowStore.close() is idempotent and later calls say the database is closed", () => {
  const store = FlowStore.open(":memory:");
  store.close();
  store.close();
  assert.throws(
    () => store.list(),
    /Cannot list flows: the flow database :memory: is closed/,
  );
  assert.throws(() => store.create(A), /is closed/);
  assert.throws(() => store.update("a", {}), /is closed/);
  assert.throws(() => store.delete("a"), /is closed/);
  assert.throws(() => store.get("a"), /is closed/);
});

test("FlowStore rolls a change back when it fails inside its transaction", () => {
  using tmp = tempDir();
  const path = join(tmp.dir, "flows.db");
  const first = FlowStore.open(path);
  first.create(A);
  // The store holds its file exclusively while open.
  first.close();
  // A trigger that fails the write once the UPDATE is under way: the rev
  // read and the row written must both be undone.
  const raw = new DatabaseSync(path);
  raw.exec(
    "CREATE TRIGGER refuse BEFORE UPDATE ON flows WHEN NEW.text = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END",
  );
  raw.close();
  const store = FlowStore.open(path);
  const before = store.list();
  assert.throws(() => store.update("a", { text: "bad" }), /refused/);
  assert.deepEqual(store.list(), before);
  // The connection is usable afterwards: no transaction was left open.
  assert.equal(store.update("a", { text: "ok" }).rev, 2);
  store.close();
});

test("FlowStore remembers whether a flow was ever started; a database from before that column counts the running ones", () => {
  using tmp = tempDir();
  const path = join(tmp.dir, "old.db");
  // The schema as weir wrote it before the started column.
  const raw = new DatabaseSync(path);
  raw.exec(`CREATE TABLE flows (
    id TEXT PRIMARY KEY NOT NULL,
    rev INTEGER NOT NULL CHECK (rev >= 1),
    text TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('json', 'fbp')),
    running INTEGER NOT NULL CHECK (running IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE flow_starts (id TEXT PRIMARY KEY NOT NULL, attempts TEXT NOT NULL) STRICT;
  INSERT INTO flows VALUES ('on', 1, 'A(core/Repeat)', 'fbp', 1, 1, 1);
  INSERT INTO flows VALUES ('off', 1, 'A(core/Repeat)', 'fbp', 0, 1, 1);
  PRAGMA user_version = 1;`);
  raw.close();
  const store = FlowStore.open(path);
  assert.deepEqual(
    store.list().map((f) => [f.id, f.running, f.started]),
    [["off", false, false], ["on", true, true]],
  );
  // Stopped stays started; a new flow not running was never started.
  assert.equal(store.update("on", { running: false }).started, true);
  assert.equal(
    store.create({ ...A, id: "new", running: false }).started,
    false,
  );
  assert.equal(store.update("new", { text: "B(core/Repeat)" }).started, false);
  assert.equal(store.update("new", { running: true }).started, true);
  assert.equal(store.update("new", { running: false }).started, true);
  store.close();
  const again = FlowStore.open(path);
  assert.deepEqual(
    again.list().map((f) => [f.id, f.running, f.started]),
    [["new", false, true], ["off", false, false], ["on", false, true]],
  );
  again.close();
});

test(
  "FlowStore.open() refuses a database it made before that this process may not write",
  {
    skip: setprivSkip(),
    timeout: 30_000,
  },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-flows-read-only-"));
    try {
      const path = join(dir, "flows.db");
      const store = FlowStore.open(path);
      store.create(A);
      store.close();
      chmodSync(path, 0o444);
      // Its folder may be written: the file alone is read-only.
      chmodSync(dir, 0o777);
      const home = join(dir, "home");
      mkdirSync(home);
      const script = join(dir, "open.ts");
      const module = new URL("../../src/flows/flow_store.ts", import.meta.url);
      writeFileSync(
        script,
        `import { FlowStore } from ${JSON.stringify(module.href)};
try {
  FlowStore.open(${JSON.stringify(path)}).close();
  console.log("opened");
} catch (e) {
  console.log((e as Error).message);
}
`,
      );
      const [runtime, flags] = runtimeCommand();
      let command: [string, string[]] = [runtime, [...flags, script]];
      if (process.getuid?.() === 0) {
        chownSync(home, NOBODY, NOBODY);
        command = asNobody(runtime, [...flags, script]);
      }
      const out = execFileSync(command[0], command[1], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, HOME: home, DENO_DIR: home },
      });
      assert.equal(
        out.trim(),
        `Cannot open flow database ${path}: attempt to write a readonly database (this process may not write the file or its folder)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
