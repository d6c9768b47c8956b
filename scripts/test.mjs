// @ts-check
/**
 * weir's whole test suite: the unit tests on Deno and on Bun, then the static
 * checks (`deno check`, `deno lint`, `deno fmt --check`).
 *
 * Runs on plain Node.js (20+) with built-ins only, so CI needs nothing but
 * `npm ci` first. Each step runs as a child process with its output streamed
 * to the terminal; the counts are read from each runner's own summary, and
 * the last line printed is `N passed, N failed` for CI. A runner that crashes,
 * runs no test, or prints no summary counts as 1 failed, so the suite cannot
 * go green by accident.
 *
 * Usage:
 *   node scripts/test.mjs [--only STEP[,STEP]] [FILTER...]
 *
 * STEP is deno, bun, doc (the @example blocks of mod.ts and src/, run by
 * Deno), static (check, lint and fmt), check, lint or fmt.
 * A FILTER is a path (a test file or a folder, relative to the current
 * directory) or else a substring of a test file's path: only the matching
 * `tests/**\/*_test.ts` files run, on both runtimes.
 *
 * On a machine with two CPUs or more, the Deno tests run in one lane and
 * the other steps asked for in a second lane beside them, one after the
 * other: Bun's tests, the doc examples, the static checks (each runtime
 * runs its test files one at a time, in its own process, so a file never
 * shares its process with another). Deno's output streams as it comes;
 * the second lane's is printed whole once the Deno tests are done. The
 * doc step runs its examples side by side (`deno test --doc --parallel`):
 * one at a time they took four times as long beside the Deno tests.
 *
 * Environment: WEIR_STEP_TIMEOUT (seconds per step, default 1200, 0 for
 * none; a step that overruns is killed and counts as failed), WEIR_TEST_JOBS (1: every
 * step one after the other, the doc examples one at a time; default: the
 * CPUs), NO_COLOR.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
const DENO = join(BIN, "deno");
const BUN = join(BIN, "bun");

/** Folders whose TypeScript `deno check` type-checks, besides `mod.ts`. */
const CHECKED_DIRS = ["src", "tests", "bench", "scripts"];
/** Folders never walked. */
const SKIPPED_DIRS = new Set(["node_modules", "dist", "coverage", ".git"]);
const STEP_NAMES = ["deno", "bun", "doc", "check", "lint", "fmt"];
const STEP_GROUPS = /** @type {Record<string, string[]>} */ ({
  static: ["check", "lint", "fmt"],
});

/**
 * @typedef {object} Outcome
 * @property {string} step
 * @property {number} passed
 * @property {number} failed
 * @property {number} skipped
 * @property {number} seconds
 * @property {string} note
 * @property {string[]} failures the failed tests the runner named, each
 *   with the first lines of its error
 */

/**
 * @typedef {object} Run
 * @property {number | null} code exit code, null when killed by a signal
 * @property {string | null} signal
 * @property {string} output stdout and stderr, colours stripped
 * @property {boolean} timedOut
 * @property {string | undefined} spawnError
 * @property {number} seconds
 */

/** The runners running now, ended with the suite on SIGINT or SIGTERM. */
const running = /** @type {Set<import("node:child_process").ChildProcess>} */ (
  new Set()
);

/** Runs streaming their output now; quiet runs' output waits for none. */
let streaming = 0;
/** Output of quiet runs that ended while another streamed. */
const held = /** @type {string[]} */ ([]);
/** Seconds a step may run (WEIR_STEP_TIMEOUT), 0 for no limit. */
let stepTimeout = 1200;

