/**
 * The one writer of exposition text (Prometheus text 0.0.4 and
 * OpenMetrics): weir's families write their samples into it directly, and
 * a registered prom-client metric's samples (read with its documented
 * `get()`) go through it too, so every line of a scrape is made here.
 *
 * @module
 */
import type { MetricObject, Sample } from "./_prom.ts";

/** A label set: label name to value. */
export type Labels = Readonly<Record<string, string>>;

/** Backslashes and newlines escaped, as in `# HELP` text and label values. */
function _escape(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A label value as exposition text (prom-client's escaping). */
function _escapeLabelValue(v: string): string {
  return _escape(v).replace(/"/g, '\\"');
}

/**
 * Labels as exposition text: `a="1",b="2"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelText } from "./text_writer.ts";
 *
 * assert.deepEqual(labelText({ flow: 'say "hi"', port: "in" }), 'flow="say \\"hi\\"",port="in"');
 * ```
 */
export function labelText(labels: Labels): string {
  let t = "";
  for (const k in labels) {
    t += `${t ? "," : ""}${k}="${_escapeLabelValue(labels[k])}"`;
  }
  return t;
}

/** A value of weir's own families. */
function _valueText(v: number): string {
  if (Number.isFinite(v)) return `${v}`;
  return Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
}

/**
 * A value of a registered prom-client metric, spelled as prom-client
 * spells it (`Nan`), so that its lines stay what they were.
 */
function _promValueText(v: number): string {
  if (Number.isNaN(v)) return "Nan";
  if (!Number.isFinite(v)) return v < 0 ? "-Inf" : "+Inf";
  return `${v}`;
}

/** Labels of a prom-client sample, `exclude`'s names left out. */
function _promLabels(
  labels: Readonly<Record<string, string | number>>,
  exclude: Readonly<Record<string, unknown>> | null,
): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (exclude !== null && Object.hasOwn(exclude, name)) continue;
    const v = typeof value === "string" ? _escapeLabelValue(value) : value;
    out.push(`${name}="${v}"`);
  }
  return out;
}

/**
 * A prom-client sample's own labels and the labels of its series. prom-
 * client's `Histogram.get()` merges a bucket's `le` (its only own label)
 * with the series' labels; its formatter writes the constant labels in
 * between, so the two are told apart again here.
 */
function _split(
  type: string,
  v: Sample,
): { own: Readonly<Record<string, string | number>>; shared: Labels | null } {
  const labels = v.labels ?? {};
  if (v.sharedLabels !== undefined) {
    return { own: labels, shared: v.sharedLabels };
  }
  if (type !== "histogram") return { own: labels, shared: null };
  const { le, ...shared } = labels;
  return {
    own: le === undefined ? {} : { le },
    shared: shared as Labels,
  };
}

/**
 * Writes one scrape's exposition: {@linkcode TextWriter.family} starts a
 * family, {@linkcode TextWriter.add} writes a sample of it (a weir family
 * is a {@linkcode SampleSink} writing here), {@linkcode TextWriter.metric}
 * writes a prom-client metric whole, and {@linkcode TextWriter.text}
 * joins the lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TextWriter } from "./text_writer.ts";
 *
 * const w = new TextWriter(false, { site: "a" });
 * w.family("jobs_total", "Jobs.", "counter");
 * w.add("", { queue: "q1" }, null, 3);
 * assert.deepEqual(
 *   w.text(),
 *   '# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total{queue="q1",site="a"} 3\n',
 * );
 * ```
 */
export class TextWriter {
  readonly #lines: string[] = [];
  readonly #openMetrics: boolean;
  /** The constant labels as text, for weir's families. */
  readonly #constText: string;
  /** The constant labels, for prom-client metrics; `null` when none. */
  readonly #constLabels: Labels | null;
  /** The sample name of the family being written. */
  #name = "";

  /** A writer of `openMetrics` or text 0.0.4, `constLabels` on every sample. */
  constructor(openMetrics: boolean, constLabels: Labels) {
    this.#openMetrics = openMetrics;
    this.#constText = labelText(constLabels);
    this.#constLabels = Object.keys(constLabels).length > 0
      ? constLabels
      : null;
  }

  /** Where the next family starts: what {@linkcode rollback} goes back to. */
  mark(): number {
    return this.#lines.length;
  }

  /** Takes out what was written since `mark` (a family that failed). */
  rollback(mark: number): void {
    this.#lines.length = mark;
  }

  /**
   * Starts a family `name` (its samples' name; an OpenMetrics counter's
   * family is named without `_total`): the blank line between families
   * in text 0.0.4, then `# HELP` and `# TYPE`.
   */
  family(name: string, help: string, type: string): void {
    if (!this.#openMetrics && this.#lines.length > 0) this.#lines.push("");
    const family = this.#openMetrics && type === "counter"
      ? name.replace(/_total$/, "")
      : name;
    this.#lines.push(
      `# HELP ${_escape(family)} ${_escape(help)}`,
      `# TYPE ${_escape(family)} ${type}`,
    );
    this.#name = name;
  }

  /**
   * One sample of the current family: its name plus `suffix`, `labels`
   * (`text` is them as exposition text when known already) and `le` (a
   * histogram bucket's bound), then the constant labels.
   */
  add(
    suffix: string,
    labels: Labels,
    text: string | null,
    value: number,
    le?: string,
  ): void {
    let t = text ?? labelText(labels);
    if (le !== undefined) t += `${t ? "," : ""}le="${le}"`;
    if (this.#constText) t += `${t ? "," : ""}${this.#constText}`;
    this.#lines.push(
      `${this.#name}${suffix}${t ? `{${t}}` : ""} ${_valueText(value)}`,
    );
  }

  /**
   * A prom-client metric whole, from what its `get()` gave, written as
   * prom-client's own formatter writes it (constant labels after a
   * sample's own labels and before its series', exemplars in OpenMetrics).
   */
  metric(m: MetricObject): void {
    this.family(m.name, m.help, m.type);
    const counterOm = this.#openMetrics && m.type === "counter";
    const family = counterOm ? m.name.replace(/_total$/, "") : m.name;
    for (const v of m.values ?? []) {
      let name = v.metricName ?? _escape(family);
      if (counterOm) name += "_total";
      const { own, shared } = _split(m.type, v);
      const labels = this.#constLabels === null
        ? own
        : { ...own, ...this.#constLabels, ...own };
      const parts = _promLabels(labels, shared);
      if (shared !== null) {
        const flat = _promLabels(shared, null).join(",");
        if (flat) parts.push(flat);
      }
      let line = `${name}${parts.length ? `{${parts.join(",")}}` : ""} ${
        _promValueText(v.value)
      }`;
      if (v.exemplar && this.#openMetrics) {
        line += ` # {${_promLabels(v.exemplar.labelSet, null).join(",")}} ${
          _promValueText(v.exemplar.value)
        } ${v.exemplar.timestamp}`;
      }
      this.#lines.push(line);
    }
  }

  /** The exposition: the lines, and `# EOF` in OpenMetrics. */
  text(): string {
    return [...this.#lines, this.#openMetrics ? "# EOF\n" : ""].join("\n");
  }
}
