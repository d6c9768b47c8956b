/**
 * The steady cost of the metric history on the 100 flows x 10 processes
 * set-up (about 57,000 series), in one process and without the wall clock:
 * a `Sampler` into a `HistoryStore` with a data dir, passes stamped one
 * second apart, a flush every ten passes (the default flush interval), the
 * first 30 passes (the first chunks and the first flushes, which write
 * whole chunks) left out, then the CPU time (`process.cpuUsage()`) of 120
 * passes and 12 flushes, and of the collector's reading alone (a pass into
 * a sink that keeps nothing) for scale. It prints the share of a core at
 * one pass a second.
 *
 * It only uses APIs that every version of the history has had, so it can
 * time an older commit side by side with the working tree in one session:
 *
 *     git archive d3bd513 | tar -x -C /tmp/base
 *     ln -s "$PWD/node_modules" /tmp/base/node_modules
 *     cp bench/sampler_steady_cost.ts /tmp/base/bench/
 *     for i in 1 2; do
 *       (cd /tmp/base && bun bench/sampler_steady_cost.ts)
 *       bun bench/sampler_steady_cost.ts
 *     done
 *
 * (and the same with `deno run -A`). The child-process figures (what the
 * issue's target is about, with GC and timers) are
 * `bench/history_bench.ts --part=cost`.
 *
 * `--setup=demo` samples the demo flow (its log dropped) with the resource
 * tracker, about 500 series, instead of the 100 x 10 set-up, for 600
 * passes: the history's own cost for the demo without the JIT's warm-up
 * and the timers of a real-time run.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import v8 from "node:v8";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { Sampler } from "../src/history/sampler.ts";
import { HistoryStore } from "../src/history/store.ts";
import { startDemo, startFlows } from "./_metrics.ts";
import { runtime } from "./_runtime.ts";

const SETUP = process.argv.find((a) => a.startsWith("--setup="))?.slice(8) ??
  "100x10";
if (SETUP !== "100x10" && SETUP !== "demo") {
  throw new RangeError(
    `Cannot run: --setup must be 100x10 or demo, received ${SETUP}`,
  );
}
const WARMUP = 30;
const PASSES = SETUP === "demo" ? 600 : 120;

/**
 * Bytes allocated so far: V8's count on Deno; 0 on Bun, whose
 * getHeapStatistics() walks the heap (seconds at this size) and has no
 * such count.
 */
const allocated = () =>
  "Deno" in globalThis
    ? (v8.getHeapStatistics() as { total_allocated_bytes?: number })
      .total_allocated_bytes ?? 0
    : 0;
const gc = (globalThis as { gc?: () => void }).gc;

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

const stopTracker = new AbortController();
const collector = new MetricsCollector();
const nets = SETUP === "demo"
  ? [await startDemo(collector, stopTracker.signal)]
  : await startFlows(collector, { flows: 100, stages: 9, tickMs: 50 });
const dir = mkdtempSync(join(tmpdir(), "weir-steady-cost-"));
const store = await HistoryStore.open({ dir, flushIntervalMs: 0 });
// Passes start just after a minute, as the wall clock's would.
let clock = Math.floor(Date.now() / 60_000) * 60_000 + 1000;
const sampler = new Sampler(collector, store, { now: () => clock });
const empty = { family() {}, add() {} };
let passMs = 0;
let flushMs = 0;
let readMs = 0;
let flushes = 0;
let passBytes = 0;
let flushBytes = 0;
let readBytes = 0;
for (let i = 1; i <= WARMUP + PASSES; i++) {
  clock += 1000;
  let a = allocated();
  let c = cpu();
  await sampler.sampleOnce();
  const pass = cpu() - c;
  const passB = allocated() - a;
  let flush = 0;
  let flushB = 0;
  if (i % 10 === 0) {
    a = allocated();
    c = cpu();
    await store.flush();
    flush = cpu() - c;
    flushB = allocated() - a;
  }
  a = allocated();
  c = cpu();
  await collector.sample(empty);
  const read = cpu() - c;
  const readB = allocated() - a;
  if (i > WARMUP) {
    passMs += pass;
    readMs += read;
    passBytes += passB;
    readBytes += readB;
    if (i % 10 === 0) {
      flushMs += flush;
      flushBytes += flushB;
      flushes++;
    }
  }
  // Let the flows run between passes, as they would.
  await new Promise((r) => setTimeout(r, 3));
}
const pass = passMs / PASSES;
const flush = flushMs / flushes;
console.log(
  `${runtime()} history steady cost, ${store.stats().series} series: pass ${
    pass.toFixed(2)
  } ms CPU (collector's reading alone ${
    (readMs / PASSES).toFixed(2)
  } ms), flush ${flush.toFixed(1)} ms CPU every 10 passes => ${
    ((pass + flush / 10) / 10).toFixed(2)
  }% of a core at 1 pass/s`,
);
if (allocated() > 0) {
  const kb = (b: number) => (b / 1024).toFixed(0);
  console.log(
    `allocated: pass ${kb(passBytes / PASSES)} KB (collector's reading alone ${
      kb(readBytes / PASSES)
    } KB), flush ${kb(flushBytes / flushes)} KB`,
  );
}
if (gc) {
  gc();
  const m = process.memoryUsage();
  const mb = (b: number) => (b / 1048576).toFixed(1);
  console.log(
    `after gc: heap used ${mb(m.heapUsed)} MB, external ${
      mb(m.external)
    } MB; the store counts ${
      store.stats().tiers.map((t) => `${t.name} ${mb(t.memoryBytes)}`).join(
        ", ",
      )
    } MB`,
  );
}
await store.close();
rmSync(dir, { recursive: true, force: true });
stopTracker.abort();
for (const n of nets) await n.stop();
process.exit(0);
