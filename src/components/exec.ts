/**
 * `exec/Run`: runs a program the operator allows, once per message, with
 * the message on its standard input and its exit code and output out.
 *
 * It uses `node:child_process` `spawn` (no shell), which Deno and Bun both
 * provide; the child gets its own process group, so a timeout or a stop
 * ends what it started too (also once the child itself has exited, while
 * what it left running holds its output open), and whatever is still
 * running when weir exits gets SIGKILL.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import process from "node:process";
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
  parseDuration,
} from "../engine/component.ts";
import { excerpt } from "../engine/excerpt.ts";
import { LIMITS } from "../engine/limits.ts";
import { restrictable } from "../engine/flow_allow.ts";
import { _errorPort } from "./_error_port.ts";
import { _toJson } from "./_to_json.ts";
import { ExecAllowList } from "./exec_allow.ts";
import {
  _NO_SECRETS,
  type _Secret,
  type _SecretRef,
  type SecretPolicy,
} from "./_secret.ts";

/** What `exec/Run` sends for each run. */
export interface ExecResult {
  /** The exit code, or `null` when a signal ended the program. */
  code: number | null;
  /** Its standard output, as UTF-8 text. */
  stdout: string;
  /** Its standard error, as UTF-8 text. */
  stderr: string;
  /** The signal that ended it (`"SIGTERM"`), or `null`. */
  signal: string | null;
}

/**
 * A run that ended badly: it timed out, wrote more than `maxOutput`,
 * could not start, or (with `errorOnFailure`) exited non-zero or by a
 * signal. `result` holds what it wrote until then; the engine's
 * `ProcessError` on `error` carries it as its `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExecError } from "./exec.ts";
 *
 * const e = new ExecError("exit code 2", "failed", { code: 2, stdout: "", stderr: "no", signal: null });
 * assert.equal(e.result.code, 2);
 * assert.equal(e.reason, "failed");
 * ```
 */
export class ExecError extends Error {
  /** Why: `"timeout"` or `"failed"`. */
  readonly reason: "timeout" | "failed";
  /** The exit code and output so far. */
  readonly result: ExecResult;
  /** Makes the error. */
  constructor(
    message: string,
    reason: "timeout" | "failed",
    result: ExecResult,
  ) {
    super(message);
    this.name = "ExecError";
    this.reason = reason;
    this.result = result;
  }
}

/** `maxOutput`'s default: 1 MiB per stream. */
const _MAX_OUTPUT = 1024 * 1024;
/** The largest `maxOutput` it takes: 256 MiB. */
const _MAX_OUTPUT_LIMIT = 256 * 1024 * 1024;

/**
 * Variables the child gets from weir's own environment: enough to run
 * ordinary programs, and nothing else, so weir's tokens and secrets
 * (`WEIR_TOKEN`, a broker password in a variable) never reach a program a
 * flow starts. The `env` option adds more.
 */
const _INHERITED_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/** The parsed `command` option. */
interface _Command {
  /** As the flow wrote it. */
  given: string;
  /** The allowed program's absolute path. */
  path: string;
}

function _args(value: unknown): string[] {
  if (
    Array.isArray(value) &&
    value.every((a) => typeof a === "string" || typeof a === "number")
  ) {
    const args = value.map(String);
    if (args.some((a) => a.includes("\0"))) {
      throw new RangeError(
        "an argument holds a NUL character, which a program cannot receive",
      );
    }
    return args;
  }
  throw new TypeError(
    `expected a list of arguments (strings), such as ["-n", "hello"], received ${
      describeValue(value)
    }`,
  );
}

/**
 * Variables a flow may not set: each makes a program load code, read
 * settings from a file of the flow's choosing (a file it wrote in the data
 * folder) or start another program, turning an allowed program into any
 * program. After sudo's list of unsafe variables, with Node's, Java's,
 * glibc's and git's own, and the configuration folders. A list of what is
 * refused cannot be complete: the operator allows programs knowing that
 * a flow chooses their arguments and the rest of their environment.
 */
