/**
 * Runs the benchmarks on Bun and on Deno and writes bench/RESULTS.md.
 *
 *   bun scripts/bench.ts            # run and rewrite bench/RESULTS.md
 *   bun scripts/bench.ts --print    # run and print, leave the file alone
 *
 * (`npm run bench` runs the first.)
 *
 * Each benchmark prints a line `RESULT {json}` when given `--json`; this
 * script collects those lines and renders them with the date, the runtime
 * versions and the command.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

type Runtime = "bun" | "deno";

const runtimes: Record<Runtime, (file: string) => [string, string[]]> = {
  bun: (file) => [bin("bun"), [file, "--json"]],
  deno: (file) => [
    bin("deno"),
    ["run", "-A", "--v8-flags=--expose-gc", file, "--json"],
  ],
};

interface PipelineResult {
  runtime: string;
  messages: number;
  baselineMsgPerSec: number;
  weirMsgPerSec: number;
  speedup: number;
  memory: {
    messages: number;
    msgPerSec: number;
    heapBeforeMB: number;
    peakGrowthMB: number;
    peakLiveGrowthMB: number;
    retainedGrowthMB: number;
  };
}

function runBench(file: string, rt: Runtime): PipelineResult {
  const [cmd, args] = runtimes[rt](file);
  process.stderr.write(`bench: ${rt} ${file}\n`);
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 2 ** 20,
  });
  const line = (r.stdout ?? "").split("\n").find((l) =>
    l.startsWith("RESULT ")
  );
  if (r.status !== 0 || !line) {
    process.stderr.write(r.stdout + r.stderr);
    throw new Error(`${rt} ${file} failed (exit ${r.status})`);
  }
  return JSON.parse(line.slice("RESULT ".length));
}

function version(rt: Runtime): string {
  const r = spawnSync(bin(rt), ["--version"], { encoding: "utf8" });
  return r.stdout.split("\n")[0].trim();
}

const fmt = (n: number) => n.toLocaleString("en-US");

const pipeline: Record<Runtime, PipelineResult> = {
  bun: runBench("bench/pipeline_bench.ts", "bun"),
  deno: runBench("bench/pipeline_bench.ts", "deno"),
};

const targets: Record<Runtime, number> = { bun: 2_000_000, deno: 1_000_000 };
const rows = (Object.keys(pipeline) as Runtime[]).map((rt) => {
  const r = pipeline[rt];
  const ok = r.weirMsgPerSec >= targets[rt] && r.speedup >= 3;
  return `| ${r.runtime} | ${fmt(r.weirMsgPerSec)} | ${
    fmt(r.baselineMsgPerSec)
  } | ${r.speedup}x | ${fmt(targets[rt])} and 3x | ${ok ? "met" : "NOT met"} |`;
});
const memRows = Object.values(pipeline).map((r) => {
  const m = r.memory;
  return `| ${r.runtime} | ${fmt(m.messages)} | ${
    fmt(m.msgPerSec)
  } | ${m.heapBeforeMB} | ${m.peakLiveGrowthMB} | ${m.peakGrowthMB} | ${m.retainedGrowthMB} | ${
    m.peakLiveGrowthMB < 20 ? "met" : "NOT met"
  } |`;
});

const text = `# Benchmark results

Written by \`npm run bench\` (\`bun scripts/bench.ts\` which runs \`bun bench/pipeline_bench.ts --json\`
and \`deno run -A --v8-flags=--expose-gc bench/pipeline_bench.ts --json\`).

- Date: ${new Date().toISOString()}
- Runtimes: ${version("bun").replace(/^/, "bun ")}, ${version("deno")}
- Machine: ${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}

## Pipeline throughput (issue: engine core)

source -> 5 x map(value + 1) -> counting sink, ${
  fmt(pipeline.bun.messages)
} messages, capacity 10, statistics on.
Baseline: the same pipeline hand-written as async functions joined by bounded
async queues (\`bench/_pipeline.ts\`), measured by mitata in the same run.
Figures are mitata's mean time per run turned into messages per second.
weir's statistics cannot be switched off: every message is counted per port
and connection, queue waits and source-to-sink latency go into histograms,
and processing time is sampled (see \`src/engine/network.ts\`).

| runtime | weir msg/s | baseline msg/s | weir / baseline | target | |
|---|---|---|---|---|---|
${rows.join("\n")}

## Pipeline memory

The same pipeline with ${
  fmt(pipeline.bun.memory.messages)
} messages. The heap is read every 10 ms during the run;
every 50 ms after a full collection ("live": what the run keeps, which must
stay bounded by the capacities). "raw" includes garbage not yet collected.
Bun reports JSC's heap size (\`bun:jsc\` heapStats, which moves at its
collections), Deno V8's heapUsed. The msg/s of this run includes the forced
collections.

| runtime | messages | msg/s | heap before (MB) | peak live growth (MB) | peak raw growth (MB) | retained after (MB) | < 20 MB |
|---|---|---|---|---|---|---|---|
${memRows.join("\n")}
`;

if (process.argv.includes("--print")) process.stdout.write(text);
else {
  writeFileSync(join(root, "bench", "RESULTS.md"), text);
  process.stdout.write(text);
}
