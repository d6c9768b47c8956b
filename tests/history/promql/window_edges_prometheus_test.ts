/**
 * The minute tier's answers where a series starts, stops, has a gap or
 * restarts inside a range, against a real Prometheus 2.42 over the same
 * samples (backfilled with `promtool tsdb create-blocks-from openmetrics`,
 * as compliance_test.ts does): every step of `rate`, `increase` and the
 * `*_over_time` functions is asked of both, weir reading the minute
 * tier's windows. An answer must equal Prometheus's (within the compliance
 * comparer's relative 1e-5) or be refused with an `execution` error; the
 * steps at the series' edges must mostly be answered.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { PromQLError } from "../../../src/history/promql/promql_error.ts";
import { queryInstant, queryRange } from "../../../src/history/promql/query.ts";
import { HistoryStore } from "../../../src/history/store.ts";
import {
  integrationSkip,
  requireTool,
  startPrometheus,
} from "../../_prometheus.ts";
import { type GeneratedSeries, toOpenMetrics } from "../_compliance_data.ts";

const SEC = 1000;
const MIN = 60 * SEC;
const INTERVAL = 5 * SEC;

/**
 * Series over two hours ending at `end` (a minute), sampled every 5 s on
 * the grid, each with a start, stop or gap that falls inside a minute
 * window (offsets in seconds from the first minute).
 */
function edgeSeries(end: number): GeneratedSeries[] {
  const first = end - 120 * MIN;
  const times = (from: number, to: number) => {
    const out: number[] = [];
    for (let t = first + from * SEC; t <= first + to * SEC; t += INTERVAL) {
      out.push(t);
    }
    return out;
  };
  const out: GeneratedSeries[] = [];
  const counter = (
    name: string,
    runs: [number, number][],
    reset: boolean,
  ) => {
    let x = 7;
    const samples: [number, number][] = [];
    runs.forEach(([from, to], k) => {
      if (k > 0 && reset) x = 0;
      for (const t of times(from, to)) {
        samples.push([t, x]);
        x += 1 + ((t / INTERVAL) % 3);
      }
    });
    out.push({
      family: name,
      type: "counter",
      kind: "counter",
      labels: { __name__: `${name}_total` },
      samples,
    });
    out.push({
      family: `${name}_level`,
      type: "gauge",
      kind: "gauge",
      labels: { __name__: `${name}_level` },
      samples: samples.map(([t]) => [t, (t / INTERVAL) % 17]),
    });
  };
  // Starts 25 s into a minute, runs to the end.
  counter("starts", [[1825, 7200]], false);
  // Runs from the start, stops 35 s into a minute.
  counter("stops", [[0, 3635]], false);
  // A gap from 20 s into one minute to 40 s into another, counting on.
  counter("gap", [[0, 2420], [3040, 7200]], false);
  // Stops 15 s into a minute, comes back 45 s into another from 0.
  counter("restart", [[0, 2715], [3345, 7200]], true);
  // Starts on a minute's first slot, stops on one's last.
  counter("aligned", [[2405, 5400]], false);
  return out;
}

const FUNCTIONS = [
  "rate(%[10m])",
  "increase(%[30m])",
  "count_over_time(%[10m])",
  "sum_over_time(%[10m])",
  "avg_over_time(%[10m])",
  "min_over_time(%[10m])",
  "max_over_time(%[10m])",
  "last_over_time(%[10m])",
  "present_over_time(%[10m])",
];

const NAMES = ["starts", "stops", "gap", "restart", "aligned"];

function sameValue(x: number, y: number): boolean {
  if (Number.isNaN(x) || Number.isNaN(y)) {
    return Number.isNaN(x) && Number.isNaN(y);
  }
  return Math.abs(x - y) <= 1e-5 * Math.min(Math.abs(x), Math.abs(y));
}

async function promInstant(
  url: string,
  query: string,
  t: number,
): Promise<number | undefined> {
  const res = await fetch(
    `${url}/api/v1/query?query=${encodeURIComponent(query)}&time=${t / 1000}`,
  );
  const body = await res.json() as {
    status: string;
    data: { result: { value: [number, string] }[] };
  };
  assert.equal(body.status, "success", query);
  const r = body.data.result;
  assert.ok(r.length <= 1, query);
  return r.length === 0 ? undefined : Number(r[0].value[1]);
}

