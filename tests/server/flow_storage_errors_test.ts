/**
 * Issue 18, finding 11: a full disk or a read-only database answered a
 * generic 500 on every change while /readyz stayed ready. Now a change
 * gets 507 (disk full) or 503 (read-only, I/O error) with the reason, the
 * flows run on as they were, and /readyz is not ready, saying why, until a
 * write succeeds again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { killLeftovers, startServe } from "../cli/_weir.ts";
import {
  mountTmpfs,
  readOnlyDatabases,
  tmpfsSkip,
} from "../_storage_faults.ts";
import { body, fbp, GOOD, OTHER, setup } from "./_flow_api.ts";

test("a read-only database: changes get 503 with the reason, reads and the flows go on, /readyz is 503 until a write succeeds", async () => {
  const s = setup();
  try {
    assert.equal(
      (await s.app.request("/flows/a", fbp(GOOD, "PUT"))).status,
      201,
    );
    const writable = readOnlyDatabases();
    try {
      for (
        const [path, init] of [
          ["/flows/b", fbp(GOOD, "PUT")],
          ["/flows/a", fbp(OTHER, "PUT")],
          ["/flows/a/stop", { method: "POST" }],
          ["/flows/a", { method: "DELETE" }],
        ] as const
      ) {
        const res = await s.app.request(path, init);
        assert.equal(res.status, 503, `${init.method} ${path}`);
        const b = await body(res);
        assert.equal(b.reason, "read_only");
        assert.match(
          String(b.error),
          /^Cannot \w+ flow "[ab]": the flow database :memory: is read-only \(SQLite: attempt to write a readonly database\); nothing was changed: make its file, folder and file system writable, then retry$/,
        );
      }
      // Reads answer, the flow runs as it was.
      const list = await body(await s.app.request("/flows"));
      assert.deepEqual(
        (list.flows as { id: string; rev: number; state: string }[]).map((
          f,
        ) => [f.id, f.rev, f.state]),
        [["a", 1, "running"]],
      );
      assert.equal((await s.app.request("/healthz")).status, 200);
      const ready = await s.app.request("/readyz");
      assert.equal(ready.status, 503);
      const r = await body(ready);
      assert.equal(r.ready, false);
      assert.match(
        String((r.reasons as string[])[0]),
        /^the flow database :memory: is read-only \(SQLite: attempt to write a readonly database\); changes fail until a write succeeds: make its file, folder and file system writable \(since \d{4}-\d\d-\d\dT/,
      );
    } finally {
      writable();
    }
    assert.equal(
      (await s.app.request("/flows/b", fbp(GOOD, "PUT"))).status,
      201,
    );
    const ready = await s.app.request("/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, reasons: [] });
  } finally {
    await s.close();
  }
});

test(
  "weir serve on a full disk: changes get 507 with the reason, /readyz 503; after space is freed a change succeeds and /readyz is ready",
  {
    skip: tmpfsSkip(),
    timeout: 60_000,
  },
  async () => {
    const tmpfs = mountTmpfs(1024);
    if (typeof tmpfs === "string") throw new Error(tmpfs);
    const db = join(tmpfs.dir, "weir.db");
    const w = await startServe([
      "--listen",
      "127.0.0.1:0",
      "--db",
      db,
      "--no-history",
    ]);
    try {
      const put = (id: string, text: string) =>
        fetch(`${w.url}/flows/${id}`, {
          method: "PUT",
          headers: { "Content-Type": "text/vnd.fbp" },
          body: text,
        });
      const small = await put("a", GOOD);
      assert.equal(small.status, 201, await small.text());
      const free = tmpfs.fill();
      // A comment of 200 KB: the change needs room on the disk.
      const big = `# ${"y".repeat(200_000)}\n${GOOD}`;
      const full = await put("b", big);
      const text = await full.text();
      assert.equal(full.status, 507, text);
      assert.match(
        full.headers.get("content-type") ?? "",
        /^application\/json/,
      );
      assert.deepEqual(JSON.parse(text), {
        error:
          `Cannot create flow "b": the flow database ${db} cannot be written: its disk is full (SQLite: database or disk is full); nothing was changed: free space on its file system, then retry`,
        reason: "disk_full",
      });
      const ready = await fetch(`${w.url}/readyz`);
      assert.equal(ready.status, 503);
      const r = await ready.json();
      assert.match(r.reasons[0], /its disk is full/);
      const a = await fetch(`${w.url}/flows/a`);
      assert.equal(a.status, 200);
      assert.equal((await a.json()).state, "running");
      free();
      const again = await put("b", big);
      assert.equal(again.status, 201, await again.text());
      const ok = await fetch(`${w.url}/readyz`);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { ready: true, reasons: [] });
      // The log says it once when writes start failing, once when they
      // work again.
      const lines = w.records().filter((l) => l.db === db && l.reason);
      assert.deepEqual(lines.map((l) => [l.level, l.reason]), [[
        "error",
        "disk_full",
      ]]);
      assert.match(lines[0].msg, /its disk is full/);
      await w.logged(
        (l) => l.msg === `the flow database ${db} takes writes again`,
        "the recovery line",
      );
    } finally {
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
      killLeftovers();
      tmpfs.unmount();
    }
  },
);
