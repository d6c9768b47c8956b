/**
 * `weir run` and `weir demo`: one flow in the foreground, its metrics
 * served on a port of their own, drained on SIGINT, SIGTERM or SIGHUP.
 *
 * @module
 */
import { Network } from "../engine/network.ts";
import type { Registry } from "../engine/registry.ts";
import { buildNetworkSpec, GraphError, loadGraph } from "../graph/mod.ts";
import type { History, HistoryOptions } from "../history/history.ts";
import type { HistoryReader } from "../history/types.ts";
import { MetricsCollector } from "../metrics/collector.ts";
import { serve, type Server } from "../runtime/serve.ts";
import { onShutdown } from "../runtime/signals.ts";
import { logUncaught } from "./log_uncaught.ts";
import { Hono } from "hono";
import { errorHandler, logInternalError } from "../server/error_handler.ts";
import { metricsApp } from "../server/metrics_app.ts";
import { isQueryPath, queryRoutes } from "../server/query_routes.ts";
import { _notFound } from "../server/_not_found.ts";
import { fail } from "./cli_error.ts";
import { CreatedPaths } from "./created_paths.ts";
import { openHistory } from "./history_setup.ts";
import type { Logger } from "./log.ts";
import type { MetricsAddress } from "./parse_args.ts";
import { trackResources } from "./serve.ts";

/**
 * Serves the collector's /metrics (and the query API over `history`, when
 * kept); a port in use is a usage error.
 */
async function _serveMetrics(
  metrics: MetricsCollector,
  at: NonNullable<MetricsAddress>,
  log: Logger,
  history: History | null,
): Promise<Server> {
  const scrape = metricsApp(metrics).fetch;
  const query = history === null ? null : _runQueryApp(history).fetch;
  const fetch = query === null
    ? scrape
    : (request: Request) =>
      isQueryPath(new URL(request.url).pathname)
        ? query(request)
        : scrape(request);
  try {
    // A scraper that stalls may hold the exit up for a second, no more.
    const server = await serve(fetch, {
      ...at,
      closeGraceMs: 1000,
    });
    log.info(`metrics at ${server.url}/metrics`, {
      url: `${server.url}/metrics`,
    });
    return server;
  } catch (e) {
    fail(
      `${
        (e as Error).message
      }; choose another with --metrics host:port (port 0 picks a free one) or turn it off with --no-metrics`,
    );
  }
}

/**
 * The query API over `history` as `weir run` and `weir demo` serve it
 * beside `/metrics`. Its refusals (a 405) go to the app's error table, as
 * under weir serve's flowApp: here errorHandler's alone. A request no
 * route takes gets weir serve's answer, from the same handler: the
 * dispatch (`isQueryPath`, on the normalized URL) can send it a path Hono
 * does not route (`/api/v1/x/../query`).
 */
export function _runQueryApp(history: HistoryReader): Hono {
  const app = new Hono().route("/", queryRoutes(history));
  app.notFound(_notFound(app));
  return app.onError(errorHandler(logInternalError));
}

/** What {@linkcode runFlow} runs, and how. */
export interface RunOptions {
  text: string;
  file: string;
  registry: Registry;
  drainTimeoutMs: number;
  metricsAt: MetricsAddress;
  namespace: string;
  log: Logger;
  /** The metric history's options; none kept when `null`. */
  history: HistoryOptions | null;
  /**
   * The largest connection capacity the graph may ask for
   * (`--max-capacity`, as `weir validate` and `weir serve` check it).
   * Default 100,000.
   */
  maxCapacity?: number;
}

/**
 * Runs one flow until it finishes or a signal drains it, serving its
 * metrics when asked; resolves with the exit code.
 */
