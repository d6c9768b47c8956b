/**
 * `http/In -> http/Response` echo in the real `weir serve` against a bare
 * Hono route echoing the same body on the same runtime (issue 16: at least
 * 0.8x of bare Hono's requests/s):
 *
 *   bun bench/http_in_bench.ts                    # Bun and Deno, 6 rounds of 3 s
 *   bun bench/http_in_bench.ts --runtime=deno     # one runtime
 *   bun bench/http_in_bench.ts --rounds=2 --seconds=2
 *   bun bench/http_in_bench.ts --exe=dist/weir    # an executable built already
 *   bun bench/http_in_bench.ts --json             # also one line `RESULT {json}`
 *   bun bench/http_in_bench.ts --baseline         # also GET /healthz on both: the
 *                                                 # server's own cost, same run
 *   bun bench/http_in_bench.ts --ops              # what reading a request costs
 *                                                 # on each runtime (see below)
 *
 * (`deno run -A bench/http_in_bench.ts` runs it too.)
 *
 * weir: on Bun, the single executable (built by `scripts/compile.ts` into a
 * temporary folder unless `--exe` names one); on Deno, `deno run -A
 * src/cli/main.ts`. Each runs `weir serve` as `bench/_serve.ts` starts it
 * (its own database, history on, no token: every guard and the HTTP
 * metrics on) with one more graph file, the flow `echo`:
 * `'POST' -> method In(http/In)`, `'/echo' -> path In`,
 * `In out -> in Out(http/Response)`. A request to `POST /in/echo/echo`
 * becomes a message (its JSON body parsed), goes through the flow's
 * connection to `http/Response`, which answers it with the body as JSON.
 *
 * Bare: this file with `--bare`, a Hono app served by `Bun.serve` or
 * `Deno.serve`: `POST /echo` -> `c.json(await c.req.json())`, the same
 * parse and stringify of the same body.
 *
 * Both servers run at once, pinned to the last core; `wrk -t2 -c32
 * --latency` with a Lua script that posts the same 58-byte JSON body drives
 * one server at a time from the other core(s) for `--seconds`, who goes
 * first alternating by round (A B, then B A), after one warm-up window each.
 * It prints per round the req/s of each and their ratio, then the medians,
 * p50/p99 latency, CPU µs per request of each server process, and the load
 * average before and after. Every window must have no error and no
 * non-2xx answer.
 *
 * `--ops`: the price of each thing a server may read of a request, timed
 * inside the handler of a plain `Bun.serve`/`Deno.serve` (this file with
 * `--probe`) on the requests of `wrk` posting the same body (real sockets:
 * a request made in the process has its headers and URL built already,
 * so it hides these costs). Each is timed with `performance.now()` around
 * it, minus the cost of an empty pair; the median of 3 windows. Timed
 * inside one process, the figures stay put on a loaded machine far better
 * than requests/s do; they are inflated by the load like any CPU time.
 *
 * What the weir server reads per request, for the lead's sums (issue 16,
 * 19): the peer (Deno: every request, for the header timeout; Bun: a
 * sample), the `Content-Length` (HTTP metrics, non-GET), every header as
 * an object (`http/In`'s message), the URL (Hono, and the Host check).
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { loadAverage, median } from "./_measure.ts";
import {
  alternateRounds,
  benchFlag,
  type BenchRuntime,
  cores,
  ECHO_BODY,
  ECHO_FLOW,
  type RoutePair,
  runtimeBin,
  runtimesOf,
  runtimeVersion,
  serveBare,
  type ServerProcess,
  startListening,
  startWeirServe,
  weirCommand,
  writeEchoScript,
  wrk,
} from "./_serve.ts";

type Runtime = BenchRuntime;

const argv = process.argv.slice(2);
const flag = benchFlag;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const self = fileURLToPath(import.meta.url);
const bin = runtimeBin;

/** `--bare`: serve the bare Hono echo; prints `LISTENING port`. */
async function bare(): Promise<void> {
  const { Hono } = await import("hono");
  const app = new Hono();
  app.post("/echo", async (c) => c.json(await c.req.json()));
  app.get("/healthz", (c) => c.text("ok"));
  const port = serveBare(app.fetch);
  console.log(`LISTENING ${port}`);
}

