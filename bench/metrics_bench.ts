/**
 * Metrics benchmarks, each side by side with its baseline in one mitata run.
 *
 * 1. Overhead: the 5-stage pipeline of `pipeline_bench.ts` (200,000
 *    messages) with a `MetricsCollector` tracking the network and scraping
 *    it (`render("text")`) every 100 ms while the messages flow, against
 *    the same pipeline with no collector.
 * 2. Scrape cost: 100 flows of 10 processes (a `core/Interval` source
 *    ticking every 50 ms feeding 9 `core/Repeat` stages) running and
 *    tracked by one collector: `collector.render("text")` against
 *    prom-client alone rendering (`registry.metrics()`) a prom-client
 *    `Registry` of `Counter`, `Gauge` and `Histogram` objects rebuilt from
 *    the collector's own exposition. Also times `network.stats()` of the
 *    100 flows (the engine's part of a scrape) and one OpenMetrics render.
 *
 * Run: `bun bench/metrics_bench.ts` or
 * `deno run -A --v8-flags=--expose-gc bench/metrics_bench.ts`;
 * `--json` prints one machine-readable line for `scripts/bench.ts`;
 * `--part=overhead` or `--part=scrape` runs one of the two.
 *
 * @module
 */
import { bench, do_not_optimize, run, summary } from "mitata";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { parseFamilies } from "../tests/metrics/_exposition.ts";
import {
  byteLength,
  promRegistryFrom,
  sampleLines,
  startFlows,
} from "./_metrics.ts";
import { expectedSum, type PipelineRun, weirPipeline } from "./_pipeline.ts";
import { runtime } from "./_runtime.ts";
import { loadAverage } from "./_measure.ts";

const N = 200_000;
const SCRAPE_EVERY_MS = 100;
/** Runs of each pipeline before the overhead benchmark. */
const WARMUP_RUNS = 10;
/**
 * Each comparison runs this many times in the mitata run (A B, B A, A B, ...);
 * figures are the medians over the rounds, so a slow spell of the machine
 * during one benchmark does not decide them (the same pipeline took 46 ms
 * or 80 ms a run, minutes apart, with a quiet load average: the host is
 * shared).
 */
const ROUNDS = 5;
const FLOWS = 100;
const STAGES = 9;
const TICK_MS = 50;
/** Time the flows run before the registry is rebuilt from their exposition. */
const WARMUP_MS = 2_000;

const argv: string[] = globalThis.process?.argv ?? [];
const json = argv.includes("--json");
const part = argv.find((a) => a.startsWith("--part="))?.slice(7) ?? "all";
if (!["all", "overhead", "scrape"].includes(part)) {
  throw new RangeError(
    `Cannot run: --part must be overhead or scrape, received ${part}`,
  );
}
const loadStart = loadAverage();

function check(r: PipelineRun, n: number): void {
  if (r.count !== n || r.sum !== expectedSum(n)) {
    throw new Error(
      `pipeline lost or changed messages: count ${r.count}, sum ${r.sum}`,
    );
  }
}

async function runPipeline(
  collector?: MetricsCollector,
): Promise<PipelineRun> {
  const { net, result } = weirPipeline(N);
  collector?.track(net);
  await net.start();
  await net.finished;
  collector?.untrack(net);
  return result;
}

// ---- 1. Overhead of a collector scraped every 100 ms ----

const NO_COLLECTOR = "weir pipeline, no collector";
const WITH_COLLECTOR =
  `weir pipeline + collector, render("text") every ${SCRAPE_EVERY_MS} ms`;

type RunResult = Awaited<ReturnType<typeof run>>;

function statsOf(r: RunResult, name: string) {
  const s = r.benchmarks.find((b) => b.alias === name)?.runs[0].stats;
  if (!s) throw new Error(`benchmark "${name}" did not run`);
  return s;
}

const rounds = Array.from({ length: ROUNDS }, (_, i) => i + 1);
const round = (name: string, r: number) => `${name} (round ${r})`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const r3 = (x: number) => Number(x.toFixed(3));

/**
 * Registers a round's two benchmarks, the baseline first in odd rounds and
 * second in even ones, so neither side always runs first.
 */
