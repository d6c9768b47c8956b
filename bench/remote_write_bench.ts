/**
 * Remote write's cost (issue 17), against a real Prometheus (Debian's
 * `prometheus`, started here with `--web.enable-remote-write-receiver` on
 * a free port of 127.0.0.1, stopped at the end):
 *
 *   bun bench/remote_write_bench.ts                  # both parts
 *   bun bench/remote_write_bench.ts --part=cost      # --seconds=300 --warmup=60
 *                                         # --pairs=3
 *                                         # --deadline=MS: batchDeadlineMs
 *                                         # --with-fetch: as many children
 *                                         # more that send with the
 *                                         # runtime's fetch (useFetch)
 *                                         # --with-deadline=MS: as many
 *                                         # children more that send with
 *                                         # batchDeadlineMs MS
 *                                         # --with-stub: as many children
 *                                         # more whose fetch answers 204
 *                                         # at once
 *   bun bench/remote_write_bench.ts --part=catchup   # --minutes=60 --shards=N
 *   bun bench/remote_write_bench.ts --part=serve     # weir serve, demo flow
 *   bun bench/remote_write_bench.ts --part=ops       # in process, per second
 *   bun bench/remote_write_bench.ts --part=memory    # what a writer holds
 *   (Deno: deno run -A --v8-flags=--expose-gc ... --part=memory)
 *   deno run -A bench/remote_write_bench.ts ...      # the same on Deno
 *
 * cost: children side by side, each the 100 flows x 10 processes set-up
 * of the scrape benchmark (`startFlows` of `_metrics.ts`) with a
 * `History` on disk sampling every 1 s; `--pairs` (default 3) of them
 * also run a `RemoteWriter` to the Prometheus (each with its own
 * `device` external label), as many do not (the baseline): one child's
 * flows alone differ from another's by a few tenths of a point, so each
 * side is the mean of its children.
 * After `--warmup` seconds (default 60), each child's CPU time (all
 * threads, from /proc) over `--seconds` (default 300), and minute by
 * minute: the difference is what sending costs while caught up (the
 * issue's goal: at most 1% of one core). One minute's difference swings
 * by a few tenths of a point (the history's flushes and head-log
 * rewrites, the collections, fall in one child's minute and not the
 * other's), so the figure is the whole window's. Each sending child
 * reports its writer's counters (samples, requests, lag).
 *
 * catchup: the series of that set-up (their label sets, taken from a
 * short run of it in a child) given `--minutes` of history at 1 s in a
 * store on disk (simulated time ending now, values as weir's counters and
 * gauges move), then one `RemoteWriter` from the oldest sample to the
 * Prometheus, timed until caught up (the issue's goal: one hour in at
 * most 2 minutes), with this process's CPU and Prometheus's over the same
 * time, and Prometheus's count of what it received.
 *
 * ops: in this process, what sending costs per second of the set-up's
 * series while caught up, without the flows around it: a store in memory
 * fed one simulated second at a time (`--ops-seconds`, default 120), with
 * no writer, with a writer whose `fetch` answers 204 at once (weir's own
 * work: the tap, ordering, encoding, snappy), and with a writer sending
 * to the Prometheus (the HTTP client too); rounds alternate. CPU ms of
 * this process per simulated second, and the bodies' sizes.
 *
 * memory: what a caught-up writer holds for the set-up's series (JS heap
 * used plus external memory after full collections), in this process.
 *
 * serve: as a user meets it, the real `weir serve` (the single executable
 * on Bun, built here with `scripts/compile.ts`; the source on Deno) on the
 * demo flow written to a graph file, with and without `--remote-write`
 * to the Prometheus, the four side by side, each's CPU over `--seconds`
 * after `--warmup`, and its RSS at the end.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { History } from "../src/history/history.ts";
import {
  RemoteWriter,
  type RemoteWriteSource,
} from "../src/history/remote_write.ts";
import { HistoryStore } from "../src/history/store.ts";
import type { SeriesKind, SeriesLabels } from "../src/history/types.ts";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { startFlows } from "./_metrics.ts";
import {
  cpuPercentOver,
  cpuPercentSlices,
  loadAverage,
  processCpuSeconds,
  rssMB,
} from "./_measure.ts";
import {
  type PrometheusHandle,
  startPrometheus,
} from "../tests/_prometheus.ts";
import { runtime } from "./_runtime.ts";
import {
  cores,
  type ServerProcess,
  startWeirServe,
  weirCommand,
} from "./_serve.ts";
import { DEMO_FLOW } from "../src/cli/demo.ts";

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const part = flag("part") ?? "all";
const child = flag("child");
const SECONDS = Number(flag("seconds") ?? 60);
const WARMUP = Number(flag("warmup") ?? 20);
// The cost part's: a minute's figure swings by a few tenths of a point,
// and the runtimes compile the writer's code over its first minute.
const COST_SECONDS = Number(flag("seconds") ?? 300);
const COST_WARMUP = Number(flag("warmup") ?? 60);
const MINUTES = Number(flag("minutes") ?? 60);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * As a user meets it: the real `weir serve` (the single executable on
 * Bun, the source on Deno) on the demo flow written to a graph file, with
 * and without `--remote-write` to the Prometheus, all four at once.
 */
