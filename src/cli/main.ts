/**
 * The `weir` command: `serve` the flow API and `/metrics`, `run` one graph,
 * `validate` graphs, list the `components`, print the `version`, or run the
 * built-in `demo`. `weir <command> --help` tells each one's options, with
 * examples.
 *
 * Settings come from flags, environment variables (`WEIR_PORT`, ...) and an
 * optional JSON config file (`--config FILE` or `WEIR_CONFIG`), in that
 * order of precedence, then the defaults (see `settings.ts`).
 *
 * Exit codes: 0 done, 1 a flow or graph failed, 2 bad usage (an unknown
 * flag, a missing file, a port in use, a database that cannot be opened):
 * one sentence and a hint on standard error, no stack trace.
 *
 * @module
 */
import process from "node:process";
import { builtins } from "../components/mod.ts";
import { Network } from "../engine/network.ts";
import { closestName, type Registry } from "../engine/registry.ts";
import { buildNetworkSpec, GraphError, loadGraph } from "../graph/mod.ts";
import { MetricsCollector } from "../metrics/collector.ts";
import { serve, type Server } from "../runtime/serve.ts";
import { onShutdown } from "../runtime/signals.ts";
import { metricsApp } from "../server/metrics_app.ts";
import { VERSION } from "../version.ts";
import { readText } from "./_read_text.ts";
import { createLogger, type Logger, resolveLogFormat } from "./log.ts";
import {
  checkGraph,
  serveCommand,
  shutdownSignal,
  trackResources,
} from "./serve.ts";
import {
  CONFIG_ENV,
  type ResolvedSettings,
  resolveSettings,
  SETTINGS,
  SettingsError,
} from "./settings.ts";
import { DEMO_FLOW } from "./demo.ts";

/** A command-line failure: printed as one sentence, exit code attached. */
export class CliError extends Error {
  override name = "CliError";
  /** 1: the flow or graph failed; 2: bad usage. */
  readonly code: number;
  /** The command whose help the hint points to, if any. */
  readonly command?: string;

  /** Creates the error. */
  constructor(message: string, code: number, command?: string) {
    super(message);
    this.code = code;
    if (command !== undefined) this.command = command;
  }
}

/** Exit codes: 0 ok, 1 the flow or graph failed, 2 bad usage. */
function fail(message: string, code = 2): never {
  throw new CliError(message, code);
}

/** A flag that only some commands take, and is not a setting. */
interface FlagDef {
  flag: string;
  /** What its value looks like in help; none for a switch. */
  arg?: string;
  /** A value to show in errors. */
  example?: string;
  help: string;
}

const CONFIG_FLAG: FlagDef = {
  flag: "--config",
  example: "/etc/weir/weir.json",
  arg: "<file>",
  help:
    `read settings from this JSON file (also ${CONFIG_ENV}); flags and variables win`,
};
const METRICS_FLAG: FlagDef = {
  flag: "--metrics",
  example: "127.0.0.1:9464",
  arg: "<host:port>",
  help:
    "serve Prometheus metrics at http://host:port/metrics (port 0 picks one)",
};
const NO_METRICS_FLAG: FlagDef = {
  flag: "--no-metrics",
  help: "do not serve metrics",
};
const LISTEN_FLAG: FlagDef = {
  flag: "--listen",
  example: "0.0.0.0:9464",
  arg: "<host:port>",
  help: "the same as --host and --port together",
};
const PRINT_FLAG: FlagDef = {
  flag: "--print",
  help: "print the demo flow's .fbp text and exit",
};
const HELP_FLAG: FlagDef = { flag: "--help", help: "show this help (also -h)" };

/** A subcommand: its help and the flags and settings it takes. */
interface CommandDef {
  name: string;
  usage: string;
  summary: string;
  about: string;
  /** Settings (by flag) it reads. */
  settings: string[];
  flags: FlagDef[];
  examples: string[];
}

const LOG_SETTINGS = ["--log-level", "--log-format"];

