/**
 * Data shaping (issue 16): what a `flow/Switch` of 3 rules costs per
 * message, against a `flow/Filter` of one JSONata expression, in one run,
 * each in a graph file (.fbp) of the built-in components:
 *
 *   source -> stage -> counting sinks
 *
 * - `filter`: `flow/Filter` with `temp > 30` (out and rejected);
 * - `switch-path`: `flow/Switch` on the property `temp` (a path) with
 *   rules `>` 30, `between` [10, 30], `else`, to out[0..2];
 * - `switch-jsonata`: `flow/Switch` with 3 `jsonata` rules (`temp > 30`,
 *   `temp >= 10 and temp <= 30`, `true`), mode first;
 * - `change`: `flow/Change` setting a field from an expression and
 *   deleting one (a copy per message);
 * - `window`: `flow/Window` of count windows of 100 by key (2 keys).
 *
 * Messages are `{seq, temp, site}` with temp = seq % 50. Each side runs in
 * rounds (every side, then the next round) after two warm-up runs each;
 * the table gives the median msg/s of the rounds (wall time) and the
 * ratio to `filter`. Each run checks that every message arrived once.
 *
 *   bun bench/shaping_bench.ts              # this runtime
 *   deno run -A bench/shaping_bench.ts
 *   bun bench/shaping_bench.ts --both       # Bun and Deno, one table
 *   bun bench/shaping_bench.ts --rounds=7 --n=200000
 *   bun bench/shaping_bench.ts --json       # also one line `RESULT {json}`
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type Component, defineComponent } from "../src/engine/component.ts";
import { Network } from "../src/engine/network.ts";
import { builtins } from "../src/components/builtins.ts";
import { buildNetworkSpec } from "../src/graph/build.ts";
import { loadGraph } from "../src/graph/load_graph.ts";
import { loadAverage, median } from "./_measure.ts";
import { runtime } from "./_runtime.ts";

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(flag("rounds") ?? 5);
const N = Number(flag("n") ?? 100_000);
const json = argv.includes("--json");

/** The sides compared, in table order. */
const SIDES = {
  filter: `'temp > 30' -> expr S(flow/Filter)
S out -> in A(bench/Sink)
S rejected -> in B(bench/Sink)`,
  "switch-path":
    `'[{"op": ">", "value": 30}, {"op": "between", "value": [10, 30]}, {"op": "else"}]' -> rules S(flow/Switch)
'temp' -> property S
S out[0] -> in A(bench/Sink)
S out[1] -> in B(bench/Sink)
S out[2] -> in C(bench/Sink)`,
  "switch-jsonata":
    `'[{"op": "jsonata", "value": "temp > 30"}, {"op": "jsonata", "value": "temp >= 10 and temp <= 30"}, {"op": "jsonata", "value": "true"}]' -> rules S(flow/Switch)
'first' -> mode S
S out[0] -> in A(bench/Sink)
S out[1] -> in B(bench/Sink)
S out[2] -> in C(bench/Sink)`,
  change:
    `'[{"op": "set", "path": "hot", "expr": "temp > 30"}, {"op": "delete", "path": "site"}]' -> rules S(flow/Change)
S out -> in A(bench/Sink)`,
  window: `'100' -> window S(flow/Window)
'site' -> key S
'temp' -> value S
S out -> in A(bench/Sink)`,
} as const;

type Side = keyof typeof SIDES;

interface Tally {
  n: number;
  count: number;
}

function benchComponents(tally: Tally): Component[] {
  return [
    defineComponent({
      name: "bench/Source",
      description: "Emits { seq, temp, site } for 0..n-1.",
      outPorts: { out: {} },
      async run(ctx) {
        const out = ctx.out.out;
        for (let i = 0; i < tally.n; i++) {
          const wait = out.send({
            seq: i,
            temp: i % 50,
            site: i & 1 ? "a" : "b",
          });
          if (wait) await wait;
        }
      },
    }),
    defineComponent({
      name: "bench/Sink",
      description: "Counts messages (a window counts its messages).",
      inPorts: { in: {} },
      process(v) {
        const w = v as { mean?: number; count?: number };
        tally.count += w.mean !== undefined ? w.count! : 1;
      },
    }),
  ];
}

/** One run of a side: msg/s of wall time from start() to finished. */
async function runOnce(side: Side, n: number): Promise<number> {
  const tally: Tally = { n, count: 0 };
  const registry = builtins();
  for (const c of benchComponents(tally)) registry.register(c);
  const text = `Src(bench/Source) out -> in S\n${SIDES[side]}`;
  const net = new Network(
    buildNetworkSpec(loadGraph(text), registry, { name: "bench" }),
  );
  const t0 = performance.now();
  await net.start();
  await net.finished;
  const ms = performance.now() - t0;
  if (tally.count !== n) {
    throw new Error(
      `Cannot trust the ${side} run: ${tally.count} of ${n} messages arrived`,
    );
  }
  return n / (ms / 1000);
}

async function measure(): Promise<Record<Side, number>> {
  const sides = Object.keys(SIDES) as Side[];
  const runs = Object.fromEntries(sides.map((s) => [s, [] as number[]]));
  for (const side of sides) {
    for (let i = 0; i < 2; i++) await runOnce(side, N);
  }
  for (let r = 0; r < rounds; r++) {
    for (const side of sides) runs[side].push(await runOnce(side, N));
  }
  return Object.fromEntries(
    sides.map((s) => [s, median(runs[s])]),
  ) as Record<Side, number>;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

const HEADER = `| runtime | ${
  Object.keys(SIDES).map((s) => `${s} msg/s`).join(" | ")
} | switch-path / filter | switch-jsonata / filter |
|${"---|".repeat(Object.keys(SIDES).length + 3)}`;

function row(rt: string, r: Record<Side, number>): string {
  return `| ${rt} | ${
    (Object.keys(SIDES) as Side[]).map((s) => fmt(r[s])).join(" | ")
  } | ${(r["switch-path"] / r.filter).toFixed(2)}x | ${
    (r["switch-jsonata"] / r.filter).toFixed(2)
  }x |`;
}

if (argv.includes("--both")) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const self = fileURLToPath(import.meta.url);
  const lines = [HEADER];
  const results: unknown[] = [];
  const pass = [`--rounds=${rounds}`, `--n=${N}`, "--json"];
  for (const rt of ["bun", "deno"]) {
    const bin = join(root, "node_modules", ".bin", rt);
    const args = rt === "bun" ? [self, ...pass] : ["run", "-A", self, ...pass];
    const out = spawnSync(bin, args, { encoding: "utf8" });
    const line = out.stdout.split("\n").find((l) => l.startsWith("RESULT "));
    if (line === undefined) {
      throw new Error(`Cannot run the ${rt} side: ${out.stderr || out.stdout}`);
    }
    const result = JSON.parse(line.slice(7));
    results.push(result);
    lines.push(row(result.runtime, result.msgPerSecond));
  }
  console.log(lines.join("\n"));
  console.log(`load average: ${loadAverage().join(" ")}`);
  if (json) console.log(`RESULT ${JSON.stringify(results)}`);
} else {
  const r = await measure();
  const rt = runtime();
  if (json) {
    console.log(
      `RESULT ${
        JSON.stringify({ runtime: rt, rounds, n: N, msgPerSecond: r })
      }`,
    );
  } else {
    console.log(`${HEADER}\n${row(rt, r)}`);
    console.log(`load average: ${loadAverage().join(" ")}`);
  }
}
