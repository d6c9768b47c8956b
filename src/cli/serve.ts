/**
 * `weir serve`: the flow server. Flows come from the database (and any
 * graph files given); the API, health and `/metrics` are served on one
 * port. SIGINT, SIGTERM or SIGHUP stops accepting requests, drains the flows
 * (with the drain timeout), closes the database and exits 0.
 *
 * @module
 */
import type { OutputHub } from "../flows/output_hub.ts";
import { basename, dirname, join, resolve } from "node:path";
import type { Registry } from "../engine/registry.ts";
import type { HttpInRouter } from "../components/http_in_router.ts";
import { GraphError } from "../graph/graph_error.ts";
import type { Graph } from "../graph/graph.ts";
import { type GraphFormat, loadGraph } from "../graph/load_graph.ts";
import { formatProblem } from "../graph/problem.ts";
import { validateFlow } from "../graph/validate.ts";
import { MetricsCollector } from "../metrics/collector.ts";
import {
  connectionMetrics,
  httpMetricsFetch,
} from "../metrics/http_metrics.ts";
import { ResourceTracker } from "../metrics/resource_tracker.ts";
import { urlShown } from "../runtime/fetch_error.ts";
import { resourceSource } from "../runtime/resources.ts";
import { serve, type Server } from "../runtime/serve.ts";
import { onShutdown, type ShutdownSignal } from "../runtime/signals.ts";
import { flowApp } from "../server/flow_app.ts";
import { Access, isLoopback, type TokenGrant } from "../server/auth.ts";
import { FlowManager } from "../flows/flow_manager.ts";
import { FlowStore } from "../flows/flow_store.ts";
import { StallWatchdog } from "../flows/stall_watchdog.ts";
import type { History, HistoryOptions } from "../history/history.ts";
import { VERSION } from "../version.ts";
import { readText } from "./_read_text.ts";
import { _ID, _ID_RULE } from "../flows/_checks.ts";
import { CreatedPaths } from "./created_paths.ts";
import { openHistory } from "./history_setup.ts";
import { remoteWriteMetrics, RemoteWriter } from "../history/remote_write.ts";
import {
  destinationName,
  type RemoteWriteDestination,
} from "./remote_write_setup.ts";
import type { Logger } from "./log.ts";
import { logUncaught } from "./log_uncaught.ts";

/** Options of {@linkcode startServer} and {@linkcode serveCommand}. */
export interface ServeCommandOptions {
  /** Where to listen. */
  hostname: string;
  /** The port; 0 picks a free one. */
  port: number;
  /** The flow database file, or `:memory:`. */
  db: string;
  /** The tokens accepted. */
  tokens: TokenGrant[];
  /** How long shutdown waits for each flow to drain (ms). */
  drainTimeoutMs: number;
  /** Prefix of the engine metrics. Default `weir`. */
  metricsNamespace?: string;
  /** Graph files to create (or replace, when changed) before serving. */
  files: string[];
  /** Restore every stored flow stopped (`--safe-mode`). Default `false`. */
  safeMode?: boolean;
  /** The metric history's options; none kept when absent or `null`. */
  history?: HistoryOptions | null;
  /** Where remote write sends the history (needs `history`). */
  remoteWrite?: readonly RemoteWriteDestination[];
  /** The component catalogue. */
  registry: Registry;
  /** The router `registry`'s `http/In` serves through; served under `/in/`. */
  httpIn?: HttpInRouter;
  /** The hub `registry`'s `core/Output` writes through; read by the taps. */
  outputs?: OutputHub;
  /** The operator's log. */
  log: Logger;
  /**
   * The log's format, for the line the stall watchdog writes itself while
   * the event loop is blocked. Default `text`.
   */
  logFormat?: "json" | "text";
  /**
   * A blocked event loop counts as a stall after this many ms: the flow
   * whose activation blocks it is named in the log at once and stopped
   * (failed) when it returns. Default 2000; 0 turns the watchdog off.
   */
  stallThresholdMs?: number;
  /** Each flow's bytes budget (estimated bytes in its buffers). Default 64 MiB. */
  bytesBudgetPerFlow?: number;
  /** The largest connection capacity a flow may ask for. Default 100,000. */
  maxCapacity?: number;
  /** Throws the CLI's usage error. */
  fail: (message: string, code?: number) => never;
}

