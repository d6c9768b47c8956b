/**
 * The functions over a range vector (`rate(x[5m])`, `max_over_time`, ...),
 * with Prometheus 2.42's semantics (promql/functions.go): ranges closed at
 * both ends `[t - range, t]`, rate/increase/delta extrapolated to the
 * range's ends, counter resets added back.
 *
 * Two ways to answer: from raw samples (every function), and from a
 * downsampled tier's window aggregates for the functions that a window's
 * `count`/`sum`/`min`/`max`/`value`/`increase` answer exactly (see
 * {@linkcode WINDOW_FUNCTIONS}).
 *
 * @module
 */
import type { SeriesPoints } from "../types.ts";
import { seekAbove } from "./_points.ts";
import { PromQLError } from "./promql_error.ts";
import { quantile } from "./quantile.ts";

/** The functions that take a range vector, by name. */
export const RANGE_FUNCTIONS: ReadonlySet<string> = new Set([
  "rate",
  "increase",
  "delta",
  "irate",
  "idelta",
  "deriv",
  "predict_linear",
  "resets",
  "changes",
  "avg_over_time",
  "min_over_time",
  "max_over_time",
  "sum_over_time",
  "count_over_time",
  "last_over_time",
  "present_over_time",
  "stddev_over_time",
  "stdvar_over_time",
  "quantile_over_time",
  "absent_over_time",
  "holt_winters",
]);

/**
 * The range functions a downsampled tier answers from its windows, when
 * the range is a whole number of windows and the evaluation times fall on
 * window ends: sums and counts add up, a minimum of minimums is the
 * minimum, a counter's increase over the range is the sum of its windows'
 * increases (resets already handled by the aggregator).
 */
export const WINDOW_FUNCTIONS: ReadonlySet<string> = new Set([
  "rate",
  "increase",
  "avg_over_time",
  "min_over_time",
  "max_over_time",
  "sum_over_time",
  "count_over_time",
  "last_over_time",
  "present_over_time",
  "absent_over_time",
]);

/**
 * The samples of one series and the window at one step. The evaluator
 * reuses one object for every step of a series (no allocation per step).
 */
export interface Window {
  points: SeriesPoints;
  /** First sample in the range (index into points). */
  lo: number;
  /** Last sample in the range (inclusive); `hi < lo` when empty. */
  hi: number;
  /** The range's end (evaluation time minus offset), ms. */
  end: number;
  /** The evaluation time of the step (ms): predict_linear's intercept time in 2.42, even with `@`. */
  stepTime: number;
  /** The range (ms). */
  rangeMs: number;
  /** The scalar parameter at this step (quantile_over_time, predict_linear; holt_winters' smoothing factor). */
  param: number;
  /** The second scalar parameter (holt_winters' trend factor). */
  param2: number;
  /**
   * Downsampled tiers: the window ending exactly at `end - rangeMs` (its
   * last sample may be the one at the range's start), or -1.
   */
  boundary: number;
  /** Downsampled tiers: the window size (ms). */
  resolutionMs?: number;
  /**
   * Downsampled tiers: the samples a full window holds (the resolution
   * over the raw interval; Infinity when that is not whole).
   */
  fullWindow?: number;
  /**
   * Per-sample running sum of the values lost at counter resets (raw
   * rate/increase); `null` when the series has no reset, undefined when
   * not worked out (the window is scanned).
   */
  resets: Float64Array | null | undefined;
}

/** Neumaier's compensated add, as Prometheus's kahanSumInc. */
function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (Math.abs(sum) >= Math.abs(inc)) c += (sum - t) + inc;
  else c += (inc - t) + sum;
  return [t, c];
}

/**
 * The running sum of reset corrections of a counter: `out[i]` is what
 * `rate()` adds back for the resets up to sample `i`, so a window's
 * correction is `out[hi] - out[lo]` in O(1); null when it never resets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resetCorrections } from "./range_functions.ts";
 *
 * assert.deepEqual([...resetCorrections(new Float64Array([1, 5, 2, 3]))!], [0, 0, 5, 5]);
 * assert.equal(resetCorrections(new Float64Array([1, 2])), null);
 * ```
 */
