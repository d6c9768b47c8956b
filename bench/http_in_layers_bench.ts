/**
 * Where the echo of `bench/http_in_bench.ts` spends its time, layer by
 * layer (issue 16): the same JSON echo served by five servers, each one
 * layer more of weir's than the one before, side by side in one run:
 *
 *   bun bench/http_in_layers_bench.ts                  # Deno, 8 rounds of 2 s
 *   bun bench/http_in_layers_bench.ts --runtime=bun
 *   bun bench/http_in_layers_bench.ts --rounds=12 --seconds=3
 *
 * (`deno run -A bench/http_in_layers_bench.ts` runs it too.)
 *
 * 0. `bare`: a Hono app, `POST /echo` -> `c.json(await c.req.json())`,
 *    served by the runtime's own server (as `http_in_bench.ts --bare`).
 * 1. `serve`: the same app through weir's `serve()` (`src/runtime/serve.ts`:
 *    the peers of a sample of requests for the connection metrics; on Deno
 *    the header timeout's note of every request not answered at once).
 * 2. `metrics`: 1 with `httpMetricsFetch()` around the app, and the
 *    connection metrics, as `weir serve` has them.
 * 3. `http/In`: 2 with the route served by `httpInRoutes()` and an
 *    `HttpInRouter` whose route hands each message straight to
 *    `toHttpResponse()` (`http/Response`'s answer) instead of a flow.
 * 4. `weir serve`: the real server from source (`src/cli/main.ts serve`)
 *    with the echo flow of `http_in_bench.ts` from a graph file: the
 *    engine, the guards, the whole app, the history and the resource
 *    tracker beside it.
 *
 * All five run at once, pinned to the last core; `wrk -t1 -c16` posting
 * the same 61-byte body drives one at a time from the other core(s),
 * round-robin (the first server of each round moves by one), after one
 * warm-up window each. Printed: each server's median CPU µs a request
 * (/proc, whole process), its median req/s, and the median over rounds of
 * its CPU a request against `bare`'s of the same round. Every window must
 * have no error and no non-2xx answer.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { loadAverage, median, processCpuSeconds } from "./_measure.ts";
import {
  benchFlag,
  cores,
  ECHO_FLOW,
  runtimeBin,
  runtimeVersion,
  serveBare,
  type ServerProcess,
  startListening,
  writeEchoScript,
  wrk,
} from "./_serve.ts";

const self = fileURLToPath(import.meta.url);
const root = dirname(dirname(self));

const LAYERS = ["bare", "serve", "metrics", "http/In", "weir serve"] as const;

/** `--layer=N`: serves layer N (0-3); prints `LISTENING port`. */
async function serveLayer(layer: number): Promise<void> {
  const { Hono } = await import("hono");
  const app = new Hono();
  app.post("/echo", async (c) => c.json(await c.req.json()));
  if (layer >= 3) {
    const { HttpInRouter } = await import(
      "../src/components/http_in_router.ts"
    );
    const { compileRoutePattern } = await import(
      "../src/components/http_route_pattern.ts"
    );
    const { toHttpResponse } = await import("../src/components/http_in.ts");
    const { httpInRoutes } = await import("../src/server/http_in_routes.ts");
    const router = new HttpInRouter();
    router.add({
      flow: "echo",
      process: "In",
      methods: ["POST"],
      pattern: compileRoutePattern("/echo"),
      timeoutMs: 30_000,
      maxBodyBytes: 1 << 20,
      maxPending: 1000,
      deliver: (m) =>
        void router.respond(
          "echo",
          m.requestId,
          toHttpResponse(m as unknown as Record<string, unknown>),
        ),
    });
    app.route("/", httpInRoutes(router));
  }
  if (layer === 0) {
    const port = serveBare(app.fetch);
    console.log(`LISTENING ${port}`);
    return;
  }
  const { serve } = await import("../src/runtime/serve.ts");
  const { MetricsCollector } = await import("../src/metrics/collector.ts");
  const { connectionMetrics, httpMetricsFetch } = await import(
    "../src/metrics/http_metrics.ts"
  );
  let fetch = (r: Request, env: unknown) => app.fetch(r, env);
  const server = await serve((r, env) => fetch(r, env), {
    hostname: "127.0.0.1",
    port: 0,
  });
  if (layer >= 2) {
    const collector = new MetricsCollector();
    fetch = httpMetricsFetch(app, collector);
    connectionMetrics(collector, server.connections);
  }
  console.log(`LISTENING ${new URL(server.url).port}`);
}