async function servePart(prom: PrometheusHandle): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "weir-rw-serve-"));
  const root = join(new URL(import.meta.url).pathname, "..", "..");
  try {
    const commands: Record<string, string[]> = {
      "bun (executable)": weirCommand("bun", root, work),
      "deno (source)": weirCommand("deno", root, work),
    };
    const sides: { name: string; on: boolean; p: ServerProcess }[] = [];
    try {
      for (const [name, command] of Object.entries(commands)) {
        for (const on of [false, true]) {
          // A folder each: the history goes next to the database.
          const side = join(work, `${name.split(" ")[0]}-${on ? "on" : "off"}`);
          mkdirSync(side);
          const p = await startWeirServe(command, {
            core: cores().server,
            work: side,
            name: "weir",
            graph: DEMO_FLOW.replace("Log(core/Output)", "Log(core/Drop)"),
            args: on ? ["--remote-write", `${prom.url}/api/v1/write`] : [],
          });
          sides.push({ name, on, p });
        }
      }
      await sleep(WARMUP * 1000);
      const cpu = await cpuPercentOver(sides.map((x) => x.p.pid), SECONDS);
      const rss = sides.map((x) => rssMB(x.p.pid));
      for (const name of Object.keys(commands)) {
        const off = sides.findIndex((x) => x.name === name && !x.on);
        const on = sides.findIndex((x) => x.name === name && x.on);
        console.log(
          `serve ${name}, demo flow: without remote write ${
            cpu[off].toFixed(2)
          }% of a core, ${rss[off].toFixed(1)} MB; with ${
            cpu[on].toFixed(2)
          }%, ${rss[on].toFixed(1)} MB: remote write adds ${
            (cpu[on] - cpu[off]).toFixed(2)
          } points, ${(rss[on] - rss[off]).toFixed(1)} MB`,
        );
      }
    } finally {
      for (const x of sides) x.p.stop();
    }
  } finally {
    await sleep(500);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Samples Prometheus's head took in (its own counter). */
async function appended(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^prometheus_tsdb_head_samples_appended_total(?:\{[^}]*\})? (\S+)$/m
    .exec(text);
  return Number(m?.[1] ?? 0); // absent until the first append
}