export function resetCorrections(v: Float64Array): Float64Array | null {
  let first = -1;
  for (let i = 1; i < v.length; i++) {
    if (v[i] < v[i - 1]) {
      first = i;
      break;
    }
  }
  if (first < 0) return null;
  const out = new Float64Array(v.length);
  let acc = 0;
  for (let i = 1; i < v.length; i++) {
    if (v[i] < v[i - 1]) acc += v[i - 1];
    out[i] = acc;
  }
  return out;
}

function extrapolatedRate(
  w: Window,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  const { lo, hi } = w;
  if (hi - lo < 1) return undefined;
  return extrapolate(
    w.points.t,
    w.points.value,
    lo,
    hi,
    w.end,
    w.rangeMs,
    w.resets,
    isCounter,
    isRate,
  );
}

/**
 * Prometheus 2.42's extrapolatedRate over samples `lo..hi` (at least two)
 * of a range ending at `end`; `resets` as {@linkcode Window.resets}.
 */
function extrapolate(
  t: Float64Array,
  v: Float64Array,
  lo: number,
  hi: number,
  end: number,
  rangeMs: number,
  resets: Float64Array | null | undefined,
  isCounter: boolean,
  isRate: boolean,
): number {
  let result = v[hi] - v[lo];
  if (isCounter) {
    if (resets !== undefined) {
      if (resets !== null) result += resets[hi] - resets[lo];
    } else {
      for (let i = lo + 1; i <= hi; i++) {
        if (v[i] < v[i - 1]) result += v[i - 1];
      }
    }
  }
  return extrapolateDelta(
    result,
    t[lo],
    t[hi],
    hi - lo,
    v[lo],
    end - rangeMs,
    end,
    isCounter,
    isRate ? rangeMs / 1000 : 0,
  );
}

/**
 * Prometheus 2.42's extrapolation of `delta` (the increase between the
 * first sample, at `tLo` with value `vLo`, and the last, at `tHi`, `gaps`
 * intervals apart) to the range `start..end` (ms); divided by
 * `perSeconds` for a rate (0: an increase or delta). Shared by the
 * per-window path and the one-pass sweep, bit for bit.
 */