export async function runFlow(o: RunOptions): Promise<number> {
  const log = o.log;
  let net: Network;
  let inports: string[];
  try {
    const graph = loadGraph(o.text, { file: o.file });
    const spec = buildNetworkSpec(graph, o.registry, {
      maxCapacity: o.maxCapacity,
    });
    inports = Object.keys(spec.inports ?? {});
    net = new Network(spec);
  } catch (e) {
    if (e instanceof GraphError) fail(e.message, 1);
    throw e;
  }
  // Failures only: a warning (a broker tried again) or an info (it is
  // reached again) is logged as one and does not make the exit code 1.
  let errors = 0;
  net.on("error", (e) => {
    if (e.level !== "error") {
      log[e.level === "warning" ? "warn" : "info"](e.message, {
        flow: net.name,
        process: e.process,
      });
      return;
    }
    errors++;
    log.error(e.message, { flow: net.name, process: e.process });
  });
  net.on("deadlock", (d) => log.warn(d.message, { flow: net.name }));
  // A component's timer that throws fails the run, but does not end it;
  // logged until the run's last lines, its shutdown included (a teardown
  // that leaves a promise rejected), never left to the runtime to report.
  let escaped = 0;
  let escapedStopping = 0;
  let stopping = false;
  const offUncaught = logUncaught(log, {
    onEscaped: () => {
      escaped++;
      if (stopping) escapedStopping++;
    },
    stopping: () => stopping,
  });
  const off = onShutdown(async (signal) => {
    stopping = true;
    log.info(`${signal}: draining (up to ${o.drainTimeoutMs} ms)`, {
      flow: net.name,
      signal,
    });
    const r = await net.drain(o.drainTimeoutMs);
    if (!r.drained) {
      log.warn(
        `drain timed out; ${r.discarded} messages were discarded (${r.backlog} buffered, ${
          r.discarded - r.backlog
        } in activations)`,
        { flow: net.name, discarded: r.discarded },
      );
    }
  });
  let server: Server | undefined;
  let history: History | null = null;
  const resources = new AbortController();
  /** Ends what runs beside the flow; whether a history was written. */
  const release = async (): Promise<boolean> => {
    off();
    resources.abort();
    try {
      await server?.close();
      if (history === null) return false;
      await history.close();
      return true;
    } finally {
      // A promise a teardown left rejected is heard (and logged) before
      // the exit code is decided.
      await offUncaught();
    }
  };
  // A failed start leaves the disk as it was (as weir serve's does).
  const created = new CreatedPaths();
  if (o.metricsAt !== null || o.history !== null) {
    const metrics = new MetricsCollector({ namespace: o.namespace });
    metrics.track(net);
    const tracker = trackResources(metrics, log, resources.signal);
    try {
      if (o.history !== null) {
        if (o.history.dir !== undefined) created.before([o.history.dir]);
        history = await openHistory(o.history, log, fail);
        history.attach(metrics);
      }
      if (o.metricsAt !== null) {
        server = await _serveMetrics(metrics, o.metricsAt, log, history);
        // Read the sockets again now that one listens (see startServer).
        tracker.sample();
      }
    } catch (e) {
      await release();
      created.remove();
      throw e;
    }
  }
  const processes = net.processNames.length;
  log.info(
    `running flow "${net.name}" (${processes} process${
      processes === 1 ? "" : "es"
    }); Ctrl-C to stop`,
    { flow: net.name, processes },
  );
  try {
    await net.start();
  } catch (e) {
    // A setup or a setting refused at the start (a TLS file that is not
    // PEM, a secret that cannot be read): the flow failed, said as such.
    await release();
    created.remove();
    fail((e as Error).message, 1);
  }
  if (inports.length > 0) {
    // Nothing can send into them here (an app embedding the flow, or a
    // graph using it as a subgraph, would): their processes see their
    // input end, so the flow finishes instead of waiting forever.
    for (const name of inports) net.closeInport(name);
    log.info(
      `exported in-port${inports.length === 1 ? "" : "s"} ${
        inports.map((n) => JSON.stringify(n)).join(", ")
      } of flow "${net.name}" closed: nothing sends into ${
        inports.length === 1 ? "it" : "them"
      } under weir run`,
      { flow: net.name, inports: inports.join(",") },
    );
  }
  const state = await net.finished;
  stopping = true;
  if (await release()) log.info("metric history written");
  if (escaped > 0) {
    // The run's last line says why it fails: the flow itself finished.
    log.error(
      `flow "${net.name}" ${state}; exit 1: ${escaped} ${
        escaped === 1 ? "error" : "errors"
      } escaped its components${
        escapedStopping === 0
          ? ""
          : escapedStopping === escaped
          ? " as weir run stopped"
          : ` (${escapedStopping} as weir run stopped)`
      }, logged above as "uncaught error"`,
      { flow: net.name, state, escaped },
    );
    return 1;
  }
  log.info(`flow "${net.name}" ${state}`, { flow: net.name, state });
  return errors > 0 || state !== "finished" ? 1 : 0;
}
