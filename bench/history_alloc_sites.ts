/**
 * Where the metric history allocates, for the 100 flows x 10 processes
 * set-up (about 57,000 series): the set-up and a `Sampler` into a
 * `HistoryStore` with a data dir, 30 passes to warm up, then V8's sampling
 * heap profiler (every 512 bytes, objects that died since counted too)
 * over `PASSES` passes stamped one second apart with a flush every ten.
 * It prints the bytes allocated a pass by file and by function. The flows
 * run between passes (3 ms each), so their allocations show too (timers,
 * events, the engine). Garbage is what makes a process's memory swing
 * between collections (issue 14 measures RSS).
 *
 * `--setup=demo` profiles the demo flow (its log dropped) with the
 * resource tracker instead (about 500 series, as `weir demo --history`):
 * what a history costs a small set-up, where its garbage is made by the
 * collector's reading and the store's per-pass and per-flush work rather
 * than by the number of series. A native function's bytes (a `subarray`,
 * a `push`) are also counted under the function that called it ("by
 * caller").
 *
 * Run: `deno run -A bench/history_alloc_sites.ts [PASSES] [--setup=demo]`
 * (default 120 passes; Deno only: it uses `node:inspector`'s
 * HeapProfiler).
 *
 * @module
 */
import inspector from "node:inspector";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { Sampler } from "../src/history/sampler.ts";
import { HistoryStore } from "../src/history/store.ts";
import { startDemo, startFlows } from "./_metrics.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: ProfileNode[];
}

const PASSES = Number(
  process.argv.slice(2).find((a) => !a.startsWith("--")) ?? 120,
);
const SETUP = process.argv.find((a) => a.startsWith("--setup="))?.slice(8) ??
  "100x10";
if (SETUP !== "100x10" && SETUP !== "demo") {
  throw new RangeError(
    `Cannot run: --setup must be 100x10 or demo, received ${SETUP}`,
  );
}
const session = new inspector.Session();
session.connect();
const post = <T>(method: string, params?: object): Promise<T> =>
  new Promise((resolve, reject) =>
    session.post(
      method,
      params ?? {},
      (e: Error | null, r?: unknown) => e ? reject(e) : resolve(r as T),
    )
  );

const collector = new MetricsCollector();
if (SETUP === "demo") {
  await startDemo(collector, new AbortController().signal);
} else {
  await startFlows(collector, { flows: 100, stages: 9, tickMs: 50 });
}
const dir = mkdtempSync(join(tmpdir(), "weir-alloc-sites-"));
const store = await HistoryStore.open({ dir, flushIntervalMs: 0 });
let clock = Math.floor(Date.now() / 60_000) * 60_000 + 1000;
const sampler = new Sampler(collector, store, { now: () => clock });
const passes = async (n: number) => {
  for (let i = 1; i <= n; i++) {
    clock += 1000;
    await sampler.sampleOnce();
    if (i % 10 === 0) await store.flush();
    await new Promise((r) => setTimeout(r, 3));
  }
};
await passes(30);
await post("HeapProfiler.enable");
await post("HeapProfiler.startSampling", {
  samplingInterval: 512,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
await passes(PASSES);
const { profile } = await post<{ profile: { head: ProfileNode } }>(
  "HeapProfiler.stopSampling",
);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
const byCaller = new Map<string, number>();
const walk = (n: ProfileNode, caller: string) => {
  const f = n.callFrame;
  const where = `${f.functionName || "(anonymous)"} ${
    f.url.split("/").slice(-2).join("/")
  }:${f.lineNumber + 1}`;
  byFunction.set(where, (byFunction.get(where) ?? 0) + n.selfSize);
  const file = f.url.replace(/^.*?\/(src|bench)\//, "$1/") || "(native)";
  byFile.set(file, (byFile.get(file) ?? 0) + n.selfSize);
  // A native's bytes go to the script function that called it.
  const owner = f.url === "" ? caller : where;
  byCaller.set(owner, (byCaller.get(owner) ?? 0) + n.selfSize);
  for (const c of n.children) walk(c, owner);
};
walk(profile.head, "(root)");
const kb = (b: number) => (b / PASSES / 1024).toFixed(1).padStart(8);
const top = (m: Map<string, number>, n: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) =>
    `${kb(v)}  ${k}`
  ).join("\n");
console.log(
  `${store.stats().series} series, ${PASSES} passes: KB allocated a pass (a flush every 10 passes included)\nby file:\n${
    top(byFile, 15)
  }\nby function:\n${
    top(byFunction, 30)
  }\nby caller (natives counted in the function that called them):\n${
    top(byCaller, 30)
  }`,
);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