const _UNSAFE_ENV = new Set([
  "BASH_ENV",
  "ENV",
  "SHELLOPTS",
  "BASHOPTS",
  "PS4",
  "IFS",
  "CDPATH",
  "GLOBIGNORE",
  "FPATH",
  "ZDOTDIR",
  "NULLCMD",
  "READNULLCMD",
  "TMPPREFIX",
  "LOCALDOMAIN",
  "RES_OPTIONS",
  "HOSTALIASES",
  "NLSPATH",
  "PATH_LOCALE",
  "GCONV_PATH",
  "LOCPATH",
  "MALLOC_TRACE",
  "TERMINFO",
  "TERMINFO_DIRS",
  "TERMPATH",
  "TERMCAP",
  "JAVA_TOOL_OPTIONS",
  "_JAVA_OPTIONS",
  "JDK_JAVA_OPTIONS",
  "PERLIO_DEBUG",
  "PERLLIB",
  "PERL5LIB",
  "PERL5OPT",
  "PERL5DB",
  "PYTHONHOME",
  "PYTHONPATH",
  "PYTHONSTARTUP",
  "PYTHONINSPECT",
  "PYTHONUSERBASE",
  "RUBYLIB",
  "RUBYOPT",
  "NODE_OPTIONS",
  "NODE_PATH",
  "LUA_INIT",
  "LUA_PATH",
  "LUA_CPATH",
  "PHPRC",
  "PHP_INI_SCAN_DIR",
  "OPENSSL_CONF",
  "OPENSSL_MODULES",
  "OPENSSL_ENGINES",
  "TCLLIBPATH",
  // Where programs find their configuration or the programs they start:
  // a flow's own HOME with a .gitconfig (core.fsmonitor) or a .psqlrc
  // (\!) runs commands from an allowed script with fixed arguments.
  "PATH",
  "HOME",
  "XDG_CONFIG_HOME",
  "XDG_CONFIG_DIRS",
  "XDG_DATA_HOME",
  "XDG_DATA_DIRS",
  "CURL_HOME",
  "WGETRC",
  "PSQLRC",
  "PAGER",
  "MANPAGER",
  "SYSTEMD_PAGER",
  "LESSOPEN",
  "LESSCLOSE",
  "LESSKEY",
  "EDITOR",
  "VISUAL",
  "BROWSER",
  "SSH_ASKPASS",
  "SUDO_ASKPASS",
]);
/**
 * Prefixes of unsafe variables: the dynamic loaders', bash's functions,
 * and git's (GIT_CONFIG_*, GIT_SSH_COMMAND, GIT_EXEC_PATH, ...).
 */
const _UNSAFE_ENV_PREFIXES = ["LD_", "DYLD_", "_RLD", "BASH_FUNC_", "GIT_"];

