/**
 * PromQL correctness against the real thing: the same samples go into
 * Prometheus 2.42 (backfilled with `promtool tsdb create-blocks-from
 * openmetrics`) and into weir's history, and every query of the Prometheus
 * project's compliance suite (adapted to weir's names, see
 * _compliance_queries.ts) runs against both HTTP APIs: a range query over
 * 10 minutes at a 10 s step, as the compliance tester runs it, and instant
 * queries at three times (on the step grid, off it, and after the data
 * ends). Results are compared as the compliance project's comparer does:
 * series sorted, values equal within a relative 1e-5, NaN equal to NaN.
 *
 * Each query ends as one of:
 * - agree: every answer matched (or both refused a query that must fail);
 * - unsupported: weir refused it with an error (allowed: never a wrong answer);
 * - wrong: weir answered, and the answer differs (or weir accepted a query
 *   Prometheus refuses).
 * The test fails on any wrong answer not listed in {@linkcode KNOWN_WRONG}
 * (each with its reason, also in bench/RESULTS.md, "PromQL compliance"),
 * and on a listed one that now agrees (so the list stays true).
 *
 * `WEIR_COMPLIANCE_REPORT=FILE` writes every query's outcome there as JSON.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { promisify } from "node:util";
import { serve } from "../../src/runtime/serve.ts";
import { queryRoutes } from "../../src/server/query_routes.ts";
import { HistoryStore } from "../../src/history/store.ts";
import {
  integrationSkip,
  requireTool,
  startPrometheus,
} from "../_prometheus.ts";
import {
  COMPLIANCE_CASES,
  expandCases,
  WEIR_CASES,
} from "./_compliance_queries.ts";
import {
  type GeneratedSeries,
  generateHistory,
  toOpenMetrics,
} from "./_compliance_data.ts";

/**
 * Queries weir is known to answer differently (`pass: query`), with why
 * (bench/RESULTS.md, "PromQL compliance", says more). When one is fixed,
 * the test fails until its line goes.
 */
// The 1m tier's *_over_time answers were one sample short (the sample at
// exactly t-R): the evaluator now adds the last sample of the window ending
// at t-R (helper D, history/promql). `weir_memory_bytes offset -10m` from
// the 1m tier was wrong while the store kept the window ending at the last
// sample open; a sample on a window's end now completes it (helper B).
const KNOWN_WRONG: Readonly<Record<string, string>> = {};

const STEP_MS = 10_000;

/** A query result reduced to what the comparer compares. */
interface Answer {
  resultType: string;
  series: { metric: Record<string, string>; points: [number, number][] }[];
}

type Outcome =
  | { ok: true; answer: Answer }
  | { ok: false; status: number; errorType: string; error: string };

function parseValue(s: string): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return Number(s);
}