const COMMANDS: CommandDef[] = [
  {
    name: "serve",
    usage: "weir serve [options] [graph...]",
    summary: "serve the flow API, health checks and /metrics",
    about:
      `Serves the flow API, /healthz, /readyz and Prometheus /metrics on one port.
Flows persist in the database and come back after a restart; each graph
file given is added, or replaces its stored flow when the file changed.
SIGINT or SIGTERM stops accepting requests, drains every flow (sources
stop, buffered messages flow out, up to the drain timeout) and exits 0.
Beyond loopback without a token, the flow routes answer 403.`,
    settings: SETTINGS.map((s) => s.flag),
    flags: [LISTEN_FLAG, CONFIG_FLAG],
    examples: [
      "weir serve",
      "weir serve --port 8080 flows/sensors.fbp flows/alerts.json",
      "WEIR_TOKEN=$(openssl rand -hex 32) weir serve --host 0.0.0.0 --db /var/lib/weir/flows.db",
      "weir serve --config /etc/weir/weir.json --log-level debug",
    ],
  },
  {
    name: "run",
    usage: "weir run [options] <graph>",
    summary: "run one graph in the foreground until it finishes",
    about:
      `Runs one graph (.fbp or .json) until every process has finished. Ctrl-C
or SIGTERM drains it: sources stop and buffered messages flow out, up to
the drain timeout. Exits 0 when it finished cleanly, 1 when a process
failed or the flow was stopped before its end.`,
    settings: ["--metrics-namespace", ...LOG_SETTINGS, "--drain-timeout"],
    flags: [METRICS_FLAG, NO_METRICS_FLAG, CONFIG_FLAG],
    examples: [
      "weir run flows/etl.fbp",
      "weir run flows/sensors.fbp --metrics 127.0.0.1:9464",
      "weir run flows/import.json --drain-timeout 30s --log-format json",
    ],
  },
  {
    name: "validate",
    usage: "weir validate <graph...>",
    summary: "check graphs without running them",
    about:
      `Checks each graph (.fbp or .json) against the component catalogue and
prints every problem as file:line:col: message. Exits 0 when all are
valid, 1 when any has a problem, 2 when a file cannot be read.`,
    settings: [],
    flags: [],
    examples: [
      "weir validate flows/sensors.fbp",
      "weir validate flows/*.fbp flows/*.json",
    ],
  },
  {
    name: "components",
    usage: "weir components",
    summary: "list the built-in components and their ports",
    about:
      `Lists every built-in component: its name (and aliases), what it does,
and its in- and out-ports with their types.`,
    settings: [],
    flags: [],
    examples: ["weir components", "weir components | grep -A8 '^flow/Map'"],
  },
  {
    name: "version",
    usage: "weir version",
    summary: "print weir's version and runtime",
    about: "Prints weir's version, the runtime it runs on, and the platform.",
    settings: [],
    flags: [],
    examples: ["weir version", "weir --version"],
  },
  {
    name: "demo",
    usage: "weir demo [options]",
    summary: "run the built-in demo flow until Ctrl-C",
    about:
      `Runs a simulated temperature sensor: hot readings and a summary of every
ten readings are printed, and metrics are served at
http://127.0.0.1:9464/metrics unless told otherwise.`,
    settings: ["--metrics-namespace", ...LOG_SETTINGS, "--drain-timeout"],
    flags: [METRICS_FLAG, NO_METRICS_FLAG, PRINT_FLAG, CONFIG_FLAG],
    examples: [
      "weir demo",
      "weir demo --metrics 0.0.0.0:9464",
      "weir demo --print > demo.fbp",
    ],
  },
];

const COMMAND_BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));
const SETTING_BY_FLAG = new Map(SETTINGS.map((s) => [s.flag, s]));
/** Every flag (the settings' and the others), by name. */
const FLAGS = new Map<string, FlagDef>(
  [
    ...SETTINGS,
    CONFIG_FLAG,
    METRICS_FLAG,
    NO_METRICS_FLAG,
    LISTEN_FLAG,
    PRINT_FLAG,
  ].map((f) => [f.flag, f]),
);

/** Whether command `c` takes `flag`. */
function _takes(c: CommandDef, flag: string): boolean {
  return c.settings.includes(flag) || c.flags.some((f) => f.flag === flag);
}

