/**
 * The `weir` command (first cut): run the demo flow, run a graph file,
 * validate graph files, list the components.
 *
 * @module
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { builtins } from "../components/mod.ts";
import { Network } from "../engine/network.ts";
import type { Registry } from "../engine/registry.ts";
import {
  buildNetworkSpec,
  GraphError,
  loadGraph,
  validateGraph,
} from "../graph/mod.ts";
import { formatProblem } from "../graph/problem.ts";
import { MetricsCollector } from "../metrics/collector.ts";
import { serve, type Server } from "../runtime/serve.ts";
import { onShutdown } from "../runtime/signals.ts";
import { metricsApp } from "../server/metrics_app.ts";
import { parseTokenSpec, type TokenGrant } from "../server/auth.ts";
import { serveCommand, trackResources } from "./serve.ts";
import { DEMO_FLOW } from "./demo.ts";

const USAGE = `weir: flow-based programming with first-class metrics

Usage:
  weir demo                  run the built-in demo flow until Ctrl-C
  weir demo --print          print the demo flow's .fbp text
  weir run <graph>           run a graph (.fbp or .json) until it finishes;
                             Ctrl-C drains it (sources stop, the rest flows out)
  weir validate <graph...>   check graphs; prints file:line:col: message per problem
  weir components            list the built-in components and their ports
  weir serve [graph...]      serve the flow API and /metrics; flows persist in
                             the database; graph files given are added (or
                             replace their stored flow when changed)

Options:
  --drain-timeout <ms>       how long Ctrl-C waits for messages to flow out (default 5000)
  --metrics <host:port>      serve Prometheus metrics at http://host:port/metrics
                             (demo default 127.0.0.1:9464; port 0 picks a free one)
  --no-metrics               do not serve metrics (the demo's default is on)
  --listen <host:port>       serve: where to listen (default 127.0.0.1:9464)
  --db <path>                serve: the flow database (default weir.db; ":memory:")
  --token <[scopes:]token>   serve: accept this bearer token (repeatable; scopes
                             read,write,metrics; all when left out). Also read
                             from WEIR_TOKEN (space-separated). Beyond loopback
                             without a token, flow routes answer 403.
  -h, --help                 show this help

Examples:
  weir demo
  weir demo --metrics 0.0.0.0:9464
  weir run flows/sensors.fbp --metrics 127.0.0.1:9464
  weir validate flows/*.fbp flows/*.json
  WEIR_TOKEN=$(openssl rand -hex 32) weir serve --listen 0.0.0.0:9464 flows/sensors.fbp
`;

/** Where `weir demo` serves metrics unless told otherwise. */
const DEMO_METRICS = { hostname: "127.0.0.1", port: 9464 };

/** A command-line failure: printed as one sentence, exit code attached. */
export class CliError extends Error {
  override name = "CliError";
  /** 1: the flow or graph failed; 2: bad usage. */
  readonly code: number;

  /** Creates the error. */
  constructor(message: string, code: number) {
    super(message);
    this.code = code;
  }
}

/** Exit codes: 0 ok, 1 the flow or graph failed, 2 bad usage. */
function fail(message: string, code = 2): never {
  throw new CliError(message, code);
}

function readGraphText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    fail(
      code === "ENOENT"
        ? `cannot read "${file}": no such file`
        : `cannot read "${file}": ${(e as Error).message}`,
    );
  }
}

/** Where to serve metrics: `null` for nowhere. */
type MetricsAddress = { hostname: string; port: number } | null;

function parseAddress(
  value: string | undefined,
  flag = "--metrics",
): NonNullable<MetricsAddress> {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(value ?? "");
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    fail(
      `${flag} needs host:port, e.g. 127.0.0.1:9464 (port 0 picks a free one), received ${
        JSON.stringify(value ?? "")
      }`,
    );
  }
  return { hostname: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}

function tokenOf(spec: string | undefined, from: string): TokenGrant {
  if (!spec) fail(`${from} needs a token, e.g. --token read,metrics:TOKEN`);
  try {
    return parseTokenSpec(spec);
  } catch (e) {
    fail(`${from}: ${(e as Error).message}`);
  }
}

/** Serves the collector's /metrics; a port in use is a usage error. */
async function serveMetrics(
  metrics: MetricsCollector,
  at: NonNullable<MetricsAddress>,
): Promise<Server> {
  try {
    // A scraper that stalls may hold the exit up for a second, no more.
    const server = await serve(metricsApp(metrics).fetch, {
      ...at,
      closeGraceMs: 1000,
    });
    console.error(`weir: metrics at ${server.url}/metrics`);
    return server;
  } catch (e) {
    fail(
      `${
        (e as Error).message
      }; choose another with --metrics host:port (port 0 picks a free one) or turn it off with --no-metrics`,
    );
  }
}

