/**
 * What a flow read's HTTP features cost on each runtime's own server,
 * without Hono or weir around them (issue 19, section 1): a JSON answer
 * as weir makes it (on Bun a kept `Blob` typed JSON, on Deno the text
 * with one `Content-Type`), then the same with an `ETag` header, with the
 * request's `If-None-Match` read, and with both (what `GET /flows/:id`
 * does).
 *
 *   bun bench/response_features_bench.ts                 # Bun and Deno
 *   bun bench/response_features_bench.ts --runtime=deno  # one runtime
 *   bun bench/response_features_bench.ts --rounds=8 --seconds=2
 *
 * One server process per runtime, pinned to the last core, answers every
 * variant by its path; `wrk -t1 -c32` on the other core(s) drives one
 * variant at a time, the variants' order rotating by round. Per variant:
 * the median over the rounds of the server's CPU time (all threads, from
 * /proc) per request, and its difference from the plain answer. CPU per
 * request is the figure: wrk and the server do not share a core, so it is
 * what the server pays, whatever else the machine does.
 *
 * The body is the 841 bytes `GET /flows/f1` answered for the serve
 * benchmark's flow (the same JSON, built here).
 *
 * @module
 */
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { median, processCpuSeconds } from "./_measure.ts";
import {
  benchFlag,
  type BenchRuntime,
  cores,
  FLOW_F1,
  runtimeBin,
  runtimesOf,
  runtimeVersion,
  type ServerProcess,
  startListening,
  wrk,
} from "./_serve.ts";

type Runtime = BenchRuntime;

const argv = process.argv.slice(2);
const flag = benchFlag;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const self = fileURLToPath(import.meta.url);
const bin = runtimeBin;

/** The variants, by path: what the handler does besides the plain answer. */
const VARIANTS = ["plain", "etag", "if-none-match", "both"] as const;

/** A flow read's body, as large as the serve benchmark's (841 bytes). */
function flowBody(): string {
  const text = FLOW_F1;
  const at = "2026-12-05T21:33:36.340Z";
  return JSON.stringify({
    id: "f1",
    rev: 1,
    format: "fbp",
    running: true,
    state: "running",
    restart: "never",
    required: false,
    restarts: 0,
    processes: 3,
    createdAt: at,
    updatedAt: at,
    startedAt: at,
    source: { format: "fbp", text },
    graph: {
      caseSensitive: true,
      properties: { name: "f1" },
      inports: {},
      outports: {},
      groups: [],
      processes: {
        Tick: { component: "core/Interval" },
        Count: { component: "flow/Counter" },
        Drop: { component: "core/Drop" },
      },
      connections: [
        { data: "1s", tgt: { process: "Tick", port: "interval" } },
        {
          src: { process: "Tick", port: "out" },
          tgt: { process: "Count", port: "in" },
        },
        {
          src: { process: "Count", port: "out" },
          tgt: { process: "Drop", port: "in" },
        },
      ],
    },
  });
}

/** `--serve`: answers the variants; prints `LISTENING port`. */
function serve(): void {
  const text = flowBody();
  const g = globalThis as unknown as {
    Deno?: {
      serve(
        o: { hostname: string; port: number; onListen(): void },
        h: (r: Request) => Response,
      ): { addr: { port: number } };
    };
    Bun?: {
      serve(
        o: { hostname: string; port: number; fetch: (r: Request) => Response },
      ): { port: number };
    };
  };
  // As weir's _jsonResponse answers a kept body on each runtime.
  const blob = new Blob([text], { type: "application/json" });
  const type = { "Content-Type": "application/json" };
  const answer = g.Bun !== undefined
    ? () => new Response(blob)
    : () => new Response(text, { headers: type });
  const handle = (request: Request): Response => {
    const url = request.url;
    const variant = url.slice(url.lastIndexOf("/") + 1);
    let etag = false;
    if (variant === "if-none-match" || variant === "both") {
      if (request.headers.get("If-None-Match") === '"1"') {
        return new Response(null, { status: 304 });
      }
      etag = variant === "both";
    } else if (variant === "etag") {
      etag = true;
    } else if (variant !== "plain") {
      return new Response("no such variant", { status: 404 });
    }
    const res = answer();
    if (etag) res.headers.set("ETag", '"1"');
    return res;
  };
  const port = g.Deno
    ? g.Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handle)
      .addr.port
    : g.Bun!.serve({ hostname: "127.0.0.1", port: 0, fetch: handle }).port;
  console.log(`LISTENING ${port}`);
}

async function measure(
  rt: Runtime,
  rounds: number,
  seconds: number,
): Promise<Record<string, number>> {
  const { server: core, wrk: wrkCores } = cores();
  const args = rt === "bun"
    ? [bin("bun"), self, "--serve"]
    : [bin("deno"), "run", "-A", self, "--serve"];
  let server: ServerProcess | undefined;
  try {
    server = await startListening(args, {
      core,
      cwd: root,
      from: "stdout",
      pattern: /LISTENING (\d+)/,
    });
    const url = (v: string) => `http://127.0.0.1:${server!.port}/${v}`;
    // Warm-up: one window per variant, not counted.
    for (const v of VARIANTS) wrk(url(v), { seconds: 1, cores: wrkCores });
    const cpu: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < VARIANTS.length; i++) {
        const v = VARIANTS[(i + r) % VARIANTS.length];
        const before = processCpuSeconds(server.pid);
        const w = wrk(url(v), { seconds, cores: wrkCores });
        const used = processCpuSeconds(server.pid) - before;
        if (w.errors > 0) {
          throw new Error(`${rt} ${v}: wrk saw errors: ${w.errorText}`);
        }
        (cpu[v] ??= []).push(used * 1e6 / (w.rps * seconds));
      }
    }
    const result: Record<string, number> = {};
    for (const v of VARIANTS) result[v] = median(cpu[v]);
    const plain = result.plain;
    console.log(
      `\n${runtimeVersion(rt)}: wrk -t1 -c32, ${rounds} rounds of ${seconds} s`,
    );
    console.log(
      "| answer | CPU µs/request (median) | beyond the plain answer | rounds |",
    );
    console.log("|---|---:|---:|---|");
    for (const v of VARIANTS) {
      console.log(
        `| ${v} | ${result[v].toFixed(2)} | ${
          v === "plain" ? "" : `${(result[v] - plain).toFixed(2)}`
        } | ${cpu[v].map((x) => x.toFixed(1)).join(", ")} |`,
      );
    }
    return result;
  } finally {
    server?.stop();
  }
}

async function main(): Promise<void> {
  const runtimes = runtimesOf(flag("runtime"));
  const rounds = Number(flag("rounds") ?? 8);
  const seconds = Number(flag("seconds") ?? 2);
  for (const rt of runtimes) await measure(rt, rounds, seconds);
}

if (argv.includes("--serve")) serve();
else await main();