main().catch((error) => {
  console.error(error);
  console.log("0 passed, 1 failed");
  process.exitCode = 1;
});

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(usage());
    return;
  }
  // The runners have process groups of their own, which a closed terminal
  // (SIGHUP) does not reach either: end them here, then exit as the signal
  // would have (128 + its number).
  for (
    const [signal, number] of /** @type {const} */ ([
      ["SIGINT", 2],
      ["SIGTERM", 15],
      ["SIGHUP", 1],
    ])
  ) {
    process.on(signal, () => {
      for (const child of running) {
        if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
      }
      process.exit(128 + number);
    });
  }
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  /** @type {Outcome[]} */
  const outcomes = [];
  const tests = listFiles(join(ROOT, "tests"), (f) => f.endsWith("_test.ts"))
    .map((file) => "./" + toPosix(relative(ROOT, file)));
  const selected = selectTests(tests, options.filters);
  const jobs = testJobs();
  stepTimeout = stepTimeoutSeconds();
  // With two CPUs or more, the Deno tests run in one lane and every other
  // step in a second lane beside them, one after the other (Bun's tests,
  // the doc examples, the static checks), their output kept and printed
  // once Deno's is done: the Deno tests are the longest step, and the
  // rest fit beside them.
  const together = jobs > 1 && options.steps.includes("deno") &&
    options.steps.length > 1;
  /** @param {string} step @param {boolean} beside */
  const run = (step, beside) =>
    runStep(step, {
      selected,
      color,
      quiet: beside,
      jobs,
      docs: options.filters.length === 0,
    });
  if (together) {
    const others = options.steps.filter((s) => s !== "deno");
    // Deno's first: it streams, so what starts beside it keeps its output.
    const deno = run("deno", false);
    const lane = (async () => {
      /** @type {Outcome[]} */
      const done = [];
      for (const step of others) done.push(...await run(step, true));
      return done;
    })();
    outcomes.push(...await deno, ...await lane);
  } else {
    for (const step of options.steps) outcomes.push(...await run(step, false));
  }

  const passed = sum(outcomes, (o) => o.passed);
  const failed = sum(outcomes, (o) => o.failed);
  // A CI log may keep only its end: name what failed beside the table.
  const failures = outcomes.flatMap((o) =>
    o.failures.map((f) => `${o.step}: ${f}`)
  );
  if (failures.length > 0) console.log("\nfailed:\n" + failures.join("\n"));
  console.log("\n" + table(outcomes));
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

/**
 * Runs one step; its outcome (none for the doc step when files were
 * picked by a filter: a filter selects tests, not docs).
 * @param {string} step
 * @param {{ selected: string[], color: boolean, quiet: boolean, jobs: number, docs: boolean }} how
 * @returns {Promise<Outcome[]>}
 */
async function runStep(step, how) {
  const { selected, color, quiet } = how;
  switch (step) {
    case "deno":
      return [
        await runTests(step, DENO, ["test", "-A"], selected, color, { quiet }),
      ];
    case "bun":
      return [await runTests(step, BUN, ["test"], selected, color, { quiet })];
    case "doc":
      // The @example blocks of the public API, type-checked and run.
      if (!how.docs) return [];
      return [
        await runTests(
          step,
          DENO,
          ["test", "--doc", "-A", ...(how.jobs > 1 ? ["--parallel"] : [])],
          ["mod.ts", "src"],
          color,
          { env: { DENO_JOBS: String(how.jobs) }, quiet },
        ),
      ];
    case "check":
      return [await runCheck(color, quiet)];
    case "lint":
      return [await runStatic(step, DENO, ["lint"], color, quiet)];
    case "fmt":
      return [await runStatic(step, DENO, ["fmt", "--check"], color, quiet)];
  }
  throw new Error(`test.mjs: no step "${step}"`);
}

/**
 * @param {string[]} argv
 * @returns {{ steps: string[], filters: string[], help: boolean }}
 */
