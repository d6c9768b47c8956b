/**
 * Statistics: the snapshot a network gives its readers (the metrics layer,
 * the HTTP API). The hot path only bumps plain numeric fields on processes
 * and connections; this file reads them, at scrape time, into plain
 * objects. Times are ISO 8601 strings; durations are histograms in seconds.
 *
 * @module
 */
import type { BreakerState } from "./breaker.ts";
import { type Connection, endpointName } from "./connection.ts";
import { Histogram, type HistogramSnapshot } from "./histogram.ts";
import type { NetworkState } from "./network.ts";
import type { ProcessPhase, ProcessRuntime } from "./process.ts";
import { estimateBytes } from "./size.ts";
import type { OverflowPolicy } from "./spec.ts";

/** Why a message was dropped. */
export type DropReason =
  | "drop_oldest"
  | "drop_newest"
  | "refused"
  | "circuit_open"
  | "unread"
  | "stopped";

/** The drop reasons, in documentation order. */
export const DROP_REASONS: readonly DropReason[] = [
  "drop_oldest",
  "drop_newest",
  "refused",
  "circuit_open",
  "unread",
  "stopped",
];

/** Statistics of one process. */
export interface ProcessStats {
  /** The process's name. */
  name: string;
  /** Its component's catalogue name. */
  component: string;
  /** Where it is in its life cycle. */
  phase: ProcessPhase;
  /** Activations in flight now. */
  activeActivations: number;
  /** Activations completed (successfully or not). */
  activations: number;
  /** Messages taken, by in-port (data and control). */
  messagesIn: Record<string, number>;
  /** Messages sent, by out-port. */
  messagesOut: Record<string, number>;
  /** Buffered messages, by data in-port. */
  queueDepth: Record<string, number>;
  /** Summed capacity of the connections, by data in-port. */
  queueCapacity: Record<string, number>;
  /** Time messages waited before the process took them, by data in-port. */
  queueWait: Record<string, HistogramSnapshot>;
  /** Estimated bytes held in its inbound queues. */
  bufferedBytes: number;
  /** Duration of timed activations. */
  processing: HistogramSnapshot;
  /** Failed attempts by kind (retried attempts included). */
  errors: Record<"exception" | "timeout" | "overflow", number>;
  /** When the last error happened (ISO 8601, UTC), or `null`. */
  lastErrorAt: string | null;
  /** Times started. */
  starts: number;
  /** Messages given up on, after any retries. */
  failures: number;
  /** `null` when the process has no circuit breaker. */
  breaker: BreakerState | null;
  /**
   * Messages dropped on their way into this process, by reason; `stopped`
   * also counts those it had taken and was still working on when a stop
   * (or a drain's timeout) cut its activations off, which no connection
   * counts.
   */
  drops: Record<DropReason, number>;
}

/** Statistics of one connection. */
export interface ConnectionStats {
  /**
   * `A.out` (`A.out[1]` at an addressable port's index), or `null` for IIPs
   * and exported in-ports.
   */
  from: string | null;
  /** `B.in` (`B.in[0]` at an addressable port's index). */
  to: string;
  /** The receiving process's name (names may hold dots: do not split `to`). */
  toProcess: string;
  /** The receiving in-port's name. */
  toPort: string;
  /** Its buffer size. */
  capacity: number;
  /** What a full buffer does. */
  policy: OverflowPolicy;
  /** Buffered plus pending. */
  depth: number;
  /** Messages handed to the receiver. */
  delivered: number;
  /** No more messages will come. */
  closed: boolean;
  /** Messages dropped, by reason. */
  drops: Record<DropReason, number>;
}

/** A snapshot of a network's statistics. */
export interface NetworkStats {
  /** The network's (flow's) name. */
  name: string;
  /** Its life-cycle state. */
  state: NetworkState;
  /** Every process (hosts reading exported out-ports left out). */
  processes: ProcessStats[];
  /** Every connection, IIPs and exported ports included. */
  connections: ConnectionStats[];
  /** Drops over all processes, by reason. */
  drops: Record<DropReason, number>;
  /** Messages buffered in all connections. */
  backlog: number;
  /** Estimated bytes buffered in all connections (see `size.ts`). */
  bufferedBytes: number;
  /**
   * `"bytes"` while its sources wait because the buffers hold more than
   * the flow's bytes budget; else `null`.
   */
  pressure: "bytes" | null;
  /** Source-to-sink latency of messages that reached a sink. */
  latency: HistogramSnapshot;
  /** Connected parts among healthy (live, breaker not open) processes. */
  partitions: number;
  /** Processes not yet finished. */
  activeProcesses: number;
  /** Connections between processes not yet closed. */
  activeConnections: number;
}

