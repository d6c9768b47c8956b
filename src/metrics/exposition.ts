/**
 * Exposition formats: which one a scraper asked for, and how to label it.
 *
 * @module
 */

/** `text`: Prometheus text format 0.0.4; `openmetrics`: OpenMetrics 1.0.0. */
export type ExpositionFormat = "text" | "openmetrics";

/** The exact `Content-Type` of each format. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  text: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

interface MediaRange {
  type: string;
  q: number;
}

const TOKEN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Parses one `type/subtype;param=value` range; `null` when malformed. */
function parseRange(part: string): MediaRange | null {
  const [media, ...params] = part.split(";");
  const [type, subtype, extra] = media.trim().toLowerCase().split("/");
  if (
    extra !== undefined || !type || !subtype || !TOKEN.test(type) ||
    !TOKEN.test(subtype)
  ) {
    return null;
  }
  let q = 1;
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq < 0) return null;
    const key = p.slice(0, eq).trim().toLowerCase();
    const value = p.slice(eq + 1).trim();
    if (!TOKEN.test(key)) return null;
    if (key === "q") {
      if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value)) return null;
      q = Number(value);
    }
  }
  return { type: `${type}/${subtype}`, q };
}

/**
 * The format an `Accept` header asks for: OpenMetrics when
 * `application/openmetrics-text` is accepted at least as much as plain
 * text, else text 0.0.4. A missing or malformed header gets text 0.0.4;
 * malformed parts of a header are ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { negotiateFormat } from "./exposition.ts";
 *
 * assert.deepEqual(
 *   negotiateFormat(
 *     "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
 *   ),
 *   "openmetrics",
 * );
 * assert.deepEqual(negotiateFormat("text/plain"), "text");
 * assert.deepEqual(negotiateFormat("%%%"), "text");
 * ```
 */
export function negotiateFormat(
  accept: string | null | undefined,
): ExpositionFormat {
  if (!accept || accept.length > 4096) return "text";
  let om = 0;
  let text = 0;
  for (const part of accept.split(",")) {
    const r = parseRange(part);
    if (r === null) continue;
    if (r.type === "application/openmetrics-text") om = Math.max(om, r.q);
    else if (
      r.type === "text/plain" || r.type === "text/*" || r.type === "*/*"
    ) {
      text = Math.max(text, r.q);
    }
  }
  return om > 0 && om >= text ? "openmetrics" : "text";
}

/**
 * Whether an `Accept-Encoding` header accepts gzip (`gzip` or `*` with a
 * non-zero q).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptsGzip } from "./exposition.ts";
 *
 * assert.deepEqual(acceptsGzip("gzip, deflate, br"), true);
 * assert.deepEqual(acceptsGzip("gzip;q=0"), false);
 * assert.deepEqual(acceptsGzip(null), false);
 * ```
 */
export function acceptsGzip(
  acceptEncoding: string | null | undefined,
): boolean {
  if (!acceptEncoding) return false;
  let star = false;
  for (const part of acceptEncoding.split(",")) {
    const [coding, ...params] = part.split(";");
    const name = coding.trim().toLowerCase();
    if (name !== "gzip" && name !== "*") continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    const ok = Number.isFinite(q) && q > 0;
    if (name === "gzip") return ok;
    star = ok;
  }
  return star;
}

/** One metric's entry in `/api/v1/metadata`. */
export interface MetricMetadata {
  /** `counter`, `gauge`, `histogram` (or `summary` for a user's metric). */
  type: string;
  /** The `# HELP` text. */
  help: string;
  /** The base unit (`seconds`, `bytes`) or `""`. */
  unit: string;
  /** The label names, in exposition order (`le` not included). */
  labels: string[];
}

/**
 * What an exposition endpoint serves: the text of a scrape and the
 * metadata of every metric. A `MetricsCollector` is one.
 */
export interface MetricsSource {
  /**
   * The whole exposition in a format. Resolves even when a collector
   * throws (its metrics are left out and the failure counted).
   */
  render(format: ExpositionFormat): Promise<string>;
  /**
   * Every metric by full name, shaped like Prometheus's own
   * `/api/v1/metadata` data (a list per name), plus the label names.
   */
  metadata(): Record<string, MetricMetadata[]>;
}