function labelKey(m: Record<string, string>): string {
  return JSON.stringify(
    Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

async function ask(
  base: string,
  path: string,
  params: Record<string, string>,
): Promise<Outcome> {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  let body: {
    status?: string;
    errorType?: string;
    error?: string;
    data?: { resultType: string; result: unknown };
  };
  try {
    body = JSON.parse(text);
  } catch {
    return {
      ok: false,
      status: res.status,
      errorType: "no_json",
      error: text.slice(0, 200),
    };
  }
  if (body.status !== "success" || body.data === undefined) {
    return {
      ok: false,
      status: res.status,
      errorType: body.errorType ?? "?",
      error: body.error ?? text.slice(0, 200),
    };
  }
  const { resultType, result } = body.data;
  const series: Answer["series"] = [];
  if (resultType === "matrix") {
    for (
      const r of result as {
        metric: Record<string, string>;
        values: [number, string][];
      }[]
    ) {
      series.push({
        metric: r.metric,
        points: r.values.map(([t, v]) => [t, parseValue(v)]),
      });
    }
  } else if (resultType === "vector") {
    for (
      const r of result as {
        metric: Record<string, string>;
        value: [number, string];
      }[]
    ) {
      series.push({
        metric: r.metric,
        points: [[r.value[0], parseValue(r.value[1])]],
      });
    }
  } else if (resultType === "scalar") {
    const [t, v] = result as [number, string];
    series.push({ metric: {}, points: [[t, parseValue(v)]] });
  } else {
    const [t, v] = result as [number, string];
    series.push({ metric: { string: v }, points: [[t, 0]] });
  }
  series.sort((a, b) => {
    const x = labelKey(a.metric);
    const y = labelKey(b.metric);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return { ok: true, answer: { resultType, series } };
}

/** cmpopts.EquateApprox(1e-5, 0) and EquateNaNs(), as the comparer uses. */
function sameValue(x: number, y: number): boolean {
  if (Number.isNaN(x) || Number.isNaN(y)) {
    return Number.isNaN(x) && Number.isNaN(y);
  }
  if (!Number.isFinite(x) || !Number.isFinite(y)) return x === y;
  return Math.abs(x - y) <= 1e-5 * Math.min(Math.abs(x), Math.abs(y));
}

/** The first difference between two answers, or undefined when they agree. */
function difference(ref: Answer, got: Answer): string | undefined {
  if (ref.resultType !== got.resultType) {
    return `result type ${got.resultType}, Prometheus ${ref.resultType}`;
  }
  const refKeys = ref.series.map((s) => labelKey(s.metric));
  const gotKeys = got.series.map((s) => labelKey(s.metric));
  const missing = refKeys.filter((k) => !gotKeys.includes(k));
  const extra = gotKeys.filter((k) => !refKeys.includes(k));
  if (missing.length > 0 || extra.length > 0) {
    return `series differ (${ref.series.length} in Prometheus, ${got.series.length} in weir): ` +
      `missing ${missing.slice(0, 2).join(" ")}${
        missing.length > 2 ? " ..." : ""
      }; ` +
      `extra ${extra.slice(0, 2).join(" ")}${extra.length > 2 ? " ..." : ""}`;
  }
  for (let i = 0; i < ref.series.length; i++) {
    const a = ref.series[i].points;
    const b = got.series[i].points;
    const name = gotKeys[i];
    if (a.length !== b.length) {
      return `${name}: ${b.length} points, Prometheus ${a.length} ` +
        `(weir ${b[0]?.[0]}..${b.at(-1)?.[0]}, Prometheus ${a[0]?.[0]}..${
          a.at(-1)?.[0]
        })`;
    }
    for (let j = 0; j < a.length; j++) {
      if (a[j][0] !== b[j][0]) {
        return `${name}: point ${j} at ${b[j][0]}, Prometheus ${a[j][0]}`;
      }
      if (!sameValue(a[j][1], b[j][1])) {
        return `${name} at ${a[j][0]}: ${b[j][1]}, Prometheus ${a[j][1]}`;
      }
    }
  }
  return undefined;
}

/** What happened to one query. */
interface QueryReport {
  query: string;
  /** The compliance project's list, or weir's additions. */
  source: "compliance" | "weir";
  /** Which pass: `raw`, or `1m tier`. */
  pass: string;
  outcome: "agree" | "unsupported" | "wrong" | "reference_failed";
  detail: string;
  /** Series and points in Prometheus's answers (all evaluations): a query that agrees on nothing proves little. */
  referenceSeries: number;
  referencePoints: number;
}

function judge(
  what: string,
  shouldFail: boolean,
  ref: Outcome,
  got: Outcome,
): { outcome: QueryReport["outcome"]; detail: string } {
  if (ref.ok === shouldFail) {
    return {
      outcome: "reference_failed",
      detail: `${what}: Prometheus ${
        ref.ok ? "succeeded" : `failed: ${ref.error}`
      }`,
    };
  }
  if (shouldFail) {
    return got.ok
      ? {
        outcome: "wrong",
        detail: `${what}: weir accepted a query Prometheus refuses`,
      }
      : { outcome: "agree", detail: "" };
  }
  if (!got.ok) {
    return {
      outcome: "unsupported",
      detail: `${what}: ${got.status} ${got.errorType}: ${got.error}`,
    };
  }
  const diff = difference((ref as { answer: Answer }).answer, got.answer);
  return diff === undefined
    ? { outcome: "agree", detail: "" }
    : { outcome: "wrong", detail: `${what}: ${diff}` };
}

const RANK = {
  agree: 0,
  unsupported: 1,
  wrong: 2,
  reference_failed: 3,
} as const;

/**
 * Loads the generated series into weir's store (memory only). `rawMs`
 * shortens the raw tier's retention, so that the evaluator must read
 * older times from the 1-minute tier's window aggregates.
 */
async function load(
  series: readonly GeneratedSeries[],
  rawMs?: number,
): Promise<HistoryStore> {
  const store = await HistoryStore.open({
    intervalMs: 5000,
    ...(rawMs === undefined ? {} : {
      tiers: [
        { name: "raw", resolutionMs: 5000, retentionMs: rawMs },
        { name: "1m", resolutionMs: 60_000, retentionMs: 30 * 86_400_000 },
        { name: "1h", resolutionMs: 3_600_000, retentionMs: 730 * 86_400_000 },
      ],
    }),
  });
  for (const s of series) {
    const ref = store.seriesRef(s.labels, s.kind);
    for (const [t, v] of s.samples) store.append(ref, t, v);
  }
  return store;
}

/** One comparison: a data set in Prometheus and in weir, and the times to ask at. */
interface Pass {
  /** `raw`, or `1m tier`. */
  name: string;
  /** The instances' sampling phases (see generateHistory). */
  phasesMs: number[];
  /** The raw tier's retention (default: the store's, a day). */
  rawRetentionMs?: number;
  /** The last sample's time is a multiple of this (ms): 60000, so that runs repeat. */
  alignMs: number;
  /** The query times, from the data's last sample time. */
  times(dataEnd: number): {
    start: number;
    end: number;
    step: number;
    instants: number[];
  };
}

type Case = ReturnType<typeof expandCases>[number] & {
  source: "compliance" | "weir";
};

/** Runs every case against Prometheus and weir, as one pass says. */
async function runPass(
  pass: Pass,
  cases: readonly Case[],
): Promise<QueryReport[]> {
  const promtool = requireTool("promtool");
  const dir = await mkdtemp(join(tmpdir(), "weir-compliance-"));
  let store: HistoryStore | undefined;
  try {
    // Samples end two minutes ago (Prometheus keeps them), on the minute:
    // the data depend on times relative to the end only, so every run asks
    // the same questions of the same samples (but for time() and dates).
    const dataEnd = Math.floor((Date.now() - 120_000) / pass.alignMs) *
      pass.alignMs;
    const series = generateHistory({ endMs: dataEnd, phasesMs: pass.phasesMs });
    const om = join(dir, "history.om");
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
    store = await load(series, pass.rawRetentionMs);
    const server = await serve(queryRoutes(store).fetch, { port: 0 });
    const { start, end, step, instants } = pass.times(dataEnd);
    const reports: QueryReport[] = [];
    try {
      for (const c of cases) {
        const asks: [string, string, Record<string, string>][] = [
          [`range`, "/api/v1/query_range", {
            query: c.query,
            start: String(start / 1000),
            end: String(end / 1000),
            step: String(step / 1000),
          }],
          ...instants.map((t): [string, string, Record<string, string>] => [
            `instant at ${t / 1000}`,
            "/api/v1/query",
            { query: c.query, time: String(t / 1000) },
          ]),
        ];
        let worst: { outcome: QueryReport["outcome"]; detail: string } = {
          outcome: "agree",
          detail: "",
        };
        let referenceSeries = 0;
        let referencePoints = 0;
        for (const [what, path, params] of asks) {
          const ref = await ask(prometheus.url, path, params);
          const got = await ask(server.url, path, params);
          if (ref.ok) {
            referenceSeries += ref.answer.series.length;
            for (const s of ref.answer.series) {
              referencePoints += s.points.length;
            }
          }
          const j = judge(what, c.shouldFail, ref, got);
          if (RANK[j.outcome] > RANK[worst.outcome]) worst = j;
        }
        reports.push({
          query: c.query,
          source: c.source,
          pass: pass.name,
          ...worst,
          referenceSeries,
          referencePoints,
        });
      }
    } finally {
      await server.close();
    }
    return reports;
  } finally {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const PASSES: Pass[] = [
  {
    // The compliance tester's window: 10 minutes at a 10 s step, ending 10
    // minutes before the data does; instants on the grid, off it, and
    // after the data. One instance on the sampling grid, two off it.
    name: "raw",
    phasesMs: [0, 1234, 2500],
    alignMs: 60_000,
    times: (dataEnd) => {
      const end = dataEnd - 600_000;
      return {
        start: end - 600_000,
        end,
        step: STEP_MS,
        instants: [end, end - 123_457, dataEnd + 60_000],
      };
    },
  },
  {
    // The raw tier keeps 15 minutes, so these times (on the minute, a
    // 1 min step, 30 minutes ending 10 minutes before the data) read the
    // 1-minute tier's window aggregates. Samples on the grid, as weir's
    // sampler writes them (the store's contract: times snapped).
    name: "1m tier",
    phasesMs: [0, 0, 0],
    // The data ends on the minute, so `offset -10m` reaches its last sample.
    alignMs: 60_000,
    rawRetentionMs: 15 * 60_000,
    times: (dataEnd) => {
      const end = Math.floor((dataEnd - 600_000) / 60_000) * 60_000;
      return {
        start: end - 1_800_000,
        end,
        step: 60_000,
        instants: [end, end - 300_000],
      };
    },
  },
];

test(
  "PromQL compliance: weir answers the compliance queries as Prometheus 2.42 does, or refuses them",
  {
    skip: integrationSkip("prometheus") || integrationSkip("promtool"),
    timeout: 900_000,
  },
  async () => {
    const cases: Case[] = [
      ...expandCases(COMPLIANCE_CASES).map((c) => ({
        ...c,
        source: "compliance" as const,
      })),
      ...expandCases(WEIR_CASES).map((c) => ({
        ...c,
        source: "weir" as const,
      })),
    ];
    const reports: QueryReport[] = [];
    for (const pass of PASSES) reports.push(...await runPass(pass, cases));

    for (const pass of PASSES) {
      for (const source of ["compliance", "weir"] as const) {
        const mine = reports.filter((r) =>
          r.source === source && r.pass === pass.name
        );
        const count = (o: QueryReport["outcome"]) =>
          mine.filter((r) => r.outcome === o).length;
        const agree = count("agree");
        console.log(
          `PromQL ${
            source === "compliance" ? "compliance" : "weir's additions"
          } (${pass.name}): ${agree} of ${mine.length} queries agree with ` +
            `Prometheus 2.42 (${(100 * agree / mine.length).toFixed(1)}%); ` +
            `${count("unsupported")} refused with an error; ` +
            `${count("wrong")} wrong; ${
              count("reference_failed")
            } reference failures`,
        );
      }
    }
    const empty = reports.filter((r) =>
      r.outcome === "agree" && r.referencePoints === 0
    );
    console.log(
      `PromQL compliance: ${empty.length} agreeing answers are empty in Prometheus ` +
        `(${
          reports.reduce((n, r) => n + r.referencePoints, 0)
        } points compared in all)`,
    );
    const file = process.env.WEIR_COMPLIANCE_REPORT;
    if (file) await writeFile(file, JSON.stringify(reports, null, 1) + "\n");

    assert.deepEqual(
      reports.filter((r) => r.outcome === "reference_failed"),
      [],
    );
    const key = (r: QueryReport) => `${r.pass}: ${r.query}`;
    const wrong = reports.filter((r) => r.outcome === "wrong");
    assert.deepEqual(
      wrong.filter((r) => !(key(r) in KNOWN_WRONG)).map((r) =>
        `${key(r)}: ${r.detail}`
      ),
      [],
      "weir gave wrong answers",
    );
    const fixed = Object.keys(KNOWN_WRONG).filter((k) =>
      reports.find((r) => key(r) === k)?.outcome !== "wrong"
    );
    assert.deepEqual(
      fixed,
      [],
      "queries listed in KNOWN_WRONG are no longer wrong",
    );
  },
);
