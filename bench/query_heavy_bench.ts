/**
 * Heavy range queries through the query API (`queryRoutes`, as
 * `/api/v1/query_range` answers them: evaluation, then the JSON text)
 * over the 100 flows x 10 processes set-up: 57,632 series, `--minutes=N`
 * (default 12) simulated minutes of 1 s samples. For each query, this
 * tree and, with `--base=DIR`, another tree (a folder holding an older
 * `src/` and `bench/`, e.g. `git archive <commit> | tar -x -C DIR` and
 * this tree's `node_modules` linked in) each in a child process of its
 * own, so that each peak RSS is one query's: the time to the whole body,
 * the longest the event loop was held (a 1 ms timer's longest gap), the
 * peak RSS (sampled by that timer and at the end) above the RSS before
 * the query, and the answer: its series and bytes, or the refusal. Then
 * (not measured) each child checks its body is the text `JSON.stringify`
 * makes of `queryRangeSliced`'s `[t, v]` matrix over the same store, as the
 * API wrote it before session 33 ("same text": the flows run live, so two
 * children's data, and bodies, differ).
 *
 * Run:
 *
 *     mkdir -p /tmp/weir_base && git archive <commit> | tar -x -C /tmp/weir_base
 *     ln -sfn "$PWD/node_modules" /tmp/weir_base/node_modules
 *     deno run -A bench/query_heavy_bench.ts --base=/tmp/weir_base
 *     bun bench/query_heavy_bench.ts --base=/tmp/weir_base
 *
 * `--queries='QUERY@STEP_S@MAX_SAMPLES;...'` replaces the default list
 * (MAX_SAMPLES empty or absent: the API's default). The set-up (about 15 s
 * a child) is paid again for each query and tree. bench/RESULTS.md,
 * session 33, has the figures.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime } from "./_runtime.ts";

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), "..");
const argv = process.argv;
const arg = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const MINUTES = Number(arg("minutes") ?? 12);

/** The default queries: `QUERY@STEP_S@MAX_SAMPLES`. */
const QUERIES = [
  // 2.8 million points, but its selector loads far more samples than the
  // default limit: refused, as Prometheus refuses it.
  '{__name__=~".+"}@15@',
  // Answered under the default limit: 3,100 series at 1 s, 2.2 million
  // points.
  "weir_process_messages_total@1@",
  // 4,100 series at 1 s, 3 million points: refused under the default
  // limit (the points answered so far count, and each slice loads the 5
  // minutes before it too).
  '{__name__=~"weir_process_(messages|starts)_total"}@1@',
  // 8,100 series at 1 s, 5.8 million points, under a limit of 20 million:
  // what an answer that size costs.
  '{__name__=~"weir_process_(messages|starts|errors|failures)_total"}@1@20000000',
].join(";");

interface Figures {
  ms: number;
  holdMs: number;
  rssBeforeMb: number;
  peakMb: number;
  answer: string;
  same: boolean | undefined;
}

if (argv.includes("--child")) {
  await child(arg("tree") ?? root, arg("query") ?? "");
  process.exit(0);
} else {
  parent();
}

function parent(): void {
  const base = arg("base");
  const queries = (arg("queries") ?? QUERIES).split(";").filter(Boolean);
  console.log(
    `${runtime()}, ${MINUTES} simulated minutes; peak RSS above the RSS before the query`,
  );
  for (const q of queries) {
    const rows: [string, Figures][] = [];
    for (
      const [name, tree] of base === undefined ? [["this", root]] : [
        ["base", resolve(base)],
        ["this", root],
      ]
    ) {
      const args = [
        ...(runtime() === "deno" ? ["run", "-A"] : []),
        here,
        "--child",
        `--tree=${tree}`,
        `--minutes=${MINUTES}`,
        `--query=${q}`,
      ];
      const r = spawnSync(process.execPath, args, {
        encoding: "utf8",
        maxBuffer: 1 << 24,
      });
      const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
      if (line === undefined) {
        throw new Error(`the ${name} child failed: ${r.stderr.slice(-2000)}`);
      }
      rows.push([name, JSON.parse(line) as Figures]);
    }
    const [query, step, max] = q.split("@");
    console.log(`\n${query} step ${step}s, maxSamples ${max || "default"}`);
    for (const [name, f] of rows) {
      console.log(
        `  ${name.padEnd(4)} ${f.ms.toFixed(0).padStart(6)} ms, longest hold ${
          f.holdMs.toFixed(0).padStart(5)
        } ms, rss before ${f.rssBeforeMb} MB, peak +${f.peakMb} MB -> ${f.answer}`,
      );
    }
    console.log(
      `  same text as the [t, v] matrix: ${
        rows.map(([name, f]) => `${name} ${f.same ?? "-"}`).join(", ")
      }`,
    );
  }
}