type Conn = Connection<ProcessRuntime>;

/** What a snapshot is read from: a network's parts. */
export interface StatsSource {
  name: string;
  state: NetworkState;
  procs: readonly ProcessRuntime[];
  conns: readonly Conn[];
  /** Source-to-sink latency, seconds. */
  latency: Histogram;
  /** Estimated bytes buffered in all connections. */
  bufferedBytes: number;
  /** Whether sources wait for the bytes budget. */
  pressure: "bytes" | null;
}

/** Messages buffered (and parked) in `conns`. */
export function backlogOf(conns: readonly Conn[]): number {
  let n = 0;
  for (const c of conns) n += c.backlog();
  return n;
}

/** A snapshot of every statistic of a network (allocates: for scrapes). */
export function networkStats(src: StatsSource): NetworkStats {
  const now = performance.now();
  const drops = _noDrops();
  const procDrops = new Map<ProcessRuntime, Record<DropReason, number>>();
  for (const p of src.procs) {
    const d = _noDrops();
    d.circuit_open = p.rejected;
    d.stopped = p.cutOff;
    procDrops.set(p, d);
  }
  const connections: ConnectionStats[] = [];
  let activeConnections = 0;
  for (const c of src.conns) {
    const cd = _connDrops(c);
    const pd = procDrops.get(c.target)!;
    for (const r of DROP_REASONS) pd[r] += cd[r];
    if (c.from !== null && !c.closed) activeConnections++;
    connections.push({
      from: c.from === null ? null : endpointName(c.from),
      to: endpointName(c.to),
      toProcess: c.to.proc.name,
      toPort: c.to.port,
      capacity: c.capacity,
      policy: c.policy,
      depth: c.backlog(),
      delivered: c.delivered,
      closed: c.closed,
      drops: cd,
    });
  }
  // Totals include what a host reading an exported out-port lost.
  for (const pd of procDrops.values()) {
    for (const r of DROP_REASONS) drops[r] += pd[r];
  }
  let activeProcesses = 0;
  const processes: ProcessStats[] = [];
  for (const p of src.procs) {
    if (p.hidden) continue;
    if (p.phase === "idle" || p.phase === "flushing") activeProcesses++;
    processes.push(_processStats(p, procDrops.get(p)!, now));
  }
  return {
    name: src.name,
    state: src.state,
    processes,
    connections,
    drops,
    backlog: backlogOf(src.conns),
    bufferedBytes: src.bufferedBytes,
    pressure: src.pressure,
    latency: src.latency.snapshot(),
    partitions: partitions(src.procs, src.conns, now),
    activeProcesses,
    activeConnections,
  };
}

/**
 * What {@linkcode networkStatsInto} keeps of a snapshot it made, to update
 * it in place: the network's parts it was read from (a network's
 * processes and connections are fixed once it is wired) and where each
 * part's figures sit in it.
 */
interface _Refresh {
  procs: readonly ProcessRuntime[];
  conns: readonly Conn[];
  /** Each process's index in `procs`. */
  index: Map<ProcessRuntime, number>;
  /** Drops per process (in `procs` order): a visible one's is its snapshot's. */
  drops: Record<DropReason, number>[];
  /** `procs` index of each snapshot process. */
  visible: number[];
  /** Per snapshot process: its data in-ports and their connections. */
  inputs: [string, readonly Conn[]][][];
  /** Per snapshot process: its in-port names (data and control). */
  inPorts: string[][];
  /** Per snapshot process: its out-ports. */
  outs: [string, { sent: number }][][];
  /** Per snapshot process: the `lastErrorAt` its ISO text was made from. */
  lastError: number[];
  /** Per connection: its target's index in `procs`. */
  target: Int32Array;
  /** Per connection: its source's index in `procs`, -1 for none. */
  source: Int32Array;
  /** `partitions()`'s union-find, by `procs` index (-1: not healthy). */
  parent: Int32Array;
}

const _refresh = new WeakMap<NetworkStats, _Refresh>();