function parseArgs(argv) {
  /** @type {string[]} */
  const only = [];
  /** @type {string[]} */
  const filters = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      help = true;
    } else if (arg === "--only" || arg.startsWith("--only=")) {
      const value = arg === "--only" ? argv[++i] : arg.slice("--only=".length);
      if (value === undefined) usageError("--only needs a step name");
      only.push(...value.split(",").filter((s) => s !== ""));
    } else if (arg === "--") {
      filters.push(...argv.slice(i + 1));
      break;
    } else if (arg.startsWith("-")) {
      usageError(`unknown option ${arg}`);
    } else {
      filters.push(arg);
    }
  }
  const wanted = new Set();
  for (const name of only) {
    const group = STEP_GROUPS[name] ?? (STEP_NAMES.includes(name) && [name]);
    if (!group) usageError(`unknown step "${name}" for --only`);
    for (const step of group) wanted.add(step);
  }
  const steps = only.length === 0
    ? STEP_NAMES
    : STEP_NAMES.filter((s) => wanted.has(s));
  return { steps, filters, help };
}

/** @param {string} message @returns {never} */
function usageError(message) {
  console.error(`test.mjs: ${message}\n\n${usage()}`);
  process.exit(2);
}

function usage() {
  return [
    "usage: node scripts/test.mjs [--only STEP[,STEP]] [FILTER...]",
    "  STEP: deno | bun | static | check | lint | fmt (default: all)",
    "  FILTER: a test file or folder, or a substring of a test file's path",
  ].join("\n");
}

/**
 * The test files the filters pick; all of them when there is no filter.
 * @param {string[]} tests root-relative `./tests/...` paths
 * @param {string[]} filters
 */
function selectTests(tests, filters) {
  if (filters.length === 0) return tests;
  return tests.filter((test) =>
    filters.some((filter) => {
      const asPath = resolve(process.cwd(), filter);
      if (existsSync(asPath)) {
        const file = resolve(ROOT, test);
        return file === asPath || file.startsWith(asPath + sep);
      }
      return test.includes(filter);
    })
  );
}

/**
 * How many test processes (or doc example workers) run at once:
 * WEIR_TEST_JOBS, else the CPUs.
 * @returns {number}
 */
function testJobs() {
  const given = process.env.WEIR_TEST_JOBS;
  if (given === undefined || given === "") return availableParallelism();
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1) {
    usageError(`WEIR_TEST_JOBS must be a whole number from 1, not "${given}"`);
  }
  return n;
}

/**
 * Seconds a step may run (0: no limit): WEIR_STEP_TIMEOUT, else 1200. A
 * value that is not a number is refused, not read as no limit.
 * @returns {number}
 */
function stepTimeoutSeconds() {
  const given = process.env.WEIR_STEP_TIMEOUT;
  if (given === undefined || given.trim() === "") return 1200;
  const n = Number(given);
  if (!Number.isFinite(n) || n < 0) {
    usageError(
      `WEIR_STEP_TIMEOUT must be a number of seconds (0 for no limit), not "${given}"`,
    );
  }
  return n;
}

/**
 * @typedef {object} RunOptions
 * @property {boolean} [quiet] keep the output, print it whole when the run
 *   ends (after any run streaming meanwhile); a run that starts while none
 *   streams streams its own
 * @property {Record<string, string>} [env] more environment variables
 */

/**
 * Runs one runtime's unit tests and reads its summary.
 * @param {"deno" | "bun" | "doc"} step
 * @param {string} bin
 * @param {string[]} args
 * @param {string[]} files
 * @param {boolean} color
 * @param {RunOptions} [options]
 * @returns {Promise<Outcome>}
 */
async function runTests(step, bin, args, files, color, options = {}) {
  if (files.length === 0) {
    banner(`${step}: no test files selected`);
    return outcome(step, 0, 1, 0, 0, "no test files selected");
  }
  const run = await execute(bin, [...args, ...files], color, options);
  const summary = step === "deno" || step === "doc"
    ? parseDenoSummary(run.output)
    : parseBunSummary(run.output);
  const failure = runFailure(run);
  const failures = step === "bun"
    ? bunFailures(run.output)
    : denoFailures(run.output);
  if (summary === undefined) {
    const note = ["no summary found", failure].filter(Boolean).join("; ");
    return outcome(step, 0, 1, 0, run.seconds, note, failures);
  }
  const { passed, skipped } = summary;
  let { failed } = summary;
  /** @type {string[]} */
  const notes = [];
  if (failure !== undefined) {
    notes.push(failure);
    if (failed === 0) failed = 1;
  }
  if (passed + failed === 0) {
    notes.push("no test ran");
    failed = 1;
  }
  return outcome(
    step,
    passed,
    failed,
    skipped,
    run.seconds,
    notes.join("; "),
    failures,
  );
}

