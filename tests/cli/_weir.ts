/**
 * Starts the weir command as a child process (the source on this runtime,
 * or a compiled executable) and reads its JSON log lines, for the tests of
 * `weir serve`, `weir demo` and the single executable.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { CliError } from "../../src/cli/cli_error.ts";
import { main } from "../../src/cli/main.ts";
import { runtimeCommand } from "../_runtime.ts";

/** The weir command's entry point in the source tree. */
export const MAIN = join(
  import.meta.dirname!,
  "..",
  "..",
  "src",
  "cli",
  "main.ts",
);

/** One JSON log line. */
export interface LogRecord {
  time: string;
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: string | null;
}

/** A running weir command. */
export interface Weir {
  child: ChildProcess;
  /** Standard error and output so far, in the order they came. */
  log(): string;
  /** Standard output so far. */
  stdout(): string;
  /** The JSON log lines so far. */
  records(): LogRecord[];
  /** Resolves when it exits. */
  exited: Promise<Exit>;
  /**
   * Resolves with the first log record `match` accepts; rejects, with the
   * log, if weir exits first.
   */
  logged(match: (r: LogRecord) => boolean, what: string): Promise<LogRecord>;
}

/** Options of {@linkcode startWeir}. */
export interface StartOptions {
  /** The executable and its leading arguments; default this runtime + MAIN. */
  command?: [string, string[]];
  /** The working folder. */
  cwd?: string;
  /** The environment (default this process's, with no WEIR_* variables). */
  env?: Record<string, string | undefined>;
}

/** Children started and not yet seen to exit. */
const live = new Set<ChildProcess>();

/** This process's environment without the WEIR_ settings. */
function cleanEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // WEIR_REQUIRE_INTEGRATION is the test suite's, not weir's.
    if (!k.startsWith("WEIR_") || k === "WEIR_REQUIRE_INTEGRATION") env[k] = v;
  }
  return env;
}

/** Starts `weir <args>`; its stderr is not a terminal, so it logs JSON. */
export function startWeir(args: string[], options: StartOptions = {}): Weir {
  const [bin, pre] = options.command ?? (() => {
    const [runtime, flags] = runtimeCommand();
    return [runtime, [...flags, MAIN]] as [string, string[]];
  })();
  const child = spawn(bin, [...pre, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
  });
  live.add(child);
  let log = "";
  let stdout = "";
  let pending = "";
  const records: LogRecord[] = [];
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (d) => {
    log += d;
    stdout += d;
  });
  child.stderr!.on("data", (d) => {
    log += d;
    pending += d;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        // Not a log line.
      }
    }
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<Exit>((resolve) =>
    child.on("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
      for (const w of [...waiters]) w();
    })
  );
  const logged = (match: (r: LogRecord) => boolean, what: string) =>
    new Promise<LogRecord>((resolve, reject) => {
      const check = () => {
        const found = records.find(match);
        if (found !== undefined) {
          waiters.delete(check);
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          waiters.delete(check);
          reject(
            new Error(
              `weir exited (${
                child.exitCode ?? child.signalCode
              }) before ${what}:\n${log}`,
            ),
          );
        }
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    log: () => log,
    stdout: () => stdout,
    records: () => records,
    exited,
    logged,
  };
}

/** Starts `weir serve <args>` and resolves with it and its URL once it listens. */
export async function startServe(
  args: string[],
  options: StartOptions = {},
): Promise<Weir & { url: string }> {
  const w = startWeir(["serve", ...args], options);
  const r = await w.logged(
    (r) => typeof r.url === "string" && r.msg.startsWith("serving flows"),
    "listening",
  );
  return { ...w, url: r.url as string };
}

/**
 * `weir serve`'s arguments for a server on 127.0.0.1 at a free port, with
 * an in-memory database and the data folder `dataDir`, then `extra`.
 */
export function localArgs(dataDir: string, ...extra: string[]): string[] {
  return [
    "--listen",
    "127.0.0.1:0",
    "--db",
    ":memory:",
    "--data-dir",
    dataDir,
    ...extra,
  ];
}

/**
 * `weir serve` on 127.0.0.1 at a free port, with an in-memory database and
 * a fresh data folder named from `prefix` (plus `args`); `close()` kills
 * what is still running and removes the folder.
 */
export async function startServeInTemp(
  prefix: string,
  args: string[] = [],
  options: StartOptions = {},
): Promise<Weir & { url: string; dir: string; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const close = () => {
    killLeftovers();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const w = await startServe(localArgs(dir, ...args), options);
    return { ...w, dir, close };
  } catch (error) {
    close();
    throw error;
  }
}

/** Kills (by pid) the children a failed test left running. */
export function killLeftovers(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, "SIGKILL");
    }
  }
  live.clear();
}

/** What {@linkcode cli} saw. */
export interface CliResult {
  code: number;
  out: string;
  err: string;
  /** The usage or flow error, when main() threw one. */
  error?: CliError;
}

/**
 * Runs the command's `main()` in this process, with no WEIR_ variables and
 * text logs, capturing what it prints; a thrown CliError becomes its code
 * and message.
 */
export async function cli(args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await main(args, { env: {}, isTerminal: true });
    return { code, out: out.join("\n"), err: err.join("\n") };
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    return { code: e.code, out: out.join("\n"), err: e.message, error: e };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/**
 * Asserts that a file sink fed by a `core/Interval` holds every tick from
 * 0 on, in order and none lost, and at least `sent` of them (what the
 * source had sent before the signal).
 */
export function assertEveryTick(file: string, sent: number): void {
  const lines = readFileSync(file, "utf8").trim().split("\n").map(Number);
  assert.deepEqual(lines, lines.map((_, i) => i), `${file}: 0, 1, 2, ...`);
  assert.ok(
    lines.length >= sent,
    `${file}: ${lines.length} lines written, ${sent} sent before the signal`,
  );
}

/**
 * Resolves with the first truthy value `probe` resolves with, asking again
 * every 50 ms; rejects, naming `what`, after `ms`.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`not seen within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
