/**
 * The stall watchdog (issue 18): how long after an event-loop stall begins
 * its log line is written, and how long the flow that caused it takes to
 * be failed, on Deno and on Bun. Each sample is a fresh process of
 * `tests/flows/_stall_fixture.ts` (a flow manager with the watchdog and
 * one flow whose process busy-waits `--block` ms); the fixture prints when
 * the block began, the watchdog's worker writes its JSON line (with its
 * time) while the block still runs.
 *
 *   bun bench/stall_bench.ts                     # threshold 2000 ms, block 3000 ms, 3 samples each
 *   bun bench/stall_bench.ts --threshold=500 --block=1500 --samples=5
 *
 * Prints, per runtime, each sample's "stall start to log line" (ms; the
 * design promises the threshold counted from the last heartbeat, which
 * came up to one interval, threshold/8 at most 100 ms, before the block,
 * plus up to one interval of the worker's polling) and the median, the
 * duration the flow's reason gives, and the load average. The
 * cost of the current-activation marker on the engine's hot path is
 * measured side by side against a base without it:
 * `bun bench/versus.ts --same-process --base=<commit before it>`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { loadAverage, median } from "./_measure.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURE = join(ROOT, "tests", "flows", "_stall_fixture.ts");
const BIN = join(ROOT, "node_modules", ".bin");

function arg(name: string, fallback: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : Number(a.slice(name.length + 3));
}

const threshold = arg("threshold", 2000);
const block = arg("block", 3000);
const samples = arg("samples", 3);

console.log(
  `stall watchdog: threshold ${threshold} ms, block ${block} ms, ${samples} samples per runtime; load ${
    loadAverage().join(" ")
  }`,
);
for (
  const [name, cmd] of [
    ["bun", [join(BIN, "bun"), FIXTURE]],
    ["deno", [join(BIN, "deno"), "run", "-A", FIXTURE]],
  ] as const
) {
  const toLine: number[] = [];
  for (let i = 0; i < samples; i++) {
    const r = spawnSync(cmd[0], [
      ...cmd.slice(1),
      String(block),
      String(threshold),
    ], {
      cwd: ROOT,
      encoding: "utf8",
    });
    const start = Number(/^START (\d+)$/m.exec(r.stdout)?.[1]);
    const line = r.stderr.split("\n").find((l) =>
      l.includes('"watchdog":true')
    );
    const info = JSON.parse(/^INFO (.*)$/m.exec(r.stdout)?.[1] ?? "{}");
    if (line === undefined || !Number.isFinite(start)) {
      throw new Error(`${name}: no watchdog line:\n${r.stdout}\n${r.stderr}`);
    }
    const ms = Date.parse(JSON.parse(line).time) - start;
    toLine.push(ms);
    console.log(
      `${name} sample ${
        i + 1
      }: stall start to log line ${ms} ms; flow ${info.state}: ${info.error}`,
    );
  }
  console.log(
    `${name}: stall start to log line, median ${
      median(toLine)
    } ms (threshold ${threshold} ms)`,
  );
}
