/**
 * A minimal store for the sampler's tests: what the sampler writes, kept
 * as it came (series in order of creation, samples per series).
 *
 * @module
 */
import type { SampleTarget } from "../../src/history/sampler.ts";
import type { SeriesKind, SeriesLabels } from "../../src/history/types.ts";
import { isStaleAt } from "../../src/history/promql/_points.ts";

/** What the fake store keeps of a staleness marker (a NaN's payload read by its bits). */
export const STALE = "stale";

/** One series the fake store was asked for. */
export interface FakeSeries {
  labels: SeriesLabels;
  kind: SeriesKind;
  samples: [number, number | typeof STALE][];
}

/** Records `seriesRef` and `append` calls. */
export class FakeStore implements SampleTarget {
  readonly series: FakeSeries[] = [];
  readonly #byKey = new Map<string, number>();
  /** Calls of `seriesRef`. */
  refCalls = 0;

  seriesRef(labels: SeriesLabels, kind: SeriesKind): number {
    this.refCalls++;
    const key = JSON.stringify(Object.entries(labels).sort());
    let ref = this.#byKey.get(key);
    if (ref === undefined) {
      ref = this.series.push({ labels: { ...labels }, kind, samples: [] }) - 1;
      this.#byKey.set(key, ref);
    }
    return ref;
  }

  append(ref: number, t: number, v: number): void {
    this.series[ref].samples.push([t, v]);
  }

  appendBatch(
    refs: Int32Array,
    values: Float64Array,
    n: number,
    t: number,
  ): void {
    for (let i = 0; i < n; i++) {
      this.series[refs[i]].samples.push([
        t,
        isStaleAt(values, i) ? STALE : values[i],
      ]);
    }
  }

  /** The series of a name whose labels include `labels`. */
  find(name: string, labels: Record<string, string> = {}): FakeSeries[] {
    return this.series.filter((s) =>
      s.labels.__name__ === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    );
  }

  /** `name{a="1",...}` of a series, labels sorted: a key to compare by. */
  static key(labels: Record<string, string>): string {
    const { __name__: name, ...rest } = labels;
    return `${name}{${
      Object.keys(rest).sort().map((k) => `${k}=${JSON.stringify(rest[k])}`)
        .join(",")
    }}`;
  }
}
