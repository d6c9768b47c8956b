/**
 * A small reader of the Prometheus text format for tests: families with
 * their type and help, and samples with their labels.
 *
 * @module
 */

/** One sample line. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition. */
export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: ParsedSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

/** Parses text 0.0.4 or OpenMetrics; throws on a line it cannot read. */
export function parseExposition(text: string): Exposition {
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  for (const line of text.split("\n")) {
    if (line === "" || line === "# EOF") continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === "HELP" ? out.help : out.types).set(meta[2], meta[3]);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`unreadable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[2].length) {
        const l = LABEL.exec(m[2]);
        if (!l) throw new Error(`unreadable labels: ${m[2]}`);
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
      }
    }
    out.samples.push({ name: m[1], labels, value: Number(m[3]) });
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
