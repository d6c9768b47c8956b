/**
 * The steady history cost of this tree against another tree's history
 * code, side by side in one process (the machine's load moves both
 * alike): the same collector (the 100 flows x 10 processes set-up, about
 * 57,000 series) sampled by this tree's `Sampler` into this tree's
 * `HistoryStore` and by the other tree's into its own, passes stamped one
 * second apart, alternately (which goes first swaps every pass), a flush
 * of each every ten passes, each with a data dir. It prints the CPU time
 * of each side's passes and flushes after a warm-up, and the ratio.
 *
 * Run (the other tree with node_modules linked, e.g. a detached worktree
 * of main):
 *
 *     git worktree add --detach /tmp/base main
 *     ln -s "$PWD/node_modules" /tmp/base/node_modules
 *     bun bench/sampler_cost_ab.ts /tmp/base
 *     deno run -A bench/sampler_cost_ab.ts /tmp/base
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { Sampler } from "../src/history/sampler.ts";
import { HistoryStore } from "../src/history/store.ts";
import { startFlows } from "./_metrics.ts";
import { runtime } from "./_runtime.ts";

const WARMUP = 30;
const PASSES = Number(
  process.argv.find((a) => a.startsWith("--passes="))?.slice(9) ?? 120,
);
const baseDir = process.argv.slice(2).find((a) => !a.startsWith("--"));
if (baseDir === undefined) {
  throw new TypeError(
    "Cannot compare: give the other tree's folder, received no argument",
  );
}
const root = resolve(baseDir);
const base = {
  Sampler: (await import(join(root, "src/history/sampler.ts")))
    .Sampler as typeof Sampler,
  HistoryStore: (await import(join(root, "src/history/store.ts")))
    .HistoryStore as typeof HistoryStore,
};

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

const collector = new MetricsCollector();
const nets = await startFlows(collector, { flows: 100, stages: 9, tickMs: 50 });
let clock = Math.floor(Date.now() / 60_000) * 60_000 + 1000;
const now = () => clock;
const dirs: string[] = [];
const side = async (
  name: string,
  S: typeof Sampler,
  H: typeof HistoryStore,
) => {
  const dir = mkdtempSync(join(tmpdir(), "weir-cost-ab-"));
  dirs.push(dir);
  const store = await H.open({ dir, flushIntervalMs: 0 });
  return {
    name,
    store,
    sampler: new S(collector, store, { now }),
    passMs: 0,
    flushMs: 0,
  };
};
const sides = [
  await side("this tree", Sampler, HistoryStore),
  await side(root, base.Sampler, base.HistoryStore),
];
for (let i = 1; i <= WARMUP + PASSES; i++) {
  clock += 1000;
  const order = i % 2 === 0 ? sides : [sides[1], sides[0]];
  for (const s of order) {
    const c = cpu();
    await s.sampler.sampleOnce();
    if (i > WARMUP) s.passMs += cpu() - c;
  }
  if (i % 10 === 0) {
    for (const s of order) {
      const c = cpu();
      await s.store.flush();
      if (i > WARMUP) s.flushMs += cpu() - c;
    }
  }
  await new Promise((r) => setTimeout(r, 3));
}
const share = (s: (typeof sides)[0]) => (s.passMs + s.flushMs) / PASSES / 10;
for (const s of sides) {
  console.log(
    `${runtime()} ${s.name}: pass ${(s.passMs / PASSES).toFixed(2)} ms, flush ${
      (s.flushMs / (PASSES / 10)).toFixed(1)
    } ms CPU every 10 passes => ${share(s).toFixed(2)}% of a core`,
  );
}
console.log(
  `this tree / other: ${(share(sides[0]) / share(sides[1])).toFixed(3)} (pass ${
    (sides[0].passMs / sides[1].passMs).toFixed(3)
  }, flush ${(sides[0].flushMs / sides[1].flushMs).toFixed(3)})`,
);
for (const s of sides) await s.store.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
for (const n of nets) await n.stop();
process.exit(0);
