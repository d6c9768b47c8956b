/**
 * Resource tracker benchmarks.
 *
 * 1. Tick cost (mitata): one `tracker.sample()` with every reading, and
 *    without the TCP sockets (the timer reads those every `tcpIntervalMs`,
 *    30 s by default), side by side in one run; medians.
 * 2. CPU share, measured with `process.cpuUsage()`: the tracker sampling
 *    every 50 ms (lag timer off) for a few seconds against the same time
 *    idle, the difference per tick scaled to the default 5 s interval; and
 *    the event-loop lag timer alone (default 40 ms) against idle, as a
 *    share of one core. Idle and busy windows alternate, 3 rounds each.
 *
 * Run: `bun bench/resource_bench.ts` or `deno run -A bench/resource_bench.ts`;
 * `--json` prints one machine-readable line for `scripts/bench.ts`.
 *
 * @module
 */
import { bench, do_not_optimize, run } from "mitata";
import process from "node:process";
import { loadavg } from "node:os";
import { ResourceTracker } from "../src/metrics/resource_tracker.ts";
import { resourceSource } from "../src/runtime/resources.ts";
import { runtime } from "./_runtime.ts";

const argv: string[] = globalThis.process?.argv ?? [];
const json = argv.includes("--json");
const load = () => loadavg().map((l) => Number(l.toFixed(2)));
const loadStart = load();

const source = resourceSource();
const full = new ResourceTracker({ source, lagResolutionMs: 0, log: () => {} });
const noTcp = new ResourceTracker({
  source: { ...source, tcpConnections: undefined },
  lagResolutionMs: 0,
  log: () => {},
});

const FULL = "tick: sample() with every reading";
const NO_TCP = "tick: sample() without the TCP sockets";
bench(FULL, () => full.sample());
bench(NO_TCP, () => noTcp.sample());
// Each reading on its own, to see where a tick's time goes.
const readings = [
  "cpuUsage",
  "memory",
  "threads",
  "openFds",
  "maxFds",
  "networkBytes",
  "tcpConnections",
] as const;
for (const k of readings) {
  const read = source[k];
  if (read) bench(`reading: ${k}`, () => do_not_optimize(read()));
}

const out = await run(json ? { format: "quiet" } : {});
const p50 = (name: string) => {
  const s = out.benchmarks.find((b) => b.alias === name)?.runs[0].stats;
  if (!s) throw new Error(`benchmark "${name}" did not run`);
  return s.p50;
};
const us = (ns: number) => Number((ns / 1000).toFixed(1));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** CPU milliseconds used over `ms` of wall time while `during` runs. */
async function window(ms: number, during?: () => () => void): Promise<number> {
  const stop = during?.();
  const c0 = cpuMs();
  await sleep(ms);
  const used = cpuMs() - c0;
  stop?.();
  return used;
}

const WINDOW_MS = 3000;
const TICK_MS = 50;
const ROUNDS = 3;
const idle: number[] = [];
const sampling: number[] = [];
const lagging: number[] = [];
let ticks = 0;
for (let r = 0; r < ROUNDS; r++) {
  idle.push(await window(WINDOW_MS));
  sampling.push(
    await window(WINDOW_MS, () => {
      const t = new ResourceTracker({
        source,
        intervalMs: TICK_MS,
        lagResolutionMs: 0,
        tcpIntervalMs: 0,
        log: () => {},
      });
      t.start();
      return () => {
        ticks += t.ticks;
        t.stop();
      };
    }),
  );
  lagging.push(
    await window(WINDOW_MS, () => {
      const t = new ResourceTracker({
        source,
        intervalMs: 2 ** 31 - 1,
        log: () => {},
      });
      t.start();
      return () => t.stop();
    }),
  );
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const idleMs = median(idle);
const tickCpuUs = Math.max(0, median(sampling) - idleMs) * 1000 /
  (ticks / ROUNDS);
const lagSharePct = Math.max(0, median(lagging) - idleMs) / WINDOW_MS * 100;

const fullUs = us(p50(FULL));
const noTcpUs = us(p50(NO_TCP));
const result = {
  runtime: runtime(),
  loadavg: { start: loadStart, end: load() },
  tick: {
    fullMedianUs: fullUs,
    noTcpMedianUs: noTcpUs,
    readingsUs: Object.fromEntries(
      readings.filter((k) => source[k]).map((
        k,
      ) => [k, us(p50(`reading: ${k}`))]),
    ),
  },
  share: {
    windowMs: WINDOW_MS,
    rounds: ROUNDS,
    tickMs: TICK_MS,
    idleCpuMsPerWindow: Number(idleMs.toFixed(2)),
    tickCpuUs: Number(tickCpuUs.toFixed(1)),
    // At the default 5 s interval, TCP read every 30 s (every sixth tick).
    samplerPctAt5s: Number(
      ((noTcpUs + (fullUs - noTcpUs) / 6) / 5000 / 1000 * 100).toFixed(4),
    ),
    measuredSamplerPctAt5s: Number((tickCpuUs / 5000 / 1000 * 100).toFixed(4)),
    lagTimerPct: Number(lagSharePct.toFixed(3)),
  },
};
if (json) console.log(`RESULT ${JSON.stringify(result)}`);
else console.log(JSON.stringify(result, null, 2));
