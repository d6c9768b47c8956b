/**
 * What the metric history costs the demo flow (`weir demo --history`):
 * the demo's network and the resource tracker in one collector, a
 * `History` with a data dir attached to it, passes stamped one second
 * apart (a fake clock, so the figure does not wait for the wall clock),
 * a flush every ten passes as the default flush interval would, and the
 * CPU time of each (`process.cpuUsage()`), beside the collector's reading
 * alone and a scrape (`render()`) for scale.
 *
 * Run: `bun bench/sampler_demo_cost.ts` or
 * `deno run -A bench/sampler_demo_cost.ts`.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { DEMO_FLOW } from "../src/cli/demo.ts";
import { createNetwork } from "../src/embed.ts";
import { History } from "../src/history/history.ts";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { ResourceTracker } from "../src/metrics/resource_tracker.ts";
import { resourceSource } from "../src/runtime/resources.ts";
import { runtime } from "./_runtime.ts";

const PASSES = 300;

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

const collector = new MetricsCollector();
const net = createNetwork(DEMO_FLOW, { buckets: collector.options.buckets });
// The demo logs to standard output; the benchmark prints its own line.
net.on("error", () => {});
collector.track(net);
const resources = new AbortController();
const tracker = new ResourceTracker({
  source: resourceSource(),
  signal: resources.signal,
});
tracker.attach(collector);
tracker.start();
const log = console.log;
console.log = () => {};
await net.start();

const dir = mkdtempSync(join(tmpdir(), "weir-demo-cost-"));
let clock = Date.now();
const history = await History.open({
  dir,
  flushIntervalMs: 0,
  now: () => clock,
});
history.attach(collector);
await history.sampleNow();
let sampleMs = 0;
let flushMs = 0;
for (let i = 0; i < PASSES; i++) {
  clock += 1000;
  let c = cpu();
  await history.sampleNow();
  sampleMs += cpu() - c;
  if (i % 10 === 9) {
    c = cpu();
    await history.store.flush();
    flushMs += cpu() - c;
  }
  await new Promise((r) => setTimeout(r, 1));
}
const empty = { family() {}, add() {} };
let c0 = cpu();
for (let i = 0; i < PASSES; i++) await collector.sample(empty);
const readMs = (cpu() - c0) / PASSES;
c0 = cpu();
for (let i = 0; i < 50; i++) await collector.render();
const renderMs = (cpu() - c0) / 50;
const series = history.store.stats().series;
const pass = sampleMs / PASSES;
const flush = flushMs / (PASSES / 10);
console.log = log;
console.log(
  `${runtime()} demo history, ${series} series: pass ${
    pass.toFixed(3)
  } ms CPU (collector's reading alone ${readMs.toFixed(3)} ms; a scrape ${
    renderMs.toFixed(3)
  } ms), flush every 10 passes ${flush.toFixed(2)} ms => ${
    ((pass + flush / 10) / 10).toFixed(3)
  }% of a core at 1 pass/s and the default 10 s flush`,
);
resources.abort();
await net.stop();
await history.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
