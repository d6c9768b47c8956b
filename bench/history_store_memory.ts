/**
 * The history store's memory over a simulated hour and more, which the
 * cost part of `bench/history_bench.ts` (two minutes of real time) does
 * not reach: `series` series (default 57,430, the 100 flows x 10
 * processes set-up) appended one sample a simulated second through
 * `appendBatch()` (as a sampling pass does), flushed every 10 simulated
 * seconds into a temporary data dir, the clock starting on an hour.
 * Values: a quarter each of steady counters, counters of small float
 * steps, small integer gauges and constants. Every 10 simulated minutes it
 * prints what each tier says it holds (`stats().tiers[].memoryBytes`:
 * open chunks' blocks and state, rings, the aggregator) and the process's
 * RSS, heap and external memory.
 *
 * Until 2026-12-03 16:00 the minute tier's open chunk of a series held
 * up to an hour of minute rows (a sealed minute chunk was one hour window
 * of the hour tier), so its memory grew through the first hour (16 ->
 * 67 MB); it is now sealed every 10 rows and the hour tier is fed by an
 * hour window per series. The hour tier's open chunk holds up to 24
 * hours of rows. The tiers' figures include the index of their segment
 * files (since the same change): since 2026-12-04 only the open
 * segment's (15 bytes a chunk), closed segments keep theirs in a footer
 * read back through a bounded cache. Each line also says how many chunks
 * the disk holds.
 *
 * Run: `bun bench/history_store_memory.ts [--series=N] [--minutes=M]`
 * or `deno run -A --v8-flags=--expose-gc bench/history_store_memory.ts ...`
 * (about 2 minutes of CPU at the defaults; with `gc` exposed, memory is
 * read after a full collection).
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { HistoryStore } from "../src/history/store.ts";
import { runtime } from "./_runtime.ts";

const arg = (name: string, fallback: number) =>
  Number(
    process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ??
      fallback,
  );
const N = arg("series", 57_430);
const MINUTES = arg("minutes", 65);
const dir = mkdtempSync(join(tmpdir(), "weir-store-memory-"));
const store = await HistoryStore.open({ dir, flushIntervalMs: 0 });
const refs = new Int32Array(N);
for (let i = 0; i < N; i++) {
  refs[i] = store.seriesRef(
    { __name__: `m${i % 50}`, id: String(i) },
    i % 4 < 2 ? "counter" : "gauge",
  );
}
const values = new Float64Array(N);
let seed = 1;
const random = () =>
  (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const mb = (b: number) => (b / 1048576).toFixed(1);
let t = Math.floor(Date.now() / 3_600_000) * 3_600_000;
console.log(`${runtime()}, ${N} series, one sample a simulated second:`);
// CPU since the last line, and the longest simulated second (its pass and
// flush): the rollup's work shows there, a block's end after another.
let cpu0 = process.cpuUsage();
let worstMs = 0;
for (let s = 1; s <= MINUTES * 60; s++) {
  const began = performance.now();
  t += 1000;
  for (let i = 0; i < N; i++) {
    const k = i % 4;
    if (k === 0) values[i] += 20;
    else if (k === 1) values[i] += random() * 0.01;
    else if (k === 2) values[i] = Math.floor(random() * 5);
  }
  store.appendBatch(refs, values, N, t);
  if (s % 10 === 0) await store.flush();
  worstMs = Math.max(worstMs, performance.now() - began);
  if (s === 120 || s % 600 === 0) {
    // With --expose-gc (Deno: --v8-flags=--expose-gc): live memory only.
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const tiers = store.stats().tiers;
    const chunks = tiers.reduce(
      (n, x) =>
        n + x.chunksWritten - x.chunksDropped.retention -
        x.chunksDropped.budget,
      0,
    );
    const total = tiers.reduce((n, x) => n + x.memoryBytes, 0);
    console.log(
      `${s / 60} min: ${
        tiers.map((x) => `${x.name} ${mb(x.memoryBytes)}`).join(", ")
      } MB (tiers; ${mb(total)} together); ${chunks} chunks on disk, ${
        mb(store.stats().tiers.reduce((n, x) => n + x.diskBytes, 0))
      } MB; process RSS ${mb(m.rss)}, heap used ${mb(m.heapUsed)}, external ${
        mb(m.external)
      } MB; CPU ${
        ((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6)
          .toFixed(1)
      } s since the last line, longest second ${worstMs.toFixed(0)} ms`,
    );
    cpu0 = process.cpuUsage();
    worstMs = 0;
  }
}
await store.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