function _env(value: unknown): Record<string, string> {
  if (
    value !== null && typeof value === "object" && !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string")
  ) {
    // Every refused variable in one sentence: a flow is fixed in one go.
    const refused: string[] = [];
    const badNames: string[] = [];
    const nul: string[] = [];
    const functions: string[] = [];
    for (const [name, v] of Object.entries(value as Record<string, string>)) {
      const shown = JSON.stringify(excerpt(name, 80));
      // "A=B" would set A: a refused name could hide in one, so a name
      // that is no variable name is refused too.
      if (
        _UNSAFE_ENV.has(name) ||
        _UNSAFE_ENV_PREFIXES.some((p) => name.startsWith(p))
      ) {
        refused.push(shown);
      } else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) badNames.push(shown);
      if (v.includes("\0")) nul.push(shown);
      // A function definition that an old bash would import.
      if (v.startsWith("() {")) functions.push(shown);
    }
    const list = (names: string[], one: string, many: string) =>
      names.length === 1
        ? `${one} ${names[0]}`
        : `${many} ${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
    const problems = [
      refused.length === 0
        ? ""
        : `${
          list(refused, "variable", "variables")
        } may not be set by a flow: ${
          refused.length === 1 ? "it makes" : "each makes"
        } a program load code or settings from a file of the flow's choosing, or start another program`,
      badNames.length === 0
        ? ""
        : `${list(badNames, "", "")} ${
          badNames.length === 1
            ? "is not a variable name"
            : "are not variable names"
        } (letters, digits and _, not starting with a digit)`.trimStart(),
      nul.length === 0
        ? ""
        : `${list(nul, "variable", "variables")} ${
          nul.length === 1 ? "holds" : "hold"
        } a NUL character, which a program cannot receive`,
      functions.length === 0
        ? ""
        : `${
          list(functions, "variable", "variables")
        } may not hold a shell function definition`,
    ].filter((p) => p !== "");
    if (problems.length > 0) throw new RangeError(problems.join("; "));
    return { ...value as Record<string, string> };
  }
  throw new TypeError(
    `expected an object of variables (string values), such as {"LANG": "C"}, received ${
      describeValue(value)
    }`,
  );
}

function _size(value: unknown): number {
  if (
    Number.isInteger(value) && (value as number) >= 1 &&
    (value as number) <= _MAX_OUTPUT_LIMIT
  ) {
    return value as number;
  }
  throw new RangeError(
    `expected a size in bytes from 1 to ${_MAX_OUTPUT_LIMIT}, received ${
      describeValue(value)
    }`,
  );
}

/**
 * Parses `timeout` and `killGrace`: a duration up to JavaScript's longest
 * timer (about 24.8 days). A longer one fired at once (timers clamp to
 * 1 ms): a `timeout` of "600h" ended every run as it started.
 */
function _timer(value: unknown): number {
  const ms = parseDuration(value);
  if (ms <= LIMITS.maxTimerMs) return ms;
  throw new RangeError(
    `expected a duration up to ${LIMITS.maxTimerMs} ms (about 24.8 days), received ${
      describeValue(value)
    }`,
  );
}

/** The bytes a message puts on the program's standard input. */
function _stdin(value: unknown): Uint8Array {
  if (value === null || value === undefined) return new Uint8Array(0);
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value instanceof Uint8Array) return value;
  return Buffer.from(_toJson(value) ?? String(value), "utf8");
}

interface ExecState {
  /** Runs by result. */
  runs: Record<"ok" | "failed" | "timeout", Meter>;
  /** Programs running now. */
  running: Meter;
  /** How many run now (the gauge's value). */
  count: number;
  /** The running children, ended when the process stops. */
  children: Set<ChildProcess>;
  /** `secretEnv`'s variables, read at setup. */
  secretEnv: readonly (readonly [string, _Secret])[];
}

/** The parsed `secretEnv` setting; none for its default (`{}`). */
function _secretEnvOf(
  setting: unknown,
): readonly (readonly [string, _SecretRef])[] {
  return Array.isArray(setting) ? setting : [];
}

/**
 * The `secretEnv` setting: variable names (refused as `env` refuses them)
 * to secret references, `"env:NAME"` or `"file:NAME"`, each checked by the
 * operator's policy. No value is quoted in an error (a plain string there
 * is most likely the secret itself).
 */
function _secretEnvSetting(
  value: unknown,
  secrets: SecretPolicy,
): readonly (readonly [string, _SecretRef])[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      'expected secretEnv as an object of variable names to secret references, e.g. {"API_KEY": "env:REPORT_KEY"}',
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  // The names as `env` checks them (its values are not looked at here).
  _env(Object.fromEntries(entries.map(([name]) => [name, ""])));
  return Object.freeze(entries.map(([name, v]) => {
    try {
      return Object.freeze([name, secrets.parse(v)] as const);
    } catch (e) {
      const error = e as Error;
      throw new (error instanceof RangeError ? RangeError : TypeError)(
        `variable ${JSON.stringify(name)}: ${error.message}`,
      );
    }
  }));
}

