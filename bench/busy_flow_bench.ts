/**
 * `weir serve` beside a flow that is never idle: how long its own
 * requests (`GET /healthz`) wait, and how many messages a second the flow
 * moves meanwhile, for this tree and a base ref side by side in one run.
 *
 *   bun bench/busy_flow_bench.ts                       # base HEAD~1, both runtimes
 *   bun bench/busy_flow_bench.ts --base=591ec54 --runtime=deno --rounds=3 --seconds=5
 *
 * The flow, a graph file of built-in components: one message going round
 * a cycle of two `core/Repeat`s, so a process is always ready and the
 * engine continues slice after slice. On Deno 2.9 a chain of
 * `setImmediate`s read the sockets only every few dozen turns: every
 * request waited about 270 ms (session 27; `macrotask` in
 * src/engine/network.ts now takes a timer after 50 ms of immediates).
 *
 * Each round runs each tree's `weir serve` alone (the flow takes a whole
 * core), pinned to the last core, history off, and drives `/healthz` from
 * the other core with `wrk -t1 -c1 --latency` (one request at a time, as a
 * health check or the dashboard asks) for `--seconds`; the flow's rate is
 * read from `weir_process_messages_total` of its process `A` before and
 * after the window. Who goes first alternates by round.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAverage, median } from "./_measure.ts";
import {
  benchFlag,
  type BenchRuntime,
  cores,
  runtimesOf,
  runtimeVersion,
  startWeirServe,
  weirCommand,
  wrk,
} from "./_serve.ts";
import { baseWorktree } from "./_worktree.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BUSY_FLOW = `# @name busy
'x' -> in A(core/Repeat)
A out -> in B(core/Repeat)
B out -> in A
`;
const ROUNDS = Number(benchFlag("rounds") ?? 3);
const SECONDS = Number(benchFlag("seconds") ?? 5);
const BASE = benchFlag("base") ?? "HEAD~1";

/** The flow's messages through process A so far. */
async function moved(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m =
    /^weir_process_messages_total\{flow="busy",process="A",port="in",direction="in"\} (\d+)/m
      .exec(text);
  if (m === null) throw new Error("no weir_process_messages_total of A");
  return Number(m[1]);
}

interface Figures {
  p50: number[];
  p99: number[];
  rps: number[];
  rate: number[];
}

async function measure(
  command: string[],
  work: string,
  name: string,
  into: Figures,
): Promise<void> {
  const { server, wrk: wrkCores } = cores();
  const s = await startWeirServe(command, {
    core: server,
    work,
    name,
    graph: BUSY_FLOW,
    args: ["--no-history"],
  });
  try {
    // Let the flow reach its pace.
    await new Promise((r) => setTimeout(r, 1000));
    const a = await moved(s.port);
    const t0 = performance.now();
    const w = wrk(`http://127.0.0.1:${s.port}/healthz`, {
      seconds: SECONDS,
      cores: wrkCores,
      threads: 1,
      connections: 1,
      latency: true,
    });
    const b = await moved(s.port);
    const seconds = (performance.now() - t0) / 1000;
    if (w.errors > 0) throw new Error(`${name}: ${w.errorText}`);
    into.p50.push(w.p50!);
    into.p99.push(w.p99!);
    into.rps.push(w.rps);
    into.rate.push((b - a) / seconds);
  } finally {
    s.stop();
  }
}

const empty = (): Figures => ({ p50: [], p99: [], rps: [], rate: [] });
const base = baseWorktree(BASE, "weir-busy-base-");
const work = mkdtempSync(join(tmpdir(), "weir-busy-"));
try {
  for (const rt of runtimesOf(benchFlag("runtime"))) {
    const load0 = loadAverage();
    const trees = [
      {
        label: "this tree",
        figures: empty(),
        command: weirCommand(rt, ROOT, join(work, "exe-new")),
      },
      {
        label: `base ${BASE}`,
        figures: empty(),
        command: weirCommand(rt, base.dir, join(work, "exe-base")),
      },
    ];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? trees : [...trees].reverse();
      for (const t of order) {
        await measure(
          t.command,
          work,
          `${rt}-${round}-${t === trees[0] ? "new" : "base"}`,
          t.figures,
        );
      }
    }
    console.log(
      `\n${rt} ${
        runtimeVersion(rt as BenchRuntime)
      }: ${ROUNDS} rounds of ${SECONDS} s, wrk -t1 -c1 /healthz beside the busy flow; load ${
        load0.join(" ")
      } before, ${loadAverage().join(" ")} after`,
    );
    console.log("| tree | /healthz p50 ms | p99 ms | req/s | flow msg/s |");
    console.log("|---|---:|---:|---:|---:|");
    for (const t of trees) {
      const f = t.figures;
      console.log(
        `| ${t.label} | ${median(f.p50).toFixed(2)} (${
          f.p50.map((x) => x.toFixed(1)).join(", ")
        }) | ${median(f.p99).toFixed(1)} | ${Math.round(median(f.rps))} | ${
          Math.round(median(f.rate)).toLocaleString("en")
        } (${f.rate.map((x) => (x / 1e6).toFixed(2) + "M").join(", ")}) |`,
      );
    }
  }
} finally {
  base.remove();
  rmSync(work, { recursive: true, force: true });
}
