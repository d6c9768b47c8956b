/**
 * Runs the benchmarks on Bun and on Deno and writes bench/RESULTS.md.
 *
 *   bun scripts/bench.ts                 # everything; rewrites bench/RESULTS.md
 *   bun scripts/bench.ts --print         # everything; prints, leaves the file alone
 *   bun scripts/bench.ts metrics         # only bench/metrics_bench.ts; prints
 *   bun scripts/bench.ts pipeline        # only bench/pipeline_bench.ts; prints
 *   bun scripts/bench.ts http            # only bench/http_bench.ts (wrk); prints
 *   bun scripts/bench.ts resources       # only bench/resource_bench.ts; prints
 *   bun scripts/bench.ts exe             # only bench/exe_bench.ts; prints
 *   bun scripts/bench.ts metrics --runtime=bun   # one runtime; prints
 *
 * (`npm run bench` runs the first.) A partial run (some benchmarks or one
 * runtime) only prints: RESULTS.md always holds one complete run.
 *
 * `exe` runs once, on the first runtime selected (Bun unless
 * `--runtime=deno`): it compiles the single executable and compares it with
 * `bun src/cli/main.ts` and `deno run -A src/cli/main.ts` itself.
 *
 * Each benchmark prints a line `RESULT {json}` when given `--json`; this
 * script collects those lines and renders them with the date, the runtime
 * versions, the command and the load average.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

type Runtime = "bun" | "deno";
type Part = "pipeline" | "metrics" | "http" | "resources" | "exe";

const PARTS: Record<Part, string> = {
  pipeline: "bench/pipeline_bench.ts",
  metrics: "bench/metrics_bench.ts",
  http: "bench/http_bench.ts",
  resources: "bench/resource_bench.ts",
  exe: "bench/exe_bench.ts",
};
/** Parts that compare the runtimes themselves, so run on one only. */
const ONCE: Part[] = ["exe"];
const RUNTIMES: Runtime[] = ["bun", "deno"];

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(
    `usage: bun scripts/bench.ts [--print] [--runtime=bun|deno] [PART...]
  PART: ${
      Object.keys(PARTS).join(", ")
    } (default: all, rewriting bench/RESULTS.md)
  --print            print the results, leave bench/RESULTS.md alone
  --runtime=RUNTIME  run on one runtime only (prints)
A partial run (some parts or one runtime) only prints.`,
  );
  process.exit(0);
}
// An unknown flag must not start a full run that rewrites RESULTS.md.
for (const a of argv) {
  if (a.startsWith("-") && a !== "--print" && !a.startsWith("--runtime=")) {
    throw new RangeError(
      `Cannot run benchmarks: unknown option "${a}"; use --print, --runtime=bun|deno or --help`,
    );
  }
}
const print = argv.includes("--print");
const runtimeArg = argv.find((a) => a.startsWith("--runtime="))?.slice(10);
const partArgs = argv.filter((a) => !a.startsWith("--"));
for (const a of partArgs) {
  if (!(a in PARTS)) {
    throw new RangeError(
      `Cannot run benchmarks: unknown benchmark "${a}"; choose from ${
        Object.keys(PARTS).join(", ")
      }`,
    );
  }
}
if (runtimeArg !== undefined && !RUNTIMES.includes(runtimeArg as Runtime)) {
  throw new RangeError(
    `Cannot run benchmarks: --runtime must be bun or deno, received "${runtimeArg}"`,
  );
}
const parts = (partArgs.length > 0 ? partArgs : Object.keys(PARTS)) as Part[];
const selected = runtimeArg === undefined ? RUNTIMES : [runtimeArg as Runtime];
const complete = parts.length === Object.keys(PARTS).length &&
  selected.length === RUNTIMES.length;

const runtimes: Record<Runtime, (file: string) => [string, string[]]> = {
  bun: (file) => [bin("bun"), [file, "--json"]],
  deno: (file) => [
    bin("deno"),
    ["run", "-A", "--v8-flags=--expose-gc", file, "--json"],
  ],
};