/**
 * {@linkcode networkStats}, updating `prev` in place when it is a snapshot
 * this function returned for the same network before: the same figures as
 * a new snapshot, read into the same objects, so a reader that reads every
 * second (the metric history) makes no garbage of a network's statistics
 * (at 100 flows of 10 processes a new snapshot each is ~3 MB a read).
 * Otherwise (`prev` null, or from other parts) a new snapshot that a later
 * call can update. The caller must be done with `prev`'s figures: they
 * change under it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createNetwork } from "../embed.ts";
 *
 * const net = createNetwork(`
 *   '1ms' -> interval Tick(core/Interval)
 *   3 -> count Tick
 *   Tick out -> in Sink(core/Drop)
 * `);
 * const before = net.statsInto(null);
 * await net.start();
 * await net.finished;
 * const after = net.statsInto(before);
 * assert.equal(after, before);
 * assert.deepEqual(after, net.stats());
 * assert.equal(after.processes[1].messagesIn.in, 3);
 * ```
 */
export function networkStatsInto(
  src: StatsSource,
  prev: NetworkStats | null,
): NetworkStats {
  const r = prev === null ? undefined : _refresh.get(prev);
  if (
    prev === null || r === undefined || r.procs !== src.procs ||
    r.conns !== src.conns || r.procs.length !== r.drops.length ||
    r.conns.length !== prev.connections.length
  ) {
    const s = networkStats(src);
    _refresh.set(s, _refreshOf(src, s));
    return s;
  }
  const now = performance.now();
  const { procs, conns, drops: pd, visible } = r;
  for (let i = 0; i < procs.length; i++) {
    const d = pd[i];
    d.drop_oldest = 0;
    d.drop_newest = 0;
    d.refused = 0;
    d.circuit_open = procs[i].rejected;
    d.unread = 0;
    d.stopped = procs[i].cutOff;
  }
  let activeConnections = 0;
  for (let j = 0; j < conns.length; j++) {
    const c = conns[j];
    const cs = prev.connections[j];
    const cd = cs.drops;
    cd.drop_oldest = c.droppedOldest;
    cd.drop_newest = c.droppedNewest;
    cd.refused = c.refused;
    cd.circuit_open = 0;
    cd.unread = c.droppedUnread;
    cd.stopped = c.droppedStopped;
    const d = pd[r.target[j]];
    d.drop_oldest += cd.drop_oldest;
    d.drop_newest += cd.drop_newest;
    d.refused += cd.refused;
    d.unread += cd.unread;
    d.stopped += cd.stopped;
    if (c.from !== null && !c.closed) activeConnections++;
    cs.capacity = c.capacity;
    cs.policy = c.policy;
    cs.depth = c.backlog();
    cs.delivered = c.delivered;
    cs.closed = c.closed;
  }
  const drops = prev.drops;
  drops.drop_oldest = drops.drop_newest = drops.refused = 0;
  drops.circuit_open = drops.unread = drops.stopped = 0;
  for (const d of pd) {
    drops.drop_oldest += d.drop_oldest;
    drops.drop_newest += d.drop_newest;
    drops.refused += d.refused;
    drops.circuit_open += d.circuit_open;
    drops.unread += d.unread;
    drops.stopped += d.stopped;
  }
  let activeProcesses = 0;
  for (let k = 0; k < visible.length; k++) {
    const p = procs[visible[k]];
    if (p.phase === "idle" || p.phase === "flushing") activeProcesses++;
    _refreshProcess(r, k, p, prev.processes[k], now);
  }
  prev.name = src.name;
  prev.state = src.state;
  prev.backlog = backlogOf(src.conns);
  prev.bufferedBytes = src.bufferedBytes;
  prev.pressure = src.pressure;
  _copyHistogram(src.latency, prev.latency);
  prev.partitions = _partitionsOf(r, now);
  prev.activeProcesses = activeProcesses;
  prev.activeConnections = activeConnections;
  return prev;
}

/** Where each part's figures sit in a new snapshot `s` of `src`. */
function _refreshOf(src: StatsSource, s: NetworkStats): _Refresh {
  const procs = src.procs;
  const index = new Map<ProcessRuntime, number>();
  procs.forEach((p, i) => index.set(p, i));
  const visible: number[] = [];
  const drops: Record<DropReason, number>[] = [];
  for (let i = 0; i < procs.length; i++) {
    if (procs[i].hidden) drops.push(_noDrops());
    else {
      drops.push(s.processes[visible.length].drops);
      visible.push(i);
    }
  }
  const shown = visible.map((i) => procs[i]);
  return {
    procs,
    conns: src.conns,
    index,
    drops,
    visible,
    inputs: shown.map((p) => Object.entries(p.inputsByPort)),
    inPorts: shown.map((p) => Object.keys(p.component.inPorts)),
    outs: shown.map((p) => Object.entries(p.outs)),
    lastError: shown.map((p) => p.lastErrorAt),
    target: Int32Array.from(src.conns, (c) => index.get(c.target)!),
    source: Int32Array.from(
      src.conns,
      (c) => c.source === null ? -1 : index.get(c.source) ?? -2,
    ),
    parent: new Int32Array(procs.length),
  };
}

