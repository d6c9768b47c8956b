/**
 * Versus NoFlo (issue 19, section 2): weir's 5-stage pipeline, written as a
 * user writes it (a graph file of built-in `flow/Map` stages, each
 * `{"seq": seq, "value": value + 1}`), and the same pipeline of weir
 * JavaScript components, side by side in one run with NoFlo 1.5's 5-stage
 * pipeline of plain JavaScript components (bench/_noflo_pipeline.mjs).
 * Same shape on every side: a source of 100,000 messages `{ seq, value }`,
 * five stages of `{ seq, value: value + 1 }`, a sink that counts them and
 * checks the sum (every run of every side throws on a lost or changed
 * message).
 *
 *   bun bench/noflo_bench.ts                  # 3 rounds, NoFlo on Node, Bun and Deno
 *   bun bench/noflo_bench.ts --rounds=5 --json
 *   bun bench/noflo_bench.ts --noflo=node     # NoFlo on Node only (faster)
 *   bun bench/noflo_bench.ts --node=/path/to/node
 *
 * Each round starts one child process per side, in an order that rotates
 * from round to round: NoFlo on Node (components with `process()`), NoFlo
 * on Node (the same function through `noflo.asComponent`), NoFlo on Bun,
 * NoFlo on Deno, weir on Bun, weir on Deno (each weir child alternates the
 * expression and the JavaScript pipeline run by run). Every child warms up
 * (NoFlo 3 runs, weir 2 runs of each pipeline) and then measures 5 runs;
 * the table gives, per side, the best and the median run over all rounds,
 * by wall time and by the process's CPU time. The ratios put weir's median
 * over NoFlo's best (of every runtime and style), so NoFlo gets the benefit
 * of the noise. The load average is read before and after.
 *
 * The weir sides run `runOnce` of bench/expr_bench.ts (the graph text
 * `GRAPH` there, loaded with loadGraph and built with the built-in
 * components), so the two benchmarks measure the same pipeline.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runOnce } from "./expr_bench.ts";
import { loadAverage, median } from "./_measure.ts";
import { runtime } from "./_runtime.ts";

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ROUNDS = Number(flag("rounds") ?? 3);
const N = 100_000;
const WEIR_WARMUP = 2;
const RUNS = 5;
const NOFLO_WARMUP = 3;

/** msg/s of each measured run. */
interface Runs {
  wall: number[];
  cpu: number[];
}

/** What a weir child prints after `RESULT `. */
interface WeirResult {
  runtime: string;
  compiled: Runs;
  javascript: Runs;
}

