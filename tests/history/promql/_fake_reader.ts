/**
 * A small in-memory {@linkcode HistoryReader} for the PromQL tests: raw
 * samples as given, and downsampled tiers computed from them the way the
 * store's aggregator defines a window (`(t - R, t]`, t a multiple of R;
 * count, sum, min, max, last value, and a counter's increase measured from
 * the last sample before the window, resets added back).
 *
 * @module
 */
import type {
  HistoryReader,
  LabelMatcher,
  SeriesKind,
  SeriesLabels,
  SeriesPoints,
  TierInfo,
} from "../../../src/history/types.ts";
import assert from "node:assert/strict";
import { PromQLError } from "../../../src/history/promql/mod.ts";
import { matchesAll } from "../../../src/history/promql/regex.ts";

interface Stored {
  labels: SeriesLabels;
  kind: SeriesKind;
  t: number[];
  v: Float64Array;
}

/** Tier layout for {@linkcode FakeReader}: the raw tier first. */
export interface FakeTier {
  name: string;
  resolutionMs: number;
  retentionMs: number;
}

/** The fake store. */
export class FakeReader implements HistoryReader {
  readonly tiers: readonly TierInfo[];
  readonly #series: Stored[] = [];
  #windows = new Map<number, SeriesPoints[]>();
  /** select() calls, for tests that check which tier was read. */
  readonly calls: { tier: number; start: number; end: number }[] = [];

  constructor(
    tiers: FakeTier[] = [{
      name: "raw",
      resolutionMs: 1000,
      retentionMs: 1e15,
    }],
  ) {
    this.tiers = tiers;
  }

