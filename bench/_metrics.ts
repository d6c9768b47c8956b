/**
 * What the metrics benchmarks share: the running flows a scrape reads, a
 * reader of the exposition text, and a prom-client registry rebuilt from
 * that text (the baseline of the scrape-cost benchmark).
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { createNetwork } from "../src/embed.ts";
import type { Network } from "../src/engine/network.ts";
import type { MetricsCollector } from "../src/metrics/collector.ts";
import { DEMO_FLOW } from "../src/cli/demo.ts";
import { ResourceTracker } from "../src/metrics/resource_tracker.ts";
import { resourceSource } from "../src/runtime/resources.ts";
import {
  type ParsedFamily,
  parseFamilies,
} from "../tests/metrics/_exposition.ts";

/** Options of {@linkcode startFlows}. */
export interface FlowsOptions {
  /** Flows to start. */
  flows: number;
  /** `core/Repeat` stages after the `core/Interval` source of each flow. */
  stages: number;
  /** Milliseconds between two ticks of each source. */
  tickMs: number;
}

/**
 * The .fbp text of one flow: an interval source feeding `stages`
 * `core/Repeat` processes in a line (the last one's `out` is left
 * unconnected, so its sends are counted as unread drops).
 */
export function flowText(stages: number, tickMs: number): string {
  const lines = [`'${tickMs}ms' -> interval Tick(core/Interval)`];
  let from = "Tick";
  for (let s = 1; s <= stages; s++) {
    lines.push(`${from} out -> in R${s}(core/Repeat)`);
    from = `R${s}`;
  }
  return lines.join("\n");
}

/**
 * Creates, tracks and starts `flows` flows (named `flow000`, `flow001`, ...)
 * built with `createNetwork` and the collector's buckets.
 */
export async function startFlows(
  collector: MetricsCollector,
  { flows, stages, tickMs }: FlowsOptions,
): Promise<Network[]> {
  const text = flowText(stages, tickMs);
  const nets: Network[] = [];
  for (let i = 0; i < flows; i++) {
    const net = createNetwork(text, {
      name: `flow${String(i).padStart(3, "0")}`,
      buckets: collector.options.buckets,
    });
    collector.track(net);
    nets.push(net);
  }
  await Promise.all(nets.map((n) => n.start()));
  return nets;
}

/**
 * The demo flow (its log dropped) and the resource tracker, as `weir demo`
 * runs them, tracked by `collector`; the tracker stops with `signal`.
 */
export async function startDemo(
  collector: MetricsCollector,
  signal: AbortSignal,
): Promise<Network> {
  const tracker = new ResourceTracker({
    source: resourceSource(),
    signal,
    log: () => {},
  });
  tracker.attach(collector);
  tracker.start();
  const net = createNetwork(
    DEMO_FLOW.replace("Log(core/Output)", "Log(core/Drop)"),
    { name: "demo", buckets: collector.options.buckets },
  );
  collector.track(net);
  await net.start();
  return net;
}

/** The sample lines (not comments, not blank) of an exposition. */
export function sampleLines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

/** UTF-8 length of a text, in bytes. */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** `a\0b\0...`: the key of a label set (without `le`). */
function seriesKey(labels: Record<string, string>): string {
  let k = "";
  for (const n in labels) if (n !== "le") k += `${n}=${labels[n]}\0`;
  return k;
}

function withoutLe(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n in labels) if (n !== "le") out[n] = labels[n];
  return out;
}

/**
 * A prom-client `Registry` holding the same families as `text` (a text
 * 0.0.4 exposition): same names, help, types, label sets and values, made
 * of prom-client's own `Counter`, `Gauge` and `Histogram` objects.
 * Counters and gauges get the exact values. Histograms are filled by
 * observing one value per counted observation, at the upper bound of its
 * bucket (at twice the last bound for `+Inf`), so every `_bucket` and
 * `_count` matches while `_sum` generally differs. `labelNames` gives the
 * label names of a family without samples.
 */
export function promRegistryFrom(
  text: string,
  labelNames: (family: string) => string[],
): Registry {
  const registry = new Registry();
  for (const f of parseFamilies(text)) {
    const names = f.samples.length > 0
      ? Object.keys(withoutLe(f.samples[0].labels))
      : labelNames(f.name);
    const common = {
      name: f.name,
      help: f.help,
      labelNames: names,
      registers: [registry],
    };
    if (f.type === "counter") {
      const c = new Counter(common);
      for (const s of f.samples) c.inc(s.labels, s.value);
    } else if (f.type === "gauge") {
      const g = new Gauge(common);
      for (const s of f.samples) g.set(s.labels, s.value);
    } else if (f.type === "histogram") {
      fillHistogram(f, common);
    } else {
      throw new Error(`unexpected metric type ${f.type} of ${f.name}`);
    }
  }
  return registry;
}

function fillHistogram(
  f: ParsedFamily,
  common: {
    name: string;
    help: string;
    labelNames: string[];
    registers: Registry[];
  },
): void {
  // Bucket samples by series, in the order written (cumulative counts).
  const series = new Map<
    string,
    { labels: Record<string, string>; buckets: [number, number][] }
  >();
  const bounds: number[] = [];
  for (const s of f.samples) {
    if (s.name !== `${f.name}_bucket`) continue;
    const key = seriesKey(s.labels);
    let x = series.get(key);
    if (x === undefined) {
      series.set(key, x = { labels: withoutLe(s.labels), buckets: [] });
    }
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    x.buckets.push([le, s.value]);
    if (series.size === 1 && le !== Infinity) bounds.push(le);
  }
  const h = new Histogram({ ...common, buckets: bounds });
  const last = bounds[bounds.length - 1] ?? 1;
  for (const { labels, buckets } of series.values()) {
    h.zero(labels);
    let previous = 0;
    for (const [le, cumulative] of buckets) {
      const v = le === Infinity ? last * 2 : le;
      for (let n = cumulative - previous; n > 0; n--) h.observe(labels, v);
      previous = cumulative;
    }
  }
}
