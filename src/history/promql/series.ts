/**
 * The evaluator's values: a series' value at every evaluation step
 * (series-major, so a 1,000-series range query is 1,000 typed arrays, not
 * 240 vectors of objects), and the label-set helpers PromQL needs.
 *
 * @module
 */
import type { SeriesLabels } from "../types.ts";
import { PromQLError } from "./promql_error.ts";

/** One series of an instant vector at every step: `ok[i]` says whether it has a value at step `i`. */
export interface StepSeries {
  readonly labels: SeriesLabels;
  readonly v: Float64Array;
  readonly ok: Uint8Array;
  /** The samples' own timestamps (ms), kept by selectors for timestamp(). */
  readonly ts?: Float64Array;
}

/** A series of a range vector (an instant query of `x[5m]`). */
export interface RangeSeries {
  readonly labels: SeriesLabels;
  readonly t: number[];
  readonly v: number[];
}

/** What an expression evaluates to over all steps. */
export type Value =
  | { readonly kind: "scalar"; readonly v: Float64Array }
  | { readonly kind: "vector"; readonly series: StepSeries[] }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "matrix"; readonly series: RangeSeries[] };

const SEP = "\xff";

/**
 * A canonical key of a label set (names sorted), equal for equal sets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelsKey } from "./series.ts";
 *
 * assert.equal(labelsKey({ b: "2", a: "1" }), labelsKey({ a: "1", b: "2" }));
 * ```
 */
export function labelsKey(labels: SeriesLabels): string {
  const names = Object.keys(labels).sort();
  let key = "";
  for (const name of names) {
    const value = labels[name];
    if (value === "") continue;
    key += name + SEP + value + SEP;
  }
  return key;
}

/**
 * `labels` without `__name__`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropName } from "./series.ts";
 *
 * assert.deepEqual(dropName({ __name__: "up", job: "a" }), { job: "a" });
 * ```
 */
export function dropName(labels: SeriesLabels): SeriesLabels {
  if (!("__name__" in labels)) return labels;
  const { __name__: _, ...rest } = labels;
  return rest;
}

/**
 * Go's order of strings (by UTF-8 bytes, that is by code points), which
 * differs from JS's code-unit order only where a surrogate meets a code
 * unit from U+E000 up.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareStrings } from "./series.ts";
 *
 * assert.ok(compareStrings("\uFF5E", "\u{1F600}") < 0);
 * assert.ok(compareStrings("a", "b") < 0);
 * ```
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 || y < 0xd800) return x - y;
    return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

/**
 * A code unit from U+D800 up moved so that surrogates (astral code
 * points) sort after U+E000..U+FFFF, as their UTF-8 bytes do.
 */
export function utf8Rank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * Prometheus's order of label sets (labels.Compare): by sorted name/value
 * pairs (strings as Go compares them), a set that is a prefix of another
 * first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareLabels } from "./series.ts";
 *
 * assert.ok(compareLabels({ a: "1" }, { a: "2" }) < 0);
 * assert.ok(compareLabels({ a: "1", b: "1" }, { a: "1" }) > 0);
 * ```
 */
export function compareLabels(a: SeriesLabels, b: SeriesLabels): number {
  const an = Object.keys(a).sort();
  const bn = Object.keys(b).sort();
  const len = Math.min(an.length, bn.length);
  for (let i = 0; i < len; i++) {
    if (an[i] !== bn[i]) return compareStrings(an[i], bn[i]) < 0 ? -1 : 1;
    const av = a[an[i]];
    const bv = b[bn[i]];
    if (av !== bv) return compareStrings(av, bv) < 0 ? -1 : 1;
  }
  return an.length - bn.length;
}

/**
 * Prometheus's text form of a label set, for messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelsString } from "./series.ts";
 *
 * assert.equal(labelsString({ b: "2", a: "1" }), '{a="1", b="2"}');
 * ```
 */
export function labelsString(labels: SeriesLabels): string {
  const names = Object.keys(labels).sort();
  return "{" +
    names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(", ") + "}";
}

/**
 * Joins series that have equal label sets (after a function dropped the
 * metric name, say) into one; two of them with a value at the same step
 * is Prometheus's "vector cannot contain metrics with the same labelset".
 * With `whole`, two of them with values at any steps are (2.42 checks a
 * range function's or unary minus's whole matrix, ContainsSameLabelset).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeSameLabels } from "./series.ts";
 *
 * const a = { labels: { x: "1" }, v: new Float64Array([1, 0]), ok: new Uint8Array([1, 0]) };
 * const b = { labels: { x: "1" }, v: new Float64Array([0, 2]), ok: new Uint8Array([0, 1]) };
 * const [merged] = mergeSameLabels([a, b]);
 * assert.deepEqual([...merged.v], [1, 2]);
 * ```
 */
export function mergeSameLabels(
  series: StepSeries[],
  whole = false,
): StepSeries[] {
  if (series.length < 2) return series;
  const byKey = new Map<string, StepSeries>();
  let merged: StepSeries[] | undefined;
  for (const s of series) {
    const key = labelsKey(s.labels);
    const first = byKey.get(key);
    if (first === undefined) {
      byKey.set(key, s);
      continue;
    }
    merged ??= [];
    if (whole && s.ok.includes(1) && first.ok.includes(1)) {
      throw new PromQLError(
        "execution",
        "vector cannot contain metrics with the same labelset",
      );
    }
    for (let i = 0; i < s.ok.length; i++) {
      if (!s.ok[i]) continue;
      if (first.ok[i]) {
        throw new PromQLError(
          "execution",
          "vector cannot contain metrics with the same labelset",
        );
      }
      first.ok[i] = 1;
      first.v[i] = s.v[i];
      if (first.ts !== undefined && s.ts !== undefined) first.ts[i] = s.ts[i];
    }
  }
  return merged === undefined ? series : [...byKey.values()];
}
