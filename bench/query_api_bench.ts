/**
 * What the Prometheus HTTP API adds on top of evaluating a query: the same
 * query evaluated directly (`queryRange`), through the Hono app
 * (`app.request()`, a POST form as promtool and Grafana send: parameter
 * parsing, evaluation, Prometheus's JSON with values as Go formats them),
 * and over a loopback socket (`fetch` to the runtime's server, the body
 * read). 1,000 counter series in weir's store, 1 h at 1 s.
 *
 * - `sum by (process) (rate(weir_process_messages_total[1m]))`, 1 h at a
 *   15 s step: a small answer (10 series x 241 points);
 * - `weir_process_messages_total`, 1 h at a 15 s step: a large answer
 *   (1,000 series x 241 points, 241,000 values to format);
 * - `/api/v1/series?match[]=weir_process_messages_total` (1,000 label sets).
 *
 *   bun bench/query_api_bench.ts [--json]
 *   deno run -A bench/query_api_bench.ts [--json]
 *
 * Median of 15 runs after 3 warm-ups; one machine, one run: compare the
 * columns of a row, not runs on different days.
 *
 * @module
 */
import process from "node:process";
import { queryRange } from "../src/history/promql/mod.ts";
import { HistoryStore } from "../src/history/store.ts";
import { serve } from "../src/runtime/serve.ts";
import { queryRoutes } from "../src/server/query_routes.ts";
import { median } from "./_measure.ts";

const SERIES = 1000;
const HOUR = 3_600_000;
const RUNS = 15;
const WARMUP = 3;

async function time(fn: () => unknown): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    if (i >= WARMUP) xs.push(dt);
  }
  return median(xs);
}

const end = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const start = end - HOUR;
const store = await HistoryStore.open({ intervalMs: 1000 });
const refs: number[] = [];
for (let i = 0; i < SERIES; i++) {
  refs.push(store.seriesRef({
    __name__: "weir_process_messages_total",
    flow: `flow${i % 100}`,
    process: `P${Math.floor(i / 100)}`,
  }, "counter"));
}
const counts = new Float64Array(SERIES);
for (let t = start - 120_000; t <= end; t += 1000) {
  for (let i = 0; i < SERIES; i++) {
    counts[i] += (i % 7) + 1;
    store.append(refs[i], t, counts[i]);
  }
}

const app = queryRoutes(store);
const server = await serve(app.fetch, { port: 0 });
const form = (query: string) =>
  new URLSearchParams({
    query,
    start: String(start / 1000),
    end: String(end / 1000),
    step: "15",
  }).toString();
const post = (query: string): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: form(query),
});

interface Row {
  name: string;
  directMs: number | null;
  appMs: number;
  socketMs: number;
  bytes: number;
}
const rows: Row[] = [];
for (
  const [name, query] of [
    [
      "sum by (process) (rate(...[1m])), 1 h / 15 s",
      "sum by (process) (rate(weir_process_messages_total[1m]))",
    ],
    ["weir_process_messages_total, 1 h / 15 s", "weir_process_messages_total"],
  ] as const
) {
  const directMs = await time(() =>
    queryRange(store, query, start, end, 15_000)
  );
  const appMs = await time(async () =>
    await (await app.request("/api/v1/query_range", post(query))).arrayBuffer()
  );
  const socketMs = await time(async () =>
    await (await fetch(`${server.url}/api/v1/query_range`, post(query)))
      .arrayBuffer()
  );
  const bytes = (await (await app.request("/api/v1/query_range", post(query)))
    .arrayBuffer())
    .byteLength;
  rows.push({ name, directMs, appMs, socketMs, bytes });
}
{
  const path = "/api/v1/series?match[]=weir_process_messages_total";
  const directMs = await time(() =>
    store.series(
      [{ name: "__name__", type: "=", value: "weir_process_messages_total" }],
      -8.64e15,
      8.64e15,
    )
  );
  const appMs = await time(async () =>
    await (await app.request(path)).arrayBuffer()
  );
  const socketMs = await time(async () =>
    await (await fetch(server.url + path)).arrayBuffer()
  );
  const bytes = (await (await app.request(path)).arrayBuffer()).byteLength;
  rows.push({
    name: "series, 1,000 label sets",
    directMs,
    appMs,
    socketMs,
    bytes,
  });
}
await server.close();
await store.close();

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? `bun ${process.versions.bun}`
  : `deno ${
    (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno
  }`;
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ runtime, rows }));
} else {
  console.log(`${runtime}: median of ${RUNS} runs (ms)`);
  console.log(
    "| query | evaluation alone | app.request() | loopback socket | response bytes |",
  );
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.directMs?.toFixed(1)} | ${r.appMs.toFixed(1)} | ${
        r.socketMs.toFixed(1)
      } | ${r.bytes.toLocaleString("en-US")} |`,
    );
  }
}