/** The request reads `--ops` times, in the order the probe makes them. */
const OPS = [
  "url (first read)",
  "url (again)",
  "method",
  "peer address (Deno info.remoteAddr, Bun server.requestIP)",
  'headers.get("content-type") (first header read)',
  'headers.get("content-length") (next one)',
  "every header into an object (forEach)",
] as const;

/**
 * `--probe`: a server that times the reads of {@linkcode OPS} on every
 * request it gets and answers `GET /report` with the mean of each (ns,
 * minus an empty timing); prints `LISTENING port`.
 */
function probe(): void {
  const sums = new Float64Array(OPS.length + 1);
  let n = 0;
  let sink = 0;
  const handle = (request: Request, peer: () => number): Response => {
    if (request.method === "GET") {
      const report: Record<string, number> = {};
      OPS.forEach((op, i) => {
        report[op] = Math.round((sums[i] - sums[OPS.length]) / n * 1e6);
      });
      return Response.json({ requests: n, ns: report });
    }
    const t: number[] = [performance.now()];
    sink += request.url.length;
    t.push(performance.now());
    sink += request.url.length;
    t.push(performance.now());
    sink += request.method.length;
    t.push(performance.now());
    sink += peer();
    t.push(performance.now());
    sink += request.headers.get("content-type")?.length ?? 0;
    t.push(performance.now());
    sink += request.headers.get("content-length")?.length ?? 0;
    t.push(performance.now());
    const all: Record<string, string> = {};
    request.headers.forEach((v, k) => {
      all[k] = v;
    });
    t.push(performance.now());
    t.push(performance.now());
    for (let i = 0; i < sums.length; i++) sums[i] += t[i + 1] - t[i];
    n++;
    return new Response(sink > 0 ? "ok" : "");
  };
  const g = globalThis as unknown as {
    Deno?: {
      serve(
        o: { hostname: string; port: number; onListen(): void },
        h: (r: Request, info: { remoteAddr: { port: number } }) => Response,
      ): { addr: { port: number } };
    };
    Bun?: {
      serve(o: {
        hostname: string;
        port: number;
        fetch: (
          r: Request,
          s: { requestIP(r: Request): { port: number } | null },
        ) => Response;
      }): { port: number };
    };
  };
  const port = g.Deno
    ? g.Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (r, info) => handle(r, () => info.remoteAddr.port),
    ).addr.port
    : g.Bun!.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (r, server) => handle(r, () => server.requestIP(r)?.port ?? 0),
    }).port;
  console.log(`LISTENING ${port}`);
}

