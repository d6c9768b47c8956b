/**
 * Scrapes of `/metrics` under concurrency (issue 19): the real `weir serve`
 * with 100 flows of 10 processes (about 57,000 series), scraped by 8
 * scrapers at once, side by side with a base git ref (the behaviour before
 * shared renders) in one run.
 *
 *   bun bench/scrape_bench.ts                    # bun, deno and the Bun executable; base d3bd513
 *   bun bench/scrape_bench.ts --target=deno      # one target: bun, deno or exe (comma-separated)
 *   bun bench/scrape_bench.ts --seconds=8        # seconds per window (default 8)
 *   bun bench/scrape_bench.ts --rounds=2         # A B rounds per target (default 2)
 *   bun bench/scrape_bench.ts --scrapers=8       # concurrent scrapers (default 8)
 *   bun bench/scrape_bench.ts --prometheus       # Prometheus's Accept (OpenMetrics) and gzip
 *   bun bench/scrape_bench.ts --base=REF         # another base (any git ref)
 *   bun bench/scrape_bench.ts --json             # also one line `RESULT {json}`
 *
 * Each side is a fresh `weir serve --port 0 --db :memory:` (so the metric
 * history samples in memory every second, as shipped) with 100 graph files
 * `flow000.fbp` ... `flow099.fbp`, each a `core/Interval` ticking every 50
 * ms feeding 9 `core/Repeat` stages (the set-up of `metrics_bench.ts`):
 * from source (`bun src/cli/main.ts serve`, `deno run -A src/cli/main.ts
 * serve`) or, for `exe`, the executable `scripts/compile.ts` builds from
 * that side's tree. The base side runs from a detached temporary worktree
 * of `--base` (default d3bd513, the tree before shared renders), removed at
 * the end. The server is pinned to core 0, the scrapers to core 1.
 *
 * Per side, after 10 warm-up scrapes, two windows of `--seconds`:
 * - `lone`: one scraper, scrape after scrape: the time of a single render
 *   (plus its transfer), as a scraper alone sees it;
 * - `concurrent`: `--scrapers` scrapers, each scraping again as soon as
 *   its answer is in (a closed loop: the worst a set of scrapers can do).
 * The scrapers are one separate process (this file with `--client`, on
 * Bun, keep-alive connections) that checks every answer is whole (its
 * last family there). Printed per window: answers 200 per second, other
 * statuses (503 from the base's cap of 4 concurrent scrapes: a failed
 * scrape for Prometheus; the scraper then waits the `Retry-After` the
 * server asks, 1 s, as a polite client does), answers cut short, latency p50/p90/p99/max of
 * the 200s (at the scrapers: the transfer of each body included), the
 * server's CPU time per 200 (from /proc, all threads, so the flows and the
 * history's sampling too), the server's own `http_request_duration_seconds`
 * of those 200s (request to response headers: the wait for the render, no
 * transfer; mean exact, quantiles interpolated in its buckets as
 * `histogram_quantile()` does, so coarse) and the body's size. The lone
 * window's server time is the single-render time. Figures pool the
 * rounds' samples per side; the ratios are new/base, and the server's mean
 * under the scrapers in lone renders (about 1: a scrape waited one render).
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { loadAverage, processCpuSeconds } from "./_measure.ts";
import { flowText } from "./_metrics.ts";
import { compileWeir } from "./_serve.ts";
import { baseWorktree } from "./_worktree.ts";

type Target = "bun" | "deno" | "exe";
type Side = "base" | "new";

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const self = fileURLToPath(import.meta.url);
const bin = (rt: "bun" | "deno") => join(root, "node_modules", ".bin", rt);

const FLOWS = 100;
const STAGES = 9;
const TICK_MS = 50;
const WARMUP_SCRAPES = 10;
/**
 * The last family of weir's exposition (its OpenMetrics family name, the
 * text sample names start with it): an answer without it was cut.
 */
