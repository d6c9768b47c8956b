// @ts-check
/**
 * NoFlo's side of `bench/noflo_bench.ts`: NoFlo 1.5's 5-stage pipeline of
 * plain JavaScript components, the shape of weir's pipeline benchmarks
 * (bench/_pipeline.ts, bench/expr_bench.ts): a source that sends N
 * messages `{ seq, value }`, five stages that each send
 * `{ seq, value: value + 1 }`, a sink that counts them and sums the values.
 *
 * Plain JavaScript (with JSDoc types) rather than TypeScript because NoFlo's
 * home is Node.js and Node 20 does not run TypeScript; Bun and Deno run
 * this file too.
 *
 * The components are written as NoFlo documents them (noflojs.org,
 * "Component API"; node_modules/noflo/lib/Component.d.ts): `new
 * noflo.Component({ inPorts, outPorts })` with a `process(input, output)`
 * handler that takes `input.getData("in")` and answers with
 * `output.sendDone(...)`. The `--style=asComponent` variant wraps the same
 * plain function with `noflo.asComponent` instead. Components are
 * registered on one `ComponentLoader` (`registerComponent`, after its
 * `listComponents()`), the graph is built with `noflo.graph.Graph`
 * (`addNode`, `addEdge`, `addInitial`) and run with `noflo.createNetwork`
 * (`delay: true`, then `connect()` and `start()`). NoFlo has no back
 * pressure: the source sends its N messages in one loop, each reaching the
 * sink before the next is sent (NoFlo's sockets deliver synchronously).
 *
 *   node bench/_noflo_pipeline.mjs [--n=100000] [--warmup=3] [--runs=5] [--style=process|asComponent]
 *   bun bench/_noflo_pipeline.mjs ...
 *   deno run -A bench/_noflo_pipeline.mjs ...
 *
 * Prints one line `RESULT {json}`: msg/s of wall time and of the process's
 * CPU time for each measured run (after the warm-up runs). Every run checks
 * that every message arrived with its value increased by 5.
 *
 * @module
 */
import process from "node:process";
import * as noflo from "noflo";

const argv = process.argv.slice(2);
/** @param {string} name */
const flag = (name) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const N = Number(flag("n") ?? 100_000);
const WARMUP = Number(flag("warmup") ?? 3);
const RUNS = Number(flag("runs") ?? 5);
const STYLE = flag("style") ?? "process";
const STAGES = 5;

/** @typedef {{ seq: number, value: number }} Msg */

/** What the sink saw in the current run; reset before each run. */
const tally = {
  count: 0,
  sum: 0,
  want: 0,
  /** @type {() => void} */
  done: () => {},
};

/** The source: on its `n` IIP, sends `{ seq: i, value: i }` for 0..n-1. */
function Source() {
  const c = new noflo.Component({
    description: "Sends { seq, value } for 0..n-1",
    inPorts: { n: { datatype: "int" } },
    outPorts: { out: { datatype: "object" } },
  });
  return c.process((input, output) => {
    if (!input.hasData("n")) return;
    const n = /** @type {number} */ (input.getData("n"));
    for (let i = 0; i < n; i++) output.send({ out: { seq: i, value: i } });
    output.done();
  });
}

/** A stage, as NoFlo documents components: `{ seq, value: value + 1 }`. */
function Inc() {
  const c = new noflo.Component({
    description: "Sends { seq, value: value + 1 }",
    inPorts: { in: { datatype: "object" } },
    outPorts: { out: { datatype: "object" } },
  });
  return c.process((input, output) => {
    if (!input.hasData("in")) return;
    const m = /** @type {Msg} */ (input.getData("in"));
    output.sendDone({ out: { seq: m.seq, value: m.value + 1 } });
  });
}

/**
 * The same stage as a plain function turned into a component by
 * `noflo.asComponent` (its in-port is the parameter's name).
 * @param {Msg} m
 * @returns {Msg}
 */
function inc(m) {
  return { seq: m.seq, value: m.value + 1 };
}

/** The sink: counts and sums; resolves the run at the N-th message. */
function Sink() {
  const c = new noflo.Component({
    description: "Counts and sums the values",
    inPorts: { in: { datatype: "object" } },
  });
  return c.process((input, output) => {
    if (!input.hasData("in")) return;
    const m = /** @type {Msg} */ (input.getData("in"));
    tally.count++;
    tally.sum += m.value;
    output.done();
    if (tally.count === tally.want) tally.done();
  });
}

const loader = new noflo.ComponentLoader(process.cwd());
await loader.listComponents();
/**
 * @param {string} name
 * @param {() => noflo.Component} factory
 */
function register(name, factory) {
  return new Promise((resolve, reject) =>
    loader.registerComponent(
      "bench",
      name,
      factory,
      (err) => err ? reject(err) : resolve(undefined),
    )
  );
}
await register("Source", Source);
await register(
  "Inc",
  STYLE === "asComponent" ? () => noflo.asComponent(inc, {}) : Inc,
);
await register("Sink", Sink);
const incPort = STYLE === "asComponent" ? "m" : "in";

/** The graph: src -> m1 -> ... -> m5 -> sink, and the IIP n -> src. */
function graph(/** @type {number} */ n) {
  const g = new noflo.Graph("noflo-bench");
  g.addNode("src", "bench/Source");
  let prev = "src";
  for (let i = 1; i <= STAGES; i++) {
    g.addNode(`m${i}`, "bench/Inc");
    g.addEdge(prev, "out", `m${i}`, incPort);
    prev = `m${i}`;
  }
  g.addNode("sink", "bench/Sink");
  g.addEdge(prev, "out", "sink", "in");
  g.addInitial(n, "src", "n");
  return g;
}

/**
 * One run: builds and wires the network (not timed), then times from
 * `start()` to the sink's N-th message.
 * @param {number} n
 */
async function runOnce(n) {
  const network = await noflo.createNetwork(graph(n), {
    componentLoader: loader,
    baseDir: process.cwd(),
    delay: true,
  });
  await network.connect();
  tally.count = 0;
  tally.sum = 0;
  tally.want = n;
  /** @type {Promise<void>} */
  const arrived = new Promise((resolve) => (tally.done = resolve));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await network.start();
  await arrived;
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  await network.stop();
  const want = (n * (n - 1)) / 2 + STAGES * n;
  if (tally.count !== n || tally.sum !== want) {
    throw new Error(
      `Cannot trust the NoFlo run: ${tally.count} of ${n} messages, sum ${tally.sum} (want ${want})`,
    );
  }
  return { wall: n / (ms / 1000), cpu: n / ((c.user + c.system) / 1e6) };
}

for (let i = 0; i < WARMUP; i++) await runOnce(N);
const wall = [];
const cpu = [];
for (let i = 0; i < RUNS; i++) {
  const one = await runOnce(N);
  wall.push(one.wall);
  cpu.push(one.cpu);
}
console.log(
  `RESULT ${JSON.stringify({ style: STYLE, n: N, wall, cpu })}`,
);
