/**
 * What the HTTP side-by-side benchmarks share (`bench/versus.ts`,
 * `bench/serve_bench.ts`): starting a server process pinned to a core,
 * starting `weir serve` with a database of its own and one running flow,
 * and driving a URL with `wrk`.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import process from "node:process";

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
 * {@linkcode FLOW_F1} from a graph file; resolves once it serves.
 */
export function startWeirServe(
  command: readonly string[],
  options: { core: number; work: string; name: string; args?: string[] },
): Promise<ServerProcess> {
  const graph = join(options.work, `${options.name}.fbp`);
  writeFileSync(graph, FLOW_F1);
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
