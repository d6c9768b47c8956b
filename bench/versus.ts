/**
 * Side by side: a git ref (the base) against the current tree (new), in one
 * run, alternating A B A B so that whatever else loads the machine loads
 * both sides alike.
 *
 *   bun bench/versus.ts                       # pipeline, base bd57960, Bun and Deno
 *   bun bench/versus.ts --base=main           # another base (any git ref)
 *   bun bench/versus.ts --runtime=deno        # one runtime
 *   bun bench/versus.ts --rounds=8 --runs=5   # pairs of samples; runs per sample
 *   bun bench/versus.ts --same-process        # both sides in each sample process
 *   bun bench/versus.ts http                  # weir's HTTP metrics server (wrk)
 *   bun bench/versus.ts http --seconds=3      # seconds per wrk window
 *   bun bench/versus.ts serve                 # the real `weir serve`, per route (wrk)
 *   bun bench/versus.ts --json                # also one line `RESULT {json}`
 *
 * It checks the base out into a detached temporary worktree
 * (`git worktree add --detach /tmp/weir-versus-...`), links this tree's
 * `node_modules` into it, and removes it at the end.
 *
 * `pipeline` (default): each sample is a fresh process of the runtime
 * (so neither side's code warms or pollutes the other's JIT) that loads
 * that side's `bench/_pipeline.ts`, runs its 5-stage pipeline (200,000
 * messages, capacity 10) twice to warm up, then `--runs` times, and
 * reports the best msg/s (load from elsewhere only slows a run). With
 * `--same-process`, each sample process loads both sides' pipelines and
 * runs them in turn, one run each (who goes first alternates by round), so
 * that both meet the same moment's load; their code stays apart (two
 * copies of the modules), only the runtime's built-ins are shared.
 * `http`: the `weir` server of each side's
 * `bench/http_bench.ts --serve=weir` (Hono wrapped by weir's HTTP metrics),
 * both running at once pinned to the same core, driven in turn by `wrk`
 * from the other core for `--seconds` per window.
 * `serve`: the server as a user runs it, `weir serve` from each side's
 * source (`bun src/cli/main.ts serve`, `deno run -A src/cli/main.ts
 * serve`) with its own database and one running flow (`f1`, from a graph
 * file), every check and metric on, pinned the same way; `wrk` drives
 * `GET /healthz`, `GET /flows/f1` and `GET /flows` on each side in turn.
 *
 * Prints every sample, the median of each side and the ratio new/base
 * (above 1: the current tree is faster); with `--same-process`, also the
 * median of each round's ratio (the steadiest figure on a busy machine). The pipeline is also measured
 * per second of the process's CPU time, which the other processes on a
 * shared machine disturb less than the wall clock.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadAverage, median } from "./_measure.ts";
import {
  runtimesOf,
  type ServerProcess,
  startListening,
  startWeirServe as startWeirServeProcess,
  wrk as wrkRun,
} from "./_serve.ts";
import { baseWorktree } from "./_worktree.ts";

type Runtime = "bun" | "deno";
type Side = "base" | "new";

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const self = fileURLToPath(import.meta.url);
const bin = (rt: Runtime) => join(root, "node_modules", ".bin", rt);

const N = 200_000;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/**
 * A sample: loads the pipeline of each of `dirs` (one, or two to run in
 * turn, one run each, in one process), warms each up with two runs, then
 * runs each `runs` times; prints per side `SIDE i MSGS <best msg/s> CPU
 * <best msg/s of CPU time>`.
 */
async function sample(dirs: string[], runs: number): Promise<void> {
  const pipelines: ((n: number) => Promise<{ count: number }>)[] = [];
  for (const dir of dirs) {
    const mod = await import(
      pathToFileURL(join(dir, "bench", "_pipeline.ts")).href
    );
    pipelines.push(mod.runWeir);
  }
  const wall: number[][] = dirs.map(() => []);
  const cpu: number[][] = dirs.map(() => []);
  for (let i = 0; i < runs + 2; i++) {
    for (let k = 0; k < dirs.length; k++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await pipelines[k](N);
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (r.count !== N) {
        throw new Error(
          `pipeline of ${dirs[k]} lost messages: ${r.count} of ${N}`,
        );
      }
      if (i < 2) continue;
      wall[k].push(N / (ms / 1000));
      cpu[k].push(N / ((c.user + c.system) / 1e6));
    }
  }
  // The best run: other load on the machine only ever slows a run down.
  dirs.forEach((_, k) =>
    console.log(
      `SIDE ${k} MSGS ${Math.round(Math.max(...wall[k]))} CPU ${
        Math.round(Math.max(...cpu[k]))
      }`,
    )
  );
}

