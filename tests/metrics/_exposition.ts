/**
 * A small reader of the Prometheus text format, for tests and benchmarks:
 * families with their type and help, and samples with their labels.
 *
 * @module
 */

/** One sample line of the exposition. */
export interface ParsedSample {
  /** The sample's name (`_bucket`, `_sum`, `_count` included). */
  name: string;
  /** Its labels, unescaped, in the order written. */
  labels: Record<string, string>;
  /** Its value. */
  value: number;
}

/** One metric family of the exposition, in the order written. */
export interface ParsedFamily {
  /** The family's name. */
  name: string;
  /** `counter`, `gauge`, `histogram`, ... */
  type: string;
  /** Its help text, unescaped. */
  help: string;
  /** Its samples. */
  samples: ParsedSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
}

/** Parses text 0.0.4 or OpenMetrics into its families; throws on a line it cannot read. */
export function parseFamilies(text: string): ParsedFamily[] {
  const families: ParsedFamily[] = [];
  const byName = new Map<string, ParsedFamily>();
  const family = (name: string) => {
    let f = byName.get(name);
    if (f === undefined) {
      f = { name, type: "untyped", help: "", samples: [] };
      byName.set(name, f);
      families.push(f);
    }
    return f;
  };
  let current: ParsedFamily | undefined;
  for (const line of text.split("\n")) {
    if (line === "" || line === "# EOF") continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      current = family(meta[2]);
      if (meta[1] === "HELP") current.help = unescape(meta[3]);
      else current.type = meta[3];
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m || current === undefined) {
      throw new Error(`unreadable exposition line: ${line}`);
    }
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[2].length) {
        const l = LABEL.exec(m[2]);
        if (!l) throw new Error(`unreadable labels: ${m[2]}`);
        labels[l[1]] = unescape(l[2]);
      }
    }
    current.samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return families;
}

/** A parsed exposition, flat. */
export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: ParsedSample[];
}

/** Parses text 0.0.4 or OpenMetrics; throws on a line it cannot read. */
export function parseExposition(text: string): Exposition {
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  for (const f of parseFamilies(text)) {
    out.types.set(f.name, f.type);
    out.help.set(f.name, f.help);
    out.samples.push(...f.samples);
  }
  return out;
}

/**
 * The value of the one sample of `name` whose labels include `labels`;
 * `undefined` when none; throws when several match.
 */
export function valueOf(
  e: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samplesOf(e, name, labels);
  if (found.length > 1) {
    throw new Error(
      `${found.length} samples of ${name} match ${JSON.stringify(labels)}`,
    );
  }
  return found[0]?.value;
}

/** Every sample of `name` whose labels include `labels`. */
export function samplesOf(
  e: Exposition,
  name: string,
  labels: Record<string, string> = {},
): ParsedSample[] {
  return e.samples.filter((s) =>
    s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
}