  /** Adds a series; `values` may hold NaN (and stale markers, as bit patterns in the array). */
  add(
    labels: SeriesLabels,
    t: number[],
    values: ArrayLike<number>,
    kind?: SeriesKind,
  ): void {
    const v = new Float64Array(values.length);
    // Copy through 32-bit words so NaN payloads (staleness markers) survive.
    if (values instanceof Float64Array) {
      new Uint32Array(v.buffer).set(
        new Uint32Array(values.buffer, values.byteOffset, values.length * 2),
      );
    } else v.set(values);
    const name = labels.__name__ ?? "";
    this.#series.push({
      labels,
      kind: kind ??
        (name.endsWith("_total") || name.endsWith("_bucket") ||
            name.endsWith("_count")
          ? "counter"
          : "gauge"),
      t,
      v,
    });
    this.#windows.clear();
  }

  /** Drops every series. */
  clear(): void {
    this.#series.length = 0;
    this.#windows.clear();
  }

  select(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
    tier: number,
  ): SeriesPoints[] {
    this.calls.push({ tier, start, end });
    const all = tier === 0 ? this.#raw() : this.#window(tier);
    const out: SeriesPoints[] = [];
    for (const s of all) {
      if (!matchesAll(matchers, s.labels)) continue;
      let lo = 0;
      while (lo < s.t.length && s.t[lo] < start) lo++;
      let hi = lo;
      while (hi < s.t.length && s.t[hi] <= end) hi++;
      if (hi === lo) continue;
      const cut = (a: Float64Array | undefined) =>
        a === undefined ? undefined : a.slice(lo, hi);
      out.push({
        labels: s.labels,
        kind: s.kind,
        t: s.t.slice(lo, hi),
        value: s.value.slice(lo, hi),
        count: cut(s.count),
        sum: cut(s.sum),
        min: cut(s.min),
        max: cut(s.max),
        increase: cut(s.increase),
      });
    }
    return out;
  }

  /**
   * The optional sparse read: select() over each step's reach, merged.
   * Only present when `withSelectSteps()` was called, so tests cover both
   * the readers that have it and those that do not.
   */
  selectSteps?: HistoryReader["selectSteps"];

  /** Turns on {@linkcode selectSteps}; returns this. */
  withSelectSteps(): this {
    this.selectSteps = (matchers, ends, reachMs, tier) => {
      this.stepCalls++;
      const merged = new Map<
        SeriesLabels,
        { p: SeriesPoints; idx: number[] }
      >();
      const all = tier === 0 ? this.#raw() : this.#window(tier);
      for (const s of all) {
        if (!matchesAll(matchers, s.labels)) continue;
        const idx: number[] = [];
        for (const end of ends) {
          for (let i = 0; i < s.t.length; i++) {
            if (
              s.t[i] >= end - reachMs && s.t[i] <= end &&
              (idx.length === 0 || i > idx[idx.length - 1])
            ) idx.push(i);
          }
        }
        if (idx.length > 0) merged.set(s.labels, { p: s, idx });
      }
      return [...merged.values()].map(({ p, idx }) => {
        // Word by word, so NaN payloads (stale markers) survive.
        const pick = (a: Float64Array | undefined) => {
          if (a === undefined) return undefined;
          const out = new Float64Array(idx.length);
          const from = new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
          const to = new Uint32Array(out.buffer);
          for (let k = 0; k < idx.length; k++) {
            to[2 * k] = from[2 * idx[k]];
            to[2 * k + 1] = from[2 * idx[k] + 1];
          }
          return out;
        };
        return {
          labels: p.labels,
          kind: p.kind,
          t: pick(p.t)!,
          value: pick(p.value)!,
          count: pick(p.count),
          sum: pick(p.sum),
          min: pick(p.min),
          max: pick(p.max),
          increase: pick(p.increase),
        };
      });
    };
    return this;
  }

  /** selectSteps() calls. */
  stepCalls = 0;

  /**
   * The optional one-at-a-time read, as a store that reuses its buffer:
   * select()'s series in reverse order, each copied (bit for bit) into
   * arrays shared by every series and overwritten with NaN once `visit`
   * returns, so a caller that keeps the arrays or counts on the order
   * gets wrong answers. Only present when `withSelectEach()` was called.
   */
  selectEach?: HistoryReader["selectEach"];

  /** Turns on {@linkcode selectEach}; returns this. */
  withSelectEach(): this {
    let t = new Float64Array(0);
    let v = new Float64Array(0);
    this.selectEach = (matchers, start, end, tier, visit) => {
      const all = this.select(matchers, start, end, tier).reverse();
      for (const p of all) {
        const n = p.t.length;
        if (t.length < n) {
          t = new Float64Array(n);
          v = new Float64Array(n);
        }
        t.set(p.t);
        new Uint32Array(v.buffer).set(
          new Uint32Array(p.value.buffer, p.value.byteOffset, 2 * n),
        );
        visit({ ...p, t: t.subarray(0, n), value: v.subarray(0, n) });
        t.fill(NaN);
        v.fill(NaN);
      }
    };
    return this;
  }

  series(matchers: readonly LabelMatcher[]): SeriesLabels[] {
    return this.#series.filter((s) => matchesAll(matchers, s.labels)).map((s) =>
      s.labels
    );
  }

  labelNames(): string[] {
    return [...new Set(this.#series.flatMap((s) => Object.keys(s.labels)))]
      .sort();
  }

  labelValues(name: string): string[] {
    return [
      ...new Set(
        this.#series.map((s) => s.labels[name]).filter((v) => v !== undefined),
      ),
    ].sort();
  }

  #raw(): SeriesPoints[] {
    return this.#series.map((s) => ({
      labels: s.labels,
      kind: s.kind,
      t: Float64Array.from(s.t),
      value: s.v,
    }));
  }

  #window(tier: number): SeriesPoints[] {
    const cached = this.#windows.get(tier);
    if (cached !== undefined) return cached;
    const r = this.tiers[tier].resolutionMs;
    const out: SeriesPoints[] = [];
    for (const s of this.#series) {
      const t: number[] = [],
        value: number[] = [],
        count: number[] = [],
        sum: number[] = [];
      const min: number[] = [], max: number[] = [], increase: number[] = [];
      let i = 0;
      while (i < s.t.length) {
        const end = Math.ceil(s.t[i] / r) * r;
        let c = 0, su = 0, mi = NaN, ma = NaN, inc = 0;
        let prev = i > 0 ? s.v[i - 1] : s.v[i];
        while (i < s.t.length && s.t[i] <= end) {
          const x = s.v[i];
          c++;
          su += x;
          if (!(x >= mi)) mi = Number.isNaN(mi) ? x : Math.min(mi, x);
          if (!(x <= ma)) ma = Number.isNaN(ma) ? x : Math.max(ma, x);
          inc += x >= prev ? x - prev : x;
          prev = x;
          i++;
        }
        t.push(end);
        value.push(prev);
        count.push(c);
        sum.push(su);
        min.push(mi);
        max.push(ma);
        increase.push(inc);
      }
      out.push({
        labels: s.labels,
        kind: s.kind,
        t: Float64Array.from(t),
        value: Float64Array.from(value),
        count: Float64Array.from(count),
        sum: Float64Array.from(sum),
        min: Float64Array.from(min),
        max: Float64Array.from(max),
        increase: s.kind === "counter"
          ? Float64Array.from(increase)
          : undefined,
      });
    }
    this.#windows.set(tier, out);
    return out;
  }
}

/** The `PromQLError` that `fn` throws; fails the test when it throws none. */
export function errorOf(fn: () => unknown): PromQLError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PromQLError, `not a PromQLError: ${error}`);
    return error;
  }
  assert.fail("expected a PromQLError");
}
