/**
 * PromQL's binary operators between scalars and instant vectors, with
 * Prometheus 2.42's matching rules (promql/engine.go VectorBinop,
 * VectorAnd/Or/Unless): `on`/`ignoring` signatures, `group_left`/
 * `group_right` with included labels, `bool`, the metric name dropped by
 * arithmetic, and its errors for many-to-many matches.
 *
 * @module
 */
import type { SeriesLabels } from "../types.ts";
import type { Binary, BinaryOp, VectorMatching } from "./ast.ts";
import type { Evaluator } from "./evaluator.ts";
import { isComparison } from "./parse.ts";
import { PromQLError } from "./promql_error.ts";
import {
  dropName,
  labelsKey,
  labelsString,
  mergeSameLabels,
  type StepSeries,
  type Value,
} from "./series.ts";

/** Go's math.Pow where it differs from `**` (1 to any power, any number to ±0). */
function pow(a: number, b: number): number {
  if (b === 0 || a === 1) return 1;
  if (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) return 1;
  return a ** b;
}

/** `lhs op rhs` for two numbers: the value and whether a comparison holds. */
function elemOp(op: BinaryOp, lhs: number, rhs: number): [number, boolean] {
  switch (op) {
    case "+":
      return [lhs + rhs, true];
    case "-":
      return [lhs - rhs, true];
    case "*":
      return [lhs * rhs, true];
    case "/":
      return [lhs / rhs, true];
    case "%":
      return [lhs % rhs, true];
    case "^":
      return [pow(lhs, rhs), true];
    case "atan2":
      return [Math.atan2(lhs, rhs), true];
    case "==":
      return [lhs, lhs === rhs];
    case "!=":
      return [lhs, lhs !== rhs];
    case ">":
      return [lhs, lhs > rhs];
    case "<":
      return [lhs, lhs < rhs];
    case ">=":
      return [lhs, lhs >= rhs];
    case "<=":
      return [lhs, lhs <= rhs];
  }
  throw new PromQLError(
    "execution",
    `operator ${JSON.stringify(op)} not allowed for scalar operations`,
  );
}

/** Arithmetic drops the metric name (atan2 keeps it in 2.42, as comparisons and set operators). */
function dropsName(op: BinaryOp): boolean {
  return op === "+" || op === "-" || op === "*" || op === "/" || op === "%" ||
    op === "^";
}

/**
 * Evaluates a binary expression at every step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evalBinary } from "./binary.ts";
 * import { Evaluator } from "./evaluator.ts";
 * import { parseQuery } from "./parse.ts";
 *
 * const reader = { tiers: [], select: () => [], series: () => [], labelNames: () => [], labelValues: () => [] };
 * const ev = new Evaluator({ reader, tier: 0, startMs: 0, endMs: 0, stepMs: 1,
 *   lookbackMs: 300_000, maxSamples: 1000, deadline: Infinity });
 * const value = evalBinary(ev, parseQuery("2 ^ 10 > bool 1000") as never);
 * assert.equal(value.kind === "scalar" && value.v[0], 1);
 * ```
 */
export function evalBinary(ev: Evaluator, expr: Binary): Value {
  const lhs = ev.eval(expr.lhs);
  const rhs = ev.eval(expr.rhs);
  const op = expr.op;
  if (lhs.kind === "scalar" && rhs.kind === "scalar") {
    const v = new Float64Array(ev.n);
    for (let i = 0; i < ev.n; i++) {
      const [value, keep] = elemOp(op, lhs.v[i], rhs.v[i]);
      v[i] = isComparison(op) ? (keep ? 1 : 0) : value;
    }
    return { kind: "scalar", v };
  }
  if (lhs.kind === "vector" && rhs.kind === "scalar") {
    return {
      kind: "vector",
      series: vectorScalar(ev, expr, lhs.series, rhs.v, false),
    };
  }
  if (lhs.kind === "scalar" && rhs.kind === "vector") {
    return {
      kind: "vector",
      series: vectorScalar(ev, expr, rhs.series, lhs.v, true),
    };
  }
  if (lhs.kind !== "vector" || rhs.kind !== "vector") {
    throw new PromQLError(
      "execution",
      "binary expression must contain only scalar and instant vector types",
    );
  }
  const matching = expr.matching ??
    { card: "one-to-one", on: false, labels: [], include: [] };
  switch (op) {
    case "and":
      return {
        kind: "vector",
        series: setOp(ev, lhs.series, rhs.series, matching, "and"),
      };
    case "or":
      return {
        kind: "vector",
        series: setOp(ev, lhs.series, rhs.series, matching, "or"),
      };
    case "unless":
      return {
        kind: "vector",
        series: setOp(ev, lhs.series, rhs.series, matching, "unless"),
      };
  }
  return {
    kind: "vector",
    series: vectorVector(ev, expr, lhs.series, rhs.series, matching),
  };
}