/** The command that runs a benchmark file, as RESULTS.md shows it. */
function shownCommand(rt: Runtime, file: string): string {
  return [rt, ...runtimes[rt](file)[1]].join(" ");
}

interface PipelineResult {
  runtime: string;
  messages: number;
  baselineMsgPerSec: number;
  weirMsgPerSec: number;
  speedup: number;
  memory: {
    messages: number;
    msgPerSec: number;
    heapBeforeMB: number;
    peakGrowthMB: number;
    peakLiveGrowthMB: number;
    retainedGrowthMB: number;
  };
}

/** 1-minute load average, two decimals. */
const load1 = () => Number(loadavg()[0].toFixed(2));

interface MetricsResult {
  runtime: string;
  /** 1, 5 and 15-minute load averages when the benchmark started and ended. */
  loadavg: { start: number[]; end: number[] };
  overhead: {
    messages: number;
    scrapeEveryMs: number;
    rounds: number;
    withoutMsgPerSec: number;
    withMsgPerSec: number;
    ratio: number;
    roundRatios: number[];
    scrapes: number;
    scrapesMidFlow: number;
  };
  scrape: {
    flows: number;
    processesPerFlow: number;
    tickMs: number;
    series: number;
    weirBytes: number;
    promBytes: number;
    sumsDiffering: number;
    rounds: number;
    weirMedianMs: number;
    promMedianMs: number;
    ratio: number;
    roundRatios: number[];
    roundWeirMs: number[];
    statsMedianMs: number;
    statsShare: number;
    openMetricsMs: number;
    openMetricsBytes: number;
  };
}

interface HttpResult {
  runtime: string;
  loadavg: { start: number[]; end: number[] };
  rounds: number;
  seconds: number;
  connections: number;
  soloRps: Record<string, number>;
  medianRps: Record<string, number>;
  cpuMicrosPerRequest: Record<string, number>;
  roundRps: Record<string, number[]>;
  weirVsBare: number;
  weirVsBareByRound: number[];
  weirVsHonoProm: number;
  weirVsHonoPromByRound: number[];
  honoPromVsBare: number;
  middlewareVsBare: number;
  middlewareVsBareByRound: number[];
  middlewareVsHonoProm: number;
  connVsBare: number;
  connVsBareByRound: number[];
  sent: Record<string, number>;
  counted: Record<string, number>;
  errors: number;
}

/** Load averages (1 min) seen around each benchmark run, for the report. */
const loads: string[] = [];

function runBench<T>(file: string, rt: Runtime): T {
  const [cmd, args] = runtimes[rt](file);
  const before = load1();
  process.stderr.write(`bench: ${rt} ${file} (load average ${before})\n`);
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 2 ** 20,
  });
  const line = (r.stdout ?? "").split("\n").find((l) =>
    l.startsWith("RESULT ")
  );
  if (r.status !== 0 || !line) {
    process.stderr.write(r.stdout + r.stderr);
    throw new Error(`${rt} ${file} failed (exit ${r.status})`);
  }
  loads.push(`${rt} ${file}: ${before} before, ${load1()} after`);
  return JSON.parse(line.slice("RESULT ".length));
}

function version(rt: Runtime): string {
  const r = spawnSync(bin(rt), ["--version"], { encoding: "utf8" });
  return r.stdout.split("\n")[0].trim();
}

const fmt = (n: number) => n.toLocaleString("en-US");

const pipeline = parts.includes("pipeline")
  ? selected.map((rt) => runBench<PipelineResult>(PARTS.pipeline, rt))
  : [];
const metrics = parts.includes("metrics")
  ? selected.map((rt) => runBench<MetricsResult>(PARTS.metrics, rt))
  : [];

const http = parts.includes("http")
  ? selected.map((rt) => runBench<HttpResult>(PARTS.http, rt))
  : [];

const resources = parts.includes("resources")
  ? selected.map((rt) => runBench<ResourceResult>(PARTS.resources, rt))
  : [];

