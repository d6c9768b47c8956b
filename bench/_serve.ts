/**
 * What the HTTP side-by-side benchmarks share (`bench/versus.ts`,
 * `bench/serve_bench.ts`, `bench/http_in_bench.ts`, ...): the weir command
 * as a user runs it (the source on Deno, the single executable built by a
 * checkout's own `scripts/compile.ts` on Bun: {@linkcode weirCommand}),
 * starting a server process pinned to a core, starting `weir serve` with a
 * database of its own and one running flow, driving a URL with `wrk`, and
 * the alternating weir/bare rounds with their table
 * ({@linkcode alternateRounds}).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { loadAverage, median, processCpuSeconds } from "./_measure.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

/**
 * Builds the single executable of the weir checkout `tree` into the folder
 * `out`, with that checkout's own `scripts/compile.ts` (as `bun
 * scripts/compile.ts` does); returns the executable's path.
 */
export function compileWeir(tree: string, out: string): string {
  const r = spawnSync(bin("bun"), [
    join(tree, "scripts", "compile.ts"),
    `--outdir=${out}`,
  ], { cwd: tree, encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`cannot compile ${tree}: ${r.stderr}${r.stdout}`);
  }
  return join(out, "weir");
}

/**
 * The weir command (without its subcommand) of the checkout `tree` as a
 * user runs it: the source on Deno, the single executable on Bun (built
 * into `out` by {@linkcode compileWeir}).
 */
export function weirCommand(
  rt: "bun" | "deno",
  tree: string,
  out: string,
): string[] {
  if (rt === "deno") {
    return [bin("deno"), "run", "-A", join(tree, "src", "cli", "main.ts")];
  }
  return [compileWeir(tree, out)];
}

/** A server process started by this module. */
export interface ServerProcess {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Its pid. */
  pid: number;
  /** Stops it by its pid (SIGTERM). */
  stop(): void;
}

/**
 * The core the servers are pinned to (the last one) and the cores `wrk`
 * runs on (the others), so that the load generator never competes with
 * the servers for their core.
 */
export function cores(): { server: number; wrk: string } {
  const server = availableParallelism() - 1;
  return { server, wrk: server <= 1 ? "0" : `0-${server - 1}` };
}

/**
 * Starts `command` on `core` and resolves with its port once `pattern`
 * (whose first group is the port) appears on the stream `from`; rejects
 * when the process exits first.
 */
export function startListening(
  command: readonly string[],
  options: {
    core: number;
    cwd: string;
    from: "stdout" | "stderr";
    pattern: RegExp;
    env?: Record<string, string | undefined>;
  },
): Promise<ServerProcess> {
  const child = spawn("taskset", ["-c", String(options.core), ...command], {
    cwd: options.cwd,
    stdio: options.from === "stdout"
      ? ["pipe", "pipe", "inherit"]
      : ["ignore", "ignore", "pipe"],
    env: options.env ?? process.env,
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("error", reject);
    child.on("exit", (code) => {
      reject(
        new Error(
          `${command.join(" ")} exited (${code}) before listening: ${out}`,
        ),
      );
    });
    const stream = options.from === "stdout" ? child.stdout! : child.stderr!;
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      if (out.length < 100_000) out += chunk;
      const m = options.pattern.exec(out);
      if (!m) return;
      child.removeAllListeners("exit");
      // Keep draining what it writes: a full pipe would block it.
      stream.on("data", () => {});
      const pid = child.pid!;
      resolve({
        port: Number(m[1]),
        pid,
        stop: () => {
          child.stdin?.end();
          try {
            process.kill(pid);
          } catch {
            // Gone already.
          }
        },
      });
    });
  });
}

/**
 * The flow every `weir serve` of the benchmarks runs: `f1`, built-in
 * components only, ticking once a second.
 */
export const FLOW_F1 = "# @name f1\n'1s' -> interval Tick(core/Interval)\n" +
  "Tick out -> in Count(flow/Counter) out -> in Drop(core/Drop)\n";

/**
 * Starts `weir serve` as `command` (the executable, `bun
 * src/cli/main.ts` or `deno run -A src/cli/main.ts`, without `serve`) on
 * `core`, on a free port of 127.0.0.1, with its database (and so its
 * history, on by default) in `work` under `name`, and the flow
 * {@linkcode FLOW_F1} (or `graph`) from a graph file; resolves once it
 * serves.
 */