const LAST_FAMILY = "weir_metrics_series_refused";
/** The Accept header Prometheus 2.42 sends. */
const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/** What the scrapers of one window saw. */
interface Window {
  seconds: number;
  /** Latency of each 200, in ms. */
  ok: number[];
  /** Count per other status. */
  other: Record<string, number>;
  /** 200s whose body missed its last family. */
  cut: number;
  /** Bytes of a 200's body, as sent (compressed when gzip). */
  bytes: number;
  /** Server CPU seconds over the window. */
  cpu: number;
  /**
   * The server's own `http_request_duration_seconds` of its 200s on
   * `/metrics` over the window (from the request to the response's
   * headers: the wait for the render, not the transfer).
   */
  server: Served;
}

/** Bucket counts (cumulative, by upper bound), sum and count of a histogram. */
interface Served {
  buckets: [number, number][];
  sum: number;
  count: number;
}

// ---- the scrapers (a separate process) ------------------------------------

/** The server's `http_request_duration_seconds` of `GET /metrics` 200s now. */
async function served(port: number): Promise<Served> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { "Accept-Encoding": "identity" },
  });
  const text = await res.text();
  const out: Served = { buckets: [], sum: 0, count: 0 };
  const re =
    /^\w*http_request_duration_seconds_(bucket|sum|count)\{([^}]*)\} (\S+)$/gm;
  for (const m of text.matchAll(re)) {
    const labels = m[2];
    if (
      !labels.includes('method="GET"') ||
      !labels.includes('route="/metrics"') || !labels.includes('status="200"')
    ) continue;
    const value = Number(m[3]);
    if (m[1] === "sum") out.sum = value;
    else if (m[1] === "count") out.count = value;
    else {
      const le = /le="([^"]+)"/.exec(labels)![1];
      out.buckets.push([le === "+Inf" ? Infinity : Number(le), value]);
    }
  }
  // None yet before the first 200 of /metrics: an empty histogram.
  return out;
}

/** `after` less `before`. */
function minus(after: Served, before: Served): Served {
  if (after.buckets.length === 0) {
    throw new Error("no http_request_duration_seconds of GET /metrics found");
  }
  return {
    buckets: after.buckets.map((
      [le, n],
      i,
    ) => [le, n - (before.buckets[i]?.[1] ?? 0)]),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/** A quantile of a histogram, interpolated in its bucket as histogram_quantile() does. */
function quantile(h: Served, q: number): number {
  const total = h.buckets[h.buckets.length - 1][1];
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevN = 0;
  for (const [le, n] of h.buckets) {
    if (n >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * (rank - prevN) / (n - prevN);
    }
    prevLe = le;
    prevN = n;
  }
  return prevLe;
}

/** `--client`: scrapes for `seconds` with `scrapers` loops; prints `CLIENT {json}`. */
async function client(): Promise<void> {
  const port = Number(flag("port"));
  const scrapers = Number(flag("scrapers") ?? 1);
  const seconds = Number(flag("seconds") ?? 1);
  const warmup = Number(flag("warmup") ?? 0);
  const prometheus = argv.includes("--prometheus");
  const url = `http://127.0.0.1:${port}/metrics`;
  const headers: Record<string, string> = prometheus
    ? { Accept: PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip" }
    : { "Accept-Encoding": "identity" };
  const out: Omit<Window, "cpu" | "server"> = {
    seconds,
    ok: [],
    other: {},
    cut: 0,
    bytes: 0,
  };
  let end = Infinity;
  const once = async (record: boolean) => {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    // Bytes, not text: decoding 8 bodies of 5 MB on the scrapers' core
    // would time the scrapers more than the server.
    const body = new Uint8Array(await res.arrayBuffer());
    const ms = performance.now() - t0;
    if (!record) return;
    if (res.status !== 200) {
      out.other[res.status] = (out.other[res.status] ?? 0) + 1;
      // As the server asks: a scraper that spun on 503s would load the
      // server with refusals that no real scraper sends.
      const after = Number(res.headers.get("retry-after") ?? 0) * 1000;
      const wait = Math.min(after, end - performance.now());
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return;
    }
    const tail = new TextDecoder().decode(body.subarray(-4000));
    const whole = tail.includes(`\n${LAST_FAMILY}_total{`) &&
      tail.endsWith(prometheus ? "\n# EOF\n" : "\n");
    if (!whole) out.cut++;
    out.ok.push(ms);
    out.bytes = Number(res.headers.get("content-length") ?? body.length);
  };
  for (let i = 0; i < warmup; i++) await once(false);
  end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: scrapers }, async () => {
      while (performance.now() < end) await once(true);
    }),
  );
  console.log(`CLIENT ${JSON.stringify(out)}`);
}

