/**
 * Deadlock detection: a network is stuck when every live process waits on
 * a connection (to send into a full one, or to receive from an empty one)
 * and nothing is taken for a while. `StallWatch` decides when to look and
 * when to report; `allWaiting` and `deadlockReport` read the processes.
 *
 * @module
 */
import { BLOCK, type Connection } from "./connection.ts";
import type { ProcessRuntime } from "./process.ts";

/** One process's part of a deadlock report. */
export interface StuckProcess {
  /** The process's name. */
  process: string;
  /** `send`: blocked on a full connection; `receive`: on an empty one. */
  waitingOn: "send" | "receive";
  /** The port it waits on. */
  port: string;
  /** The connections involved, as `A.out -> B.in (n/capacity)`. */
  connections: string[];
}

/** Emitted when every live process waits on a full or empty connection. */
export interface DeadlockReport {
  /** The network's name. */
  network: string;
  /** Every live process and what it waits on. */
  processes: StuckProcess[];
  /** One line per stuck process. */
  message: string;
}

type Conn = Connection<ProcessRuntime>;

/**
 * Every live process waits on a connection: a per-message process has no
 * activation or flush in flight (or each activation in flight has a send
 * waiting for room), a loop waits in `receive()` or on a parked send (a
 * loop doing its own work, such as awaiting a timer, is not waiting).
 */
export function allWaiting(procs: readonly ProcessRuntime[]): boolean {
  for (const p of procs) {
    if (p.phase === "finished" || p.phase === "stopped") continue;
    if (p.phase === "flushing") return false;
    // Waiting for a control value (a loop not yet started, too).
    if (p.awaitingControls.size > 0) continue;
    // An activation in flight is waiting only when it has parked sends
    // (each in-flight activation, at least one): it awaits room.
    if (p.active > p.parked) return false;
    if (p.loop && !p.hidden && p.parked === 0) {
      let receiving = false;
      for (const port in p.waiters) {
        if (p.waiters[port].length > 0) receiving = true;
      }
      if (!receiving) return false;
    }
  }
  return true;
}

/** Messages taken so far from `conns`: tells a stall from progress. */
export function progress(conns: readonly Conn[]): number {
  let n = 0;
  for (const c of conns) n += c.delivered;
  return n;
}

/** What each live process of network `network` waits on, and why. */
export function deadlockReport(
  network: string,
  procs: readonly ProcessRuntime[],
): DeadlockReport {
  const processes: StuckProcess[] = [];
  for (const p of procs) {
    if (p.phase === "finished" || p.phase === "stopped" || p.hidden) continue;
    processes.push(_stuck(p));
  }
  const lines = processes.map((s) =>
    s.waitingOn === "send"
      ? `${s.process} waits to send on "${s.port}": ${
        s.connections.join(", ")
      } is full`
      : s.port === ""
      ? `${s.process} waits with no open input`
      : `${s.process} waits for input on "${s.port}"${
        s.connections.length ? ` from ${s.connections.join(", ")}` : ""
      }`
  );
  return {
    network,
    processes,
    message:
      `network "${network}" is deadlocked: every live process waits on a connection\n${
        lines.join("\n")
      }`,
  };
}

/** What live process `p` waits on: a full output, a control value, or input. */
function _stuck(p: ProcessRuntime): StuckProcess {
  const full: Conn[] = [];
  for (const port in p.outs) {
    for (const c of p.outs[port].conns) {
      if (
        c.policyCode === BLOCK && c.count >= c.capacity &&
        (c.pending.length > 0 || p.queued > 0 || p.loop)
      ) {
        full.push(c);
      }
    }
  }
  if (full.length > 0) {
    return {
      process: p.name,
      waitingOn: "send",
      port: full[0].from!.port,
      connections: full.map(_label),
    };
  }
  const awaited = [...p.awaitingControls][0];
  if (awaited !== undefined) {
    return {
      process: p.name,
      waitingOn: "receive",
      port: awaited,
      connections: p.controlConns[awaited].map(_label),
    };
  }
  const port = Object.keys(p.waiters).find((k) => p.waiters[k].length > 0) ??
    Object.keys(p.inputsByPort).find((k) =>
      p.inputsByPort[k].some((c) => !c.closed)
    ) ?? "";
  return {
    process: p.name,
    waitingOn: "receive",
    port,
    connections: (p.inputsByPort[port] ?? []).filter((c) => !c.closed).map(
      _label,
    ),
  };
}

/** `A.out -> B.in (n/capacity)`, with the parked values when there are any. */
function _label(c: Conn): string {
  const waiting = c.pending.length > 0
    ? `, ${c.pending.length} more waiting`
    : "";
  return `${c.name()} (${c.count}/${c.capacity}${waiting})`;
}

/**
 * Decides when a possible stall is a deadlock: armed whenever work may
 * have run out, it looks `delayMs` later; a stall (`stalled()` true) with
 * the same `progress()` twice in a row, `delayMs` apart, is reported once
 * (until progress is made and the network stalls again).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StallWatch } from "./deadlock.ts";
 *
 * let reports = 0;
 * const { promise, resolve } = Promise.withResolvers<void>();
 * const watch = new StallWatch(1, () => true, () => 7, () => {
 *   reports++;
 *   resolve();
 * });
 * watch.arm();
 * await promise;
 * assert.deepEqual(reports, 1);
 * ```
 */
export class StallWatch {
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Progress when the last report was made (-1: none yet). */
  #reportedAt = -1;
  /** Progress at the previous look that found a stall (-1: none). */
  #stallMark = -1;

  /** Creates an unarmed watch. */
  constructor(
    readonly delayMs: number,
    readonly stalled: () => boolean,
    readonly progress: () => number,
    readonly report: () => void,
  ) {}

  /** Looks `delayMs` from now, unless a look is already due. */
  arm(): void {
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#look, this.delayMs);
    }
  }

  /** Cancels the look that is due (the network is done). */
  cancel(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #look = (): void => {
    this.#timer = undefined;
    if (!this.stalled()) {
      this.#stallMark = -1;
      return;
    }
    const progress = this.progress();
    if (progress === this.#reportedAt) return;
    if (progress === this.#stallMark) {
      this.#reportedAt = progress;
      this.report();
      return;
    }
    this.#stallMark = progress;
    this.#timer = setTimeout(this.#look, this.delayMs);
  };
}
