/**
 * What an idle `weir serve` costs as a user meets it: the real server (the
 * single executable on Bun, built here with `scripts/compile.ts`; the
 * source on Deno) running the demo flow from a graph file (`core/Output`
 * as `core/Drop`, so that nothing is written to a terminal), with its
 * metric history (the default) and with `--no-history`, all at once;
 * each's CPU over `--seconds` after `--warmup`, and its RSS at the end.
 * The difference is what the history costs for the demo's series (issue
 * 14: at most 0.2 points of a core and 8 MB).
 *
 *   bun bench/serve_idle_bench.ts                    # both runtimes
 *   bun bench/serve_idle_bench.ts --runtime=deno     # one runtime
 *   bun bench/serve_idle_bench.ts --base=HEAD~3      # and that commit, side by side
 *   bun bench/serve_idle_bench.ts --tree=/tmp/old    # and that checkout, side by side
 *   bun bench/serve_idle_bench.ts --seconds=120 --warmup=60
 *
 * With `--base`, the commit is checked out in a temporary worktree and
 * its servers run beside this tree's (eight processes on Bun and Deno).
 * A fresh checkout's first run on Deno transpiles every module: its RSS
 * with history was 36 MB above the same code run from a checkout used
 * before, so repeated comparisons should use `--tree` with a checkout
 * that has run once.
 * The servers share one core (`cores().server`); they idle, so they do
 * not compete for it.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { DEMO_FLOW } from "../src/cli/demo.ts";
import { cpuPercentOver, loadAverage, rssMB } from "./_measure.ts";
import {
  cores,
  type ServerProcess,
  startWeirServe,
  weirCommand,
} from "./_serve.ts";
import { baseWorktree } from "./_worktree.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SECONDS = Number(flag("seconds") ?? 90);
const WARMUP = Number(flag("warmup") ?? 30);
const RUNTIMES = (flag("runtime") ?? "bun,deno").split(",");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Side {
  tree: string;
  rt: string;
  history: boolean;
  p: ServerProcess;
}

const base = flag("base");
const trees: { name: string; dir: string; remove?: () => void }[] = [
  { name: "this tree", dir: root },
];
const work = mkdtempSync(join(tmpdir(), "weir-idle-bench-"));
const sides: Side[] = [];
try {
  if (base !== undefined) {
    const wt = baseWorktree(base, "weir-idle-base-");
    trees.push({ name: base, dir: wt.dir, remove: wt.remove });
  }
  const other = flag("tree");
  if (other !== undefined) trees.push({ name: other, dir: other });
  const graph = DEMO_FLOW.replace("Log(core/Output)", "Log(core/Drop)");
  for (const [t, tree] of trees.entries()) {
    for (const rt of RUNTIMES) {
      const dir = join(work, `${t}-${rt}`);
      mkdirSync(dir);
      const cmd = weirCommand(rt as "bun" | "deno", tree.dir, dir);
      for (const history of [true, false]) {
        const side = join(dir, history ? "on" : "off");
        mkdirSync(side);
        const p = await startWeirServe(cmd, {
          core: cores().server,
          work: side,
          name: "weir",
          graph,
          args: history ? [] : ["--no-history"],
        });
        sides.push({ tree: tree.name, rt, history, p });
      }
    }
  }
  console.log(
    `serve idle bench, ${new Date().toISOString()}, ${sides.length} servers, ` +
      `warm-up ${WARMUP} s, measured ${SECONDS} s; load ${
        loadAverage().join(" ")
      }`,
  );
  await sleep(WARMUP * 1000);
  const cpu = await cpuPercentOver(sides.map((s) => s.p.pid), SECONDS);
  const rss = sides.map((s) => rssMB(s.p.pid));
  console.log(
    "| runtime | tree | history on: CPU, RSS | `--no-history` | history adds |",
  );
  console.log("|---|---|---|---|---|");
  for (const tree of trees) {
    for (const rt of RUNTIMES) {
      const on = sides.findIndex((s) =>
        s.tree === tree.name && s.rt === rt && s.history
      );
      const off = sides.findIndex((s) =>
        s.tree === tree.name && s.rt === rt && !s.history
      );
      console.log(
        `| ${
          rt === "bun" ? "bun (executable)" : "deno (source)"
        } | ${tree.name} | ${cpu[on].toFixed(2)}%, ${rss[on].toFixed(1)} MB | ${
          cpu[off].toFixed(2)
        }%, ${rss[off].toFixed(1)} MB | +${
          (cpu[on] - cpu[off]).toFixed(2)
        } points, +${(rss[on] - rss[off]).toFixed(1)} MB |`,
      );
    }
  }
  console.log(`load at the end ${loadAverage().join(" ")}`);
} finally {
  for (const s of sides) s.p.stop();
  await sleep(500);
  for (const t of trees) t.remove?.();
  rmSync(work, { recursive: true, force: true });
}