function extrapolateDelta(
  delta: number,
  tLo: number,
  tHi: number,
  gaps: number,
  vLo: number,
  start: number,
  end: number,
  isCounter: boolean,
  perSeconds: number,
): number {
  let durationToStart = (tLo - start) / 1000;
  const durationToEnd = (end - tHi) / 1000;
  const sampledInterval = (tHi - tLo) / 1000;
  const averageInterval = sampledInterval / gaps;
  if (isCounter && delta > 0 && vLo >= 0) {
    const durationToZero = sampledInterval * (vLo / delta);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageInterval * 1.1;
  let interval = sampledInterval;
  interval += durationToStart < threshold
    ? durationToStart
    : averageInterval / 2;
  interval += durationToEnd < threshold ? durationToEnd : averageInterval / 2;
  let factor = interval / sampledInterval;
  if (perSeconds !== 0) factor /= perSeconds;
  return delta * factor;
}

/** The range functions {@linkcode rateSweep} answers from raw samples. */
export const SWEEP_FUNCTIONS: ReadonlySet<string> = new Set([
  "rate",
  "increase",
  "delta",
]);

/**
 * `rate`, `increase` or `delta` of one series of raw samples at every
 * step in one pass: the range `[ends[i] - rangeMs, ends[i]]` of each step
 * (`ends` ascending) found by moving its two ends forward; a counter's
 * resets are summed as the range's end passes them (the running sums
 * {@linkcode resetCorrections} would give, made only once a reset is met),
 * so the samples are walked once; `rises` (no value below the one before,
 * see `SeriesPoints.rises`) skips that walk: the range's ends are then
 * found by search, so the work is per step, not per sample. Writes `v[i]` and `ok[i] = 1` where a
 * value exists (two samples or more); returns how many. The same values
 * as {@linkcode rawRangeFunction} per step, without its search and call
 * per step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateSweep } from "./range_functions.ts";
 *
 * const t = new Float64Array([0, 15_000, 30_000, 45_000, 60_000]);
 * const value = new Float64Array([0, 15, 30, 45, 60]);
 * const v = new Float64Array(2);
 * const ok = new Uint8Array(2);
 * const n = rateSweep("increase", t, value, new Float64Array([10_000, 60_000]), 60_000, false, v, ok);
 * assert.equal(n, 1); // one sample in [-50 s, 10 s]: no value
 * assert.deepEqual([...ok], [0, 1]);
 * assert.equal(v[1], 60);
 * ```
 */
export function rateSweep(
  func: "rate" | "increase" | "delta",
  t: Float64Array,
  values: Float64Array,
  ends: Float64Array,
  rangeMs: number,
  rises: boolean,
  v: Float64Array,
  ok: Uint8Array,
): number {
  // A series known to rise has no reset to look for.
  const isCounter = func !== "delta";
  const scanResets = isCounter && !rises;
  const perSeconds = func === "rate" ? rangeMs / 1000 : 0;
  const len = t.length;
  let lo = 0;
  let hi = -1;
  let produced = 0;
  // Reset corrections: their running sum at each sample from the first
  // reset on (`resets`, null until one is met), and at `hi` (`acc`).
  let resets: Float64Array | null = null;
  let firstReset = len;
  let acc = 0;
  let prev = len > 0 ? values[0] : 0;
  // How far each end moved at the last step: samples on a regular grid
  // move both by the same count every step, so that guess, checked
  // against its neighbours, finds an end in two reads instead of a search.
  let moveHi = 0;
  let moveLo = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i];
    const start = end - rangeMs;
    const from = hi + 1;
    const guess = hi + moveHi;
    if (
      !scanResets && moveHi > 0 && guess < len && t[guess] <= end &&
      (guess + 1 === len || t[guess + 1] > end)
    ) {
      hi = guess;
    } else if (from < len && t[from] <= end) {
      // The range's end: a gallop then a binary search from hi on.
      let stepUp = 1;
      let a = from;
      let b = from + 1;
      while (b < len && t[b] <= end) {
        a = b;
        stepUp *= 2;
        b = a + stepUp;
      }
      if (b > len) b = len;
      // t[a] <= end; the first index past end is in (a, b].
      a++;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (t[mid] <= end) a = mid + 1;
        else b = mid;
      }
      const newHi = a - 1;
      if (scanResets) {
        // Resets among the samples the end passed.
        for (let j = from; j <= newHi; j++) {
          const x = values[j];
          if (x < prev) {
            if (resets === null) {
              resets = new Float64Array(len);
              firstReset = j;
            }
            acc += prev;
          }
          if (resets !== null) resets[j] = acc;
          prev = x;
        }
      }
      hi = newHi;
    }
    moveHi = hi + 1 - from;
    // The range's start: the guess, else a binary search between where it
    // was and hi + 1.
    const lastLo = lo;
    const lg = lo + moveLo;
    if (
      moveLo > 0 && lg <= hi + 1 && (lg === len || t[lg] >= start) &&
      t[lg - 1] < start
    ) {
      lo = lg;
    } else {
      let a = lo;
      let b = hi + 1;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (t[mid] < start) a = mid + 1;
        else b = mid;
      }
      lo = a;
    }
    moveLo = lo - lastLo;
    if (hi - lo < 1) continue;
    // Prometheus 2.42's extrapolatedRate (see extrapolate()).
    let result = values[hi] - values[lo];
    if (resets !== null) {
      result += resets[hi] - (lo >= firstReset ? resets[lo] : 0);
    }
    v[i] = extrapolateDelta(
      result,
      t[lo],
      t[hi],
      hi - lo,
      values[lo],
      start,
      end,
      isCounter,
      perSeconds,
    );
    ok[i] = 1;
    produced++;
  }
  return produced;
}

