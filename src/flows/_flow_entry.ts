/**
 * The manager's record of one flow: what is stored, its graph, its
 * network and its subscribers.
 *
 * @module
 */
import type { Network, NetworkState } from "../engine/network.ts";
import type { Graph } from "../graph/graph.ts";
import { _message, _q } from "./_checks.ts";
import type { FlowEvent, FlowInfo } from "./flow_info.ts";
import type { StoredFlow } from "./flow_store.ts";
import {
  DEFAULT_SUPERVISION,
  type Supervision,
  supervisionOf,
} from "./supervision.ts";

/** One flow as the manager holds it. */
export interface _Entry {
  stored: StoredFlow;
  /** The graph of `stored.text`, when it parses. */
  graph: Graph | null;
  /**
   * Its network (tracked), or `null` when it failed to build or start (a
   * network the supervisor gave up restarting stays, `finished`).
   */
  network: Network | null;
  /** Why it could not be built or started, or was not restarted. */
  error: string | undefined;
  /** Unsubscribes from the network's events. */
  offs: (() => void)[];
  listeners: Set<(event: FlowEvent) => void>;
  /** Its connections' taps, attached to each network it gets. */
  taps: Set<_Tap>;
  /** A restart the supervisor waits to make, and when. */
  restartTimer: ReturnType<typeof setTimeout> | undefined;
  nextRestartAt: number | undefined;
  /** Restarts in a row (reset by an operator's change or a healthy run). */
  restartsInRow: number;
  /** Restarts the supervisor made since the flow was created or restored. */
  restarts: number;
  /** Times its network failed to start since created or restored. */
  failures: number;
  /** When it last failed (ms since the epoch). */
  failedAt: number | undefined;
  /** When its current network started (ms since the epoch). */
  startedAt: number | undefined;
  /**
   * Why weir did not start a flow stored as running (safe mode): it is
   * `stopped` with this reason until an operator starts or changes it.
   */
  held: string | undefined;
  /** What `_info` read when `_infoKey` last looked (see there). */
  seen: _Seen | undefined;
}

/** A tap on a flow's connection (see `FlowManager.tap`). */
export interface _Tap {
  from: string | null;
  to: string;
  listener: (value: unknown) => void;
  /** Told when a new network has no such connection (after a replace). */
  onGone: (message: string) => void;
  /** Detaches it from the current network, when attached. */
  off: (() => void) | undefined;
  /**
   * Why the network attached last lacks its connection, until the change
   * that brought that network is committed (then `onGone` hears it).
   */
  gone: string | undefined;
}

/**
 * Attaches `tap` to `net`; when `net` lacks its connection, the reason
 * waits in `gone` for the change to be committed.
 */
export function _attachTap(net: Network, tap: _Tap): void {
  try {
    tap.off = net.tap(tap.from, tap.to, tap.listener);
    tap.gone = undefined;
  } catch (e) {
    tap.off = undefined;
    tap.gone = _message(e);
  }
}

/** Detaches the entry's taps from its network (they stay, for the next). */
export function _detachTaps(entry: _Entry): void {
  for (const tap of entry.taps) {
    tap.off?.();
    tap.off = undefined;
  }
}

/** What to put back when an operation fails half-way. */
export interface _Before {
  network: Network | null;
  graph: Graph | null;
  error: string | undefined;
  /** When that network started. */
  startedAt: number | undefined;
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
    taps: new Set(),
    restartTimer: undefined,
    nextRestartAt: undefined,
    restartsInRow: 0,
    restarts: 0,
    failures: 0,
    failedAt: undefined,
    startedAt: undefined,
    held: undefined,
    seen: undefined,
  };
}

/** Whether the network runs or drains (so it must be drained to retire it). */
export function _active(net: Network): boolean {
  return net.state === "running" || net.state === "draining";
}

/** ISO texts of the times flows were stored, which few flows share. */
const _isoTexts = new Map<number, string>();

/**
 * `new Date(ms).toISOString()`, remembered: every `GET /flows` and
 * `GET /flows/:id` reports two times per flow, and the text cost about a
 * microsecond each on Deno (bench/RESULTS.md "Server as shipped vs bare
 * Hono"). Bounded: the table is emptied when it reaches 4096 times.
 */
