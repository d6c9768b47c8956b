/**
 * History benchmarks (issue 14), each figure beside its baseline or target.
 *
 * 1. ingest: samples per second appended into the chunk codec
 *    (`ChunkEncoder.append`, a chunk sealed with `finish()` every 120
 *    samples, as a store does), against copying the same samples into
 *    plain `Float64Array` rings (what keeping them uncompressed costs).
 *    Also the same samples through `HistoryStore.append` (memory only, the
 *    default tiers: raw, 1m, 1h, so the window aggregators run too).
 *    Target: >= 1,000,000 samples/s on one core, encode included.
 * 2. disk: bytes per sample by metric type over weir's own series at 1 s.
 *    A real workload runs (the demo flow; the 100 flows x 10 processes of
 *    the scrape benchmark, with the resource tracker) and the collector is
 *    read every simulated second; each series is encoded on its own into
 *    chunks of 120 samples. Time runs `speedup` times faster than real: the
 *    flows tick `speedup` times as often and a reading is taken every
 *    `1000 / speedup` real ms, so each reading sees a second's worth of
 *    activity. Target: <= 1.5 bytes/sample on average.
 * 3. query: `sum by (process) (rate(weir_process_messages_total[1m]))`
 *    over 1,000 series over 1 hour at a 15 s step from raw samples at
 *    1 s, and over 1,000 series over 30 days at a 1 h step from the
 *    minute tier (fed through `append()`, one sample a minute, kept in
 *    memory; about a minute of ingest per runtime). Target: <= 50 ms
 *    each. The store's part is timed on its own, as the evaluator reads
 *    it: `HistoryStore.selectEach()` of the same range for the raw query
 *    (each series decoded into one reused buffer, handed over in turn),
 *    `selectSteps()` of the step windows for the 30-day one. Each prints
 *    the cold (first) run, the median of 7, and the RSS (MB) after ingest
 *    and after the queries.
 *    `--query=1h` or `--query=30d` runs one of the two. Each runs in
 *    memory and again on disk (`--store=memory|disk|both`, default both):
 *    the store written to a temporary folder, closed and opened again, so
 *    every sealed chunk is read back from its segment files, as `weir
 *    serve` reads after a restart (it keeps no ring by default); the
 *    30-day one on disk with 100 series (`--disk-series-30d=N`; 1,000
 *    would be about 320 MB of minute segments, beyond the default 256 MiB
 *    budget). Beside each wall time, the CPU time of the process (less
 *    disturbed on a shared machine). Repeated queries read sealed chunks
 *    from the store's decoded-chunk cache (`decodedCacheBytes`, 64 MiB by
 *    default): the cold figure is the first query, with nothing decoded
 *    before and the JIT not yet warm.
 * 4. cost: the 100 flows x 10 processes set-up (and the demo flow) in
 *    child processes side by side, one with a `History` (on disk, in a
 *    temporary folder) attached and sampling every 1 s, one without: CPU
 *    (% of one core, from /proc/PID/stat) and RSS (/proc/PID/status)
 *    over the same minutes. Targets: <= 2% and <= 32 MB for 100x10,
 *    <= 0.2% and <= 8 MB for the demo. `--base=DIR` adds, beside them,
 *    the same set-ups with the history of another tree (`DIR`, e.g. a
 *    detached worktree of main with node_modules linked) attached:
 *    before/after figures from one run, on the same loaded machine.
 *    `--cost-seconds=N` measures N seconds instead of 120 (the store
 *    reaches its steady size only after minutes to hours: see
 *    `bench/history_store_memory.ts`), `--cost-setups=100x10` (or `demo`)
 *    runs one set-up's children only. The children set Bun's JIT policy
 *    as weir's own processes do (`src/runtime/jit_policy.ts`, and
 *    `WEIR_JIT_POLICY`); `--jit-default` keeps JavaScriptCore's default.
 *
 * Run: `bun bench/history_bench.ts` or
 * `deno run -A --v8-flags=--expose-gc bench/history_bench.ts`;
 * `--part=ingest|disk|query|cost` runs one (cost: `--cost-seconds=N`,
 * `--cost-warmup=N`, `--cost-setups=100x10,demo`); `--json` prints one
 * machine-readable line `RESULT {...}` (progress goes to stderr then).
 * `scripts/bench.ts` does not run this file: its figures are kept in the
 * History section at the end of bench/RESULTS.md, which a full run of
 * `scripts/bench.ts` keeps as it is (it keeps everything from the
 * side-by-side section on).
 *
 * About 800 lines: four parts that share the workloads and helpers, one
 * file as issue 14 asks.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChunkEncoder } from "../src/history/codec.ts";
import { History } from "../src/history/history.ts";
import { HistoryStore } from "../src/history/store.ts";
import { queryRange } from "../src/history/promql/mod.ts";
import { createNetwork } from "../src/embed.ts";
import type { Network } from "../src/engine/network.ts";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { ResourceTracker } from "../src/metrics/resource_tracker.ts";
import { resourceSource } from "../src/runtime/resources.ts";
import { DEMO_FLOW } from "../src/cli/demo.ts";
import { startFlows } from "./_metrics.ts";
import { loadAverage, median, processCpuSeconds, rssMB } from "./_measure.ts";
import { runtime } from "./_runtime.ts";
import { jitPolicyScale, setJitPolicy } from "../src/runtime/jit_policy.ts";

const argv: string[] = globalThis.process?.argv ?? [];
const json = argv.includes("--json");
const part = argv.find((a) => a.startsWith("--part="))?.slice(7) ?? "all";
const child = argv.find((a) => a.startsWith("--child="))?.slice(8);
const baseTree = argv.find((a) => a.startsWith("--base="))?.slice(7);
if (!["all", "ingest", "disk", "query", "cost"].includes(part)) {
  throw new RangeError(
    `Cannot run: --part must be ingest, disk, query or cost, received ${part}`,
  );
}
/** Progress lines: stdout, or stderr when stdout carries the RESULT line. */
const log = (s: string) => {
  if (json) console.error(s);
  else console.log(s);
};