const exe = parts.includes("exe")
  ? [runBench<ExeResult>(PARTS.exe, selected[0])]
  : [];

const met = (ok: boolean) => ok ? "met" : "NOT met";

function pipelineSections(results: PipelineResult[]): string {
  const targets: Record<string, number> = { bun: 2_000_000, deno: 1_000_000 };
  const target = (r: PipelineResult) => targets[r.runtime.split(" ")[0]];
  const rows = results.map((r) => {
    const ok = r.weirMsgPerSec >= target(r) && r.speedup >= 3;
    return `| ${r.runtime} | ${fmt(r.weirMsgPerSec)} | ${
      fmt(r.baselineMsgPerSec)
    } | ${r.speedup}x | ${fmt(target(r))} and 3x | ${met(ok)} |`;
  });
  const memRows = results.map((r) => {
    const m = r.memory;
    return `| ${r.runtime} | ${fmt(m.messages)} | ${
      fmt(m.msgPerSec)
    } | ${m.heapBeforeMB} | ${m.peakLiveGrowthMB} | ${m.peakGrowthMB} | ${m.retainedGrowthMB} | ${
      met(m.peakLiveGrowthMB < 20)
    } |`;
  });
  return `## Pipeline throughput (issue: engine core)

source -> 5 x map(value + 1) -> counting sink, ${
    fmt(results[0].messages)
  } messages, capacity 10, statistics on.
Baseline: the same pipeline hand-written as async functions joined by bounded
async queues (\`bench/_pipeline.ts\`), measured by mitata in the same run.
Figures are mitata's mean time per run turned into messages per second.
weir's statistics cannot be switched off: every message is counted per port
and connection, queue waits and source-to-sink latency go into histograms,
and processing time is sampled (see \`src/engine/network.ts\`).

| runtime | weir msg/s | baseline msg/s | weir / baseline | target | |
|---|---|---|---|---|---|
${rows.join("\n")}

## Pipeline memory

The same pipeline with ${
    fmt(results[0].memory.messages)
  } messages. The heap is read every 10 ms during the run;
every 50 ms after a full collection ("live": what the run keeps, which must
stay bounded by the capacities). "raw" includes garbage not yet collected.
Bun reports JSC's heap size (\`bun:jsc\` heapStats, which moves at its
collections), Deno V8's heapUsed. The msg/s of this run includes the forced
collections.

| runtime | messages | msg/s | heap before (MB) | peak live growth (MB) | peak raw growth (MB) | retained after (MB) | < 20 MB |
|---|---|---|---|---|---|---|---|
${memRows.join("\n")}
`;
}