function _row(left: string, right: string): string {
  return left.length < 28
    ? `  ${left.padEnd(28)}${right}`
    : `  ${left}\n  ${"".padEnd(28)}${right}`;
}

/** The overview that `weir --help` prints. */
function overview(): string {
  return `weir ${VERSION}: flow-based programming with first-class Prometheus metrics

Usage:
  weir <command> [options] [arguments]

Commands:
${COMMANDS.map((c) => _row(c.name, c.summary)).join("\n")}

Run 'weir <command> --help' for a command's options and examples.

Settings come from flags, then environment variables (WEIR_PORT, ...),
then a JSON config file (--config FILE or ${CONFIG_ENV}), then defaults.

Examples:
  weir demo
  weir serve --port 9464 flows/sensors.fbp
  weir run flows/etl.fbp
  weir validate flows/*.fbp
`;
}

/** The help of one command. */
function commandHelp(c: CommandDef): string {
  const rows: string[] = [];
  for (const flag of c.settings) {
    const s = SETTING_BY_FLAG.get(flag)!;
    const dflt = Array.isArray(s.default)
      ? "none"
      : s.key === "drainTimeoutMs"
      ? `${s.default} ms`
      : String(s.default);
    rows.push(
      _row(`${s.flag} ${s.arg}`, s.help),
      _row("", `env ${s.env}, default ${dflt}`),
    );
  }
  for (const f of [...c.flags, HELP_FLAG]) {
    rows.push(_row(f.arg ? `${f.flag} ${f.arg}` : f.flag, f.help));
  }
  const precedence = c.settings.length > 0
    ? `\nA flag beats its environment variable, which beats the config file's
key, which beats the default. The file's keys: ${
      SETTINGS.map((s) => s.fileKey).join(", ")
    }.\n`
    : "";
  return `Usage: ${c.usage}

${c.about}

Options:
${rows.join("\n")}
${precedence}
Examples:
${c.examples.map((e) => `  ${e}`).join("\n")}
`;
}

/** The command line, split into the command, its arguments and flags. */
interface ParsedArgs {
  command: CommandDef | undefined;
  positional: string[];
  /** Raw values by flag; switches get `""`. */
  flags: Record<string, string[]>;
  help: boolean;
  version: boolean;
}

/** Splits the command line; throws a usage error naming the bad part. */
function parseArgs(args: string[]): ParsedArgs {
  const out: ParsedArgs = {
    command: undefined,
    positional: [],
    flags: {},
    help: false,
    version: false,
  };
  const given: string[] = [];
  let onlyPositional = false;
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    if (onlyPositional || !a.startsWith("-") || a === "-") {
      if (out.command === undefined && out.positional.length === 0) {
        const c = COMMAND_BY_NAME.get(a);
        if (c === undefined) {
          if (a === "help") {
            out.help = true;
            const next = args[i + 1];
            if (next !== undefined && !next.startsWith("-")) {
              out.command = COMMAND_BY_NAME.get(next);
              if (out.command === undefined) _unknownCommand(next);
              i++;
            }
            continue;
          }
          _unknownCommand(a);
        }
        out.command = c;
      } else out.positional.push(a);
      continue;
    }
    if (a === "--") {
      onlyPositional = true;
      continue;
    }
    if (a === "-h" || a === "--help") {
      out.help = true;
      continue;
    }
    if (a === "--version" || a === "-V") {
      out.version = true;
      continue;
    }
    let value: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 2) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const def = FLAGS.get(a);
    if (def === undefined) {
      const near = closestName(a, FLAGS.keys());
      throw new CliError(
        `unknown option ${JSON.stringify(a)}${
          near ? `; did you mean ${near}?` : ""
        }`,
        2,
        out.command?.name,
      );
    }
    if (def.arg !== undefined) {
      if (value === undefined) {
        value = args[++i];
        if (value === undefined) {
          throw new CliError(
            `${a} needs a value, e.g. ${a} ${def.example}`,
            2,
            out.command?.name,
          );
        }
      }
    } else if (value !== undefined) {
      throw new CliError(
        `${a} takes no value, received ${JSON.stringify(value)}`,
        2,
        out.command?.name,
      );
    } else value = "";
    (out.flags[a] ??= []).push(value);
    given.push(a);
  }
  const c = out.command;
  if (c !== undefined && !out.help) {
    for (const flag of given) {
      if (!_takes(c, flag)) {
        const takers = COMMANDS.filter((o) => _takes(o, flag)).map((o) =>
          `weir ${o.name}`
        );
        throw new CliError(
          `weir ${c.name} does not take ${flag} (${takers.join(" and ")} ${
            takers.length === 1 ? "does" : "do"
          })`,
          2,
          c.name,
        );
      }
    }
  }
  return out;
}

