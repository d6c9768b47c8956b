/**
 * The `weir` command: `serve` the flow API and `/metrics`, `run` one graph,
 * `validate` graphs, list the `components`, print the `version`, or run the
 * built-in `demo`. `weir <command> --help` tells each one's options, with
 * examples (the table in `commands.ts`).
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
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { builtins, HttpInRouter } from "../components/mod.ts";
import { componentsFolderProblem, fileSandbox } from "./file_sandbox_setup.ts";
import type { Registry } from "../engine/registry.ts";
import { VERSION } from "../version.ts";
import { readText } from "./_read_text.ts";
import { CliError, fail } from "./cli_error.ts";
import {
  ComponentModuleError,
  loadComponents,
  type LoadedModule,
  writableByOthers,
} from "./components_dir.ts";
import { type CommandDef, commandHelp, overview } from "./commands.ts";
import { DEMO_FLOW, DEMO_METRICS } from "./demo.ts";
import { createLogger, resolveLogFormat } from "./log.ts";
import { taggedOutput } from "./flow_output.ts";
import { OutputHub } from "../flows/output_hub.ts";
import {
  foldAddressFlags,
  type MetricsAddress,
  parseAddress,
  parseArgs,
  type ParsedArgs,
} from "./parse_args.ts";
import { historyOptions, openHistory } from "./history_setup.ts";
import { parseDuration } from "../engine/component.ts";
import { excerpt } from "../engine/excerpt.ts";
import { _checkDuration, _SPAN_LIMIT } from "../engine/_duration_limit.ts";
import { urlShown } from "../runtime/fetch_error.ts";
import { jitPolicyScale, setJitPolicy } from "../runtime/jit_policy.ts";
import {
  destinationName,
  type RemoteWriteDestination,
  remoteWriteDestinations,
  remoteWriteDryRun,
  type RemoteWriteSpec,
} from "./remote_write_setup.ts";
import { secretPolicy } from "./secret_setup.ts";
import { runFlow } from "./run_flow.ts";
import { checkGraph, serveCommand, shutdownSignal } from "./serve.ts";
import {
  misspeltVariables,
  type ResolvedSettings,
  resolveSettings,
  SETTINGS,
  type Settings,
  SettingsError,
} from "./settings.ts";

/** `weir remote-write --dry-run`: see its help in commands.ts. */
async function _remoteWriteDryRun(
  s: Settings,
  flags: Readonly<Record<string, string[] | undefined>>,
  params: string[],
): Promise<number> {
  if (flags["--dry-run"] === undefined) {
    fail(
      "remote-write only shows what would be sent: add --dry-run (weir serve sends)",
    );
  }
  if (params.length > 0) fail("remote-write takes no arguments");
  let since = 300_000;
  const sinceText = flags["--since"]?.at(-1);
  if (sinceText !== undefined) {
    try {
      since = parseDuration(sinceText);
    } catch (e) {
      fail(`--since: ${(e as Error).message}`);
    }
    if (!(since > 0)) fail("--since must be a positive duration");
    try {
      _checkDuration(since, 1, _SPAN_LIMIT);
    } catch (e) {
      fail(
        `--since ${(e as Error).message}, received ${
          JSON.stringify(excerpt(sinceText, 40))
        }`,
      );
    }
  }
  const name = flags["--name"]?.at(-1);
  const specs = s.remoteWrite.filter((d) =>
    name === undefined || destinationName(d) === name
  );
  if (specs.length === 0) {
    fail(
      name === undefined
        ? "no remote write destination: give --remote-write URL or a remoteWrite list in the config file"
        : `no remote write destination is named "${name}"`,
    );
  }
  const destinations = _remoteWrite(specs);
  const options = historyOptions("serve", { ...s, history: true });
  if (options === null || options.dir === undefined) {
    fail("remote-write needs the history's folder: give --data-dir or --db");
  }
  // Read only: a folder with no history in it (weir serve's `series.log`
  // is its first file) is said so, not made one.
  if (!existsSync(join(options.dir, "series.log"))) {
    fail(
      `no metric history in "${options.dir}": nothing to send (weir serve keeps it there while it runs; give the folder it uses with --data-dir or --db)`,
    );
  }
  const log = createLogger({ level: s.logLevel, format: "text" });
  // --no-history is no way out here: the dry run reads the history.
  const history = await openHistory(options, log, fail, {
    advice:
      "give the history's folder with --data-dir (or --db), or stop the process that holds it",
    use: "read",
  });
  try {
    await remoteWriteDryRun(
      specs,
      destinations,
      history,
      since,
      (line) => console.log(line),
    );
  } finally {
    await history.close();
  }
  return 0;
}

/** Remote write's destinations, secrets read; a usage error names what is missing. */
function _remoteWrite(specs: RemoteWriteSpec[]): RemoteWriteDestination[] {
  try {
    return remoteWriteDestinations(specs, process.env);
  } catch (e) {
    fail((e as Error).message);
  }
}