/** A running flow server, for tests and embedding. */
export interface RunningServer {
  /** The HTTP server. */
  server: Server;
  /** The flows. */
  flows: FlowManager;
  /** The metric history, when kept. */
  history: History | null;
  /** Stops accepting, drains the flows, closes the database and the history (flushed). */
  shutdown(reason?: string): Promise<void>;
}

/**
 * Starts the flow server and resolves once it listens and the stored flows
 * are back. A failed start changes nothing on disk: graph files are read
 * and checked first, then the port is bound (answering 503 "starting"
 * except for health, version and metrics), then the database, the history
 * and remote write are opened (a failure there removes the files and
 * folders this start created, never an existing database, which opening
 * leaves byte for byte), then the stored flows are restored, and only then
 * are the files' flows added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtins } from "../components/mod.ts";
 * import { fail } from "./cli_error.ts";
 * import { createLogger } from "./log.ts";
 * import { startServer } from "./serve.ts";
 *
 * const running = await startServer({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   db: ":memory:",
 *   tokens: [],
 *   drainTimeoutMs: 1000,
 *   files: [],
 *   registry: builtins(),
 *   log: createLogger({ level: "error" }),
 *   fail,
 * });
 * const health = await fetch(`${running.server.url}/healthz`);
 * assert.equal(health.status, 200);
 * await health.body?.cancel();
 * await running.shutdown();
 * ```
 */
