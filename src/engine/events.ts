/**
 * The events a network emits (`error`, `state`, `deadlock`, `stall`) and the list of
 * listeners behind `Network.on()`.
 *
 * @module
 */
import { describeValue } from "./component.ts";
import type { DeadlockReport } from "./deadlock.ts";
import type { ProcessError } from "./errors.ts";
import type { NetworkState } from "./network.ts";

/** Events of a network and their payloads. */
export interface NetworkEvents {
  /**
   * A process failed a message, or reported a fault: one it failed on
   * (`level` `"error"`) or a condition it goes on through (`"warning"`),
   * or news of one (`"info"`: it is over). Its teardown that throws is
   * one too, at `"error"`, emitted as the network ends (stopping, when
   * the network's faults are otherwise no longer routed), and so is a
   * fault whose handling failed (`its fault could not be handled: ...`).
   */
  error: ProcessError;
  /** The life-cycle state changed. */
  state: NetworkState;
  /** Every live process waits on a connection. */
  deadlock: DeadlockReport;
  /**
   * A watchdog found the event loop stalled in an activation of this
   * network (see `activation.ts`); emitted when the activation returned.
   */
  stall: StallReport;
}

/** An activation that stalled the event loop. */
export interface StallReport {
  /** The network's name. */
  network: string;
  /** The process whose activation it was. */
  process: string;
  /** How long the loop was blocked, in ms (from when the watchdog last knew it turned, or when the activation began). */
  ms: number;
}

/** A listener of a network event. */
export type Listener<T> = (payload: T) => void;

/**
 * The listeners of a network's events. A listener that throws is logged
 * and the others still run; an `error` with no listener is logged, so that
 * no fault goes unseen.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Listeners } from "./events.ts";
 *
 * const seen: string[] = [];
 * const listeners = new Listeners();
 * const off = listeners.on("state", (s) => seen.push(s));
 * listeners.emit("state", "running");
 * off();
 * listeners.emit("state", "stopped");
 * assert.deepEqual(seen, ["running"]);
 * ```
 */
export class Listeners {
  readonly #lists: {
    [K in keyof NetworkEvents]: Listener<NetworkEvents[K]>[];
  } = { error: [], state: [], deadlock: [], stall: [] };

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof NetworkEvents>(
    event: K,
    listener: Listener<NetworkEvents[K]>,
  ): () => void {
    if (!Object.hasOwn(this.#lists, event)) {
      throw new TypeError(
        `Cannot listen to network event ${
          describeValue(event)
        }: a network emits ${Object.keys(this.#lists).join(", ")}`,
      );
    }
    if (typeof listener !== "function") {
      throw new TypeError(
        `Cannot listen to network event "${event}": the listener must be a function, received ${
          describeValue(listener)
        }`,
      );
    }
    const list = this.#lists[event] as Listener<NetworkEvents[K]>[];
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Calls every listener of `event` with `payload`. */
  emit<K extends keyof NetworkEvents>(
    event: K,
    payload: NetworkEvents[K],
  ): void {
    const list = this.#lists[event] as Listener<NetworkEvents[K]>[];
    if (list.length === 0 && event === "error") {
      const e = payload as ProcessError;
      if (e.level === "warning") console.warn(`[weir] ${e.message}`);
      else if (e.level === "info") console.info(`[weir] ${e.message}`);
      else console.error(`[weir] ${e.message}`);
      return;
    }
    for (const l of [...list]) {
      try {
        l(payload);
      } catch (e) {
        console.error(`[weir] a "${event}" listener threw:`, e);
      }
    }
  }
}
