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
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  alternateRounds,
  cores,
  type RoutePair,
  type ServerProcess,
  startListening,
  startWeirServe,
} from "./_serve.ts";

type Runtime = "bun" | "deno";

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const self = fileURLToPath(import.meta.url);
const bin = (rt: Runtime) => join(root, "node_modules", ".bin", rt);

/** The body both servers echo. */
const BODY = '{"sensor":"s-17","value":21.5,"unit":"C","ok":true,"n":[1,2]}';

/** The echo flow weir serves. */
const ECHO_FLOW = `# @name echo
'POST' -> method In(http/In)
'/echo' -> path In
In out -> in Out(http/Response)
`;

/** `--bare`: serve the bare Hono echo; prints `LISTENING port`. */
async function bare(): Promise<void> {
  const { Hono } = await import("hono");
  const app = new Hono();
  app.post("/echo", async (c) => c.json(await c.req.json()));
  app.get("/healthz", (c) => c.text("ok"));
  const g = globalThis as unknown as {
    Deno?: {
      serve(
        o: { hostname: string; port: number; onListen(): void },
        h: (r: Request) => Response | Promise<Response>,
      ): { addr: { port: number } };
    };
    Bun?: {
      serve(
        o: {
          hostname: string;
          port: number;
          fetch: (r: Request) => Response | Promise<Response>;
        },
      ): { port: number };
    };
  };
  const port = g.Deno
    ? g.Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      app.fetch,
    ).addr.port
    : g.Bun!.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch }).port;
  console.log(`LISTENING ${port}`);
}

/** The weir command (without `serve`) for `rt`, building the executable on Bun. */
function weirCommand(rt: Runtime, work: string): string[] {
  if (rt === "deno") {
    return [bin("deno"), "run", "-A", join(root, "src", "cli", "main.ts")];
  }
  const given = flag("exe");
  if (given !== undefined) return [given];
  const r = spawnSync(bin("bun"), [
    join(root, "scripts", "compile.ts"),
    `--outdir=${work}`,
  ], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot compile: ${r.stderr}${r.stdout}`);
  return [join(work, "weir")];
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
    const script = join(work, "post.lua");
    writeFileSync(
      script,
      `wrk.method = "POST"\nwrk.body = '${BODY}'\n` +
        `wrk.headers["Content-Type"] = "application/json"\n`,
    );
    const echo = join(work, "echo.fbp");
    writeFileSync(echo, ECHO_FLOW);
    const command = weirCommand(rt, work);
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
          body: BODY,
        },
      );
      const text = await res.text();
      if (res.status !== 200 || text !== BODY) {
        throw new Error(`${side} answered ${res.status} ${text}`);
      }
    }
    console.log(
      `${rt}: weir ${
        command.join(" ")
      } (pid ${weir.pid}, port ${weir.port}), bare pid ${base.pid}; body ${BODY.length} bytes`,
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
      heading: `${rt} ${versionOf(rt)}`,
    });
  } finally {
    weir?.stop();
    base?.stop();
    // Give weir a moment to close its history before its folder goes.
    await new Promise((resolve) => setTimeout(resolve, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

function versionOf(rt: Runtime): string {
  const r = spawnSync(bin(rt), ["--version"], { encoding: "utf8" });
  return (r.stdout ?? "").split("\n")[0].trim();
}

async function main(): Promise<void> {
  const rtFlag = flag("runtime");
  if (rtFlag !== undefined && rtFlag !== "bun" && rtFlag !== "deno") {
    throw new RangeError(
      `Cannot benchmark: --runtime must be bun or deno, received "${rtFlag}"`,
    );
  }
  const runtimes: Runtime[] = rtFlag === undefined ? ["bun", "deno"] : [rtFlag];
  const rounds = Number(flag("rounds") ?? 6);
  const seconds = Number(flag("seconds") ?? 3);
  const results: Record<string, unknown> = {};
  for (const rt of runtimes) results[rt] = await measure(rt, rounds, seconds);
  if (argv.includes("--json")) {
    console.log(`RESULT ${JSON.stringify({ rounds, seconds, ...results })}`);
  }
}

if (argv.includes("--bare")) await bare();
else await main();
