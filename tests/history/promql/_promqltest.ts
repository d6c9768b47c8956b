/**
 * A runner for the test-script format of Prometheus's own PromQL tests
 * (prometheus/prometheus, promql/testdata/*.test at v2.42.0, Apache-2.0):
 * `load <interval>` with series lines in the expanding notation
 * (`0+10x5`, `1x3`, `_`, `stale`), `eval instant at <time> <expr>` (also
 * `eval_fail`, `eval_ordered`) followed by the expected series, and
 * `clear`. Written for weir (the format is read, not Prometheus's code).
 *
 * Each `eval` becomes one {@linkcode EvalCase}; {@linkcode runCase}
 * evaluates it with weir's PromQL against a {@linkcode FakeReader} holding
 * the loaded samples and returns a description of the mismatch, or
 * undefined when weir agrees.
 *
 * @module
 */
import {
  parseDuration,
  PromQLError,
  queryInstant,
} from "../../../src/history/promql/mod.ts";
import type { SeriesLabels } from "../../../src/history/types.ts";
import { FakeReader } from "./_fake_reader.ts";

/** One `eval` and the samples loaded before it. */
export interface EvalCase {
  readonly line: number;
  readonly expr: string;
  readonly atMs: number;
  readonly fail: boolean;
  readonly ordered: boolean;
  /** Expected series (`labels` undefined for a scalar result). */
  readonly expected: { labels: SeriesLabels | undefined; value: number }[];
  readonly load: readonly LoadedSeries[];
}

interface LoadedSeries {
  labels: SeriesLabels;
  t: number[];
  v: Float64Array;
}

const STALE = (() => {
  const a = new Float64Array(1);
  const w = new Uint32Array(a.buffer);
  w[0] = 2;
  w[1] = 0x7ff00000;
  return a;
})();

function parseValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === "inf" || lower === "+inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  const n = Number(text);
  if (Number.isNaN(n)) throw new SyntaxError(`bad value ${text}`);
  return n;
}

/** Splits `metric{a="b", c="d"} rest` into the labels and the rest. */
function parseDescriptor(line: string): { labels: SeriesLabels; rest: string } {
  const s = line.trim();
  let i = 0;
  while (i < s.length && /[A-Za-z0-9_:]/.test(s[i])) i++;
  const name = s.slice(0, i);
  const labels: Record<string, string> = {};
  if (name !== "") labels.__name__ = name;
  if (s[i] === "{") {
    i++;
    for (;;) {
      while (s[i] === " " || s[i] === ",") i++;
      if (s[i] === "}") {
        i++;
        break;
      }
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(
        s.slice(i),
      );
      if (m === null) throw new SyntaxError(`bad labels in ${line}`);
      labels[m[1]] = JSON.parse(`"${m[2]}"`);
      i += m[0].length;
    }
  }
  return { labels, rest: s.slice(i).trim() };
}

function expandValues(
  text: string,
  intervalMs: number,
): { t: number[]; v: Float64Array } {
  const values: number[] = [];
  const stale: boolean[] = [];
  const times: number[] = [];
  let step = 0;
  for (const item of text.split(/\s+/).filter((x) => x !== "")) {
    let m: RegExpExecArray | null;
    if (item === "_") {
      step++;
    } else if ((m = /^_x(\d+)$/.exec(item)) !== null) {
      step += Number(m[1]);
    } else if (item === "stale") {
      times.push(step++ * intervalMs);
      values.push(NaN);
      stale.push(true);
    } else if (
      (m = /^([^+\-x]+|[+-][^+\-x]+)(?:([+-][^x]+))?x(\d+)$/.exec(item)) !==
        null
    ) {
      let x = parseValue(m[1]);
      const inc = m[2] === undefined ? 0 : parseValue(m[2]);
      for (let k = 0; k <= Number(m[3]); k++) {
        times.push(step++ * intervalMs);
        values.push(x);
        stale.push(false);
        x += inc;
      }
    } else {
      times.push(step++ * intervalMs);
      values.push(parseValue(item));
      stale.push(false);
    }
  }
  const v = new Float64Array(values);
  const words = new Uint32Array(v.buffer);
  const staleWords = new Uint32Array(STALE.buffer);
  stale.forEach((s, i) => {
    if (s) {
      words[2 * i] = staleWords[0];
      words[2 * i + 1] = staleWords[1];
    }
  });
  return { t: times, v };
}

