/**
 * Resource tracker benchmarks.
 *
 * 1. Tick cost (mitata): one `tracker.sample()` with every reading, and
 *    without the TCP sockets (the timer reads those every `tcpIntervalMs`,
 *    30 s by default), side by side in one run; medians.
 * 2. CPU share, measured with `process.cpuUsage()`: the tracker sampling
 *    every 50 ms (lag timer off) for 3 s against the same time idle, the
 *    difference per tick scaled to the default 5 s interval; and the
 *    tracker with its defaults (a sample every 5 s, TCP sockets every
 *    60 s, the lag timer at 40 ms resting while the process idles), started 4 s before a 60 s window (so the window holds one TCP
 *    read), against 60 s idle (after 4 s too), as a share of one core.
 *
 * Run: `bun bench/resource_bench.ts` or `deno run -A bench/resource_bench.ts`;
 * `--json` prints one machine-readable line for `scripts/bench.ts`.
 *
 * @module
 */
import { bench, do_not_optimize, run } from "mitata";
import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ResourceTracker } from "../src/metrics/resource_tracker.ts";
import { resourceSource } from "../src/runtime/resources.ts";
import { runtime } from "./_runtime.ts";
import { loadAverage } from "./_measure.ts";

const argv: string[] = globalThis.process?.argv ?? [];
const json = argv.includes("--json");

const DEFAULTS_WINDOW_MS = 60_000;
const SETTLE_MS = 4000;
const SHARE_PAIRS = 3;

// A child of the share measurement: a fresh process, idle or running a
// tracker with its defaults; prints its CPU time over the window.
const child = argv.find((a) => a.startsWith("--share-child="))?.slice(14);
if (child !== undefined) {
  const t = child === "defaults"
    ? new ResourceTracker({ source: resourceSource(), log: () => {} })
    : undefined;
  t?.start();
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, DEFAULTS_WINDOW_MS));
  const c = process.cpuUsage(c0);
  console.log(`SHARE ${(c.user + c.system) / 1000} ${t?.lagPeriodMs ?? 0}`);
  t?.stop();
  process.exit(0);
}

/** Runs this file as a share child; resolves to its CPU ms and lag period. */
function shareChild(kind: "idle" | "defaults"): Promise<[number, number]> {
  const file = fileURLToPath(import.meta.url);
  const args = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined"
    ? ["run", "-A", file, `--share-child=${kind}`]
    : [file, `--share-child=${kind}`];
  const p = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  p.stdout.setEncoding("utf8").on("data", (c: string) => out += c);
  return new Promise((resolve, reject) => {
    p.on("error", reject);
    p.on("close", (code) => {
      const m = /SHARE ([\d.]+) (\d+)/.exec(out);
      if (code !== 0 || !m) {
        reject(new Error(`share child ${kind} failed: ${code} ${out}`));
      } else resolve([Number(m[1]), Number(m[2])]);
    });
  });
}

// The share children first, on a quiet machine: idle and tracking
// processes side by side, so whatever slows the machine slows both.
const shares = await Promise.all(
  Array.from(
    { length: SHARE_PAIRS },
    () => [shareChild("idle"), shareChild("defaults")],
  )
    .flat(),
);
const loadStart = loadAverage();

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

/**
 * CPU milliseconds used over `ms` of wall time while `during` runs (started
 * `settleMs` before the window).
 */
async function window(
  ms: number,
  during?: () => () => void,
  settleMs = 0,
): Promise<number> {
  const stop = during?.();
  if (settleMs > 0) await sleep(settleMs);
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
}
const idleLong = shares.filter((_, i) => i % 2 === 0).map(([ms]) => ms);
const defaults = shares.filter((_, i) => i % 2 === 1).map(([ms]) => ms);
const lagPeriods = shares.filter((_, i) => i % 2 === 1).map(([, p]) => p);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const idleMs = median(idle);
const tickCpuUs = Math.max(0, median(sampling) - idleMs) * 1000 /
  (ticks / ROUNDS);
const idleLongMs = median(idleLong);
const defaultsPct = (median(defaults) - idleLongMs) / DEFAULTS_WINDOW_MS *
  100;

const fullUs = us(p50(FULL));
const noTcpUs = us(p50(NO_TCP));
const result = {
  runtime: runtime(),
  loadavg: { start: loadStart, end: loadAverage() },
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
    // At the default 5 s interval, TCP read every 60 s (every 12th tick).
    samplerPctAt5s: Number(
      ((noTcpUs + (fullUs - noTcpUs) / 12) / 5000 / 1000 * 100).toFixed(4),
    ),
    measuredSamplerPctAt5s: Number((tickCpuUs / 5000 / 1000 * 100).toFixed(4)),
    defaultsWindowMs: DEFAULTS_WINDOW_MS,
    idleCpuMsPerDefaultsWindow: Number(idleLongMs.toFixed(2)),
    idleCpuMsPerWindowByProcess: idleLong.map((d) => Number(d.toFixed(2))),
    defaultsCpuMsPerWindow: defaults.map((d) => Number(d.toFixed(2))),
    lagPeriodsMs: lagPeriods,
    defaultsPct: Number(defaultsPct.toFixed(3)),
  },
};
if (json) console.log(`RESULT ${JSON.stringify(result)}`);
else console.log(JSON.stringify(result, null, 2));
