/**
 * The bytes budget per flow (issue 18): one flow whose source sends 600
 * buffers of 200 KB (120 MB) into a connection of capacity 100,000 ahead
 * of a sink that takes one per macrotask, run with a budget of 8 MiB and
 * without one, each in a fresh process (so one run's garbage does not
 * count in the other's RSS). Prints, per run, the peak of the estimated
 * bytes buffered, the peak RSS over the start, the time, and whether every
 * buffer arrived.
 *
 *   bun bench/bytes_budget_bench.ts
 *   deno run -A bench/bytes_budget_bench.ts
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { defineComponent } from "../src/engine/component.ts";
import { Network } from "../src/engine/network.ts";
import { loadAverage } from "./_measure.ts";

const MiB = 2 ** 20;
const N = 600;
const SIZE = 200_000;

async function once(budget: number | undefined): Promise<string> {
  let got = 0;
  const net = new Network({
    name: "big",
    processes: [
      {
        name: "Src",
        component: defineComponent({
          name: "bench/Big",
          description: "Sends big buffers.",
          outPorts: { out: {} },
          async run(ctx) {
            for (let i = 0; i < N && !ctx.signal.aborted; i++) {
              await ctx.send("out", new Uint8Array(SIZE).fill(i & 255));
            }
          },
        }),
      },
      {
        name: "Sink",
        component: defineComponent({
          name: "bench/Slow",
          description: "Takes one per macrotask.",
          inPorts: { in: {} },
          async process(v) {
            got += (v as Uint8Array).byteLength;
            await new Promise((r) => setTimeout(r, 0));
          },
        }),
      },
    ],
    connections: [{
      from: { process: "Src", port: "out" },
      to: { process: "Sink", port: "in" },
      capacity: 100_000,
    }],
  }, budget === undefined ? {} : { bytesBudget: budget });
  const rss0 = process.memoryUsage().rss;
  let maxRss = rss0;
  let maxBuffered = 0;
  const watch = setInterval(() => {
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
    maxBuffered = Math.max(maxBuffered, net.bufferedBytes);
  }, 2);
  const t0 = performance.now();
  await net.start();
  await net.finished;
  clearInterval(watch);
  return `budget ${
    budget === undefined ? "none" : `${budget / MiB} MiB`
  }: peak buffered ${(maxBuffered / MiB).toFixed(1)} MiB, peak RSS +${
    ((maxRss - rss0) / MiB).toFixed(0)
  } MiB, ${(performance.now() - t0).toFixed(0)} ms, delivered ${
    got === N * SIZE ? "all" : `${got} of ${N * SIZE} bytes`
  }`;
}

const mode = process.argv.find((a) => a.startsWith("--run="));
if (mode !== undefined) {
  const v = mode.slice(6);
  console.log(await once(v === "none" ? undefined : Number(v)));
} else {
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
  const self = new URL(import.meta.url).pathname;
  const cmd = isDeno
    ? [process.execPath, "run", "-A", self]
    : [process.execPath, self];
  console.log(
    `${isDeno ? "deno" : "bun"}: ${N} x ${
      SIZE / 1000
    } KB through one slow sink; load ${loadAverage().join(" ")}`,
  );
  for (const run of [String(8 * MiB), "none", String(8 * MiB), "none"]) {
    const r = spawnSync(cmd[0], [...cmd.slice(1), `--run=${run}`], {
      encoding: "utf8",
    });
    process.stdout.write(r.stdout || r.stderr);
  }
}