// ---- the servers ----------------------------------------------------------

interface Server {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `weir serve` of `dir` (or the executable `exe`) on core 0 with the flow files. */
function startServe(
  target: Target,
  dir: string,
  exe: string | undefined,
  files: string[],
  work: string,
): Promise<Server> {
  const serveArgs = ["serve", "--port", "0", "--db", ":memory:", ...files];
  const main = join(dir, "src", "cli", "main.ts");
  const args = target === "exe"
    ? [exe!, ...serveArgs]
    : target === "bun"
    ? [bin("bun"), main, ...serveArgs]
    : [bin("deno"), "run", "-A", main, ...serveArgs];
  const child = spawn("taskset", ["-c", "0", ...args], {
    cwd: work,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, WEIR_LOG_FORMAT: "json", WEIR_LOG_LEVEL: "info" },
  });
  return new Promise((resolve, reject) => {
    let err = "";
    child.on("error", reject);
    child.on("exit", (code) => {
      reject(new Error(`weir serve of ${dir} exited (${code}): ${err}`));
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
      const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (!m) return;
      child.removeAllListeners("exit");
      child.stderr!.removeAllListeners("data");
      child.stderr!.resume();
      resolve({
        port: Number(m[1]),
        pid: child.pid!,
        stop: () => stopChild(child),
      });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    process.kill(child.pid!, "SIGTERM");
  });
}

/** Runs the scrapers' process on core 1; resolves with what they saw. */
function scrapers(
  port: number,
  count: number,
  seconds: number,
  warmup: number,
): Omit<Window, "cpu" | "server"> {
  const r = spawnSync("taskset", [
    "-c",
    "1",
    bin("bun"),
    self,
    "--client",
    `--port=${port}`,
    `--scrapers=${count}`,
    `--seconds=${seconds}`,
    `--warmup=${warmup}`,
    ...(argv.includes("--prometheus") ? ["--prometheus"] : []),
  ], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const m = /^CLIENT (.*)$/m.exec(r.stdout ?? "");
  if (r.status !== 0 || !m) {
    throw new Error(`the scrapers failed (exit ${r.status}): ${r.stderr}`);
  }
  return JSON.parse(m[1]);
}

/** One side's two windows on a fresh server. */
async function measure(
  target: Target,
  dir: string,
  exe: string | undefined,
  files: string[],
  work: string,
  seconds: number,
  count: number,
): Promise<{ lone: Window; concurrent: Window }> {
  const server = await startServe(target, dir, exe, files, work);
  try {
    const window = async (n: number, warmup: number): Promise<Window> => {
      const before = processCpuSeconds(server.pid);
      const servedBefore = await served(server.port);
      const w = scrapers(server.port, n, seconds, warmup);
      const cpu = processCpuSeconds(server.pid) - before;
      return {
        ...w,
        cpu,
        server: minus(await served(server.port), servedBefore),
      };
    };
    const lone = await window(1, WARMUP_SCRAPES);
    const concurrent = await window(count, 0);
    return { lone, concurrent };
  } finally {
    await server.stop();
  }
}

// ---- figures --------------------------------------------------------------

/** Nearest-rank percentile of sorted `xs`. */
function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  return xs[Math.min(xs.length - 1, Math.ceil(p / 100 * xs.length) - 1)];
}

interface Figures {
  okPerSec: number;
  other: Record<string, number>;
  cut: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  cpuMsPerOk: number;
  bytes: number;
  samples: number;
  /** Server-side (request to response headers) mean, p50, p99, in ms. */
  serverMean: number;
  serverP50: number;
  serverP99: number;
}

function figures(ws: Window[]): Figures {
  const ok = ws.flatMap((w) => w.ok).sort((a, b) => a - b);
  const seconds = ws.reduce((s, w) => s + w.seconds, 0);
  const other: Record<string, number> = {};
  for (const w of ws) {
    for (const [k, v] of Object.entries(w.other)) {
      other[k] = (other[k] ?? 0) + v;
    }
  }
  const r1 = (x: number) => Number(x.toFixed(1));
  const server = ws.map((w) => w.server).reduce((a, b) => ({
    buckets: a.buckets.map(([le, n], i) => [le, n + b.buckets[i][1]]),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  }));
  return {
    okPerSec: r1(ok.length / seconds),
    other,
    cut: ws.reduce((s, w) => s + w.cut, 0),
    p50: r1(pct(ok, 50)),
    p90: r1(pct(ok, 90)),
    p99: r1(pct(ok, 99)),
    max: r1(ok[ok.length - 1] ?? NaN),
    cpuMsPerOk: r1(ws.reduce((s, w) => s + w.cpu, 0) * 1000 / ok.length),
    bytes: ws[ws.length - 1]?.bytes ?? 0,
    samples: ok.length,
    serverMean: r1(server.sum * 1000 / server.count),
    serverP50: r1(quantile(server, 0.5) * 1000),
    serverP99: r1(quantile(server, 0.99) * 1000),
  };
}

function row(label: string, f: Figures): string {
  const other = Object.entries(f.other).map(([k, v]) => `${v}x${k}`).join(
    " ",
  ) || "-";
  return `${label.padEnd(22)} ${String(f.okPerSec).padStart(7)} ${
    other.padStart(10)
  } ${String(f.cut).padStart(4)} ${String(f.p50).padStart(8)} ${
    String(f.p90).padStart(8)
  } ${String(f.p99).padStart(8)} ${String(f.max).padStart(8)} ${
    String(f.cpuMsPerOk).padStart(9)
  } ${String(f.serverMean).padStart(8)} ${String(f.serverP50).padStart(8)} ${
    String(f.serverP99).padStart(8)
  } ${(f.bytes / 1e6).toFixed(2).padStart(6)}`;
}

// ---- the comparison -------------------------------------------------------

function version(target: Target): string {
  const r = spawnSync(bin(target === "deno" ? "deno" : "bun"), ["--version"], {
    encoding: "utf8",
  });
  return (r.stdout ?? "").split("\n")[0].trim();
}

async function compare(): Promise<void> {
  const targets = (flag("target") ?? "bun,deno,exe").split(",") as Target[];
  for (const t of targets) {
    if (t !== "bun" && t !== "deno" && t !== "exe") {
      throw new RangeError(
        `Cannot run: --target must be bun, deno or exe, received "${t}"`,
      );
    }
  }
  const base = flag("base") ?? "d3bd513";
  const rounds = Number(flag("rounds") ?? 2);
  const seconds = Number(flag("seconds") ?? 8);
  const count = Number(flag("scrapers") ?? 8);
  const loadStart = loadAverage();
  const work = mkdtempSync(join(tmpdir(), "weir-scrape-"));
  const files: string[] = [];
  for (let i = 0; i < FLOWS; i++) {
    const name = `flow${String(i).padStart(3, "0")}`;
    const file = join(work, `${name}.fbp`);
    writeFileSync(file, `# @name ${name}\n${flowText(STAGES, TICK_MS)}\n`);
    files.push(file);
  }
  const wt = baseWorktree(base, "weir-scrape-base-");
  const dirs: Record<Side, string> = { base: wt.dir, new: root };
  const results: Record<string, unknown> = {};
  console.log(
    `weir serve, ${FLOWS} flows x ${
      STAGES + 1
    } processes; ${count} scrapers vs 1; ${seconds} s windows, ${rounds} rounds; base ${base}; ${
      argv.includes("--prometheus")
        ? "OpenMetrics + gzip (Prometheus's headers)"
        : "text 0.0.4, no gzip"
    }; load ${loadStart.join(" ")}`,
  );
  try {
    for (const target of targets) {
      const exes: Partial<Record<Side, string>> = {};
      if (target === "exe") {
        for (const side of ["base", "new"] as Side[]) {
          exes[side] = compileWeir(dirs[side], join(work, `exe-${side}`));
        }
      }
      const got: Record<Side, { lone: Window[]; concurrent: Window[] }> = {
        base: { lone: [], concurrent: [] },
        new: { lone: [], concurrent: [] },
      };
      for (let r = 1; r <= rounds; r++) {
        const order: Side[] = r % 2 === 1 ? ["base", "new"] : ["new", "base"];
        for (const side of order) {
          const m = await measure(
            target,
            dirs[side],
            exes[side],
            files,
            work,
            seconds,
            count,
          );
          got[side].lone.push(m.lone);
          got[side].concurrent.push(m.concurrent);
          const f = figures([m.concurrent]);
          console.log(
            `  ${target} round ${r} ${side}: ${count} scrapers ${f.okPerSec} ok/s p50 ${f.p50} p99 ${f.p99} max ${f.max} ms; lone p50 ${
              figures([m.lone]).p50
            } ms`,
          );
        }
      }
      const table: Record<string, Figures> = {};
      for (const side of ["base", "new"] as Side[]) {
        table[`${side} lone`] = figures(got[side].lone);
        table[`${side} ${count} scrapers`] = figures(got[side].concurrent);
      }
      const label = target === "exe"
        ? `Bun executable (bun ${version("bun")})`
        : target === "bun"
        ? `bun ${version("bun")} (source)`
        : `${version("deno")} (source)`;
      console.log(`\n${label}`);
      console.log(
        `${"".padEnd(22)} ${"ok/s".padStart(7)} ${"other".padStart(10)} ${
          "cut".padStart(4)
        } ${"p50 ms".padStart(8)} ${"p90 ms".padStart(8)} ${
          "p99 ms".padStart(8)
        } ${"max ms".padStart(8)} ${"cpu ms/ok".padStart(9)} ${
          "srv mean".padStart(8)
        } ${"srv p50".padStart(8)} ${"srv p99".padStart(8)} ${
          "MB".padStart(6)
        }`,
      );
      for (const [k, f] of Object.entries(table)) console.log(row(k, f));
      const b = table[`base ${count} scrapers`];
      const n = table[`new ${count} scrapers`];
      const bl = table["base lone"];
      const nl = table["new lone"];
      const ratios = {
        okPerSec: Number((n.okPerSec / b.okPerSec).toFixed(2)),
        p50: Number((n.p50 / b.p50).toFixed(2)),
        p99: Number((n.p99 / b.p99).toFixed(2)),
        max: Number((n.max / b.max).toFixed(2)),
        /**
         * The server's mean time to answer under `count` scrapers, in lone
         * renders (its mean time to answer one scraper): the wait, in
         * renders, of a scrape that joined or queued.
         */
        baseServerInRenders: Number((b.serverMean / bl.serverMean).toFixed(2)),
        newServerInRenders: Number((n.serverMean / nl.serverMean).toFixed(2)),
      };
      console.log(
        `new/base under ${count} scrapers: ok/s ${ratios.okPerSec}x, p50 ${ratios.p50}x, p99 ${ratios.p99}x, max ${ratios.max}x; server's mean time to answer, in lone renders: base ${ratios.baseServerInRenders}, new ${ratios.newServerInRenders}`,
      );
      results[target] = { version: label, table, ratios };
    }
  } finally {
    wt.remove();
    rmSync(work, { recursive: true, force: true });
  }
  const loadEnd = loadAverage();
  console.log(`\nload ${loadStart.join(" ")} -> ${loadEnd.join(" ")}`);
  if (argv.includes("--json")) {
    console.log(
      `RESULT ${
        JSON.stringify({
          base,
          seconds,
          rounds,
          scrapers: count,
          prometheus: argv.includes("--prometheus"),
          loadavg: { start: loadStart, end: loadEnd },
          results,
        })
      }`,
    );
  }
}

if (argv.includes("--client")) await client();
else await compare();
