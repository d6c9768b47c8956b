/**
 * PromQL's aggregation operators (`sum by (a)`, `topk`, `quantile`, ...)
 * with Prometheus 2.42's arithmetic (promql/engine.go aggregation): plain
 * sums, the running mean for avg, NaN replaced by any number in min/max,
 * Welford's variance for stddev/stdvar.
 *
 * Series-major: the group of a series is worked out once, then each step
 * adds into the group's typed arrays.
 *
 * @module
 */
import type { SeriesLabels } from "../types.ts";
import type { Aggregate } from "./ast.ts";
import type { Evaluator } from "./evaluator.ts";
import { PromQLError } from "./promql_error.ts";
import { quantile } from "./quantile.ts";
import {
  labelsKey,
  mergeSameLabels,
  type StepSeries,
  type Value,
} from "./series.ts";

interface Group {
  readonly labels: SeriesLabels;
  readonly members: StepSeries[];
}

/** The labels of the group `labels` belongs to. */
function groupLabels(
  labels: SeriesLabels,
  grouping: readonly string[],
  without: boolean,
): SeriesLabels {
  const out: Record<string, string> = {};
  if (without) {
    for (const name in labels) {
      if (name !== "__name__" && !grouping.includes(name)) {
        out[name] = labels[name];
      }
    }
  } else {
    for (const name of grouping) {
      const value = labels[name];
      if (value !== undefined && value !== "") out[name] = value;
    }
  }
  return out;
}

function groupBy(
  series: StepSeries[],
  grouping: readonly string[],
  without: boolean,
): Group[] {
  const groups = new Map<string, Group>();
  for (const s of series) {
    const labels = groupLabels(s.labels, grouping, without);
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (g === undefined) {
      g = { labels, members: [] };
      groups.set(key, g);
    }
    g.members.push(s);
  }
  return [...groups.values()];
}

/**
 * Go's strconv.FormatFloat(v, 'f', -1, 64), count_values' label value:
 * shortest digits, never an exponent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatGoFloat } from "./aggregate.ts";
 *
 * assert.equal(formatGoFloat(1e21), "1000000000000000000000");
 * assert.equal(formatGoFloat(1.5e-7), "0.00000015");
 * assert.equal(formatGoFloat(Infinity), "+Inf");
 * assert.equal(formatGoFloat(-0), "-0");
 * ```
 */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (Object.is(v, -0)) return "-0";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  const s = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, first, rest = "", expText] = m;
  const digits = first + rest;
  const exp = Number(expText);
  if (exp >= 0) {
    const intLen = exp + 1;
    return sign +
      (digits.length <= intLen
        ? digits + "0".repeat(intLen - digits.length)
        : digits.slice(0, intLen) + "." + digits.slice(intLen));
  }
  return sign + "0." + "0".repeat(-exp - 1) + digits;
}

/**
 * Evaluates an aggregation at every step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evalAggregate } from "./aggregate.ts";
 * import { Evaluator } from "./evaluator.ts";
 * import { parseQuery } from "./parse.ts";
 *
 * const reader = { tiers: [], select: () => [], series: () => [], labelNames: () => [], labelValues: () => [] };
 * const ev = new Evaluator({ reader, tier: 0, startMs: 0, endMs: 0, stepMs: 1,
 *   lookbackMs: 300_000, maxSamples: 1000, deadline: Infinity });
 * const value = evalAggregate(ev, parseQuery("sum(vector(1) or vector(2))") as never);
 * assert.equal(value.kind === "vector" && value.series[0].v[0], 1);
 * ```
 */
