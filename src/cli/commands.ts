/**
 * What the weir command offers: each command with its help, settings, flags
 * and examples, in one table that the parser and the help texts both read.
 *
 * @module
 */
import { VERSION } from "../version.ts";
import { DEMO_METRICS } from "./demo.ts";
import { CONFIG_ENV, SETTINGS } from "./settings.ts";

/** A flag that only some commands take, and is not a setting. */
export interface FlagDef {
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
const NO_HISTORY_FLAG: FlagDef = {
  flag: "--no-history",
  help: "keep no metric history",
};
const DRY_RUN_FLAG: FlagDef = {
  flag: "--dry-run",
  help: "print what would be sent (required)",
};
const SINCE_FLAG: FlagDef = {
  flag: "--since",
  arg: "<duration>",
  example: "5m",
  help: "how much of the history to show (default 5m)",
};
const NAME_FLAG: FlagDef = {
  flag: "--name",
  arg: "<destination>",
  example: "central",
  help: "only this destination",
};
const HELP_FLAG: FlagDef = { flag: "--help", help: "show this help (also -h)" };

/** A subcommand: its help and the flags and settings it takes. */
export interface CommandDef {
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
/** The metric history's settings (all of them: `weir serve` takes every setting). */
const HISTORY_SETTINGS = SETTINGS.filter((s) =>
  s.key === "dataDir" || s.key.startsWith("history")
).map((s) => s.flag);

/** Every command, in the order the overview lists them. */
export const COMMANDS: CommandDef[] = [
  {
    name: "serve",
    usage: "weir serve [options] [graph...]",
    summary: "serve the flow API, health checks and /metrics",
    about:
      `Serves the flow API, /healthz, /readyz and Prometheus /metrics on one port.
Flows persist in the database and come back after a restart; each graph
file given is added, or replaces its stored flow when the file changed. A
graph file with a problem (as weir validate finds them, with this
server's --max-capacity) stops start-up with exit 1 and every problem of
every file.
SIGINT, SIGTERM or SIGHUP stops accepting requests, drains every flow (sources
stop, buffered messages flow out, up to the drain timeout), writes the
metric history and exits 0. Beyond loopback without a token, the flow
routes answer 403. The metric history samples every series each second
into history/ in --data-dir and answers PromQL at /api/v1/query and
/api/v1/query_range (--no-history: none). Without --data-dir the two
folders differ: flows' files are under ./data of the current folder, the
history beside the --db file.`,
    settings: SETTINGS.map((s) => s.flag),
    flags: [LISTEN_FLAG, NO_HISTORY_FLAG, CONFIG_FLAG],
    examples: [
      "weir serve",
      "weir serve --port 8080 flows/sensors.fbp flows/alerts.json",
      "WEIR_TOKEN=$(openssl rand -hex 32) weir serve --host 0.0.0.0 --db /var/lib/weir/flows.db",
      "weir serve --config /etc/weir/weir.json --log-level debug",
      "weir serve --data-dir /var/lib/weir --history-exclude '.*_bucket'",
      "weir serve --components /etc/weir/components flows/scaled.fbp",
    ],
  },
  {
    name: "run",
    usage: "weir run [options] <graph>",
    summary: "run one graph in the foreground until it finishes",
    about:
      `Runs one graph (.fbp or .json) until every process has finished. Ctrl-C
or SIGTERM drains it: sources stop and buffered messages flow out, up to
the drain timeout. Exits 0 when it finished cleanly (a drain that let
every message out included), 1 when a process failed, the flow did not
start or a drain timed out (messages discarded). The graph's exported
in-ports (INPORT=) are closed at the start: nothing sends into them here.
The graph's files are under --data-dir (default ./data of the current folder). With --history,
every series is sampled into a metric history (in memory, or in history/
under --data-dir when it is set), queryable beside /metrics at
/api/v1/query.`,
    settings: [
      "--metrics-namespace",
      ...LOG_SETTINGS,
      "--drain-timeout",
      "--max-capacity",
      ...HISTORY_SETTINGS,
      "--allow-exec",
      "--allow-hosts",
      "--components",
      "--secrets-dir",
      "--secret-env",
    ],
    flags: [METRICS_FLAG, NO_METRICS_FLAG, NO_HISTORY_FLAG, CONFIG_FLAG],
    examples: [
      "weir run flows/etl.fbp",
      "weir run --components ./components flows/scaled.fbp",
      "weir run flows/sensors.fbp --metrics 127.0.0.1:9464",
      "weir run flows/import.json --drain-timeout 30s --log-format json",
    ],
  },
  {
    name: "validate",
    usage: "weir validate [options] <graph...>",
    summary: "check graphs without running them",
    about:
      `Checks each graph (.fbp or .json) as POST /flows checks it (the flow's
properties too) and prints every problem as file:line:col: message (or
file: path: message). Exits 0 when all are valid, 1 when any has a
problem, 2 when a file cannot be read. A file path a graph names must be
under --data-dir (default ./data of the current folder), as for weir
serve and weir run. With --components, the operator's own components
count as well; --max-capacity checks capacities against a server's.`,
    settings: [
      "--data-dir",
      "--max-capacity",
      "--components",
      "--allow-exec",
      "--allow-hosts",
      "--secrets-dir",
      "--secret-env",
    ],
    flags: [CONFIG_FLAG],
    examples: [
      "weir validate flows/sensors.fbp",
      "weir validate flows/*.fbp flows/*.json",
    ],
  },
  {
    name: "remote-write",
    usage: "weir remote-write --dry-run [options]",
    summary: "show what remote write would send, without sending",
    about:
      `Reads the metric history in history/ of --data-dir (default: the --db
file's folder, as weir serve keeps it) and prints, for each remote write
destination (the config file's remoteWrite list, or --remote-write URL),
what it would send of the last --since (default 5m): the series, samples,
requests and bytes, and the first series with their sample counts,
decoded from the very request bodies it would send. Nothing is sent and
no cursor moves; secrets are read (a missing token file fails here as it
would at start) but never printed. The history must not be in use: stop
weir serve, or point --data-dir at a copy.`,
    settings: [
      "--remote-write",
      "--data-dir",
      "--db",
      "--history-interval",
      ...LOG_SETTINGS,
    ],
    flags: [DRY_RUN_FLAG, SINCE_FLAG, NAME_FLAG, CONFIG_FLAG],
    examples: [
      "weir remote-write --dry-run --config /etc/weir/weir.json",
      "weir remote-write --dry-run --remote-write http://prom:9090/api/v1/write --since 1m",
    ],
  },
  {
    name: "components",
    usage: "weir components [options]",
    summary: "list the components, their origin and their ports",
    about:
      `Lists every component: its name (and aliases), what it does, its origin
(built-in, or the module file of an operator's component loaded with
--components) and its in- and out-ports with their types.`,
    settings: ["--components"],
    flags: [CONFIG_FLAG],
    examples: [
      "weir components",
      "weir components | grep -A8 '^flow/Map'",
      "weir components --components /etc/weir/components",
    ],
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
ten readings are printed. Metrics are served at
http://${DEMO_METRICS.hostname}:${DEMO_METRICS.port}/metrics unless --metrics or --no-metrics
says otherwise: not on weir serve's default port 9464, so a demo and a
server started with their defaults run side by side.`,
    settings: [
      "--metrics-namespace",
      ...LOG_SETTINGS,
      "--drain-timeout",
      ...HISTORY_SETTINGS,
    ],
    flags: [
      METRICS_FLAG,
      NO_METRICS_FLAG,
      NO_HISTORY_FLAG,
      PRINT_FLAG,
      CONFIG_FLAG,
    ],
    examples: [
      "weir demo",
      "weir demo --metrics 0.0.0.0:9465",
      "weir demo --metrics 127.0.0.1:0",
      "weir demo --print > demo.fbp",
      "weir demo --history --history-interval 500ms",
    ],
  },
];

/** The commands by name. */
export const COMMAND_BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));
const SETTING_BY_FLAG = new Map(SETTINGS.map((s) => [s.flag, s]));
/** Every flag (the settings' and the others), by name. */
export const FLAGS = new Map<string, FlagDef>(
  [
    ...SETTINGS,
    CONFIG_FLAG,
    METRICS_FLAG,
    NO_METRICS_FLAG,
    NO_HISTORY_FLAG,
    LISTEN_FLAG,
    PRINT_FLAG,
    DRY_RUN_FLAG,
    SINCE_FLAG,
    NAME_FLAG,
  ].map((f) => [f.flag, f]),
);

/** Whether command `c` takes `flag`. */
export function takes(c: CommandDef, flag: string): boolean {
  return c.settings.includes(flag) || c.flags.some((f) => f.flag === flag);
}

/** One line of an options or commands list: name, then its help. */
function _row(left: string, right: string): string {
  return left.length < 28
    ? `  ${left.padEnd(28)}${right}`
    : `  ${left}\n  ${"".padEnd(28)}${right}`;
}

/** The overview that `weir --help` prints. */
export function overview(): string {
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
export function commandHelp(c: CommandDef): string {
  const rows: string[] = [];
  for (const flag of c.settings) {
    const s = SETTING_BY_FLAG.get(flag)!;
    const dflt = s.shownDefault !== undefined
      ? s.shownDefault(c.name)
      : Array.isArray(s.default)
      ? "none"
      : s.key === "drainTimeoutMs"
      ? `${s.default} ms`
      : String(s.default);
    rows.push(
      _row(s.arg ? `${s.flag} ${s.arg}` : s.flag, s.help),
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
