/**
 * A child process for the sampler's test: samples an empty collector every
 * 50 ms and prints the stamped times when its own 400 ms timer fires. It
 * must then exit by itself: the sampler's timer may not hold the process.
 *
 * @module
 */
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { Sampler } from "../../src/history/sampler.ts";

const times: number[] = [];
const sampler = new Sampler(new MetricsCollector(), {
  seriesRef: () => 0,
  append: (_ref: number, t: number) => {
    if (times.at(-1) !== t) times.push(t);
  },
}, { intervalMs: 50, include: ["weir_flows_active"] });
sampler.start();
setTimeout(() => {
  console.log(JSON.stringify({ times }));
}, 400);
