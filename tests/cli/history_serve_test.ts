/**
 * `weir serve` keeps a metric history in its data dir: a SIGKILL loses at
 * most what was sampled since the last flush, a restart goes on from what
 * is on disk, and SIGTERM writes everything. Real processes, real files.
 *
 * @module
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { parseExposition } from "../metrics/_exposition.ts";
import { eventually, killLeftovers, startServe, startWeir } from "./_weir.ts";

const FLOW = `# @name ticker
'100ms' -> interval Tick(core/Interval)
Tick out -> in Sink(core/Drop)
`;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "weir-history-serve-"));
}

/** A value of the server's /metrics (the first sample of `name`). */
async function metric(url: string, name: string): Promise<number> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const found = parseExposition(text).samples.find((s) => s.name === name);
  return found?.value ?? NaN;
}

/** Every raw sample on disk in `dir`, by series key, read by a fresh store. */
async function onDisk(
  dir: string,
  intervalMs: number,
): Promise<Map<string, number[]>> {
  const store = await HistoryStore.open({
    dir,
    intervalMs,
    flushIntervalMs: 0,
  });
  try {
    const out = new Map<string, number[]>();
    for (
      const p of store.select(
        [{ name: "__name__", type: "=~", value: ".+" }],
        0,
        Date.now() + 60_000,
        0,
      )
    ) {
      out.set(JSON.stringify(p.labels), [...p.t]);
    }
    return out;
  } finally {
    await store.close();
  }
}

function total(m: Map<string, number[]>): number {
  let n = 0;
  for (const t of m.values()) n += t.length;
  return n;
}