function vectorScalar(
  ev: Evaluator,
  expr: Binary,
  series: StepSeries[],
  scalar: Float64Array,
  swap: boolean,
): StepSeries[] {
  const op = expr.op;
  const comparison = isComparison(op);
  const drop = dropsName(op) || expr.bool;
  const out: StepSeries[] = [];
  for (const s of series) {
    const v = new Float64Array(ev.n);
    const ok = new Uint8Array(ev.n);
    for (let i = 0; i < ev.n; i++) {
      if (!s.ok[i]) continue;
      const l = swap ? scalar[i] : s.v[i];
      const r = swap ? s.v[i] : scalar[i];
      let [value, keep] = elemOp(op, l, r);
      // The vector's value is kept, even when it is on the right.
      if (comparison && swap) value = r;
      if (expr.bool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      v[i] = value;
      ok[i] = 1;
    }
    if (ok.includes(1)) {
      out.push({ labels: drop ? dropName(s.labels) : s.labels, v, ok });
    }
  }
  return drop ? mergeSameLabels(out) : out;
}

/** The matching signature of a series. */
function signature(labels: SeriesLabels, matching: VectorMatching): string {
  const picked: Record<string, string> = {};
  if (matching.on) {
    for (const name of matching.labels) {
      const v = labels[name];
      if (v !== undefined) picked[name] = v;
    }
  } else {
    for (const name in labels) {
      if (name !== "__name__" && !matching.labels.includes(name)) {
        picked[name] = labels[name];
      }
    }
  }
  return labelsKey(picked);
}

function matchedLabels(
  labels: SeriesLabels,
  matching: VectorMatching,
): SeriesLabels {
  const out: Record<string, string> = {};
  for (const name of matching.labels) {
    if (labels[name] !== undefined) out[name] = labels[name];
  }
  return out;
}

function resultLabels(
  l: SeriesLabels,
  r: SeriesLabels,
  op: BinaryOp,
  matching: VectorMatching,
  bool: boolean,
): SeriesLabels {
  let out: Record<string, string> = { ...l };
  if (dropsName(op) || bool) delete out.__name__;
  if (matching.card === "one-to-one") {
    if (matching.on) {
      const kept: Record<string, string> = {};
      for (const name of matching.labels) {
        if (out[name] !== undefined) kept[name] = out[name];
      }
      // The name stays only when listed in on() and not dropped above.
      out = kept;
    } else {
      for (const name of matching.labels) delete out[name];
    }
  }
  for (const name of matching.include) {
    const v = r[name];
    if (v !== undefined && v !== "") out[name] = v;
    else delete out[name];
  }
  return out;
}

function vectorVector(
  ev: Evaluator,
  expr: Binary,
  lhsIn: StepSeries[],
  rhsIn: StepSeries[],
  matching: VectorMatching,
): StepSeries[] {
  const op = expr.op;
  const oneToMany = matching.card === "one-to-many";
  // The "many" side is walked; the "one" side is looked up.
  const many = oneToMany ? rhsIn : lhsIn;
  const one = oneToMany ? lhsIn : rhsIn;
  const oneSide = oneToMany ? "left" : "right";
  const oneBySig = new Map<string, StepSeries[]>();
  for (const s of one) {
    const sig = signature(s.labels, matching);
    const list = oneBySig.get(sig);
    if (list === undefined) oneBySig.set(sig, [s]);
    else list.push(s);
  }
  // The "one" side at each step, per signature; two at one step is an error.
  const oneAt = new Map<string, (StepSeries | undefined)[]>();
  for (const [sig, list] of oneBySig) {
    const at: (StepSeries | undefined)[] = new Array(ev.n);
    for (const s of list) {
      for (let i = 0; i < ev.n; i++) {
        if (!s.ok[i]) continue;
        const other = at[i];
        if (other !== undefined) {
          throw new PromQLError(
            "execution",
            `found duplicate series for the match group ${
              labelsString(matchedLabels(s.labels, matching))
            } on the ${oneSide} hand-side of the operation: [${
              labelsString(s.labels)
            }, ${
              labelsString(other.labels)
            }];many-to-many matching not allowed: matching labels must be unique on one side`,
          );
        }
        at[i] = s;
      }
    }
    oneAt.set(sig, at);
  }
  const out = new Map<string, StepSeries>();
  const matchedOneToOne = new Map<string, Uint8Array>();
  const matchedMany = new Map<string, Uint8Array>();
  for (const s of many) {
    ev.checkTimeout();
    const sig = signature(s.labels, matching);
    const at = oneAt.get(sig);
    if (at === undefined) continue;
    for (let i = 0; i < ev.n; i++) {
      if (!s.ok[i]) continue;
      const o = at[i];
      if (o === undefined) continue;
      let l = s.v[i];
      let r = o.v[i];
      if (oneToMany) [l, r] = [r, l];
      let [value, keep] = elemOp(op, l, r);
      if (expr.bool) {
        value = keep ? 1 : 0;
      } else if (!keep) continue;
      const labels = resultLabels(s.labels, o.labels, op, matching, expr.bool);
      const key = labelsKey(labels);
      if (matching.card === "one-to-one") {
        let seen = matchedOneToOne.get(sig);
        if (seen === undefined) {
          seen = new Uint8Array(ev.n);
          matchedOneToOne.set(sig, seen);
        }
        if (seen[i]) {
          throw new PromQLError(
            "execution",
            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
          );
        }
        seen[i] = 1;
      } else {
        const k = sig + "\x00" + key;
        let seen = matchedMany.get(k);
        if (seen === undefined) {
          seen = new Uint8Array(ev.n);
          matchedMany.set(k, seen);
        }
        if (seen[i]) {
          throw new PromQLError(
            "execution",
            "multiple matches for labels: grouping labels must ensure unique matches",
          );
        }
        seen[i] = 1;
      }
      let target = out.get(key);
      if (target === undefined) {
        target = {
          labels,
          v: new Float64Array(ev.n),
          ok: new Uint8Array(ev.n),
        };
        out.set(key, target);
      }
      if (target.ok[i]) {
        throw new PromQLError(
          "execution",
          "vector cannot contain metrics with the same labelset",
        );
      }
      target.v[i] = value;
      target.ok[i] = 1;
    }
  }
  return [...out.values()];
}

function setOp(
  ev: Evaluator,
  lhs: StepSeries[],
  rhs: StepSeries[],
  matching: VectorMatching,
  op: "and" | "or" | "unless",
): StepSeries[] {
  // Which signatures each side has at each step.
  const sigsAt = (series: StepSeries[]): Map<string, Uint8Array> => {
    const m = new Map<string, Uint8Array>();
    for (const s of series) {
      const sig = signature(s.labels, matching);
      let at = m.get(sig);
      if (at === undefined) {
        at = new Uint8Array(ev.n);
        m.set(sig, at);
      }
      for (let i = 0; i < ev.n; i++) if (s.ok[i]) at[i] = 1;
    }
    return m;
  };
  const filter = (
    series: StepSeries[],
    other: Map<string, Uint8Array>,
    keepWhenPresent: boolean,
  ): StepSeries[] => {
    const out: StepSeries[] = [];
    for (const s of series) {
      const at = other.get(signature(s.labels, matching));
      const ok = new Uint8Array(ev.n);
      for (let i = 0; i < ev.n; i++) {
        if (!s.ok[i]) continue;
        const present = at !== undefined && at[i] === 1;
        if (present === keepWhenPresent) ok[i] = 1;
      }
      if (ok.includes(1)) out.push({ labels: s.labels, v: s.v, ok });
    }
    return out;
  };
  switch (op) {
    case "and":
      return filter(lhs, sigsAt(rhs), true);
    case "unless":
      return filter(lhs, sigsAt(rhs), false);
    case "or": {
      const fromRhs = filter(rhs, sigsAt(lhs), false);
      return mergeSameLabels([...lhs, ...fromRhs]);
    }
  }
}
