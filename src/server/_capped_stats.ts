/**
 * A flow's statistics cut to a size, for the `stats` events of
 * `GET /flows/:id/events`: a flow of thousands of processes has a snapshot
 * of megabytes, and every client of its event stream would otherwise get
 * one a second.
 *
 * @module
 */
import type { ConnectionStats, ProcessStats } from "../engine/stats.ts";
import type { FlowStats } from "../flows/flow_info.ts";

/** What a cut snapshot says it left out. */
export interface StatsTruncation {
  /** Processes in the flow. */
  processes: number;
  /** Processes in this snapshot. */
  processesSent: number;
  /** Connections in the flow. */
  connections: number;
  /** Connections in this snapshot. */
  connectionsSent: number;
  /** The size the snapshot was cut to (bytes of JSON). */
  maxBytes: number;
  /** Where the whole snapshot is: `GET` it. */
  full: string;
}

/** A snapshot, cut or whole. */
export type CappedStats = FlowStats & { truncated?: StatsTruncation };

/**
 * `stats` as JSON of at most about `maxBytes` bytes. A snapshot that fits
 * is whole. One that does not keeps every flow-wide figure (state, drops,
 * backlog, latency, partitions, the active counts) and as many processes
 * and connections as fit, the ones with something to show first (messages
 * waiting, activations in flight, errors, failures, drops, an open
 * breaker), then the others in graph order, and says what it left out in
 * `truncated`, with the path of the whole snapshot (`full`).
 *
 * @example A snapshot that does not fit keeps the busy process
 * ```ts
 * import assert from "node:assert/strict";
 * import { _cappedStatsJson } from "./_capped_stats.ts";
 *
 * const quiet = { name: "Q", errors: { exception: 0 }, failures: 0, queueDepth: { in: 0 }, activeActivations: 0, breaker: null, pad: "x".repeat(200) };
 * const busy = { ...quiet, name: "B", queueDepth: { in: 7 } };
 * const stats = { name: "f", state: "running", backlog: 7, processes: [quiet, quiet, busy], connections: [] };
 * // deno-lint-ignore no-explicit-any
 * const json = JSON.parse(_cappedStatsJson(stats as any, 1000, "/flows/f/stats"));
 * assert.deepEqual(json.processes.map((p: { name: string }) => p.name), ["B", "Q"]);
 * assert.equal(json.backlog, 7);
 * assert.deepEqual(json.truncated, {
 *   processes: 3, processesSent: 2, connections: 0, connectionsSent: 0,
 *   maxBytes: 1000, full: "/flows/f/stats",
 * });
 * ```
 */
export function _cappedStatsJson(
  stats: FlowStats,
  maxBytes: number,
  full: string,
): string {
  const truncated: StatsTruncation = {
    processes: stats.processes.length,
    processesSent: 0,
    connections: stats.connections.length,
    connectionsSent: 0,
    maxBytes,
    full,
  };
  const { processes: _p, connections: _c, ...flowWide } = stats;
  const head = JSON.stringify(flowWide);
  // Each element is serialized once, busy ones first, and no more of them
  // than fit: a flow of thousands of processes never becomes one string of
  // megabytes per snapshot. Characters, not bytes: names are mostly ASCII,
  // and a cut a few bytes over is harmless.
  // Room for `,"processes":[],"connections":[]` and the truncation.
  let room = maxBytes - head.length - 32 -
    JSON.stringify({ truncated }).length - 24;
  const pick = <T>(items: readonly T[], busy: (item: T) => boolean) => {
    const sent: string[] = [];
    let cut = false;
    for (const item of _busyFirst(items, busy)) {
      const json = JSON.stringify(item);
      if (json.length + 1 > room) {
        cut = true;
        break;
      }
      room -= json.length + 1;
      sent.push(json);
    }
    return { sent, cut };
  };
  const p = pick(stats.processes, _busyProcess);
  const c = pick(stats.connections, _busyConnection);
  if (!p.cut && !c.cut) {
    // Everything fits: the whole snapshot, in graph order.
    return JSON.stringify(stats);
  }
  truncated.processesSent = p.sent.length;
  truncated.connectionsSent = c.sent.length;
  return `${head.slice(0, -1)},"processes":[${
    p.sent.join(",")
  }],"connections":[${c.sent.join(",")}],"truncated":${
    JSON.stringify(truncated)
  }}`;
}

/** The busy ones first, each group in its original order. */
function _busyFirst<T>(items: readonly T[], busy: (item: T) => boolean): T[] {
  const first: T[] = [];
  const rest: T[] = [];
  for (const item of items) (busy(item) ? first : rest).push(item);
  return first.concat(rest);
}

function _busyProcess(p: ProcessStats): boolean {
  if (p.activeActivations > 0 || p.failures > 0) return true;
  if (p.breaker !== null && p.breaker !== "closed") return true;
  return _anyAbove0(p.queueDepth) || _anyAbove0(p.errors) ||
    _anyAbove0(p.drops);
}

function _busyConnection(c: ConnectionStats): boolean {
  return c.depth > 0 || _anyAbove0(c.drops);
}

function _anyAbove0(counts: Record<string, number> | undefined): boolean {
  if (counts === undefined) return false;
  for (const k in counts) if (counts[k] > 0) return true;
  return false;
}