function metricsSections(results: MetricsResult[]): string {
  const load = (r: MetricsResult) =>
    `${r.loadavg.start[0]} / ${r.loadavg.end[0]}`;
  const o0 = results[0].overhead;
  const s0 = results[0].scrape;
  const overheadRows = results.map((r) => {
    const o = r.overhead;
    return `| ${r.runtime} | ${fmt(o.withoutMsgPerSec)} | ${
      fmt(o.withMsgPerSec)
    } | ${o.ratio}x (${o.roundRatios.join(", ")}) | ${o.scrapesMidFlow} | ${
      load(r)
    } | >= 0.9x | ${met(o.ratio >= 0.9)} |`;
  });
  const scrapeRows = results.map((r) => {
    const s = r.scrape;
    const bun = r.runtime.startsWith("bun");
    const ok = s.ratio <= 1.2 && (!bun || s.weirMedianMs < 50);
    return `| ${r.runtime} | ${s.weirMedianMs} (${
      s.roundWeirMs.join(", ")
    }) | ${s.promMedianMs} | ${s.ratio}x (${s.roundRatios.join(", ")}) | ${
      fmt(s.series)
    } | ${fmt(s.weirBytes)} / ${fmt(s.promBytes)} | ${s.statsMedianMs} (${
      Math.round(s.statsShare * 100)
    }%) | ${s.openMetricsMs} | ${load(r)} | ${
      bun ? "<= 1.2x and < 50 ms" : "<= 1.2x"
    } | ${met(ok)} |`;
  });
  return `## Metrics overhead (collector scraped every ${o0.scrapeEveryMs} ms)

The pipeline of the throughput benchmark (${
    fmt(o0.messages)
  } messages, \`bench/_pipeline.ts\`)
with a \`MetricsCollector\` tracking each run's network and a timer calling
\`render("text")\` every ${o0.scrapeEveryMs} ms while the messages flow, against the same
pipeline with no collector (\`bench/metrics_bench.ts\`). A scrape every
${o0.scrapeEveryMs} ms is far harsher than Prometheus's usual 15 s interval. Both sides
run in the same mitata run, ${o0.rounds} rounds (without then with, then the other
way round, and so on), after 10 warm-up runs of each taken alternately (so
that neither side pays for the compilation). A round's figure is mitata's
mean time per run: a run lasts about 50 ms, so only some runs hold a scrape, and
the mean spreads its cost where the median would hide it. The table gives
the median over the rounds, as messages per second, and the ratio of each
round. "scrapes": scrapes made while a network was tracked, i.e. while its
messages flowed. "load": the 1-minute load average when the runtime's
metrics benchmark started / ended (2 cores; other work may share them).
The load average does not see the host's other guests: the same pipeline
was measured at 46 ms and at 80 ms a run minutes apart on a quiet machine,
which is why every comparison runs in rounds and reports their median.

| runtime | no collector msg/s | with collector msg/s | with / without (by round) | scrapes | load | target | |
|---|---|---|---|---|---|---|---|
${overheadRows.join("\n")}

## Scrape cost: ${s0.flows} flows x ${s0.processesPerFlow} processes

${s0.flows} flows, each a \`core/Interval\` source ticking every ${s0.tickMs} ms feeding ${
    s0.processesPerFlow - 1
  }
\`core/Repeat\` stages (built with \`createNetwork\`), all running and tracked by
one collector, 2 s of ticks before the first scrape. weir:
\`collector.render("text")\` of the live flows. Baseline: prom-client alone,
\`registry.metrics()\` of a prom-client \`Registry\` of \`Counter\`, \`Gauge\` and
\`Histogram\` objects built once, before the benchmark, from the collector's
own exposition: same names, help, types, label sets and values. Its
histograms are filled by observing one value per counted observation at the
upper bound of its bucket, so every \`_bucket\` and \`_count\` matches but
\`_sum\` differs (${fmt(s0.sumsDiffering)} sums on ${
    results[0].runtime
  }); the benchmark checks that
every other sample is equal. prom-client writes a bucket's \`le\` label
first, weir last (both valid). The flows keep ticking during the
measurement, as under a real scrape, and are stopped at the end.

Both sides run in the same mitata run, ${s0.rounds} rounds, in alternate order;
a round's figure is mitata's median, the table gives the median over the
rounds (ms) and each round. "series": sample lines of weir's body; "bytes":
its UTF-8 size, weir / prom-client (the \`_sum\` digits differ). "stats()":
median time of \`network.stats()\` of the ${s0.flows} flows, measured on its own in
each round: the engine's part of weir's render (its share in brackets); the
rest is writing the text. "OpenMetrics": one \`render("openmetrics")\` after
the benchmark. "load" as above.

| runtime | weir ms (by round) | prom-client ms | weir / prom-client (by round) | series | bytes | stats() (ms) | OpenMetrics (ms) | load | target | |
|---|---|---|---|---|---|---|---|---|---|---|
${scrapeRows.join("\n")}
`;
}