async function child(tree: string, spec: string): Promise<void> {
  const [query, stepText, maxText] = spec.split("@");
  const src = (path: string) => import(join(tree, path));
  const { MetricsCollector } = await src("src/metrics/collector.ts");
  const { Sampler } = await src("src/history/sampler.ts");
  const { HistoryStore } = await src("src/history/store.ts");
  const { queryRoutes } = await src("src/server/query_routes.ts");
  const { startFlows } = await src("bench/_metrics.ts");
  const { queryRangeSliced } = await src("src/history/promql/query.ts");
  const { formatPointValue } = await src("src/server/_prometheus_api.ts");
  const collector = new MetricsCollector();
  const nets = await startFlows(collector, {
    flows: 100,
    stages: 9,
    tickMs: 50,
  });
  const dir = mkdtempSync(join(tmpdir(), "weir-qheavy-"));
  const store = await HistoryStore.open({ dir, flushIntervalMs: 0 });
  let clock = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 1000;
  const sampler = new Sampler(collector, store, { now: () => clock });
  for (let i = 1; i <= MINUTES * 60; i++) {
    clock += 1000;
    await sampler.sampleOnce();
    if (i % 10 === 0) await store.flush();
  }
  for (const n of nets) await n.stop();
  const maxSamples = maxText ? Number(maxText) : undefined;
  const app = queryRoutes(store, {
    ...(maxSamples === undefined ? {} : { maxSamples }),
    now: () => clock,
  });
  const params = new URLSearchParams({
    query,
    start: String((clock - MINUTES * 60_000) / 1000),
    end: String(clock / 1000),
    step: stepText,
  });
  // The query module is loaded (and its first-use costs paid) before.
  await (await app.request("/api/v1/query?query=1")).text();
  const mb = (b: number) => Math.round(b / 1048576);
  const before = process.memoryUsage().rss;
  let peak = before;
  let hold = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    hold = Math.max(hold, now - last);
    last = now;
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 1);
  const t0 = performance.now();
  const res = await app.request(`/api/v1/query_range?${params}`);
  // Bytes, as a server hands them to its socket; made text after.
  const bytes = new Uint8Array(await res.arrayBuffer());
  const end = performance.now();
  peak = Math.max(peak, process.memoryUsage().rss);
  hold = Math.max(hold, end - last);
  clearInterval(probe);
  const body = new TextDecoder().decode(bytes);
  let answer: string;
  if (res.status === 200) {
    const n = (body.match(/"metric":/g) ?? []).length;
    answer = `${n} series, ${(body.length / 1e6).toFixed(1)} MB of JSON`;
  } else {
    answer = `${res.status} ${
      (JSON.parse(body) as { error: string }).error.slice(0, 60)
    }`;
  }
  let same: boolean | undefined;
  if (res.status === 200) {
    const matrix = await queryRangeSliced(
      store,
      query,
      clock - MINUTES * 60_000,
      clock,
      Number(stepText) * 1000,
      { maxSamples, nowMs: clock, maxSteps: Infinity },
    );
    same = body === JSON.stringify({
      status: "success",
      data: {
        resultType: "matrix",
        result: matrix.result.map((
          { metric, values }: {
            metric: Record<string, string>;
            values: [number, number][];
          },
        ) => ({
          metric,
          values: values.map(([t, v]) => [t / 1000, formatPointValue(v)]),
        })),
      },
    });
  }
  const figures: Figures = {
    ms: end - t0,
    holdMs: hold,
    rssBeforeMb: mb(before),
    peakMb: mb(peak - before),
    answer,
    same,
  };
  console.log(JSON.stringify(figures));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
