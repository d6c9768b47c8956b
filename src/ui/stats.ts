/**
 * The `stats` snapshots of `GET /flows/:id/events` and the rates the page
 * derives from two consecutive ones (the server sends counters only).
 *
 * @module
 */

/** A histogram as the engine snapshots it (cumulative). */
export interface HistogramSnap {
  bounds: number[];
  counts: number[];
  sum: number;
  count: number;
}

/** Drops by reason. */
export type Drops = Record<string, number>;

/** One process of a snapshot. */
export interface ProcessStats {
  name: string;
  component: string;
  phase: string;
  activeActivations: number;
  activations: number;
  messagesIn: Record<string, number>;
  messagesOut: Record<string, number>;
  queueDepth: Record<string, number>;
  queueCapacity: Record<string, number>;
  queueWait: Record<string, HistogramSnap>;
  bufferedBytes?: number;
  processing: HistogramSnap;
  errors: Record<string, number>;
  lastErrorAt: string | null;
  starts: number;
  failures: number;
  breaker: string | { state: string } | null;
  drops: Drops;
}

/** One connection of a snapshot; `from` is `null` for an IIP. */
export interface ConnectionStats {
  from: string | null;
  to: string;
  toProcess: string;
  toPort: string;
  capacity: number;
  policy: string;
  depth: number;
  delivered: number;
  closed: boolean;
  drops: Drops;
}

/** `NetworkStats` (capped by the server for huge flows: `truncated`). */
export interface NetworkStats {
  name: string;
  state: string;
  processes: ProcessStats[];
  connections: ConnectionStats[];
  drops: Drops;
  backlog: number;
  bufferedBytes: number;
  latency?: HistogramSnap;
  partitions?: number;
  activeProcesses?: number;
  activeConnections?: number;
  /** What a snapshot cut to size left out. */
  truncated?: {
    processes: number;
    processesSent: number;
    connections: number;
    connectionsSent: number;
  };
}

/** The key of a drawn connection. */
export function connKey(from: string, to: string): string {
  return `${from}->${to}`;
}

/** The sum of an object's numbers. */
export function total(o: Record<string, number> | undefined): number {
  let n = 0;
  if (o !== undefined) { for (const k in o) n += o[k]; }
  return n;
}

/** A breaker's state name ("closed", "open", "half-open") or `null`. */
export function breakerState(b: ProcessStats["breaker"]): string | null {
  if (b === null || b === undefined) return null;
  return typeof b === "string" ? b : b.state;
}

/** Rates of a process, per second, over the last snapshot interval. */
export interface ProcessRates {
  in: number;
  out: number;
  inByPort: Record<string, number>;
  outByPort: Record<string, number>;
  errors: number;
  drops: number;
  /** The processing-time histogram of the interval (counts differences). */
  processing: HistogramSnap | null;
}

/** Rates of a connection, per second. */
export interface ConnRates {
  delivered: number;
  drops: number;
}

function _rate(now: number, before: number | undefined, dt: number): number {
  if (before === undefined || now < before || dt <= 0) return 0;
  return (now - before) / dt;
}

function _diff(a: HistogramSnap, b: HistogramSnap | undefined) {
  if (b === undefined || b.count > a.count) return null;
  return {
    bounds: a.bounds,
    counts: a.counts.map((c, i) => c - (b.counts[i] ?? 0)),
    sum: a.sum - b.sum,
    count: a.count - b.count,
  };
}

/**
 * Keeps the previous snapshot and answers rates from counter deltas. A
 * counter that went backwards (the network was rebuilt) counts as 0.
 * Snapshots carry no time, so the time between two is when the page got
 * them: one that comes less than `minGapMs` after the last (two read at
 * once after the page was busy) keeps the rates as they are, rather than
 * dividing a second's messages by a few milliseconds.
 */
export class RateTracker {
  readonly #minGapMs: number;
  #prev: NetworkStats | null = null;
  #prevAt = 0;
  #prevProcs = new Map<string, ProcessStats>();
  #prevConns = new Map<string, ConnectionStats>();
  /** Per process. */
  readonly processes = new Map<string, ProcessRates>();
  /** Per drawn connection ({@linkcode connKey}). */
  readonly connections = new Map<string, ConnRates>();

  /** `minGapMs`: default 500, half the event stream's interval. */
  constructor(minGapMs = 500) {
    this.#minGapMs = minGapMs;
  }

  /** Forgets the baseline (after a `replaced`). */
  reset(): void {
    this.#prev = null;
    this.#prevProcs.clear();
    this.#prevConns.clear();
    this.processes.clear();
    this.connections.clear();
  }

  /** Takes the next snapshot, received at `at` (ms). */
  update(stats: NetworkStats, at: number): void {
    if (this.#prev !== null && at - this.#prevAt < this.#minGapMs) return;
    const dt = this.#prev === null ? 0 : (at - this.#prevAt) / 1000;
    this.processes.clear();
    for (const p of stats.processes) {
      const b = this.#prevProcs.get(p.name);
      const inByPort: Record<string, number> = {};
      const outByPort: Record<string, number> = {};
      let rin = 0;
      let rout = 0;
      for (const k in p.messagesIn) {
        inByPort[k] = _rate(p.messagesIn[k], b?.messagesIn[k], dt);
        rin += inByPort[k];
      }
      for (const k in p.messagesOut) {
        outByPort[k] = _rate(p.messagesOut[k], b?.messagesOut[k], dt);
        rout += outByPort[k];
      }
      this.processes.set(p.name, {
        in: rin,
        out: rout,
        inByPort,
        outByPort,
        errors: _rate(
          total(p.errors),
          b === undefined ? undefined : total(b.errors),
          dt,
        ),
        drops: _rate(
          total(p.drops),
          b === undefined ? undefined : total(b.drops),
          dt,
        ),
        processing: b === undefined ? null : _diff(p.processing, b.processing),
      });
    }
    this.connections.clear();
    for (const c of stats.connections) {
      if (c.from === null) continue;
      const key = connKey(c.from, c.to);
      const b = this.#prevConns.get(key);
      this.connections.set(key, {
        delivered: _rate(c.delivered, b?.delivered, dt),
        drops: _rate(
          total(c.drops),
          b === undefined ? undefined : total(b.drops),
          dt,
        ),
      });
    }
    this.#prev = stats;
    this.#prevAt = at;
    this.#prevProcs.clear();
    for (const p of stats.processes) this.#prevProcs.set(p.name, p);
    this.#prevConns.clear();
    for (const c of stats.connections) {
      if (c.from !== null) this.#prevConns.set(connKey(c.from, c.to), c);
    }
  }
}

/**
 * The `q` quantile of a histogram (linear inside a bucket, as Prometheus's
 * `histogram_quantile`); `NaN` when it holds nothing.
 *
 * @example
 * ```ts
 * quantile({ bounds: [1, 2], counts: [0, 4, 0], sum: 6, count: 4 }, 0.5); // 1.5
 * ```
 */
export function quantile(
  h: HistogramSnap | null | undefined,
  q: number,
): number {
  if (h === null || h === undefined || h.count <= 0) return NaN;
  const rank = q * h.count;
  let cum = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (cum + c >= rank && c > 0) {
      if (i >= h.bounds.length) return h.bounds[h.bounds.length - 1];
      const lo = i === 0 ? 0 : h.bounds[i - 1];
      const hi = h.bounds[i];
      return lo + (hi - lo) * ((rank - cum) / c);
    }
    cum += c;
  }
  return h.bounds[h.bounds.length - 1];
}