export function startWeirServe(
  command: readonly string[],
  options: {
    core: number;
    work: string;
    name: string;
    args?: string[];
    /** The graph file's text (default {@linkcode FLOW_F1}). */
    graph?: string;
  },
): Promise<ServerProcess> {
  const graph = join(options.work, `${options.name}.fbp`);
  writeFileSync(graph, options.graph ?? FLOW_F1);
  return startListening([
    ...command,
    "serve",
    "--port",
    "0",
    "--db",
    join(options.work, `${options.name}.db`),
    ...(options.args ?? []),
    graph,
  ], {
    core: options.core,
    cwd: options.work,
    from: "stderr",
    // The "serving flows at" line, as JSON.
    pattern: /"url":"http:\/\/127\.0\.0\.1:(\d+)/,
    env: { ...process.env, WEIR_LOG_FORMAT: "json", WEIR_LOG_LEVEL: "info" },
  });
}

/** What one `wrk` window measured. */
export interface WrkResult {
  /** Requests per second. */
  rps: number;
  /** Latency percentiles (ms), when asked for with `latency`. */
  p50?: number;
  p99?: number;
  /** Non-2xx/3xx responses plus socket errors other than timeouts. */
  errors: number;
  /**
   * Requests wrk gave up on after its 2 s timeout: on a loaded machine a
   * few happen to any server, so they are counted, not fatal.
   */
  timeouts: number;
  /** wrk's lines about them, when there were any. */
  errorText?: string;
}

/**
 * Drives `url` with `wrk` on `cores` for `seconds`, `threads` threads and
 * `connections` connections; throws when wrk fails.
 */
export function wrk(
  url: string,
  options: {
    seconds: number;
    cores: string;
    threads?: number;
    connections?: number;
    latency?: boolean;
    /** A wrk Lua script (`-s`), e.g. one that posts a body. */
    script?: string;
  },
): WrkResult {
  const r = spawnSync("taskset", [
    "-c",
    options.cores,
    "wrk",
    `-t${options.threads ?? 1}`,
    `-c${options.connections ?? 32}`,
    `-d${options.seconds}s`,
    ...(options.latency ? ["--latency"] : []),
    ...(options.script !== undefined ? ["-s", options.script] : []),
    url,
  ], { encoding: "utf8" });
  const out = r.stdout ?? "";
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (r.status !== 0 || !m) {
    throw new Error(`wrk failed (exit ${r.status}): ${r.stderr}${out}`);
  }
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const socket =
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
      .exec(out);
  const errors = (non2xx ? Number(non2xx[1]) : 0) +
    (socket ? socket.slice(1, 4).reduce((s, x) => s + Number(x), 0) : 0);
  const timeouts = socket ? Number(socket[4]) : 0;
  const result: WrkResult = {
    rps: Math.round(Number(m[1])),
    errors,
    timeouts,
  };
  if (errors > 0) {
    result.errorText = out.split("\n").filter((l) =>
      /Non-2xx|Socket errors/.test(l)
    ).map((l) => l.trim()).join("; ");
  }
  if (options.latency) {
    result.p50 = _percentile(out, "50");
    result.p99 = _percentile(out, "99");
  }
  return result;
}

/** A percentile line of wrk's `--latency` distribution, in ms. */
function _percentile(out: string, p: string): number | undefined {
  const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
  if (m === null) return undefined;
  const x = Number(m[1]);
  return m[2] === "us" ? x / 1000 : m[2] === "s" ? x * 1000 : x;
}

/** One comparison of {@linkcode alternateRounds}: weir's path and bare's. */
export interface RoutePair {
  /** The row's name in the table. */
  label: string;
  /** The path (and query) asked of weir. */
  weir: string;
  /** The path asked of the bare app. */
  bare: string;
  /** A wrk Lua script for both (e.g. one that posts a body). */
  script?: string;
}

/** A wrk window and the server's CPU time per request in it (µs). */
export type Window = WrkResult & { cpuUs: number };