function _unknownCommand(name: string): never {
  const near = closestName(name, COMMAND_BY_NAME.keys());
  throw new CliError(
    `unknown command ${JSON.stringify(name)}${
      near ? `; did you mean "${near}"?` : ""
    } (commands: ${COMMANDS.map((c) => c.name).join(", ")})`,
    2,
  );
}

function readGraphText(file: string): string {
  return readText(file, (why) => fail(`cannot read "${file}": ${why}`));
}

/** Where to serve metrics: `null` for nowhere. */
type MetricsAddress = { hostname: string; port: number } | null;

/** Parses `host:port` (`[v6]:port` too) for `flag`. */
function parseAddress(
  value: string,
  flag: string,
): NonNullable<MetricsAddress> {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    fail(
      `${flag} needs host:port, e.g. 127.0.0.1:9464 (port 0 picks a free one), received ${
        JSON.stringify(value)
      }`,
    );
  }
  return { hostname: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}

/** Serves the collector's /metrics; a port in use is a usage error. */
async function serveMetrics(
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

interface RunOptions {
  text: string;
  file: string;
  registry: Registry;
  drainTimeoutMs: number;
  metricsAt: MetricsAddress;
  namespace: string;
  log: Logger;
}

async function runFlow(o: RunOptions): Promise<number> {
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
      server = await serveMetrics(metrics, o.metricsAt, log);
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
    for (
      const line of checkGraph(readGraphText(file), file, registry).problems
    ) {
      problems++;
      console.log(line);
    }
  }
  if (problems > 0) {
    console.error(`weir: ${problems} problem${problems === 1 ? "" : "s"}`);
  }
  return problems > 0 ? 1 : 0;
}

/** The line `weir version` prints. */
export function versionLine(): string {
  const ua = globalThis.navigator?.userAgent ?? "";
  const runtime = /^(Deno|Bun)\/(\S+)/.exec(ua);
  // Bun's executables run their code from the embedded /$bunfs/ tree.
  const executable = import.meta.url.includes("/$bunfs/")
    ? ", single executable"
    : "";
  return `weir ${VERSION} (${
    runtime ? `${runtime[1].toLowerCase()} ${runtime[2]}` : "unknown runtime"
  }, ${process.platform}-${process.arch}${executable})`;
}

/** Where `main()` reads its environment and terminal from. */
export interface MainOptions {
  /** The environment variables. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Whether the log goes to a terminal. Default: is stderr a TTY. */
  isTerminal?: boolean;
}

/** Runs the command line; resolves with the exit code. */
export async function main(
  args: string[],
  options: MainOptions = {},
): Promise<number> {
  const parsed = parseArgs(args);
  const command = parsed.command;
  if (parsed.help) {
    console.log(command ? commandHelp(command) : overview());
    return 0;
  }
  if (parsed.version || command?.name === "version") {
    console.log(versionLine());
    return 0;
  }
  if (command === undefined) {
    console.error(overview());
    return 2;
  }
  try {
    return await runCommand(command, parsed, options);
  } catch (e) {
    if (e instanceof CliError && e.command === undefined && e.code === 2) {
      throw new CliError(e.message, e.code, command.name);
    }
    throw e;
  }
}

