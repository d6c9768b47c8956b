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
 * Each server is warmed up with a short wrk run, then the servers are
 * driven one after the other for `--rounds` rounds, the order rotated and
 * reversed from round to round; figures are the medians over the rounds
 * and the ratio of each round. After the rounds each metrics server is
 * scraped once to check that it counted the requests wrk made.
 *
 * Run: `bun bench/http_bench.ts` or `deno run -A bench/http_bench.ts`;
 * `--json` prints one machine-readable line for `scripts/bench.ts`;
 * `--rounds=N` (default 8), `--seconds=S` per wrk run (default 3: this VM's throughput drifts by tens of percent from one run to the next, so more, shorter rounds),
 * `--connections=C` (default 32). `--serve=NAME` is the server process
 * itself (used by the driver).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { loadavg } from "node:os";
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
import { runtime } from "./_runtime.ts";

const SERVERS = ["bare", "weir", "weir-mw", "hono-prom", "weir+conn"] as const;
type ServerName = typeof SERVERS[number];

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/** The server process: listens, prints its port, exits when stdin ends. */
async function serveOne(name: ServerName): Promise<void> {
  if (!SERVERS.includes(name)) {
    throw new RangeError(
      `Cannot serve: --serve must be one of ${
        SERVERS.join(", ")
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
  stop(): void;
}

function startServer(name: ServerName): Promise<Started> {
  const file = fileURLToPath(import.meta.url);
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
  const args = isDeno
    ? ["run", "-A", file, `--serve=${name}`]
    : [file, `--serve=${name}`];
  const child = spawn(process.execPath, args, {
    stdio: ["pipe", "pipe", "inherit"],
  });
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

function wrk(port: number, seconds: number, connections: number): WrkRun {
  const r = spawnSync("wrk", [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    `http://127.0.0.1:${port}/`,
  ], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`wrk failed (exit ${r.status}): ${r.stderr}${r.stdout}`);
  }
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const total = /(\d+) requests in/.exec(r.stdout);
  if (!rps || !total) throw new Error(`unreadable wrk output: ${r.stdout}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  const socket =
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
      .exec(r.stdout);
  const errors = Number(non2xx?.[1] ?? 0) +
    (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(total[1]),
    errors,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round2 = (n: number) => Math.round(n * 100) / 100;

async function drive(): Promise<void> {
  const rounds = Number(flag("rounds") ?? 8);
  const seconds = Number(flag("seconds") ?? 3);
  const connections = Number(flag("connections") ?? 32);
  const json = argv.includes("--json");
  const loadStart = loadavg().map(round2);
  const servers: Started[] = [];
  try {
    for (const name of SERVERS) servers.push(await startServer(name));
    const sent = new Map<ServerName, number>(SERVERS.map((n) => [n, 0]));
    for (const s of servers) {
      sent.set(s.name, wrk(s.port, 2, connections).requests);
    }
    const rps = new Map<ServerName, number[]>(SERVERS.map((n) => [n, []]));
    let errors = 0;
    for (let round = 0; round < rounds; round++) {
      const order = servers.map((_, i) =>
        servers[(i + round) % servers.length]
      );
      if (round % 2 === 1) order.reverse();
      for (const s of order) {
        const r = wrk(s.port, seconds, connections);
        rps.get(s.name)!.push(r.requestsPerSec);
        sent.set(s.name, sent.get(s.name)! + r.requests);
        errors += r.errors;
        if (!json) {
          console.log(
            `round ${round + 1} ${s.name}: ${
              Math.round(r.requestsPerSec)
            } req/s`,
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
    const ratios = (a: ServerName, b: ServerName) =>
      rps.get(a)!.map((x, i) => round2(x / rps.get(b)![i]));
    const result = {
      runtime: runtime(),
      loadavg: { start: loadStart, end: loadavg().map(round2) },
      rounds,
      seconds,
      connections,
      medianRps: Object.fromEntries(
        SERVERS.map((n) => [n, Math.round(median(rps.get(n)!))]),
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