/** {@linkcode _processStats} into the process's snapshot `ps`. */
function _refreshProcess(
  r: _Refresh,
  k: number,
  p: ProcessRuntime,
  ps: ProcessStats,
  now: number,
): void {
  const messagesIn = ps.messagesIn;
  const inPorts = r.inPorts[k];
  for (let i = 0; i < inPorts.length; i++) {
    messagesIn[inPorts[i]] = p.controlIn[inPorts[i]] ?? 0;
  }
  let bufferedBytes = 0;
  const inputs = r.inputs[k];
  // Index loops, no iterators: this runs for every process every second.
  for (let i = 0; i < inputs.length; i++) {
    const port = inputs[i][0];
    const conns = inputs[i][1];
    let depth = 0;
    let capacity = 0;
    let delivered = messagesIn[port];
    const wait = ps.queueWait[port];
    const counts = wait.counts;
    const nc = counts.length;
    for (let b = 0; b < nc; b++) counts[b] = 0;
    let sum = 0;
    let count = 0;
    for (let j = 0; j < conns.length; j++) {
      const c = conns[j];
      delivered += c.delivered;
      depth += c.backlog();
      capacity += c.capacity;
      // As _waitSnapshot: direct hand-overs (0 s) in the first bucket.
      const h = c.wait;
      const hc = h.counts;
      for (let b = 0; b < nc; b++) counts[b] += hc[b];
      const direct = c.delivered - h.count;
      counts[0] += direct;
      sum += h.sum;
      count += h.count + direct;
      if (c.count > 0) bufferedBytes += c.estimateBytes();
      const pending = c.pending;
      for (let q = 0; q < pending.length; q++) {
        bufferedBytes += estimateBytes(pending[q].value);
      }
    }
    messagesIn[port] = delivered;
    wait.sum = sum;
    wait.count = count;
    ps.queueDepth[port] = depth;
    ps.queueCapacity[port] = capacity;
  }
  const outs = r.outs[k];
  for (let i = 0; i < outs.length; i++) {
    ps.messagesOut[outs[i][0]] = outs[i][1].sent;
  }
  ps.phase = p.phase;
  ps.activeActivations = p.active;
  ps.activations = p.activations;
  ps.bufferedBytes = bufferedBytes;
  _copyHistogram(p.timing, ps.processing);
  ps.errors.exception = p.errorsException;
  ps.errors.timeout = p.errorsTimeout;
  ps.errors.overflow = p.errorsOverflow;
  if (p.lastErrorAt !== r.lastError[k]) {
    r.lastError[k] = p.lastErrorAt;
    ps.lastErrorAt = p.lastErrorAt === 0
      ? null
      : new Date(p.lastErrorAt).toISOString();
  }
  ps.starts = p.starts;
  ps.failures = p.failures;
  ps.breaker = p.breaker === undefined ? null : p.breaker.stateAt(now);
}

/** Copies a histogram's figures into a snapshot of it. */
function _copyHistogram(h: Histogram, into: HistogramSnapshot): void {
  const counts = into.counts;
  const from = h.counts;
  for (let b = 0; b < counts.length; b++) counts[b] = from[b];
  into.sum = h.sum;
  into.count = h.count;
}

/** {@linkcode partitions} over the refresh's indexes, without allocating. */
function _partitionsOf(r: _Refresh, now: number): number {
  const { procs, conns, parent } = r;
  for (let i = 0; i < procs.length; i++) {
    const p = procs[i];
    const healthy = !p.hidden &&
      (p.phase === "idle" || p.phase === "flushing") &&
      (p.breaker === undefined || p.breaker.stateAt(now) !== "open");
    parent[i] = healthy ? i : -1;
  }
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root];
    parent[i] = root;
    return root;
  };
  for (let j = 0; j < conns.length; j++) {
    const s = r.source[j];
    const t = r.target[j];
    if (s < 0 || parent[s] < 0 || parent[t] < 0) continue;
    const a = find(s);
    const b = find(t);
    if (a !== b) parent[a] = b;
  }
  let n = 0;
  for (let i = 0; i < procs.length; i++) if (parent[i] === i) n++;
  return n;
}

