/**
 * The manager's record of one flow: what is stored, its graph, its
 * network and its subscribers.
 *
 * @module
 */
import type { Network } from "../engine/network.ts";
import type { Graph } from "../graph/graph.ts";
import type { FlowEvent, FlowInfo } from "./flow_info.ts";
import type { StoredFlow } from "./flow_store.ts";

/** One flow as the manager holds it. */
export interface _Entry {
  stored: StoredFlow;
  /** The graph of `stored.text`, when it parses. */
  graph: Graph | null;
  /** Its network (tracked), or `null` when it failed. */
  network: Network | null;
  /** Why it could not be built or started. */
  error: string | undefined;
  /** Unsubscribes from the network's events. */
  offs: (() => void)[];
  listeners: Set<(event: FlowEvent) => void>;
}

/** What to put back when an operation fails half-way. */
export interface _Before {
  network: Network | null;
  graph: Graph | null;
  error: string | undefined;
  /** The network was running (so it was drained and must be built again). */
  active: boolean;
}

/** A new record of a stored flow: no graph, no network yet. */
export function _entry(stored: StoredFlow): _Entry {
  return {
    stored,
    graph: null,
    network: null,
    error: undefined,
    offs: [],
    listeners: new Set(),
  };
}

/** Whether the network runs or drains (so it must be drained to retire it). */
export function _active(net: Network): boolean {
  return net.state === "running" || net.state === "draining";
}

/** The flow as the manager reports it. */
export function _info(entry: _Entry): FlowInfo {
  const { stored, network, graph } = entry;
  const info: FlowInfo = {
    id: stored.id,
    rev: stored.rev,
    format: stored.format,
    running: stored.running,
    // No network and no error: between two networks of a replace.
    state: network?.state ??
      (entry.error === undefined ? "stopped" : "failed"),
    processes: network?.processNames.length ??
      Object.keys(graph?.processes ?? {}).length,
    createdAt: new Date(stored.createdAt).toISOString(),
    updatedAt: new Date(stored.updatedAt).toISOString(),
  };
  if (network === null && entry.error !== undefined) info.error = entry.error;
  return info;
}