/** What bench/resource_bench.ts prints. */
interface ResourceResult {
  runtime: string;
  loadavg: { start: number[]; end: number[] };
  tick: {
    fullMedianUs: number;
    noTcpMedianUs: number;
    readingsUs: Record<string, number>;
  };
  share: {
    windowMs: number;
    rounds: number;
    tickMs: number;
    idleCpuMsPerWindow: number;
    tickCpuUs: number;
    samplerPctAt5s: number;
    measuredSamplerPctAt5s: number;
    defaultsWindowMs: number;
    idleCpuMsPerDefaultsWindow: number;
    idleCpuMsPerWindowByProcess: number[];
    defaultsCpuMsPerWindow: number[];
    lagPeriodsMs: number[];
    defaultsPct: number;
  };
}

function resourceSections(results: ResourceResult[]): string {
  const s0 = results[0].share;
  const tickRows = results.map((r) => {
    const t = r.tick;
    const parts = Object.entries(t.readingsUs).map(([k, v]) => `${k} ${v}`)
      .join(", ");
    return `| ${r.runtime} | ${t.noTcpMedianUs} | ${t.fullMedianUs} | ${parts} | ${
      r.loadavg.start[0]
    } / ${r.loadavg.end[0]} | ${met(t.noTcpMedianUs <= 1000)} |`;
  });
  const shareRows = results.map((r) => {
    const s = r.share;
    return `| ${r.runtime} | ${s.samplerPctAt5s}% | ${s.tickCpuUs} µs (${s.measuredSamplerPctAt5s}%) | ${
      s.idleCpuMsPerWindowByProcess.join(", ")
    } ms | ${s.defaultsCpuMsPerWindow.join(", ")} ms | ${
      s.lagPeriodsMs.join(", ")
    } ms | **${s.defaultsPct}%** | ${met(s.defaultsPct < 0.1)} |`;
  });
  return `## Resource tracker: cost of a tick (issue 5)

\`bench/resource_bench.ts\`: mitata's median of one \`tracker.sample()\` of
this process, with every reading ("full") and without the TCP sockets
(what most timer ticks do: the sockets are read every \`tcpIntervalMs\`,
60 s by default, i.e. every 12th tick at the default 5 s interval), and of
each reading alone (µs). Listing the TCP sockets makes the kernel walk its
whole connection table (\`/proc/net/tcp\` and \`tcp6\`): on this VM each
read that reaches the end of a file costs about 2 ms however few sockets
there are (a read of the header alone costs 30 µs), so weir reads each in
as few calls as it takes (\`readFileSync\` makes one more, to see the end).

| runtime | tick without TCP (µs) | full tick (µs) | readings (µs) | load | target <= 1 ms | |
|---|---|---|---|---|---|---|
${tickRows.join("\n")}

## Resource tracker: share of one core

"sampler at 5 s": (tick without TCP + a 12th of the TCP read) / 5 s, from
the medians above. "measured": the tracker sampling every ${s0.tickMs} ms with
every reading each tick (TCP included) for ${s0.windowMs / 1000} s, its
\`process.cpuUsage()\` less that of the same time idle (medians of ${s0.rounds}
alternating rounds), per tick, and that tick scaled to 5 s: an upper bound.
"defaults": a tracker with its defaults (a sample every 5 s, TCP every
60 s, the lag timer at 40 ms backing off once the process has idled for
2 s and resting past 1 s, the sample ticks then measuring the lag) started 4 s before a window of ${
    s0.defaultsWindowMs / 1000
  } s (which
so holds one TCP read): its process's CPU time in the window, the lag
timer's period at the window's end, and that CPU time less that of as
long idle ("share", of one core: medians of three idle and three tracking
processes of their own, run side by side before anything else). Each wake-up of a timer costs an idle process 0.1 to 0.3 ms
of CPU on this VM, so a lag timer at 40 ms (needed to record a 200 ms
block as at least 150 ms) would cost 0.4 to 0.7 % of a core on its own:
hence the back-off and the rest, which keep full resolution while the
process works and for 2 s after.

| runtime | sampler at 5 s | measured tick (share at 5 s) | idle over the window | defaults in the window | lag period | defaults share | target < 0.1 % |
|---|---|---|---|---|---|---|---|
${shareRows.join("\n")}
`;
}