/** What {@linkcode alternateRounds} measured for one pair. */
export interface PairFigures {
  weir: Window[];
  bare: Window[];
  /** weir/bare req/s, one per round. */
  ratios: number[];
}

/** The per-pair summary {@linkcode alternateRounds} returns (medians). */
export interface PairSummary {
  weir: number;
  bare: number;
  ratio: number;
  ratios: number[];
  cpuUs: { weir: number; bare: number };
}

const _fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/**
 * The side-by-side measurement both HTTP benchmarks make: for each of
 * `pairs`, one warm-up window per side (not counted), then `rounds`
 * rounds in which every pair is driven on both servers with `wrk -t2 -c32
 * --latency` for `seconds`, who goes first alternating by round (A B, then
 * B A). Each window records req/s, p50/p99 latency and the server
 * process's CPU time per request (all threads, /proc/PID/stat, over the
 * window). A window with an error or a non-2xx answer throws; wrk's
 * timeouts (which a loaded machine causes) are printed and counted in
 * nothing else. Prints a line per round, then `heading` with the load
 * average before and after and a Markdown table of the medians (the ratio
 * is the median of the rounds' ratios, the steadiest figure on a shared
 * machine); returns the same figures keyed by `<weir path> vs <bare path>`, plus
 * `load`.
 */
export function alternateRounds(options: {
  weir: ServerProcess;
  bare: ServerProcess;
  pairs: readonly RoutePair[];
  rounds: number;
  seconds: number;
  /** Starts each round's line and the table's heading, e.g. `bun 1.4.5`. */
  name: string;
  heading: string;
}): Record<string, unknown> {
  const { weir, bare, pairs, rounds, seconds } = options;
  const wrkCores = cores().wrk;
  const drive = (side: "weir" | "bare", pair: RoutePair): Window => {
    const server = side === "weir" ? weir : bare;
    const cpu0 = processCpuSeconds(server.pid);
    const r = wrk(`http://127.0.0.1:${server.port}${pair[side]}`, {
      seconds,
      cores: wrkCores,
      threads: 2,
      connections: 32,
      latency: true,
      script: pair.script,
    });
    const cpu = processCpuSeconds(server.pid) - cpu0;
    if (r.timeouts > 0) {
      console.log(`  (${side} ${pair[side]}: ${r.timeouts} wrk timeouts)`);
    }
    if (r.errors > 0) throw new Error(`${side} ${pair[side]}: ${r.errorText}`);
    return { ...r, cpuUs: cpu / (r.rps * seconds) * 1e6 };
  };
  for (const pair of pairs) {
    drive("weir", pair);
    drive("bare", pair);
  }
  const figures: PairFigures[] = pairs.map(() => ({
    weir: [],
    bare: [],
    ratios: [],
  }));
  const loadBefore = loadAverage();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0
      ? (["weir", "bare"] as const)
      : (["bare", "weir"] as const);
    const parts: string[] = [];
    pairs.forEach((pair, i) => {
      const got: Partial<Record<"weir" | "bare", Window>> = {};
      for (const side of order) got[side] = drive(side, pair);
      const f = figures[i];
      f.weir.push(got.weir!);
      f.bare.push(got.bare!);
      f.ratios.push(got.weir!.rps / got.bare!.rps);
      // The bare path too where weir's is measured against two.
      const shared = pairs.some((o) => o !== pair && o.weir === pair.weir);
      parts.push(
        `${pair.weir}${shared ? ` vs ${pair.bare}` : ""} ${
          _fmt(got.weir!.rps)
        }/${_fmt(got.bare!.rps)} (${f.ratios.at(-1)!.toFixed(2)}x)`,
      );
    });
    console.log(
      `${options.name} round ${round + 1}: weir/bare req/s ${
        parts.join(", ")
      }; load ${loadAverage()[0]}`,
    );
  }
  const loadAfter = loadAverage();
  const lat = (xs: Window[]) =>
    `${median(xs.map((x) => x.p50 ?? NaN)).toFixed(2)} / ${
      median(xs.map((x) => x.p99 ?? NaN)).toFixed(2)
    }`;
  const cpu = (xs: Window[]) =>
    Number(median(xs.map((x) => x.cpuUs)).toFixed(1));
  console.log(
    `\n${options.heading}: wrk -t2 -c32, ${rounds} rounds of ${seconds} s; load ${
      loadBefore.join(" ")
    } before, ${loadAfter.join(" ")} after`,
  );
  console.log(
    "| route | weir req/s | bare req/s | weir/bare | weir p50 / p99 ms | bare p50 / p99 ms | CPU µs/request weir / bare |",
  );
  console.log("|---|---|---|---|---|---|---|");
  const summary: Record<string, unknown> = {
    load: { before: loadBefore, after: loadAfter },
  };
  pairs.forEach((pair, i) => {
    const f = figures[i];
    const s: PairSummary = {
      weir: median(f.weir.map((x) => x.rps)),
      bare: median(f.bare.map((x) => x.rps)),
      ratio: Number(median(f.ratios).toFixed(3)),
      ratios: f.ratios,
      cpuUs: { weir: cpu(f.weir), bare: cpu(f.bare) },
    };
    console.log(
      `| ${pair.label} | ${_fmt(s.weir)} | ${_fmt(s.bare)} | **${s.ratio}x** (${
        f.ratios.map((x) => x.toFixed(2)).join(", ")
      }) | ${lat(f.weir)} | ${lat(f.bare)} | ${s.cpuUs.weir.toFixed(1)} / ${
        s.cpuUs.bare.toFixed(1)
      } |`,
    );
    // Keyed by the pair: two pairs may ask weir the same path.
    summary[`${pair.weir} vs ${pair.bare}`] = s;
  });
  return summary;
}

