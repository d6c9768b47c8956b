/**
 * The cost of one sample pass of the history sampler over the scrape
 * benchmark's set-up (100 flows of 10 processes, about 57,000 series),
 * and the CPU share the sampler takes at one pass a second.
 *
 * The store is a stand-in unless the real one is importable: `--store`
 * appends into `HistoryStore` (memory only) when `src/history/store.ts`
 * exists, else into an array-backed sink that only counts, so the figure
 * is the sampler and the collector's reading alone.
 *
 * Run: `bun bench/sampler_cost.ts [--store]` or
 * `deno run -A bench/sampler_cost.ts [--store]`.
 *
 * @module
 */
import process from "node:process";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { Sampler, type SampleTarget } from "../src/history/sampler.ts";
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
let what = "counting stand-in";
if (process.argv.includes("--store")) {
  const { HistoryStore } = await import("../src/history/store.ts" as string);
  target = await HistoryStore.open({});
  what = "HistoryStore (memory)";
} else target = new CountingTarget();

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
  } ms)`,
);
await target.close?.();
for (const n of nets) await n.stop();
process.exit(0);