export async function startServer(
  options: ServeCommandOptions,
): Promise<RunningServer> {
  const log = options.log;
  // Annotated, so that the compiler knows a call never returns.
  const fail: ServeCommandOptions["fail"] = options.fail;
  let access: Access;
  try {
    access = new Access({
      tokens: options.tokens,
      exposed: !isLoopback(options.hostname),
      failedAttempts: {
        log: (level, message, f) => log.log(level, message, f),
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const files = readGraphFiles(
    options.files,
    options.registry,
    options.maxCapacity,
    fail,
  );

  const metrics = new MetricsCollector({
    namespace: options.metricsNamespace ?? "weir",
  });
  // Ends the event streams and the resource tracker at shutdown.
  const streams = new AbortController();
  const tracker = trackResources(metrics, log, streams.signal);
  let current: (
    request: Request,
    env: unknown,
  ) => Response | Promise<Response> = starting;
  let server: Server;
  try {
    server = await serve((request, env) => current(request, env), {
      hostname: options.hostname,
      port: options.port,
      // Deno: connections that never finish their headers are cut.
      onHeaderTimeout: (message) => log.warn(message),
    });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    // An address this machine does not have, or a name that does not
    // resolve, is the host's fault: another port would fail alike.
    fail(
      `${(e as Error).message}; ${
        code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN"
          ? "choose another with --host (127.0.0.1: this machine only, 0.0.0.0: every interface)"
          : "choose another with --port (0 picks a free one)"
      }`,
    );
  }
  // The first reading came before the port was bound: without another,
  // weir_tcp_connections said listen 0 until the next read of the sockets
  // (a minute later), and an alert on it fired at every start.
  tracker.sample();
  // A failed start leaves the disk as it was: what it created goes again
  // (each path looked at just before its step: the database can wait for
  // its lock, busyTimeoutMs, while another process makes a folder).
  const created = new CreatedPaths();
  // What to close if the start fails, the last opened first.
  const opened: (() => void | Promise<void>)[] = [];
  let store: FlowStore;
  let history: History | null = null;
  const writers: RemoteWriter[] = [];
  const remote = options.remoteWrite ?? [];
  try {
    created.before(_dbPaths(options.db));
    try {
      store = FlowStore.open(options.db, {
        // Once when writes start failing for want of storage, once when
        // they work again: each refused change is answered 507/503.
        onProblem: (p) =>
          p === undefined
            ? log.info(`the flow database ${options.db} takes writes again`, {
              db: options.db,
            })
            : log.error(p.message, { db: options.db, reason: p.reason }),
      });
    } catch (e) {
      fail(
        `${
          (e as Error).message
        }; choose another file with --db PATH (":memory:" keeps nothing)`,
      );
    }
    opened.push(() => store.close());
    if (options.history) {
      if (options.history.dir !== undefined) {
        created.before([options.history.dir]);
      }
      const h = await openHistory(options.history, log, fail);
      opened.push(() => h.close());
      history = h;
      history.attach(metrics);
    }
    if (remote.length > 0) {
      if (history === null) {
        fail(
          "remote write sends from the metric history, which is off: turn it on (--history) or remove remoteWrite",
        );
      }
      const cursorDir = _cursorDir(options.history);
      if (cursorDir !== undefined) {
        created.before([cursorDir]);
      }
      try {
        for (const d of remote) {
          const w = new RemoteWriter(history, d.options, {
            cursorDir,
            fetch: d.fetch,
            onWarning: (message) =>
              log.warn(message, { destination: destinationName(d.options) }),
          });
          opened.push(() => w.close());
          writers.push(w);
        }
      } catch (e) {
        fail((e as Error).message);
      }
    }
  } catch (e) {
    for (const close of opened.reverse()) {
      try {
        await close();
      } catch {
        // The start's own error is the one to say.
      }
    }
    created.remove();
    await server.close();
    throw e;
  }
  if (remote.length > 0) {
    remoteWriteMetrics(metrics, () => writers);
    for (const [i, w] of writers.entries()) {
      w.start();
      // No credentials, no query: they may hold a key.
      const to = urlShown(new URL(remote[i].options.url));
      log.info(`remote write "${w.name}" sending the history to ${to}`, {
        destination: w.name,
        url: to,
      });
    }
  }
  // Before the restore: a flow that stalls at its start is caught too.
  const stallMs = options.stallThresholdMs ?? 2000;
  let watchdog: StallWatchdog | undefined;
  if (stallMs !== 0) {
    try {
      watchdog = await StallWatchdog.start({
        thresholdMs: stallMs,
        format: options.logFormat ?? "text",
        onStallEnd: (s) => {
          if (s.flow !== undefined) return; // the flow's failure says it
          log.warn(
            `the event loop was blocked for ${
              (s.ms / 1000).toFixed(1)
            } s outside any flow activation (watchdog threshold ${stallMs} ms)`,
            { stalled_ms: s.ms },
          );
        },
      });
    } catch (e) {
      // A runtime without workers still serves, unwatched: said once.
      log.warn(
        `no stall watchdog: ${
          (e as Error).message
        }; a flow that blocks the event loop is not stopped`,
      );
    }
  }
  const flows = new FlowManager({
    store,
    registry: options.registry,
    watchdog,
    bytesBudgetPerFlow: options.bytesBudgetPerFlow,
    maxCapacity: options.maxCapacity,
    collector: metrics,
    drainTimeoutMs: options.drainTimeoutMs,
    log: (message, level = "info", fields) => log.log(level, message, fields),
  });
  if (options.safeMode) {
    log.warn(
      "safe mode: every stored flow is restored stopped; start each with POST /flows/:id/start",
      { safe_mode: true },
    );
  }
  const restored = await flows.restore({ safeMode: options.safeMode });
  for (const f of restored) {
    log.log(
      f.state === "failed" ? "warn" : "info",
      `flow "${f.id}" (rev ${f.rev}) restored: ${f.state}${
        f.error ? ` (${f.error})` : ""
      }`,
      { flow: f.id, rev: f.rev, state: f.state },
    );
  }
  for (const f of files) await addFile(flows, f, log);

  const app = flowApp({
    flows,
    metrics,
    components: options.registry,
    httpIn: options.httpIn,
    ...(options.outputs !== undefined ? { outputs: options.outputs } : {}),
    access,
    clientAddress: (request, env) => server.remoteAddress(request, env),
    signal: streams.signal,
    log: (level, message, fields) => log.log(level, message, fields),
    ...(history !== null ? { history } : {}),
    onInternalError: (r, error) =>
      log.error(`${r.method} ${r.path} failed: ${_describe(error)}`, {
        method: r.method,
        path: r.path,
        requestId: r.requestId,
      }),
  });
  current = httpMetricsFetch(app, metrics);
  connectionMetrics(metrics, server.connections);
  if (!access.enabled && !isLoopback(options.hostname)) {
    log.warn(
      "no token configured and listening beyond loopback: flow routes answer 403 until one is set (--token, WEIR_TOKEN or --token-file)",
    );
  }
  let done: Promise<void> | undefined;
  const shutdown = (reason = "shutdown") =>
    done ??= (async () => {
      log.info(
        `${reason}: closing the server, draining flows (up to ${options.drainTimeoutMs} ms)`,
        { reason, drain_timeout_ms: options.drainTimeoutMs },
      );
      streams.abort();
      access.attempts.close();
      await server.close();
      try {
        await flows.close({ timeoutMs: options.drainTimeoutMs });
        log.info("flows drained, database closed");
      } finally {
        watchdog?.close();
        // After the drain, so the history holds it; written even when the
        // flows failed to close.
        await Promise.all(writers.map((w) => w.close()));
        if (history !== null) {
          await history.close();
          log.info("metric history written");
        }
      }
    })();
  return { server, flows, history, shutdown };
}

/**
 * Exports the process's resources (CPU, memory, event-loop lag, files,
 * network) into `metrics` until `signal` aborts. Returns the started
 * tracker: call its `sample()` once the server listens, so the TCP sockets
 * (read once a minute) include the listening one from the start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsCollector } from "../metrics/collector.ts";
 * import { createLogger } from "./log.ts";
 * import { trackResources } from "./serve.ts";
 *
 * const metrics = new MetricsCollector();
 * const stop = new AbortController();
 * const tracker = trackResources(metrics, createLogger({ level: "error" }), stop.signal);
 * assert.equal(tracker.running, true);
 * assert.match(await metrics.render(), /^process_cpu_seconds_total /m);
 * stop.abort();
 * assert.equal(tracker.running, false);
 * ```
 */
export function trackResources(
  metrics: MetricsCollector,
  log: Logger,
  signal: AbortSignal,
): ResourceTracker {
  const tracker = new ResourceTracker({
    source: resourceSource(),
    signal,
    log: (message) => log.warn(message),
  });
  tracker.attach(metrics);
  tracker.start();
  return tracker;
}

/** The files opening the flow database `db` may create. */
function _dbPaths(db: string): string[] {
  return db === ":memory:"
    ? []
    : ["", "-journal", "-wal", "-shm"].map((suffix) => resolve(db + suffix));
}

/** Where remote write keeps its cursors: beside the history's folder. */
function _cursorDir(
  history: HistoryOptions | null | undefined,
): string | undefined {
  return history?.dir === undefined
    ? undefined
    : join(dirname(history.dir), "remote_write");
}

/** An error as one line of the log. */
function _describe(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
}

/** What the server answers while it starts. */
function starting(request: Request): Response {
  const path = new URL(request.url).pathname;
  if (path === "/healthz") return Response.json({ status: "ok" });
  return Response.json(
    {
      error: path === "/readyz"
        ? "weir is starting: restoring the stored flows"
        : "weir is starting: restoring the stored flows; retry in a moment",
      ...(path === "/readyz" ? { ready: false, reasons: ["starting"] } : {}),
    },
    {
      status: 503,
      headers: { "Retry-After": "1", "Cache-Control": "no-store" },
    },
  );
}

/** Options of {@linkcode checkGraph}. */
export interface CheckGraphOptions {
  /** The text's format. Default: JSON when it starts with `{`, else .fbp. */
  format?: GraphFormat;
  /**
   * The largest connection capacity accepted, as the server's
   * `--max-capacity`. Default 100,000.
   */
  maxCapacity?: number;
}

/**
 * Reads and validates a graph's text as the flow API does
 * (`validateFlow()`, flow properties included): the graph (when it reads)
 * and every problem as `file:line:col: message` (`file: path: message`
 * without a position), none when it is valid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkGraph } from "./serve.ts";
 * import { builtins } from "../components/mod.ts";
 *
 * const text = "# @required maybe\nA(core/Repeat) out -> (200000) in B(core/Drop)";
 * assert.deepEqual(checkGraph(text, "a.fbp", builtins()).problems.length, 2);
 * assert.deepEqual(
 *   checkGraph(text, "a.fbp", builtins(), { maxCapacity: 500_000 }).problems,
 *   ['a.fbp:1:1: required must be true or false, received "maybe"'],
 * );
 * ```
 */
export function checkGraph(
  text: string,
  file: string,
  registry: Registry,
  options: CheckGraphOptions = {},
): { graph: Graph | undefined; problems: string[] } {
  try {
    const graph = loadGraph(text, { format: options.format, file });
    const problems = validateFlow(graph, registry, undefined, {
      maxCapacity: options.maxCapacity,
    }).map((p) => formatProblem(p, file));
    return { graph, problems };
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    return {
      graph: undefined,
      problems: e.problems.map((p) => formatProblem(p, file)),
    };
  }
}

/** A graph file, read and checked before anything starts. */
interface GraphFile {
  file: string;
  id: string;
  text: string;
  format: "json" | "fbp";
}

/**
 * Reads and checks the graph files given on the command line, as the flow
 * API checks a graph (with the server's `maxCapacity`), and their flow ids
 * (a name that is no id, two files of one flow): any problem in any of
 * them stops start-up with exit 1 and every problem of every file.
 */
function readGraphFiles(
  files: readonly string[],
  registry: Registry,
  maxCapacity: number | undefined,
  fail: ServeCommandOptions["fail"],
): GraphFile[] {
  const read: GraphFile[] = [];
  const problems: string[] = [];
  /** The file of each flow id so far: two files must not share one. */
  const owners = new Map<string, string>();
  for (const file of files) {
    const text = readText(file, (why) => fail(`cannot read "${file}": ${why}`));
    const format = /^\uFEFF?\s*\{/.test(text) && !file.endsWith(".fbp")
      ? "json"
      : "fbp";
    const checked = checkGraph(text, file, registry, { format, maxCapacity });
    problems.push(...checked.problems);
    const name = checked.graph?.properties?.name;
    // A graph without a name is named after its file.
    const id = typeof name === "string" && name !== ""
      ? name
      : basename(file).replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9_.-]/g, "_")
        .replace(/^[^A-Za-z0-9]+/, "") || "flow";
    const owner = owners.get(id);
    if (!_ID.test(id)) {
      problems.push(
        `${file}: the flow's id would be the graph's ${
          id === name ? "name" : "file name"
        } ${JSON.stringify(id)}, but ${_ID_RULE}; ${
          id === name ? "rename the graph" : "name the graph (# @name)"
        }`,
      );
    } else if (owner !== undefined && resolve(owner) !== resolve(file)) {
      // Each start would store one file's graph, then the other's.
      problems.push(
        `${file}: its flow ${
          JSON.stringify(id)
        } is ${owner}'s flow too; give each graph its own name`,
      );
    } else {
      owners.set(id, file);
    }
    read.push({ file, id, text, format });
  }
  if (problems.length > 0) fail(problems.join("\n"), 1);
  return read;
}

/** Adds a file's flow, or replaces the stored one when the file changed. */
async function addFile(
  flows: FlowManager,
  f: GraphFile,
  log: Logger,
): Promise<void> {
  let before: string | undefined;
  try {
    before = flows.stored(f.id).text;
  } catch {
    // Not stored yet.
  }
  if (before === f.text) {
    log.info(`flow "${f.id}" from ${f.file}: unchanged`, {
      flow: f.id,
      file: f.file,
    });
    return;
  }
  try {
    // The flow manager logs the change, once: the file is who asked.
    await flows.put(f.id, f, { by: `file ${f.file}` });
  } catch (e) {
    // The file was valid; a start failure is the flow's, not the server's.
    log.error(
      `flow "${f.id}" from ${f.file} failed: ${(e as Error).message}`,
      { flow: f.id, file: f.file },
    );
  }
}

/**
 * Resolves with the first SIGINT, SIGTERM or SIGHUP from now on. Listening before
 * the server starts keeps a signal during start-up, to be acted on once it
 * has started (a second one exits at once).
 */
export function shutdownSignal(): Promise<ShutdownSignal> {
  return new Promise<ShutdownSignal>((resolve) => onShutdown(resolve));
}

/**
 * Runs `weir serve` until SIGINT, SIGTERM or SIGHUP (`signalled`, by default from
 * the call on); resolves with the exit code. An error that escapes every
 * flow (a component's timer that throws, a promise it leaves rejected) is
 * logged, and weir goes on (or, once the signal came, goes on stopping).
 */
export async function serveCommand(
  options: ServeCommandOptions,
  signalled: Promise<ShutdownSignal> = shutdownSignal(),
): Promise<number> {
  // From the start: a module's top level may leave a timer that throws.
  // From the signal on, such an error comes as weir stops, and is said so.
  let stopping = false;
  const offUncaught = logUncaught(options.log, { stopping: () => stopping });
  try {
    return await _serve(
      options,
      signalled.then((signal) => {
        stopping = true;
        return signal;
      }),
    );
  } finally {
    // A promise a teardown left rejected at the shutdown: heard and
    // logged, not lost as weir exits.
    await offUncaught();
  }
}

async function _serve(
  options: ServeCommandOptions,
  signalled: Promise<ShutdownSignal>,
): Promise<number> {
  const running = await startServer(options);
  const dashboard = `${running.server.url}/`;
  options.log.info(
    `serving flows at ${running.server.url} (database ${options.db}), the dashboard at ${dashboard}; Ctrl-C to stop`,
    { url: running.server.url, db: options.db, dashboard, version: VERSION },
  );
  const signal = await signalled;
  await running.shutdown(signal);
  return 0;
}
