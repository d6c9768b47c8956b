/**
 * HTTP metrics overhead: `wrk` against four Hono servers answering `GET /`
 * with `ok`, each in its own process of the runtime under test, served by
 * weir's `serve()`:
 *
 * - `bare`: Hono alone;
 * - `weir`: Hono measured by weir's `httpMetricsFetch()` (around the app's
 *   fetch: what `weir serve` uses);
 * - `weir-mw`: Hono with weir's `httpMetrics()` middleware (`app.use()`);
 * - `hono-prom`: Hono with `@hono/prometheus`'s `registerMetrics`;
 * - `weir+conn`: `weir` with `connectionMetrics()` on `server.connections`
 *   (each request reports its peer; the sockets are read every 0.5 s
 *   while connections are open).
 *
 * Each server first runs alone under wrk for 2 s (warm-up; its requests/s
 * then is the "solo" figure). Then, for `--rounds` rounds, each server is
 * driven at the same time as `bare`, both pinned to the same core, by two
 * wrk processes on another core: the kernel gives the two servers equal
 * shares of the core, so the requests each serves in the same window
 * compare their costs per request, and whatever slows the core (this VM's
 * throughput moved by tens of percent from one second to the next)
 * slows both alike. Run one after the other, the same two servers' ratio
 * moved between 0.5 and 1.4 from one round to the next. Figures are the
 * medians over the rounds of the ratio of each window, and each server's
 * CPU time per request (from `/proc/PID/stat`). After the rounds each
 * metrics server is scraped once to check that it counted the requests
 * wrk made.
 *
 * Run: `bun bench/http_bench.ts` or `deno run -A bench/http_bench.ts`;
 * `--json` prints one machine-readable line for `scripts/bench.ts`;
 * `--rounds=N` (default 20), `--seconds=S` per window (default 2),
 * `--connections=C` per wrk (default 32), `--servers=a,b` to drive only
 * some (with `bare`). Needs two cores and `taskset` (util-linux).
 * `--serve=NAME` is the server process itself (used by the driver).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { prometheus } from "@hono/prometheus";
import { Registry } from "prom-client";
import { MetricsCollector } from "../src/metrics/collector.ts";
import {
  connectionMetrics,
  httpMetrics,
  httpMetricsFetch,
} from "../src/metrics/http_metrics.ts";
import { serve } from "../src/runtime/serve.ts";
import { median, processCpuSeconds } from "./_measure.ts";
import { runtime } from "./_runtime.ts";

const ALL_SERVERS = [
  "bare",
  "weir",
  "weir-mw",
  "hono-prom",
  "weir+conn",
] as const;
type ServerName = typeof ALL_SERVERS[number];

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/** The servers driven: all, or those of `--servers=a,b` (bare always). */
const SERVERS: readonly ServerName[] = flag("servers") === undefined
  ? ALL_SERVERS
  : ALL_SERVERS.filter((n) =>
    n === "bare" || flag("servers")!.split(",").includes(n)
  );

/** The core the servers share; wrk runs on the others. */
const SERVER_CORE = availableParallelism() - 1;

/** The server process: listens, prints its port, exits when stdin ends. */
async function serveOne(name: ServerName): Promise<void> {
  if (!ALL_SERVERS.includes(name)) {
    throw new RangeError(
      `Cannot serve: --serve must be one of ${
        ALL_SERVERS.join(", ")
      }, received ${name}`,
    );
  }
  const app = new Hono();
  let collector: MetricsCollector | undefined;
  if (name !== "bare" && name !== "hono-prom") {
    collector = new MetricsCollector();
    const c = collector;
    if (name === "weir-mw") app.use(httpMetrics(c));
    app.get("/metrics", async () => new Response(await c.render()));
  } else if (name === "hono-prom") {
    const { printMetrics, registerMetrics } = prometheus({
      registry: new Registry(),
    });
    app.use("*", registerMetrics);
    app.get("/metrics", printMetrics);
  }
  app.get("/", (c) => c.text("ok"));
  const fetch = name === "weir" || name === "weir+conn"
    ? httpMetricsFetch(app, collector!)
    : app.fetch;
  const server = await serve(fetch);
  if (name === "weir+conn") connectionMetrics(collector!, server.connections);
  console.log(`LISTENING ${server.port}`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    server.close().then(() => process.exit(0));
  });
}

