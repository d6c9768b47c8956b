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
import { FlowStore } from "../../src/flows/flow_store.ts";
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