/** Lines of an error kept in the failure list, past its test's name. */
const ERROR_LINES = 4;

/**
 * Deno's `ERRORS` section: `name => ./file:line:col`, then `error: ...`,
 * the source line and the stack. Each test's name with its error's first
 * lines.
 * @param {string} output
 * @returns {string[]}
 */
function denoFailures(output) {
  const start = output.lastIndexOf("\n ERRORS \n");
  if (start < 0) return [];
  const end = output.indexOf("\n FAILURES \n", start);
  const lines = output.slice(start, end < 0 ? undefined : end).split(/\r?\n/)
    .slice(2);
  /** @type {string[]} */
  const found = [];
  let kept = 0;
  for (const line of lines) {
    if (/^\S.* => \S+:\d+:\d+$/.test(line)) {
      found.push(line);
      kept = 0;
    } else if (found.length > 0 && kept < ERROR_LINES && line.trim() !== "") {
      if (/^\s+at /.test(line)) {
        kept = ERROR_LINES;
      } else if (/^\s*\^\s*$/.test(line)) {
        // A caret under the source line quoted: drop that line too.
        const last = found[found.length - 1];
        found[found.length - 1] = last.slice(0, last.lastIndexOf("\n    "));
        kept = ERROR_LINES;
      } else {
        found[found.length - 1] += "\n    " + line.trim();
        kept++;
      }
    }
  }
  return found;
}

/**
 * Bun prints a failed test's error, then `(fail) name [time]`. Each failed
 * test's name with the last `error:` line printed before it.
 * @param {string} output
 * @returns {string[]}
 */
function bunFailures(output) {
  /** @type {string[]} */
  const found = [];
  let error = "";
  for (const line of output.split(/\r?\n/)) {
    if (/^(\w*Error\b|error:)/.test(line)) error = line;
    else if (line.startsWith("(pass) ")) error = "";
    else if (line.startsWith("(fail) ")) {
      found.push(line.slice(7) + (error === "" ? "" : "\n    " + error));
      error = "";
    }
  }
  return found;
}

/**
 * Deno ends with `ok | 3 passed | 0 failed (8ms)` or
 * `FAILED | 2 passed (2 steps) | 1 failed | 1 ignored (109ms)`. Steps
 * (`describe`/`it` nesting) are not counted: groups are steps too, so the
 * step counts would count a `describe` as a test.
 * @param {string} output
 * @returns {{ passed: number, failed: number, skipped: number } | undefined}
 */
function parseDenoSummary(output) {
  const lines = output.split(/\r?\n/).filter((line) =>
    /^(ok|FAILED) \| \d+ passed\b.* \| \d+ failed\b/.test(line)
  );
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  return {
    passed: count(last, /(\d+) passed/),
    failed: count(last, /(\d+) failed/),
    skipped: count(last, /(\d+) ignored/),
  };
}

/**
 * Bun ends with lines ` 3 pass`, ` 1 skip`, ` 0 fail`, ` 1 error` and
 * `Ran 4 tests across 2 files.`. An error outside any test (a file that
 * throws at load, say) is counted in `fail` already; `error` is used only
 * when `fail` says 0.
 * @param {string} output
 * @returns {{ passed: number, failed: number, skipped: number } | undefined}
 */