interface Started {
  name: ServerName;
  port: number;
  /** The CPU time the server process used so far, in seconds. */
  cpuSeconds(): number;
  stop(): void;
}

function startServer(name: ServerName): Promise<Started> {
  const file = fileURLToPath(import.meta.url);
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
  const args = isDeno
    ? ["run", "-A", file, `--serve=${name}`]
    : [file, `--serve=${name}`];
  const child = spawn(
    "taskset",
    ["-c", String(SERVER_CORE), process.execPath, ...args],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("error", reject);
    child.on("exit", (code) => {
      reject(new Error(`server ${name} exited (${code}) before listening`));
    });
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        child.removeAllListeners("exit");
        resolve({
          name,
          port: Number(m[1]),
          cpuSeconds: () => processCpuSeconds(child.pid!),
          stop: () => {
            child.stdin!.end();
            child.kill();
          },
        });
      }
    });
  });
}

interface WrkRun {
  requestsPerSec: number;
  requests: number;
  errors: number;
}

/** Runs wrk on the cores apart from the servers'. */
function wrk(
  port: number,
  seconds: number,
  connections: number,
): Promise<WrkRun> {
  const child = spawn("taskset", [
    "-c",
    SERVER_CORE === 1 ? "0" : `0-${SERVER_CORE - 1}`,
    "wrk",
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    `http://127.0.0.1:${port}/`,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => stdout += c);
  child.stderr.setEncoding("utf8").on("data", (c: string) => stderr += c);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        reject(new Error(`wrk failed (exit ${code}): ${stderr}${stdout}`));
        return;
      }
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      const total = /(\d+) requests in/.exec(stdout);
      if (!rps || !total) {
        reject(new Error(`unreadable wrk output: ${stdout}`));
        return;
      }
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
      const socket =
        /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
          .exec(stdout);
      resolve({
        requestsPerSec: Number(rps[1]),
        requests: Number(total[1]),
        errors: Number(non2xx?.[1] ?? 0) +
          (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
      });
    });
  });
}

const round2 = (n: number) => Math.round(n * 100) / 100;

