/**
 * `weir run` and `weir demo`: one flow in the foreground, its metrics
 * served on a port of their own, drained on SIGINT or SIGTERM.
 *
 * @module
 */
import { Network } from "../engine/network.ts";
import type { Registry } from "../engine/registry.ts";
import { buildNetworkSpec, GraphError, loadGraph } from "../graph/mod.ts";
import { MetricsCollector } from "../metrics/collector.ts";
import { serve, type Server } from "../runtime/serve.ts";
import { onShutdown } from "../runtime/signals.ts";
import { metricsApp } from "../server/metrics_app.ts";
import { fail } from "./cli_error.ts";
import type { Logger } from "./log.ts";
import type { MetricsAddress } from "./parse_args.ts";
import { trackResources } from "./serve.ts";

/** Serves the collector's /metrics; a port in use is a usage error. */
async function _serveMetrics(
  metrics: MetricsCollector,
  at: NonNullable<MetricsAddress>,
  log: Logger,
): Promise<Server> {
  try {
    // A scraper that stalls may hold the exit up for a second, no more.
    const server = await serve(metricsApp(metrics).fetch, {
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

/** What {@linkcode runFlow} runs, and how. */
export interface RunOptions {
  text: string;
  file: string;
  registry: Registry;
  drainTimeoutMs: number;
  metricsAt: MetricsAddress;
  namespace: string;
  log: Logger;
}

/**
 * Runs one flow until it finishes or a signal drains it, serving its
 * metrics when asked; resolves with the exit code.
 */
export async function runFlow(o: RunOptions): Promise<number> {
  const log = o.log;
  let net: Network;
  try {
    const graph = loadGraph(o.text, { file: o.file });
    net = new Network(buildNetworkSpec(graph, o.registry));
  } catch (e) {
    if (e instanceof GraphError) fail(e.message, 1);
    throw e;
  }
  let errors = 0;
  net.on("error", (e) => {
    errors++;
    log.error(e.message, { flow: net.name, process: e.process });
  });
  net.on("deadlock", (d) => log.warn(d.message, { flow: net.name }));
  const off = onShutdown(async (signal) => {
    log.info(`${signal}: draining (up to ${o.drainTimeoutMs} ms)`, {
      flow: net.name,
      signal,
    });
    const r = await net.drain(o.drainTimeoutMs);
    if (!r.drained) {
      log.warn(
        `drain timed out; ${r.backlog} buffered messages were discarded`,
        { flow: net.name, discarded: r.backlog },
      );
    }
  });
  let server: Server | undefined;
  const resources = new AbortController();
  if (o.metricsAt !== null) {
    const metrics = new MetricsCollector({ namespace: o.namespace });
    metrics.track(net);
    trackResources(metrics, log, resources.signal);
    try {
      server = await _serveMetrics(metrics, o.metricsAt, log);
    } catch (e) {
      off();
      resources.abort();
      throw e;
    }
  }
  log.info(
    `running flow "${net.name}" (${net.processNames.length} processes); Ctrl-C to stop`,
    { flow: net.name, processes: net.processNames.length },
  );
  await net.start();
  const state = await net.finished;
  off();
  resources.abort();
  await server?.close();
  log.info(`flow "${net.name}" ${state}`, { flow: net.name, state });
  return errors > 0 || state !== "finished" ? 1 : 0;
}
