/**
 * The PromQL functions over instant vectors and scalars (abs, clamp,
 * round, label_replace, histogram_quantile, time, vector, scalar, ...),
 * with Prometheus 2.42's semantics: every function that computes a new
 * value drops the metric name; sort, sort_desc, label_replace and
 * label_join keep it.
 *
 * @module
 */
import type { SeriesLabels } from "../types.ts";
import type { Call, VectorSelector } from "./ast.ts";
import { absentOf, type Evaluator } from "./evaluator.ts";
import { parseGoFloat } from "./literals.ts";
import { PromQLError } from "./promql_error.ts";
import { compileAnchored, type PromRegex } from "./regex.ts";
import {
  dropName,
  labelsKey,
  mergeSameLabels,
  type StepSeries,
  type Value,
} from "./series.ts";

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const MATH: Readonly<Record<string, (x: number) => number>> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  deg: (x) => x * 180 / Math.PI,
  rad: (x) => x * Math.PI / 180,
  sgn: (x) => x > 0 ? 1 : x < 0 ? -1 : x,
};

const DATE: Readonly<Record<string, (d: Date) => number>> = {
  year: (d) => d.getUTCFullYear(),
  month: (d) => d.getUTCMonth() + 1,
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return Math.floor((d.getTime() - start) / 86_400_000) + 1;
  },
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  days_in_month: (d) =>
    new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
};

/** `fn` applied to every value, the metric name dropped. */
function mapValues(
  series: StepSeries[],
  fn: (x: number, i: number) => number,
): StepSeries[] {
  const out = series.map((s) => {
    const v = new Float64Array(s.v.length);
    for (let i = 0; i < v.length; i++) if (s.ok[i]) v[i] = fn(s.v[i], i);
    return { labels: dropName(s.labels), v, ok: s.ok };
  });
  return mergeSameLabels(out);
}

/**
 * Evaluates a call of a function that does not take a range vector.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Evaluator } from "./evaluator.ts";
 * import { evalFunction } from "./functions.ts";
 * import { parseQuery } from "./parse.ts";
 *
 * const reader = { tiers: [], select: () => [], series: () => [], labelNames: () => [], labelValues: () => [] };
 * const ev = new Evaluator({ reader, tier: 0, startMs: 0, endMs: 0, stepMs: 1,
 *   lookbackMs: 300_000, maxSamples: 1000, deadline: Infinity });
 * const value = evalFunction(ev, parseQuery("vector(-2.5)") as never);
 * assert.equal(value.kind === "vector" && value.series[0].v[0], -2.5);
 * ```
 */
export function evalFunction(ev: Evaluator, call: Call): Value {
  const f = call.func;
  const args = call.args;
  const math = MATH[f];
  if (math !== undefined) {
    return { kind: "vector", series: mapValues(ev.evalVector(args[0]), math) };
  }
  const date = DATE[f];
  if (date !== undefined) {
    if (args.length === 0) {
      const v = ev.times.map((t) =>
        date(new Date(Math.trunc(t / 1000) * 1000))
      );
      return {
        kind: "vector",
        series: [{ labels: {}, v, ok: new Uint8Array(ev.n).fill(1) }],
      };
    }
    return {
      kind: "vector",
      series: mapValues(
        ev.evalVector(args[0]),
        (x) => Number.isFinite(x) ? date(new Date(Math.trunc(x) * 1000)) : NaN,
      ),
    };
  }
  switch (f) {
    case "time":
      return { kind: "scalar", v: ev.times.map((t) => t / 1000) };
    case "pi":
      return { kind: "scalar", v: ev.constant(Math.PI) };
    case "vector": {
      const v = ev.evalScalar(args[0]);
      return {
        kind: "vector",
        series: [{ labels: {}, v, ok: new Uint8Array(ev.n).fill(1) }],
      };
    }
    case "scalar": {
      const series = ev.evalVector(args[0]);
      const out = new Float64Array(ev.n).fill(NaN);
      for (let i = 0; i < ev.n; i++) {
        let count = 0;
        let value = NaN;
        for (const s of series) {
          if (s.ok[i]) {
            count++;
            value = s.v[i];
          }
        }
        if (count === 1) out[i] = value;
      }
      return { kind: "scalar", v: out };
    }
    case "timestamp": {
      const arg = args[0];
      if (arg.type === "vector") {
        const series = ev.vectorWithTimestamps(arg);
        return {
          kind: "vector",
          series: mergeSameLabels(series.map((s) => ({
            labels: dropName(s.labels),
            v: (s.ts as Float64Array).map((t) => t / 1000),
            ok: s.ok,
          }))),
        };
      }
      return {
        kind: "vector",
        series: mapValues(ev.evalVector(arg), (_x, i) => ev.times[i] / 1000),
      };
    }
    case "absent": {
      const arg = args[0];
      const sel = arg.type === "vector" ? arg as VectorSelector : undefined;
      return { kind: "vector", series: absentOf(ev, sel, ev.evalVector(arg)) };
    }
    case "sort":
    case "sort_desc":
      // The order of an instant query's result is set by query.ts.
      return { kind: "vector", series: ev.evalVector(args[0]) };
    case "round": {
      const series = ev.evalVector(args[0]);
      const to = args.length > 1 ? ev.evalScalar(args[1]) : ev.constant(1);
      return {
        kind: "vector",
        series: mapValues(series, (x, i) => {
          const inverse = 1 / to[i];
          return Math.floor(x * inverse + 0.5) / inverse;
        }),
      };
    }
    case "clamp": {
      const series = ev.evalVector(args[0]);
      const min = ev.evalScalar(args[1]);
      const max = ev.evalScalar(args[2]);
      const out = mapValues(series, (x, i) => goMax(min[i], goMin(max[i], x)));
      // Prometheus gives nothing at steps where max < min.
      for (const s of out) {
        for (let i = 0; i < ev.n; i++) if (max[i] < min[i]) s.ok[i] = 0;
      }
      return { kind: "vector", series: out };
    }
    case "clamp_max": {
      const series = ev.evalVector(args[0]);
      const max = ev.evalScalar(args[1]);
      return {
        kind: "vector",
        series: mapValues(series, (x, i) => goMin(max[i], x)),
      };
    }
    case "clamp_min": {
      const series = ev.evalVector(args[0]);
      const min = ev.evalScalar(args[1]);
      return {
        kind: "vector",
        series: mapValues(series, (x, i) => goMax(min[i], x)),
      };
    }
    case "label_replace":
      return { kind: "vector", series: labelReplace(ev, call) };
    case "label_join":
      return { kind: "vector", series: labelJoin(ev, call) };
    case "histogram_quantile":
      return { kind: "vector", series: histogramQuantile(ev, call) };
  }
  throw new PromQLError(
    "execution",
    `function ${JSON.stringify(f)} is not supported by weir's PromQL`,
  );
}

