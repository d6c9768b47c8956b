/**
 * The single executable against the runtimes: the same entry point,
 * `src/cli/main.ts`, run three ways in the same run:
 *
 * - `binary`: the executable `bun scripts/compile.ts` builds (compiled by
 *   this benchmark with `compile()` into a temporary directory, then copied
 *   alone into a fresh one and run from there, so that it cannot read the
 *   source tree);
 * - `bun`: `bun src/cli/main.ts`;
 * - `deno`: `deno run -A src/cli/main.ts`.
 *
 * Figures:
 *
 * 1. The executable's size (and that of the cross-compiled ones found in
 *    `dist/`, as they are).
 * 2. Start: from `spawn()` of `<cmd> serve --listen 127.0.0.1:<port> --db
 *    :memory:` to the first `GET /healthz` answered 200, polled with
 *    `fetch` in a loop that retries at once; one warm-up start of each,
 *    then `--starts` rounds of one start of each (binary, bun, deno, in
 *    that order, so that drift of the machine hits all three); median, min
 *    and max.
 * 3. Memory idle: in another set of starts, VmRSS (with RssAnon and
 *    RssFile) from `/proc/PID/status`, the largest of 5 reads over 2 s,
 *    3 s after the first 200 from `/healthz`.
 * 4. Memory loaded: the same processes then get 10 flows by `POST /flows`
 *    (.fbp text; each a `core/Interval` ticking every 10 ms into 8
 *    `core/Repeat` and a `core/Drop`: 10 processes), checked by `GET
 *    /flows` (10 flows, all running); after 5 s of running, the largest
 *    of 5 reads over 2 s. `/metrics` is scraped before and after: the
 *    messages the sinks took in between show that the flows move. The
 *    process's CPU time over those 7 s is reported too. `--memory-rounds`
 *    rounds (binary, bun, deno each); medians.
 *
 * Every process is stopped by its pid: SIGTERM, then SIGKILL if it has not
 * exited within 10 s. Only 127.0.0.1 is used.
 *
 * Run: `bun bench/exe_bench.ts` or `deno run -A bench/exe_bench.ts`;
 * `--json` prints one machine-readable line for `scripts/bench.ts`;
 * `--starts=N` (default 10), `--memory-rounds=N` (default 3).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { compile } from "../scripts/compile.ts";
import { loadAverage, median, processCpuSeconds } from "./_measure.ts";
import { flowText as stagesText } from "./_metrics.ts";
import { runtime } from "./_runtime.ts";

const argv: string[] = process.argv ?? [];
const json = argv.includes("--json");
const intArg = (name: string, fallback: number): number => {
  const v = argv.find((a) => a.startsWith(`--${name}=`))?.slice(
    name.length + 3,
  );
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot run the benchmark: --${name} must be a positive integer, received "${v}"`,
    );
  }
  return n;
};

const STARTS = intArg("starts", 10);
const MEMORY_ROUNDS = intArg("memory-rounds", 3);
const IDLE_WAIT_MS = 3000;
const LOADED_WAIT_MS = 5000;
const READS = 5;
const READ_SPAN_MS = 2000;
const FLOWS = 10;
const TICK_MS = 10;
/** Longest wait for a process to answer /healthz. */
const START_TIMEOUT_MS = 30_000;
/** Longest wait for a process to exit after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
/** Targets for the executable. */
const TARGETS = { startMs: 150, idleMB: 60, loadedMB: 100 };

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const MAIN = "src/cli/main.ts";
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

type Kind = "binary" | "bun" | "deno";
const KINDS: Kind[] = ["binary", "bun", "deno"];

interface Command {
  file: string;
  args: string[];
  cwd: string;
  /** How the report shows it. */
  shown: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1) => Number(n.toFixed(digits));
/** MB are 10^6 bytes (the stricter reading of the targets). */
const mb = (bytes: number) => round(bytes / 1e6);

/** A port nobody listens on now: listen on 0, read it, close. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A started `serve` process. */
interface Started {
  child: ChildProcess;
  pid: number;
  base: string;
  /** ms from spawn() to the first 200 from /healthz. */
  startMs: number;
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null;

async function start(cmd: Command): Promise<Started> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = [
    ...cmd.args,
    "serve",
    "--listen",
    `127.0.0.1:${port}`,
    "--db",
    ":memory:",
  ];
  const t0 = performance.now();
  const child = spawn(cmd.file, args, {
    cwd: cmd.cwd,
    stdio: "ignore",
    env: { ...process.env, NO_COLOR: "1" },
  });
  let spawnError: Error | undefined;
  child.on("error", (e) => spawnError = e);
  for (;;) {
    try {
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) {
        return {
          child,
          pid: child.pid!,
          base,
          startMs: performance.now() - t0,
        };
      }
    } catch {
      // Not listening yet: ask again at once.
    }
    if (spawnError || exited(child)) {
      throw new Error(
        `${cmd.shown} exited (${
          spawnError?.message ?? child.exitCode ?? child.signalCode
        }) before answering /healthz`,
      );
    }
    if (performance.now() - t0 > START_TIMEOUT_MS) {
      await stop(child);
      throw new Error(
        `${cmd.shown} did not answer /healthz within ${START_TIMEOUT_MS} ms`,
      );
    }
  }
}

