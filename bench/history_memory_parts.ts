/**
 * What the history's memory is made of for the 100 flows x 10 processes
 * set-up, in one process and simulated time: the flows and the collector
 * of `bench/sampler_steady_cost.ts`, measured after a full collection
 * before the history is opened, then a `Sampler` into a `HistoryStore`
 * with a data dir for `--minutes=M` simulated minutes (default 12; a pass
 * a simulated second, a flush every ten), measured again. It prints what
 * the history adds (heap used and external memory; on Bun also the
 * `bun:jsc` heap and its extra memory, where typed arrays count) and the
 * tiers' own count (`stats().tiers[].memoryBytes`).
 *
 * With `--snapshot=FILE` (Deno: V8's heap snapshot format) it writes a
 * heap snapshot at the end; `node bench/_heap_parts.mjs FILE` then adds
 * up the bytes by the history's structures.
 *
 * Run: `deno run -A --v8-flags=--expose-gc bench/history_memory_parts.ts`
 * or `bun bench/history_memory_parts.ts` (about a minute at the default).
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
import { startFlows } from "./_metrics.ts";
import { runtime } from "./_runtime.ts";

const arg = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const MINUTES = Number(arg("minutes") ?? 12);
const SNAPSHOT = arg("snapshot");
const gc = (globalThis as { gc?: () => void }).gc ??
  (globalThis as { Bun?: { gc(full: boolean): void } }).Bun?.gc.bind(
    undefined,
    true,
  );
if (!gc) {
  throw new Error(
    "Cannot measure: run with --v8-flags=--expose-gc on Deno",
  );
}
const mb = (b: number) => (b / 1048576).toFixed(2);

/** Live memory by kind (bytes), after a full collection. */
async function live(): Promise<Record<string, number>> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 5));
  }
  const m = process.memoryUsage();
  const out: Record<string, number> = {
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
  if ("Bun" in globalThis) {
    const jsc = await import("bun:jsc" as string) as {
      heapStats(): { heapSize: number; extraMemorySize: number };
    };
    const s = jsc.heapStats();
    out.jscHeap = s.heapSize;
    out.jscExtra = s.extraMemorySize;
  }
  return out;
}

const collector = new MetricsCollector();
const nets = await startFlows(collector, {
  flows: 100,
  stages: 9,
  tickMs: 50,
});
// The flows' own objects settle before the baseline is read.
await new Promise((r) => setTimeout(r, 500));
const before = await live();
const dir = mkdtempSync(join(tmpdir(), "weir-memory-parts-"));
const store = await HistoryStore.open({ dir, flushIntervalMs: 0 });
let clock = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 1000;
const sampler = new Sampler(collector, store, { now: () => clock });
for (let i = 1; i <= MINUTES * 60; i++) {
  clock += 1000;
  await sampler.sampleOnce();
  if (i % 10 === 0) await store.flush();
  if (i % 60 === 0) await new Promise((r) => setTimeout(r, 1));
}
const after = await live();
const stats = store.stats();
console.log(
  `${runtime()}, ${stats.series} series, ${MINUTES} simulated minutes: history adds ${
    Object.keys(after).map((k) => `${k} ${mb(after[k] - before[k])}`).join(
      ", ",
    )
  } MB; tiers count ${
    stats.tiers.map((t) => `${t.name} ${mb(t.memoryBytes)}`).join(", ")
  } MB (${mb(stats.tiers.reduce((n, t) => n + t.memoryBytes, 0))} together)`,
);
if (SNAPSHOT !== undefined) {
  v8.writeHeapSnapshot(SNAPSHOT);
  console.log(`heap snapshot: ${SNAPSHOT}`);
}
await store.close();
rmSync(dir, { recursive: true, force: true });
for (const n of nets) await n.stop();
process.exit(0);