/** Parses a test script into its eval cases. */
export function parseScript(text: string): EvalCase[] {
  const lines = text.split("\n");
  const cases: EvalCase[] = [];
  let load: LoadedSeries[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line === "clear") {
      load = [];
      continue;
    }
    let m = /^load\s+(\S+)$/.exec(line);
    if (m !== null) {
      const interval = parseDuration(m[1]) ?? 0;
      load = [...load];
      while (
        i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]) &&
        !lines[i + 1].trim().startsWith("#")
      ) {
        const { labels, rest } = parseDescriptor(lines[++i]);
        const { t, v } = expandValues(rest, interval);
        load.push({ labels, t, v });
      }
      continue;
    }
    m = /^eval(?:_(fail|ordered))?\s+instant\s+at\s+(\S+)\s+(.+)$/.exec(line);
    if (m === null) {
      throw new SyntaxError(
        `line ${i + 1}: cannot read ${JSON.stringify(line)}`,
      );
    }
    const expected: { labels: SeriesLabels | undefined; value: number }[] = [];
    const evalLine = i + 1;
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1])) {
      const l = lines[++i].trim();
      if (l.startsWith("#")) continue;
      if (/^[-+]?([0-9.]|Inf|NaN)/i.test(l) && !l.includes("{")) {
        expected.push({ labels: undefined, value: parseValue(l) });
        continue;
      }
      const { labels, rest } = parseDescriptor(l);
      expected.push({ labels, value: parseValue(rest) });
    }
    cases.push({
      line: evalLine,
      expr: m[3],
      atMs: parseDuration(m[2]) ?? 0,
      fail: m[1] === "fail",
      ordered: m[1] === "ordered",
      expected,
      load,
    });
  }
  return cases;
}

function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const diff = Math.abs(a - b);
  const minNormal = 2.2250738585072014e-308;
  if (a === 0 || b === 0 || diff < minNormal) return diff < 1e-6 * minNormal;
  return diff / (Math.abs(a) + Math.abs(b)) < 1e-6;
}

function key(labels: SeriesLabels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

/**
 * Evaluates one case; returns what went wrong, or undefined. With
 * `selectEach`, the reader hands series over one at a time in reused
 * arrays (see `FakeReader.withSelectEach()`).
 */
export function runCase(
  c: EvalCase,
  options: { selectEach?: boolean } = {},
): string | undefined {
  const reader = options.selectEach
    ? new FakeReader().withSelectEach()
    : new FakeReader();
  for (const s of c.load) reader.add(s.labels, s.t, s.v);
  let result;
  try {
    result = queryInstant(reader, c.expr, c.atMs, { nowMs: c.atMs });
  } catch (error) {
    if (c.fail && error instanceof PromQLError) return undefined;
    return `line ${c.line}: ${c.expr}: threw ${(error as Error).message}`;
  }
  if (c.fail) {
    return `line ${c.line}: ${c.expr}: expected an error, got ${
      JSON.stringify(result)
    }`;
  }
  if (result.resultType === "scalar") {
    if (c.expected.length !== 1 || c.expected[0].labels !== undefined) {
      return `line ${c.line}: ${c.expr}: got scalar ${
        result.result[1]
      }, expected ${JSON.stringify(c.expected)}`;
    }
    return almostEqual(result.result[1], c.expected[0].value)
      ? undefined
      : `line ${c.line}: ${c.expr}: got ${result.result[1]}, expected ${
        c.expected[0].value
      }`;
  }
  if (result.resultType !== "vector") {
    return `line ${c.line}: ${c.expr}: got a ${result.resultType}`;
  }
  const got = result.result;
  const show = () =>
    got.map((s) => `${key(s.metric)} ${s.value[1]}`).join("; ");
  if (got.length !== c.expected.length) {
    return `line ${c.line}: ${c.expr}: got ${got.length} series (${show()}), expected ${c.expected.length}`;
  }
  for (let i = 0; i < c.expected.length; i++) {
    const e = c.expected[i];
    const want = key(e.labels ?? {});
    const match = c.ordered
      ? (key(got[i].metric) === want ? got[i] : undefined)
      : got.find((s) => key(s.metric) === want);
    if (match === undefined) {
      return `line ${c.line}: ${c.expr}: no series ${want} in ${show()}`;
    }
    if (!almostEqual(match.value[1], e.value)) {
      return `line ${c.line}: ${c.expr}: ${want} is ${
        match.value[1]
      }, expected ${e.value}`;
    }
  }
  return undefined;
}
