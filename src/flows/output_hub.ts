/**
 * The lines `core/Output` writes, by flow, for whoever listens (the
 * dashboard's tap, `GET /flows/:id/tap`): `weir serve` writes each line to
 * standard output as before, and through the hub to the listeners of its
 * flow. A flow nobody listens to costs one map lookup per line.
 *
 * @module
 */

/** A line of `core/Output`, as the hub's listeners get it. */
export interface OutputLine {
  /** When it was written (ms since the epoch). */
  at: number;
  /** The flow. */
  flow: string;
  /** The `core/Output` process. */
  process: string;
  /** The line. */
  line: string;
}

/** Where `core/Output` writes (the components' `OutputWriter`). */
export type LineWriter = (line: string, flow: string, process: string) => void;

/**
 * Hands each flow's `core/Output` lines to its listeners.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OutputHub, type OutputLine } from "./output_hub.ts";
 *
 * const hub = new OutputHub(() => 5);
 * const printed: string[] = [];
 * const write = hub.wrap((line) => printed.push(line));
 * const heard: OutputLine[] = [];
 * const off = hub.listen("a", (l) => heard.push(l));
 * write("21.5", "a", "Log");
 * write("7", "b", "Log");
 * off();
 * write("22", "a", "Log");
 * assert.deepEqual(printed, ["21.5", "7", "22"]);
 * assert.deepEqual(heard, [{ at: 5, flow: "a", process: "Log", line: "21.5" }]);
 * ```
 */
export class OutputHub {
  readonly #listeners = new Map<string, Set<(line: OutputLine) => void>>();
  readonly #now: () => number;

  /** A hub; `now` dates the lines (default `Date.now`). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * A writer that writes with `write` and then tells the flow's listeners.
   * A listener that throws is ignored: it never stops a flow.
   */
  wrap(write: LineWriter): LineWriter {
    const listeners = this.#listeners;
    const now = this.#now;
    return (line, flow, process) => {
      write(line, flow, process);
      const set = listeners.get(flow);
      if (set === undefined) return;
      const out: OutputLine = { at: now(), flow, process, line };
      for (const l of set) {
        try {
          l(out);
        } catch { /* a listener never hurts the flow */ }
      }
    };
  }

  /** Calls `listener` with flow `flow`'s lines until the returned function is called. */
  listen(flow: string, listener: (line: OutputLine) => void): () => void {
    let set = this.#listeners.get(flow);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(flow, set);
    }
    const own = (l: OutputLine) => listener(l);
    set.add(own);
    return () => {
      const s = this.#listeners.get(flow);
      if (s === undefined || !s.delete(own) || s.size > 0) return;
      this.#listeners.delete(flow);
    };
  }

  /** Flows with listeners now (for tests). */
  get flowsListened(): number {
    return this.#listeners.size;
  }
}
