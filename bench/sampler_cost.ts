/**
 * The cost of one sample pass of the history sampler over the scrape
 * benchmark's set-up (100 flows of 10 processes, about 57,000 series),
 * and the CPU share the sampler takes at one pass a second.
 *
 * By default the store is a stand-in that only keeps the last value, so
 * the figure is the collector's reading and the sampler alone; `--store`
 * appends into a `HistoryStore` (memory only), the whole history's cost.
 * CPU time per pass is the process's (`process.cpuUsage()`), read around
 * each pass; the flows run between passes.
 *
 * `--dir` gives that store a data dir and flushes it every ten passes (the
 * default flush interval), reporting each flush's CPU time.
 *
 * Run: `bun bench/sampler_cost.ts [--store | --dir]` or
 * `deno run -A bench/sampler_cost.ts [--store | --dir]`.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { Sampler, type SampleTarget } from "../src/history/sampler.ts";
import { HistoryStore } from "../src/history/store.ts";
import type { SeriesKind, SeriesLabels } from "../src/history/types.ts";
import { startFlows } from "./_metrics.ts";
import { runtime } from "./_runtime.ts";

const PASSES = 60;

class CountingTarget implements SampleTarget {
  series = 0;
  appended = 0;
  last = new Float64Array(100_000);
  seriesRef(_labels: SeriesLabels, _kind: SeriesKind): number {
    return this.series++;
  }
  append(ref: number, _t: number, v: number): void {
    this.last[ref] = v;
    this.appended++;
  }
}

const collector = new MetricsCollector();
const nets = await startFlows(collector, { flows: 100, stages: 9, tickMs: 50 });
let target: SampleTarget & { close?: () => Promise<void> };
let store: HistoryStore | null = null;
let what = "counting stand-in";
const dir = process.argv.includes("--dir")
  ? mkdtempSync(join(tmpdir(), "weir-sampler-cost-"))
  : null;
if (process.argv.includes("--store") || dir !== null) {
  target = store = await HistoryStore.open(
    dir === null ? {} : { dir, flushIntervalMs: 0 },
  );
  what = dir === null ? "HistoryStore (memory)" : "HistoryStore (data dir)";
} else target = new CountingTarget();
const flushCpu: number[] = [];

let clock = Date.now();
const sampler = new Sampler(collector, target, { now: () => clock });
// First pass creates the series; it is reported apart.
let t0 = performance.now();
await sampler.sampleOnce();
const first = performance.now() - t0;
const samples = sampler.stats.samples;
const times: number[] = [];
const cpuTimes: number[] = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < PASSES; i++) {
  clock += 1000;
  const c0 = process.cpuUsage();
  t0 = performance.now();
  await sampler.sampleOnce();
  times.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpuTimes.push((c.user + c.system) / 1000);
  if (dir !== null && i % 10 === 9) {
    // The default flush interval is ten passes.
    const f0 = process.cpuUsage();
    await store!.flush();
    const f = process.cpuUsage(f0);
    flushCpu.push((f.user + f.system) / 1000);
  }
  // Let the flows run between passes, as they would.
  await new Promise((r) => setTimeout(r, 20));
}
const cpu = process.cpuUsage(cpu0);
times.sort((a, b) => a - b);
cpuTimes.sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b, 0) / times.length;
const cpuMedian = cpuTimes[cpuTimes.length >> 1];
console.log(
  `${runtime()} sampler over ${samples} series into ${what}: first pass ${
    first.toFixed(1)
  } ms; then mean ${mean.toFixed(2)} ms, median ${
    times[times.length >> 1].toFixed(2)
  } ms, min ${times[0].toFixed(2)} ms, max ${
    times[times.length - 1].toFixed(2)
  } ms per pass (${PASSES} passes); CPU time per pass median ${
    cpuMedian.toFixed(2)
  } ms => ${
    (cpuMedian / 10).toFixed(2)
  }% of a core at 1 pass/s (process CPU over the loop incl. flows: ${
    ((cpu.user + cpu.system) / 1000).toFixed(0)
  } ms)${
    flushCpu.length > 0
      ? `; flush every 10 passes: ${
        flushCpu.map((f) => f.toFixed(0)).join(", ")
      } ms CPU`
      : ""
  }`,
);
await target.close?.();
if (dir !== null) rmSync(dir, { recursive: true, force: true });
for (const n of nets) await n.stop();
process.exit(0);
