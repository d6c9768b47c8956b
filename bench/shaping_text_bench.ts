/**
 * Data shaping on text (issue 16): msg/s of `csv/Parse` line by line and of
 * `text/Template`, each side by side in one run with a baseline of the
 * same shape:
 *
 * - `csv/Parse` (`mode` lines, `cast` on; a header line, then rows of
 *   `time,sensor,temp,ok`) against `json/Parse` of the same rows as JSON
 *   lines (what a flow does when its input is JSON already);
 * - `text/Template` (`'{{time}} {{sensor}}: {{temp}} C'`, escape none)
 *   against a JavaScript component building the same text by string
 *   concatenation.
 *
 * Two levels, both in every run: `network` is a source -> the component ->
 * a counting sink, through the engine (the msg/s a flow gets), and `call`
 * calls the component's process function in a loop with a minimal context
 * (the component's own cost, no engine). Each side runs in rounds (A, B,
 * A, B, ...) after a warm-up; the table gives the median msg/s of the
 * rounds and the ratio to the baseline. Every network run checks that every
 * message arrived and that the outputs are right.
 *
 *   bun bench/shaping_text_bench.ts
 *   deno run -A bench/shaping_text_bench.ts
 *   bun bench/shaping_text_bench.ts --rounds=7 --n=200000
 *   bun bench/shaping_text_bench.ts --json     # also one line `RESULT {json}`
 *
 * @module
 */
import process from "node:process";
import assert from "node:assert/strict";
import {
  type Component,
  type Context,
  defineComponent,
  type OutPort,
} from "../src/engine/component.ts";
import { ProcessMeters } from "../src/engine/meters.ts";
import { Network } from "../src/engine/network.ts";
import { CsvParse } from "../src/components/csv.ts";
import { JsonParse } from "../src/components/json.ts";
import { TextTemplate } from "../src/components/text.ts";
import { loadAverage, median } from "./_measure.ts";
import { runtime } from "./_runtime.ts";

const argv = process.argv.slice(2);
const flag = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(flag("rounds") ?? 5);
const n = Number(flag("n") ?? 100_000);
const json = argv.includes("--json");

const SENSORS = ["north", "south", "east", "west"];
/** Row `i` of the data set. */
function row(i: number) {
  return {
    time: 1_700_000_000 + i,
    sensor: SENSORS[i % 4],
    temp: 20 + (i % 50) / 10,
    ok: i % 3 !== 0,
  };
}
const ROWS = Array.from({ length: n }, (_, i) => row(i));
const CSV_LINES = [
  "time,sensor,temp,ok",
  ...ROWS.map((r) => `${r.time},${r.sensor},${r.temp},${r.ok}`),
];
const JSON_LINES = ROWS.map((r) => JSON.stringify(r));
const TEMPLATE = "{{time}} {{sensor}}: {{temp}} C";
const expectText = (r: ReturnType<typeof row>) =>
  `${r.time} ${r.sensor}: ${r.temp} C`;

/** The baseline of text/Template: the same text by concatenation. */
const Concat: Component = defineComponent({
  name: "bench/Concat",
  description: "Builds the template's text by string concatenation.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  process(value, ctx) {
    const r = value as ReturnType<typeof row>;
    return ctx.send("out", r.time + " " + r.sensor + ": " + r.temp + " C");
  },
});

function source(values: readonly unknown[]): Component {
  return defineComponent({
    name: "bench/Source",
    description: "Sends the values, waiting for room.",
    outPorts: { out: {} },
    async run(ctx) {
      for (const v of values) {
        const sent = ctx.send("out", v);
        if (sent !== undefined) await sent;
      }
    },
  });
}

/** msg/s of source -> component -> sink; `check` sees every output. */
async function network(
  component: Component,
  values: readonly unknown[],
  iips: Record<string, unknown>,
  expected: number,
  check: (last: unknown, count: number) => void,
): Promise<number> {
  let count = 0;
  let last: unknown;
  const sink = defineComponent({
    name: "bench/Count",
    description: "Counts.",
    inPorts: { in: {} },
    process(v) {
      count++;
      last = v;
    },
  });
  const net = new Network({
    name: "bench",
    processes: [
      { name: "S", component: source(values) },
      { name: "P", component },
      { name: "K", component: sink },
    ],
    connections: [
      { from: { process: "S", port: "out" }, to: { process: "P", port: "in" } },
      { from: { process: "P", port: "out" }, to: { process: "K", port: "in" } },
    ],
    initials: Object.entries(iips).map(([port, data]) => ({
      data,
      to: { process: "P", port },
    })),
  });
  const errors: unknown[] = [];
  net.on("error", (e) => errors.push(e));
  const t0 = performance.now();
  await net.start();
  await net.finished;
  const s = (performance.now() - t0) / 1000;
  assert.deepEqual(errors, []);
  assert.equal(count, expected);
  check(last, count);
  return expected / s;
}