function command(rt: Runtime, args: string[]): [string, string[]] {
  return rt === "bun"
    ? [bin("bun"), [self, ...args]]
    : [bin("deno"), ["run", "-A", self, ...args]];
}

/** One sample of each of `dirs`' pipelines: best wall and CPU msg/s. */
function pipelineSample(
  rt: Runtime,
  dirs: string[],
  runs: number,
): { wall: number; cpu: number }[] {
  const [cmd, args] = command(rt, [
    `--sample=${dirs.join(",")}`,
    `--runs=${runs}`,
  ]);
  const r = spawnSync(cmd, args, { cwd: dirs[0], encoding: "utf8" });
  const got = dirs.map((_, k) =>
    new RegExp(`SIDE ${k} MSGS (\\d+) CPU (\\d+)`).exec(r.stdout ?? "")
  );
  if (r.status !== 0 || got.some((m) => m === null)) {
    throw new Error(
      `${rt} sample of ${dirs} failed (exit ${r.status}): ${r.stderr}${r.stdout}`,
    );
  }
  return got.map((m) => ({ wall: Number(m![1]), cpu: Number(m![2]) }));
}

type Server = ServerProcess;

/** Starts `dir`'s weir HTTP server on `core`. */
function startServer(rt: Runtime, dir: string, core: number): Promise<Server> {
  const file = join(dir, "bench", "http_bench.ts");
  const args = rt === "bun"
    ? [bin("bun"), file, "--serve=weir"]
    : [bin("deno"), "run", "-A", file, "--serve=weir"];
  return startListening(args, {
    core,
    cwd: dir,
    from: "stdout",
    pattern: /LISTENING (\d+)/,
  });
}

function wrk(port: number, seconds: number, cores: string, path = "/"): number {
  return wrkRun(`http://127.0.0.1:${port}${path}`, { seconds, cores }).rps;
}

/** The routes `serve` mode drives, each a user's everyday request. */
const SERVE_ROUTES = ["/healthz", "/flows/f1", "/flows"];

/**
 * Starts `dir`'s `weir serve` from source on `core` with a database of its
 * own in `work` and one flow, `f1`, from a graph file; resolves once it
 * serves.
 */
function startWeirServe(
  rt: Runtime,
  dir: string,
  core: number,
  work: string,
  side: Side,
): Promise<Server> {
  const main = join(dir, "src", "cli", "main.ts");
  const command = rt === "bun"
    ? [bin("bun"), main]
    : [bin("deno"), "run", "-A", main];
  return startWeirServeProcess(command, { core, work, name: side });
}

