/**
 * Which tier of the store a query reads (every selector of one query reads
 * the same tier, so all its parts line up):
 *
 * 1. The query's reach: the earliest time any selector needs, its range or
 *    the lookback delta before its first evaluation time (`offset` and `@`
 *    applied).
 * 2. The finest tier whose retention still holds that time (raw first,
 *    then coarser; `now - retention <= reach`), or that has lost nothing
 *    yet: the history's oldest point (the reader's `oldestTime()`) is
 *    within its retention, so no tier holds anything older (a device
 *    younger than a day answers a query of last week from raw). When none
 *    does, the coarsest tier.
 * 3. Raw samples answer everything. A downsampled tier of resolution R is
 *    used only when it gives Prometheus's answer from its windows:
 *    - every evaluation time minus offset is a multiple of R (start and
 *      step aligned to R, or the `@` time), so each step ends on a window;
 *    - a range selector sits in a function of WINDOW_FUNCTIONS (rate,
 *      increase from the windows' `increase`; sum/count/avg_over_time from
 *      `sum` and `count`; min/max_over_time from `min`/`max`;
 *      last/present/absent_over_time) and its range is a multiple of R;
 *    - an instant selector reads the window's last value;
 *    - no timestamp() of a selector, no range vector as the result.
 *    When the chosen tier cannot answer exactly, the query is refused
 *    (`execution`), naming the part that needs finer data: finer tiers no
 *    longer hold the whole reach, and half an answer would be a wrong one.
 * 4. A tier that would read more than {@linkcode MAX_POINTS} points per
 *    series gives way to the next coarser one when that one answers
 *    exactly by rule 3 (the last 12 h of `rate(x[5m])` at a 1 min step
 *    reads 720 minute windows a series instead of 43,200 raw samples).
 * 5. A query that goes over maxSamples on its tier is evaluated once more
 *    on the next coarser tier that answers it exactly, if there is one
 *    (query.ts): many series over a few hours of raw samples.
 *
 * Window edges: a 2.42 range `[t - range, t]` is closed at both ends, so it
 * also holds the sample at exactly `t - range`; the windows inside the range
 * end after it. Samples sit on the raw interval's grid (weir's sampler snaps
 * them to its tick), so a full window (count = resolution / raw interval)
 * has its last sample exactly at its end: when the window ending at
 * `t - range` is full, its last sample (`value`) is added to
 * count/sum/avg/min/max/last/present_over_time. A window with a gap says
 * nothing about that sample and is left out: then the answer can be one
 * sample short. An increase is the difference between the last samples of
 * two windows, not extrapolated.
 *
 * @module
 */
import type { TierInfo } from "../types.ts";
import {
  type AtModifier,
  DEFAULT_SUBQUERY_STEP_MS,
  type Expr,
  type VectorSelector,
} from "./ast.ts";
import { PromQLError } from "./promql_error.ts";
import { WINDOW_FUNCTIONS } from "./range_functions.ts";

/**
 * Points per series above which a finer tier gives way to a coarser one
 * that answers exactly (Prometheus's own limit on a range query's points
 * per series): the last 12 h at 1 s is 43,200 raw samples a series, at
 * 1 min 720 windows.
 */
export const MAX_POINTS = 11_000;

/** The times a query evaluates at. */
export interface QueryTimes {
  readonly startMs: number;
  readonly endMs: number;
  /** 0 for an instant query. */
  readonly stepMs: number;
  readonly lookbackMs: number;
  /** The present, for retention (ms). */
  readonly nowMs: number;
  /**
   * The oldest point's time in any tier (ms), when known: a tier whose
   * retention reaches back past it has lost nothing, so it answers a
   * query that reaches back further still (with nothing before it).
   */
  readonly oldestMs?: number;
}

interface SelectorUse {
  readonly sel: VectorSelector;
  /** 0 for an instant selector. */
  readonly rangeMs: number;
  /** The function reading a range selector, or why it cannot be read from windows. */
  readonly reader: string | undefined;
  readonly timestamps: boolean;
  /** The grid the selector is evaluated on (the query's, or a subquery's). */
  readonly grid: Grid;
}

interface Grid {
  readonly startMs: number;
  readonly endMs: number;
  /** 0 for one evaluation. */
  readonly stepMs: number;
}

