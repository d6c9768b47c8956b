import assert from "node:assert/strict";
import { test } from "node:test";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { builtins } from "../../src/components/mod.ts";
import { fail } from "../../src/cli/cli_error.ts";
import { createLogger } from "../../src/cli/log.ts";
import { startServer } from "../../src/cli/serve.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { runtimeCommand } from "../_runtime.ts";
import { cli } from "./_weir.ts";

/** Every path under `dir`, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

/** `weir serve` on a free port with the flow database `db` and `args`. */
function serve(db: string, ...args: string[]) {
  return cli(["serve", "--listen", "127.0.0.1:0", "--db", db, ...args]);
}

test("a weir serve that fails after opening a new flow database leaves no file behind", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-failed-start-"));
  try {
    const db = join(dir, "srv", "weir.db");
    mkdirSync(join(dir, "srv"));
    // A file where the history's data folder should be.
    writeFileSync(join(dir, "file"), "");
    const history = await serve(db, "--data-dir", join(dir, "file"));
    assert.equal(history.code, 2);
    assert.match(history.err, /^cannot open the metric history in /);
    assert.deepEqual(tree(dir), ["file", "srv"]);
    // Remote write without a history: refused once the database is open.
    const remote = await serve(
      db,
      "--no-history",
      "--remote-write",
      "http://127.0.0.1:9/write",
    );
    assert.equal(remote.code, 2);
    assert.match(remote.err, /^remote write sends from the metric history/);
    assert.deepEqual(tree(dir), ["file", "srv"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a weir serve that fails after making the history's folder removes it, and only it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-failed-start-"));
  try {
    const data = join(dir, "data");
    mkdirSync(data);
    // Remote write's cursors go beside the history: a file there fails
    // the start once the history is open.
    writeFileSync(join(data, "remote_write"), "mine");
    const r = await serve(
      join(dir, "weir.db"),
      "--data-dir",
      data,
      "--remote-write",
      "http://127.0.0.1:9/write",
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot make the cursor folder/);
    assert.deepEqual(tree(dir), ["data", join("data", "remote_write")]);
    assert.equal(readFileSync(join(data, "remote_write"), "utf8"), "mine");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a weir serve that fails leaves an existing flow database as it was, byte for byte", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-failed-start-"));
  try {
    const db = join(dir, "weir.db");
    const store = FlowStore.open(db);
    store.create({
      id: "kept",
      text: "A(core/Repeat) out -> in B(core/Drop)",
      format: "fbp",
      running: false,
    });
    store.close();
    const before = readFileSync(db);
    const listing = tree(dir);
    writeFileSync(join(dir, "file"), "");
    const r = await serve(db, "--data-dir", join(dir, "file"));
    assert.equal(r.code, 2);
    assert.deepEqual(readFileSync(db), before);
    assert.deepEqual(tree(dir), [...listing, "file"].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "a weir serve that fails leaves a folder another process made while it started",
  {
    timeout: 30_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-failed-start-"));
    const db = join(dir, "weir.db");
    FlowStore.open(db).close();
    const history = join(dir, "data", "history");
    // Another process: it holds the database's write lock, so that the
    // start waits for it (busyTimeoutMs), makes the history's folder and
    // takes its lock meanwhile, and then lets the database go.
    const other = join(dir, "other.ts");
    writeFileSync(
      other,
      `import { DatabaseSync } from "node:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import process from "node:process";
const db = new DatabaseSync(${JSON.stringify(db)});
db.exec("BEGIN IMMEDIATE");
console.log("held");
// The start is blocked in its database's busy wait: nothing to await.
setTimeout(() => {
  mkdirSync(${JSON.stringify(history)}, { recursive: true });
  writeFileSync(${JSON.stringify(join(history, "LOCK"))}, String(process.pid));
  writeFileSync(${JSON.stringify(join(history, "series.log"))}, "theirs");
  setTimeout(() => {
    db.close();
  }, 200);
}, 300);
setInterval(() => {}, 60_000);
`,
    );
    const [runtime, flags] = runtimeCommand();
    const child = spawn(runtime, [...flags, other], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d) => {
          if (String(d).includes("held")) resolve();
        });
        child.on("exit", () => reject(new Error("the other process exited")));
      });
      await assert.rejects(
        startServer({
          hostname: "127.0.0.1",
          port: 0,
          db,
          tokens: [],
          drainTimeoutMs: 1000,
          files: [],
          registry: builtins(),
          history: { dir: history },
          log: createLogger({ level: "error", write: () => {} }),
          fail,
        }),
        /is in use by process/,
      );
      assert.equal(readFileSync(join(history, "series.log"), "utf8"), "theirs");
      assert.equal(readFileSync(join(history, "LOCK"), "utf8"), `${child.pid}`);
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