/** A child of the cost part: the set-up with a history, sending or not. */
async function costChild(receiver: string | undefined): Promise<void> {
  const collector = new MetricsCollector();
  await startFlows(collector, { flows: 100, stages: 9, tickMs: 50 });
  const dir = mkdtempSync(join(tmpdir(), "weir-rw-bench-"));
  const history = await History.open({ dir });
  history.attach(collector);
  let writer: RemoteWriter | undefined;
  // What the writer costs without its HTTP requests: a `fetch` of its own
  // that answers 204 at once.
  const stub = receiver === "stub"
    ? () => Promise.resolve(new Response(null, { status: 204 }))
    : undefined;
  if (stub !== undefined) receiver = "http://127.0.0.1:9/api/v1/write";
  if (receiver !== undefined) {
    const deadline = flag("deadline");
    writer = new RemoteWriter(history, {
      url: receiver,
      // Each sending child's series its own (several send at once).
      externalLabels: { device: `bench-${flag("device") ?? "0"}` },
      ...(deadline ? { batchDeadlineMs: Number(deadline) } : {}),
    }, {
      cursorDir: join(dir, "remote_write"),
      ...(stub !== undefined ? { fetch: stub } : {}),
      useFetch: argv.includes("--use-fetch"),
    });
    writer.start();
  }
  process.on("SIGTERM", () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  console.log("READY");
  setInterval(() => {
    if (writer === undefined) return;
    const s = writer.stats;
    console.log(`STATS ${
      JSON.stringify({
        samples: s.samplesSent,
        requests: s.requests,
        failed: s.samplesFailed,
        bytes: s.bytesSent,
        lag: writer.lagSeconds,
      })
    }`);
  }, 5000);
}

/** A child that prints the label sets the set-up's history holds. */
async function labelsChild(file: string): Promise<void> {
  const collector = new MetricsCollector();
  await startFlows(collector, { flows: 100, stages: 9, tickMs: 50 });
  const history = await History.open();
  history.attach(collector);
  await sleep(1500);
  await history.sampleNow();
  const all = history.series([], 0, Date.now() + 1000);
  writeFileSync(file, JSON.stringify(all));
  process.exit(0);
}

function spawnSelf(args: string[]): ChildProcess {
  const isDeno = runtime().startsWith("deno");
  const script = new URL(import.meta.url).pathname;
  return spawn(
    process.execPath,
    [...(isDeno ? ["run", "-A"] : []), script, ...args],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
}

async function costPart(prom: PrometheusHandle): Promise<void> {
  const pairs = Number(flag("pairs") ?? 3);
  /** A sending child's arguments, to `receiver`. */
  const sending = (receiver: string, n: number, deadline?: string) => [
    `--child=on`,
    `--receiver=${receiver}`,
    `--device=${n}`,
    ...(deadline !== undefined
      ? [`--deadline=${deadline}`]
      : argv.filter((a) => a.startsWith("--deadline="))),
  ];
  const otherDeadline = flag("with-deadline");
  const kinds = [
    { name: "history, no remote write", args: () => ["--child=off"] },
    {
      name: "history + remote write",
      args: (n: number) => sending(`${prom.url}/api/v1/write`, n),
    },
    ...(argv.includes("--with-fetch")
      ? [{
        name: "history + remote write through fetch",
        args: (n: number) => [
          ...sending(`${prom.url}/api/v1/write`, n + 100),
          "--use-fetch",
        ],
      }]
      : []),
    ...(otherDeadline !== undefined
      ? [{
        name: `history + remote write, a window every ${otherDeadline} ms`,
        args: (n: number) =>
          sending(`${prom.url}/api/v1/write`, n + 200, otherDeadline),
      }]
      : []),
    ...(argv.includes("--with-stub")
      ? [{
        name: "history + remote write, fetch answering at once",
        args: (n: number) => sending("stub", n),
      }]
      : []),
  ];
  // `pairs` children of each kind, side by side: one child's flows alone
  // differ from another's by a few tenths of a point.
  const sides: { kind: number; args: string[] }[] = [];
  for (let n = 0; n < pairs; n++) {
    kinds.forEach((k, kind) => sides.push({ kind, args: k.args(n) }));
  }
  const lastStats: string[] = sides.map(() => "");
  const children = sides.map((s, i) => {
    const c = spawnSelf(s.args);
    const ready = new Promise<void>((resolve, reject) => {
      let out = "";
      c.stdout!.on("data", (d) => {
        out += String(d);
        if (out.includes("READY")) resolve();
        // The last whole line of counters.
        const all = out.match(/STATS \{.*\}\n/g);
        if (all) lastStats[i] = all[all.length - 1].slice(6, -1);
        out = out.slice(-2000);
      });
      c.on("exit", (code) => reject(new Error(`child exited ${code}`)));
    });
    return { s, c, ready };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
    await sleep(COST_WARMUP * 1000);
    const stats0 = [...lastStats];
    const w0 = performance.now();
    const { total, slices } = await cpuPercentSlices(
      [...children.map((c) => c.c.pid!), prom.pid],
      COST_SECONDS,
      60,
    );
    const wall = (performance.now() - w0) / 1000;
    const promCpu = total.pop()!;
    for (const c of slices) c.pop();
    /** The values of `cpu` (one per child) of the children of `kind`. */
    const of = (cpu: number[], kind: number) =>
      cpu.filter((_, i) => sides[i].kind === kind);
    /** Their mean. */
    const mean = (cpu: number[], kind: number) =>
      of(cpu, kind).reduce((a, b) => a + b, 0) / pairs;
    for (let kind = 0; kind < kinds.length; kind++) {
      console.log(
        `cost ${runtime()} ${kinds[kind].name}: ${
          mean(total, kind).toFixed(2)
        }% of a core (mean of ${pairs}: ${
          of(total, kind).map((x) => x.toFixed(2)).join(", ")
        })`,
      );
    }
    // Minute by minute: a minute swings by a few tenths (the history's
    // flushes and head-log rewrites, the collections, fall in one child's
    // minute and not in another's).
    const adds = (cpu: number[], kind: number) =>
      (mean(cpu, kind) - mean(cpu, 0)).toFixed(2);
    console.log(
      `cost ${runtime()}: remote write adds ${
        adds(total, 1)
      } points of a core (goal 1); minute by minute ${
        slices.map((c) => adds(c, 1)).join(", ")
      }; Prometheus receiving: ${promCpu.toFixed(1)}% of a core`,
    );
    for (let kind = 2; kind < kinds.length; kind++) {
      console.log(
        `cost ${runtime()}: ${kinds[kind].name} adds ${
          adds(total, kind)
        } points; minute by minute ${
          slices.map((c) => adds(c, kind)).join(", ")
        }`,
      );
    }
    for (let i = 0; i < sides.length; i++) {
      if (sides[i].kind === 0) continue;
      const a = JSON.parse(stats0[i] || "{}");
      const b = JSON.parse(lastStats[i] || "{}");
      console.log(
        `cost ${runtime()}: a sending child sent ${
          ((b.samples - a.samples) / wall).toFixed(0)
        } samples/s in ${
          ((b.requests - a.requests) / wall).toFixed(1)
        } requests/s, ${
          ((b.bytes - a.bytes) / wall / 1024).toFixed(0)
        } KiB/s; lag ${b.lag} s; failed ${b.failed}`,
      );
    }
  } finally {
    for (const c of children) if (c.c.exitCode === null) c.c.kill("SIGTERM");
  }
}

function kindOf(name: string): SeriesKind {
  return /_(total|bucket|count|sum)$/.test(name) ? "counter" : "gauge";
}

/**
 * A store at 1 s as a writer's source, as `History` makes it: the newest
 * tick is complete once the next has begun. With `tap` (the default) the
 * writer also sees appends (what it sends while caught up).
 */
function storeSource(
  store: HistoryStore,
  { tap = true } = {},
): RemoteWriteSource {
  return {
    intervalMs: 1000,
    tiers: store.tiers,
    newestTime: () => store.newestTime() + 1000,
    oldestRawTime: () => store.oldestRawTime(),
    selectEach: store.selectEach.bind(store),
    select: store.select.bind(store),
    ...(tap
      ? {
        onAppend: store.onAppend.bind(store),
        seriesLabels: store.seriesLabels.bind(store),
        seriesCount: store.seriesCount.bind(store),
      }
      : {}),
  };
}

/** The label sets of the set-up's series, from a short run of it in a child. */
async function setupLabels(dir: string): Promise<SeriesLabels[]> {
  const file = join(dir, "labels.json");
  const c = spawnSelf([`--child=labels`, `--file=${file}`]);
  await new Promise((r) => c.once("exit", r));
  return JSON.parse(readFileSync(file, "utf8")) as SeriesLabels[];
}

/**
 * In process: CPU ms per simulated second of appending the set-up's
 * series, without a writer, with one whose fetch answers at once, and
 * with one sending to the Prometheus.
 */
async function opsPart(prom: PrometheusHandle): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "weir-rw-ops-"));
  try {
    const labels = await setupLabels(dir);
    const n = labels.length;
    const kinds = labels.map((l) => kindOf(l.__name__));
    const seconds = Number(flag("ops-seconds") ?? 120);
    const sides = [
      "no writer",
      "writer, fetch answers 204 at once",
      "writer to Prometheus",
    ] as const;
    const cpu = sides.map(() => 0);
    const bytes = { sent: 0, requests: 0 };
    let clock = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
    for (let round = 0; round < 4; round++) {
      for (let side = 0; side < sides.length; side++) {
        const store = await HistoryStore.open();
        const refs = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          refs[i] = store.seriesRef(labels[i], kinds[i]);
        }
        const values = new Float64Array(n);
        let now = clock;
        const writer = side === 0 ? undefined : new RemoteWriter(
          storeSource(store),
          { url: `${prom.url}/api/v1/write` },
          {
            now: () => now,
            fetch: side === 1
              ? () => Promise.resolve(new Response(null, { status: 204 }))
              : undefined,
          },
        );
        let seed = 7;
        const tick = async (measure: boolean) => {
          for (let i = 0; i < n; i++) {
            seed = (seed * 1103515245 + 12345) >>> 0;
            if (kinds[i] === "counter") values[i] += (seed >>> 28) * (i % 3);
            else values[i] = (seed >>> 20) / 16;
          }
          const c0 = process.cpuUsage();
          store.appendBatch(refs, values, n, now);
          now += 1000;
          if (writer !== undefined) await writer.sendOnce();
          if (measure) {
            const c = process.cpuUsage(c0);
            cpu[side] += (c.user + c.system) / 1000;
          }
        };
        // Warm up (and let the writer catch up to now), then measure.
        for (let k = 0; k < 20; k++) await tick(false);
        for (let k = 0; k < seconds / 4; k++) await tick(true);
        if (writer !== undefined && side === 1) {
          bytes.sent += writer.stats.bytesSent;
          bytes.requests += writer.stats.requests;
        }
        await writer?.close();
        await store.close();
        clock = now;
      }
    }
    for (let side = 0; side < sides.length; side++) {
      console.log(
        `ops ${runtime()} ${sides[side]}: ${
          (cpu[side] / seconds).toFixed(2)
        } ms of CPU per second of ${n} series${
          side === 0
            ? ""
            : ` (the writer: ${
              ((cpu[side] - cpu[0]) / seconds).toFixed(2)
            } ms, ${
              ((cpu[side] - cpu[0]) / seconds / 10).toFixed(2)
            }% of a core)`
        }`,
      );
    }
    console.log(
      `ops: ${
        (bytes.sent / Math.max(1, bytes.requests)).toFixed(0)
      } bytes a request (snappy)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a caught-up writer holds: a store in memory with the set-up's
 * series, 10 simulated seconds appended, then 40 more with a writer
 * (its fetch answering at once) sending each; the JS heap used plus
 * external memory after full collections, before and after.
 */
async function memoryPart(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "weir-rw-memory-"));
  try {
    const labels = await setupLabels(dir);
    const n = labels.length;
    const store = await HistoryStore.open();
    const refs = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      refs[i] = store.seriesRef(labels[i], kindOf(labels[i].__name__));
    }
    const values = new Float64Array(n);
    // Five minutes into an hour: no hour's end in the 50 s.
    let now = Math.floor(Date.now() / 3600_000) * 3600_000 - 3300_000;
    const g = globalThis as {
      Bun?: { gc(full: boolean): void };
      gc?: () => void;
    };
    if (g.Bun === undefined && g.gc === undefined) {
      console.log("memory: run Deno with --v8-flags=--expose-gc");
      return;
    }
    const held = () => {
      for (let i = 0; i < 2; i++) g.Bun?.gc(true) ?? g.gc?.();
      const m = process.memoryUsage();
      return (m.heapUsed + m.external) / 1048576;
    };
    const tick = () => {
      for (let i = 0; i < n; i++) values[i] += i % 3;
      store.appendBatch(refs, values, n, now);
      now += 1000;
    };
    for (let k = 0; k < 10; k++) tick();
    // The writer lives in a function of its own: once it returns, nothing
    // on the stack refers to it (Bun's collector scans the stack).
    const withWriter = async () => {
      const writer = new RemoteWriter(
        storeSource(store),
        { url: "http://127.0.0.1:9/api/v1/write" },
        {
          now: () => now,
          fetch: () => Promise.resolve(new Response(null, { status: 204 })),
        },
      );
      for (let k = 0; k < 40; k++) {
        tick();
        await writer.sendOnce();
      }
      // With the writer, then without it (closed and let go), at the
      // same point of the store: the difference is what it held.
      const withIt = held();
      await writer.close();
      return { withIt, sent: writer.stats.samplesSent };
    };
    const { withIt, sent } = await withWriter();
    // Let go once the event loop has turned (the last request's promises).
    await sleep(100);
    const without = held();
    console.log(
      `memory ${runtime()}: a caught-up writer holds ${
        (withIt - without).toFixed(1)
      } MB (JS heap used + external) for ${n} series (${
        ((withIt - without) * 1048576 / n).toFixed(0)
      } bytes a series), having sent ${sent} samples`,
    );
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function catchupPart(prom: PrometheusHandle): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "weir-rw-catchup-"));
  try {
    const labels = await setupLabels(dir);
    const store = await HistoryStore.open({
      dir: join(dir, "history"),
      flushIntervalMs: 0,
      // The whole hour (the default budget, 256 MiB, keeps about 40 min
      // of these series).
      maxDiskBytes: 4 * 1024 ** 3,
    });
    const n = labels.length;
    const refs = new Int32Array(n);
    const kinds = labels.map((l) => kindOf(l.__name__));
    for (let i = 0; i < n; i++) refs[i] = store.seriesRef(labels[i], kinds[i]);
    const values = new Float64Array(n);
    const ticks = MINUTES * 60;
    const end = Math.floor(Date.now() / 1000) * 1000;
    let seed = 7;
    const b0 = performance.now();
    for (let k = 0; k < ticks; k++) {
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        if (kinds[i] === "counter") values[i] += (seed >>> 28) * (i % 3);
        else values[i] = (seed >>> 20) / 16;
      }
      store.appendBatch(refs, values, n, end - (ticks - 1 - k) * 1000);
      if (k % 600 === 599) await store.flush();
    }
    await store.flush();
    console.log(
      `catchup: ${n} series x ${ticks} s = ${
        (n * ticks / 1e6).toFixed(1)
      } M samples written in ${((performance.now() - b0) / 1000).toFixed(1)} s`,
    );
    const source = storeSource(store, { tap: false });
    const shards = flag("shards");
    const writer = new RemoteWriter(source, {
      url: `${prom.url}/api/v1/write`,
      start: "oldest",
      ...(shards ? { maxShards: Number(shards) } : {}),
    }, { onWarning: (m) => console.log(`warning: ${m}`) });
    const appended0 = await appended(prom.url);
    const cpu0 = processCpuSeconds(process.pid);
    const promCpu0 = processCpuSeconds(prom.pid);
    // How long the event loop is held at a time while catching up (a
    // 10 ms timer's lateness): what a flow or a request waits at worst.
    let worst = 0;
    let last = performance.now();
    const monitor = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - 10);
      last = now;
    }, 10);
    const w0 = performance.now();
    await writer.sendOnce();
    const wall = (performance.now() - w0) / 1000;
    clearInterval(monitor);
    console.log(
      `catchup ${runtime()}: the event loop was held at most ${
        worst.toFixed(0)
      } ms at a time`,
    );
    const cpu = processCpuSeconds(process.pid) - cpu0;
    const promCpu = processCpuSeconds(prom.pid) - promCpu0;
    const s = writer.stats;
    console.log(
      `catchup ${runtime()}: ${(s.samplesSent / 1e6).toFixed(1)} M samples in ${
        wall.toFixed(1)
      } s (${
        (s.samplesSent / wall / 1e6).toFixed(2)
      } M/s; goal: ${MINUTES} min of backlog in at most ${
        MINUTES * 2
      } s), ${s.requests} requests, ${
        (s.bytesSent / 1048576).toFixed(0)
      } MiB; weir CPU ${cpu.toFixed(1)} s, Prometheus CPU ${
        promCpu.toFixed(1)
      } s; failed ${s.samplesFailed}, dropped ${
        JSON.stringify(s.samplesDropped)
      }, lag at the end ${writer.lagSeconds} s`,
    );
    const received = await appended(prom.url) - appended0;
    console.log(
      `catchup: Prometheus holds ${received} samples (${
        (received / s.samplesSent * 100).toFixed(2)
      }% of those sent)`,
    );
    await writer.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (child === "on" || child === "off") {
  await costChild(child === "on" ? flag("receiver") : undefined);
} else if (child === "labels") {
  await labelsChild(flag("file")!);
} else {
  console.log(
    `remote write bench, ${runtime()}, ${new Date().toISOString()}, load ${
      loadAverage().join(" ")
    }`,
  );
  if (part === "memory") {
    await memoryPart();
    process.exit(0);
  }
  // A Prometheus of its own for each part: the catch-up's samples are
  // older than the cost part's of the same series (out of order).
  for (
    const [name, run] of [
      ["cost", costPart],
      ["catchup", catchupPart],
      ["serve", servePart],
      ["ops", opsPart],
    ] as const
  ) {
    if (part !== name && (part !== "all" || name === "ops")) continue;
    const prom = await startPrometheus({
      targets: [],
      extraArgs: ["--web.enable-remote-write-receiver"],
    });
    try {
      await run(prom);
    } finally {
      await prom.stop();
    }
  }
  console.log(`load at the end ${loadAverage().join(" ")}`);
  process.exit(0);
}