function _iso(ms: number): string {
  let text = _isoTexts.get(ms);
  if (text === undefined) {
    if (_isoTexts.size >= 4096) _isoTexts.clear();
    text = new Date(ms).toISOString();
    _isoTexts.set(ms, text);
  }
  return text;
}

/**
 * The state of the flow's network as its events and statistics tell it: a
 * stop drains the network to its end, so a network that finished in a flow
 * an operator stopped says `stopped`, as {@linkcode _info} does; one whose
 * sources ended by themselves says `finished`.
 */
export function _networkState(
  entry: _Entry,
  state: NetworkState,
): NetworkState {
  return _stoppedNetwork(entry, state) && entry.error === undefined
    ? "stopped"
    : state;
}

/**
 * Whether a network in `state` is what an operator's stop left: it ran to
 * its end, or (restored, replaced while stopped) was built and not
 * started, in a flow not set running.
 */
function _stoppedNetwork(entry: _Entry, state: NetworkState): boolean {
  return (state === "finished" ||
    (state === "created" && entry.stored.started)) && !entry.stored.running;
}

/** The flow as the manager reports it. */
export function _info(entry: _Entry): FlowInfo {
  const { stored, network, graph } = entry;
  const s = _supervision(entry);
  const info: FlowInfo = {
    id: stored.id,
    rev: stored.rev,
    format: stored.format,
    running: stored.running,
    // No network and no error: between two networks of a replace.
    state: entry.restartTimer !== undefined
      ? "restarting"
      : entry.held !== undefined && entry.error === undefined &&
          network?.state !== "running"
      ? "stopped"
      // A stop drains a network to its end: stopped is what happened.
      // The supervisor gave up restarting a network that finished: failed.
      : network?.state === "finished" && entry.error !== undefined
      ? "failed"
      : network !== null && _stoppedNetwork(entry, network.state)
      ? "stopped"
      : network?.state ??
        (entry.error === undefined ? "stopped" : "failed"),
    restart: s.restart,
    required: s.required,
    restarts: entry.restarts,
    processes: network?.processNames.length ??
      Object.keys(graph?.processes ?? {}).length,
    createdAt: _iso(stored.createdAt),
    updatedAt: _iso(stored.updatedAt),
  };
  if (info.state === "running" && entry.startedAt !== undefined) {
    info.startedAt = _iso(entry.startedAt);
  }
  if (
    entry.error !== undefined && (network === null || info.state === "failed")
  ) info.error = entry.error;
  if (network?.pressure === "bytes") info.pressure = "bytes";
  if (entry.held !== undefined) info.reason = entry.held;
  if (info.state === "failed" || info.state === "restarting") {
    if (entry.failedAt !== undefined) {
      info.failedAt = new Date(entry.failedAt).toISOString();
    }
  }
  if (entry.nextRestartAt !== undefined && entry.restartTimer !== undefined) {
    info.nextRestartAt = new Date(entry.nextRestartAt).toISOString();
  }
  return info;
}

/**
 * Everything {@linkcode _info} reads of an entry, as {@linkcode _infoKey}
 * last saw it, and the key it gave for it. The stored flow, the graph and
 * the network are never changed in place in what `_info` shows of them
 * (a change stores a new `StoredFlow`, a new graph; a network's processes
 * are fixed when it is built), so their identity stands for their fields;
 * a network's state and pressure do change, and are read each time.
 */
interface _Seen {
  key: object;
  stored: StoredFlow;
  graph: Graph | null;
  network: Network | null;
  state: string | undefined;
  pressure: string | null | undefined;
  error: string | undefined;
  held: string | undefined;
  restartTimer: ReturnType<typeof setTimeout> | undefined;
  nextRestartAt: number | undefined;
  restarts: number;
  startedAt: number | undefined;
  failedAt: number | undefined;
}

