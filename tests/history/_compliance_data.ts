/**
 * Deterministic metric history shaped like weir's own series, standing in
 * for the compliance project's demo service (see _compliance_queries.ts
 * for the names): gauges, counters with resets, a histogram, a timestamp
 * gauge that moves now and then, and a series that comes and goes. The
 * same samples go to Prometheus (as OpenMetrics, backfilled with promtool)
 * and to weir's store.
 */
import type { SeriesKind, SeriesLabels } from "../../src/history/types.ts";
import { seededRandom as random } from "../_seeded_random.ts";

/** One generated series. */
export interface GeneratedSeries {
  /** The OpenMetrics family it belongs to. */
  family: string;
  /** Its OpenMetrics type. */
  type: "gauge" | "counter" | "histogram";
  /** Its labels, `__name__` included. */
  labels: SeriesLabels;
  /** How weir's store keeps it. */
  kind: SeriesKind;
  /** Times (ms) and values, ascending. */
  samples: [number, number][];
}

/** Options of {@linkcode generateHistory}. */
export interface GenerateOptions {
  /** The last sample's time (ms), rounded down to the interval. */
  endMs: number;
  /** How long the history is (ms). Default 2 h. */
  durationMs?: number;
  /** The spacing of samples (ms). Default 5000 (the compliance set-up scrapes every 5 s). */
  intervalMs?: number;
  /** The seed of the pseudo-random numbers. Default 14. */
  seed?: number;
  /**
   * Each instance's phase (ms, below the interval): the first on the
   * interval's grid (times that coincide with query steps and range
   * boundaries, as weir's sampler writes them), the others off it, as
   * scrapes are. Default `[0, 1234, 2500]`.
   */
  phasesMs?: readonly number[];
}

const INSTANCES = [
  "device.local:9100",
  "device.local:9101",
  "device.local:9102",
];
const PROCESSES = ["Read", "Parse", "Write"];
const MEMORY_TYPES = ["free", "used", "cached", "buffers"];
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, Infinity];