/**
 * Programs all `exec/Run` processes of weir may run at once, by default:
 * a flow's `concurrency` goes up to 100,000, and as many programs at once
 * would take the device's process table (and memory) down with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXEC_MAX_RUNNING, execRun } from "./exec.ts";
 * import { ExecAllowList } from "./exec_allow.ts";
 *
 * assert.equal(EXEC_MAX_RUNNING, 64);
 * // An embedding host may set its own limit for one exec/Run.
 * execRun(ExecAllowList.resolve(["/bin/echo"]), { maxRunning: 4 });
 * assert.throws(() => execRun(new ExecAllowList(), { maxRunning: 0 }), /maxRunning must be an integer of 1 or more/);
 * ```
 */
export const EXEC_MAX_RUNNING = 64;

/**
 * Run slots shared by `exec/Run` processes, fair between flows: a
 * counting semaphore where one flow may hold at most `n - floor(n / 4)`
 * slots (48 of 64), so a flow with a high concurrency and slow programs
 * leaves a quarter for the others, and a freed slot goes to the waiting
 * flow that holds the fewest (the longest waiting run among equals).
 * Without this, one flow could take every slot and the other flows'
 * programs waited until its runs ended.
 */
class _Slots {
  #free: number;
  /** The most slots one flow may hold. */
  readonly #cap: number;
  readonly #held = new Map<string, number>();
  readonly #waiting: { flow: string; grant: () => void }[] = [];

  constructor(n: number) {
    this.#free = n;
    this.#cap = n - Math.floor(n / 4);
  }

  /**
   * Resolves `true` with a slot taken for `flow`, or `false` when
   * `signal` aborts first.
   */
  acquire(signal: AbortSignal, flow: string): Promise<boolean> {
    if (this.#free > 0 && this.#heldBy(flow) < this.#cap) {
      this.#take(flow);
      return Promise.resolve(true);
    }
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        flow,
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          resolve(true);
        },
      };
      const onAbort = () => {
        const i = this.#waiting.indexOf(waiter);
        if (i !== -1) this.#waiting.splice(i, 1);
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Gives `flow`'s slot back, to the waiting flow holding the fewest. */
  release(flow: string): void {
    const held = this.#heldBy(flow) - 1;
    if (held > 0) this.#held.set(flow, held);
    else this.#held.delete(flow);
    this.#free++;
    let best = -1;
    let fewest = this.#cap;
    for (let i = 0; i < this.#waiting.length; i++) {
      const n = this.#heldBy(this.#waiting[i].flow);
      if (n < fewest) {
        fewest = n;
        best = i;
      }
    }
    if (best === -1) return;
    const [next] = this.#waiting.splice(best, 1);
    this.#take(next.flow);
    next.grant();
  }

  #heldBy(flow: string): number {
    return this.#held.get(flow) ?? 0;
  }

  #take(flow: string): void {
    this.#free--;
    this.#held.set(flow, this.#heldBy(flow) + 1);
  }
}

/** The slots of every `exec/Run` made without its own `maxRunning`. */
const _SHARED_SLOTS = new _Slots(EXEC_MAX_RUNNING);

/** Options of {@linkcode execRun}. */
export interface ExecRunOptions {
  /**
   * Programs this component's processes may run at once, all flows
   * together; further runs wait (back pressure). One flow may hold at most
   * `maxRunning - floor(maxRunning / 4)` of them, and a freed slot goes to
   * the waiting flow holding the fewest. Default: a limit of
   * {@linkcode EXEC_MAX_RUNNING} shared by every `exec/Run` of weir (48
   * for one flow).
   */
  maxRunning?: number;
  /**
   * Where `secretEnv`'s values may come from (the operator's secrets
   * folder and variables). Default nothing: every reference is refused at
   * validation.
   */
  secrets?: SecretPolicy;
}