function httpSections(results: HttpResult[]): string {
  const r0 = results[0];
  const rows = results.map((r) => {
    const solo = r.soloRps;
    const cpu = r.cpuMicrosPerRequest;
    const ok = r.weirVsBare >= 0.9 && r.weirVsHonoProm >= 1;
    const us = (n: string) => `${cpu[n]} µs`;
    return `| ${r.runtime} | ${fmt(solo.bare)} / ${us("bare")} | ${
      fmt(solo.weir)
    } / ${us("weir")} | ${fmt(solo["hono-prom"])} / ${
      us("hono-prom")
    } | **${r.weirVsBare}x** (${
      r.weirVsBareByRound.join(", ")
    }) | ${r.weirVsHonoProm}x | ${r.middlewareVsBare}x / ${
      us("weir-mw")
    } (${r.middlewareVsHonoProm}x @hono/prometheus) | ${r.connVsBare}x / ${
      us("weir+conn")
    } | ${r.honoPromVsBare}x | ${r.loadavg.start[0]} / ${
      r.loadavg.end[0]
    } | >= 0.9x bare and >= 1x @hono/prometheus | ${met(ok)} |`;
  });
  const counts = results.map((r) =>
    `${r.runtime}: ${
      Object.entries(r.counted).map(([k, v]) =>
        `${k} counted ${fmt(v)} of ${fmt(r.sent[k])}`
      ).join(", ")
    }; wrk errors ${r.errors}`
  );
  return `## HTTP metrics overhead (wrk)

Five Hono servers answering \`GET /\` with \`ok\`, each in its own process
of the runtime under test, served by weir's \`serve()\`
(\`bench/http_bench.ts\`): Hono alone ("bare"); measured by weir's
\`httpMetricsFetch()\` around the app's fetch ("weir", what \`weir serve\`
runs); with weir's \`httpMetrics()\` middleware ("weir middleware": any
middleware makes Hono leave its fast path); with \`@hono/prometheus\`'s
\`registerMetrics\` middleware; and "weir" plus
\`connectionMetrics(server.connections)\` ("+conn": each request reports its
peer, the sockets are read every 0.5 s).

How: the servers are pinned to core 1 and wrk (\`wrk -t1 -c${r0.connections}\`)
to core 0 (\`taskset\`). Each server first runs alone for 2 s ("solo"
req/s). Then, in each of ${r0.rounds} rounds, each server runs at the same
time as bare for ${r0.seconds} s, two wrk processes driving them: the two
share core 1 equally, so the requests each serves in the same window
compare their costs, and whatever slows the core slows both. (Run one
after the other, as this benchmark did before, one server against itself
moved between 0.5x and 1.4x from round to round on this VM.) Ratios are the
medians over the rounds of the ratio in each window (all rounds in
brackets for weir); "µs" is the server's CPU time per request (median of
its windows, from \`/proc/PID/stat\`). weir / @hono/prometheus divides the
two ratios to bare of the same round. After the rounds each metrics server
is scraped to check that it counted the requests wrk made
(${counts.join("; ")}).

| runtime | bare solo req/s / CPU | weir solo / CPU | @hono/prometheus solo / CPU | weir / bare | weir / @hono/prometheus | weir middleware / bare | weir +conn / bare | @hono/prometheus / bare | load | target | |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}
`;
}

/** What bench/exe_bench.ts prints. */
interface ExeRss {
  rssMB: number;
  anonMB: number;
  fileMB: number;
  rssByRoundMB: number[];
}
interface ExeResult {
  runtime: string;
  date: string;
  loadavg: { start: number[]; end: number[] };
  build: { ms: number; bytes: number; MB: number };
  cross: { name: string; bytes: number; MB: number }[];
  runtimeBytes: { bun: number; deno: number };
  starts: number;
  memoryRounds: number;
  idleWaitMs: number;
  loadedWaitMs: number;
  reads: number;
  readSpanMs: number;
  flows: number;
  processesPerFlow: number;
  tick: string;
  targets: { startMs: number; idleMB: number; loadedMB: number };
  results: Record<"binary" | "bun" | "deno", {
    command: string;
    start: { medianMs: number; minMs: number; maxMs: number; ms: number[] };
    idle: ExeRss;
    loaded: ExeRss & { cpuPct: number; sinkMsgPerSecPerFlow: number };
  }>;
}