/** The history: about 144 series, one sample per interval each. */
export function generateHistory(options: GenerateOptions): GeneratedSeries[] {
  const {
    durationMs = 2 * 3_600_000,
    intervalMs = 5000,
    seed = 14,
    phasesMs = [0, 1234, 2500],
  } = options;
  const endMs = Math.floor(options.endMs / intervalMs) * intervalMs;
  const rand = random(seed);
  const out: GeneratedSeries[] = [];
  const steps = Math.floor(durationMs / intervalMs);

  INSTANCES.forEach((instance, i) => {
    const base = { instance, job: "weir" };
    const times: number[] = [];
    for (let s = steps; s >= 0; s--) {
      times.push(
        endMs - s * intervalMs - (intervalMs - phasesMs[i]) % intervalMs,
      );
    }

    for (const [k, type] of MEMORY_TYPES.entries()) {
      const level = (k + 1) * 2.5e8 * (i + 1);
      out.push({
        family: "weir_memory_bytes",
        type: "gauge",
        kind: "gauge",
        labels: { __name__: "weir_memory_bytes", ...base, type },
        samples: times.map((t) => [
          t,
          Math.round(
            level * (1 + 0.2 * Math.sin((t - times[0]) / 600_000 + k)) +
              rand() * 1e6,
          ),
        ]),
      });
    }

    out.push({
      family: "weir_threads",
      type: "gauge",
      kind: "gauge",
      labels: { __name__: "weir_threads", ...base },
      samples: times.map((t) => [t, [4, 8, 2][i]]),
    });

    for (const process of PROCESSES) {
      const labels = { ...base, flow: "etl", process };
      // A counter of messages, restarting now and then (a reset).
      let count = rand() * 1000;
      const rate = 5 + rand() * 50;
      out.push({
        family: "weir_process_messages",
        type: "counter",
        kind: "counter",
        labels: { __name__: "weir_process_messages_total", ...labels },
        samples: times.map((t) => {
          if (rand() < 0.002) count = 0;
          count += Math.floor(rate * (intervalMs / 1000) * (0.5 + rand()));
          return [t, count];
        }),
      });

      // Bytes buffered, growing, emptied now and then.
      let buffered = rand() * 1e5;
      out.push({
        family: "weir_process_buffered_bytes",
        type: "gauge",
        kind: "gauge",
        labels: { __name__: "weir_process_buffered_bytes", ...labels },
        samples: times.map((t) => {
          buffered = rand() < 0.003 ? rand() * 1000 : buffered + rand() * 500;
          return [t, Math.round(buffered)];
        }),
      });

      // When the last error happened (seconds): moves every few minutes.
      let last = (times[0] - 3_600_000) / 1000;
      out.push({
        family: "weir_process_last_error_timestamp_seconds",
        type: "gauge",
        kind: "gauge",
        labels: {
          __name__: "weir_process_last_error_timestamp_seconds",
          ...labels,
        },
        samples: times.map((t) => {
          if (rand() < 0.01) last = t / 1000;
          return [t, last];
        }),
      });

      // A latency histogram: cumulative buckets, sum and count.
      const buckets = BUCKETS.map(() => 0);
      let sum = 0;
      let count2 = 0;
      const bucketSamples = BUCKETS.map(() => [] as [number, number][]);
      const sumSamples: [number, number][] = [];
      const countSamples: [number, number][] = [];
      for (const t of times) {
        const n = Math.floor(rand() * 20);
        for (let j = 0; j < n; j++) {
          // Log-normal-ish latencies around 30 ms.
          const v = 0.03 * Math.exp((rand() + rand() + rand() - 1.5) * 2);
          sum += v;
          count2++;
          for (let b = 0; b < BUCKETS.length; b++) {
            if (v <= BUCKETS[b]) buckets[b]++;
          }
        }
        BUCKETS.forEach((_, b) => bucketSamples[b].push([t, buckets[b]]));
        sumSamples.push([t, sum]);
        countSamples.push([t, count2]);
      }
      const name = "weir_process_message_latency_seconds";
      BUCKETS.forEach((le, b) => {
        out.push({
          family: name,
          type: "histogram",
          kind: "counter",
          labels: {
            __name__: `${name}_bucket`,
            ...labels,
            le: le === Infinity ? "+Inf" : String(le),
          },
          samples: bucketSamples[b],
        });
      });
      out.push({
        family: name,
        type: "histogram",
        kind: "counter",
        labels: { __name__: `${name}_sum`, ...labels },
        samples: sumSamples,
      });
      out.push({
        family: name,
        type: "histogram",
        kind: "counter",
        labels: { __name__: `${name}_count`, ...labels },
        samples: countSamples,
      });
    }

    // Flows active: there for 7 minutes, gone for 4, and so on.
    out.push({
      family: "weir_flows_active",
      type: "gauge",
      kind: "gauge",
      labels: { __name__: "weir_flows_active", ...base },
      samples: times
        .filter((t) => Math.floor((t - times[0]) / 60_000) % 11 < 7)
        .map((t) => [t, 1 + Math.floor(rand() * 5)]),
    });
  });
  return out;
}

/** A float as OpenMetrics writes it. */
function omValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function omLabels(labels: SeriesLabels): string {
  const pairs = Object.entries(labels)
    .filter(([k]) => k !== "__name__")
    .map(([k, v]) =>
      `${k}="${
        v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
      }"`
    );
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/**
 * The series as one OpenMetrics text with a timestamp (seconds) on every
 * sample, each family together, ending in `# EOF`: what
 * `promtool tsdb create-blocks-from openmetrics` reads.
 */
export function toOpenMetrics(series: readonly GeneratedSeries[]): string {
  const families = new Map<string, GeneratedSeries[]>();
  for (const s of series) {
    const list = families.get(s.family) ?? [];
    list.push(s);
    families.set(s.family, list);
  }
  const lines: string[] = [];
  for (const [family, list] of families) {
    lines.push(`# TYPE ${family} ${list[0].type}`);
    for (const s of list) {
      const head = s.labels.__name__ + omLabels(s.labels);
      for (const [t, v] of s.samples) {
        lines.push(`${head} ${omValue(v)} ${(t / 1000).toFixed(3)}`);
      }
    }
  }
  lines.push("# EOF");
  return lines.join("\n") + "\n";
}
