/**
 * A history sampling pass of this tree against another tree's, whole
 * (the engine's statistics, the collector's reading, the sampler's walk
 * and the store's append), side by side in one process: each side runs
 * its own tree's flows (the 100 flows x 10 processes set-up of the scrape
 * benchmark, or the demo flow with `--setup=demo`), its own
 * `MetricsCollector`, `Sampler` and `HistoryStore` (in memory: the flush
 * is `sampler_cost_ab.ts`'s), passes stamped one second apart,
 * alternately (which goes first swaps every pass). It prints the CPU time
 * of each side's passes after a warm-up and the ratio; the machine's load
 * moves both sides alike. `sampler_cost_ab.ts` shares one collector
 * between the sides, so it cannot see a change in the engine or the
 * collector; this one can.
 *
 * Run (the other tree with node_modules linked, e.g. a detached worktree
 * of main):
 *
 *     git worktree add --detach /tmp/base main
 *     ln -s "$PWD/node_modules" /tmp/base/node_modules
 *     bun bench/sampler_pass_ab.ts /tmp/base [--setup=demo] [--passes=120]
 *     deno run -A bench/sampler_pass_ab.ts /tmp/base [--setup=demo]
 *
 * @module
 */
import { join, resolve } from "node:path";
import process from "node:process";
import { runtime } from "./_runtime.ts";

const arg = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const PASSES = Number(arg("passes") ?? 120);
const WARMUP = 20;
const setup = arg("setup") ?? "100x10";
if (setup !== "100x10" && setup !== "demo") {
  throw new RangeError(
    `Cannot compare: --setup must be 100x10 or demo, received ${setup}`,
  );
}
const baseDir = process.argv.slice(2).find((a) => !a.startsWith("--"));
if (baseDir === undefined) {
  throw new TypeError(
    "Cannot compare: give the other tree's folder, received no argument",
  );
}

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

let clock = Math.floor(Date.now() / 60_000) * 60_000 + 1000;
const now = () => clock;

interface Side {
  name: string;
  sampleOnce(): Promise<void>;
  stop(): Promise<void>;
  passMs: number;
}

/** One tree's set-up, sampler and store, all from its own modules. */
async function side(name: string, root: string): Promise<Side> {
  const from = (path: string) => import(join(root, path));
  const { MetricsCollector } = await from("src/metrics/collector.ts");
  const { Sampler } = await from("src/history/sampler.ts");
  const { HistoryStore } = await from("src/history/store.ts");
  const collector = new MetricsCollector();
  const nets: { stop(): Promise<void> }[] = [];
  if (setup === "demo") {
    const { createNetwork } = await from("src/embed.ts");
    const { DEMO_FLOW } = await from("src/cli/demo.ts");
    const net = createNetwork(
      (DEMO_FLOW as string).replace("Log(core/Output)", "Log(core/Drop)"),
      { name: "demo", buckets: collector.options.buckets },
    );
    collector.track(net);
    await net.start();
    nets.push(net);
  } else {
    const { startFlows } = await from("bench/_metrics.ts");
    nets.push(
      ...await startFlows(collector, { flows: 100, stages: 9, tickMs: 50 }),
    );
  }
  const store = await HistoryStore.open({});
  const sampler = new Sampler(collector, store, { now });
  return {
    name,
    sampleOnce: () => sampler.sampleOnce(),
    stop: async () => {
      for (const n of nets) await n.stop();
    },
    passMs: 0,
  };
}

const sides = [
  await side("this tree", resolve(new URL("..", import.meta.url).pathname)),
  await side(resolve(baseDir), resolve(baseDir)),
];
for (let i = 1; i <= WARMUP + PASSES; i++) {
  clock += 1000;
  const order = i % 2 === 0 ? sides : [sides[1], sides[0]];
  for (const s of order) {
    const c = cpu();
    await s.sampleOnce();
    if (i > WARMUP) s.passMs += cpu() - c;
  }
  // The flows move between passes, as they would in the second between.
  await new Promise((r) => setTimeout(r, setup === "demo" ? 50 : 20));
}
for (const s of sides) {
  console.log(
    `${runtime()} ${setup} ${s.name}: pass ${
      (s.passMs / PASSES).toFixed(3)
    } ms CPU`,
  );
}
console.log(
  `${runtime()} ${setup} this tree / other: ${
    (sides[0].passMs / sides[1].passMs).toFixed(3)
  }`,
);
for (const s of sides) await s.stop();
process.exit(0);