/** Go's math.Max: NaN wins, +0 beats -0. */
function goMax(a: number, b: number): number {
  return Math.max(a, b);
}

/** Go's math.Min: NaN wins, -0 beats +0. */
function goMin(a: number, b: number): number {
  return Math.min(a, b);
}

function stringArg(call: Call, i: number): string {
  const arg = call.args[i];
  if (arg.type !== "string") {
    throw new PromQLError(
      "execution",
      `expected a string literal as argument ${i + 1} of ${call.func}()`,
    );
  }
  return arg.value;
}

/** Go's regexp.Expand of `template` with the match's groups. */
function expand(template: string, match: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== "$" || i === template.length - 1) {
      out += ch;
      continue;
    }
    const next = template[i + 1];
    if (next === "$") {
      out += "$";
      i++;
      continue;
    }
    let name: string;
    if (next === "{") {
      const close = template.indexOf("}", i + 2);
      const inner = close < 0 ? "" : template.slice(i + 2, close);
      if (close < 0 || !/^\w+$/.test(inner)) {
        out += ch;
        continue;
      }
      name = inner;
      i = close;
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (m === null) {
        out += ch;
        continue;
      }
      name = m[0];
      i += name.length;
    }
    // Go's Regexp.Expand: a number of at most 9 digits and no leading
    // zero is a group index; anything else (`$01`) a group name.
    if (/^(?:0|[1-9]\d{0,8})$/.test(name)) out += match[Number(name)] ?? "";
    else out += match.groups?.[name] ?? "";
  }
  return out;
}

function withLabel(
  labels: SeriesLabels,
  name: string,
  value: string,
): SeriesLabels {
  const out: Record<string, string> = { ...labels };
  if (value === "") delete out[name];
  else out[name] = value;
  return out;
}

function labelReplace(ev: Evaluator, call: Call): StepSeries[] {
  const dst = stringArg(call, 1);
  const replacement = stringArg(call, 2);
  const src = stringArg(call, 3);
  const regexSource = stringArg(call, 4);
  // 2.42 checks these arguments while evaluating (a panic the engine turns
  // into an execution error): 422, not a 400 for the query's text.
  let re: PromRegex;
  try {
    re = compileAnchored(regexSource);
  } catch {
    throw new PromQLError(
      "execution",
      `invalid regular expression in label_replace(): ${regexSource}`,
    );
  }
  if (!LABEL_NAME.test(dst)) {
    throw new PromQLError(
      "execution",
      `invalid destination label name in label_replace(): ${dst}`,
    );
  }
  const series = ev.evalVector(call.args[0]);
  const out = series.map((s) => {
    const match = re.exec(s.labels[src] ?? "");
    if (match === null) return s;
    const value = expand(replacement, match);
    _boundedLabel("label_replace", dst, value.length);
    return { ...s, labels: withLabel(s.labels, dst, value) };
  });
  return mergeSameLabels(out);
}