function parseBunSummary(output) {
  /** @param {string} word */
  const last = (word) => {
    const matches = [
      ...output.matchAll(new RegExp(`^[ \\t]*(\\d+) ${word}[ \\t]*$`, "gm")),
    ];
    const match = matches.at(-1);
    return match === undefined ? undefined : Number(match[1]);
  };
  const passed = last("pass");
  const fail = last("fail");
  if (passed === undefined || fail === undefined) return undefined;
  if (!/^Ran \d+ tests? across \d+ files?\./m.test(output)) return undefined;
  const errors = last("errors?") ?? 0;
  return {
    passed,
    failed: fail === 0 ? errors : fail,
    skipped: (last("skip") ?? 0) + (last("todo") ?? 0),
  };
}

/**
 * @param {boolean} color
 * @param {boolean} [quiet]
 * @returns {Promise<Outcome>}
 */
async function runCheck(color, quiet = false) {
  const files = [
    ...(existsSync(join(ROOT, "mod.ts")) ? [join(ROOT, "mod.ts")] : []),
    ...CHECKED_DIRS.flatMap((dir) =>
      listFiles(join(ROOT, dir), (f) => /\.(ts|mts|tsx)$/.test(f))
    ),
    // The scripts are JavaScript for plain Node.js, type-checked by their
    // `// @ts-check` pragma.
    ...listFiles(join(ROOT, "scripts"), (f) => f.endsWith(".mjs")),
  ].map((file) => toPosix(relative(ROOT, file)));
  if (files.length === 0) {
    banner("check: no TypeScript files");
    return outcome("check", 0, 1, 0, 0, "no TypeScript files");
  }
  // The dashboard's browser code (`/// <reference lib="dom" />` on its first
  // line) is checked on its own: in one program with the rest, the DOM's
  // types would replace the runtimes' (a stream's, a timer's) everywhere.
  const isBrowser = (/** @type {string} */ f) =>
    readFileSync(join(ROOT, f), "utf8").startsWith(
      '/// <reference lib="dom" />',
    );
  const browser = files.filter(isBrowser);
  const rest = files.filter((f) => !browser.includes(f));
  const main = await runStatic(
    "check",
    DENO,
    ["check", ...rest],
    color,
    quiet,
  );
  if (browser.length === 0 || main.failed > 0) return main;
  return await runStatic("check", DENO, ["check", ...browser], color, quiet);
}

/**
 * @param {string} step
 * @param {string} bin
 * @param {string[]} args
 * @param {boolean} color
 * @param {boolean} [quiet] keep its output until no run streams
 * @returns {Promise<Outcome>}
 */
async function runStatic(step, bin, args, color, quiet = false) {
  const run = await execute(bin, args, color, { quiet });
  const failure = runFailure(run);
  return failure === undefined
    ? outcome(step, 1, 0, 0, run.seconds, "", [])
    : outcome(step, 0, 1, 0, run.seconds, failure, []);
}

/**
 * Why a run failed by its exit alone, or undefined when it exited 0.
 * @param {Run} run
 */
function runFailure(run) {
  if (run.spawnError !== undefined) return run.spawnError;
  if (run.timedOut) return "timed out";
  if (run.signal !== null) return `killed by ${run.signal}`;
  if (run.code !== 0) return `exit ${run.code}`;
  return undefined;
}

/**
 * Runs a command from the repository root, streaming its output through
 * (or, `quiet`, printing it whole when no other run streams) and keeping a
 * copy for the summary parsers.
 * @param {string} bin
 * @param {string[]} args
 * @param {boolean} color
 * @param {RunOptions} [options]
 * @returns {Promise<Run>}
 */