export function evalAggregate(ev: Evaluator, agg: Aggregate): Value {
  const series = ev.evalVector(agg.expr);
  const n = ev.n;
  const op = agg.op;
  if (op === "topk" || op === "bottomk") {
    const k = ev.evalScalar(agg.param!);
    return {
      kind: "vector",
      series: topk(ev, series, agg, k, n, op === "bottomk"),
    };
  }
  if (op === "count_values") {
    const param = agg.param!;
    const label = param.type === "string" ? param.value : "";
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) {
      throw new PromQLError(
        "execution",
        `invalid label name ${JSON.stringify(label)}`,
      );
    }
    return { kind: "vector", series: countValues(series, agg, label, n) };
  }
  const q = op === "quantile" ? ev.evalScalar(agg.param!) : undefined;
  const groups = groupBy(series, agg.grouping, agg.without);
  const out: StepSeries[] = [];
  for (const g of groups) {
    ev.checkTimeout();
    const v = new Float64Array(n);
    const ok = new Uint8Array(n);
    const count = new Float64Array(n);
    const mean = op === "avg" || op === "stddev" || op === "stdvar"
      ? new Float64Array(n)
      : undefined;
    const values: number[][] | undefined = op === "quantile"
      ? Array.from({ length: n }, () => [])
      : undefined;
    for (const s of g.members) {
      const sv = s.v;
      const sok = s.ok;
      for (let i = 0; i < n; i++) {
        if (!sok[i]) continue;
        const x = sv[i];
        const c = ++count[i];
        if (c === 1) {
          ok[i] = 1;
          switch (op) {
            case "sum":
            case "min":
            case "max":
              v[i] = x;
              break;
            case "avg":
              mean![i] = x;
              break;
            case "stddev":
            case "stdvar":
              mean![i] = x;
              v[i] = 0;
              break;
            case "quantile":
              values![i].push(x);
              break;
          }
          continue;
        }
        switch (op) {
          case "sum":
            v[i] += x;
            break;
          case "max":
            if (v[i] < x || Number.isNaN(v[i])) v[i] = x;
            break;
          case "min":
            if (v[i] > x || Number.isNaN(v[i])) v[i] = x;
            break;
          case "avg": {
            const m = mean![i];
            if (!Number.isFinite(m) && !Number.isNaN(m)) {
              if (
                !Number.isFinite(x) && !Number.isNaN(x) && (m > 0) === (x > 0)
              ) break;
              if (Number.isFinite(x)) break;
            }
            mean![i] = m + (x / c - m / c);
            break;
          }
          case "stddev":
          case "stdvar": {
            const delta = x - mean![i];
            mean![i] += delta / c;
            v[i] += delta * (x - mean![i]);
            break;
          }
          case "quantile":
            values![i].push(x);
            break;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      if (!ok[i]) continue;
      switch (op) {
        case "avg":
          v[i] = mean![i];
          break;
        case "count":
          v[i] = count[i];
          break;
        case "group":
          v[i] = 1;
          break;
        case "stdvar":
          v[i] = v[i] / count[i];
          break;
        case "stddev":
          v[i] = Math.sqrt(v[i] / count[i]);
          break;
        case "quantile":
          v[i] = quantile(q![i], values![i]);
          break;
      }
    }
    out.push({ labels: g.labels, v, ok });
  }
  ev.addSamples(out.length * n);
  return { kind: "vector", series: out };
}

/**
 * Go's fmt `%v` of a float64 (`%g`, shortest digits, an exponent from
 * 1e+06 on), for messages as Prometheus words them.
 */
function formatGoV(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  const [mantissa, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const digits = String(Math.abs(exp)).padStart(2, "0");
    return `${mantissa}e${exp < 0 ? "-" : "+"}${digits}`;
  }
  return String(x);
}

/** The largest float64 Go's int64(f) holds, and the smallest. */
const MAX_INT64 = 9223372036854774784;
const MIN_INT64 = -9223372036854775808;

function topk(
  ev: Evaluator,
  series: StepSeries[],
  agg: Aggregate,
  k: Float64Array,
  n: number,
  bottom: boolean,
): StepSeries[] {
  for (let i = 0; i < n; i++) {
    const x = k[i];
    if (!(x <= MAX_INT64 && x >= MIN_INT64)) {
      throw new PromQLError(
        "execution",
        `Scalar value ${formatGoV(x)} overflows int64`,
      );
    }
  }
  const groups = groupBy(series, agg.grouping, agg.without);
  const chosen = new Map<StepSeries, Uint8Array>();
  // 2.42's heap (container/heap over vectorByValueHeap, or the reverse
  // for bottomk): the root is the kept one to give up first, a NaN below
  // anything. A series goes in while fewer than k are kept, or when it is
  // better than the root or the root is NaN: the root popped first (for
  // k = 1 replaced in place). The same sifts keep the same one of equal
  // values as 2.42.
  const heap: StepSeries[] = [];
  let i = 0;
  const less = bottom
    ? (a: StepSeries, b: StepSeries) => {
      const x = a.v[i];
      return x !== x || x > b.v[i];
    }
    : (a: StepSeries, b: StepSeries) => {
      const x = a.v[i];
      return x !== x || x < b.v[i];
    };
  const up = (j: number) => {
    while (j > 0) {
      const parent = (j - 1) >> 1;
      if (!less(heap[j], heap[parent])) break;
      const swap = heap[parent];
      heap[parent] = heap[j];
      heap[j] = swap;
      j = parent;
    }
  };
  const down = (len: number) => {
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= len) break;
      let child = left;
      if (left + 1 < len && less(heap[left + 1], heap[left])) child = left + 1;
      if (!less(heap[child], heap[at])) break;
      const swap = heap[at];
      heap[at] = heap[child];
      heap[child] = swap;
      at = child;
    }
  };
  // The clock about every 16,384 series looked at (2.42 reads it each step).
  let work = 0;
  for (const g of groups) {
    ev.checkTimeout();
    const members = g.members;
    for (i = 0; i < n; i++) {
      work += members.length;
      if (work >= 16_384) {
        work = 0;
        ev.checkTimeout();
      }
      const want = Math.trunc(k[i]);
      if (!(want >= 1)) continue;
      heap.length = 0;
      for (const s of members) {
        if (!s.ok[i]) continue;
        if (heap.length < want) {
          heap.push(s);
          up(heap.length - 1);
          continue;
        }
        const root = heap[0].v[i];
        const x = s.v[i];
        if (!(bottom ? root > x : root < x) && root === root) continue;
        if (want === 1) {
          heap[0] = s;
          continue;
        }
        // container/heap's Pop, then Push.
        const last = heap.length - 1;
        heap[0] = heap[last];
        heap[last] = s;
        down(last);
        up(last);
      }
      for (const s of heap) {
        let flags = chosen.get(s);
        if (flags === undefined) {
          flags = new Uint8Array(n);
          chosen.set(s, flags);
        }
        flags[i] = 1;
      }
    }
  }
  const out: StepSeries[] = [];
  for (const s of series) {
    const flags = chosen.get(s);
    if (flags !== undefined) out.push({ labels: s.labels, v: s.v, ok: flags });
  }
  return out;
}

function countValues(
  series: StepSeries[],
  agg: Aggregate,
  label: string,
  n: number,
): StepSeries[] {
  const out = new Map<string, StepSeries>();
  for (const s of series) {
    const base = groupLabels(s.labels, agg.grouping, agg.without);
    for (let i = 0; i < n; i++) {
      if (!s.ok[i]) continue;
      const labels = { ...base, [label]: formatGoFloat(s.v[i]) };
      const key = labelsKey(labels);
      let o = out.get(key);
      if (o === undefined) {
        o = { labels, v: new Float64Array(n), ok: new Uint8Array(n) };
        out.set(key, o);
      }
      o.ok[i] = 1;
      o.v[i]++;
    }
  }
  return mergeSameLabels([...out.values()]);
}