/** A context for calling a process function directly. */
function callContext(
  component: Component,
  controls: Record<string, unknown>,
  onSend: (v: unknown) => void,
): Context<unknown> {
  const values: Record<string, unknown> = {};
  for (const [port, spec] of Object.entries(component.inPorts)) {
    if (!spec.control) continue;
    values[port] = port in controls
      ? (spec.parse ? spec.parse(controls[port]) : controls[port])
      : spec.default;
  }
  const out: Record<string, OutPort> = {};
  for (const port of Object.keys(component.outPorts)) {
    out[port] = {
      send: (v) => {
        onSend(v);
      },
      connected: true,
      width: 1,
    };
  }
  const meters = new ProcessMeters(component.name, component.meters);
  const ctx: Context<unknown> = {
    process: "P",
    network: "bench",
    port: "in",
    index: -1,
    out,
    send: (port, value) => out[port].send(value),
    control: <T>(port: string) => values[port] as T,
    state: undefined,
    signal: new AbortController().signal,
    metadata: {},
    input: () => {
      throw new Error("no inputs");
    },
    receive: () => Promise.reject(new Error("no inputs")),
    meter: (name, labels) => meters.meter(name, labels),
    report: (error) => {
      throw error;
    },
  };
  if (component.setup) ctx.state = component.setup(ctx);
  return ctx;
}

/** msg/s of calling `component`'s process on each value, no engine. */
function call(
  component: Component,
  values: readonly unknown[],
  controls: Record<string, unknown>,
): number {
  let sink: unknown;
  const ctx = callContext(component, controls, (v) => {
    sink = v;
  });
  const t0 = performance.now();
  for (const v of values) component.process!(v, ctx);
  const s = (performance.now() - t0) / 1000;
  if (sink === undefined) throw new Error("nothing was sent");
  return values.length / s;
}

const CSV_IIPS = { mode: "lines", cast: true };
const checkRow = (last: unknown, count: number) =>
  assert.deepEqual(last, row(count - 1));

type Side = { name: string; run: () => number | Promise<number> };
const SIDES: Side[] = [
  {
    name: "csv/Parse lines, network",
    run: () => network(CsvParse, CSV_LINES, CSV_IIPS, n, checkRow),
  },
  {
    name: "json/Parse lines, network (baseline)",
    run: () => network(JsonParse, JSON_LINES, {}, n, checkRow),
  },
  {
    name: "text/Template, network",
    run: () =>
      network(
        TextTemplate,
        ROWS,
        { template: TEMPLATE },
        n,
        (last, c) => assert.equal(last, expectText(row(c - 1))),
      ),
  },
  {
    name: "string concat, network (baseline)",
    run: () =>
      network(
        Concat,
        ROWS,
        {},
        n,
        (last, c) => assert.equal(last, expectText(row(c - 1))),
      ),
  },
  {
    name: "csv/Parse lines, call",
    run: () => call(CsvParse, CSV_LINES, CSV_IIPS),
  },
  {
    name: "JSON.parse, call (baseline)",
    run: () => call(JsonParse, JSON_LINES, {}),
  },
  {
    name: "text/Template, call",
    run: () => call(TextTemplate, ROWS, { template: TEMPLATE }),
  },
  { name: "string concat, call (baseline)", run: () => call(Concat, ROWS, {}) },
];

const rates: Record<string, number[]> = {};
for (const side of SIDES) await side.run(); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const side of SIDES) (rates[side.name] ??= []).push(await side.run());
}
const result: Record<string, number> = {};
for (const side of SIDES) {
  result[side.name] = Math.round(median(rates[side.name]));
}

const pairs: [string, string][] = [
  ["csv/Parse lines, network", "json/Parse lines, network (baseline)"],
  ["text/Template, network", "string concat, network (baseline)"],
  ["csv/Parse lines, call", "JSON.parse, call (baseline)"],
  ["text/Template, call", "string concat, call (baseline)"],
];
console.log(
  `shaping_text_bench on ${runtime()}: ${n} messages per run, median of ${rounds} rounds; load ${
    loadAverage().join(" ")
  }`,
);
console.log("| side | msg/s | vs baseline |");
console.log("|---|---:|---:|");
for (const [a, b] of pairs) {
  console.log(
    `| ${a} | ${result[a].toLocaleString("en-US")} | ${
      (result[a] / result[b]).toFixed(2)
    }x |`,
  );
  console.log(`| ${b} | ${result[b].toLocaleString("en-US")} | 1.00x |`);
}
if (json) {
  console.log(
    `RESULT ${JSON.stringify({ runtime: runtime(), n, rounds, result })}`,
  );
}