function _processStats(
  p: ProcessRuntime,
  drops: Record<DropReason, number>,
  now: number,
): ProcessStats {
  const messagesIn: Record<string, number> = {};
  const queueDepth: Record<string, number> = {};
  const queueCapacity: Record<string, number> = {};
  const queueWait: Record<string, HistogramSnapshot> = {};
  let bufferedBytes = 0;
  for (const port of Object.keys(p.component.inPorts)) {
    messagesIn[port] = p.controlIn[port] ?? 0;
  }
  for (const [port, conns] of Object.entries(p.inputsByPort)) {
    let depth = 0;
    let capacity = 0;
    let wait: HistogramSnapshot | undefined;
    for (const c of conns) {
      messagesIn[port] += c.delivered;
      depth += c.backlog();
      capacity += c.capacity;
      wait = _mergeInto(wait, _waitSnapshot(c));
      bufferedBytes += c.estimateBytes();
      for (const ps of c.pending) bufferedBytes += estimateBytes(ps.value);
    }
    queueDepth[port] = depth;
    queueCapacity[port] = capacity;
    queueWait[port] = wait ??
      new Histogram(Array.from(p.timing.bounds)).snapshot();
  }
  const messagesOut: Record<string, number> = {};
  for (const [port, o] of Object.entries(p.outs)) messagesOut[port] = o.sent;
  return {
    name: p.name,
    component: p.component.name,
    phase: p.phase,
    activeActivations: p.active,
    activations: p.activations,
    messagesIn,
    messagesOut,
    queueDepth,
    queueCapacity,
    queueWait,
    bufferedBytes,
    processing: p.timing.snapshot(),
    errors: {
      exception: p.errorsException,
      timeout: p.errorsTimeout,
      overflow: p.errorsOverflow,
    },
    lastErrorAt: p.lastErrorAt === 0
      ? null
      : new Date(p.lastErrorAt).toISOString(),
    starts: p.starts,
    failures: p.failures,
    breaker: p.breaker === undefined ? null : p.breaker.stateAt(now),
    drops,
  };
}

/**
 * Connected parts among the healthy processes (live, and not behind an
 * open breaker at `now`), joined by their connections.
 */
export function partitions(
  procs: readonly ProcessRuntime[],
  conns: readonly Conn[],
  now: number,
): number {
  const parent = new Map<ProcessRuntime, ProcessRuntime>();
  const find = (p: ProcessRuntime): ProcessRuntime => {
    let r = p;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(p, r);
    return r;
  };
  for (const p of procs) {
    const healthy = !p.hidden &&
      (p.phase === "idle" || p.phase === "flushing") &&
      (p.breaker === undefined || p.breaker.stateAt(now) !== "open");
    if (healthy) parent.set(p, p);
  }
  for (const c of conns) {
    if (c.source === null) continue;
    if (!parent.has(c.source) || !parent.has(c.target)) continue;
    const a = find(c.source);
    const b = find(c.target);
    if (a !== b) parent.set(a, b);
  }
  let n = 0;
  for (const [p, r] of parent) if (p === r) n++;
  return n;
}

function _noDrops(): Record<DropReason, number> {
  return {
    drop_oldest: 0,
    drop_newest: 0,
    refused: 0,
    circuit_open: 0,
    unread: 0,
    stopped: 0,
  };
}

function _connDrops(c: Conn): Record<DropReason, number> {
  return {
    drop_oldest: c.droppedOldest,
    drop_newest: c.droppedNewest,
    refused: c.refused,
    circuit_open: 0,
    unread: c.droppedUnread,
    stopped: c.droppedStopped,
  };
}

/** A connection's queue wait, with direct hand-overs (0 s) in the first bucket. */
function _waitSnapshot(c: Conn): HistogramSnapshot {
  const h = c.wait.snapshot();
  const direct = c.delivered - h.count;
  h.counts[0] += direct;
  h.count += direct;
  return h;
}

function _mergeInto(
  into: HistogramSnapshot | undefined,
  h: HistogramSnapshot,
): HistogramSnapshot {
  if (into === undefined) return h;
  for (let i = 0; i < into.counts.length; i++) into.counts[i] += h.counts[i];
  into.sum += h.sum;
  into.count += h.count;
  return into;
}
