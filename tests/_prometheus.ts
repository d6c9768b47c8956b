/**
 * Integration-test harness for the real Prometheus tools: `promtool check
 * metrics` to lint an exposition, and a throw-away `prometheus` server that
 * scrapes weir on this machine.
 *
 * The tools come from Debian's `prometheus` package (`apt-get install
 * prometheus`, which ships both). On a laptop without them the tests that
 * need them are skipped; with `WEIR_REQUIRE_INTEGRATION=1` (set in CI) each
 * of them fails instead:
 *
 * ```ts ignore
 * test("weir's exposition passes promtool", {
 *   skip: integrationSkip("promtool"),
 * }, async () => {
 *   const { ok, output } = await promtoolCheck(text);
 *   assert.ok(ok, output);
 * });
 * ```
 *
 * node:test's `skip` option (a string reason or `true`) is honoured by both
 * `deno test` (reported as "ignored") and `bun test` (reported as "(skip)");
 * neither prints the reason, so integrationSkip() prints it once per tool.
 * A test that starts Prometheus needs a `timeout` option (20_000 say): its
 * first scrape comes after about 5 s, and Bun fails a test after 5 s by
 * default (Deno has no default limit).
 *
 * Why a missing tool under `WEIR_REQUIRE_INTEGRATION=1` runs the test rather
 * than throwing from integrationSkip(): that call runs while the file loads,
 * and Deno 2.9's node:test drops an error thrown at load once a test() was
 * registered before it (the file passes with the tests registered so far),
 * while Bun fails the whole file. Run, the test fails on both runtimes, by
 * itself, with the message of {@linkcode requireTool}.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import process from "node:process";
import { type FetchHandler, serve, type Server } from "../src/runtime/serve.ts";
import { sleep } from "./engine/_helpers.ts";

const INSTALL_HINT = "apt-get install prometheus";
const reported = new Set<string>();

/**
 * The `skip` option for a test that needs `tool` (`"promtool"`,
 * `"prometheus"`): `false` when the tool is on PATH, else the reason to
 * skip. With `WEIR_REQUIRE_INTEGRATION=1` a missing tool gives `false` too,
 * so the test runs and fails with the missing tool's name and the way to
 * install it (`install`, by default Debian's prometheus package).
 */
export function integrationSkip(
  tool: string,
  install: string = INSTALL_HINT,
): string | false {
  if (findOnPath(tool) !== undefined) return false;
  const required = process.env.WEIR_REQUIRE_INTEGRATION === "1";
  const reason = required
    ? `${tool} is not on PATH and WEIR_REQUIRE_INTEGRATION=1: the tests ` +
      `that need it fail (install it with \`${install}\`)`
    : `${tool} is not on PATH (install it with \`${install}\`; ` +
      `WEIR_REQUIRE_INTEGRATION=1 fails instead of skipping)`;
  if (!reported.has(reason)) {
    reported.add(reason);
    console.error(required ? reason : `skipping the tests that need ${reason}`);
  }
  return required ? false : reason;
}

/**
 * The full path of `tool` on PATH; throws an Error naming the tool and how
 * to install it when it is missing.
 */
export function requireTool(tool: string): string {
  const path = findOnPath(tool);
  if (path === undefined) {
    throw new Error(
      `${tool} is not on PATH: install it with \`${INSTALL_HINT}\` ` +
        `(Debian's prometheus package ships prometheus and promtool)`,
    );
  }
  return path;
}

/** The full path of an executable `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}

/** What `promtool check metrics` made of an exposition. */
export interface PromtoolResult {
  /** True when promtool exited 0: no parse error and no lint problem. */
  ok: boolean;
  /** promtool's stdout and stderr, in the order they came. */
  output: string;
}

/**
 * Lints a Prometheus text exposition with `promtool check metrics` (the
 * text on its stdin). promtool prints one line per problem, such as
 * `x counter metrics should have "_total" suffix`, and exits non-zero.
 */