async function runCommand(
  command: CommandDef,
  parsed: ParsedArgs,
  options: MainOptions,
): Promise<number> {
  const params = parsed.positional;
  const registry = builtins();
  if (command.name === "validate") return validateFiles(params, registry);
  if (command.name === "components") {
    if (params.length > 0) fail("components takes no arguments");
    listComponents(registry);
    return 0;
  }
  let resolved: ResolvedSettings;
  try {
    resolved = resolveSettings(
      parsed.flags,
      options.env ?? process.env,
      SETTINGS.filter((d) => command.settings.includes(d.flag)).map((d) =>
        d.key
      ),
    );
  } catch (e) {
    if (e instanceof SettingsError) fail(e.message);
    throw e;
  }
  const s = resolved.settings;
  // From here on, a signal during start-up waits for the server to start.
  const signalled = command.name === "serve" ? shutdownSignal() : undefined;
  const log = createLogger({
    level: s.logLevel,
    format: resolveLogFormat(
      s.logFormat,
      options.isTerminal ?? process.stderr.isTTY === true,
    ),
  });
  for (const def of SETTINGS) {
    if (!command.settings.includes(def.flag)) continue;
    const value = def.key === "tokens"
      ? `${s.tokens.length} token(s)`
      : String(s[def.key]);
    log.debug(`setting ${def.key} = ${value} (${resolved.sources[def.key]})`, {
      setting: def.key,
      source: resolved.sources[def.key],
    });
  }
  const metricsFlag = parsed.flags["--metrics"]?.at(-1);
  const metricsAt: MetricsAddress | undefined =
    parsed.flags["--no-metrics"] !== undefined
      ? null
      : metricsFlag !== undefined
      ? parseAddress(metricsFlag, "--metrics")
      : undefined;
  switch (command.name) {
    case "demo":
      if (parsed.flags["--print"] !== undefined) {
        console.log(DEMO_FLOW);
        return 0;
      }
      if (params.length > 0) fail("demo takes no arguments");
      return await runFlow({
        text: DEMO_FLOW,
        file: "demo.fbp",
        registry,
        drainTimeoutMs: s.drainTimeoutMs,
        metricsAt: metricsAt === undefined ? DEMO_METRICS : metricsAt,
        namespace: s.metricsNamespace,
        log,
      });
    case "run":
      if (params.length !== 1) {
        fail(
          params.length === 0
            ? "run needs a graph file, e.g. weir run flows/etl.fbp"
            : `run takes one graph file, received ${params.length}; use weir serve to run several`,
        );
      }
      return await runFlow({
        text: readGraphText(params[0]),
        file: params[0],
        registry,
        drainTimeoutMs: s.drainTimeoutMs,
        metricsAt: metricsAt ?? null,
        namespace: s.metricsNamespace,
        log,
      });
    default: {
      let { host, port } = s;
      const listen = parsed.flags["--listen"]?.at(-1);
      if (listen !== undefined) {
        ({ hostname: host, port } = parseAddress(listen, "--listen"));
      }
      return await serveCommand({
        hostname: host,
        port,
        db: s.db,
        tokens: s.tokens,
        drainTimeoutMs: s.drainTimeoutMs,
        metricsNamespace: s.metricsNamespace,
        files: params,
        registry,
        log,
        fail,
      }, signalled);
    }
  }
}

/** Where `weir demo` serves metrics unless told otherwise. */
const DEMO_METRICS = { hostname: "127.0.0.1", port: 9464 };

/**
 * Runs `main()` for the process and exits with its code. A usage error
 * prints its sentence and where to find help; any other error prints one
 * line (the stack only with `WEIR_LOG_LEVEL=debug`) and exits 1.
 */
async function _run(): Promise<never> {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof CliError) {
      console.error(`weir: ${e.message}`);
      if (e.code === 2) {
        console.error(
          `Run 'weir ${e.command ? `${e.command} ` : ""}--help' for usage.`,
        );
      }
      code = e.code;
    } else {
      const debug = process.env.WEIR_LOG_LEVEL === "debug";
      console.error(
        `weir: unexpected error: ${
          debug ? (e as Error).stack ?? e : (e as Error).message ?? e
        }${debug ? "" : " (WEIR_LOG_LEVEL=debug shows the stack trace)"}`,
      );
      code = 1;
    }
  }
  process.exit(code);
}

if (import.meta.main) await _run();