/**
 * `rate` or `increase` of one series of a downsampled tier at every step
 * in one pass: the windows in `(ends[i] - rangeMs, ends[i]]` of each step
 * (`ends` ascending), and the window ending at the range's start, found by
 * moving the range's two ends forward, then extrapolated as
 * {@linkcode windowRangeFunction} does. Writes `v[i]` and `ok[i] = 1` where
 * the range holds two samples or more; returns how many. Throws
 * {@linkcode PromQLError} (`execution`) where the windows cannot say where
 * the range's first or last sample lies. `points` needs the `count`,
 * `min`, `max` and `increase` columns; `resolutionMs` is the tier's,
 * `fullWindow` the samples a full window holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { increaseSweep } from "./range_functions.ts";
 *
 * // A counter that starts at 15 s, sampled every 15 s: 1, 2, ..., 12.
 * const col = (...x: number[]) => new Float64Array(x);
 * const points = {
 *   labels: {}, kind: "counter" as const, t: col(60_000, 120_000, 180_000),
 *   value: col(4, 8, 12), count: col(4, 4, 4), sum: col(10, 26, 42),
 *   min: col(1, 5, 9), max: col(4, 8, 12), increase: col(3, 4, 4),
 * };
 * const v = new Float64Array(2);
 * const ok = new Uint8Array(2);
 * const ends = new Float64Array([120_000, 180_000]);
 * assert.equal(increaseSweep(false, points, ends, 120_000, 60_000, 4, v, ok), 2);
 * // [0, 120 s] holds 1..8 from 15 s: 7, extrapolated to the start as
 * // Prometheus does (15 s before the first sample): 8.
 * assert.equal(v[0], 8);
 * // [60 s, 180 s] holds 4..12, from its start to its end: 8.
 * assert.equal(v[1], 8);
 * ```
 */
export function increaseSweep(
  isRate: boolean,
  points: SeriesPoints,
  ends: Float64Array,
  rangeMs: number,
  resolutionMs: number,
  fullWindow: number,
  v: Float64Array,
  ok: Uint8Array,
): number {
  const t = points.t;
  let lo = 0;
  let hi = -1;
  let produced = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i];
    const start = end - rangeMs;
    lo = seekAbove(t, lo, start);
    hi = seekAbove(t, hi + 1, end) - 1;
    if (hi < lo) continue;
    const b = lo > 0 && t[lo - 1] === start ? lo - 1 : -1;
    const x = windowIncrease(
      points,
      lo,
      hi,
      b,
      end,
      rangeMs,
      resolutionMs,
      fullWindow,
      isRate ? "rate" : "increase",
    );
    if (x === undefined) continue;
    v[i] = x;
    ok[i] = 1;
    produced++;
  }
  return produced;
}

/** `{a="b", ...}` for an error message. */
function labelText(points: SeriesPoints): string {
  const pairs = Object.entries(points.labels).map(([k, x]) =>
    `${k}=${JSON.stringify(x)}`
  );
  return `{${pairs.join(", ")}}`;
}

/**
 * The error for a range whose answer depends on where in a window a
 * sample lies, which the window's aggregates do not say.
 */
function undecided(
  func: string,
  points: SeriesPoints,
  resolutionMs: number,
  at: number,
  why: string,
): PromQLError {
  const res = resolutionMs % 3_600_000 === 0
    ? `${resolutionMs / 3_600_000}h`
    : resolutionMs % 60_000 === 0
    ? `${resolutionMs / 60_000}m`
    : `${resolutionMs}ms`;
  return new PromQLError(
    "execution",
    `${func}() of ${labelText(points)} needs raw samples around ${
      new Date(at).toISOString()
    }: ${why}, and its ${res} windows do not say where in a window its samples lie`,
  );
}

/**
 * Whether the range holds a sample at its start (the last sample of the
 * window `b` ending there, -1 for none): 1 when that window is full (its
 * last sample sits on its end, samples being on the raw interval's grid),
 * 0 without such a window, -1 when it is not full: a series that started
 * in it ends on its end, one that missed a tick there (or stopped and came
 * back) may not, and the window does not say which.
 */