function resolveAt(
  at: AtModifier,
  times: QueryTimes,
): number {
  return at === "start" ? times.startMs : at === "end" ? times.endMs : at;
}

function collect(
  expr: Expr,
  out: SelectorUse[],
  top: boolean,
  grid: Grid,
  times: QueryTimes,
): void {
  switch (expr.type) {
    case "vector":
      out.push({
        sel: expr,
        rangeMs: 0,
        reader: undefined,
        timestamps: false,
        grid,
      });
      return;
    case "matrix":
      out.push({
        sel: expr.selector,
        rangeMs: expr.rangeMs,
        reader: top ? "a range vector result" : undefined,
        timestamps: false,
        grid,
      });
      return;
    case "subquery": {
      // The inner expression runs on the subquery's own grid (as evaluator.ts).
      const interval = expr.stepMs ?? DEFAULT_SUBQUERY_STEP_MS;
      const first =
        (expr.at === undefined ? grid.startMs : resolveAt(expr.at, times)) -
        expr.offsetMs;
      const last =
        (expr.at === undefined ? grid.endMs : resolveAt(expr.at, times)) -
        expr.offsetMs;
      const from = first - expr.rangeMs;
      let start = interval * Math.trunc(from / interval);
      if (start < from) start += interval;
      collect(expr.expr, out, false, {
        startMs: start,
        endMs: last,
        stepMs: interval,
      }, times);
      return;
    }
    case "call":
      for (const arg of expr.args) {
        if (arg.type === "matrix") {
          out.push({
            sel: arg.selector,
            rangeMs: arg.rangeMs,
            reader: expr.func,
            timestamps: false,
            grid,
          });
        } else if (arg.type === "vector" && expr.func === "timestamp") {
          out.push({
            sel: arg,
            rangeMs: 0,
            reader: undefined,
            timestamps: true,
            grid,
          });
        } else collect(arg, out, false, grid, times);
      }
      return;
    case "aggregate":
      collect(expr.expr, out, false, grid, times);
      if (expr.param !== undefined) {
        collect(expr.param, out, false, grid, times);
      }
      return;
    case "binary":
      collect(expr.lhs, out, false, grid, times);
      collect(expr.rhs, out, false, grid, times);
      return;
    case "unary":
      collect(expr.expr, out, false, grid, times);
      return;
    case "paren":
      collect(expr.expr, out, top, grid, times);
      return;
  }
}

function formatMs(ms: number): string {
  for (
    const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], [
      "s",
      1000,
    ]] as const
  ) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Why tier `tier` cannot answer `use` exactly, or undefined when it can. */
function whyNot(
  use: SelectorUse,
  tier: TierInfo,
  times: QueryTimes,
): string | undefined {
  const r = tier.resolutionMs;
  if (use.timestamps) return "timestamp() needs the samples' own times";
  if (use.rangeMs > 0) {
    const reader = use.reader;
    if (reader === undefined || !WINDOW_FUNCTIONS.has(reader)) {
      return `${
        reader === undefined
          ? "a range vector"
          : reader.includes(" ")
          ? reader
          : reader + "()"
      } needs raw samples`;
    }
    if (use.rangeMs % r !== 0) {
      return `the range ${
        formatMs(use.rangeMs)
      } of ${reader}() is not a multiple of ${formatMs(r)}`;
    }
  }
  const sel = use.sel;
  const first = sel.at === undefined
    ? use.grid.startMs
    : resolveAt(sel.at, times);
  const aligned = (first - sel.offsetMs) % r === 0 &&
    (sel.at !== undefined || use.grid.stepMs % r === 0);
  if (!aligned) {
    return `the evaluation times (start, step${
      sel.offsetMs !== 0 ? ", offset" : ""
    }) are not multiples of ${formatMs(r)}`;
  }
  return undefined;
}