/** A meter handle as `ctx.meter()` returns it. */
interface Meter {
  add(n?: number): void;
  set(v: number): void;
}

/**
 * Every run not over yet, of every `exec/Run`: ended with SIGKILL when
 * weir exits, so that no program a flow started outlives weir (a program
 * ignoring SIGTERM survived a drain that timed out, adopted by init).
 */
const _running = new Set<ChildProcess>();
/**
 * How long a run ended by weir waits, after its process group was killed,
 * for its output pipes to close before it lets go of them.
 */
const _PIPE_LINGER_MS = 500;
let _exitHook = false;

function _killAllAtExit(): void {
  for (const child of _running) _kill(child, "SIGKILL");
}

/**
 * Sends `signal` to the child's process group (it leads one) while its run
 * is not over: even once the child itself has exited, since what it left
 * running and holding its output open belongs to the run (the group's id
 * stays reserved while any member lives). Once the run is over, nothing:
 * the id may then belong to another group.
 */
function _kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || !_running.has(child)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone (ESRCH): nothing to end.
  }
}

/** One run of `path`; resolves with its result or rejects with an ExecError. */
function _run(
  command: _Command,
  value: unknown,
  ctx: Context<ExecState>,
): Promise<ExecResult> {
  const args = ctx.control<string[]>("args");
  const timeoutMs = ctx.control<number>("timeout");
  const graceMs = ctx.control<number>("killGrace");
  const maxOutput = ctx.control<number>("maxOutput");
  const env: Record<string, string> = {};
  for (const name of _INHERITED_ENV) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  Object.assign(env, ctx.control<Record<string, string>>("env"));
  for (const [name, secret] of ctx.state.secretEnv) env[name] = secret.reveal();
  const shown = JSON.stringify(excerpt(command.given, 120));
  return new Promise((resolve, reject) => {
    const child = spawn(command.path, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env,
      shell: false,
      // Its own process group: a kill reaches what it started too.
      detached: true,
    });
    ctx.state.children.add(child);
    if (child.pid !== undefined) _running.add(child);
    if (!_exitHook) {
      _exitHook = true;
      process.on("exit", _killAllAtExit);
    }
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    let outBytes = 0;
    let errBytes = 0;
    /** Why weir ended it, if it did. */
    let ending: "timeout" | "output" | "stop" | undefined;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const end = (why: "timeout" | "output" | "stop") => {
      if (ending !== undefined) return;
      ending = why;
      _kill(child, "SIGTERM");
      graceTimer = setTimeout(() => {
        _kill(child, "SIGKILL");
        // A process that left the group (setsid, a daemon) may still hold
        // the output pipes open, and the run would wait for it: once the
        // group is killed, the pipes are let go of and the run ends.
        graceTimer = setTimeout(() => {
          child.stdout!.destroy();
          child.stderr!.destroy();
        }, _PIPE_LINGER_MS);
      }, graceMs);
    };
    const timer = timeoutMs > 0
      ? setTimeout(() => end("timeout"), timeoutMs)
      : undefined;
    const onAbort = () => end("stop");
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    const take = (chunks: Uint8Array[], chunk: Uint8Array, stream: 1 | 2) => {
      const total = (stream === 1 ? outBytes : errBytes) + chunk.length;
      if (stream === 1) outBytes = total;
      else errBytes = total;
      if (total > maxOutput) {
        // Keep what fits; the rest is the runaway part.
        const room = maxOutput - (total - chunk.length);
        if (room > 0) chunks.push(chunk.subarray(0, room));
        end("output");
        return;
      }
      chunks.push(chunk);
    };
    child.stdout!.on("data", (c: Uint8Array) => take(out, c, 1));
    child.stderr!.on("data", (c: Uint8Array) => take(err, c, 2));
    // A program that exits without reading its input closes the pipe.
    child.stdin!.on("error", () => {});
    child.stdin!.end(_stdin(value));
    let spawnError: Error | undefined;
    child.on("error", (e) => spawnError ??= e);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      ctx.signal.removeEventListener("abort", onAbort);
      ctx.state.children.delete(child);
      _running.delete(child);
      const result: ExecResult = {
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        signal,
      };
      if (spawnError !== undefined) {
        const code = (spawnError as { code?: unknown }).code;
        reject(
          new ExecError(
            `exec/Run: cannot start ${shown}: ${
              code === "ENOENT"
                ? "no such file"
                : code === "EACCES"
                ? "permission denied"
                : excerpt(spawnError.message)
            }`,
            "failed",
            result,
          ),
        );
      } else if (ending === "timeout") {
        reject(
          new ExecError(
            `exec/Run: ${shown} timed out after ${timeoutMs} ms and was ended with ${
              signal ?? "SIGTERM"
            }`,
            "timeout",
            result,
          ),
        );
      } else if (ending === "output") {
        reject(
          new ExecError(
            `exec/Run: ${shown} wrote more than maxOutput (${maxOutput} bytes) on a stream and was ended with ${
              signal ?? "SIGTERM"
            }`,
            "failed",
            result,
          ),
        );
      } else {
        resolve(result);
      }
    });
  });
}

