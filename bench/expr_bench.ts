/**
 * Expressions in graph files (issue 19, section 2): the 5-stage pipeline
 * of the pipeline benchmark with each stage a `flow/Map` of
 * `{"seq": seq, "value": value + 1}`, written in a graph file (.fbp) with
 * the built-in components, side by side in one run with
 *
 * - the same graph with the expressions on the `jsonata` package (the path
 *   every expression took before the compiler; `compile: false`),
 * - the same pipeline of JavaScript components (a component per stage
 *   computing `{ seq, value: value + 1 }`).
 *
 * NoFlo's plain-JavaScript pipeline is measured side by side with this
 * graph (and the JavaScript side) by bench/noflo_bench.ts, which runs
 * `runOnce` from here on Bun and Deno; see "Versus NoFlo (issue 19)" in
 * bench/RESULTS.md.
 *
 * Each side runs in rounds (compiled, package, JavaScript, then the next
 * round), after two warm-up runs each; the table gives the median msg/s of
 * the rounds. Messages per run: 100,000 (compiled and JavaScript), 10,000
 * (package, which is two orders slower). Each run checks that every
 * message arrived with its value increased by 5.
 *
 *   bun bench/expr_bench.ts                 # this runtime
 *   deno run -A bench/expr_bench.ts
 *   bun bench/expr_bench.ts --both          # Bun and Deno, one after the other, one table
 *   bun bench/expr_bench.ts --json          # also one line `RESULT {json}`
 *   bun bench/expr_bench.ts --rounds=7
 *   bun bench/expr_bench.ts --only=compiled # one side (e.g. to profile it)
 *   bun bench/expr_bench.ts --micro         # one evaluation, no engine (ns of CPU)
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type Component, defineComponent } from "../src/engine/component.ts";
import { Network } from "../src/engine/network.ts";
import { Registry } from "../src/engine/registry.ts";
import { builtins } from "../src/components/builtins.ts";
import { FlowMap } from "../src/components/flow.ts";
import { compileExpression } from "../src/expr/compile_expression.ts";
import { buildNetworkSpec } from "../src/graph/build.ts";
import { loadGraph } from "../src/graph/load_graph.ts";
import { median } from "./_measure.ts";
import { runtime } from "./_runtime.ts";

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(flag("rounds") ?? 5);
const json = argv.includes("--json");

/** The graph file: a source, five `flow/Map` stages, a counting sink. */
export const GRAPH = `# @name expr-bench
src(bench/Source) out -> in m1(flow/Map)
m1 out -> in m2(flow/Map)
m2 out -> in m3(flow/Map)
m3 out -> in m4(flow/Map)
m4 out -> in m5(flow/Map)
m5 out -> in sink(bench/Sink)
'{"seq": seq, "value": value + 1}' -> expr m1
'{"seq": seq, "value": value + 1}' -> expr m2
'{"seq": seq, "value": value + 1}' -> expr m3
'{"seq": seq, "value": value + 1}' -> expr m4
'{"seq": seq, "value": value + 1}' -> expr m5
`;

interface Tally {
  n: number;
  count: number;
  sum: number;
}

function benchComponents(tally: Tally): Component[] {
  const source = defineComponent({
    name: "bench/Source",
    description: "Emits { seq, value } for 0..n-1.",
    outPorts: { out: {} },
    async run(ctx) {
      const out = ctx.out.out;
      for (let i = 0; i < tally.n; i++) {
        const wait = out.send({ seq: i, value: i });
        if (wait) await wait;
      }
    },
  });
  const sink = defineComponent({
    name: "bench/Sink",
    description: "Counts and sums the values.",
    inPorts: { in: {} },
    process(v) {
      tally.count++;
      tally.sum += (v as { value: number }).value;
    },
  });
  return [source, sink];
}

/** `flow/Map` with its expressions on the `jsonata` package. */
const packageMap: Component = {
  ...FlowMap,
  inPorts: {
    ...FlowMap.inPorts,
    expr: {
      ...FlowMap.inPorts.expr,
      parse: (v: unknown) => compileExpression(v, { compile: false }),
    },
  },
};

/** The same stage as a JavaScript component. */
const jsMap = defineComponent({
  name: "bench/Inc",
  description: "Sends { seq, value: value + 1 }.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  process(v, ctx) {
    const m = v as { seq: number; value: number };
    ctx.out.out.send({ seq: m.seq, value: m.value + 1 });
  },
});

/** The pipelines compared: the graph's expressions compiled, on the `jsonata` package, or JavaScript components. */
export type Side = "compiled" | "package" | "javascript";

function network(side: Side, tally: Tally): Network {
  const registry = side === "package"
    ? new Registry().register(packageMap)
    : builtins();
  for (const c of benchComponents(tally)) registry.register(c);
  if (side === "javascript") registry.register(jsMap);
  const text = side === "javascript"
    ? GRAPH.replaceAll("(flow/Map)", "(bench/Inc)").split("\n").filter((l) =>
      !l.startsWith("'")
    ).join("\n")
    : GRAPH;
  const spec = buildNetworkSpec(loadGraph(text), registry, { name: "bench" });
  return new Network(spec);
}

/**
 * One run of a side: builds the network from the graph file's text, then
 * times `start()` to `finished`; msg/s of wall time and of the process's
 * CPU time. Throws when a message was lost or changed.
 */