/**
 * An object that stays the same while {@linkcode _info} of the entry would
 * report the same, and is a new one once anything it reads has changed:
 * a key under which a report made from `_info` (a serialized body) can be
 * kept, without making the info and comparing it with the last (0.27 and
 * 0.19 µs of a `GET /flows/:id` on Deno 2.9 in a `--cpu-prof` profile,
 * bench/RESULTS.md "Session 23"; the read's CPU fell by 4% without them,
 * measured side by side with `wrk`). It
 * compares what `_info` reads rather than counting changes, so no place
 * that changes an entry, or a network's state, has to remember to tell
 * it. Keep it reading what `_info` reads.
 */
export function _infoKey(entry: _Entry): object {
  const s = entry.seen;
  const net = entry.network;
  if (
    s !== undefined && s.stored === entry.stored && s.graph === entry.graph &&
    s.network === net && s.state === net?.state &&
    s.pressure === net?.pressure && s.error === entry.error &&
    s.held === entry.held && s.restartTimer === entry.restartTimer &&
    s.nextRestartAt === entry.nextRestartAt &&
    s.restarts === entry.restarts && s.startedAt === entry.startedAt &&
    s.failedAt === entry.failedAt
  ) return s.key;
  const key = {};
  entry.seen = {
    key,
    stored: entry.stored,
    graph: entry.graph,
    network: net,
    state: net?.state,
    pressure: net?.pressure,
    error: entry.error,
    held: entry.held,
    restartTimer: entry.restartTimer,
    nextRestartAt: entry.nextRestartAt,
    restarts: entry.restarts,
    startedAt: entry.startedAt,
    failedAt: entry.failedAt,
  };
  return key;
}

/**
 * Supervision settings read, by graph: a graph is replaced at every
 * change, never edited, and every `GET /flows/:id` and `GET /flows` reads
 * them (reading them again cost about 4% of a flow read's CPU time on
 * Bun, bench/RESULTS.md "Server as shipped vs bare Hono").
 */
const _supervisions = new WeakMap<Graph, Readonly<Supervision>>();

/** The entry's supervision settings (the defaults while its graph is unknown or bad). */
export function _supervision(entry: _Entry): Readonly<Supervision> {
  const graph = entry.graph;
  if (graph === null) return DEFAULT_SUPERVISION;
  let s = _supervisions.get(graph);
  if (s === undefined) {
    try {
      s = Object.freeze(supervisionOf(graph));
    } catch {
      s = DEFAULT_SUPERVISION;
    }
    _supervisions.set(graph, s);
  }
  return s;
}

/**
 * Whether every flow that should run does, else one sentence per flow
 * that does not (and one when the manager is `closing`).
 */
export function _readiness(
  infos: readonly FlowInfo[],
  closing: boolean,
): { ready: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (closing) {
    reasons.push("weir is shutting down: the flow manager is closed");
  }
  for (const info of infos) {
    if (info.required) {
      if (info.state !== "running" && info.state !== "draining") {
        reasons.push(
          `Flow ${_q(info.id)} is required but ${_why(info)}`,
        );
      }
      continue;
    }
    if (!info.running || info.reason !== undefined) continue;
    if (info.state === "failed") {
      // One line per reason: a multi-line graph error is joined.
      reasons.push(
        `Flow ${_q(info.id)} should run but does not: ${
          info.error?.replaceAll("\n", "; ")
        }`,
      );
    } else if (
      info.state !== "running" && info.state !== "draining" &&
      info.state !== "finished" && info.state !== "restarting"
    ) {
      reasons.push(
        `Flow ${_q(info.id)} should run but its network is ${info.state}`,
      );
    }
  }
  return { ready: reasons.length === 0, reasons };
}

/** Why a required flow does not run, as the end of a sentence. */
function _why(info: FlowInfo): string {
  if (info.state === "failed") {
    return `failed${info.failedAt ? ` at ${info.failedAt}` : ""}: ${
      info.error?.replaceAll("\n", "; ")
    }`;
  }
  if (info.state === "restarting") {
    return `is restarting (restart ${
      info.restarts + 1
    } due at ${info.nextRestartAt})`;
  }
  if (!info.running) return `is ${info.state}: it was stopped`;
  return `its network is ${info.state}`;
}
