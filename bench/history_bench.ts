/**
 * History benchmarks (issue 14), each figure beside its baseline or target.
 *
 * 1. ingest: samples per second appended into the chunk codec
 *    (`ChunkEncoder.append`, a chunk sealed with `finish()` every 120
 *    samples, as a store does), against copying the same samples into
 *    plain `Float64Array` rings (what keeping them uncompressed costs).
 *    Target: >= 1,000,000 samples/s on one core, encode included.
 * 2. disk: bytes per sample by metric type over weir's own series at 1 s.
 *    A real workload runs (the demo flow; the 100 flows x 10 processes of
 *    the scrape benchmark, with the resource tracker) and the collector is
 *    read every simulated second; each series is encoded on its own into
 *    chunks of 120 samples. Time runs `speedup` times faster than real: the
 *    flows tick `speedup` times as often and a reading is taken every
 *    `1000 / speedup` real ms, so each reading sees a second's worth of
 *    activity. Target: <= 1.5 bytes/sample on average.
 *
 * Run: `bun bench/history_bench.ts` or
 * `deno run -A --v8-flags=--expose-gc bench/history_bench.ts`;
 * `--part=ingest` or `--part=disk` runs one; `--json` prints one
 * machine-readable line `RESULT {...}` for `scripts/bench.ts`.
 *
 * @module
 */
import { ChunkEncoder } from "../src/history/codec.ts";
import { createNetwork } from "../src/embed.ts";
import type { Network } from "../src/engine/network.ts";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { ResourceTracker } from "../src/metrics/resource_tracker.ts";
import { resourceSource } from "../src/runtime/resources.ts";
import { DEMO_FLOW } from "../src/cli/demo.ts";
import { startFlows } from "./_metrics.ts";
import { loadAverage, median } from "./_measure.ts";
import { runtime } from "./_runtime.ts";

const argv: string[] = globalThis.process?.argv ?? [];
const json = argv.includes("--json");
const part = argv.find((a) => a.startsWith("--part="))?.slice(7) ?? "all";
if (!["all", "ingest", "disk"].includes(part)) {
  throw new RangeError(
    `Cannot run: --part must be ingest or disk, received ${part}`,
  );
}
const log = (s: string) => {
  if (!json) console.log(s);
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

interface IngestResult {
  series: number;
  ticks: number;
  chunk: number;
  rounds: number;
  codecSamplesPerSec: number;
  ringsSamplesPerSec: number;
  codecByRound: number[];
  ringsByRound: number[];
  bytesPerSample: number;
}

function ingestBench(): IngestResult {
  const samples = SERIES * TICKS;
  // Warm-up: both sides once, so neither pays for compilation.
  ingestCodec();
  ingestRings();
  const codec: number[] = [];
  const rings: number[] = [];
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
    } else {
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
    bytesPerSample: Number((bytes / samples).toFixed(3)),
  };
  log(
    `ingest: codec ${
      result.codecSamplesPerSec.toLocaleString("en-US")
    } samples/s (${codec.join(", ")}), Float64Array rings ${
      result.ringsSamplesPerSec.toLocaleString("en-US")
    } (${rings.join(", ")}), ${result.bytesPerSample} bytes/sample`,
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

const loadStart = loadAverage();
const ingest = part === "all" || part === "ingest" ? ingestBench() : undefined;
const disk = part === "all" || part === "disk" ? await diskBench() : undefined;
const result = {
  runtime: runtime(),
  loadavg: { start: loadStart, end: loadAverage() },
  ingest,
  disk,
};
if (json) console.log(`RESULT ${JSON.stringify(result)}`);
// Flows' timers may linger on a runtime: the benchmark is done.
globalThis.process?.exit(0);