async function compare(): Promise<void> {
  const mode = argv.find((a) => !a.startsWith("--")) ?? "pipeline";
  if (mode !== "pipeline" && mode !== "http" && mode !== "serve") {
    throw new RangeError(
      `Cannot compare: mode must be pipeline, http or serve, received "${mode}"`,
    );
  }
  const ref = flag("base") ?? "bd57960";
  const runtimes = runtimesOf(flag("runtime"), "compare");
  const rounds = Number(flag("rounds") ?? 6);
  const runs = Number(flag("runs") ?? 8);
  const seconds = Number(flag("seconds") ?? 2);
  const sameProcess = argv.includes("--same-process");
  const wt = baseWorktree(ref, "weir-versus-");
  const dirs: Record<Side, string> = { base: wt.dir, new: root };
  const results: Record<string, unknown> = {};
  const loadStart = loadAverage();
  try {
    for (const rt of runtimes) {
      /** Per measure (`wall`, and `cpu` for the pipeline), per side. */
      const got: Record<string, Record<Side, number[]>> = {};
      const record = (measure: string, side: Side, x: number) => {
        (got[measure] ??= { base: [], new: [] })[side].push(x);
      };
      const servers: Partial<Record<Side, Server>> = {};
      const serverCore = availableParallelism() - 1;
      const wrkCores = serverCore === 1 ? "0" : `0-${serverCore - 1}`;
      const unit = mode === "pipeline" ? "msg/s" : "req/s";
      /** Same process: new/base of each round, per measure. */
      const ratios: Record<string, number[]> = {};
      try {
        if (mode === "http") {
          if (!existsSync(join(wt.dir, "bench", "http_bench.ts"))) {
            throw new Error(`${ref} has no bench/http_bench.ts`);
          }
          servers.base = await startServer(rt, dirs.base, serverCore);
          servers.new = await startServer(rt, dirs.new, serverCore);
          // A warm-up window for each, not counted.
          for (const s of ["base", "new"] as const) {
            wrk(servers[s]!.port, seconds, wrkCores);
          }
        } else if (mode === "serve") {
          const work = mkdtempSync(join(tmpdir(), "weir-versus-serve-"));
          for (const s of ["base", "new"] as const) {
            // A folder each: the metric history (on by default) lives
            // beside the database, and one folder's history is locked.
            const own = join(work, s);
            mkdirSync(own);
            servers[s] = await startWeirServe(
              rt,
              dirs[s],
              serverCore,
              own,
              s,
            );
          }
          for (const s of ["base", "new"] as const) {
            for (const route of SERVE_ROUTES) {
              wrk(servers[s]!.port, seconds, wrkCores, route);
            }
          }
        }
        for (let round = 0; round < rounds; round++) {
          for (const side of ["base", "new"] as const) {
            let line: string;
            if (mode === "serve") {
              line = SERVE_ROUTES.map((route) => {
                const x = wrk(servers[side]!.port, seconds, wrkCores, route);
                record(route, side, x);
                return `${route} ${fmt(x)}`;
              }).join(", ") + ` ${unit}`;
            } else if (mode === "http") {
              const x = wrk(servers[side]!.port, seconds, wrkCores);
              record("wall", side, x);
              line = `${fmt(x)} ${unit}`;
            } else if (!sameProcess) {
              const [x] = pipelineSample(rt, [dirs[side]], runs);
              record("wall", side, x.wall);
              record("cpu", side, x.cpu);
              line = `${fmt(x.wall)} ${unit} (per CPU second: ${fmt(x.cpu)})`;
            } else {
              // Both sides in one process, in turn; who goes first alternates.
              if (side === "new") continue;
              const order: Side[] = round % 2 === 0
                ? ["base", "new"]
                : ["new", "base"];
              const xs = pipelineSample(rt, order.map((o) => dirs[o]), runs);
              order.forEach((o, k) => {
                record("wall", o, xs[k].wall);
                record("cpu", o, xs[k].cpu);
              });
              const [b, n] = order[0] === "base" ? xs : [xs[1], xs[0]];
              (ratios.wall ??= []).push(n.wall / b.wall);
              (ratios.cpu ??= []).push(n.cpu / b.cpu);
              line = `base ${fmt(b.wall)}, new ${fmt(n.wall)} ${unit}` +
                ` (per CPU second: base ${fmt(b.cpu)}, new ${fmt(n.cpu)})`;
            }
            console.log(`${rt} ${mode} round ${round + 1} ${side}: ${line}`);
          }
        }
      } finally {
        servers.base?.stop();
        servers.new?.stop();
      }
      const summary: Record<string, unknown> = {};
      for (const [measure, rs] of Object.entries(ratios)) {
        const r = Number(median(rs).toFixed(3));
        console.log(
          `${rt} ${mode} ${
            measure === "wall" ? unit : `${unit} per CPU second`
          }: median of the rounds' new/base ${r}`,
        );
        summary[`${measure}RoundRatio`] = r;
      }
      for (const [measure, sides] of Object.entries(got)) {
        const base = median(sides.base);
        const now = median(sides.new);
        const ratio = Number((now / base).toFixed(3));
        const what = measure === "wall"
          ? unit
          : measure === "cpu"
          ? `${unit} per CPU second`
          : `GET ${measure} ${unit}`;
        console.log(
          `${rt} ${mode} ${what}: base ${ref} median ${fmt(base)}, new median ${
            fmt(now)
          }, new/base ${ratio}`,
        );
        summary[measure] = { ...sides, ratio };
      }
      results[rt] = summary;
    }
  } finally {
    wt.remove();
  }
  if (argv.includes("--json")) {
    console.log(
      `RESULT ${
        JSON.stringify({
          mode,
          base: ref,
          rounds,
          loadavg: { start: loadStart, end: loadAverage() },
          ...results,
        })
      }`,
    );
  }
}

const sampled = flag("sample");
if (sampled !== undefined) {
  await sample(sampled.split(","), Number(flag("runs") ?? 5));
} else await compare();