/**
 * `exec/Run` starting only the programs `allow` lists (see
 * {@linkcode ExecAllowList}); a flow's `allow.exec` narrows it further.
 * With an empty list (the default) every `command` is refused at
 * validation, with a message saying how to allow one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { execRun } from "./exec.ts";
 * import { ExecAllowList } from "./exec_allow.ts";
 * import { Network } from "../engine/network.ts";
 * import { defineComponent } from "../engine/component.ts";
 *
 * const run = execRun(ExecAllowList.resolve(["/bin/cat"]));
 * const results: unknown[] = [];
 * const net = new Network({
 *   name: "demo",
 *   processes: [
 *     { name: "Cat", component: run },
 *     { name: "Keep", component: defineComponent({
 *       name: "x/Keep", description: "", inPorts: { in: {} },
 *       process(v: unknown) { results.push(v); },
 *     }) },
 *   ],
 *   connections: [{ from: { process: "Cat", port: "out" }, to: { process: "Keep", port: "in" } }],
 *   initials: [
 *     { data: "cat", to: { process: "Cat", port: "command" } },
 *     { data: "hello", to: { process: "Cat", port: "in" } },
 *   ],
 * });
 * await net.start();
 * await net.finished;
 * assert.deepEqual(results, [{ code: 0, stdout: "hello", stderr: "", signal: null }]);
 * assert.throws(() => run.inPorts.command.parse?.("rm"), /command "rm" is not allowed/);
 * ```
 */
export function execRun(
  allow: ExecAllowList,
  options: ExecRunOptions = {},
): Component {
  return _execRun(allow, _slotsFor(options), options.secrets ?? _NO_SECRETS);
}

