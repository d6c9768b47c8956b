import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { Counter, Gauge, Histogram as PromHistogram } from "prom-client";
import { createNetwork } from "../../src/embed.ts";
import { Sampler, seriesFilter } from "../../src/history/sampler.ts";
import {
  MetricsCollector,
  type SeriesSink,
} from "../../src/metrics/collector.ts";
import { RESOURCE_METRICS } from "../../src/metrics/catalogue.ts";
import type { Series } from "../../src/metrics/series_plan.ts";
import { parseFamilies } from "../metrics/_exposition.ts";
import { runtimeCommand } from "../_runtime.ts";
import { FakeStore, STALE } from "./_fake_store.ts";

/** A finished flow of five ticks into a drop, tracked by `collector`. */
async function ticks(collector: MetricsCollector, name = "ticks") {
  const net = createNetwork(
    `
    '1ms' -> interval Tick(core/Interval)
    5 -> count Tick
    Tick out -> in Sink(core/Drop)
  `,
    { name, buckets: collector.options.buckets },
  );
  collector.track(net);
  await net.start();
  await net.finished;
  return net;
}

test("Sampler reads every series of a running collector into the store, as the exposition shows it", async () => {
  const collector = new MetricsCollector({ constLabels: { site: "a" } });
  await ticks(collector);
  const jobs = new Counter({
    name: "app_jobs_total",
    help: "Jobs.",
    labelNames: ["queue"],
    registers: [collector.registry],
  });
  jobs.inc({ queue: "q1" }, 3);
  new Gauge({
    name: "app_temperature_celsius",
    help: "Temperature.",
    registers: [collector.registry],
    collect() {
      this.set(21.5);
    },
  });
  const h = new PromHistogram({
    name: "app_wait_seconds",
    help: "Wait.",
    buckets: [0.1, 1],
    registers: [collector.registry],
  });
  h.observe(0.5);
  collector.addFamily(RESOURCE_METRICS.threads, (o) => o.sample({}, 4));

  const store = new FakeStore();
  const sampler = new Sampler(collector, store, {
    now: () => 1_700_000_000_400,
  });
  await sampler.sampleOnce();

  // Every line of a scrape is one stored series with the same value.
  const scraped = new Map<string, number>();
  for (const f of parseFamilies(await collector.render("text"))) {
    for (const s of f.samples) {
      scraped.set(FakeStore.key({ __name__: s.name, ...s.labels }), s.value);
    }
  }
  const stored = new Map<string, number | typeof STALE>();
  for (const s of store.series) {
    assert.deepEqual(s.samples.length, 1, FakeStore.key(s.labels));
    stored.set(FakeStore.key(s.labels), s.samples[0][1]);
  }
  // The self families count scrapes; the scrape came after the pass.
  for (const m of [stored, scraped]) {
    for (const k of m.keys()) if (k.startsWith("weir_metrics_")) m.delete(k);
  }
  assert.deepEqual(stored, scraped);
  assert.ok(store.series.length > 50, `${store.series.length} series`);
  assert.ok(store.series.every((s) => s.samples[0][0] === 1_700_000_000_000));

  const one = (name: string, labels: Record<string, string> = {}) => {
    const found = store.find(name, labels);
    assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}`);
    return found[0];
  };
  const sinkIn = one("weir_process_messages_total", {
    flow: "ticks",
    process: "Sink",
    direction: "in",
  });
  assert.deepEqual(sinkIn.samples[0][1], 5);
  assert.deepEqual(sinkIn.kind, "counter");
  assert.deepEqual(sinkIn.labels.site, "a");
  assert.equal(one("weir_flows_active").kind, "gauge");
  assert.equal(
    one("weir_process_processing_seconds_bucket", {
      process: "Sink",
      le: "+Inf",
    }).kind,
    "counter",
  );
  assert.equal(one("app_jobs_total", { queue: "q1" }).samples[0][1], 3);
  assert.equal(one("app_jobs_total").kind, "counter");
  assert.equal(one("app_temperature_celsius").samples[0][1], 21.5);
  assert.equal(one("app_temperature_celsius").kind, "gauge");
  assert.equal(one("app_wait_seconds_bucket", { le: "1" }).samples[0][1], 1);
  assert.equal(one("app_wait_seconds_bucket", { le: "0.1" }).samples[0][1], 0);
  assert.equal(one("app_wait_seconds_sum").kind, "counter");
  assert.equal(one("weir_threads").samples[0][1], 4);
});

test("Sampler asks the store for a series once, then appends by its id", async () => {
  const collector = new MetricsCollector();
  await ticks(collector);
  const store = new FakeStore();
  let now = 10_000;
  const sampler = new Sampler(collector, store, { now: () => now });
  await sampler.sampleOnce();
  const calls = store.refCalls;
  assert.equal(calls, store.series.length);
  now += 1000;
  await sampler.sampleOnce();
  now += 1000;
  await sampler.sampleOnce();
  assert.equal(store.refCalls, calls);
  assert.ok(store.series.every((s) => s.samples.length === 3));
  assert.equal(sampler.stats.passes, 3);
  assert.equal(sampler.stats.samples, 3 * store.series.length);
});

test("Sampler stamps each pass with its tick: floor(now / interval) * interval", async () => {
  const collector = new MetricsCollector();
  const store = new FakeStore();
  let now = 12_345;
  const sampler = new Sampler(collector, store, {
    intervalMs: 250,
    include: ["weir_flows_active"],
    now: () => now,
  });
  await sampler.sampleOnce();
  now = 12_999;
  await sampler.sampleOnce();
  await sampler.sampleOnce(13_000);
  assert.deepEqual(store.find("weir_flows_active")[0].samples, [
    [12_250, 0],
    [12_750, 0],
    [13_000, 0],
  ]);
});

test("Sampler keeps what include names and leaves out what exclude names", async () => {
  const collector = new MetricsCollector();
  await ticks(collector);
  const names = async (include?: string[], exclude?: string[]) => {
    const store = new FakeStore();
    await new Sampler(collector, store, { include, exclude }).sampleOnce();
    return new Set(store.series.map((s) => s.labels.__name__));
  };
  const all = await names();
  assert.ok(all.has("weir_process_message_latency_seconds_bucket"));

  // An exact name; a regular expression, anchored at both ends.
  assert.deepEqual(
    await names(["weir_flows_active", "weir_network_.*_connections"]),
    new Set(["weir_flows_active", "weir_network_active_connections"]),
  );
  assert.deepEqual(await names(["flows_active"]), new Set());
  // A histogram's name selects all its parts; _bucket only the buckets.
  assert.deepEqual(
    await names(["weir_process_processing_seconds"]),
    new Set([
      "weir_process_processing_seconds_bucket",
      "weir_process_processing_seconds_sum",
      "weir_process_processing_seconds_count",
    ]),
  );
  const noBuckets = await names(undefined, [".*_bucket"]);
  assert.equal([...noBuckets].some((n) => n.endsWith("_bucket")), false);
  assert.ok(noBuckets.has("weir_process_processing_seconds_count"));
  const noLatency = await names(["weir_.*"], [
    "weir_process_message_latency_seconds",
  ]);
  assert.equal(
    [...noLatency].some((n) => n.includes("message_latency")),
    false,
  );
  assert.ok(noLatency.has("weir_process_messages_total"));
  assert.equal([...noLatency].some((n) => !n.startsWith("weir_")), false);
});

test("seriesFilter() refuses a pattern that is not a regular expression, naming it", () => {
  assert.throws(
    () => seriesFilter({ exclude: ["weir_(oops"] }),
    (e) =>
      e instanceof SyntaxError &&
      /exclude pattern "weir_\(oops" is not a regular expression/.test(
        e.message,
      ),
  );
  assert.throws(() => seriesFilter({ include: [""] }), TypeError);
});

test("Sampler skips a tick that comes while a pass still runs, and never stacks passes", async () => {
  const collector = new MetricsCollector();
  let release!: () => void;
  let calls = 0;
  const gate = new Promise<void>((r) => release = r);
  new Gauge({
    name: "app_slow",
    help: "Slow to collect.",
    registers: [collector.registry],
    async collect() {
      calls++;
      await gate;
      this.set(1);
    },
  });
  const store = new FakeStore();
  let now = 5_000;
  const sampler = new Sampler(collector, store, {
    include: ["app_slow"],
    now: () => now,
  });
  const first = sampler.tick();
  now += 1000;
  assert.equal(await sampler.tick(), false);
  now += 1000;
  assert.equal(await sampler.tick(), false);
  assert.equal(sampler.stats.skippedTicks, 2);
  release();
  assert.equal(await first, true);
  assert.equal(calls, 1);
  assert.deepEqual(store.find("app_slow")[0].samples, [[5_000, 1]]);
  now += 1000;
  assert.equal(await sampler.tick(), true);
  assert.deepEqual(store.find("app_slow")[0].samples, [[5_000, 1], [8_000, 1]]);
});

test("Sampler ends a flow's series with one staleness marker once it is untracked, then appends nothing more to them", async () => {
  const collector = new MetricsCollector();
  const net = await ticks(collector);
  const store = new FakeStore();
  let now = 1_000;
  const sampler = new Sampler(collector, store, { now: () => now });
  await sampler.sampleOnce();
  collector.untrack(net);
  now += 1000;
  await sampler.sampleOnce();
  now += 1000;
  await sampler.sampleOnce();
  const flowSeries = store.series.filter((s) => s.labels.flow === "ticks");
  assert.ok(flowSeries.length > 0);
  for (const s of flowSeries) {
    assert.equal(s.samples.length, 2, JSON.stringify(s.labels));
    assert.equal(typeof s.samples[0][1], "number");
    assert.deepEqual(s.samples[1], [2_000, STALE]);
  }
  assert.deepEqual(
    store.find("weir_flows_active")[0].samples.map(([t]) => t),
    [1_000, 2_000, 3_000],
  );
  assert.ok(
    store.find("weir_flows_active")[0].samples.every(([, v]) => v !== STALE),
  );
});

test("Sampler ends a series each time it leaves, and not again while it stays away: gone, back, gone", async () => {
  const collector = new MetricsCollector();
  const net = await ticks(collector);
  const store = new FakeStore();
  let now = 1_000;
  const sampler = new Sampler(collector, store, { now: () => now });
  const pass = async () => {
    await sampler.sampleOnce();
    now += 1000;
  };
  await pass(); // 1 s: sampled
  collector.untrack(net);
  await pass(); // 2 s: a marker
  await pass(); // 3 s: nothing
  collector.track(net);
  await pass(); // 4 s: sampled again
  collector.untrack(net);
  await pass(); // 5 s: a marker
  await pass(); // 6 s: nothing
  const flowSeries = store.series.filter((s) => s.labels.flow === "ticks");
  assert.ok(flowSeries.length > 0);
  for (const s of flowSeries) {
    assert.deepEqual(
      s.samples.map(([t, v]) => [t, v === STALE ? "stale" : typeof v]),
      [[1_000, "number"], [2_000, "stale"], [4_000, "number"], [
        5_000,
        "stale",
      ]],
      JSON.stringify(s.labels),
    );
  }
});

test("Sampler ends the series a pass no longer finds when as many others came in its place, and not a series handed twice", async () => {
  const collector = new MetricsCollector();
  const g = new Gauge({
    name: "swap_gauge",
    help: "h",
    labelNames: ["k"],
    registers: [collector.registry],
  });
  const store = new FakeStore();
  let now = 1_000;
  const sampler = new Sampler(collector, store, {
    include: ["swap_gauge"],
    now: () => now,
  });
  const pass = async () => {
    await sampler.sampleOnce();
    now += 1000;
  };
  g.set({ k: "a" }, 1);
  g.set({ k: "b" }, 2);
  await pass(); // 1 s: a, b
  g.remove({ k: "a" });
  g.set({ k: "c" }, 3);
  await pass(); // 2 s: b, c (as many as before): a gets its marker
  await pass(); // 3 s: b, c
  const kinds = (k: string) =>
    store.find("swap_gauge", { k })[0].samples.map((
      [t, v],
    ) => [t, v === STALE ? "stale" : v]);
  assert.deepEqual(kinds("a"), [[1_000, 1], [2_000, "stale"]]);
  assert.deepEqual(kinds("b"), [[1_000, 2], [2_000, 2], [3_000, 2]]);
  assert.deepEqual(kinds("c"), [[2_000, 3], [3_000, 3]]);
});

test("Sampler makes new series when labels are set on the registry", async () => {
  const collector = new MetricsCollector();
  const store = new FakeStore();
  let now = 1_000;
  const sampler = new Sampler(collector, store, {
    include: ["weir_flows_active"],
    now: () => now,
  });
  await sampler.sampleOnce();
  collector.registry.setDefaultLabels({ instance: "gw-7" });
  now += 1000;
  await sampler.sampleOnce();
  assert.deepEqual(
    store.series.map((s) => [s.labels, s.samples]),
    [
      [{ __name__: "weir_flows_active" }, [[1_000, 0], [2_000, STALE]]],
      [{ __name__: "weir_flows_active", instance: "gw-7" }, [[2_000, 0]]],
    ],
  );
});

test(
  "Sampler's timer samples on the interval's grid and does not keep the process alive",
  {
    timeout: 30_000,
  },
  async () => {
    const script = new URL("./_timer_child.ts", import.meta.url).pathname;
    const [bin, flags] = runtimeCommand();
    const child = spawn(bin, [...flags, script], {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: new URL("../../", import.meta.url).pathname,
    });
    let out = "";
    child.stdout.on("data", (d) => out += d);
    child.stderr.on("data", (d) => out += d);
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => process.kill(child.pid!), 20_000);
      child.on("exit", (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    assert.equal(code, 0, out);
    const { times } = JSON.parse(out.trim().split("\n").at(-1)!);
    assert.ok(times.length >= 2, out);
    for (const t of times) assert.equal(t % 50, 0, out);
    for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1]);
  },
);

test("Sampler keeps each sample apart when a family's series differ in shape", async () => {
  const collector = new MetricsCollector();
  // Two histograms of one family with different buckets, then a summary-
  // like shape where the first series has fewer samples than the next.
  collector.addFamily(RESOURCE_METRICS.eventLoopLag, (o) => {
    o.histogram({ kind: "a" }, {
      bounds: [1],
      counts: [2, 1],
      sum: 3,
      count: 3,
    });
    o.histogram({ kind: "b" }, {
      bounds: [0.5, 1],
      counts: [1, 2, 4],
      sum: 9,
      count: 7,
    });
  });
  const lag = new PromHistogram({
    name: "app_lag_seconds",
    help: "Lag.",
    labelNames: ["kind"],
    buckets: [0.1, 1, 10],
    registers: [collector.registry],
  });
  lag.observe({ kind: "a" }, 0.5);
  new Gauge({
    name: "app_mixed",
    help: "Series of different shapes.",
    labelNames: ["x"],
    registers: [collector.registry],
    collect() {
      this.set({ x: "1" }, 1);
      this.set({ x: "2" }, 2);
    },
  });
  const store = new FakeStore();
  let now = 1_000;
  const sampler = new Sampler(collector, store, { now: () => now });
  await sampler.sampleOnce();
  now += 1000;
  await sampler.sampleOnce();
  const scraped = new Map<string, number>();
  for (const f of parseFamilies(await collector.render("text"))) {
    for (const s of f.samples) {
      scraped.set(FakeStore.key({ __name__: s.name, ...s.labels }), s.value);
    }
  }
  for (const s of store.series) {
    const key = FakeStore.key(s.labels);
    if (key.startsWith("weir_metrics_")) continue;
    assert.deepEqual(s.samples.map(([, v]) => v), [
      scraped.get(key),
      scraped.get(key),
    ], key);
  }
  assert.equal(
    store.find("app_lag_seconds_bucket", { le: "1" })[0].samples[1][1],
    1,
  );
  assert.equal(store.find("weir_event_loop_lag_seconds_bucket").length, 5);
  assert.deepEqual(
    store.find("weir_event_loop_lag_seconds_bucket", { kind: "b", le: "1" })[0]
      .samples,
    [[1_000, 3], [2_000, 3]],
  );
  assert.deepEqual(
    store.find("weir_event_loop_lag_seconds_count", { kind: "b" })[0].samples,
    [[1_000, 7], [2_000, 7]],
  );
  assert.equal(store.find("app_mixed").length, 2);
});

test("Sampler takes a histogram series at once and keeps what a walk sample by sample keeps (three passes; buckets or a sum left out by a filter)", async () => {
  const collector = new MetricsCollector();
  await ticks(collector, "a");
  await ticks(collector, "b");
  // What the collector hands a sink that takes every sample by add().
  const want = new Map<string, number>();
  let family = "";
  await collector.sample({
    family: (name) => {
      family = name;
    },
    add: (suffix, labels, _text, value, le) => {
      const full: Record<string, string> = { __name__: family + suffix };
      Object.assign(full, labels);
      if (le !== undefined) full.le = le;
      want.set(FakeStore.key(full), value);
    },
  });
  const buckets = [...want.keys()].filter((k) => k.includes("_bucket{"));
  assert.ok(buckets.length > 40, `only ${buckets.length} bucket series`);
  for (
    const exclude of [[], [".*_bucket"], [
      "weir_process_processing_seconds_sum",
    ]]
  ) {
    const store = new FakeStore();
    let now = 10_000;
    const sampler = new Sampler(collector, store, { exclude, now: () => now });
    for (let pass = 0; pass < 3; pass++, now += 1000) {
      await sampler.sampleOnce();
    }
    const kept = [...want.keys()].filter((k) =>
      !(exclude[0] === ".*_bucket" && k.includes("_bucket{")) &&
      !(exclude[0]?.endsWith("_sum") &&
        k.startsWith("weir_process_processing_seconds_sum{"))
    );
    assert.equal(store.series.length, kept.length, `exclude ${exclude}`);
    for (const s of store.series) {
      const key = FakeStore.key(s.labels);
      assert.ok(want.has(key), `${key} not handed by the collector`);
      assert.deepEqual(
        s.samples,
        [[10_000, want.get(key)], [11_000, want.get(key)], [
          12_000,
          want.get(key),
        ]],
        key,
      );
    }
  }
});

test("Sampler takes a collector's planned series as numbers: ids learnt once per list position, a grown list's new series from their first value, series not read left out, filters kept", async () => {
  // A collector that hands planned lists through addPlanned(), as the
  // engine families do flow by flow.
  const constLabels: Record<string, string> = { site: "a" };
  const planned = (process: string): Series => ({
    labels: { flow: "f", process },
    text: `flow="f",process="${process}"`,
    read: () => null,
  });
  const gauges = [planned("A")];
  const hists = [planned("A")];
  let gaugeValues: (number | null)[] = [5];
  let histValues: number[][] = [[1, 2, 3, 0.5, 6]];
  const le = ["0.1", "1", "+Inf"];
  const options = { constLabels };
  const collector = {
    options,
    sample(sink: SeriesSink): Promise<void> {
      sink.family("weir_depth", "gauge");
      const read: number[] = [];
      const values: number[] = [];
      gaugeValues.forEach((v, i) => {
        if (v !== null) {
          read.push(i);
          values.push(v);
        }
      });
      sink.addPlanned!(
        gauges,
        1,
        undefined,
        new Int32Array(read),
        new Float64Array(values),
        read.length,
      );
      sink.family("weir_wait_seconds", "histogram");
      sink.addPlanned!(
        hists,
        5,
        le,
        new Int32Array(hists.map((_, i) => i)),
        new Float64Array(histValues.flat()),
        hists.length,
      );
      return Promise.resolve();
    },
  } as unknown as MetricsCollector;
  const store = new FakeStore();
  let now = 1_700_000_000_000;
  const sampler = new Sampler(collector, store, {
    now: () => now,
    exclude: ["weir_wait_seconds_sum"],
  });
  await sampler.sampleOnce();
  // 1 gauge + 3 buckets + _count (the _sum is filtered out).
  assert.equal(store.series.length, 5);
  assert.deepEqual(store.find("weir_depth")[0].labels, {
    __name__: "weir_depth",
    site: "a",
    flow: "f",
    process: "A",
  });
  assert.deepEqual(
    store.find("weir_wait_seconds_bucket").map((
      s,
    ) => [s.labels.le, s.samples[0][1]]),
    [["0.1", 1], ["1", 2], ["+Inf", 3]],
  );
  assert.equal(store.find("weir_wait_seconds_count")[0].kind, "counter");
  assert.equal(store.find("weir_wait_seconds_count")[0].samples[0][1], 6);
  const calls = store.refCalls;

  // The list grows (a series admitted); the new gauge reads null at first.
  gauges.push(planned("B"));
  hists.push(planned("B"));
  gaugeValues = [6, null];
  histValues = [[1, 2, 4, 0.7, 7], [0, 1, 1, 0.2, 1]];
  now += 1000;
  await sampler.sampleOnce();
  // B's histogram is new (4 ids); B's gauge was not read: no series yet.
  assert.equal(store.refCalls, calls + 4);
  assert.equal(store.find("weir_depth", { process: "B" }).length, 0);
  gaugeValues = [7, 8];
  now += 1000;
  await sampler.sampleOnce();
  assert.equal(store.refCalls, calls + 5);
  assert.deepEqual(
    store.find("weir_depth").map((s) => s.samples.map(([, v]) => v)),
    [[5, 6, 7], [8]],
  );
  assert.deepEqual(
    store.find("weir_wait_seconds_bucket", { process: "A", le: "+Inf" })[0]
      .samples.map(([t, v]) => [t - 1_700_000_000_000, v]),
    [[0, 3], [1000, 4], [2000, 4]],
  );
  assert.equal(store.find("weir_wait_seconds_sum").length, 0);

  // Constant labels changed: every series is another one now.
  options.constLabels = { site: "b" };
  now += 1000;
  await sampler.sampleOnce();
  assert.equal(store.find("weir_depth", { site: "b" }).length, 2);
  assert.equal(store.series.length, 20);
});

test("Sampler tells a target that can reserve how many series its first pass brings, before the first one, once (filter applied)", async () => {
  const collector = new MetricsCollector();
  await ticks(collector);
  collector.addFamily(RESOURCE_METRICS.eventLoopLag, (o) => {
    o.histogram({ kind: "a" }, {
      bounds: [1],
      counts: [2, 1],
      sum: 3,
      count: 3,
    });
  });
  const jobs = new Counter({
    name: "app_jobs_total",
    help: "Jobs.",
    labelNames: ["queue"],
    registers: [collector.registry],
  });
  jobs.inc({ queue: "q1" }, 3);
  jobs.inc({ queue: "q2" }, 1);
  class ReservingStore extends FakeStore {
    /** `reserve n` and `ref` calls in order. */
    readonly calls: string[] = [];
    reserveSeries(n: number): void {
      this.calls.push(`reserve ${n}`);
    }
    override seriesRef(
      labels: Parameters<FakeStore["seriesRef"]>[0],
      kind: Parameters<FakeStore["seriesRef"]>[1],
    ): number {
      if (this.calls.at(-1) !== "ref") this.calls.push("ref");
      return super.seriesRef(labels, kind);
    }
  }
  for (const exclude of [[], [".*_bucket", "app_.*"]]) {
    const store = new ReservingStore();
    let now = 1_000;
    const sampler = new Sampler(collector, store, { exclude, now: () => now });
    await sampler.sampleOnce();
    now += 1000;
    await sampler.sampleOnce();
    assert.deepEqual(store.calls, [`reserve ${store.series.length}`, "ref"]);
    // Each kind of series the collector hands is counted: planned (the
    // engine's), histograms at once, and sample by sample.
    const names = new Set(store.series.map((s) => s.labels.__name__));
    assert.ok(names.has("weir_process_messages_total"));
    assert.ok(names.has("weir_event_loop_lag_seconds_count"));
    assert.equal(
      names.has("weir_event_loop_lag_seconds_bucket"),
      exclude.length === 0,
    );
    assert.equal(names.has("app_jobs_total"), exclude.length === 0);
  }
});