/** The runtimes a benchmark compares. */
export type BenchRuntime = "bun" | "deno";

/**
 * The runtimes `--runtime=<value>` names: both when it is not given;
 * throws a RangeError naming `what` for any other value.
 */
export function runtimesOf(
  value: string | undefined,
  what = "benchmark",
): BenchRuntime[] {
  if (value === undefined) return ["bun", "deno"];
  if (value !== "bun" && value !== "deno") {
    throw new RangeError(
      `Cannot ${what}: --runtime must be bun or deno, received "${value}"`,
    );
  }
  return [value];
}

/**
 * The runtime's version as the tables head it: `bun 1.4.5`,
 * `deno 2.9.6` (Bun prints `1.4.5`, Deno `deno 2.9.6 (stable, ...)`).
 */
export function runtimeVersion(rt: BenchRuntime): string {
  const r = spawnSync(bin(rt), ["--version"], { encoding: "utf8" });
  const v = (r.stdout ?? "").split("\n")[0].trim().replace(/ \(.*$/, "");
  return v.startsWith(rt) ? v : `${rt} ${v}`;
}

/** The value of `--<name>=value` among this process's arguments, if any. */
export function benchFlag(name: string): string | undefined {
  return process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3);
}

/** The path of this checkout's `bun` or `deno` (node_modules/.bin). */
export function runtimeBin(rt: BenchRuntime): string {
  return bin(rt);
}

/**
 * Serves `fetch` on 127.0.0.1 (a free port) with the runtime's own server,
 * `Deno.serve` or `Bun.serve`, nothing of weir's between: the bare side of
 * the benchmarks. Returns the port.
 */
export function serveBare(
  fetch: (r: Request) => Response | Promise<Response>,
): number {
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
  return g.Deno
    ? g.Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, fetch)
      .addr.port
    : g.Bun!.serve({ hostname: "127.0.0.1", port: 0, fetch }).port;
}

/** The JSON body the echo benchmarks post (`http_in_bench.ts`, `http_in_layers_bench.ts`). */
export const ECHO_BODY =
  '{"sensor":"s-17","value":21.5,"unit":"C","ok":true,"n":[1,2]}';

/** The echo flow weir serves in the echo benchmarks: `POST /in/echo/echo`. */
export const ECHO_FLOW = `# @name echo
'POST' -> method In(http/In)
'/echo' -> path In
In out -> in Out(http/Response)
`;

/**
 * Writes into `dir` the wrk Lua script that posts {@linkcode ECHO_BODY}
 * as JSON; returns its path.
 */
export function writeEchoScript(dir: string): string {
  const script = join(dir, "post.lua");
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = '${ECHO_BODY}'\n` +
      `wrk.headers["Content-Type"] = "application/json"\n`,
  );
  return script;
}