/**
 * The longest label value label_replace() and label_join() make (bytes of
 * UTF-16, about characters): nested, each can double a value, and a
 * 600-character query then built a label of gigabytes.
 */
export const MAX_LABEL_VALUE = 65_536;

/** Throws an execution error when `length` is more than MAX_LABEL_VALUE. */
function _boundedLabel(fn: string, name: string, length: number): void {
  if (length > MAX_LABEL_VALUE) {
    throw new PromQLError(
      "execution",
      `${fn}(): the value of label "${name}" would be ${length} characters long, more than ${MAX_LABEL_VALUE}`,
    );
  }
}

function labelJoin(ev: Evaluator, call: Call): StepSeries[] {
  const dst = stringArg(call, 1);
  const sep = stringArg(call, 2);
  const srcs: string[] = [];
  for (let i = 3; i < call.args.length; i++) {
    const src = stringArg(call, i);
    if (!LABEL_NAME.test(src)) {
      throw new PromQLError(
        "execution",
        `invalid source label name in label_join(): ${src}`,
      );
    }
    srcs.push(src);
  }
  if (!LABEL_NAME.test(dst)) {
    throw new PromQLError(
      "execution",
      `invalid destination label name in label_join(): ${dst}`,
    );
  }
  const series = ev.evalVector(call.args[0]);
  const out = series.map((s) => {
    let length = sep.length * Math.max(0, srcs.length - 1);
    for (const n of srcs) length += (s.labels[n] ?? "").length;
    // Measured before it is built.
    _boundedLabel("label_join", dst, length);
    return {
      ...s,
      labels: withLabel(
        s.labels,
        dst,
        srcs.map((n) => s.labels[n] ?? "").join(sep),
      ),
    };
  });
  return mergeSameLabels(out);
}

interface Bucket {
  upper: number;
  count: number;
}

/**
 * Prometheus's bucketQuantile over classic `le` buckets: linear
 * interpolation inside the bucket the rank falls in; NaN without a `+Inf`
 * bucket or observations.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bucketQuantile } from "./functions.ts";
 *
 * const buckets = [{ upper: 1, count: 50 }, { upper: 2, count: 100 }, { upper: Infinity, count: 100 }];
 * assert.equal(bucketQuantile(0.75, buckets), 1.5);
 * assert.ok(Number.isNaN(bucketQuantile(0.5, [{ upper: 1, count: 1 }])));
 * ```
 */
export function bucketQuantile(q: number, input: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = input.slice().sort((a, b) => a.upper - b.upper);
  if (sorted.length === 0 || sorted[sorted.length - 1].upper !== Infinity) {
    return NaN;
  }
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last !== undefined && last.upper === b.upper) last.count += b.count;
    else buckets.push({ ...b });
  }
  let max = -Infinity;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1].count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  // Go's sort.Search over all but the +Inf bucket: a NaN count (neither
  // raised nor raising in the monotonic pass) lands where the bisection
  // does, as in 2.42, not at the first bucket a scan would stop at.
  let b = 0;
  let j = buckets.length - 1;
  while (b < j) {
    const h = (b + j) >>> 1;
    if (buckets[h].count >= rank) j = h;
    else b = h + 1;
  }
  if (b === buckets.length - 1) return buckets[buckets.length - 2].upper;
  if (b === 0 && buckets[0].upper <= 0) return buckets[0].upper;
  let start = 0;
  const end = buckets[b].upper;
  let count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].upper;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return start + (end - start) * (rank / count);
}

function histogramQuantile(ev: Evaluator, call: Call): StepSeries[] {
  const q = ev.evalScalar(call.args[0]);
  const series = ev.evalVector(call.args[1]);
  const groups = new Map<
    string,
    { labels: SeriesLabels; members: { upper: number; s: StepSeries }[] }
  >();
  for (const s of series) {
    const le = s.labels.le;
    if (le === undefined) continue;
    const upper = parseGoFloat(le);
    if (upper === undefined) continue;
    // Grouped by every label but le (the name too), then the name dropped:
    // two histograms that differ only by name collide, as in Prometheus.
    const { le: _, ...rest } = s.labels as Record<string, string>;
    const key = labelsKey(rest);
    let g = groups.get(key);
    if (g === undefined) {
      g = { labels: dropName(rest), members: [] };
      groups.set(key, g);
    }
    g.members.push({ upper, s });
  }
  const out: StepSeries[] = [];
  for (const g of groups.values()) {
    const v = new Float64Array(ev.n);
    const ok = new Uint8Array(ev.n);
    for (let i = 0; i < ev.n; i++) {
      const buckets: Bucket[] = [];
      for (const m of g.members) {
        if (m.s.ok[i]) buckets.push({ upper: m.upper, count: m.s.v[i] });
      }
      if (buckets.length === 0) continue;
      v[i] = bucketQuantile(q[i], buckets);
      ok[i] = 1;
    }
    if (ok.includes(1)) out.push({ labels: g.labels, v, ok });
  }
  return mergeSameLabels(out);
}
