/**
 * Fixtures of the metrics tests: flow and process names that need every
 * escape, user prom-client metrics of every type, gated collects and flows
 * of n sinks.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Summary } from "prom-client";
import type { Network } from "../../src/engine/network.ts";
import { fullName, METRICS } from "../../src/metrics/catalogue.ts";
import type { MetricsCollector } from "../../src/metrics/collector.ts";
import { network, sinkInto, sourceOf } from "../engine/_helpers.ts";

/** The full name of a catalogue metric. */
export const N = (key: keyof typeof METRICS, ns = "weir") =>
  fullName(METRICS[key], ns);

export const ODD_FLOW = 'fl"ow\\ with\nnewline ü 名 🚰';

export const ODD_SOURCE = 'S"rc\\\n';

export const ODD_SINK = "Outer/Inner";

/** A finished flow whose flow and process names need every escape. */
export async function oddFlow(): Promise<Network> {
  const net = network(
    { [ODD_SOURCE]: sourceOf([1, 2, 3]), [ODD_SINK]: sinkInto([]) },
    [{
      from: { process: ODD_SOURCE, port: "out" },
      to: { process: ODD_SINK, port: "in" },
    }],
    { name: ODD_FLOW },
  );
  await net.start();
  await net.finished;
  return net;
}

/**
 * One user metric of every prom-client type, registered in `m`'s registry,
 * and a counter named without `_total` (which promtool's lint rejects).
 */
export function userMetrics(m: MetricsCollector, withUnsuffixed = true): void {
  new Counter({
    name: "app_jobs_total",
    help: "Jobs.",
    labelNames: ["queue"],
    registers: [m.registry],
  }).inc({ queue: 'q"1\\' }, 3);
  if (withUnsuffixed) {
    new Counter({
      name: "app_retries",
      help: "A counter registered without _total.",
      registers: [m.registry],
    }).inc();
  }
  new Gauge({
    name: "app_temperature_celsius",
    help: "Temperature.",
    registers: [m.registry],
    collect() {
      this.set(21.5);
    },
  });
  const h = new Histogram({
    name: "app_request_seconds",
    help: "Requests.",
    buckets: [0.1, 1],
    registers: [m.registry],
  });
  h.observe(0.05);
  h.observe(3);
  const s = new Summary({
    name: "app_payload_bytes",
    help: "Payloads.",
    percentiles: [0.5, 0.9],
    registers: [m.registry],
  });
  s.observe(10);
  s.observe(20);
}

/**
 * A gauge whose collect waits until `open()` is called; `collecting`
 * resolves once a collect started.
 */
export function gatedGauge(
  m: MetricsCollector,
  name: string,
): { collecting: Promise<void>; open(): void } {
  let started!: () => void;
  const collecting = new Promise<void>((resolve) => started = resolve);
  let open!: () => void;
  const opened = new Promise<void>((resolve) => open = resolve);
  new Gauge({
    name,
    help: "Slow to collect.",
    registers: [m.registry],
    async collect() {
      started();
      await opened;
      this.set(1);
    },
  });
  return { collecting, open };
}

/** A flow of `n` sinks and nothing else. */
export function sinks(n: number, name = "sinks"): Network {
  const procs: Record<string, ReturnType<typeof sinkInto>> = {};
  for (let i = 0; i < n; i++) procs[`P${i}`] = sinkInto([]);
  return network(procs, [], { name });
}
