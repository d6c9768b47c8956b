/**
 * The 1 h raw query of issue 14 (part 3 of `history_bench.ts`) side by
 * side with a baseline: this tree's store and evaluator against another
 * tree's (an older commit's `src`, unpacked into a folder), the same
 * samples ingested into each, the queries alternating A B A B in one
 * process. Prints each side's cold (first) query and the median of the
 * others, wall and CPU time (`process.cpuUsage()`, less disturbed than
 * wall time on a shared machine), the ratio, whether both sides give the
 * same answer (the result's JSON), and the load average.
 *
 * Run (the baseline of issue 14's query work is d3bd513):
 *
 *     mkdir -p /tmp/weir_base && git archive d3bd513 src | tar -x -C /tmp/weir_base
 *     ln -sfn "$PWD/node_modules" /tmp/weir_base/node_modules
 *     bun bench/history_query_ab.ts --baseline=/tmp/weir_base
 *     deno run -A bench/history_query_ab.ts --baseline=/tmp/weir_base
 *
 * `--runs=N` (default 9) queries per side. `--query=30d`: the 30-day
 * query from the minute tier instead (about a minute of ingest a side for
 * 1,000 series). `--disk`: each store written to a temporary folder,
 * closed and opened again before the queries, so every sealed chunk is
 * read from its segment files (what `weir serve` does after a restart;
 * with `--query=30d` the default is then 100 series: 1,000 would be
 * about 320 MB of minute segments a side). `--series=N` sets the count.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "./_measure.ts";
import { runtime } from "./_runtime.ts";

type StoreModule = typeof import("../src/history/store.ts");
type QueryModule = typeof import("../src/history/promql/mod.ts");

const argv: string[] = globalThis.process?.argv ?? [];
const arg = (name: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const baseline = arg("baseline");
const runs = Number(arg("runs") ?? 9);
const which = arg("query") ?? "1h";
const disk = argv.includes("--disk");
const SERIES = Number(arg("series") ?? (which === "30d" && disk ? 100 : 1000));
if (
  baseline === undefined || !(runs >= 2) || !["1h", "30d"].includes(which) ||
  !(SERIES >= 1)
) {
  throw new RangeError(
    `Cannot run: give --baseline=DIR (a folder holding an older src/), --runs of at least 2, --query=1h or 30d and --series of at least 1, received ${baseline}, ${runs}, ${which} and ${SERIES}`,
  );
}

const QUERY = "sum by (process) (rate(weir_process_messages_total[1m]))";
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = 1_700_000_000_000;
const END = T0 - (T0 % HOUR) + HOUR;

/** CPU time of this process (ms). */
function cpuMs(): number {
  const u = globalThis.process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Side {
  name: string;
  query: () => string;
  wall: number[];
  cpu: number[];
  answer: string;
}

/**
 * A store of one side with history_bench.ts's samples: 1 h (and a
 * minute) of counters at 1 s, or 30 days (and an hour) at one sample a
 * minute; with `--disk`, written to a folder, closed and opened again
 * (what `weir serve` reads after a restart: every sealed chunk on disk).
 */
async function side(name: string, root: string): Promise<Side> {
  const { HistoryStore } = await import(
    `${root}/history/store.ts`
  ) as StoreModule;
  const { queryRange } = await import(
    `${root}/history/promql/mod.ts`
  ) as QueryModule;
  const dir = disk ? mkdtempSync(join(tmpdir(), "weir-query-ab-")) : undefined;
  const options = {
    dir,
    now: () => END,
    flushIntervalMs: 0,
    maxDiskBytes: 4 * 1024 ** 3,
    ...(which === "30d" && !disk ? { memoryChunks: 800 } : {}),
  };
  let store = await HistoryStore.open(options);
  const refs: number[] = [];
  for (let s = 0; s < SERIES; s++) {
    refs.push(store.seriesRef({
      __name__: "weir_process_messages_total",
      flow: `flow${String(Math.floor(s / 10)).padStart(3, "0")}`,
      process: `P${s % 10}`,
    }, "counter"));
  }
  const acc = new Float64Array(SERIES);
  if (which === "1h") {
    for (let t = END - HOUR - 60_000; t <= END; t += 1000) {
      for (let s = 0; s < SERIES; s++) {
        store.append(refs[s], t, acc[s] += 20 + ((t / 1000 + s) % 5));
      }
    }
  } else {
    let k = 0;
    for (let t = END - 30 * DAY - HOUR; t <= END; t += 60_000) {
      for (let s = 0; s < SERIES; s++) {
        store.append(refs[s], t, acc[s] += 1200 + ((t / 60_000 + s) % 50));
      }
      if (disk && ++k % 600 === 0) await store.flush();
    }
  }
  if (disk) {
    await store.close();
    store = await HistoryStore.open(options);
    const opened = store;
    globalThis.process?.on("exit", () => {
      opened.close().catch(() => {});
      rmSync(dir!, { recursive: true, force: true });
    });
  }
  const query = () =>
    JSON.stringify(
      which === "1h"
        ? queryRange(store, QUERY, END - HOUR, END, 15_000, { nowMs: END })
        : queryRange(store, QUERY, END - 30 * DAY, END, HOUR, {
          nowMs: END,
          tier: "1m",
        }),
    );
  return { name, query, wall: [], cpu: [], answer: "" };
}

const sides = [
  await side("baseline", `${baseline}/src`),
  await side("this tree", new URL("../src", import.meta.url).pathname),
];
for (let r = 0; r < runs; r++) {
  // Who goes first alternates: neither always meets a warmer machine.
  for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
    const c0 = cpuMs();
    const w0 = performance.now();
    s.answer = s.query();
    s.wall.push(performance.now() - w0);
    s.cpu.push(cpuMs() - c0);
  }
}
const f = (x: number) => x.toFixed(1);
console.log(
  `${runtime()}: ${QUERY}, ${
    which === "1h" ? "1 h at 15 s (raw)" : "30 d at 1 h (1m tier)"
  }, ${SERIES} series, ${disk ? "on disk (reopened)" : "in memory"}`,
);
for (const s of sides) {
  console.log(
    `${s.name}: cold ${f(s.wall[0])} ms (CPU ${f(s.cpu[0])}), median ${
      f(median(s.wall.slice(1)))
    } ms (CPU ${f(median(s.cpu.slice(1)))}); wall ${
      s.wall.map((x) => x.toFixed(0)).join(" ")
    }`,
  );
}
const [a, b] = sides;
console.log(
  `ratio baseline/this tree: cold ${f(a.wall[0] / b.wall[0])}x (CPU ${
    f(a.cpu[0] / b.cpu[0])
  }x), median ${f(median(a.wall.slice(1)) / median(b.wall.slice(1)))}x (CPU ${
    f(median(a.cpu.slice(1)) / median(b.cpu.slice(1)))
  }x); same answer: ${a.answer === b.answer}; load ${
    loadavg().map((l) => l.toFixed(2)).join(" ")
  }`,
);
globalThis.process?.exit(0);