function execute(bin, args, color, options = {}) {
  // Quiet only while another run streams: one that starts after it streams.
  const quiet = options.quiet === true && streaming > 0;
  const shown = [relative(ROOT, bin), ...args];
  const title = `\n==> ${
    shown.length > 12 ? shown.slice(0, 12).join(" ") + " ..." : shown.join(" ")
  }\n`;
  if (quiet) {
    process.stdout.write(
      `${title}(runs beside the Deno tests; its output follows theirs)\n`,
    );
  } else {
    process.stdout.write(title);
    streaming++;
  }
  const env = { ...process.env, ...options.env };
  if (color) {
    env.FORCE_COLOR = "1";
  } else {
    env.NO_COLOR = "1";
    delete env.FORCE_COLOR;
  }
  const timeoutSeconds = stepTimeout;
  const started = performance.now();
  return new Promise((done) => {
    /** @type {string[]} */
    const chunks = [];
    let timedOut = false;
    /** @type {string | undefined} */
    let spawnError;
    const child = spawn(bin, args, {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a timeout ends the runner's children too.
      detached: true,
    });
    running.add(child);
    child.stdout.on("data", (chunk) => {
      if (!quiet) process.stdout.write(chunk);
      chunks.push(String(chunk));
    });
    child.stderr.on("data", (chunk) => {
      if (!quiet) process.stderr.write(chunk);
      chunks.push(String(chunk));
    });
    const timer = timeoutSeconds > 0
      ? setTimeout(() => {
        timedOut = true;
        const why = `\ntest.mjs: step timed out after ${timeoutSeconds}s\n`;
        if (quiet) chunks.push(why);
        else process.stderr.write(why);
        if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
      }, timeoutSeconds * 1000)
      : undefined;
    child.on("error", (error) => {
      spawnError = `could not start ${relative(ROOT, bin)}: ${error.message}`;
      console.error(`test.mjs: ${spawnError} (has \`npm ci\` run?)`);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (quiet) {
        held.push(title + chunks.join(""));
      } else {
        streaming--;
      }
      if (streaming === 0) {
        for (const text of held.splice(0)) process.stdout.write(text);
      }
      done({
        code,
        signal,
        output: stripAnsi(chunks.join("")),
        timedOut,
        spawnError,
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}

/**
 * @param {number} pid
 * @param {NodeJS.Signals} signal
 */
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** @param {string} text */
function banner(text) {
  console.log(`\n==> ${text}`);
}

/**
 * Files under `dir` (recursively, sorted) whose path passes `keep`.
 * @param {string} dir
 * @param {(file: string) => boolean} keep
 * @returns {string[]}
 */
function listFiles(dir, keep) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  /** @type {string[]} */
  const found = [];
  const entries = readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) found.push(...listFiles(path, keep));
    } else if (entry.isFile() && keep(path)) {
      found.push(path);
    }
  }
  return found;
}

/**
 * @param {string} step
 * @param {number} passed
 * @param {number} failed
 * @param {number} skipped
 * @param {number} seconds
 * @param {string} note
 * @param {string[]} [failures]
 * @returns {Outcome}
 */
function outcome(step, passed, failed, skipped, seconds, note, failures = []) {
  return { step, passed, failed, skipped, seconds, note, failures };
}

/** @param {Outcome[]} outcomes */
function table(outcomes) {
  const rows = [
    ["step", "result", "passed", "failed", "skipped", "time", "note"],
    ...outcomes.map((o) => [
      o.step,
      o.failed === 0 ? "ok" : "FAILED",
      String(o.passed),
      String(o.failed),
      String(o.skipped),
      `${o.seconds.toFixed(2)}s`,
      o.note,
    ]),
  ];
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((r) => r[i].length))
  );
  const numeric = new Set([2, 3, 4, 5]);
  return rows.map((row) =>
    row.map((cell, i) =>
      numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])
    ).join("  ").trimEnd()
  ).join("\n");
}

/**
 * @template T
 * @param {T[]} items
 * @param {(item: T) => number} value
 */
function sum(items, value) {
  return items.reduce((total, item) => total + value(item), 0);
}

/**
 * @param {string} text
 * @param {RegExp} pattern
 */
function count(text, pattern) {
  const match = text.match(pattern);
  return match === null ? 0 : Number(match[1]);
}

/** @param {string} text */
function stripAnsi(text) {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]|\x1b\][^\x07]*\x07/g, "");
}

/** @param {string} path */
function toPosix(path) {
  return path.split(sep).join("/");
}