export function promtoolCheck(exposition: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    // Inside the executor, so that a missing promtool rejects.
    const promtool = requireTool("promtool");
    const child = spawn(promtool, ["check", "metrics"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => output += chunk);
    child.stderr.setEncoding("utf8").on("data", (chunk) => output += chunk);
    child.on("error", (error) => {
      reject(
        new Error(`cannot run ${promtool}: ${error.message}`, {
          cause: error,
        }),
      );
    });
    child.on("close", (code, signal) => {
      if (signal !== null) {
        reject(new Error(`promtool was killed by ${signal}: ${output}`));
      } else {
        resolve({ ok: code === 0, output });
      }
    });
    // promtool may exit before reading everything (a parse error stops it).
    child.stdin.on("error", () => {});
    child.stdin.end(exposition);
  });
}

/** Options for {@linkcode startPrometheus}. */
export interface PrometheusOptions {
  /**
   * What to scrape, each `host:port` on this machine (loopback only); empty
   * to scrape nothing (to query a backfilled `storagePath`).
   */
  targets: string[];
  /**
   * The TSDB folder to serve, e.g. one that `promtool tsdb
   * create-blocks-from openmetrics` filled; stop() leaves it. Default: a
   * fresh folder inside the temporary one.
   */
  storagePath?: string;
  /** The path scraped on each target. Default `"/metrics"`. */
  metricsPath?: string;
  /** Scrape and rule evaluation interval. Default `1`. */
  scrapeIntervalSeconds?: number;
  /** More command-line flags, e.g. `--web.enable-remote-write-receiver`. */
  extraArgs?: string[];
  /**
   * The loopback port to listen on, e.g. to start it again where a client
   * already points (with the same `storagePath`, it goes on with its
   * data). Default: a free port (a clash with another process is retried).
   */
  port?: number;
  /** How long to wait for `/-/ready`. Default `20_000`. */
  readyTimeoutMs?: number;
  /** The scrape's `authorization` block, e.g. a bearer token's file. */
  authorization?: { type: string; credentials_file: string };
}

/** One sample of an instant query's result. */
export interface PromSample {
  /** The series' labels, `__name__` included when the query keeps it. */
  metric: Record<string, string>;
  /** The sample value (`NaN`, `Infinity` as Prometheus sends them). */
  value: number;
  /** The evaluation time, in seconds since the epoch. */
  timestamp: number;
}

/** Options for {@linkcode PrometheusHandle.waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. Default `15_000`. */
  timeoutMs?: number;
  /** What is awaited, for the timeout message. Default `"the condition"`. */
  what?: string;
  /** Pause between attempts. Default `200`. */
  intervalMs?: number;
}