export async function runOnce(
  side: Side,
  n: number,
): Promise<{ wall: number; cpu: number }> {
  const tally: Tally = { n, count: 0, sum: 0 };
  const net = network(side, tally);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await net.start();
  await net.finished;
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const want = (n * (n - 1)) / 2 + 5 * n;
  if (tally.count !== n || tally.sum !== want) {
    throw new Error(
      `Cannot trust the ${side} run: ${tally.count} of ${n} messages, sum ${tally.sum} (want ${want})`,
    );
  }
  return { wall: n / (ms / 1000), cpu: n / ((c.user + c.system) / 1e6) };
}

const SIZES: Record<Side, number> = {
  compiled: 100_000,
  package: 10_000,
  javascript: 100_000,
};

type Figures = Record<Side, number>;

async function measure(): Promise<{ wall: Figures; cpu: Figures }> {
  const only = flag("only") as Side | undefined;
  const sides: Side[] = only !== undefined
    ? [only]
    : ["compiled", "package", "javascript"];
  const wall: Record<Side, number[]> = {
    compiled: [],
    package: [],
    javascript: [],
  };
  const cpu: Record<Side, number[]> = {
    compiled: [],
    package: [],
    javascript: [],
  };
  for (const side of sides) {
    for (let i = 0; i < 2; i++) await runOnce(side, SIZES[side]);
  }
  for (let r = 0; r < rounds; r++) {
    for (const side of sides) {
      const one = await runOnce(side, SIZES[side]);
      wall[side].push(one.wall);
      cpu[side].push(one.cpu);
    }
  }
  const medians = (x: Record<Side, number[]>): Figures => ({
    compiled: x.compiled.length > 0 ? median(x.compiled) : NaN,
    package: x.package.length > 0 ? median(x.package) : NaN,
    javascript: x.javascript.length > 0 ? median(x.javascript) : NaN,
  });
  return { wall: medians(wall), cpu: medians(cpu) };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function row(rt: string, clock: string, r: Figures): string {
  return `| ${rt} | ${clock} | ${fmt(r.compiled)} | ${fmt(r.package)} | ${
    fmt(r.javascript)
  } | ${(r.compiled / r.package).toFixed(1)}x | ${
    (r.compiled / r.javascript).toFixed(2)
  }x |`;
}

const HEADER =
  `| runtime | per second of | compiled expr msg/s | jsonata package msg/s | JavaScript components msg/s | compiled / package | compiled / JavaScript |
|---|---|---|---|---|---|---|`;

function rows(rt: string, r: { wall: Figures; cpu: Figures }): string {
  return `${row(rt, "wall time", r.wall)}\n${row(rt, "CPU time", r.cpu)}`;
}

/** Expressions of the kind flows use, for `--micro`. */
const MICRO = [
  "payload.temp > 30",
  '{"seq": seq, "value": value + 1}',
  "{'t': payload.temp * 2, 'u': $uppercase(payload.unit)}",
  "items[price > 1].name",
  "$sum(items.(price * qty))",
  "$map(items, function($i) { $i.name & ':' & $string($i.qty) })",
];
const MICRO_INPUT = {
  seq: 1,
  value: 2,
  payload: { temp: 31, unit: "c" },
  items: [
    { name: "bolt", price: 2, qty: 10 },
    { name: "nut", price: 1, qty: 0 },
    { name: "gear", price: 12.5, qty: 3 },
  ],
};

/** ns of CPU per evaluation: compiled (best of 5 x 200,000), package (20,000). */
async function micro(): Promise<string> {
  const lines = [
    `| runtime | expression | compiled ns | jsonata package ns | package / compiled |`,
    `|---|---|---|---|---|`,
  ];
  for (const text of MICRO) {
    const fast = compileExpression(text);
    if (!fast.compiled) throw new Error(`not compiled: ${text}`);
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < 200_000; i++) fast.evaluateNow(MICRO_INPUT);
      const c = process.cpuUsage(c0);
      best = Math.min(best, (c.user + c.system) * 1000 / 200_000);
    }
    const slow = compileExpression(text, { compile: false });
    for (let i = 0; i < 2_000; i++) await slow.evaluate(MICRO_INPUT);
    const c0 = process.cpuUsage();
    for (let i = 0; i < 20_000; i++) await slow.evaluate(MICRO_INPUT);
    const c = process.cpuUsage(c0);
    const pkg = (c.user + c.system) * 1000 / 20_000;
    lines.push(
      `| ${runtime()} | \`${text.replaceAll("|", "\\|")}\` | ${
        best.toFixed(0)
      } | ${pkg.toFixed(0)} | ${(pkg / best).toFixed(0)}x |`,
    );
  }
  return lines.join("\n");
}

if (!import.meta.main) {
  // Imported (by bench/noflo_bench.ts) for runOnce: nothing to run.
} else if (argv.includes("--micro")) {
  console.log(await micro());
} else if (argv.includes("--both")) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const self = fileURLToPath(import.meta.url);
  const lines = [HEADER];
  const results: unknown[] = [];
  for (const rt of ["bun", "deno"]) {
    const bin = join(root, "node_modules", ".bin", rt);
    const args = rt === "bun"
      ? [self, "--json", `--rounds=${rounds}`]
      : ["run", "-A", self, "--json", `--rounds=${rounds}`];
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
  if (json) console.log(`RESULT ${JSON.stringify(results)}`);
} else {
  const r = await measure();
  const rt = runtime();
  if (json) {
    console.log(`RESULT ${JSON.stringify({ runtime: rt, rounds, ...r })}`);
  } else console.log(`${HEADER}\n${rows(rt, r)}`);
}