/** SIGTERM by pid, wait for the exit; SIGKILL after STOP_TIMEOUT_MS. */
async function stop(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const done = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    process.kill(child.pid!, "SIGTERM");
  } catch {
    // It exited between the check and the signal.
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((r) =>
      timer = setTimeout(() => r(true), STOP_TIMEOUT_MS)
    ),
  ]);
  clearTimeout(timer);
  if (late && !exited(child)) {
    process.stderr.write(
      `exe bench: pid ${child.pid} still running ${STOP_TIMEOUT_MS} ms after SIGTERM; SIGKILL\n`,
    );
    process.kill(child.pid!, "SIGKILL");
    await done;
  }
}

/** Resident memory of a process, bytes. */
interface Rss {
  rss: number;
  anon: number;
  file: number;
}

function readRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
}

/** The read with the largest VmRSS of READS reads over READ_SPAN_MS. */
async function maxRss(pid: number): Promise<Rss> {
  let max = readRss(pid);
  for (let i = 1; i < READS; i++) {
    await sleep(READ_SPAN_MS / (READS - 1));
    const r = readRss(pid);
    if (r.rss > max.rss) max = r;
  }
  return max;
}

/** Flow `f<n>`: an Interval source, 8 Repeat stages, a Drop sink. */
function flowText(n: number): string {
  return `# @name f${n}\n${
    stagesText(8, TICK_MS)
  }\nR8 out -> in Sink(core/Drop)\n`;
}

/** Messages the sinks took in, by weir_process_messages_total. */
async function sinkMessages(base: string): Promise<number> {
  const res = await fetch(`${base}/metrics`);
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`GET /metrics answered ${res.status}: ${text}`);
  }
  let sum = 0;
  const line =
    /^weir_process_messages_total\{([^}]*)\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/gm;
  for (const m of text.matchAll(line)) {
    if (/process="Sink"/.test(m[1]) && /direction="in"/.test(m[1])) {
      sum += Number(m[2]);
    }
  }
  return sum;
}

/** Creates the flows and checks they run; resolves when they do. */
async function addFlows(base: string, shown: string): Promise<void> {
  for (let n = 1; n <= FLOWS; n++) {
    const res = await fetch(`${base}/flows`, {
      method: "POST",
      headers: { "Content-Type": "text/vnd.fbp" },
      body: flowText(n),
    });
    const body = await res.text();
    if (res.status !== 201) {
      throw new Error(
        `${shown}: POST /flows (f${n}) answered ${res.status}: ${body}`,
      );
    }
  }
  const res = await fetch(`${base}/flows`);
  const { flows } = await res.json() as {
    flows: { id: string; state: string; processes?: number }[];
  };
  const running = flows.filter((f) => f.state === "running");
  if (
    flows.length !== FLOWS || running.length !== FLOWS ||
    flows.some((f) => f.processes !== undefined && f.processes !== 10)
  ) {
    throw new Error(
      `${shown}: GET /flows lists ${
        JSON.stringify(flows.map((f) => [f.id, f.state, f.processes]))
      }, expected ${FLOWS} flows of 10 processes, all running`,
    );
  }
}

interface MemoryRound {
  startMs: number;
  idle: Rss;
  loaded: Rss;
  /** Messages the sinks took in between the two scrapes. */
  sinkMessages: number;
  /** ms between the two scrapes. */
  windowMs: number;
  /** CPU time of the process over that window, % of one core. */
  cpuPct: number;
}

async function memoryRound(cmd: Command): Promise<MemoryRound> {
  const s = await start(cmd);
  try {
    await sleep(IDLE_WAIT_MS);
    const idle = await maxRss(s.pid);
    await addFlows(s.base, cmd.shown);
    const before = await sinkMessages(s.base);
    const t0 = performance.now();
    const c0 = processCpuSeconds(s.pid) * 1000;
    await sleep(LOADED_WAIT_MS);
    const loaded = await maxRss(s.pid);
    const cpu = processCpuSeconds(s.pid) * 1000 - c0;
    const after = await sinkMessages(s.base);
    const windowMs = performance.now() - t0;
    if (after <= before) {
      throw new Error(
        `${cmd.shown}: the sinks took no messages in ${
          Math.round(windowMs)
        } ms (${before} then ${after})`,
      );
    }
    return {
      startMs: round(s.startMs),
      idle,
      loaded,
      sinkMessages: after - before,
      windowMs: Math.round(windowMs),
      cpuPct: round(cpu / windowMs * 100),
    };
  } finally {
    await stop(s.child);
  }
}

