/**
 * PromQL evaluation speed over an in-memory reader (the evaluator alone;
 * bench/history_bench.ts measures the same queries through the real store):
 *
 * - `sum by (process) (rate(weir_process_messages_total[1m]))` over 1 h at
 *   a 15 s step, 1,000 raw series sampled every 1 s (target <= 50 ms);
 * - the same over 30 days at a 1 h step from the minute tier (windows with
 *   `increase`), 1,000 series (target <= 50 ms).
 *
 *   bun bench/promql_bench.ts [--json]
 *   deno run -A bench/promql_bench.ts [--json]
 *
 * @module
 */
import process from "node:process";
import { queryRange } from "../src/history/promql/mod.ts";
import type {
  HistoryReader,
  LabelMatcher,
  SeriesPoints,
  TierInfo,
} from "../src/history/types.ts";
import { median } from "./_measure.ts";

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** A reader over prepared columns; select() slices by time like a store. */
class ColumnsReader implements HistoryReader {
  readonly tiers: readonly TierInfo[] = [
    { name: "raw", resolutionMs: SEC, retentionMs: DAY },
    { name: "1m", resolutionMs: MIN, retentionMs: 30 * DAY + HOUR },
  ];
  readonly data: SeriesPoints[][] = [[], []];
  select(
    _m: readonly LabelMatcher[],
    start: number,
    end: number,
    tier: number,
  ): SeriesPoints[] {
    return this.data[tier].map((p) => {
      const lo = lowerBound(p.t, start);
      const hi = lowerBound(p.t, end + 1);
      const cut = (a: Float64Array | undefined) => a?.subarray(lo, hi);
      return {
        ...p,
        t: p.t.subarray(lo, hi),
        value: p.value.subarray(lo, hi),
        increase: cut(p.increase),
      };
    });
  }
  /** Only the points within each step's reach, as a store could: one pass per series. */
  selectSteps(
    _m: readonly LabelMatcher[],
    ends: Float64Array,
    reachMs: number,
    tier: number,
  ): SeriesPoints[] {
    return this.data[tier].map((p) => {
      const t = p.t;
      const from = new Int32Array(ends.length);
      const to = new Int32Array(ends.length);
      let total = 0;
      let at = 0;
      for (let k = 0; k < ends.length; k++) {
        let lo = Math.max(at, lowerBound(t, ends[k] - reachMs, at));
        const hi = lowerBound(t, ends[k] + 1, lo);
        if (lo > hi) lo = hi;
        from[k] = lo;
        to[k] = hi;
        total += hi - lo;
        at = hi;
      }
      const pick = (a: Float64Array | undefined) => {
        if (a === undefined) return undefined;
        const out = new Float64Array(total);
        let j = 0;
        for (let k = 0; k < ends.length; k++) {
          for (let i = from[k]; i < to[k]; i++) out[j++] = a[i];
        }
        return out;
      };
      return {
        labels: p.labels,
        kind: p.kind,
        t: pick(t)!,
        value: pick(p.value)!,
        increase: pick(p.increase),
      };
    });
  }
  series() {
    return [];
  }
  labelNames() {
    return [];
  }
  labelValues() {
    return [];
  }
}

/** The first index `>= from` with `t >= x`: galloping, then bisecting. */
function lowerBound(t: Float64Array, x: number, from = 0): number {
  let lo = from;
  let step = 1;
  let hi = from;
  while (hi < t.length && t[hi] < x) {
    lo = hi + 1;
    hi = lo + step;
    step *= 2;
  }
  if (hi > t.length) hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function labels(i: number) {
  return {
    __name__: "weir_process_messages_total",
    flow: `f${Math.floor(i / 10)}`,
    process: `p${i % 10}`,
    port: "out",
  };
}

/**
 * Median wall time and median CPU time (user + system) of `runs` runs.
 * CPU time is the figure to read on a shared machine: it does not count
 * the time other processes held the core.
 */
function measure(
  name: string,
  run: () => unknown,
  runs: number,
): { name: string; ms: number; cpuMs: number } {
  for (let i = 0; i < 3; i++) run();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return {
    name,
    ms: Number(median(times).toFixed(2)),
    cpuMs: Number(median(cpu).toFixed(2)),
  };
}

const now = 40 * DAY;
const reader = new ColumnsReader();

// 1,000 raw series at 1 s over the last 1 h + 1 min.
const rawStart = now - HOUR - MIN;
const n = (now - rawStart) / SEC + 1;
for (let s = 0; s < 1000; s++) {
  const t = new Float64Array(n);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = rawStart + i * SEC;
    value[i] = i * (1 + (s % 7));
  }
  reader.data[0].push({ labels: labels(s), kind: "counter", t, value });
}

// 1,000 series of minute windows over 30 days + 1 h. The series share
// their time column and one of 7 value columns: 1,000 separate copies
// would hold 1 GB in this in-memory reader (a store decodes chunks instead).
const winStart = now - 30 * DAY - HOUR;
const w = (now - winStart) / MIN + 1;
const winT = new Float64Array(w);
for (let i = 0; i < w; i++) winT[i] = winStart + i * MIN;
const columns = Array.from({ length: 7 }, (_, k) => ({
  value: winT.map((_, i) => i * 60 * (1 + k)),
  increase: new Float64Array(w).fill(60 * (1 + k)),
}));
for (let s = 0; s < 1000; s++) {
  const { value, increase } = columns[s % 7];
  reader.data[1].push({
    labels: labels(s),
    kind: "counter",
    t: winT,
    value,
    increase,
  });
}

const query = "sum by (process) (rate(weir_process_messages_total[1m]))";
const results = [
  measure(
    "1 h at 15 s, 1,000 raw series",
    () => queryRange(reader, query, now - HOUR, now, 15 * SEC, { nowMs: now }),
    30,
  ),
  measure(
    "30 d at 1 h, minute tier, 1,000 series",
    () => queryRange(reader, query, now - 30 * DAY, now, HOUR, { nowMs: now }),
    30,
  ),
];
const check = queryRange(reader, query, now - HOUR, now, 15 * SEC, {
  nowMs: now,
});
if (check.resultType !== "matrix" || check.result.length !== 10) {
  throw new Error("unexpected result shape");
}
if (process.argv.includes("--json")) {
  console.log("RESULT " + JSON.stringify({ promql: results }));
} else {for (const r of results) {
    console.log(`${r.name}: ${r.ms} ms wall, ${r.cpuMs} ms CPU (medians)`);
  }}
