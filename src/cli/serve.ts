/**
 * `weir serve`: the flow server. Flows come from the database (and any
 * graph files given); the API, health and `/metrics` are served on one
 * port. SIGINT or SIGTERM stops accepting requests, drains the flows
 * (with the drain timeout), closes the database and exits 0.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { Registry } from "../engine/registry.ts";
import { GraphError } from "../graph/graph_error.ts";
import { MetricsCollector } from "../metrics/collector.ts";
import {
  connectionMetrics,
  httpMetricsFetch,
} from "../metrics/http_metrics.ts";
import { serve, type Server } from "../runtime/serve.ts";
import { onShutdown, type ShutdownSignal } from "../runtime/signals.ts";
import { flowApp } from "../server/app.ts";
import { Access, isLoopback, type TokenGrant } from "../server/auth.ts";
import { FlowManager } from "../server/flows.ts";
import { FlowStore } from "../server/store.ts";

/** Options of {@linkcode runServer}. */
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
  /** Graph files to create (or replace, when changed) before serving. */
  files: string[];
  /** The component catalogue. */
  registry: Registry;
  /** Prints a line for the operator. */
  log: (line: string) => void;
  /** Throws the CLI's usage error. */
  fail: (message: string, code?: number) => never;
}

/** A running flow server, for tests and embedding. */
export interface RunningServer {
  /** The HTTP server. */
  server: Server;
  /** The flows. */
  flows: FlowManager;
  /** Stops accepting, drains the flows, closes the database. */
  shutdown(reason?: string): Promise<void>;
}

/**
 * Starts the flow server and resolves once it listens.
 *
 * @example
 * ```ts ignore
 * const running = await startServer({ hostname: "127.0.0.1", port: 0, db: ":memory:", ... });
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
    });
  } catch (e) {
    fail((e as Error).message);
  }
  let store: FlowStore;
  try {
    store = FlowStore.open(options.db);
  } catch (e) {
    fail(
      `${
        (e as Error).message
      }; choose another file with --db PATH (":memory:" keeps nothing)`,
    );
  }
  const metrics = new MetricsCollector();
  const flows = new FlowManager({
    store,
    registry: options.registry,
    collector: metrics,
    drainTimeoutMs: options.drainTimeoutMs,
    log: (line) => log(line),
  });
  const restored = await flows.restore();
  for (const f of restored) {
    log(
      `flow "${f.id}" (rev ${f.rev}) restored: ${f.state}${
        f.error ? ` (${f.error})` : ""
      }`,
    );
  }
  for (const file of options.files) {
    await loadFile(flows, file, log, fail);
  }
  const streams = new AbortController();
  const app = flowApp({
    flows,
    metrics,
    components: options.registry,
    access,
    signal: streams.signal,
  });
  let server: Server;
  try {
    server = await serve(httpMetricsFetch(app, metrics), {
      hostname: options.hostname,
      port: options.port,
    });
  } catch (e) {
    await flows.close({ timeoutMs: options.drainTimeoutMs });
    fail(
      `${
        (e as Error).message
      }; choose another with --listen host:port (port 0 picks a free one)`,
    );
  }
  connectionMetrics(metrics, server.connections);
  if (!access.enabled && !isLoopback(options.hostname)) {
    log(
      "no token configured and listening beyond loopback: flow routes answer 403 until one is set (--token, WEIR_TOKEN)",
    );
  }
  let done: Promise<void> | undefined;
  const shutdown = (reason = "shutdown") =>
    done ??= (async () => {
      log(
        `${reason}: closing the server, draining flows (up to ${options.drainTimeoutMs} ms)`,
      );
      streams.abort();
      await server.close();
      await flows.close({ timeoutMs: options.drainTimeoutMs });
      log("flows drained, database closed");
    })();
  return { server, flows, shutdown };
}

async function loadFile(
  flows: FlowManager,
  file: string,
  log: (line: string) => void,
  fail: (message: string, code?: number) => never,
): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    fail(
      (e as { code?: string }).code === "ENOENT"
        ? `cannot read "${file}": no such file`
        : `cannot read "${file}": ${(e as Error).message}`,
    );
  }
  const format = /^\uFEFF?\s*\{/.test(text) && !file.endsWith(".fbp")
    ? "json"
    : "fbp";
  try {
    const created = await flows.create({ text, format });
    log(`flow "${created.id}" created from ${file}: ${created.state}`);
  } catch (e) {
    if (e instanceof GraphError) {
      fail(
        `${file}: ${
          e.message.split("\n").slice(1).map((l) => `${file}:${l}`).join("; ")
        }`,
        1,
      );
    }
    const conflict = (e as { status?: number }).status === 409;
    if (!conflict) throw e;
    // Already stored: replace it when the file says something else.
    const id = (e as { id?: string }).id!;
    if (flows.source(id).text === text) {
      log(`flow "${id}" from ${file}: unchanged`);
      return;
    }
    const info = await flows.replace(id, { text, format });
    log(`flow "${id}" replaced from ${file} (rev ${info.rev}): ${info.state}`);
  }
}

/**
 * Runs `weir serve` until SIGINT or SIGTERM; resolves with the exit code.
 */
export async function serveCommand(
  options: ServeCommandOptions,
): Promise<number> {
  const running = await startServer(options);
  options.log(
    `serving flows at ${running.server.url} (database ${options.db}); Ctrl-C to stop`,
  );
  // A second signal while draining exits at once (onShutdown's rule).
  const signalled = new Promise<ShutdownSignal>((resolve) =>
    onShutdown(resolve)
  );
  const signal = await signalled;
  await running.shutdown(signal);
  return 0;
}