/** How this script was started, for the exe section. */
const invocation = [
  process.versions.bun !== undefined
    ? "bun scripts/bench.ts"
    : "deno run -A scripts/bench.ts",
  ...argv,
].join(" ");

function exeSection(r: ExeResult): string {
  const { binary, bun, deno } = r.results;
  const t = r.targets;
  const all = [binary, bun, deno];
  const mbOf = (bytes: number) => (bytes / 1e6).toFixed(1);
  const rss = (m: ExeRss) =>
    `${m.rssMB} (${m.anonMB} / ${m.fileMB}) [${m.rssByRoundMB.join(", ")}]`;
  const row = (
    name: string,
    cell: (x: typeof binary) => string,
    target = "",
    ok?: boolean,
  ) =>
    `| ${name} | ${all.map(cell).join(" | ")} | ${target} | ${
      ok === undefined ? "" : met(ok)
    } |`;
  const rows = [
    `| size | **${r.build.MB} MB** (${
      fmt(r.build.bytes)
    } bytes) | runtime alone: ${mbOf(r.runtimeBytes.bun)} MB (${
      fmt(r.runtimeBytes.bun)
    } bytes), plus the source tree and node_modules | runtime alone: ${
      mbOf(r.runtimeBytes.deno)
    } MB (${
      fmt(r.runtimeBytes.deno)
    } bytes), plus the source tree and node_modules | | |`,
    row(
      "start: spawn to first /healthz 200 (ms), median (min - max)",
      (x) => `**${x.start.medianMs}** (${x.start.minMs} - ${x.start.maxMs})`,
      `<= ${t.startMs} ms`,
      binary.start.medianMs <= t.startMs,
    ),
    row(
      "idle VmRSS (MB): median (RssAnon / RssFile) [each process]",
      (x) => rss(x.idle),
      `<= ${t.idleMB} MB`,
      binary.idle.rssMB <= t.idleMB,
    ),
    row(
      `loaded VmRSS (MB), ${r.flows} flows x ${r.processesPerFlow} processes`,
      (x) => rss(x.loaded),
      `<= ${t.loadedMB} MB`,
      binary.loaded.rssMB <= t.loadedMB,
    ),
    row("loaded CPU (% of one core)", (x) => `${x.loaded.cpuPct}`),
    row(
      "loaded: sinks' msg/s per flow",
      (x) => `${x.loaded.sinkMsgPerSecPerFlow}`,
    ),
  ];
  const cross = r.cross.length > 0
    ? `Cross-compiled executables found in \`dist/\` (built earlier by
\`bun scripts/compile.ts --all\`, not by this benchmark; sizes as found): ${
      r.cross.map((c) => `\`${c.name}\` ${c.MB} MB (${fmt(c.bytes)} bytes)`)
        .join(", ")
    }.`
    : `Only this machine's executable: no \`dist/weir-linux-*\` found (\`bun scripts/compile.ts --all\` builds them).`;
  return `## Single executable: size, start and memory

\`bench/exe_bench.ts\` compiles \`src/cli/main.ts\` with \`compile()\` of
\`scripts/compile.ts\` (what \`bun scripts/compile.ts\` writes to
\`dist/weir\` for this machine: minified, bytecode; ${r.build.ms} ms), copies
the executable alone into a fresh temporary directory and runs it from
there (its working directory), so that it cannot read the source tree. In
the same run it starts the same entry point as \`${bun.command}\` and
\`${deno.command}\` from the repository. Each is started as
\`<cmd> serve --listen 127.0.0.1:<free port> --db :memory:\`, its output
discarded, and stopped by its pid (SIGTERM; SIGKILL after 10 s).

- Run: ${r.date}, \`${invocation}\` (which ran \`${
    shownCommand(selected[0], PARTS.exe)
  }\`)
- Runtimes: bun ${version("bun")}, ${version("deno")}
- Machine: ${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}
- Load average (1 min): ${r.loadavg.start[0]} before, ${r.loadavg.end[0]} after

"start": from \`spawn()\` to the first \`GET /healthz\` answered 200, polled
with \`fetch\` in a loop that asks again at once; one warm-up start of each
(not counted: caches), then ${r.starts} rounds of one start of each, executable,
bun, deno in turn, so that the machine's drift hits all three. "idle":
VmRSS ${
    r.idleWaitMs / 1000
  } s after the first 200, the largest of ${r.reads} reads of \`/proc/PID/status\` over
${
    r.readSpanMs / 1000
  } s, with its RssAnon and RssFile (file pages: the executable's or the
runtime's code). "loaded": the same process then gets ${r.flows} flows by
\`POST /flows\` (.fbp text: a \`core/Interval\` ticking every ${r.tick} into 8
\`core/Repeat\` and a \`core/Drop\`, ${r.processesPerFlow} processes a flow; each POST
answered 201 and \`GET /flows\` listed ${r.flows} flows running), then VmRSS
after ${
    r.loadedWaitMs / 1000
  } s of running, read the same way. "CPU": the process's CPU time over
those ${
    (r.loadedWaitMs + r.readSpanMs) / 1000
  } s, as a share of one core; "sinks": messages the sinks took between a
\`/metrics\` scrape before that wait and one after, per flow and second
(${
    1000 / parseInt(r.tick)
  } is every tick). Memory figures are medians over ${r.memoryRounds}
processes of each (each process's VmRSS in brackets). MB are 10^6 bytes.

| | weir executable | ${bun.command} | ${deno.command} | target (executable) | |
|---|---|---|---|---|---|
${rows.join("\n")}

Starts (ms): ${
    (["binary", "bun", "deno"] as const).map((k) =>
      `${k === "binary" ? "executable" : k} ${r.results[k].start.ms.join(", ")}`
    ).join("; ")
  }.

${cross}
`;
}