async function drive(): Promise<void> {
  if (SERVER_CORE < 1 || spawnSync("taskset", ["-c", "0", "true"]).status) {
    throw new Error(
      "The HTTP benchmark needs two cores and taskset (util-linux)",
    );
  }
  const rounds = Number(flag("rounds") ?? 20);
  const seconds = Number(flag("seconds") ?? 2);
  const connections = Number(flag("connections") ?? 32);
  const json = argv.includes("--json");
  const loadStart = loadavg().map(round2);
  const servers: Started[] = [];
  try {
    for (const name of SERVERS) servers.push(await startServer(name));
    const sent = new Map<ServerName, number>(SERVERS.map((n) => [n, 0]));
    const solo: Record<string, number> = {};
    for (const s of servers) {
      const r = await wrk(s.port, 2, connections);
      solo[s.name] = Math.round(r.requestsPerSec);
      sent.set(s.name, r.requests);
    }
    const bare = servers.find((s) => s.name === "bare")!;
    const others = servers.filter((s) => s !== bare);
    /** Per server: its requests/s, and bare's in the same windows. */
    const rps = new Map<ServerName, number[]>(SERVERS.map((n) => [n, []]));
    const bareRps = new Map<ServerName, number[]>(SERVERS.map((n) => [n, []]));
    /** The server's CPU time per request, in µs. */
    const cpuPerRequest = new Map<ServerName, number[]>(
      SERVERS.map((n) => [n, []]),
    );
    let errors = 0;
    for (let round = 0; round < rounds; round++) {
      const order = others.map((_, i) => others[(i + round) % others.length]);
      for (const s of order) {
        const pair = [bare, s];
        const cpu = pair.map((p) => p.cpuSeconds());
        const runs = await Promise.all(
          pair.map((p) => wrk(p.port, seconds, connections)),
        );
        pair.forEach((p, i) => {
          cpuPerRequest.get(p.name)!.push(
            (p.cpuSeconds() - cpu[i]) * 1e6 / runs[i].requests,
          );
          sent.set(p.name, sent.get(p.name)! + runs[i].requests);
          errors += runs[i].errors;
        });
        rps.get(s.name)!.push(runs[1].requestsPerSec);
        bareRps.get(s.name)!.push(runs[0].requestsPerSec);
        rps.get("bare")!.push(runs[0].requestsPerSec);
        if (!json) {
          console.log(
            `round ${round + 1} ${s.name} ${
              Math.round(runs[1].requestsPerSec)
            } req/s, bare ${Math.round(runs[0].requestsPerSec)} req/s`,
          );
        }
      }
    }
    // Each metrics server must have counted what wrk sent (wrk counts the
    // responses it got; requests cut at the end of a run may add a few).
    const counted: Record<string, number> = {};
    for (const s of servers) {
      if (s.name === "bare") continue;
      const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`))
        .text();
      let n = 0;
      for (const line of text.split("\n")) {
        if (line.startsWith("http_requests_total{") && line.includes('"/"')) {
          n += Number(line.slice(line.lastIndexOf(" ") + 1));
        }
      }
      counted[s.name] = n;
    }
    // Empty (and the median null) for a server left out by --servers.
    /** Of each round: a / bare in the same window. */
    const toBare = (a: ServerName) =>
      (rps.get(a) ?? []).map((x, i) => x / bareRps.get(a)![i]);
    /** Of each round: a / b, both against bare (b's ratio divides a's). */
    const ratios = (a: ServerName, b: ServerName) => {
      const bs = b === "bare" ? undefined : toBare(b);
      return toBare(a).map((x, i) => round2(x / (bs ? bs[i] ?? NaN : 1)));
    };
    const result = {
      runtime: runtime(),
      loadavg: { start: loadStart, end: loadavg().map(round2) },
      rounds,
      seconds,
      soloRps: solo,
      connections,
      medianRps: Object.fromEntries(
        SERVERS.map((n) => [n, Math.round(median(rps.get(n)!))]),
      ),
      cpuMicrosPerRequest: Object.fromEntries(
        SERVERS.map((n) => [n, round2(median(cpuPerRequest.get(n)!))]),
      ),
      cpuByRound: Object.fromEntries(
        SERVERS.map((n) => [n, cpuPerRequest.get(n)!.map(round2)]),
      ),
      roundRps: Object.fromEntries(
        SERVERS.map((n) => [n, rps.get(n)!.map(Math.round)]),
      ),
      weirVsBare: round2(median(ratios("weir", "bare"))),
      weirVsBareByRound: ratios("weir", "bare"),
      weirVsHonoProm: round2(median(ratios("weir", "hono-prom"))),
      weirVsHonoPromByRound: ratios("weir", "hono-prom"),
      honoPromVsBare: round2(median(ratios("hono-prom", "bare"))),
      middlewareVsBare: round2(median(ratios("weir-mw", "bare"))),
      middlewareVsBareByRound: ratios("weir-mw", "bare"),
      middlewareVsHonoProm: round2(median(ratios("weir-mw", "hono-prom"))),
      connVsBare: round2(median(ratios("weir+conn", "bare"))),
      connVsBareByRound: ratios("weir+conn", "bare"),
      sent: Object.fromEntries(sent),
      counted,
      errors,
    };
    if (json) console.log(`RESULT ${JSON.stringify(result)}`);
    else console.log(JSON.stringify(result, null, 2));
  } finally {
    for (const s of servers) s.stop();
  }
}

const served = flag("serve");
if (served !== undefined) await serveOne(served as ServerName);
else await drive();