/**
 * The index of the tier `expr` reads, by the rules of this module's doc.
 * Throws {@linkcode PromQLError} (`execution`) when no tier that holds the
 * query's reach can answer it exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseQuery } from "./parse.ts";
 * import { chooseTier } from "./tier_choice.ts";
 *
 * const day = 86_400_000;
 * const tiers = [
 *   { name: "raw", resolutionMs: 1000, retentionMs: day },
 *   { name: "1m", resolutionMs: 60_000, retentionMs: 30 * day },
 * ];
 * const now = 100 * day;
 * const times = (startMs: number) => ({ startMs, endMs: now, stepMs: 3_600_000, lookbackMs: 300_000, nowMs: now });
 * const q = parseQuery("sum(rate(x[5m]))");
 * assert.equal(chooseTier(q, tiers, times(now - 3_600_000)), 0);
 * assert.equal(chooseTier(q, tiers, times(now - 7 * day)), 1);
 * ```
 */
export function chooseTier(
  expr: Expr,
  tiers: readonly TierInfo[],
  times: QueryTimes,
): number {
  if (tiers.length <= 1) return 0;
  const uses: SelectorUse[] = [];
  collect(expr, uses, true, times, times);
  if (uses.length === 0) return 0;
  let reach = Infinity;
  for (const use of uses) {
    const sel = use.sel;
    const first = sel.at === undefined
      ? use.grid.startMs
      : resolveAt(sel.at, times);
    reach = Math.min(
      reach,
      first - sel.offsetMs - (use.rangeMs > 0 ? use.rangeMs : times.lookbackMs),
    );
  }
  // A tier holds what the query reads when its retention reaches back to
  // the query's reach, or to the oldest point any tier holds (the history
  // is younger than its retention: a fresh device answers from raw).
  const since = Math.max(reach, times.oldestMs ?? -Infinity);
  let chosen = tiers.findIndex((t) => times.nowMs - t.retentionMs <= since);
  if (chosen < 0) chosen = tiers.length - 1;
  const reasonAt = (index: number): string | undefined => {
    if (index === 0) return undefined;
    for (const use of uses) {
      const reason = whyNot(use, tiers[index], times);
      if (reason !== undefined) return reason;
    }
    return undefined;
  };
  const reason = reasonAt(chosen);
  if (reason !== undefined) {
    throw new PromQLError(
      "execution",
      `Cannot answer the query exactly from the ${tiers[chosen].name} tier (${
        tiers[0].name
      } keeps ${formatMs(tiers[0].retentionMs)}, the query reaches back to ${
        new Date(reach).toISOString()
      }): ${reason}`,
    );
  }
  // A finer tier that would read more than MAX_POINTS points per series
  // gives way to a coarser one that answers exactly.
  let latest = -Infinity;
  for (const use of uses) {
    const sel = use.sel;
    const last = sel.at === undefined
      ? use.grid.endMs
      : resolveAt(sel.at, times);
    latest = Math.max(latest, last - sel.offsetMs);
  }
  const span = latest - reach;
  while (
    chosen + 1 < tiers.length &&
    span / tiers[chosen].resolutionMs > MAX_POINTS &&
    reasonAt(chosen + 1) === undefined
  ) chosen++;
  return chosen;
}

/**
 * The next tier coarser than `after` that answers `expr` exactly (rule 3
 * of this module's doc), or undefined: where a query that would hold too
 * many samples on its tier tries again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseQuery } from "./parse.ts";
 * import { coarserExactTier } from "./tier_choice.ts";
 *
 * const tiers = [
 *   { name: "raw", resolutionMs: 1000, retentionMs: 86_400_000 },
 *   { name: "1m", resolutionMs: 60_000, retentionMs: 30 * 86_400_000 },
 * ];
 * const times = { startMs: 0, endMs: 3_600_000, stepMs: 60_000, lookbackMs: 300_000, nowMs: 3_600_000 };
 * assert.equal(coarserExactTier(parseQuery("rate(x[5m])"), tiers, times, 0), 1);
 * assert.equal(coarserExactTier(parseQuery("irate(x[5m])"), tiers, times, 0), undefined);
 * ```
 */
export function coarserExactTier(
  expr: Expr,
  tiers: readonly TierInfo[],
  times: QueryTimes,
  after: number,
): number | undefined {
  const uses: SelectorUse[] = [];
  collect(expr, uses, true, times, times);
  for (let i = after + 1; i < tiers.length; i++) {
    if (uses.every((use) => whyNot(use, tiers[i], times) === undefined)) {
      return i;
    }
  }
  return undefined;
}