const runs = parts.flatMap((part) =>
  (ONCE.includes(part) ? selected.slice(0, 1) : selected).map((rt) =>
    `\`${shownCommand(rt, PARTS[part])}\``
  )
);

const text = `# Benchmark results

Written by \`npm run bench\` (\`bun scripts/bench.ts\`, which runs ${
  runs.join(", ")
}, one after the other). \`bun scripts/bench.ts metrics\` runs (and prints) only
the metrics benchmarks.

- Date: ${new Date().toISOString()}
- Runtimes: ${
  selected.map((rt) => rt === "bun" ? `bun ${version(rt)}` : version(rt))
    .join(", ")
}
- Machine: ${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}
- Load average (1 min) around each run: ${loads.join("; ")}

${
  [
    pipeline.length > 0 ? pipelineSections(pipeline) : "",
    metrics.length > 0 ? metricsSections(metrics) : "",
    http.length > 0 ? httpSections(http) : "",
    resources.length > 0 ? resourceSections(resources) : "",
    exe.length > 0 ? exeSection(exe[0]) : "",
  ].filter(Boolean).join("\n")
}`;

/**
 * The section of RESULTS.md that `bench/versus.ts` runs fill in by hand
 * (a comparison with an earlier commit, not part of a full run): kept
 * as it is when a full run rewrites the file.
 */
const VERSUS_HEADING = "## Side by side with an earlier commit";

function keptVersusSection(file: string): string {
  if (!existsSync(file)) return "";
  const old = readFileSync(file, "utf8");
  const at = old.indexOf(VERSUS_HEADING);
  return at < 0 ? "" : "\n" + old.slice(at);
}

if (print || !complete) process.stdout.write(text);
else {
  const file = join(root, "bench", "RESULTS.md");
  writeFileSync(file, text + keptVersusSection(file));
  process.stdout.write(text);
}
