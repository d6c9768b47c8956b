/**
 * `weir serve --safe-mode` (and WEIR_SAFE_MODE): a real server over a real
 * database file restores every stored flow stopped, so a flow that took
 * the server down cannot do it again, and it is ready within 5 s.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { killLeftovers, type LogRecord, startWeir } from "./_weir.ts";

const SLOW = { timeout: 60_000 };

async function readyAt(url: string, deadline: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/readyz`);
      await r.body?.cancel();
      if (r.status === 200) return Date.now() - t0;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("not ready in time");
}

test(
  "weir serve --safe-mode over a database holding a flow that fails at start: ready within 5 s, every flow stopped with the reason; WEIR_SAFE_MODE=on too",
  SLOW,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-safe-"));
    const db = join(dir, "flows.db");
    try {
      // A stored flow that should run: its graph names a component this weir
      // does not have (written by hand, as a poison row would be).
      const store = FlowStore.open(db);
      store.create({
        id: "poison",
        text: "'1s' -> interval T(core/Interval) out -> in X(no/Such)",
        format: "fbp",
        running: true,
      });
      store.create({
        id: "ticks",
        text: "'1s' -> interval T(core/Interval) out -> in D(core/Drop)",
        format: "fbp",
        running: true,
      });
      store.close();
      for (
        const [args, env] of [
          [["--safe-mode"], {}],
          [[], { WEIR_SAFE_MODE: "on" }],
        ] as [string[], Record<string, string>][]
      ) {
        const t0 = Date.now();
        const w = startWeir(
          [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            db,
            "--no-history",
            ...args,
          ],
          { env: { ...process.env, ...env } },
        );
        try {
          const serving = await w.logged(
            (r: LogRecord) => typeof r.url === "string",
            "the serving line",
          );
          const url = serving.url as string;
          const ms = await readyAt(url, t0 + 5000);
          assert.ok(
            Date.now() - t0 < 5000,
            `ready after ${Date.now() - t0} ms`,
          );
          const flows = (await (await fetch(`${url}/flows`)).json()).flows as {
            id: string;
            state: string;
            reason?: string;
            error?: string;
          }[];
          const byId = Object.fromEntries(flows.map((f) => [f.id, f]));
          assert.equal(byId.ticks.state, "stopped");
          assert.match(byId.ticks.reason!, /safe mode/);
          assert.equal(byId.poison.state, "failed");
          assert.match(byId.poison.error!, /no\/Such/);
          assert.ok(
            w.records().some((r) =>
              /^safe mode: every stored flow/.test(r.msg)
            ),
          );
          // The operator starts the good one by hand.
          const started = await fetch(`${url}/flows/ticks/start`, {
            method: "POST",
          });
          assert.equal((await started.json()).state, "running");
          assert.ok(ms >= 0);
        } finally {
          process.kill(w.child.pid!, "SIGTERM");
          await w.exited;
        }
      }
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve over a database holding a flow whose last 3 starts never settled (a poison flow): ready within 5 s, that flow stopped with the reason, the others running",
  SLOW,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-poison-"));
    const db = join(dir, "flows.db");
    try {
      const store = FlowStore.open(db);
      const tick = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)";
      store.create({ id: "poison", text: tick, format: "fbp", running: true });
      store.create({ id: "ticks", text: tick, format: "fbp", running: true });
      // What three starts that blocked or killed weir leave behind.
      const now = Date.now();
      for (const t of [now - 30_000, now - 20_000, now - 10_000]) {
        store.recordStartAttempt("poison", t, now - 600_000);
      }
      store.close();
      const t0 = Date.now();
      const w = startWeir([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db,
        "--no-history",
      ]);
      try {
        const serving = await w.logged(
          (r: LogRecord) => typeof r.url === "string",
          "the serving line",
        );
        const url = serving.url as string;
        await readyAt(url, t0 + 5000);
        const flows = (await (await fetch(`${url}/flows`)).json()).flows as {
          id: string;
          state: string;
          reason?: string;
        }[];
        const byId = Object.fromEntries(flows.map((f) => [f.id, f]));
        assert.equal(byId.poison.state, "stopped");
        assert.match(byId.poison.reason!, /its last 3 starts within 600 s/);
        assert.equal(byId.ticks.state, "running");
      } finally {
        process.kill(w.child.pid!, "SIGTERM");
        await w.exited;
      }
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
