/**
 * The ranges of the history's charts and how a range query is planned
 * (step, alignment to the tiers, the rate window): plain TypeScript, no
 * DOM, tested on Deno and Bun.
 *
 * @module
 */
import { ApiError } from "./api_error.ts";

const DAY = 86_400;

/** A range of the selector. */
export interface RangeChoice {
  label: string;
  seconds: number;
}

/** The ranges offered, up to the longest default retention (hours: 730 days). */
export const RANGES: readonly RangeChoice[] = [
  { label: "5m", seconds: 300 },
  { label: "15m", seconds: 900 },
  { label: "1h", seconds: 3600 },
  { label: "6h", seconds: 6 * 3600 },
  { label: "1d", seconds: DAY },
  { label: "7d", seconds: 7 * DAY },
  { label: "30d", seconds: 30 * DAY },
  { label: "1y", seconds: 365 * DAY },
  { label: "2y", seconds: 730 * DAY },
];

/** The times of a range query and the `[w]` of its rates. */
export interface RangePlan {
  start: number;
  end: number;
  step: number;
  /** The rate window, as PromQL text ("60s"). */
  window: string;
}

/**
 * Plans a range query: at most one point per 2 pixels, at least 1 s apart.
 * The history keeps raw samples a day and minute windows 30 days (by
 * default): a range reaching past one of these is answered from a
 * downsampled tier, which refuses unaligned queries, so from 1 day on the
 * step and the rate window are whole minutes and from 30 days whole hours
 * (or whole `minUnit` seconds, for a server that keeps its tiers for less),
 * with start and end on multiples of that unit. The end is the last whole
 * unit, not the last whole step: a year at a 15 h step still shows the
 * last hour.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const week = planRange(7 * 86400, 800, 1_700_000_000);
 * assert.equal(week.step, 1560); // 26 min: a point per 2 px
 * assert.equal(week.window, "1560s");
 * assert.equal(week.end, 1_699_999_980); // the last whole minute
 * assert.equal((week.end - week.start) % week.step, 0);
 * ```
 */
export function planRange(
  rangeSec: number,
  widthPx: number,
  nowSec: number,
  minUnit = 0,
): RangePlan {
  const points = Math.max(1, Math.floor(widthPx / 2));
  let step = Math.max(1, Math.ceil(rangeSec / points));
  let w = Math.max(step, 4);
  const unit = Math.max(
    minUnit,
    rangeSec >= 30 * DAY ? 3600 : rangeSec >= DAY ? 60 : 0,
  );
  if (unit === 0) {
    const end = Math.floor(nowSec);
    return { start: end - rangeSec, end, step, window: `${w}s` };
  }
  step = Math.ceil(step / unit) * unit;
  w = Math.ceil(w / unit) * unit;
  const end = Math.floor(nowSec / unit) * unit;
  const start = end - Math.ceil(rangeSec / step) * step;
  return { start, end, step, window: `${w}s` };
}

/**
 * The resolution (seconds) of the tier that refused a query as unaligned
 * ("Cannot answer the query exactly from the 1m tier ..."), or 0: then the
 * server keeps its finer tiers for less than {@linkcode planRange} assumes,
 * and the query is asked again aligned to that tier.
 */
export function refusedUnit(e: unknown): number {
  if (!(e instanceof ApiError) || e.status !== 422) return 0;
  const m = /exactly from the (\d+)([smhd]) tier/.exec(e.message);
  if (m === null) return 0;
  const unit = { s: 1, m: 60, h: 3600, d: DAY }[m[2] as "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}