test(
  "the minute tier's rate, increase and *_over_time agree with Prometheus 2.42 where series start, stop, pause and restart inside a range, or are refused",
  {
    skip: integrationSkip("prometheus") || integrationSkip("promtool"),
    timeout: 600_000,
  },
  async () => {
    const promtool = requireTool("promtool");
    const dir = await mkdtemp(join(tmpdir(), "weir-window-edges-"));
    const store = await HistoryStore.open({
      intervalMs: INTERVAL,
      tiers: [
        { name: "raw", resolutionMs: INTERVAL, retentionMs: 86_400_000 },
        { name: "1m", resolutionMs: MIN, retentionMs: 30 * 86_400_000 },
      ],
    });
    try {
      const end = Math.floor((Date.now() - 5 * MIN) / MIN) * MIN;
      const series = edgeSeries(end);
      const om = join(dir, "edges.om");
      await writeFile(om, toOpenMetrics(series));
      const tsdb = join(dir, "tsdb");
      await promisify(execFile)(promtool, [
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        om,
        tsdb,
      ]);
      await using prometheus = await startPrometheus({
        targets: [],
        storagePath: tsdb,
      });
      for (const s of series) {
        const ref = store.seriesRef(s.labels, s.kind);
        for (const [t, v] of s.samples) store.append(ref, t, v);
      }
      // A flush closes the last window of a series that stopped.
      await store.flush();
      const first = end - 120 * MIN;
      const opts = { tier: "1m", nowMs: end };
      const wrong: string[] = [];
      let agree = 0;
      let refused = 0;
      let bothEmpty = 0;
      const refusals = new Map<string, number>();
      for (const name of NAMES) {
        for (const f of FUNCTIONS) {
          const metric = f.startsWith("rate") || f.startsWith("increase")
            ? `${name}_total`
            : `${name}_level`;
          const q = f.replace("%", metric);
          for (let t = first + 5 * MIN; t <= end; t += MIN) {
            const want = await promInstant(prometheus.url, q, t);
            let got: number | undefined;
            try {
              const r = queryInstant(store, q, t, opts);
              assert.equal(r.resultType, "vector");
              got = r.result[0]?.value[1];
            } catch (error) {
              assert.ok(error instanceof PromQLError, String(error));
              assert.equal(error.type, "execution");
              refused++;
              const key = `${name} ${f.split("(")[0]}`;
              refusals.set(key, (refusals.get(key) ?? 0) + 1);
              continue;
            }
            if (want === undefined && got === undefined) bothEmpty++;
            else if (
              want !== undefined && got !== undefined && sameValue(want, got)
            ) agree++;
            else {
              wrong.push(
                `${q} at ${
                  (t - first) / 1000
                } s: weir ${got}, Prometheus ${want}`,
              );
            }
          }
          // The range query (one sweep a series) says the same, or is refused.
          try {
            const r = queryRange(store, q, first + 5 * MIN, end, MIN, opts);
            assert.equal(r.resultType, "matrix");
            for (const [t, v] of r.result[0]?.values ?? []) {
              const want = await promInstant(prometheus.url, q, t);
              if (want === undefined || !sameValue(want, v)) {
                wrong.push(`range ${q} at ${(t - first) / 1000} s: ${v}`);
              }
            }
          } catch (error) {
            assert.ok(error instanceof PromQLError, String(error));
          }
        }
      }
      console.log(
        `window edges: ${agree} steps agree with Prometheus 2.42, ${bothEmpty} empty in both, ${refused} refused, ${wrong.length} wrong; refused: ${
          JSON.stringify(Object.fromEntries(refusals))
        }`,
      );
      assert.deepEqual(wrong, []);
      // Most steps are answered: the refusals are the steps whose range
      // starts or ends in a window a series starts or stops in.
      assert.ok(refused < (agree + refused) / 10, `${refused} refused`);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
