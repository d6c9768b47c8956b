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
   * Downsampled tiers: the window ending exactly at `end - rangeMs`, when
   * its last sample is known to sit at its end (the window is full), or -1.
   */
  boundary: number;
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
 * (`ends` ascending; a window ending at the range's start holds samples
 * before it) found by moving the range's two ends forward, their
 * `increase` summed. Writes `v[i]` and `ok[i] = 1` where the range holds a
 * window; returns how many. The same values as
 * {@linkcode windowRangeFunction} per step, without its search and call
 * per step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { increaseSweep } from "./range_functions.ts";
 *
 * const t = new Float64Array([60_000, 120_000, 180_000]);
 * const increase = new Float64Array([6, 12, 18]);
 * const v = new Float64Array(2);
 * const ok = new Uint8Array(2);
 * assert.equal(increaseSweep(true, t, increase, new Float64Array([120_000, 180_000]), 120_000, v, ok), 2);
 * assert.deepEqual([...v], [(6 + 12) / 120, (12 + 18) / 120]);
 * ```
 */
export function increaseSweep(
  isRate: boolean,
  t: Float64Array,
  increase: Float64Array,
  ends: Float64Array,
  rangeMs: number,
  v: Float64Array,
  ok: Uint8Array,
): number {
  const seconds = rangeMs / 1000;
  let lo = 0;
  let hi = -1;
  let produced = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i];
    lo = seekAbove(t, lo, end - rangeMs);
    hi = seekAbove(t, hi + 1, end) - 1;
    if (hi < lo) continue;
    let sum = 0;
    for (let j = lo; j <= hi; j++) sum += increase[j];
    v[i] = isRate ? sum / seconds : sum;
    ok[i] = 1;
    produced++;
  }
  return produced;
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
 * {@linkcode WINDOW_FUNCTIONS}); undefined when the range holds no window.
 * Throws a `TypeError` when a rate or increase meets a series that has no
 * `increase` column (a gauge).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { windowRangeFunction } from "./range_functions.ts";
 *
 * const one = (x: number) => new Float64Array([x, x]);
 * const points = {
 *   labels: {}, kind: "counter" as const, t: new Float64Array([60_000, 120_000]),
 *   value: one(5), count: one(60), sum: one(300), min: one(1), max: one(9), increase: one(30),
 * };
 * const w = { points, lo: 0, hi: 1, end: 120_000, stepTime: 120_000, rangeMs: 120_000, param: 0, param2: 0, boundary: -1, resets: undefined };
 * assert.equal(windowRangeFunction("increase", w), 60);
 * assert.equal(windowRangeFunction("max_over_time", w), 9);
 * assert.equal(windowRangeFunction("avg_over_time", w), 5);
 * ```
 */
export function windowRangeFunction(
  func: string,
  w: Window,
): number | undefined {
  const { lo, hi, points } = w;
  // The window ending exactly at the range's start: its last sample is the
  // one at t - range that a 2.42 range (closed at both ends) holds.
  const b = w.boundary;
  if (hi < lo && b < 0) return undefined;
  const last = points.value;
  const column = columnOf;
  switch (func) {
    case "rate":
    case "increase": {
      if (hi < lo) return undefined;
      const inc = column(points, "increase");
      let sum = 0;
      for (let i = lo; i <= hi; i++) sum += inc[i];
      return func === "rate" ? sum / (w.rangeMs / 1000) : sum;
    }
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