test(
  "weir serve's history survives a SIGKILL up to its last flush, and goes on after a restart",
  {
    timeout: 90_000,
  },
  async () => {
    const dir = tempDir();
    try {
      const flow = join(dir, "ticker.fbp");
      writeFileSync(flow, FLOW);
      const args = [
        "--port",
        "0",
        "--db",
        join(dir, "flows.db"),
        "--history-interval",
        "500ms",
        "--history-flush-interval",
        "1s",
        flow,
      ];
      const first = await startServe(args);
      // Two sampling passes at least, so that each series has samples to
      // order below (a loaded machine skips ticks: one pass may be all
      // there is when the first samples are seen).
      await eventually(
        async () =>
          await metric(
            first.url,
            "weir_history_sample_duration_seconds_count",
          ) >= 2,
        "two sampling passes",
      );
      // Samples appended by the time of one scrape, then a flush after it:
      // those samples must all be on disk, whatever the kill interrupts.
      const flushed = await eventually(async () => {
        const n = await metric(
          first.url,
          "weir_history_samples_appended_total",
        );
        return n > 0 ? n : undefined;
      }, "samples appended");
      const flushes = await metric(
        first.url,
        "weir_history_flush_duration_seconds_count",
      );
      await eventually(
        async () =>
          await metric(first.url, "weir_history_flush_duration_seconds_count") >
            flushes,
        "a flush after the scrape",
      );
      process.kill(first.child.pid!, "SIGKILL");
      assert.equal((await first.exited).signal, "SIGKILL");
      const killedAt = Date.now();

      const history = join(dir, "history");
      const before = await onDisk(history, 500);
      assert.ok(
        total(before) >= flushed,
        `${
          total(before)
        } samples on disk, ${flushed} appended before the last flush`,
      );
      const active = before.get(
        JSON.stringify({ __name__: "weir_flows_active" }),
      );
      assert.ok(
        active !== undefined && active.length >= 2,
        "weir_flows_active",
      );
      // On the 500 ms grid, in order, none twice. A tick the process was
      // blocked past is skipped (and counted), not sampled late: a loaded
      // machine (the suite runs Deno's and Bun's files at once) leaves a
      // gap of a whole interval now and then.
      const gaps = active.slice(1).map((t, i) => t - active[i]);
      assert.ok(
        gaps.every((g) => g > 0 && g % 500 === 0),
        `one sample per interval, or a whole interval skipped: ${gaps} ms`,
      );

      // A restart loads what is on disk and appends after it.
      const second = await startServe(args);
      await eventually(
        async () =>
          await metric(second.url, "weir_history_samples_appended_total") > 0,
        "samples appended after the restart",
      );
      process.kill(second.child.pid!, "SIGTERM");
      assert.equal((await second.exited).code, 0, second.log());
      const after = await onDisk(history, 500);
      const again = after.get(
        JSON.stringify({ __name__: "weir_flows_active" }),
      )!;
      assert.deepEqual(again.filter((t) => t <= active.at(-1)!), active);
      assert.ok(again.some((t) => t > killedAt), "samples after the restart");
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve writes its whole history at SIGTERM, and answers the query API over it",
  {
    timeout: 60_000,
  },
  async () => {
    const dir = tempDir();
    try {
      const flow = join(dir, "ticker.fbp");
      writeFileSync(flow, FLOW);
      const w = await startServe([
        "--port",
        "0",
        "--db",
        join(dir, "flows.db"),
        "--data-dir",
        join(dir, "data"),
        "--history-interval",
        "500ms",
        // No flush of its own while the test runs: only the one at SIGTERM.
        "--history-flush-interval",
        "1h",
        flow,
      ]);
      await eventually(
        async () =>
          await metric(w.url, "weir_history_sample_duration_seconds_count") >=
            3,
        "three sampling passes",
      );
      const res = await fetch(
        `${w.url}/api/v1/series?match[]=weir_process_messages_total{process="Sink",direction="in"}`,
      );
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.status, "success");
      assert.deepEqual(body.data, [{
        __name__: "weir_process_messages_total",
        flow: "ticker",
        process: "Sink",
        port: "in",
        direction: "in",
      }]);
      const appended = await metric(
        w.url,
        "weir_history_samples_appended_total",
      );
      assert.equal(
        await metric(w.url, "weir_history_flush_duration_seconds_count"),
        0,
      );
      process.kill(w.child.pid!, "SIGTERM");
      assert.equal((await w.exited).code, 0, w.log());
      assert.ok(
        w.records().some((r) => r.msg === "metric history written"),
        w.log(),
      );
      const stored = await onDisk(join(dir, "data", "history"), 500);
      assert.ok(
        total(stored) >= appended,
        `${total(stored)} samples on disk, ${appended} appended before SIGTERM`,
      );
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve --no-history keeps none and has no query API; weir demo --history serves one beside /metrics",
  {
    timeout: 60_000,
  },
  async () => {
    const dir = tempDir();
    try {
      const w = await startServe([
        "--port",
        "0",
        "--db",
        join(dir, "flows.db"),
        "--no-history",
      ]);
      const res = await fetch(`${w.url}/api/v1/series?match[]=up`);
      await res.body?.cancel();
      assert.equal(res.status, 404);
      assert.doesNotMatch(
        await (await fetch(`${w.url}/metrics`)).text(),
        /weir_history_/,
      );
      process.kill(w.child.pid!, "SIGTERM");
      assert.equal((await w.exited).code, 0, w.log());
      assert.equal(existsSync(join(dir, "history")), false);

      const demo = startWeir([
        "demo",
        "--history",
        "--history-interval",
        "200ms",
        "--metrics",
        "127.0.0.1:0",
      ]);
      const url = (await demo.logged(
        (r) => r.msg.startsWith("metrics at"),
        "serving metrics",
      )).url as string;
      const base = url.replace(/\/metrics$/, "");
      const names = await eventually(async () => {
        const r = await fetch(`${base}/api/v1/label/__name__/values`);
        const b = await r.json();
        return b.data?.includes("weir_process_messages_total") ? b.data : null;
      }, "the demo's series in its history");
      assert.ok(names.includes("weir_history_samples_appended_total"));
      // The query API weir serve answers, all of it: Grafana asks for
      // exemplars beside a panel's range query.
      const exemplars = await fetch(
        `${base}/api/v1/query_exemplars?query=weir_process_messages_total`,
      );
      assert.equal(exemplars.status, 200);
      assert.deepEqual(await exemplars.json(), { status: "success", data: [] });
      // Methods as Prometheus answers them: HEAD 405 (not a GET's 200),
      // DELETE 405 (not a 500: the query API's refusals reach an error
      // table here too), each naming what the path takes.
      const head = await fetch(`${base}/api/v1/format_query?query=up`, {
        method: "HEAD",
      });
      await head.body?.cancel();
      assert.deepEqual(
        [head.status, head.headers.get("allow")],
        [405, "GET, POST"],
      );
      const del = await fetch(`${base}/api/v1/query?query=1`, {
        method: "DELETE",
      });
      assert.equal(del.status, 405);
      assert.equal(del.headers.get("allow"), "GET, POST");
      assert.deepEqual(await del.json(), {
        error: "method DELETE is not allowed on /api/v1/query: use GET, POST",
      });
      // A method no route names: the same 405, not a 404.
      const propfind = await fetch(`${base}/api/v1/query?query=1`, {
        method: "PROPFIND",
      });
      assert.equal(propfind.status, 405);
      assert.equal(propfind.headers.get("allow"), "GET, POST");
      await propfind.body?.cancel();
      process.kill(demo.child.pid!, "SIGTERM");
      assert.equal((await demo.exited).code, 0, demo.log());
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
