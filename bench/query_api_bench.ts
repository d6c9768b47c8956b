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
 * - `sum(rate(weir_process_messages_total[1m]))`, 1 h at a 5 s step (721
 *   steps over 1,000 series): a heavier evaluation for a small answer;
 * - `/api/v1/series?match[]=weir_process_messages_total` (1,000 label sets).
 *
 * Beside them: the range query evaluated in slices (`queryRangeSliced`,
 * what the API runs: the event loop runs between slices), and the longest
 * the event loop was held while the API answered (the largest gap
 * between the calls of a 1 ms interval timer during one
 * `app.request()`; `queryRange` alone holds it for all of its time).
 *
 * Then heavy queries over 5,000 series (1 h at 1 s, 18.6 M samples),
 * each once at once (`queryRange`: the time until its answer or its
 * refusal, all of it holding the event loop) and once in slices (the
 * time, and the longest the event loop was held).
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
import { queryRange, queryRangeSliced } from "../src/history/promql/mod.ts";
import { HistoryStore } from "../src/history/store.ts";
import { serve } from "../src/runtime/serve.ts";
import { queryRoutes } from "../src/server/query_routes.ts";
import { median } from "./_measure.ts";

const SERIES = 1000;
const HOUR = 3_600_000;
const RUNS = 15;
const WARMUP = 3;

/** The longest the event loop was held while `fn` ran (ms), median of the runs. */
async function longestHold(fn: () => Promise<unknown>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    let last = performance.now();
    let worst = 0;
    const tick = () => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    };
    const timer = setInterval(tick, 1);
    await fn();
    tick();
    clearInterval(timer);
    if (i >= WARMUP) xs.push(worst);
  }
  return median(xs);
}

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
/**
 * A store (in memory) with `n` counters `weir_process_messages_total`,
 * `flows` flows per process, sampled every second from `from` to `end`.
 */
async function counters(
  n: number,
  flows: number,
  from: number,
): Promise<HistoryStore> {
  const s = await HistoryStore.open({ intervalMs: 1000 });
  const refs: number[] = [];
  for (let i = 0; i < n; i++) {
    refs.push(s.seriesRef({
      __name__: "weir_process_messages_total",
      flow: `flow${i % flows}`,
      process: `P${Math.floor(i / flows)}`,
    }, "counter"));
  }
  const counts = new Float64Array(n);
  for (let t = from; t <= end; t += 1000) {
    for (let i = 0; i < n; i++) {
      counts[i] += (i % 7) + 1;
      s.append(refs[i], t, counts[i]);
    }
  }
  return s;
}

const store = await counters(SERIES, 100, start - 120_000);

const app = queryRoutes(store);
const server = await serve(app.fetch, { port: 0 });
const form = (query: string, stepS: number, from = start) =>
  new URLSearchParams({
    query,
    start: String(from / 1000),
    end: String(end / 1000),
    step: String(stepS),
  }).toString();
const post = (query: string, stepS: number, from = start): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: form(query, stepS, from),
});

interface Row {
  name: string;
  directMs: number | null;
  slicedMs: number | null;
  appMs: number;
  holdMs: number | null;
  socketMs: number;
  bytes: number;
}
const rows: Row[] = [];
for (
  const [name, query, stepS, hours] of [
    [
      "sum by (process) (rate(...[1m])), 1 h / 15 s",
      "sum by (process) (rate(weir_process_messages_total[1m]))",
      15,
      1,
    ],
    [
      "weir_process_messages_total, 1 h / 15 s",
      "weir_process_messages_total",
      15,
      1,
    ],
    [
      "sum(rate(...[1m])), 1 h / 5 s",
      "sum(rate(weir_process_messages_total[1m]))",
      5,
      1,
    ],
  ] as const
) {
  const stepMs = stepS * 1000;
  const from = end - hours * HOUR;
  const directMs = await time(() =>
    queryRange(store, query, from, end, stepMs)
  );
  const slicedMs = await time(() =>
    queryRangeSliced(store, query, from, end, stepMs)
  );
  const request = async () =>
    await (await app.request("/api/v1/query_range", post(query, stepS, from)))
      .arrayBuffer();
  const appMs = await time(request);
  const holdMs = await longestHold(request);
  const socketMs = await time(async () =>
    await (await fetch(
      `${server.url}/api/v1/query_range`,
      post(query, stepS, from),
    )).arrayBuffer()
  );
  const bytes = (await request()).byteLength;
  rows.push({ name, directMs, slicedMs, appMs, holdMs, socketMs, bytes });
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
    slicedMs: null,
    appMs,
    holdMs: null,
    socketMs,
    bytes,
  });
}
await server.close();
await store.close();

/** A heavy query at once, then in slices. */
interface Heavy {
  name: string;
  wholeMs: number;
  whole: string;
  slicedMs: number;
  sliced: string;
  holdMs: number;
}
const heavy: Heavy[] = [];
{
  const big = await counters(5000, 500, start - 360_000);
  const outcome = (f: () => unknown) => {
    try {
      f();
      return "answered";
    } catch (e) {
      return `refused: ${(e as Error).message.slice(0, 48)}`;
    }
  };
  for (
    const [name, query, stepMs] of [
      [
        "sum by (process) (max_over_time(...[5m])), 1 h / 5 s",
        "sum by (process) (max_over_time(weir_process_messages_total[5m]))",
        5000,
      ],
      [
        "sum(rate(...[1m])), 1 h / 2 s",
        "sum(rate(weir_process_messages_total[1m]))",
        2000,
      ],
    ] as const
  ) {
    let t0 = performance.now();
    const whole = outcome(() => queryRange(big, query, start, end, stepMs));
    const wholeMs = performance.now() - t0;
    let last = performance.now();
    let holdMs = 0;
    const pause = () =>
      new Promise<void>((resolve) => {
        holdMs = Math.max(holdMs, performance.now() - last);
        setTimeout(() => {
          last = performance.now();
          resolve();
        }, 0);
      });
    t0 = performance.now();
    let sliced = "answered";
    try {
      await queryRangeSliced(big, query, start, end, stepMs, { pause });
    } catch (e) {
      sliced = `refused: ${(e as Error).message.slice(0, 48)}`;
    }
    holdMs = Math.max(holdMs, performance.now() - last);
    heavy.push({
      name,
      wholeMs,
      whole,
      slicedMs: performance.now() - t0,
      sliced,
      holdMs,
    });
  }
  await big.close();
}

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? `bun ${process.versions.bun}`
  : `deno ${
    (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno
  }`;
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ runtime, rows, heavy }));
} else {
  console.log(`${runtime}: median of ${RUNS} runs (ms)`);
  console.log(
    "| query | evaluation alone | in slices | app.request() | event loop held at most (app.request()) | loopback socket | response bytes |",
  );
  console.log("|---|---|---|---|---|---|---|");
  const ms = (x: number | null) => x === null ? "" : x.toFixed(1);
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${ms(r.directMs)} | ${ms(r.slicedMs)} | ${ms(r.appMs)} | ${
        ms(r.holdMs)
      } | ${ms(r.socketMs)} | ${r.bytes.toLocaleString("en-US")} |`,
    );
  }
  console.log(
    "\n| heavy query, 5,000 series | at once (ms) | at once | in slices (ms) | in slices | event loop held at most, in slices (ms) |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const h of heavy) {
    console.log(
      `| ${h.name} | ${h.wholeMs.toFixed(0)} | ${h.whole} | ${
        h.slicedMs.toFixed(0)
      } | ${h.sliced} | ${h.holdMs.toFixed(0)} |`,
    );
  }
}