function sampleAtStart(
  points: SeriesPoints,
  b: number,
  fullWindow: number,
): 0 | 1 | -1 {
  if (b < 0) return 0;
  return columnOf(points, "count")[b] >= fullWindow ? 1 : -1;
}

/**
 * Prometheus 2.42's extrapolatedRate (a counter's) over a range of a
 * downsampled tier: rows `lo..hi` end inside `(end - rangeMs, end]`, row
 * `b` (or -1) ends at the range's start. The range's first and last
 * samples, whose times and the first's value the extrapolation needs, are
 * worked out from the windows at the range's edges, samples being on the
 * raw interval's grid and taken every interval while a series is there:
 *
 * - first: the sample at the start (see {@linkcode sampleAtStart}), the
 *   increase then the windows' increases; else the first sample of the
 *   first window `f`, which is its first slot when full, or its last
 *   `count` slots when the series goes on into the next window; its value
 *   is the window's minimum and its increase from there the window's last
 *   value minus it: a counter that starts in a window rises through it (a
 *   window whose maximum is not its last value reset within: refused).
 *   The window's own increase would count the step from a sample before
 *   the range (a series that comes back).
 * - last: the last window's end when full, else, when the series was
 *   there in the window before and the window ends before the range
 *   does, its first `count` slots (a window not full at the range's end
 *   may have missed a tick or seen the series stop: refused).
 *
 * Anything else (a series that starts and stops within one window, ...)
 * throws {@linkcode PromQLError} (`execution`). Undefined below two
 * samples.
 */
function windowIncrease(
  points: SeriesPoints,
  lo: number,
  hi: number,
  b: number,
  end: number,
  rangeMs: number,
  resolutionMs: number,
  fullWindow: number,
  func: "rate" | "increase",
): number | undefined {
  const t = points.t;
  const value = points.value;
  const inc = columnOf(points, "increase");
  const count = columnOf(points, "count");
  const start = end - rangeMs;
  if (!Number.isInteger(fullWindow) || !(resolutionMs > 0)) {
    throw undecided(
      func,
      points,
      resolutionMs,
      hi >= lo ? t[lo] : start,
      "the raw interval does not divide the window",
    );
  }
  const interval = resolutionMs / fullWindow;
  const at = sampleAtStart(points, b, fullWindow);
  if (at < 0) {
    throw undecided(
      func,
      points,
      resolutionMs,
      start,
      "its window ending at the range's start is not full (the series started in it, or missed a tick)",
    );
  }
  let n = 0;
  for (let j = lo; j <= hi; j++) n += count[j];
  if (at === 1) n++;
  if (n < 2) return undefined;
  let tFirst: number;
  let vFirst: number;
  let delta = 0;
  if (at === 1) {
    tFirst = start;
    vFirst = value[b];
    for (let j = lo; j <= hi; j++) delta += inc[j];
  } else {
    const f = lo;
    const c = count[f];
    if (c >= fullWindow) tFirst = t[f] - resolutionMs + interval;
    else if (f < hi && t[f + 1] === t[f] + resolutionMs) {
      tFirst = t[f] - (c - 1) * interval;
    } else {
      throw undecided(
        func,
        points,
        resolutionMs,
        t[f],
        "the series starts and stops within one window",
      );
    }
    const min = columnOf(points, "min");
    const max = columnOf(points, "max");
    if (max[f] !== value[f]) {
      throw undecided(
        func,
        points,
        resolutionMs,
        t[f],
        "its counter resets within the window it starts in",
      );
    }
    vFirst = min[f];
    delta = value[f] - min[f];
    for (let j = f + 1; j <= hi; j++) delta += inc[j];
  }
  let tLast: number;
  const l = hi;
  if (count[l] >= fullWindow) tLast = t[l];
  else if (t[l] === end) {
    throw undecided(
      func,
      points,
      resolutionMs,
      end,
      "its window ending at the range's end is not full (the series stopped in it, or missed a tick)",
    );
  } else {
    const before = l > lo ? t[l - 1] : at === 1 ? start : -Infinity;
    if (before !== t[l] - resolutionMs) {
      throw undecided(
        func,
        points,
        resolutionMs,
        t[l],
        "the series starts and stops within one window",
      );
    }
    tLast = t[l] - resolutionMs + count[l] * interval;
  }
  return extrapolateDelta(
    delta,
    tFirst,
    tLast,
    n - 1,
    vFirst,
    start,
    end,
    true,
    func === "rate" ? rangeMs / 1000 : 0,
  );
}