/** A destination for the log: its headers' values and its URL's query may be secrets. */
function _withoutHeaderValues(spec: RemoteWriteSpec): RemoteWriteSpec {
  // The URL without its query either (a key may go there).
  const shown = { ...spec, url: urlShown(new URL(spec.url)) };
  if (spec.headers === undefined) return shown;
  const headers: Record<string, string> = {};
  for (const k of Object.keys(spec.headers)) headers[k] = "(hidden)";
  return { ...shown, headers };
}

function _readGraphText(file: string): string {
  return readText(file, (why) => fail(`cannot read "${file}": ${why}`));
}

/** Loads the operator's components into `registry`; a bad module exits 2. */
async function _loadComponents(
  dir: string,
  registry: Registry,
): Promise<LoadedModule[]> {
  try {
    return await loadComponents(dir, registry);
  } catch (e) {
    if (!(e instanceof ComponentModuleError)) throw e;
    // The file and the reason say it all: --help would not help.
    throw new CliError(e.message, 2, undefined, { hint: false });
  }
}

/** Said when a components folder holds no module weir loads. */
function _noModules(dir: string): string {
  return `no component modules in ${dir}: weir loads the .js, .ts and .mjs files directly in it, not those in subfolders, .d.ts files or names starting with _ or .`;
}