/** `--ops`: runs {@linkcode probe} on each runtime and prints the table. */
async function ops(runtimes: Runtime[], seconds: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "weir-http-ops-"));
  const script = writeEchoScript(work);
  const { server: core, wrk: wrkCores } = cores();
  const columns: Record<string, number>[] = [];
  try {
    for (const rt of runtimes) {
      const p = await startListening(
        rt === "bun"
          ? [bin("bun"), self, "--probe"]
          : [bin("deno"), "run", "-A", self, "--probe"],
        { core, cwd: root, from: "stdout", pattern: /LISTENING (\d+)/ },
      );
      try {
        const url = `http://127.0.0.1:${p.port}`;
        const windows: Record<string, number>[] = [];
        for (let i = 0; i < 3; i++) {
          // The probe's means are over every request so far: read the
          // change over this window.
          const before = await (await fetch(`${url}/report`)).json();
          wrk(`${url}/`, { seconds, cores: wrkCores, threads: 2, script });
          const after = await (await fetch(`${url}/report`)).json();
          const n = after.requests - before.requests;
          const w: Record<string, number> = {};
          for (const op of OPS) {
            w[op] = (after.ns[op] * after.requests -
              (before.requests > 0 ? before.ns[op] * before.requests : 0)) / n;
          }
          windows.push(w);
        }
        const col: Record<string, number> = {};
        for (const op of OPS) col[op] = median(windows.map((w) => w[op]));
        columns.push(col);
      } finally {
        p.stop();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(
    `\nReading a request, ns (median of 3 windows of ${seconds} s; load ${
      loadAverage().join(" ")
    }): ${runtimes.map(runtimeVersion).join(", ")}`,
  );
  console.log(`| read | ${runtimes.join(" | ")} |`);
  console.log(`|---|${runtimes.map(() => "---:").join("|")}|`);
  for (const op of OPS) {
    console.log(
      `| ${op} | ${columns.map((c) => Math.round(c[op])).join(" | ")} |`,
    );
  }
}

async function measure(
  rt: Runtime,
  rounds: number,
  seconds: number,
): Promise<Record<string, unknown>> {
  const work = mkdtempSync(join(tmpdir(), `weir-http-in-bench-${rt}-`));
  const core = cores().server;
  let weir: ServerProcess | undefined;
  let base: ServerProcess | undefined;
  try {
    const script = writeEchoScript(work);
    const echo = join(work, "echo.fbp");
    writeFileSync(echo, ECHO_FLOW);
    const exe = flag("exe");
    const command = rt === "bun" && exe !== undefined
      ? [exe]
      : weirCommand(rt, root, work);
    weir = await startWeirServe(command, {
      core,
      work,
      name: "weir",
      args: [echo],
    });
    const bareArgs = rt === "bun"
      ? [bin("bun"), self, "--bare"]
      : [bin("deno"), "run", "-A", self, "--bare"];
    base = await startListening(bareArgs, {
      core,
      cwd: root,
      from: "stdout",
      pattern: /LISTENING (\d+)/,
    });
    const paths = { weir: "/in/echo/echo", bare: "/echo" };
    for (const side of ["weir", "bare"] as const) {
      const server = side === "weir" ? weir : base;
      const res = await fetch(
        `http://127.0.0.1:${server.port}${paths[side]}`,
        {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: ECHO_BODY,
        },
      );
      const text = await res.text();
      if (res.status !== 200 || text !== ECHO_BODY) {
        throw new Error(`${side} answered ${res.status} ${text}`);
      }
    }
    console.log(
      `${rt}: weir ${
        command.join(" ")
      } (pid ${weir.pid}, port ${weir.port}), bare pid ${base.pid}; body ${ECHO_BODY.length} bytes`,
    );
    const pairs: RoutePair[] = [{
      label: "`POST /in/echo/echo` (http/In -> http/Response) vs `POST /echo`",
      weir: paths.weir,
      bare: paths.bare,
      script,
    }];
    if (argv.includes("--baseline")) {
      pairs.push({
        label: "`GET /healthz` vs `GET /healthz` (the server as shipped)",
        weir: "/healthz",
        bare: "/healthz",
      });
    }
    return alternateRounds({
      weir,
      bare: base,
      pairs,
      rounds,
      seconds,
      name: rt,
      heading: runtimeVersion(rt),
    });
  } finally {
    weir?.stop();
    base?.stop();
    // Give weir a moment to close its history before its folder goes.
    await new Promise((resolve) => setTimeout(resolve, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runtimes = runtimesOf(flag("runtime"));
  const rounds = Number(flag("rounds") ?? 6);
  const seconds = Number(flag("seconds") ?? 3);
  if (argv.includes("--ops")) return await ops(runtimes, seconds);
  const results: Record<string, unknown> = {};
  for (const rt of runtimes) results[rt] = await measure(rt, rounds, seconds);
  if (argv.includes("--json")) {
    console.log(`RESULT ${JSON.stringify({ rounds, seconds, ...results })}`);
  }
}

if (argv.includes("--bare")) await bare();
else if (argv.includes("--probe")) probe();
else await main();