function inTurn(r: number, baseline: () => void, other: () => void): void {
  if (r % 2 === 1) {
    baseline();
    other();
  } else {
    other();
    baseline();
  }
}

/** Throughput with and without a collector scraping every 100 ms. */
async function overheadBench() {
  let scrapes = 0;
  let scrapesMidFlow = 0;
  // Both pipelines, alternately, until the engine's code is optimized, so
  // the side measured first does not pay for the compilation.
  const warm = new MetricsCollector();
  for (let i = 0; i < WARMUP_RUNS; i++) {
    check(await runPipeline(), N);
    check(await runPipeline(warm), N);
  }
  const without = (r: number) =>
    bench(round(NO_COLLECTOR, r), async () => {
      const result = await runPipeline();
      check(result, N);
      do_not_optimize(result);
    }).baseline(true);
  const withCollector = (r: number) =>
    bench(round(WITH_COLLECTOR, r), function* () {
      // One long-lived collector, as in a server: each run's network is
      // tracked for the run, and the timer scrapes whatever is tracked.
      const collector = new MetricsCollector();
      const timer = setInterval(() => {
        const midFlow = collector.flows.length > 0;
        collector.render("text").then((text) => {
          scrapes++;
          if (midFlow) scrapesMidFlow++;
          do_not_optimize(text);
        });
      }, SCRAPE_EVERY_MS);
      yield async () => {
        const result = await runPipeline(collector);
        check(result, N);
        do_not_optimize(result);
      };
      clearInterval(timer);
    });
  for (const r of rounds) {
    summary(() => inTurn(r, () => without(r), () => withCollector(r)));
  }
  const out = await run(json ? { format: "quiet" } : {});
  // Mean time per run: a run lasts about 50 ms, so only some runs hold a
  // scrape; the mean spreads its cost where the median would hide it.
  const withoutNs = rounds.map((r) => statsOf(out, round(NO_COLLECTOR, r)).avg);
  const withNs = rounds.map((r) => statsOf(out, round(WITH_COLLECTOR, r)).avg);
  const ratios = rounds.map((_, i) => withoutNs[i] / withNs[i]);
  if (scrapesMidFlow === 0) {
    throw new Error("no scrape happened while messages flowed");
  }
  return {
    messages: N,
    scrapeEveryMs: SCRAPE_EVERY_MS,
    rounds: ROUNDS,
    withoutMsgPerSec: Math.round(N / (median(withoutNs) / 1e9)),
    withMsgPerSec: Math.round(N / (median(withNs) / 1e9)),
    ratio: r3(median(ratios)),
    roundRatios: ratios.map(r3),
    scrapes,
    scrapesMidFlow,
  };
}

// ---- 2. Scrape cost: 100 flows x 10 processes ----

const PROM = "prom-client alone: registry.metrics()";
const WEIR = 'weir: collector.render("text")';
const STATS = `network.stats() of the ${FLOWS} flows (inside weir's render)`;