/** A running Prometheus server, from {@linkcode startPrometheus}. */
export interface PrometheusHandle {
  /** Its base URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The pid of the `prometheus` process. */
  readonly pid: number;
  /** The temporary folder holding its config and storage. */
  readonly dir: string;
  /**
   * Runs an instant query (`GET /api/v1/query`) and returns its samples (a
   * scalar result is one sample without labels). Throws when the status is
   * not `success` or the result is a range vector or string.
   */
  query(promql: string): Promise<PromSample[]>;
  /**
   * Calls `probe` until it returns something other than `undefined`, `false`
   * or `null` and returns that; a probe that throws is retried. Throws on
   * timeout with the last error seen, or when Prometheus has exited.
   */
  waitFor<T>(
    probe: () => Promise<T | undefined | false | null>,
    options?: WaitForOptions,
  ): Promise<T>;
  /** The last lines Prometheus logged (it logs to stderr). */
  logTail(): string;
  /**
   * Sends SIGTERM, waits for the process to exit (SIGKILL after 10 s) and
   * removes the temporary folder. Idempotent.
   */
  stop(): Promise<void>;
  /** Same as `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `prometheus` on a free loopback port with a fresh temporary config
 * and storage, scraping `targets` as job `"weir"`, and resolves once it
 * answers `/-/ready`. Rejects with the end of its log when it exits first.
 *
 * Prometheus 2.42 hands static targets to the scraper about 5 s after it
 * starts, so the first scrape comes 5 s plus up to one interval later.
 */
export async function startPrometheus(
  options: PrometheusOptions,
): Promise<PrometheusHandle> {
  const {
    targets,
    metricsPath = "/metrics",
    scrapeIntervalSeconds = 1,
    extraArgs = [],
    readyTimeoutMs = 20_000,
    authorization,
    storagePath,
    port: fixedPort,
  } = options;
  if (!Array.isArray(targets)) {
    throw new TypeError(
      "Cannot start Prometheus: targets must be an array of host:port",
    );
  }
  for (const target of targets) checkLocalTarget(target);
  const prometheus = requireTool("prometheus");
  if (!metricsPath.startsWith("/")) {
    throw new RangeError(
      `Cannot start Prometheus: metricsPath must start with "/", received ${
        JSON.stringify(metricsPath)
      }`,
    );
  }
  if (
    fixedPort !== undefined &&
    !(Number.isInteger(fixedPort) && fixedPort > 0 && fixedPort < 65536)
  ) {
    throw new RangeError(
      `Cannot start Prometheus: port must be an integer in 1..65535, received ${fixedPort}`,
    );
  }
  if (!(scrapeIntervalSeconds > 0) || !Number.isFinite(scrapeIntervalSeconds)) {
    throw new RangeError(
      `Cannot start Prometheus: scrapeIntervalSeconds must be a positive ` +
        `number, received ${scrapeIntervalSeconds}`,
    );
  }

  const dir = await mkdtemp(join(tmpdir(), "weir-prometheus-"));
  try {
    const interval = `${Math.round(scrapeIntervalSeconds * 1000)}ms`;
    const config = {
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: targets.length === 0 ? [] : [{
        job_name: "weir",
        metrics_path: metricsPath,
        static_configs: [{ targets }],
        ...(authorization ? { authorization } : {}),
      }],
    };
    // JSON is YAML: no quoting rules to get wrong.
    const configFile = join(dir, "prometheus.yml");
    await writeFile(configFile, JSON.stringify(config, null, 2) + "\n");

    // The free port is found by listening on port 0 and closing; another
    // process can take it before Prometheus does, so a clash is retried.
    for (let attempt = 1;; attempt++) {
      const port = fixedPort ?? await freePort();
      const started = await launch(prometheus, dir, port, [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${storagePath ?? join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        ...extraArgs,
      ], readyTimeoutMs);
      if (started.ok) return started.handle;
      if (started.portClash && fixedPort === undefined && attempt < 3) {
        continue;
      }
      throw started.error;
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The prometheus processes still running, killed if the tests exit. */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that crashes before stop() must not leave a Prometheus behind.
  process.on("exit", () => {
    for (const [child, dir] of running) {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

type Launch =
  | { ok: true; handle: PrometheusHandle }
  | { ok: false; portClash: boolean; error: Error };

async function launch(
  prometheus: string,
  dir: string,
  port: number,
  args: string[],
  readyTimeoutMs: number,
): Promise<Launch> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(prometheus, args, {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  installExitHook();
  running.set(child, dir);
  const log = new LogTail();
  child.stdout?.setEncoding("utf8").on("data", (c: string) => log.add(c));
  child.stderr?.setEncoding("utf8").on("data", (c: string) => log.add(c));
  let exitCode: number | null | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on("error", (error) => {
      spawnError = error;
      running.delete(child);
      resolve();
    });
    child.on("close", (code, signal) => {
      exitCode = code ?? (signal === null ? null : -1);
      running.delete(child);
      resolve();
    });
  });
  const hasExited = () => exitCode !== undefined || spawnError !== undefined;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!hasExited()) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (true) {
    if (spawnError !== undefined) {
      return {
        ok: false,
        portClash: false,
        error: new Error(
          `cannot run ${prometheus}: ${spawnError.message}`,
          { cause: spawnError },
        ),
      };
    }
    if (hasExited()) {
      const tail = log.text();
      return {
        ok: false,
        portClash: /address already in use/i.test(tail),
        error: new Error(
          `prometheus exited with code ${exitCode} before it was ready:\n${tail}`,
        ),
      };
    }
    if (await answersReady(url)) break;
    if (Date.now() > deadline) {
      // Kill it, but keep the folder for the caller's cleanup to remove.
      child.kill("SIGKILL");
      await exited;
      return {
        ok: false,
        portClash: false,
        error: new Error(
          `prometheus was not ready after ${readyTimeoutMs} ms:\n${log.text()}`,
        ),
      };
    }
    await Promise.race([sleep(50), exited]);
  }

  const handle: PrometheusHandle = {
    url,
    pid: child.pid ?? -1,
    dir,
    query: (promql) => query(url, promql),
    async waitFor(probe, options = {}) {
      const {
        timeoutMs = 15_000,
        what = "the condition",
        intervalMs = 200,
      } = options;
      const giveUp = Date.now() + timeoutMs;
      let lastError: unknown;
      while (true) {
        if (hasExited()) {
          throw new Error(
            `prometheus exited (code ${exitCode}) while waiting for ${what}:\n${log.text()}`,
          );
        }
        try {
          const value = await probe();
          if (value !== undefined && value !== false && value !== null) {
            return value;
          }
        } catch (error) {
          lastError = error;
        }
        if (Date.now() + intervalMs > giveUp) {
          const last = lastError instanceof Error
            ? ` (last error: ${lastError.message})`
            : "";
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}${last}`,
            { cause: lastError },
          );
        }
        await Promise.race([sleep(intervalMs), exited]);
      }
    },
    logTail: () => log.text(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return { ok: true, handle };
}

async function query(url: string, promql: string): Promise<PromSample[]> {
  const response = await fetch(
    `${url}/api/v1/query?query=${encodeURIComponent(promql)}`,
  );
  const text = await response.text();
  let body: QueryResponse;
  try {
    body = JSON.parse(text) as QueryResponse;
  } catch {
    throw new Error(
      `Prometheus query ${JSON.stringify(promql)} got HTTP ` +
        `${response.status} and no JSON: ${text.slice(0, 200)}`,
    );
  }
  if (body.status !== "success" || body.data === undefined) {
    throw new Error(
      `Prometheus query ${
        JSON.stringify(promql)
      } failed (HTTP ${response.status}): ` +
        `${body.errorType ?? "error"}: ${body.error ?? "no error message"}`,
    );
  }
  const { resultType, result } = body.data;
  if (resultType === "vector") {
    return (result as VectorResult[]).map(({ metric, value: [t, v] }) => ({
      metric,
      value: Number(v),
      timestamp: t,
    }));
  }
  if (resultType === "scalar") {
    const [t, v] = result as [number, string];
    return [{ metric: {}, value: Number(v), timestamp: t }];
  }
  throw new Error(
    `Prometheus query ${JSON.stringify(promql)} returned a ${resultType}; ` +
      `query() takes instant vectors and scalars`,
  );
}

interface QueryResponse {
  status: "success" | "error";
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function answersReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`);
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Refuses a target off this machine: the tests scrape only loopback. */
function checkLocalTarget(target: string): void {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(target);
  const host = match?.[1];
  const local = host === "localhost" || host === "[::1]" ||
    (host !== undefined && /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host));
  if (!local) {
    throw new RangeError(
      `Cannot start Prometheus: a target must be host:port on this machine ` +
        `(localhost, 127.x.x.x or [::1]), received ${JSON.stringify(target)}`,
    );
  }
}

/** A port free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null
        ? address.port
        : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Keeps the last lines of a process's output for error messages. */
class LogTail {
  #text = "";
  add(chunk: string): void {
    this.#text = (this.#text + chunk).slice(-8000);
  }
  text(lines = 30): string {
    return this.#text.trimEnd().split("\n").slice(-lines).join("\n");
  }
}

/**
 * Serves `fetch` on a free loopback port and records the `Content-Type` of
 * every response, to see which format a real Prometheus negotiated.
 */
export async function serveRecording(
  fetch: FetchHandler,
): Promise<{ server: Server; contentTypes: string[] }> {
  const contentTypes: string[] = [];
  const server = await serve(async (req) => {
    const res = await fetch(req);
    contentTypes.push(res.headers.get("content-type") ?? "");
    return res;
  }, { port: 0 });
  return { server, contentTypes };
}
