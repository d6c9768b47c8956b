/**
 * Pipeline benchmark: source -> 5 x map(value + 1) -> counting sink,
 * 200,000 messages, capacity 10, statistics on; weir side by side with a
 * hand-written baseline of async stages joined by bounded queues, in the
 * same run. Then memory: 2,000,000 messages through the same pipeline,
 * with the heap sampled during the run.
 *
 * Run: `bun bench/pipeline_bench.ts` or
 * `deno run -A --v8-flags=--expose-gc bench/pipeline_bench.ts`;
 * `--json` prints one machine-readable line for `scripts/bench.mjs`.
 *
 * @module
 */
import { bench, do_not_optimize, run, summary } from "mitata";
import {
  expectedSum,
  type PipelineRun,
  runBaseline,
  runWeir,
  weirPipeline,
} from "./_pipeline.ts";
import { gc, heapUsed, runtime } from "./_runtime.ts";

const N = 200_000;
const MEMORY_N = 2_000_000;
const json = globalThis.process?.argv?.includes("--json") ?? false;

function check(r: PipelineRun, n: number): void {
  if (r.count !== n || r.sum !== expectedSum(n)) {
    throw new Error(
      `pipeline lost or changed messages: count ${r.count}, sum ${r.sum}`,
    );
  }
}

summary(() => {
  bench("baseline: async stages + bounded queues", async () => {
    const r = await runBaseline(N);
    check(r, N);
    do_not_optimize(r);
  }).baseline(true);
  bench("weir: 5-stage network, stats on", async () => {
    const r = await runWeir(N);
    check(r, N);
    do_not_optimize(r);
  });
});

const out = await run(json ? { format: "quiet" } : {});
const avgNs = (name: string) => {
  const t = out.benchmarks.find((b) => b.alias === name)!;
  return t.runs[0].stats!.avg;
};
const baselineNs = avgNs("baseline: async stages + bounded queues");
const weirNs = avgNs("weir: 5-stage network, stats on");

// Memory: while 2,000,000 messages flow, the heap is read every 10 ms
// (garbage included) and, every 50 ms, after a full collection (live data
// only: what "bounded by capacity" is about).
gc();
const before = heapUsed();
let peak = before;
let peakLive = before;
let samples = 0;
const sampler = setInterval(() => {
  samples++;
  const h = heapUsed();
  if (h > peak) peak = h;
  if (samples % 5 === 0) {
    gc();
    const live = heapUsed();
    if (live > peakLive) peakLive = live;
  }
}, 10);
const { net, result } = weirPipeline(MEMORY_N);
const t0 = performance.now();
await net.start();
await net.finished;
const memoryMs = performance.now() - t0;
clearInterval(sampler);
check(result, MEMORY_N);
gc();
const after = heapUsed();

function mb(bytes: number): number {
  return Number((bytes / 2 ** 20).toFixed(1));
}

const summaryLine = {
  runtime: runtime(),
  messages: N,
  baselineMsgPerSec: Math.round(N / (baselineNs / 1e9)),
  weirMsgPerSec: Math.round(N / (weirNs / 1e9)),
  speedup: Number((baselineNs / weirNs).toFixed(2)),
  memory: {
    messages: MEMORY_N,
    samples,
    msgPerSec: Math.round(MEMORY_N / (memoryMs / 1000)),
    heapBeforeMB: mb(before),
    peakGrowthMB: mb(peak - before),
    peakLiveGrowthMB: mb(peakLive - before),
    retainedGrowthMB: mb(after - before),
  },
};
if (json) console.log(`RESULT ${JSON.stringify(summaryLine)}`);
else console.log(summaryLine);