const loadStart = loadAverage();

// 1. Build, then run from a directory that holds nothing but the executable.
const buildDir = mkdtempSync(join(tmpdir(), "weir-exe-build-"));
const runDir = mkdtempSync(join(tmpdir(), "weir-exe-run-"));
try {
  const built = join(buildDir, "weir");
  const b0 = performance.now();
  compile(built);
  const buildMs = Math.round(performance.now() - b0);
  const exe = join(runDir, "weir");
  copyFileSync(built, exe);
  chmodSync(exe, 0o755);
  const size = statSync(exe).size;

  const dist = join(ROOT, "dist");
  let cross: { name: string; bytes: number; MB: number }[] = [];
  try {
    cross = readdirSync(dist)
      .filter((f) => f.startsWith("weir-linux-") && !f.endsWith(".map"))
      .sort()
      .map((name) => {
        const bytes = statSync(join(dist, name)).size;
        return { name: `dist/${name}`, bytes, MB: mb(bytes) };
      });
  } catch {
    // No dist/: only this machine's executable.
  }

  const bunPath = process.versions.bun !== undefined
    ? process.execPath
    : bin("bun");
  // For comparison: what the runtimes weigh on their own.
  const runtimeBytes = {
    bun: statSync(bunPath).size,
    deno: statSync(bin("deno")).size,
  };
  const commands: Record<Kind, Command> = {
    binary: { file: exe, args: [], cwd: runDir, shown: "weir (copied alone)" },
    bun: { file: bunPath, args: [MAIN], cwd: ROOT, shown: `bun ${MAIN}` },
    deno: {
      file: bin("deno"),
      args: ["run", "-A", MAIN],
      cwd: ROOT,
      shown: `deno run -A ${MAIN}`,
    },
  };

  // 2. Start, in rounds; the first (warm-up: caches, page cache) not counted.
  const startMs: Record<Kind, number[]> = { binary: [], bun: [], deno: [] };
  for (let r = -1; r < STARTS; r++) {
    for (const k of KINDS) {
      const s = await start(commands[k]);
      await stop(s.child);
      if (r >= 0) startMs[k].push(round(s.startMs));
    }
  }

  // 3 and 4. Memory, idle then loaded, in rounds.
  const memory: Record<Kind, MemoryRound[]> = { binary: [], bun: [], deno: [] };
  for (let r = 0; r < MEMORY_ROUNDS; r++) {
    for (const k of KINDS) memory[k].push(await memoryRound(commands[k]));
  }

  const summary = (k: Kind) => {
    const m = memory[k];
    const med = (f: (x: MemoryRound) => number) => median(m.map(f));
    const rssOf = (pick: (x: MemoryRound) => Rss) => ({
      rssMB: mb(med((x) => pick(x).rss)),
      anonMB: mb(med((x) => pick(x).anon)),
      fileMB: mb(med((x) => pick(x).file)),
      rssByRoundMB: m.map((x) => mb(pick(x).rss)),
    });
    return {
      command: commands[k].shown,
      start: {
        medianMs: round(median(startMs[k])),
        minMs: Math.min(...startMs[k]),
        maxMs: Math.max(...startMs[k]),
        ms: startMs[k],
      },
      idle: rssOf((x) => x.idle),
      loaded: {
        ...rssOf((x) => x.loaded),
        cpuPct: round(med((x) => x.cpuPct)),
        sinkMsgPerSecPerFlow: round(
          med((x) => x.sinkMessages / (x.windowMs / 1000) / FLOWS),
        ),
      },
    };
  };

  const result = {
    runtime: runtime(),
    date: new Date().toISOString(),
    loadavg: { start: loadStart, end: loadAverage() },
    build: { ms: buildMs, bytes: size, MB: mb(size) },
    cross,
    runtimeBytes,
    starts: STARTS,
    memoryRounds: MEMORY_ROUNDS,
    idleWaitMs: IDLE_WAIT_MS,
    loadedWaitMs: LOADED_WAIT_MS,
    reads: READS,
    readSpanMs: READ_SPAN_MS,
    flows: FLOWS,
    processesPerFlow: 10,
    tick: `${TICK_MS}ms`,
    targets: TARGETS,
    results: Object.fromEntries(KINDS.map((k) => [k, summary(k)])) as Record<
      Kind,
      ReturnType<typeof summary>
    >,
  };
  if (json) console.log(`RESULT ${JSON.stringify(result)}`);
  else console.log(JSON.stringify(result, null, 2));
} finally {
  rmSync(buildDir, { recursive: true, force: true });
  rmSync(runDir, { recursive: true, force: true });
}