function _listComponents(registry: Registry): void {
  for (const c of registry.components()) {
    const aliases = registry.aliasesOf(c.name);
    console.log(
      `${c.name}${aliases.length ? ` (also ${aliases.join(", ")})` : ""}`,
    );
    console.log(`  ${c.description}`);
    console.log(`  origin: ${registry.originOf(c.name)}`);
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

function _validateFiles(
  files: string[],
  registry: Registry,
  maxCapacity: number,
): number {
  if (files.length === 0) fail("validate needs at least one graph file");
  let problems = 0;
  for (const file of files) {
    const text = _readGraphText(file);
    for (
      const line of checkGraph(text, file, registry, { maxCapacity }).problems
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
  if (command?.name === "version" && parsed.positional.length > 0) {
    throw new CliError("version takes no arguments", 2, "version");
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
    return await _runCommand(command, parsed, options);
  } catch (e) {
    if (e instanceof CliError && e.command === undefined && e.code === 2) {
      throw new CliError(e.message, e.code, command.name, { hint: e.hint });
    }
    throw e;
  }
}

async function _runCommand(
  command: CommandDef,
  parsed: ParsedArgs,
  options: MainOptions,
): Promise<number> {
  const params = parsed.positional;
  let registry = builtins();
  if (command.name === "components" && params.length > 0) {
    fail("components takes no arguments");
  }
  const flags = foldAddressFlags(parsed.flags);
  let resolved: ResolvedSettings;
  try {
    resolved = resolveSettings(
      flags,
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
  if (command.name === "components") {
    if (
      s.components !== null &&
      (await _loadComponents(s.components, registry)).length === 0
    ) {
      // The list would show the built-ins alone, as if the folder had none.
      console.error(`weir: warning: ${_noModules(s.components)}`);
    }
    _listComponents(registry);
    return 0;
  }
  const logFormat = resolveLogFormat(
    s.logFormat,
    options.isTerminal ?? process.stderr.isTTY === true,
  );
  let secrets;
  try {
    secrets = secretPolicy(command.name, resolved, options.env ?? process.env);
  } catch (e) {
    fail((e as Error).message);
  }
  // The routes flows serve with http/In: the server answers them.
  const httpIn = command.name === "serve" ? new HttpInRouter() : undefined;
  // core/Output's lines, also for the flows' taps (the dashboard).
  const outputs = command.name === "serve" ? new OutputHub() : undefined;
  registry = builtins({
    files: fileSandbox(command.name, s, resolved),
    exec: s.allowExec,
    secrets,
    httpIn,
    httpHosts: s.allowHosts ?? undefined,
    // Many flows share the server's standard output: each line says whose.
    ...(command.name === "serve"
      ? {
        output: outputs!.wrap(taggedOutput(logFormat)),
        expressionBudget: {
          timeoutMs: s.expressionTimeoutMs,
          maxDepth: s.expressionMaxDepth,
        },
      }
      : {}),
  });
  if (s.components !== null) {
    const problem = componentsFolderProblem(s.components, s.dataDir ?? "data");
    if (problem !== undefined) {
      throw new CliError(problem, 2, undefined, { hint: false });
    }
  }
  // Into the registry the flows use: the same sandbox and expression budget.
  const loadStart = performance.now();
  const loaded = s.components === null
    ? []
    : await _loadComponents(s.components, registry);
  const loadMs = Math.round((performance.now() - loadStart) * 10) / 10;
  if (command.name === "validate") {
    if (s.components !== null && loaded.length === 0) {
      console.error(`weir: warning: ${_noModules(s.components)}`);
    }
    return _validateFiles(params, registry, s.maxCapacity);
  }
  if (command.name === "remote-write") {
    return await _remoteWriteDryRun(s, parsed.flags, params);
  }
  // From here on, a signal during start-up waits for the server to start.
  const signalled = command.name === "serve" ? shutdownSignal() : undefined;
  const log = createLogger({ level: s.logLevel, format: logFormat });
  for (
    const { variable, meant } of misspeltVariables(options.env ?? process.env)
  ) {
    log.warn(
      `the environment variable ${variable} is not one of weir's and is ignored; did you mean ${meant}?`,
      { variable, meant },
    );
  }
  for (const def of SETTINGS) {
    if (!command.settings.includes(def.flag)) continue;
    // Secrets are never logged: only how many there are.
    const value = def.key === "tokens" || def.key === "fileTokens"
      ? `${s[def.key].length} token(s)`
      : def.key === "remoteWrite"
      ? JSON.stringify(s.remoteWrite.map(_withoutHeaderValues))
      : typeof s[def.key] === "object" && s[def.key] !== null
      ? JSON.stringify(s[def.key])
      : String(s[def.key]);
    log.debug(`setting ${def.key} = ${value} (${resolved.sources[def.key]})`, {
      setting: def.key,
      source: resolved.sources[def.key],
    });
  }
  // A token is a password: readable by every user, it is everyone's.
  for (
    const [path, what] of [
      [resolved.tokenFile, "token file"],
      [
        resolved.sources.tokens === "file" ? resolved.configFile : undefined,
        "config file",
      ],
    ] as const
  ) {
    if (path !== undefined && readableByOthers(path)) {
      log.warn(
        `the ${what} ${path} holds tokens and is readable by every user: anyone on this machine can take them from it; chmod o-r it (install -m 600)`,
        { path },
      );
    }
  }
  if (s.components !== null) {
    for (
      const path of writableByOthers(s.components, loaded.map((m) => m.file))
    ) {
      log.warn(
        `${path} is writable by every user: anyone on this machine can put code into weir through --components; chmod o-w it`,
        { path },
      );
    }
    if (loaded.length === 0) {
      log.warn(_noModules(s.components), { dir: s.components });
    }
    const names = loaded.flatMap((m) => m.components);
    log.info(
      `loaded ${names.length} component${
        names.length === 1 ? "" : "s"
      } from ${loaded.length} module${
        loaded.length === 1 ? "" : "s"
      } in ${s.components}`,
      { components: names.join(" "), dir: s.components, ms: loadMs },
    );
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
        history: historyOptions("demo", s),
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
        text: _readGraphText(params[0]),
        file: params[0],
        registry,
        drainTimeoutMs: s.drainTimeoutMs,
        metricsAt: metricsAt ?? null,
        namespace: s.metricsNamespace,
        log,
        history: historyOptions("run", s),
        maxCapacity: s.maxCapacity,
      });
    default: {
      return await serveCommand({
        hostname: s.host,
        port: s.port,
        db: s.db,
        tokens: [...s.tokens, ...s.fileTokens],
        drainTimeoutMs: s.drainTimeoutMs,
        metricsNamespace: s.metricsNamespace,
        safeMode: s.safeMode,
        files: params,
        registry,
        httpIn,
        outputs,
        log,
        logFormat,
        stallThresholdMs: s.stallThresholdMs,
        bytesBudgetPerFlow: s.flowBytesBudget,
        maxCapacity: s.maxCapacity,
        fail,
        history: historyOptions("serve", s),
        remoteWrite: _remoteWrite(s.remoteWrite),
      }, signalled);
    }
  }
}

/**
 * Runs `main()` for the process and exits with its code. A usage error
 * prints its sentence and where to find help; any other error prints one
 * line (the stack only with `WEIR_LOG_LEVEL=debug`) and exits 1.
 */
async function _run(): Promise<never> {
  let code: number;
  try {
    // weir's own process: tuned for a long-running server (jit_policy.ts).
    setJitPolicy(_jitScale());
    code = await main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof CliError) {
      console.error(`weir: ${e.message}`);
      if (e.code === 2 && e.hint) {
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

/** `WEIR_JIT_POLICY`'s scale; a bad one is a usage error. */
function _jitScale(): number {
  try {
    return jitPolicyScale(process.env.WEIR_JIT_POLICY);
  } catch (e) {
    throw new CliError((e as Error).message, 2, undefined, { hint: false });
  }
}

/** Whether users other than the owner and group may read `path`. */
function readableByOthers(path: string): boolean {
  try {
    return (statSync(path).mode & 0o004) !== 0;
  } catch {
    return false; // Read at start already; gone meanwhile says nothing new.
  }
}