async function main(): Promise<void> {
  const rt = benchFlag("runtime") ?? "deno";
  if (rt !== "bun" && rt !== "deno") {
    throw new RangeError(`--runtime must be bun or deno, received "${rt}"`);
  }
  const rounds = Number(benchFlag("rounds") ?? 8);
  const seconds = Number(benchFlag("seconds") ?? 2);
  const bin = runtimeBin(rt);
  const run = rt === "bun" ? [bin] : [bin, "run", "-A"];
  const work = mkdtempSync(join(tmpdir(), "weir-http-layers-"));
  const script = writeEchoScript(work);
  const graph = join(work, "echo.fbp");
  writeFileSync(graph, ECHO_FLOW);
  const { server: core, wrk: wrkCores } = cores();
  const servers: ServerProcess[] = [];
  try {
    for (let layer = 0; layer < 4; layer++) {
      servers.push(
        await startListening([...run, self, `--layer=${layer}`], {
          core,
          cwd: root,
          from: "stdout",
          pattern: /LISTENING (\d+)/,
        }),
      );
    }
    servers.push(
      await startListening([
        ...run,
        join(root, "src", "cli", "main.ts"),
        "serve",
        "--port",
        "0",
        "--db",
        join(work, "weir.db"),
        graph,
      ], {
        core,
        cwd: work,
        from: "stderr",
        pattern: /"url":"http:\/\/127\.0\.0\.1:(\d+)/,
        env: { ...process.env, WEIR_LOG_FORMAT: "json" },
      }),
    );
    const url = (i: number) =>
      `http://127.0.0.1:${servers[i].port}${i < 3 ? "/echo" : "/in/echo/echo"}`;
    const window = (i: number, s: number) => {
      const before = processCpuSeconds(servers[i].pid);
      const w = wrk(url(i), {
        seconds: s,
        cores: wrkCores,
        connections: 16,
        script,
      });
      const cpu = processCpuSeconds(servers[i].pid) - before;
      if (w.errors > 0) {
        throw new Error(`${LAYERS[i]}: ${w.errors} errors or non-2xx answers`);
      }
      return { rps: w.rps, cpuUs: (cpu * 1e6) / (w.rps * s) };
    };
    const load = loadAverage();
    for (let i = 0; i < servers.length; i++) window(i, 6);
    const cpu: number[][] = LAYERS.map(() => []);
    const rps: number[][] = LAYERS.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < servers.length; k++) {
        const i = (k + r) % servers.length;
        const w = window(i, seconds);
        cpu[i].push(w.cpuUs);
        rps[i].push(w.rps);
      }
      console.log(
        `round ${r + 1}: CPU µs a request ${
          cpu.map((c, i) => `${LAYERS[i]} ${c[r].toFixed(2)}`).join(", ")
        }`,
      );
    }
    console.log(
      `\n${
        runtimeVersion(rt)
      }: wrk -t1 -c16, ${rounds} rounds of ${seconds} s; load ${
        load.join(" ")
      } before, ${loadAverage().join(" ")} after`,
    );
    console.log(
      "| layer | CPU µs a request | beyond the layer before | against bare (median of rounds) | req/s |",
    );
    console.log("|---|---:|---:|---:|---:|");
    for (let i = 0; i < LAYERS.length; i++) {
      const m = median(cpu[i]);
      const prev = i === 0 ? undefined : median(cpu[i - 1]);
      console.log(
        `| ${i}. ${LAYERS[i]} | ${m.toFixed(2)} | ${
          prev === undefined
            ? ""
            : `${m - prev >= 0 ? "+" : ""}${(m - prev).toFixed(2)}`
        } | ${median(cpu[i].map((c, r) => c / cpu[0][r])).toFixed(3)} | ${
          Math.round(median(rps[i])).toLocaleString("en-US")
        } |`,
      );
    }
  } finally {
    for (const s of servers) s.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const layerFlag = benchFlag("layer");
if (layerFlag !== undefined) await serveLayer(Number(layerFlag));
else await main();