function instantValue(w: Window, isRate: boolean): number | undefined {
  const { hi } = w;
  if (hi - w.lo < 1) return undefined;
  const t = w.points.t;
  const v = w.points.value;
  const last = v[hi];
  const previous = v[hi - 1];
  let result = isRate && last < previous ? last : last - previous;
  const interval = t[hi] - t[hi - 1];
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

/** Least squares fit of the window's samples, x in seconds from `interceptTime`. */
function linearRegression(w: Window, interceptTime: number): [number, number] {
  const t = w.points.t;
  const v = w.points.value;
  let n = 0;
  let sumX = 0,
    cX = 0,
    sumY = 0,
    cY = 0,
    sumXY = 0,
    cXY = 0,
    sumX2 = 0,
    cX2 = 0;
  const initY = v[w.lo];
  let constY = true;
  for (let i = w.lo; i <= w.hi; i++) {
    if (constY && i > w.lo && v[i] !== initY) constY = false;
    n++;
    const x = (t[i] - interceptTime) / 1000;
    [sumX, cX] = kahanInc(x, sumX, cX);
    [sumY, cY] = kahanInc(v[i], sumY, cY);
    [sumXY, cXY] = kahanInc(x * v[i], sumXY, cXY);
    [sumX2, cX2] = kahanInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - sumX * sumY / n;
  const varX = sumX2 - sumX * sumX / n;
  const slope = covXY / varX;
  return [slope, sumY / n - slope * sumX / n];
}

function avgOverTime(v: Float64Array, lo: number, hi: number): number {
  let mean = 0, count = 0, c = 0;
  for (let i = lo; i <= hi; i++) {
    const x = v[i];
    count++;
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      if (!Number.isFinite(x) && !Number.isNaN(x) && (mean > 0) === (x > 0)) {
        continue;
      }
      if (Number.isFinite(x)) continue;
    }
    [mean, c] = kahanInc(x / count - mean / count, mean, c);
  }
  if (!Number.isFinite(mean) && !Number.isNaN(mean)) return mean;
  return mean + c;
}

function variance(v: Float64Array, lo: number, hi: number): number {
  let count = 0, mean = 0, cMean = 0, aux = 0, cAux = 0;
  for (let i = lo; i <= hi; i++) {
    count++;
    const delta = v[i] - (mean + cMean);
    [mean, cMean] = kahanInc(delta / count, mean, cMean);
    [aux, cAux] = kahanInc(delta * (v[i] - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

/**
 * Holt-Winters double exponential smoothing as Prometheus 2.42 computes
 * it (factors already checked to lie in (0, 1)).
 */
function holtWinters(
  v: Float64Array,
  lo: number,
  hi: number,
  sf: number,
  tf: number,
): number | undefined {
  if (hi - lo < 1) return undefined;
  let s0 = 0;
  let s1 = v[lo];
  let b = v[lo + 1] - v[lo];
  for (let i = lo + 1; i <= hi; i++) {
    const x = sf * v[i];
    if (i - 1 > lo) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

/**
 * `func` over one window of raw samples; undefined when Prometheus gives
 * no sample (too few points).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rawRangeFunction } from "./range_functions.ts";
 *
 * const points = {
 *   labels: {}, kind: "counter" as const,
 *   t: new Float64Array([0, 15_000, 30_000, 45_000, 60_000]),
 *   value: new Float64Array([0, 15, 30, 45, 60]),
 * };
 * const w = { points, lo: 0, hi: 4, end: 60_000, stepTime: 60_000, rangeMs: 60_000, param: 0, param2: 0, boundary: -1, resets: undefined };
 * assert.equal(rawRangeFunction("increase", w), 60);
 * assert.equal(rawRangeFunction("rate", w), 1);
 * ```
 */
export function rawRangeFunction(func: string, w: Window): number | undefined {
  const { lo, hi } = w;
  const v = w.points.value;
  if (hi < lo) return undefined;
  switch (func) {
    case "rate":
      return extrapolatedRate(w, true, true);
    case "increase":
      return extrapolatedRate(w, true, false);
    case "delta":
      return extrapolatedRate(w, false, false);
    case "irate":
      return instantValue(w, true);
    case "idelta":
      return instantValue(w, false);
    case "deriv":
      if (hi - lo < 1) return undefined;
      return linearRegression(w, w.points.t[lo])[0];
    case "predict_linear": {
      if (hi - lo < 1) return undefined;
      const [slope, intercept] = linearRegression(w, w.stepTime);
      return slope * w.param + intercept;
    }
    case "resets": {
      let n = 0;
      for (let i = lo + 1; i <= hi; i++) if (v[i] < v[i - 1]) n++;
      return n;
    }
    case "changes": {
      let n = 0;
      for (let i = lo + 1; i <= hi; i++) {
        if (
          v[i] !== v[i - 1] && !(Number.isNaN(v[i]) && Number.isNaN(v[i - 1]))
        ) n++;
      }
      return n;
    }
    case "avg_over_time":
      return avgOverTime(v, lo, hi);
    case "min_over_time": {
      let min = v[lo];
      for (let i = lo; i <= hi; i++) {
        if (v[i] < min || Number.isNaN(min)) min = v[i];
      }
      return min;
    }
    case "max_over_time": {
      let max = v[lo];
      for (let i = lo; i <= hi; i++) {
        if (v[i] > max || Number.isNaN(max)) max = v[i];
      }
      return max;
    }
    case "sum_over_time": {
      let sum = 0, c = 0;
      for (let i = lo; i <= hi; i++) [sum, c] = kahanInc(v[i], sum, c);
      return Number.isFinite(sum) ? sum + c : sum;
    }
    case "count_over_time":
      return hi - lo + 1;
    case "last_over_time":
      return v[hi];
    case "present_over_time":
    case "absent_over_time":
      return 1;
    case "stddev_over_time":
      return Math.sqrt(variance(v, lo, hi));
    case "stdvar_over_time":
      return variance(v, lo, hi);
    case "quantile_over_time":
      return quantile(w.param, Array.from(v.subarray(lo, hi + 1)));
    case "holt_winters":
      return holtWinters(v, lo, hi, w.param, w.param2);
  }
  return undefined;
}

function columnOf(
  points: SeriesPoints,
  name: "count" | "sum" | "min" | "max" | "increase",
): Float64Array {
  const col = points[name];
  if (col === undefined) {
    throw new TypeError(`series has no ${name} column in this tier`);
  }
  return col;
}

/**
 * `func` over the windows `lo..hi` of a downsampled tier (only the
 * {@linkcode WINDOW_FUNCTIONS}); undefined when the range holds no sample.
 * The window ending at the range's start ({@linkcode Window.boundary})
 * adds its last sample when that sits at the range's start: when the
 * window is full (a window that is not full leaves the answer open unless
 * it is the same with that sample and without).
 * `rate` and `increase` are extrapolated to the range's edges as
 * Prometheus does, from the first and last samples' places that the edge
 * windows give (see `increaseSweep()`). Throws {@linkcode PromQLError}
 * (`execution`) when the answer depends on where in a window a sample
 * lies and the windows cannot say, and a `TypeError` when a rate or
 * increase meets a series that has no `increase` column (a gauge).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { windowRangeFunction } from "./range_functions.ts";
 *
 * const one = (x: number) => new Float64Array([x, x]);
 * const points = {
 *   labels: {}, kind: "counter" as const, t: new Float64Array([60_000, 120_000]),
 *   value: new Float64Array([30, 60]), count: one(60), sum: one(300), min: one(1),
 *   max: new Float64Array([30, 60]), increase: one(30),
 * };
 * const w = { points, lo: 1, hi: 1, end: 120_000, stepTime: 120_000, rangeMs: 60_000, param: 0, param2: 0,
 *   boundary: 0, resolutionMs: 60_000, fullWindow: 60, resets: undefined };
 * assert.equal(windowRangeFunction("increase", w), 30);
 * assert.equal(windowRangeFunction("max_over_time", w), 60);
 * // The window ending at the range's start is full: its last sample is in.
 * assert.equal(windowRangeFunction("count_over_time", w), 61);
 * ```
 */
export function windowRangeFunction(
  func: string,
  w: Window,
): number | undefined {
  const { lo, hi, points } = w;
  const b = w.boundary;
  if (hi < lo && b < 0) return undefined;
  const resolutionMs = w.resolutionMs ?? NaN;
  const fullWindow = w.fullWindow ?? Infinity;
  if (func === "rate" || func === "increase") {
    if (hi < lo) return undefined;
    return windowIncrease(
      points,
      lo,
      hi,
      b,
      w.end,
      w.rangeMs,
      resolutionMs,
      fullWindow,
      func,
    );
  }
  const at = sampleAtStart(points, b, fullWindow);
  if (at >= 0) return overWindows(func, w, at === 1 ? b : -1);
  // Where the answer is the same with the sample and without, it stands.
  const without = overWindows(func, w, -1);
  const withIt = overWindows(func, w, b);
  if (Object.is(without, withIt)) return without;
  throw undecided(
    func,
    points,
    resolutionMs,
    w.end - w.rangeMs,
    "its window ending at the range's start is not full (the series started in it, or missed a tick)",
  );
}

/**
 * `func` over windows `lo..hi` and, when `b >= 0`, the last sample of
 * window `b` (the one at the range's start).
 */
function overWindows(func: string, w: Window, b: number): number | undefined {
  const { lo, hi, points } = w;
  if (hi < lo && b < 0) return undefined;
  const last = points.value;
  const column = columnOf;
  switch (func) {
    case "sum_over_time": {
      const s = column(points, "sum");
      let sum = b >= 0 ? last[b] : 0;
      for (let i = lo; i <= hi; i++) sum += s[i];
      return sum;
    }
    case "count_over_time": {
      const c = column(points, "count");
      let n = b >= 0 ? 1 : 0;
      for (let i = lo; i <= hi; i++) n += c[i];
      return n;
    }
    case "avg_over_time": {
      const s = column(points, "sum");
      const c = column(points, "count");
      let sum = b >= 0 ? last[b] : 0;
      let n = b >= 0 ? 1 : 0;
      for (let i = lo; i <= hi; i++) {
        sum += s[i];
        n += c[i];
      }
      return sum / n;
    }
    case "min_over_time": {
      const m = column(points, "min");
      let min = b >= 0 ? last[b] : m[lo];
      for (let i = lo; i <= hi; i++) {
        if (m[i] < min || Number.isNaN(min)) min = m[i];
      }
      return min;
    }
    case "max_over_time": {
      const m = column(points, "max");
      let max = b >= 0 ? last[b] : m[lo];
      for (let i = lo; i <= hi; i++) {
        if (m[i] > max || Number.isNaN(max)) max = m[i];
      }
      return max;
    }
    case "last_over_time":
      return hi >= lo ? last[hi] : last[b];
    case "present_over_time":
    case "absent_over_time":
      return 1;
  }
  return undefined;
}

/**
 * Prometheus 2.42's checks of holt_winters' factors: each strictly
 * between 0 and 1, else an execution error in its words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkHoltWinters } from "./range_functions.ts";
 *
 * checkHoltWinters(0.5, 0.1);
 * assert.throws(() => checkHoltWinters(1, 0.1), /invalid smoothing factor/);
 * ```
 */
export function checkHoltWinters(sf: number, tf: number): void {
  // As 2.42's `sf <= 0 || sf >= 1`: NaN passes (and answers NaN).
  if (sf <= 0 || sf >= 1) {
    throw new PromQLError(
      "execution",
      `invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`,
    );
  }
  if (tf <= 0 || tf >= 1) {
    throw new PromQLError(
      "execution",
      `invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`,
    );
  }
}