/** weir's render of 100 running flows against prom-client's of the same series. */
async function scrapeBench() {
  const collector = new MetricsCollector();
  const nets = await startFlows(collector, {
    flows: FLOWS,
    stages: STAGES,
    tickMs: TICK_MS,
  });
  try {
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const snapshot = await collector.render("text");
    const metadata = collector.metadata();
    const registry = promRegistryFrom(
      snapshot,
      (name) => metadata[name]?.[0]?.labels ?? [],
    );
    const promText = await registry.metrics();
    const sumsDiffering = sameSeries(snapshot, promText);
    checkAlive(snapshot);

    for (const r of rounds) {
      summary(() =>
        inTurn(
          r,
          () =>
            bench(round(PROM, r), async () => {
              do_not_optimize(await registry.metrics());
            }).baseline(true),
          () =>
            bench(round(WEIR, r), async () => {
              do_not_optimize(await collector.render("text"));
            }),
        )
      );
      bench(round(STATS, r), () => {
        for (const n of nets) do_not_optimize(n.stats());
      });
    }
    const out = await run(json ? { format: "quiet" } : {});

    let t0 = performance.now();
    const om = await collector.render("openmetrics");
    const openMetricsMs = performance.now() - t0;
    t0 = performance.now();
    const text = await collector.render("text");
    const lastTextMs = performance.now() - t0;
    checkAlive(text);
    if (nets.some((n) => n.state !== "running")) {
      throw new Error("a flow stopped during the benchmark");
    }

    const ms = (ns: number) => Number((ns / 1e6).toFixed(2));
    const p50s = (name: string) =>
      rounds.map((r) => statsOf(out, round(name, r)).p50);
    const weirP50 = p50s(WEIR);
    const promP50 = p50s(PROM);
    const ratios = rounds.map((_, i) => weirP50[i] / promP50[i]);
    const weirNs = median(weirP50);
    const statsNs = median(p50s(STATS));
    return {
      flows: FLOWS,
      processesPerFlow: STAGES + 1,
      tickMs: TICK_MS,
      series: sampleLines(text).length,
      weirBytes: byteLength(text),
      promBytes: byteLength(promText),
      sumsDiffering,
      rounds: ROUNDS,
      weirMedianMs: ms(weirNs),
      promMedianMs: ms(median(promP50)),
      ratio: r3(median(ratios)),
      roundRatios: ratios.map(r3),
      roundWeirMs: weirP50.map(ms),
      statsMedianMs: ms(statsNs),
      statsShare: r3(statsNs / weirNs),
      lastTextMs: Number(lastTextMs.toFixed(2)),
      openMetricsMs: Number(openMetricsMs.toFixed(2)),
      openMetricsBytes: byteLength(om),
    };
  } finally {
    await Promise.all(nets.map((n) => n.stop()));
  }
}

const summaryLine = {
  runtime: runtime(),
  loadavg: { start: loadStart, end: [] as number[] },
  overhead: part === "scrape" ? null : await overheadBench(),
  scrape: part === "overhead" ? null : await scrapeBench(),
};
summaryLine.loadavg.end = loadAverage();
if (json) console.log(`RESULT ${JSON.stringify(summaryLine)}`);
else console.log(summaryLine);

/**
 * Checks that prom-client's text holds the same samples as weir's, in the
 * same order, `_sum` values aside (prom-client writes a histogram bucket's
 * `le` first, weir last: both are valid). Returns how many `_sum` differ.
 */
function sameSeries(weir: string, prom: string): number {
  const a = parseFamilies(weir);
  const b = parseFamilies(prom);
  const key = (name: string, l: Record<string, string>) =>
    `${name}{${
      Object.keys(l).sort().map((k) => `${k}=${JSON.stringify(l[k])}`).join()
    }}`;
  if (a.length !== b.length) {
    throw new Error(`prom-client has ${b.length} families, weir ${a.length}`);
  }
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const fa = a[i];
    const fb = b[i];
    if (
      fa.name !== fb.name || fa.type !== fb.type || fa.help !== fb.help ||
      fa.samples.length !== fb.samples.length
    ) {
      throw new Error(`family ${fa.name} differs from prom-client's`);
    }
    for (let j = 0; j < fa.samples.length; j++) {
      const x = fa.samples[j];
      const y = fb.samples[j];
      if (key(x.name, x.labels) !== key(y.name, y.labels)) {
        throw new Error(
          `sample ${key(x.name, x.labels)} differs from prom-client's ${
            key(y.name, y.labels)
          }`,
        );
      }
      if (x.value === y.value) continue;
      if (!x.name.endsWith("_sum")) {
        throw new Error(
          `${key(x.name, x.labels)} is ${x.value}, prom-client's ${y.value}`,
        );
      }
      differing++;
    }
  }
  return differing;
}

/** Throws unless every flow ticked and its histograms hold observations. */
function checkAlive(exposition: string): void {
  const families = parseFamilies(exposition);
  const samples = (name: string) =>
    families.find((f) => f.name === name)?.samples ?? [];
  const ticks = samples("weir_process_messages_total").filter((s) =>
    s.labels.process === "Tick" && s.labels.port === "out"
  );
  const waits = samples("weir_process_message_latency_seconds").filter((s) =>
    s.name.endsWith("_count") && s.labels.process === `R${STAGES}`
  );
  if (
    ticks.length !== FLOWS || ticks.some((s) => s.value < 10) ||
    waits.length !== FLOWS || waits.some((s) => s.value < 10)
  ) {
    throw new Error("the flows are not all running with 10 ticks or more");
  }
}