/** The weir child: both pipelines on this runtime, run by run. */
async function weirWorker(): Promise<WeirResult> {
  const out: WeirResult = {
    runtime: runtime(),
    compiled: { wall: [], cpu: [] },
    javascript: { wall: [], cpu: [] },
  };
  for (let i = 0; i < WEIR_WARMUP; i++) {
    await runOnce("compiled", N);
    await runOnce("javascript", N);
  }
  for (let i = 0; i < RUNS; i++) {
    for (const side of ["compiled", "javascript"] as const) {
      const one = await runOnce(side, N);
      out[side].wall.push(one.wall);
      out[side].cpu.push(one.cpu);
    }
  }
  return out;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
const SELF = fileURLToPath(import.meta.url);
const NOFLO = join(ROOT, "bench", "_noflo_pipeline.mjs");

/** A child process of the run, and the side(s) it measures. */
interface Child {
  label: string;
  cmd: string;
  args: string[];
}

function children(): Child[] {
  const node = flag("node") ?? "node";
  const nofloArgs = [`--n=${N}`, `--warmup=${NOFLO_WARMUP}`, `--runs=${RUNS}`];
  const on = (flag("noflo") ?? "node,bun,deno").split(",");
  const list: Child[] = [];
  if (on.includes("node")) {
    list.push({ label: "noflo node", cmd: node, args: [NOFLO, ...nofloArgs] });
    list.push({
      label: "noflo node asComponent",
      cmd: node,
      args: [NOFLO, ...nofloArgs, "--style=asComponent"],
    });
  }
  if (on.includes("bun")) {
    list.push({
      label: "noflo bun",
      cmd: join(BIN, "bun"),
      args: [NOFLO, ...nofloArgs],
    });
  }
  if (on.includes("deno")) {
    list.push({
      label: "noflo deno",
      cmd: join(BIN, "deno"),
      args: ["run", "-A", NOFLO, ...nofloArgs],
    });
  }
  list.push({
    label: "weir bun",
    cmd: join(BIN, "bun"),
    args: [SELF, "--weir"],
  });
  list.push({
    label: "weir deno",
    cmd: join(BIN, "deno"),
    args: ["run", "-A", SELF, "--weir"],
  });
  return list;
}

/** Runs a child; its `RESULT` line, parsed, or the reason it failed. */
function runChild(c: Child): { ok: true; result: unknown } | {
  ok: false;
  reason: string;
} {
  const out = spawnSync(c.cmd, c.args, {
    encoding: "utf8",
    cwd: ROOT,
    maxBuffer: 1 << 24,
  });
  const line = (out.stdout ?? "").split("\n").find((l) =>
    l.startsWith("RESULT ")
  );
  if (line === undefined) {
    const why = `${out.error?.message ?? ""}${out.stderr ?? ""}${
      out.stdout ?? ""
    }`.trim().split("\n").slice(-3).join(" / ");
    return { ok: false, reason: `exit ${out.status}: ${why}` };
  }
  return { ok: true, result: JSON.parse(line.slice(7)) };
}

function version(cmd: string, args: string[]): string {
  const out = spawnSync(cmd, args, { encoding: "utf8" });
  return (out.stdout ?? "").split("\n")[0].trim() || "not found";
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function orchestrate(): void {
  const load0 = loadAverage();
  const list = children();
  /** label -> collected runs (a weir child fills two labels). */
  const runs = new Map<string, Runs>();
  const failures = new Map<string, string>();
  const add = (label: string, r: Runs) => {
    const have = runs.get(label) ?? { wall: [], cpu: [] };
    have.wall.push(...r.wall);
    have.cpu.push(...r.cpu);
    runs.set(label, have);
  };
  let bunVersion = "";
  let denoVersion = "";
  for (let round = 0; round < ROUNDS; round++) {
    const order = list.map((_, i) => list[(i + round) % list.length]);
    for (const c of order) {
      if (failures.has(c.label)) continue;
      const t0 = performance.now();
      const r = runChild(c);
      console.error(
        `round ${round + 1}/${ROUNDS} ${c.label}: ${r.ok ? "ok" : r.reason} (${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s)`,
      );
      if (!r.ok) {
        failures.set(c.label, r.reason);
        continue;
      }
      if (c.label.startsWith("weir")) {
        const w = r.result as WeirResult;
        if (w.runtime.startsWith("bun")) bunVersion = w.runtime;
        else denoVersion = w.runtime;
        add(`${c.label} expr`, w.compiled);
        add(`${c.label} js`, w.javascript);
      } else add(c.label, r.result as Runs);
    }
  }
  const load1 = loadAverage();
  const noflo = JSON.parse(
    readFileSync(join(ROOT, "node_modules", "noflo", "package.json"), "utf8"),
  ).version as string;
  const nodeVersion = version(flag("node") ?? "node", ["--version"]);

  const what: Record<string, string> = {
    "noflo node":
      `NoFlo ${noflo}, node ${nodeVersion}, \`noflo.Component\` + \`process()\``,
    "noflo node asComponent":
      `NoFlo ${noflo}, node ${nodeVersion}, \`noflo.asComponent(fn)\``,
    "noflo bun": `NoFlo ${noflo}, ${bunVersion || "bun"}, \`process()\``,
    "noflo deno": `NoFlo ${noflo}, ${denoVersion || "deno"}, \`process()\``,
    "weir bun expr":
      `weir, ${bunVersion}, graph file of \`flow/Map\` (compiled JSONata)`,
    "weir bun js": `weir, ${bunVersion}, JavaScript components`,
    "weir deno expr":
      `weir, ${denoVersion}, graph file of \`flow/Map\` (compiled JSONata)`,
    "weir deno js": `weir, ${denoVersion}, JavaScript components`,
  };
  const lines = [
    `| pipeline | runs | best msg/s (wall) | median msg/s (wall) | best msg/s (CPU) | median msg/s (CPU) |`,
    `|---|---|---|---|---|---|`,
  ];
  const summary: Record<string, Record<string, number>> = {};
  for (const [label, r] of runs) {
    const s = {
      bestWall: Math.max(...r.wall),
      medianWall: median(r.wall),
      bestCpu: Math.max(...r.cpu),
      medianCpu: median(r.cpu),
    };
    summary[label] = s;
    lines.push(
      `| ${what[label] ?? label} | ${r.wall.length} | ${fmt(s.bestWall)} | ${
        fmt(s.medianWall)
      } | ${fmt(s.bestCpu)} | ${fmt(s.medianCpu)} |`,
    );
  }
  for (const [label, reason] of failures) {
    lines.push(`| ${what[label] ?? label} | failed: ${reason} | | | | |`);
  }
  const nofloLabels = [...runs.keys()].filter((l) => l.startsWith("noflo"));
  const best = (key: "bestWall" | "bestCpu") =>
    Math.max(...nofloLabels.map((l) => summary[l][key]));
  const bestLabel = nofloLabels.reduce((a, b) =>
    summary[b].bestWall > summary[a].bestWall ? b : a
  );
  lines.push(
    "",
    `NoFlo's best: ${fmt(best("bestWall"))} msg/s of wall time (${
      what[bestLabel]
    }), ${fmt(best("bestCpu"))} msg/s of CPU time.`,
    "",
    `| weir runtime | weir-expr / NoFlo (wall) | weir-JS / NoFlo (wall) | weir-expr / NoFlo (CPU) | weir-JS / NoFlo (CPU) |`,
    `|---|---|---|---|---|`,
  );
  for (const rt of ["bun", "deno"]) {
    const e = summary[`weir ${rt} expr`];
    const j = summary[`weir ${rt} js`];
    if (e === undefined || j === undefined) continue;
    const ratio = (x: number, y: number) => `${(x / y).toFixed(1)}x`;
    lines.push(
      `| ${rt === "bun" ? bunVersion : denoVersion} | ${
        ratio(e.medianWall, best("bestWall"))
      } | ${ratio(j.medianWall, best("bestWall"))} | ${
        ratio(e.medianCpu, best("bestCpu"))
      } | ${ratio(j.medianCpu, best("bestCpu"))} |`,
    );
  }
  lines.push(
    "",
    `Ratios: weir's median run over NoFlo's best run. Load average before ${
      load0.map((x) => x.toFixed(2)).join(" ")
    }, after ${load1.map((x) => x.toFixed(2)).join(" ")}.`,
  );
  console.log(lines.join("\n"));
  if (argv.includes("--json")) {
    console.log(
      `RESULT ${
        JSON.stringify({
          noflo,
          node: nodeVersion,
          bun: bunVersion,
          deno: denoVersion,
          load: [load0, load1],
          summary,
          failures: Object.fromEntries(failures),
        })
      }`,
    );
  }
}

if (import.meta.main) {
  if (argv.includes("--weir")) {
    console.log(`RESULT ${JSON.stringify(await weirWorker())}`);
  } else orchestrate();
}