function _slotsFor(options: ExecRunOptions): _Slots {
  const n = options.maxRunning;
  if (n === undefined) return _SHARED_SLOTS;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot make exec/Run: maxRunning must be an integer of 1 or more, received ${
        describeValue(n)
      }`,
    );
  }
  return new _Slots(n);
}

function _execRun(
  allow: ExecAllowList,
  slots: _Slots,
  secrets: SecretPolicy,
): Component {
  const component = defineComponent<ExecState>({
    name: "exec/Run",
    description:
      "Runs an allowed program once per message (no shell): the message on stdin; exit code, stdout and stderr out.",
    inPorts: {
      in: {
        description:
          "Each message starts one run, written to the program's standard input: a string as UTF-8, bytes as they are, null as nothing, other values as JSON.",
      },
      command: {
        type: "string",
        control: true,
        required: true,
        parse: (value: unknown): _Command => {
          if (typeof value !== "string" || value === "") {
            throw new TypeError(
              `expected a command name or an absolute path, received ${
                describeValue(value)
              }`,
            );
          }
          return { given: value, path: allow.check(value) };
        },
        description:
          "The program: a name or an absolute path the server allows (--allow-exec) and the flow's allow.exec lists. Never run through a shell.",
      },
      args: {
        type: "array",
        control: true,
        default: [],
        parse: _args,
        description:
          'Its arguments, each passed as it is (no shell: no globbing, no variables), e.g. ["-n", "hello"] (default none).',
      },
      timeout: {
        type: "duration",
        control: true,
        default: 60_000,
        parse: _timer,
        description:
          'Longest run, e.g. "10s"; then the program gets SIGTERM, and SIGKILL after killGrace, and the message fails as a timeout (default 60 s; 0: no limit; at most about 24.8 days).',
      },
      killGrace: {
        type: "duration",
        control: true,
        default: 5000,
        parse: _timer,
        description:
          "Time between SIGTERM and SIGKILL when a run is ended (timeout, output limit, stop); default 5 s, at most about 24.8 days.",
      },
      maxOutput: {
        type: "integer",
        control: true,
        default: _MAX_OUTPUT,
        parse: _size,
        description:
          `Most bytes kept of stdout and of stderr each (default ${_MAX_OUTPUT}, at most ${_MAX_OUTPUT_LIMIT}); a program writing more is ended and the message fails.`,
      },
      errorOnFailure: {
        type: "boolean",
        control: true,
        default: false,
        description:
          "When true, a non-zero exit code or an end by a signal fails the message (the result goes to error, as the ProcessError's cause) instead of going to out (default false).",
      },
      env: {
        type: "object",
        control: true,
        default: {},
        parse: _env,
        description:
          "Variables added to the program's environment, which otherwise holds only PATH, HOME, LANG, LC_ALL, TZ and TMPDIR from weir's (never its tokens). Variables that make a program load code or settings from a file or start another program (LD_*, BASH_ENV, PYTHONPATH, NODE_OPTIONS, GIT_*, PATH, HOME, PAGER, ...) are refused. No secrets here: use secretEnv.",
      },
      secretEnv: {
        type: "object",
        control: true,
        default: {},
        parse: (value) => _secretEnvSetting(value, secrets),
        secret: true,
        description:
          'Variables whose values are secrets, each a secret reference, "env:NAME" (a variable the operator allowed with --secret-env) or "file:NAME" (a file in --secrets-dir), e.g. {"API_KEY": "env:REPORT_KEY"}; read when the flow starts, set over env, never shown. The names env refuses are refused here too.',
      },
    },
    outPorts: {
      out: {
        type: "object",
        description:
          "One result per message: {code, stdout, stderr, signal} (code null when a signal ended it).",
      },
      error: _errorPort,
    },
    meters: [
      {
        name: "exec_runs_total",
        type: "counter",
        help: "Programs run by exec/Run, by result",
        moves: "one per run, when it ends",
        labels: [{
          name: "result",
          help:
            "ok (exit code 0), failed (non-zero, a signal, an output over maxOutput, or it could not start) or timeout",
          values: ["ok", "failed", "timeout"],
        }],
      },
      {
        name: "exec_running",
        type: "gauge",
        help: "Programs exec/Run is running now",
        moves: "up when a run starts, down when it ends",
      },
    ],
    setup: (ctx) => ({
      secretEnv: _secretEnvOf(ctx.control("secretEnv")).map(([name, ref]) => {
        const secret = secrets.resolve(ref);
        const value = secret.reveal();
        if (value.includes("\0")) {
          throw new TypeError(
            `Cannot use the secret ${secret.ref} for variable ${name}: it holds a NUL character, which a program cannot receive (the secret is not shown)`,
          );
        }
        if (value.startsWith("() {")) {
          // As env refuses it: a function definition an old bash imports.
          throw new TypeError(
            `Cannot use the secret ${secret.ref} for variable ${name}: it starts as a shell function definition (the secret is not shown)`,
          );
        }
        return [name, secret] as const;
      }),
      runs: {
        ok: ctx.meter("exec_runs_total", { result: "ok" }),
        failed: ctx.meter("exec_runs_total", { result: "failed" }),
        timeout: ctx.meter("exec_runs_total", { result: "timeout" }),
      },
      running: ctx.meter("exec_running"),
      count: 0,
      children: new Set(),
    }),
    async process(value, ctx) {
      const command = ctx.control<_Command | undefined>("command");
      if (command === undefined) {
        throw new TypeError(
          "exec/Run needs a command option, and none was given",
        );
      }
      const state = ctx.state;
      // Waiting here holds the message: back pressure, like concurrency.
      if (!await slots.acquire(ctx.signal, ctx.network)) return;
      state.running.set(++state.count);
      let result: ExecResult;
      try {
        result = await _run(command, value, ctx);
      } catch (e) {
        state.runs[e instanceof ExecError ? e.reason : "failed"].add(1);
        throw e;
      } finally {
        state.running.set(--state.count);
        slots.release(ctx.network);
      }
      const ok = result.code === 0;
      state.runs[ok ? "ok" : "failed"].add(1);
      if (ctx.signal.aborted) return;
      if (!ok && ctx.control<boolean>("errorOnFailure")) {
        throw new ExecError(
          `exec/Run: ${JSON.stringify(excerpt(command.given, 120))} ${
            result.signal !== null
              ? `was ended by ${result.signal}`
              : `exited with code ${result.code}`
          }${
            result.stderr !== ""
              ? `: ${excerpt(result.stderr.trim(), 200)}`
              : ""
          }`,
          "failed",
          result,
        );
      }
      await ctx.send("out", result);
    },
    teardown(ctx) {
      // A stop that did not wait for the runs: end them all the same.
      for (const child of ctx.state?.children ?? []) {
        _kill(child, "SIGTERM");
        const grace = ctx.control<number>("killGrace");
        setTimeout(() => _kill(child, "SIGKILL"), grace).unref?.();
      }
    },
  });
  return restrictable(
    component,
    (flow) => _execRun(allow.narrow(flow.exec ?? []), slots, secrets),
  );
}

/**
 * `exec/Run`: runs a program once per message, without a shell: `command`
 * (a name or an absolute path the operator allows), `args` each passed as
 * it is, the message on its standard input. Each run sends `{code,
 * stdout, stderr, signal}` on `out`; with `errorOnFailure`, a non-zero
 * exit fails the message instead. A run longer than `timeout` gets
 * SIGTERM, then SIGKILL after `killGrace`, and fails as a timeout; a
 * program writing more than `maxOutput` bytes is ended the same way. Up
 * to `concurrency` runs (the process setting, default 1) go at once, and
 * at most {@linkcode EXEC_MAX_RUNNING} (64) across every `exec/Run` of
 * weir, 48 of them for one flow; further messages wait, which is back
 * pressure. The program's
 * environment holds only `PATH`, `HOME`, `LANG`, `LC_ALL`, `TZ` and
 * `TMPDIR` from weir's, plus the `env` option.
 *
 * Off unless the operator allows it: this export allows nothing (every
 * command is a validation problem saying how to allow one); `weir serve
 * --allow-exec /usr/bin/jq,curl` and `builtins({ exec: [...] })` make one
 * that runs those (see {@linkcode execRun}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExecRun } from "./exec.ts";
 *
 * assert.throws(() => ExecRun.inPorts.command.parse?.("echo"), /running commands is off on this server/);
 * ```
 */
export const ExecRun: Component = execRun(new ExecAllowList());
