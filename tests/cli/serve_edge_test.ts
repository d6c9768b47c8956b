/**
 * `weir serve` as a process, where operators go wrong: a second server on
 * the same database, and a second signal during a long drain.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { startWeir, type Weir } from "./_weir.ts";

/** `weir serve <args>`, and its URL once it listens. */
function runWeir(args: string[]): Weir & { listening: Promise<string> } {
  const w = startWeir(["serve", ...args]);
  const listening = w.logged(
    (r) => r.msg.startsWith("serving flows"),
    "listening",
  ).then((r) => r.url as string);
  listening.catch(() => {});
  return { ...w, listening };
}

/** Resolves once a log line matches; rejects, with the log, if weir exits first. */
async function logged(w: Weir, pattern: RegExp): Promise<void> {
  await w.logged((r) => pattern.test(r.msg), String(pattern));
}

test(
  "weir serve: a second server on a database another one holds exits 2 with one sentence, and the first keeps its flows",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-serve-edge-"));
    const db = join(dir, "flows.db");
    const graph = join(dir, "ticks.fbp");
    writeFileSync(
      graph,
      "# @name ticks\n'1s' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n",
    );
    const first = runWeir(["--listen", "127.0.0.1:0", "--db", db, graph]);
    try {
      const url = await first.listening;
      const second = runWeir([
        "--listen",
        "127.0.0.1:0",
        "--db",
        db,
        graph,
      ]);
      const { code } = await second.exited;
      assert.equal(code, 2, second.log());
      assert.match(
        second.log(),
        /database is locked \(another process holds it; is another weir running on this file\?\)/,
      );
      assert.doesNotMatch(second.log(), /^\s+at /m, "no stack trace");
      assert.doesNotMatch(second.log(), /serving flows/);
      // The first server still has the flow, at the rev it wrote.
      const res = await fetch(`${url}/flows/ticks`);
      const body = await res.json();
      assert.equal(res.status, 200);
      assert.equal(body.rev, 1);
      assert.equal(body.state, "running");
      process.kill(first.child.pid!, "SIGTERM");
      assert.equal((await first.exited).code, 0, first.log());
      // Released at exit: a new server opens it and restores the flow.
      const third = runWeir(["--listen", "127.0.0.1:0", "--db", db]);
      const url3 = await third.listening;
      const again = await (await fetch(`${url3}/flows/ticks`)).json();
      assert.equal(again.rev, 1);
      assert.equal(again.state, "running");
      process.kill(third.child.pid!, "SIGTERM");
      assert.equal((await third.exited).code, 0, third.log());
    } finally {
      first.child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve: a second signal during a long drain exits at once (130); the flow is still stored as running",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-serve-edge-"));
    const db = join(dir, "flows.db");
    const graph = join(dir, "slow.fbp");
    // A message that waits a minute in a delay: draining takes that long.
    writeFileSync(
      graph,
      "# @name slow\n'1' -> in D(core/Delay) out -> in O(core/Drop)\n'60s' -> delay D\n",
    );
    const w = runWeir([
      "--listen",
      "127.0.0.1:0",
      "--db",
      db,
      "--drain-timeout",
      "600000",
      graph,
    ]);
    try {
      const url0 = await w.listening;
      // Answering a request proves the signal handlers are installed (the
      // "serving flows" line is printed just before they are).
      await (await fetch(`${url0}/healthz`)).body?.cancel();
      process.kill(w.child.pid!, "SIGTERM");
      // Once the drain is under way, insist.
      await logged(w, /draining flows/);
      process.kill(w.child.pid!, "SIGINT");
      const { code } = await w.exited;
      assert.equal(code, 130, w.log());
      const again = runWeir(["--listen", "127.0.0.1:0", "--db", db]);
      const url = await again.listening;
      const flow = await (await fetch(`${url}/flows/slow`)).json();
      assert.equal(flow.running, true);
      process.kill(again.child.pid!, "SIGINT");
      // Its message waits a minute: a second signal ends this one too.
      await logged(again, /draining flows/);
      process.kill(again.child.pid!, "SIGTERM");
      assert.equal((await again.exited).code, 130, again.log());
    } finally {
      w.child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
