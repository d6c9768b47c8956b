/**
 * The server as a user runs it against a bare Hono app on the same
 * runtime (issue 19, section 1):
 *
 *   bun bench/serve_bench.ts                    # Bun and Deno, 6 rounds of 3 s
 *   bun bench/serve_bench.ts --runtime=deno     # one runtime
 *   bun bench/serve_bench.ts --rounds=4 --seconds=2
 *   bun bench/serve_bench.ts --exe=dist/weir    # an executable built already
 *   bun bench/serve_bench.ts --tree=/tmp/old    # weir from another checkout
 *   bun bench/serve_bench.ts --json             # also one line `RESULT {json}`
 *
 * (`deno run -A bench/serve_bench.ts` runs it too.)
 *
 * weir: on Bun, the single executable (`bun build --compile src/cli/main.ts`
 * by `scripts/compile.ts`, built into a temporary folder unless `--exe`
 * names one); on Deno, `deno run -A src/cli/main.ts`. Each
 * runs `serve --port 0 --db <temp>/weir.db <temp>/weir.fbp`: its own
 * database, its metric history under the same temporary folder (on, as
 * `weir serve`'s default), one running flow `f1` from a graph file of
 * built-in components, no token (the loopback default: the Host guard,
 * cross-site guard, access guard, failed-attempt limiter, request limits,
 * HTTP and connection metrics all on).
 *
 * Bare: this file with `--bare`, a Hono app served by `Bun.serve({ fetch:
 * app.fetch })` or `Deno.serve(app.fetch)`: `GET /healthz` -> `ok`
 * (`c.text()`, the shortest answer a health route gives), `GET /health`
 * -> the body weir answered to `GET /healthz` (`{"status":"ok"}`),
 * `GET /items/1` -> the body weir answered to `GET /flows/f1`, and
 * `GET /items` -> the body of weir's `GET /flows`, each of these three
 * parsed once at start and stringified per request by `c.json()` (same
 * size, same shape). weir's `/healthz` is measured against both bare
 * health routes: answering `ok` by `c.text()` costs the bare app less than
 * weir's own answer would (Bun about 11%, Deno 6% of its CPU a request;
 * bench/RESULTS.md "Session 31").
 *
 * Both servers run at once, pinned to the last core; `wrk -t2 -c32
 * --latency` drives one route of one server at a time from the other
 * core(s) for `--seconds`. Each round measures every route on both sides,
 * who goes first alternating by round (A B, then B A). One warm-up window
 * per route and side is not counted. Per route it prints the median req/s
 * of each side, the median of the rounds' weir/bare ratios (the steadiest
 * figure on a shared machine), the median p50/p99 latency, and the load
 * average before and after. Every window must have no error and no
 * non-2xx answer (wrk's timeouts, which a loaded machine causes, are
 * printed and counted in nothing else). "CPU µs/request" is the server
 * process's CPU time (all threads, from /proc/PID/stat) over a window
 * divided by the
 * requests it answered: the cost per request, which the other work on a
 * shared machine disturbs less than req/s.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  alternateRounds,
  benchFlag,
  type BenchRuntime,
  cores,
  runtimeBin,
  runtimesOf,
  runtimeVersion,
  serveBare,
  type ServerProcess,
  startListening,
  startWeirServe,
  weirCommand,
} from "./_serve.ts";

type Runtime = BenchRuntime;

const argv = process.argv.slice(2);
const flag = benchFlag;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const self = fileURLToPath(import.meta.url);
const bin = runtimeBin;

/** weir's route and the bare app's route that answers alike. */
const ROUTES: readonly { weir: string; bare: string }[] = [
  { weir: "/healthz", bare: "/healthz" },
  { weir: "/healthz", bare: "/health" },
  { weir: "/flows/f1", bare: "/items/1" },
  { weir: "/flows", bare: "/items" },
];

/** `--bare=<bodies.json>`: serve the bare Hono app; prints `LISTENING port`. */
async function bare(bodiesFile: string): Promise<void> {
  const { Hono } = await import("hono");
  const bodies = JSON.parse(readFileSync(bodiesFile, "utf8")) as {
    health: unknown;
    item: unknown;
    list: unknown;
  };
  const app = new Hono();
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/health", (c) => c.json(bodies.health));
  app.get("/items/:id", (c) => c.json(bodies.item));
  app.get("/items", (c) => c.json(bodies.list));
  const port = serveBare(app.fetch);
  console.log(`LISTENING ${port}`);
}

async function measure(
  rt: Runtime,
  rounds: number,
  seconds: number,
): Promise<Record<string, unknown>> {
  const work = mkdtempSync(join(tmpdir(), `weir-serve-bench-${rt}-`));
  const core = cores().server;
  let weir: ServerProcess | undefined;
  let base: ServerProcess | undefined;
  try {
    const exe = flag("exe");
    const command = rt === "bun" && exe !== undefined
      ? [exe]
      : weirCommand(rt, flag("tree") ?? root, work);
    weir = await startWeirServe(command, { core, work, name: "weir" });
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${weir!.port}${path}`);
      if (res.status !== 200) {
        throw new Error(`weir answered GET ${path} with ${res.status}`);
      }
      return await res.text();
    };
    const health = await get("/healthz");
    const item = await get("/flows/f1");
    const list = await get("/flows");
    const bodies = join(work, "bodies.json");
    writeFileSync(
      bodies,
      JSON.stringify({
        health: JSON.parse(health),
        item: JSON.parse(item),
        list: JSON.parse(list),
      }),
    );
    const bareArgs = rt === "bun"
      ? [bin("bun"), self, `--bare=${bodies}`]
      : [bin("deno"), "run", "-A", self, `--bare=${bodies}`];
    base = await startListening(bareArgs, {
      core,
      cwd: root,
      from: "stdout",
      pattern: /LISTENING (\d+)/,
    });
    console.log(
      `${rt}: weir ${
        command.join(" ")
      } (pid ${weir.pid}, port ${weir.port}), bare pid ${base.pid}; ` +
        `GET /flows/f1 ${item.length} bytes, GET /flows ${list.length} bytes`,
    );
    return alternateRounds({
      weir,
      bare: base,
      pairs: ROUTES.map((r) => ({
        label: `\`GET ${r.weir}\` vs \`GET ${r.bare}\``,
        ...r,
      })),
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
  const results: Record<string, unknown> = {};
  for (const rt of runtimes) results[rt] = await measure(rt, rounds, seconds);
  if (argv.includes("--json")) {
    console.log(`RESULT ${JSON.stringify({ rounds, seconds, ...results })}`);
  }
}

const bareBodies = flag("bare");
if (bareBodies !== undefined) await bare(bareBodies);
else await main();
