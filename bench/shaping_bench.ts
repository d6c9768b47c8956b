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
 * the table gives the median msg/s of the rounds, of wall time and of the
 * process's CPU time (steadier on a loaded machine), and the ratios to
 * `filter`. Each run checks that every message arrived once. `--micro`
 * times each stage's `process()` alone, in a loop (ns of CPU a message).
 *
 *   bun bench/shaping_bench.ts              # this runtime
 *   deno run -A bench/shaping_bench.ts
 *   bun bench/shaping_bench.ts --both       # Bun and Deno, one table
 *   bun bench/shaping_bench.ts --rounds=7 --n=200000
 *   bun bench/shaping_bench.ts --json       # also one line `RESULT {json}`
 *   bun bench/shaping_bench.ts --micro      # each stage's process() in a loop, no engine (ns of CPU)
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

/** msg/s of wall time and of the process's CPU time. */
interface Rate {
  wall: number;
  cpu: number;
}

/** One run of a side: msg/s from start() to finished. */
async function runOnce(side: Side, n: number): Promise<Rate> {
  const tally: Tally = { n, count: 0 };
  const registry = builtins();
  for (const c of benchComponents(tally)) registry.register(c);
  const text = `Src(bench/Source) out -> in S\n${SIDES[side]}`;
  const net = new Network(
    buildNetworkSpec(loadGraph(text), registry, { name: "bench" }),
  );
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await net.start();
  await net.finished;
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (tally.count !== n) {
    throw new Error(
      `Cannot trust the ${side} run: ${tally.count} of ${n} messages arrived`,
    );
  }
  return { wall: n / (ms / 1000), cpu: n / ((c.user + c.system) / 1e6) };
}

type Figures = Record<Side, number>;

async function measure(): Promise<{ wall: Figures; cpu: Figures }> {
  const sides = Object.keys(SIDES) as Side[];
  const runs = Object.fromEntries(sides.map((s) => [s, [] as Rate[]]));
  for (const side of sides) {
    for (let i = 0; i < 2; i++) await runOnce(side, N);
  }
  for (let r = 0; r < rounds; r++) {
    for (const side of sides) runs[side].push(await runOnce(side, N));
  }
  const of = (k: keyof Rate) =>
    Object.fromEntries(
      sides.map((s) => [s, median(runs[s].map((x) => x[k]))]),
    ) as Figures;
  return { wall: of("wall"), cpu: of("cpu") };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

const HEADER = `| runtime | per second of | ${
  Object.keys(SIDES).map((s) => `${s} msg/s`).join(" | ")
} | switch-path / filter | switch-jsonata / filter |
|${"---|".repeat(Object.keys(SIDES).length + 4)}`;

function row(rt: string, clock: string, r: Figures): string {
  return `| ${rt} | ${clock} | ${
    (Object.keys(SIDES) as Side[]).map((s) => fmt(r[s])).join(" | ")
  } | ${(r["switch-path"] / r.filter).toFixed(2)}x | ${
    (r["switch-jsonata"] / r.filter).toFixed(2)
  }x |`;
}

function rows(rt: string, r: { wall: Figures; cpu: Figures }): string {
  return `${row(rt, "wall time", r.wall)}\n${row(rt, "CPU time", r.cpu)}`;
}

/**
 * ns of CPU per message of each stage's `process`, called in a loop with
 * a context whose sends do nothing (no engine): best of 5 x 200,000.
 */
function micro(): string {
  const registry = builtins();
  const lines = [
    "| runtime | stage | ns per message (CPU) | / filter |",
    "|---|---|---|---|",
  ];
  const results: [Side, number][] = [];
  for (const side of Object.keys(SIDES) as Side[]) {
    const graph = loadGraph(`Src(core/Repeat) out -> in S\n${SIDES[side]}`);
    const proc = graph.processes!["S"];
    const component = registry.get(proc.component)!;
    const controls: Record<string, unknown> = {};
    for (const [port, spec] of Object.entries(component.inPorts)) {
      if (spec.control) controls[port] = spec.default;
    }
    for (const c of graph.connections!) {
      if (c.data === undefined || c.tgt.process !== "S") continue;
      const spec = component.inPorts[c.tgt.port];
      controls[c.tgt.port] = spec.parse ? spec.parse(c.data) : c.data;
    }
    const out = { send: () => undefined, connected: true, width: 1 };
    const ctx = {
      process: "S",
      network: "bench",
      port: "in",
      index: -1,
      out: new Proxy({}, { get: () => out }),
      send: () => undefined,
      control: (port: string) => controls[port],
      state: undefined as unknown,
      signal: new AbortController().signal,
      metadata: {},
      meter: () => ({ value: 0, add() {}, set() {} }),
    } as unknown as Parameters<NonNullable<typeof component.process>>[1];
    if (component.setup) ctx.state = component.setup(ctx);
    const msgs = Array.from(
      { length: 1000 },
      (_, i) => ({ seq: i, temp: i % 50, site: i & 1 ? "a" : "b" }),
    );
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < 200_000; i++) {
        component.process!(msgs[i % 1000], ctx);
      }
      const c = process.cpuUsage(c0);
      best = Math.min(best, (c.user + c.system) * 1000 / 200_000);
    }
    component.teardown?.(ctx);
    results.push([side, best]);
  }
  const filter = results[0][1];
  for (const [side, ns] of results) {
    lines.push(
      `| ${runtime()} | ${side} | ${ns.toFixed(0)} | ${
        (ns / filter).toFixed(2)
      }x |`,
    );
  }
  return lines.join("\n");
}

if (argv.includes("--micro")) {
  console.log(micro());
  console.log(`load average: ${loadAverage().join(" ")}`);
} else if (argv.includes("--both")) {
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
    lines.push(rows(result.runtime, result));
  }
  console.log(lines.join("\n"));
  console.log(`load average: ${loadAverage().join(" ")}`);
  if (json) console.log(`RESULT ${JSON.stringify(results)}`);
} else {
  const r = await measure();
  const rt = runtime();
  if (json) {
    console.log(
      `RESULT ${JSON.stringify({ runtime: rt, rounds, n: N, ...r })}`,
    );
  } else {
    console.log(`${HEADER}\n${rows(rt, r)}`);
    console.log(`load average: ${loadAverage().join(" ")}`);
  }
}
