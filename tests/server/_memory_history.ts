/**
 * A small in-memory {@linkcode HistoryReader} with one raw tier, for the
 * query API's tests: series added with their samples, matched as the
 * contract says (anchored regular expressions, a missing label is "").
 */
import type {
  HistoryReader,
  LabelMatcher,
  SeriesKind,
  SeriesLabels,
  SeriesPoints,
  TierInfo,
} from "../../src/history/types.ts";
import { matcherTest } from "../../src/history/series_index.ts";

interface Stored {
  labels: SeriesLabels;
  kind: SeriesKind;
  t: number[];
  v: number[];
}

/** A HistoryReader over series held in arrays. */
export class MemoryHistory implements HistoryReader {
  readonly tiers: readonly TierInfo[];
  readonly #series = new Map<string, Stored>();

  constructor(resolutionMs = 1000) {
    this.tiers = [{ name: "raw", resolutionMs, retentionMs: 86_400_000 }];
  }

  /** Adds samples (time-ordered, ms) to a series, creating it on first use. */
  add(
    labels: SeriesLabels,
    samples: readonly (readonly [number, number])[],
    kind: SeriesKind = "gauge",
  ): this {
    const key = JSON.stringify(Object.entries(labels).sort());
    let s = this.#series.get(key);
    if (s === undefined) {
      s = { labels: { ...labels }, kind, t: [], v: [] };
      this.#series.set(key, s);
    }
    for (const [t, v] of samples) {
      if (s.t.length > 0 && t <= s.t[s.t.length - 1]) continue;
      s.t.push(t);
      s.v.push(v);
    }
    return this;
  }

  select(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
    _tier: number,
  ): SeriesPoints[] {
    const out: SeriesPoints[] = [];
    for (const s of this.#matching(matchers)) {
      const t: number[] = [];
      const v: number[] = [];
      for (let i = 0; i < s.t.length; i++) {
        if (s.t[i] >= start && s.t[i] <= end) {
          t.push(s.t[i]);
          v.push(s.v[i]);
        }
      }
      if (t.length > 0) {
        out.push({
          labels: s.labels,
          kind: s.kind,
          t: Float64Array.from(t),
          value: Float64Array.from(v),
        });
      }
    }
    return out;
  }

  series(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): SeriesLabels[] {
    return this.select(matchers, start, end, 0).map((p) => p.labels);
  }

  labelNames(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): string[] {
    const names = new Set<string>();
    for (const labels of this.series(matchers, start, end)) {
      for (const n of Object.keys(labels)) names.add(n);
    }
    return [...names].sort();
  }

  labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): string[] {
    const values = new Set<string>();
    for (const labels of this.series(matchers, start, end)) {
      if (labels[name] !== undefined) values.add(labels[name]);
    }
    return [...values].sort();
  }

  *#matching(matchers: readonly LabelMatcher[]): Iterable<Stored> {
    // The store's own matcher, so the fake cannot match differently.
    const tests = matchers.map(matcherTest);
    for (const s of this.#series.values()) {
      if (matchers.every((m, i) => tests[i](s.labels[m.name] ?? ""))) yield s;
    }
  }
}