async function runFlow(
  text: string,
  file: string | undefined,
  registry: Registry,
  drainTimeoutMs: number,
  metricsAt: MetricsAddress,
): Promise<number> {
  let net: Network;
  try {
    const graph = loadGraph(text, { file });
    net = new Network(buildNetworkSpec(graph, registry));
  } catch (e) {
    if (e instanceof GraphError) fail(e.message, 1);
    throw e;
  }
  let errors = 0;
  net.on("error", (e) => {
    errors++;
    console.error(`weir: ${e.message}`);
  });
  net.on("deadlock", (d) => console.error(`weir: ${d.message}`));
  const off = onShutdown(async (signal) => {
    console.error(`weir: ${signal}: draining (up to ${drainTimeoutMs} ms)`);
    const r = await net.drain(drainTimeoutMs);
    if (!r.drained) {
      console.error(
        `weir: drain timed out; ${r.backlog} buffered messages were discarded`,
      );
    }
  });
  let server: Server | undefined;
  const resources = new AbortController();
  if (metricsAt !== null) {
    const metrics = new MetricsCollector();
    metrics.track(net);
    trackResources(
      metrics,
      (line) => console.error(`weir: ${line}`),
      resources.signal,
    );
    try {
      server = await serveMetrics(metrics, metricsAt);
    } catch (e) {
      off();
      resources.abort();
      throw e;
    }
  }
  console.error(
    `weir: running flow "${net.name}" (${net.processNames.length} processes); Ctrl-C to stop`,
  );
  await net.start();
  const state = await net.finished;
  off();
  resources.abort();
  await server?.close();
  console.error(`weir: flow "${net.name}" ${state}`);
  return errors > 0 || state !== "finished" ? 1 : 0;
}

function listComponents(registry: Registry): void {
  for (const c of registry.components()) {
    const aliases = registry.aliasesOf(c.name);
    console.log(
      `${c.name}${aliases.length ? ` (also ${aliases.join(", ")})` : ""}`,
    );
    console.log(`  ${c.description}`);
    for (const [name, p] of Object.entries(c.inPorts)) {
      console.log(
        `  in  ${name}: ${p.type}${p.control ? ", control" : ""}${
          p.required ? ", required" : ""
        }${p.description ? ` - ${p.description}` : ""}`,
      );
    }
    for (const [name, p] of Object.entries(c.outPorts)) {
      console.log(
        `  out ${name}: ${p.type}${p.description ? ` - ${p.description}` : ""}`,
      );
    }
  }
}

function validateFiles(files: string[], registry: Registry): number {
  if (files.length === 0) fail("validate needs at least one graph file");
  let problems = 0;
  for (const file of files) {
    const text = readGraphText(file);
    try {
      const graph = loadGraph(text, { file });
      for (const p of validateGraph(graph, registry)) {
        problems++;
        console.log(formatProblem(p, file));
      }
    } catch (e) {
      if (!(e instanceof GraphError)) throw e;
      for (const p of e.problems) {
        problems++;
        console.log(formatProblem(p, file));
      }
    }
  }
  if (problems > 0) {
    console.error(`weir: ${problems} problem${problems === 1 ? "" : "s"}`);
  }
  return problems > 0 ? 1 : 0;
}

/** Runs the command line; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let drainTimeoutMs = 5000;
  let metricsAt: MetricsAddress | undefined;
  let listen = { hostname: "127.0.0.1", port: 9464 };
  let db = "weir.db";
  const tokens: TokenGrant[] = [];
  const rest: string[] = [];
  // `--name=value` is the same as `--name value`.
  args = args.flatMap((a) =>
    /^--[a-z-]+=/.test(a)
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a]
  );
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--help") {
      console.log(USAGE);
      return 0;
    } else if (a === "--drain-timeout") {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v < 0) {
        fail(
          `--drain-timeout needs a number of milliseconds, received ${
            JSON.stringify(args[i])
          }`,
        );
      }
      drainTimeoutMs = v;
    } else if (a === "--metrics") {
      metricsAt = parseAddress(args[++i]);
    } else if (a === "--no-metrics") {
      metricsAt = null;
    } else if (a === "--listen") {
      listen = parseAddress(args[++i], "--listen");
    } else if (a === "--db") {
      if (!args[i + 1]) fail("--db needs a file path (or :memory:)");
      db = args[++i];
    } else if (a === "--token") {
      tokens.push(tokenOf(args[++i], "--token"));
    } else if (a.startsWith("-") && a !== "--print") {
      fail(`unknown option ${JSON.stringify(a)}`);
    } else rest.push(a);
  }
  const [command, ...params] = rest;
  const registry = builtins();
  switch (command) {
    case "demo":
      if (params[0] === "--print") {
        console.log(DEMO_FLOW);
        return 0;
      }
      return await runFlow(
        DEMO_FLOW,
        "demo.fbp",
        registry,
        drainTimeoutMs,
        metricsAt === undefined ? DEMO_METRICS : metricsAt,
      );
    case "run":
      if (params.length !== 1) fail("run needs exactly one graph file");
      return await runFlow(
        readGraphText(params[0]),
        params[0],
        registry,
        drainTimeoutMs,
        metricsAt ?? null,
      );
    case "validate":
      return validateFiles(params, registry);
    case "components":
      listComponents(registry);
      return 0;
    case "serve":
      for (const spec of (process.env.WEIR_TOKEN ?? "").split(/\s+/)) {
        if (spec) tokens.push(tokenOf(spec, "WEIR_TOKEN"));
      }
      return await serveCommand({
        ...listen,
        db,
        tokens,
        drainTimeoutMs,
        files: params,
        registry,
        log: (line) => console.error(`weir: ${line}`),
        fail,
      });
    case undefined:
      console.log(USAGE);
      return 2;
    default:
      fail(`unknown command ${JSON.stringify(command)}`);
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    console.error(`weir: ${e.message}`);
    if (e.code === 2) console.error("Run 'weir --help' for usage.");
    code = e.code;
  }
  process.exit(code);
}