/** Samples per sealed chunk (Prometheus's 120). */
const CHUNK = 120;

// ---- 1. Ingest ----

const SERIES = 10_000;
const TICKS = 360;
const ROUNDS = 5;
const T0 = 1_700_000_000_000;

/** Random numbers for the value generator, the same on both sides. */
const TABLE = new Float64Array(1024);
{
  let walk = 50;
  let seed = 42;
  for (let i = 0; i < TABLE.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    walk += (seed / 4294967296 - 0.5) * 4;
    TABLE[i] = Math.round(walk * 1000) / 1000;
  }
}

/**
 * The value series `s` holds at tick `i`: a quarter constants, a quarter
 * integer counters, a quarter float counters (seconds), a quarter gauges,
 * as weir's own series are (mostly counters and histogram buckets).
 */
function valueAt(acc: Float64Array, s: number, i: number): number {
  switch (s & 3) {
    case 0:
      return s;
    case 1:
      return acc[s] += (i * 7 + s) % 11;
    case 2:
      return acc[s] += TABLE[(i + s) & 1023] / 1000;
    default:
      return TABLE[(i * 3 + s) & 1023];
  }
}

/** One run of the codec: every series, every tick; returns [seconds, bytes]. */
function ingestCodec(): [number, number] {
  const acc = new Float64Array(SERIES);
  const encs: ChunkEncoder[] = [];
  for (let s = 0; s < SERIES; s++) encs.push(new ChunkEncoder());
  let bytes = 0;
  const start = performance.now();
  for (let i = 0; i < TICKS; i++) {
    const t = T0 + i * 1000;
    for (let s = 0; s < SERIES; s++) {
      const e = encs[s];
      e.append(t, valueAt(acc, s, i));
      if (e.count === CHUNK) {
        bytes += e.finish().length;
        encs[s] = new ChunkEncoder();
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  for (const e of encs) bytes += e.finish().length;
  return [seconds, bytes];
}

/** The baseline: the same samples copied into per-series Float64Array rings. */
function ingestRings(): number {
  const acc = new Float64Array(SERIES);
  const ts: Float64Array[] = [];
  const vs: Float64Array[] = [];
  for (let s = 0; s < SERIES; s++) {
    ts.push(new Float64Array(CHUNK));
    vs.push(new Float64Array(CHUNK));
  }
  const start = performance.now();
  for (let i = 0; i < TICKS; i++) {
    const t = T0 + i * 1000;
    const k = i % CHUNK;
    for (let s = 0; s < SERIES; s++) {
      ts[s][k] = t;
      vs[s][k] = valueAt(acc, s, i);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  if (vs[1][0] !== vs[1][0]) throw new Error("unreachable");
  return seconds;
}

/** The same samples through HistoryStore.append (memory only, default tiers). */
async function ingestStore(): Promise<number> {
  const store = await HistoryStore.open({});
  const refs = new Int32Array(SERIES);
  for (let s = 0; s < SERIES; s++) {
    refs[s] = store.seriesRef(
      { __name__: `bench_series_${s & 3}`, series: String(s) },
      (s & 3) === 1 || (s & 3) === 2 ? "counter" : "gauge",
    );
  }
  const acc = new Float64Array(SERIES);
  const start = performance.now();
  for (let i = 0; i < TICKS; i++) {
    const t = T0 + i * 1000;
    for (let s = 0; s < SERIES; s++) {
      store.append(refs[s], t, valueAt(acc, s, i));
    }
  }
  const seconds = (performance.now() - start) / 1000;
  await store.close();
  return seconds;
}

interface IngestResult {
  series: number;
  ticks: number;
  chunk: number;
  rounds: number;
  codecSamplesPerSec: number;
  ringsSamplesPerSec: number;
  codecByRound: number[];
  ringsByRound: number[];
  storeSamplesPerSec: number;
  storeByRound: number[];
  bytesPerSample: number;
}

async function ingestBench(): Promise<IngestResult> {
  const samples = SERIES * TICKS;
  // Warm-up: every side once, so none pays for compilation.
  ingestCodec();
  ingestRings();
  await ingestStore();
  const codec: number[] = [];
  const rings: number[] = [];
  const store: number[] = [];
  let bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    // A B, B A, ...: a slow spell of the shared machine hits both sides.
    const runCodec = () => {
      const [s, b] = ingestCodec();
      codec.push(Math.round(samples / s));
      bytes = b;
    };
    const runRings = () => rings.push(Math.round(samples / ingestRings()));
    if (r % 2 === 0) {
      runCodec();
      runRings();
      store.push(Math.round(samples / await ingestStore()));
    } else {
      store.push(Math.round(samples / await ingestStore()));
      runRings();
      runCodec();
    }
  }
  const result = {
    series: SERIES,
    ticks: TICKS,
    chunk: CHUNK,
    rounds: ROUNDS,
    codecSamplesPerSec: median(codec),
    ringsSamplesPerSec: median(rings),
    codecByRound: codec,
    ringsByRound: rings,
    storeSamplesPerSec: median(store),
    storeByRound: store,
    bytesPerSample: Number((bytes / samples).toFixed(3)),
  };
  log(
    `ingest: codec ${
      result.codecSamplesPerSec.toLocaleString("en-US")
    } samples/s (${codec.join(", ")}), Float64Array rings ${
      result.ringsSamplesPerSec.toLocaleString("en-US")
    } (${rings.join(", ")}), HistoryStore.append ${
      result.storeSamplesPerSec.toLocaleString("en-US")
    } (${store.join(", ")}), ${result.bytesPerSample} bytes/sample`,
  );
  return result;
}

// ---- 2. Disk bytes per sample ----

/** A metric type as the disk figures split them. */
type SeriesType =
  | "counter"
  | "gauge"
  | "histogram_bucket"
  | "histogram_sum"
  | "histogram_count"
  | "untyped";

interface Encoded {
  type: SeriesType;
  enc: ChunkEncoder;
  samples: number;
  bytes: number;
}

/** Per-type totals. */
interface TypeFigures {
  series: number;
  samples: number;
  bytes: number;
  bytesPerSample: number;
}

interface DiskResult {
  workload: string;
  speedup: number;
  seconds: number;
  readings: number;
  readingMedianMs: number;
  series: number;
  samples: number;
  bytes: number;
  bytesPerSample: number;
  byType: Record<string, TypeFigures>;
}

/**
 * Reads a text exposition into `series` (key: the sample line up to its
 * value), appending each value at time `t`. A lean reader: the value is
 * the text after the last space, the type from `# TYPE`.
 */
function readExposition(
  text: string,
  t: number,
  series: Map<string, Encoded>,
): void {
  let type = "untyped";
  let family = "";
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf("\n", at);
    if (end < 0) end = text.length;
    const line = text.slice(at, end);
    at = end + 1;
    if (line === "") continue;
    if (line.startsWith("# TYPE ")) {
      const sp = line.indexOf(" ", 7);
      family = line.slice(7, sp);
      type = line.slice(sp + 1);
      continue;
    }
    if (line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    const key = line.slice(0, sp);
    const raw = line.slice(sp + 1);
    const v = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : +raw;
    let s = series.get(key);
    if (s === undefined) {
      let kind: SeriesType = type === "counter"
        ? "counter"
        : type === "gauge"
        ? "gauge"
        : "untyped";
      if (type === "histogram") {
        const name = key.slice(
          0,
          key.indexOf("{") < 0 ? key.length : key.indexOf("{"),
        );
        kind = name === `${family}_bucket`
          ? "histogram_bucket"
          : name === `${family}_sum`
          ? "histogram_sum"
          : "histogram_count";
      }
      s = { type: kind, enc: new ChunkEncoder(), samples: 0, bytes: 0 };
      series.set(key, s);
    }
    s.enc.append(t, v);
    s.samples++;
    if (s.enc.count === CHUNK) {
      s.bytes += s.enc.finish().length;
      s.enc = new ChunkEncoder();
    }
  }
}

const sleep = (ms: number) =>
  new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Runs a workload for `seconds` simulated seconds, reading its collector
 * every simulated second, and sums the encoded bytes per type.
 */
async function diskWorkload(
  workload: string,
  seconds: number,
  speedup: number,
  start: (collector: MetricsCollector) => Promise<Network[]>,
): Promise<DiskResult> {
  const collector = new MetricsCollector();
  const stop = new AbortController();
  const tracker = new ResourceTracker({
    source: resourceSource(),
    signal: stop.signal,
    intervalMs: Math.max(100, Math.round(5000 / speedup)),
    log: () => {},
  });
  tracker.attach(collector);
  tracker.start();
  const nets = await start(collector);
  const series = new Map<string, Encoded>();
  const readingMs: number[] = [];
  const every = 1000 / speedup;
  try {
    await sleep(2 * every);
    let next = performance.now();
    for (let k = 0; k < seconds; k++) {
      const t0 = performance.now();
      readExposition(await collector.render("text"), T0 + k * 1000, series);
      readingMs.push(performance.now() - t0);
      next += every;
      await sleep(next - performance.now());
    }
  } finally {
    stop.abort();
    for (const n of nets) await n.stop();
  }
  const byType: Record<string, TypeFigures> = {};
  let samples = 0;
  let bytes = 0;
  for (const s of series.values()) {
    // The open chunk is written too, as a store's flush would.
    s.bytes += s.enc.count > 0 ? s.enc.finish().length : 0;
    const f = byType[s.type] ??= {
      series: 0,
      samples: 0,
      bytes: 0,
      bytesPerSample: 0,
    };
    f.series++;
    f.samples += s.samples;
    f.bytes += s.bytes;
    samples += s.samples;
    bytes += s.bytes;
  }
  for (const f of Object.values(byType)) {
    f.bytesPerSample = Number((f.bytes / f.samples).toFixed(3));
  }
  const result: DiskResult = {
    workload,
    speedup,
    seconds,
    readings: readingMs.length,
    readingMedianMs: Number(median(readingMs).toFixed(1)),
    series: series.size,
    samples,
    bytes,
    bytesPerSample: Number((bytes / samples).toFixed(3)),
    byType,
  };
  log(
    `disk ${workload}: ${series.size} series, ${samples} samples, ${bytes} bytes, ${result.bytesPerSample} bytes/sample; ${
      Object.entries(byType).map(([k, f]) =>
        `${k} ${f.bytesPerSample} (${f.series} series)`
      ).join(", ")
    }; reading ${result.readingMedianMs} ms`,
  );
  return result;
}

async function diskBench(): Promise<DiskResult[]> {
  const demo = await diskWorkload("demo flow", 600, 10, (collector) => {
    // The demo's 500 ms tick, `speedup` times faster; its log discarded
    // (core/Drop for core/Output) so the benchmark's output stays readable.
    const text = DEMO_FLOW.replace("'500ms'", "'50ms'").replace(
      "Log(core/Output)",
      "Log(core/Drop)",
    );
    const net = createNetwork(text, {
      name: "demo",
      buckets: collector.options.buckets,
    });
    collector.track(net);
    return net.start().then(() => [net]);
  });
  const big = await diskWorkload(
    "100 flows x 10 processes",
    240,
    2,
    (collector) => startFlows(collector, { flows: 100, stages: 9, tickMs: 25 }),
  );
  return [demo, big];
}

// ---- main ----

// ---- 3. Query speed ----

const QUERY = "sum by (process) (rate(weir_process_messages_total[1m]))";
const QUERY_SERIES = 1000;
/**
 * Series of the 30-day query: 1,000, as issue 14 asks. (It was 100 while
 * the step read decoded whole chunks and the store's part was timed with
 * a `select()` of all 43,200 windows x 7 arrays a series: 2.4 GB for
 * 1,000. The step read returns 2 rows of each hour, and only the columns
 * asked for.)
 */
const QUERY_SERIES_30D = 1000;
const queryWhich = argv.find((a) => a.startsWith("--query="))?.slice(8) ??
  "all";

/** CPU time of this process (ms, user and system). */
function ownCpuMs(): number {
  const u = globalThis.process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Resident set size of this process (MB), from /proc. */
function ownRssMB(): number {
  return Math.round(rssMB(globalThis.process?.pid ?? 0));
}
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface QueryFigures {
  what: string;
  series: number;
  samplesPerSeries: number;
  ingestSeconds: number;
  queryColdMs: number;
  queryMedianMs: number;
  queryByRun: number[];
  /** CPU time of this process during the first query and the median (ms): less disturbed by a loaded machine. */
  queryCpuColdMs: number;
  queryCpuMedianMs: number;
  selectMedianMs: number;
  rssAfterIngestMB: number;
  rssAfterQueriesMB: number;
  resultSeries: number;
  pointsPerSeries: number;
}

/** Counters weir_process_messages_total{flow, process}, 10 processes a flow. */
function querySeries(store: HistoryStore, n: number): Int32Array {
  const refs = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    refs[s] = store.seriesRef({
      __name__: "weir_process_messages_total",
      flow: `flow${String(Math.floor(s / 10)).padStart(3, "0")}`,
      process: `P${s % 10}`,
    }, "counter");
  }
  return refs;
}

async function timeQuery(
  what: string,
  series: number,
  store: HistoryStore,
  samplesPerSeries: number,
  ingestSeconds: number,
  start: number,
  end: number,
  step: number,
  tier: number,
  options: { nowMs: number; tier?: string },
  storePart?: () => void,
): Promise<QueryFigures> {
  const rssAfterIngestMB = ownRssMB();
  const runs: number[] = [];
  const selects: number[] = [];
  let resultSeries = 0;
  let points = 0;
  const matcher = [{
    name: "__name__",
    type: "=" as const,
    value: "weir_process_messages_total",
  }];
  const cpus: number[] = [];
  for (let r = 0; r < 7; r++) {
    const c0 = ownCpuMs();
    let t0 = performance.now();
    const res = queryRange(store, QUERY, start, end, step, options);
    runs.push(performance.now() - t0);
    cpus.push(ownCpuMs() - c0);
    if (res.resultType !== "matrix") throw new Error("expected a matrix");
    resultSeries = res.result.length;
    points = res.result[0]?.values.length ?? 0;
    t0 = performance.now();
    if (storePart) storePart();
    // What the evaluator reads: the series one at a time, decoded into
    // one reused buffer.
    else store.selectEach(matcher, start - 60_000, end, tier, () => {});
    selects.push(performance.now() - t0);
    await sleep(0);
  }
  const f: QueryFigures = {
    what,
    series,
    samplesPerSeries,
    ingestSeconds: Number(ingestSeconds.toFixed(1)),
    queryColdMs: Number(runs[0].toFixed(1)),
    queryMedianMs: Number(median(runs).toFixed(1)),
    queryByRun: runs.map((x) => Number(x.toFixed(1))),
    queryCpuColdMs: Number(cpus[0].toFixed(1)),
    queryCpuMedianMs: Number(median(cpus).toFixed(1)),
    selectMedianMs: Number(median(selects).toFixed(1)),
    rssAfterIngestMB,
    rssAfterQueriesMB: ownRssMB(),
    resultSeries,
    pointsPerSeries: points,
  };
  log(
    `query ${what}, ${series} series: cold ${f.queryColdMs} ms, median ${f.queryMedianMs} ms (${
      f.queryByRun.join(", ")
    }); CPU cold ${f.queryCpuColdMs} ms, median ${f.queryCpuMedianMs} ms; ${
      storePart ? "selectStepsEach()" : "selectEach()"
    } alone ${f.selectMedianMs} ms; ${resultSeries} series x ${points} points; RSS ${rssAfterIngestMB} MB after ingest, ${f.rssAfterQueriesMB} MB after the queries`,
  );
  return f;
}

/**
 * A store for the query part: in memory (`memoryChunks` sealed chunks a
 * series kept), or on disk: a temporary folder written through `fill`,
 * flushed, closed and opened again, so every sealed chunk is read back
 * from its segment files as `weir serve` reads it after a restart (its
 * default: no ring). Returns the store, the ingest seconds and a cleanup.
 */
async function queryStore(
  disk: boolean,
  memoryChunks: number | undefined,
  end: number,
  fill: (store: HistoryStore) => Promise<void>,
): Promise<[HistoryStore, number, () => Promise<void>]> {
  const dir = disk ? mkdtempSync(join(tmpdir(), "weir-query-bench-")) : "";
  const options = disk
    ? {
      dir,
      now: () => end,
      flushIntervalMs: 0,
      // The folder must hold the whole range (30 days of 1,000 series is
      // about 320 MB of minute segments).
      maxDiskBytes: 4 * 1024 ** 3,
    }
    : { memoryChunks };
  let store = await HistoryStore.open(options);
  const t0 = performance.now();
  await fill(store);
  const ingest = (performance.now() - t0) / 1000;
  if (disk) {
    await store.close();
    store = await HistoryStore.open(options);
  }
  const opened = store;
  return [store, ingest, async () => {
    await opened.close();
    if (disk) rmSync(dir, { recursive: true, force: true });
  }];
}

/** Series of the 30-day query on disk (`--disk-series-30d=N`): 100 by default. */
const QUERY_SERIES_30D_DISK = Number(
  argv.find((a) => a.startsWith("--disk-series-30d="))?.slice(18) ?? 100,
);
/** Which stores the query part runs: `--store=memory|disk|both` (default both). */
const queryStores = argv.find((a) => a.startsWith("--store="))?.slice(8) ??
  "both";

async function queryBench(): Promise<QueryFigures[]> {
  const out: QueryFigures[] = [];
  const end = T0 - (T0 % HOUR) + HOUR;
  const disks = queryStores === "memory"
    ? [false]
    : queryStores === "disk"
    ? [true]
    : [false, true];
  if (queryWhich !== "30d") {
    for (const disk of disks) {
      // 1 hour (and the minute before it) of raw samples at 1 s.
      const first = end - HOUR - 60_000;
      const [store, ingest, done] = await queryStore(
        disk,
        undefined,
        end,
        async (store) => {
          const refs = querySeries(store, QUERY_SERIES);
          const acc = new Float64Array(QUERY_SERIES);
          for (let t = first; t <= end; t += 1000) {
            for (let s = 0; s < QUERY_SERIES; s++) {
              store.append(refs[s], t, acc[s] += 20 + ((t / 1000 + s) % 5));
            }
          }
          if (disk) await store.flush();
        },
      );
      out.push(
        await timeQuery(
          `1 h at 15 s step (raw tier)${
            disk ? ", on disk after a restart" : ""
          }`,
          QUERY_SERIES,
          store,
          (end - first) / 1000 + 1,
          ingest,
          end - HOUR,
          end,
          15_000,
          0,
          { nowMs: end },
        ),
      );
      await done();
    }
  }
  if (queryWhich !== "1h") {
    for (const disk of disks) {
      // 30 days of the minute tier: one sample a minute fed through
      // append() (each minute window then holds one sample); in memory,
      // the ring keeps all of it (721 chunks of an hour: without a dir
      // the store keeps minute chunks of an hour).
      const series = disk ? QUERY_SERIES_30D_DISK : QUERY_SERIES_30D;
      const first = end - 30 * DAY - HOUR;
      const [store, ingest, done] = await queryStore(
        disk,
        800,
        end,
        async (store) => {
          const refs = querySeries(store, series);
          const acc = new Float64Array(series);
          let k = 0;
          for (let t = first; t <= end; t += 60_000) {
            for (let s = 0; s < series; s++) {
              store.append(
                refs[s],
                t,
                acc[s] += 1200 + ((t / 60_000 + s) % 50),
              );
            }
            // As the store's timer would: sealed chunks go to disk.
            if (disk && ++k % 600 === 0) await store.flush();
          }
          if (disk) await store.flush();
        },
      );
      out.push(
        await timeQuery(
          `30 d at 1 h step (1m tier)${
            disk ? ", on disk after a restart" : ""
          }`,
          series,
          store,
          (end - first) / 60_000 + 1,
          ingest,
          end - 30 * DAY,
          end,
          HOUR,
          1,
          { nowMs: end, tier: "1m" },
          () => {
            // What the evaluator reads: each hour's [end - 1m, end],
            // increase only, the series one at a time.
            const ends = new Float64Array(30 * 24 + 1);
            for (let i = 0; i < ends.length; i++) {
              ends[i] = end - 30 * DAY + i * HOUR;
            }
            store.selectStepsEach(
              [{
                name: "__name__",
                type: "=",
                value: "weir_process_messages_total",
              }],
              ends,
              60_000,
              1,
              ["increase"],
              () => {},
            );
          },
        ),
      );
      await done();
    }
  }
  return out;
}

// ---- 4. Cost while running (child processes side by side) ----

interface CostSide {
  setup: string;
  history: boolean;
  /** The other tree whose history ran (`--base`), else undefined. */
  base?: string;
  cpuPercent: number;
  rssStartMB: number;
  rssEndMB: number;
  rssMaxMB: number;
  rssByTenSecondsMB: number[];
}

interface CostResult {
  seconds: number;
  warmupSeconds: number;
  sides: CostSide[];
  /** Per set-up (and base tree): with minus without. */
  deltas: {
    setup: string;
    base?: string;
    cpuPoints: number;
    rssEndMB: number;
    rssMaxMB: number;
  }[];
}

/**
 * Seconds the cost part measures (`--cost-seconds=N`, default 120): two
 * minutes do not reach the store's steady size (the raw tier's chunks
 * fill in 2 minutes, the minute tier's in 10, the hour tier's in a day,
 * the segment index until the disk budget is full); see
 * `bench/history_store_memory.ts` for simulated hours.
 */
const COST_SECONDS = Number(
  argv.find((a) => a.startsWith("--cost-seconds="))?.slice(15) ?? 120,
);
if (!(Number.isInteger(COST_SECONDS) && COST_SECONDS >= 10)) {
  throw new RangeError(
    `Cannot run: --cost-seconds must be an integer of at least 10, received ${COST_SECONDS}`,
  );
}
/** Which set-ups the cost part runs (`--cost-setups=100x10,demo`, default both). */
const COST_SETUPS = (argv.find((a) => a.startsWith("--cost-setups="))?.slice(
  14,
) ?? "100x10,demo").split(",");
/**
 * Seconds the children run before the cost part measures
 * (`--cost-warmup=N`, default 15). Bun's JIT keeps compiling the
 * sampler's and the store's code for minutes at one pass a second
 * (measured 2026-12-04: the `JITWorker` thread took 0.1-0.4% of a core
 * in the demo child's first three minutes, then next to none), so a
 * longer warm-up measures the steady cost.
 */
const COST_WARMUP_SECONDS = Number(
  argv.find((a) => a.startsWith("--cost-warmup="))?.slice(14) ?? 15,
);
if (!(Number.isInteger(COST_WARMUP_SECONDS) && COST_WARMUP_SECONDS >= 0)) {
  throw new RangeError(
    `Cannot run: --cost-warmup must be a whole number of seconds, received ${COST_WARMUP_SECONDS}`,
  );
}

/** What a child runs: a set-up with or without history, until killed. */
async function runChild(setup: string, withHistory: boolean): Promise<void> {
  const collector = new MetricsCollector();
  const stop = new AbortController();
  const tracker = new ResourceTracker({
    source: resourceSource(),
    signal: stop.signal,
    log: () => {},
  });
  tracker.attach(collector);
  tracker.start();
  if (setup === "demo") {
    const text = DEMO_FLOW.replace("Log(core/Output)", "Log(core/Drop)");
    const net = createNetwork(text, {
      name: "demo",
      buckets: collector.options.buckets,
    });
    collector.track(net);
    await net.start();
  } else {
    await startFlows(collector, { flows: 100, stages: 9, tickMs: 50 });
  }
  if (withHistory) {
    const dir = mkdtempSync(join(tmpdir(), "weir-history-bench-"));
    const history = await History.open({ dir });
    history.attach(collector);
    const clean = () => {
      rmSync(dir, { recursive: true, force: true });
      globalThis.process?.exit(0);
    };
    globalThis.process?.on("SIGTERM", clean);
  } else {
    globalThis.process?.on("SIGTERM", () => globalThis.process?.exit(0));
  }
  console.log("READY");
  // Keep the process alive (the flows' timers do too).
  setInterval(() => {}, 60_000);
}

async function costBench(): Promise<CostResult> {
  const exec = globalThis.process?.execPath ?? "";
  const isDeno = runtime().startsWith("deno");
  const script = new URL(import.meta.url).pathname;
  const sides: { setup: string; history: boolean; base?: string }[] = [];
  for (const setup of ["100x10", "demo"]) {
    if (!COST_SETUPS.includes(setup)) continue;
    sides.push({ setup, history: false }, { setup, history: true });
    if (baseTree !== undefined) {
      sides.push({ setup, history: true, base: baseTree });
    }
  }
  const children = sides.map((side) => {
    const args = [
      ...(isDeno ? ["run", "-A"] : []),
      side.base === undefined
        ? script
        : join(side.base, "bench", "history_bench.ts"),
      `--child=${side.setup}:${side.history ? "on" : "off"}`,
      ...(argv.includes("--jit-default") ? ["--jit-default"] : []),
    ];
    const c = spawn(exec, args, { stdio: ["ignore", "pipe", "inherit"] });
    const ready = new Promise<void>((resolve, reject) => {
      let out = "";
      c.stdout!.on("data", (d) => {
        out += String(d);
        if (out.includes("READY")) resolve();
      });
      c.on("exit", (code) => reject(new Error(`child exited ${code}`)));
    });
    return { side, child: c, ready };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
    await sleep(COST_WARMUP_SECONDS * 1000);
    const pids = children.map((c) => c.child.pid!);
    const cpu0 = pids.map(processCpuSeconds);
    const rss0 = pids.map(rssMB);
    const w0 = performance.now();
    const samples: number[][] = pids.map(() => []);
    const max = [...rss0];
    for (let k = 1; k <= COST_SECONDS; k++) {
      await sleep(w0 + k * 1000 - performance.now());
      pids.forEach((pid, i) => {
        const r = rssMB(pid);
        if (r > max[i]) max[i] = r;
        if (k % 10 === 0) samples[i].push(Number(r.toFixed(1)));
      });
    }
    const wall = (performance.now() - w0) / 1000;
    const cpu1 = pids.map(processCpuSeconds);
    const rss1 = pids.map(rssMB);
    const out: CostSide[] = children.map((c, i) => ({
      setup: c.side.setup,
      history: c.side.history,
      ...(c.side.base === undefined ? {} : { base: c.side.base }),
      cpuPercent: Number(((cpu1[i] - cpu0[i]) / wall * 100).toFixed(2)),
      rssStartMB: Number(rss0[i].toFixed(1)),
      rssEndMB: Number(rss1[i].toFixed(1)),
      rssMaxMB: Number(max[i].toFixed(1)),
      rssByTenSecondsMB: samples[i],
    }));
    const deltas = out.filter((o) => o.history).map((on) => {
      const off = out.find((o) => o.setup === on.setup && !o.history)!;
      return {
        setup: on.setup,
        ...(on.base === undefined ? {} : { base: on.base }),
        cpuPoints: Number((on.cpuPercent - off.cpuPercent).toFixed(2)),
        rssEndMB: Number((on.rssEndMB - off.rssEndMB).toFixed(1)),
        rssMaxMB: Number((on.rssMaxMB - off.rssMaxMB).toFixed(1)),
      };
    });
    const whose = (base: string | undefined) =>
      base === undefined ? "" : ` (${base}'s)`;
    for (const o of out) {
      log(
        `cost ${o.setup} history ${o.history ? "on " : "off"}${
          whose(o.base)
        }: ${o.cpuPercent}% of a core, RSS ${o.rssStartMB} -> ${o.rssEndMB} MB (max ${o.rssMaxMB}; every 10 s ${
          o.rssByTenSecondsMB.join(", ")
        })`,
      );
    }
    for (const d of deltas) {
      log(
        `cost ${d.setup}: history${
          whose(d.base)
        } adds ${d.cpuPoints} points of a core, ${d.rssEndMB} MB RSS at the end (max ${d.rssMaxMB})`,
      );
    }
    return {
      seconds: COST_SECONDS,
      warmupSeconds: COST_WARMUP_SECONDS,
      sides: out,
      deltas,
    };
  } finally {
    for (const c of children) {
      if (c.child.exitCode === null) globalThis.process?.kill(c.child.pid!);
    }
  }
}

if (child !== undefined) {
  const [setup, on] = child.split(":");
  // As weir's own processes run (src/cli/main.ts), unless asked not to.
  if (!argv.includes("--jit-default")) {
    setJitPolicy(jitPolicyScale(globalThis.process?.env.WEIR_JIT_POLICY));
  }
  await runChild(setup, on === "on");
} else {
  const loadStart = loadAverage();
  const want = (p: string) => part === "all" || part === p;
  const ingest = want("ingest") ? await ingestBench() : undefined;
  const disk = want("disk") ? await diskBench() : undefined;
  const query = want("query") ? await queryBench() : undefined;
  const cost = want("cost") ? await costBench() : undefined;
  const result = {
    runtime: runtime(),
    loadavg: { start: loadStart, end: loadAverage() },
    ingest,
    disk,
    query,
    cost,
  };
  if (json) console.log(`RESULT ${JSON.stringify(result)}`);
  // Flows' timers may linger on a runtime: the benchmark is done.
  globalThis.process?.exit(0);
}
