/**
 * The stall watchdog: notices that the event loop has been blocked longer
 * than a threshold, says at once which flow and process did it, and has
 * the network report the stall when the activation returns, so that the
 * flow manager stops that flow (issue 18: a poison flow must not take the
 * server down).
 *
 * A stall cannot be seen from the blocked thread, so the watching runs on
 * a `Worker` (a Web standard both Deno and Bun have): the main thread
 * writes the time into a `SharedArrayBuffer` (a heartbeat) every
 * `thresholdMs / 8` (at most every 100 ms); the worker reads it as often.
 * When the heartbeat is `thresholdMs` old, the worker reads the engine's
 * current-activation marker (`engine/activation.ts`), writes one log line
 * to standard error itself (the main thread, which owns the log, is
 * blocked), and flips the marker so that the network reports the stall
 * when the activation returns. The worker's code is inline (a `Blob` URL),
 * so the single executable needs no extra file.
 *
 * @module
 */
import { activationCells } from "../engine/activation.ts";
import type { Network } from "../engine/network.ts";

/** Options of {@linkcode StallWatchdog.start}. */
export interface StallWatchdogOptions {
  /** A blocked event loop counts as a stall after this many ms. Default 2000. */
  thresholdMs?: number;
  /**
   * The format of the line the worker writes to standard error during a
   * stall, like the server's log: `json` (one object) or `text`. Default
   * `text`.
   */
  format?: "json" | "text";
  /**
   * Called on the main thread when the loop is back: how long it was
   * blocked and, when an activation was marked, which flow and process.
   */
  onStallEnd?: (stall: StallInfo) => void;
}

/** A stall as the watchdog saw it. */
export interface StallInfo {
  /** The flow whose activation ran, if one was marked. */
  flow?: string;
  /** Its process. */
  process?: string;
  /** How long the loop was blocked (ms): from its last heartbeat, so up to a heartbeat interval (threshold / 8, at most 100 ms) more. */
  ms: number;
}

/** The worker: watches the heartbeat, names the activation, flips the marker. */
const WORKER_SOURCE = `
import { writeSync } from "node:fs";
let hb, cells, stallCell, alive, thresholdMs, format;
const names = new Map();
// seen: the heartbeat last read; since: when the loop was last known to
// turn; mark: the marker last read, markStart: the poll before it was first
// read (its activation began after then); logged: this stall was logged;
// flipped: the marker value written to say "stalled" (0: none).
let seen = 0, since = 0, mark = 0, markStart = 0, lastPoll = 0;
let logged = false, flipped = 0, stallStart = 0, named = {};
function line(msg, fields) {
  const now = new Date();
  if (format === "json") {
    return JSON.stringify({ time: now.toISOString(), level: "error", msg, ...fields });
  }
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return p(now.getHours()) + ":" + p(now.getMinutes()) + ":" + p(now.getSeconds()) +
    "." + p(now.getMilliseconds(), 3) + " ERROR " + msg;
}
function say(msg, ms) {
  try {
    writeSync(2, line(msg, { ...named, stalled_ms: ms, watchdog: true }) + "\\n");
  } catch {}
}
function check() {
  // The main thread's time at its last heartbeat.
  const beat = hb[0];
  const now = Date.now();
  const id = Atomics.load(cells, 0);
  if (id !== mark) {
    mark = id;
    markStart = lastPoll;
  }
  lastPoll = now;
  // The heartbeat moved, or the flipped activation returned (the main
  // thread may block again before its heartbeat runs): the stall is over.
  if (beat !== seen || (flipped !== 0 && id !== flipped)) {
    if (logged || flipped !== 0) {
      self.postMessage({ type: "end", ms: now - stallStart, ...named });
    }
    logged = false;
    flipped = 0;
    named = {};
    // Without a new heartbeat, the loop was last seen turning now.
    since = beat !== seen ? beat : now;
    seen = beat;
    return;
  }
  // A network took up work since: the loop turned then.
  if (alive[0] > since) since = Math.min(alive[0], now);
  if (now - since < thresholdMs || flipped !== 0) return;
  const limit = " (watchdog threshold " + thresholdMs + " ms)";
  if (id > 0) {
    // Only what this activation ran counts against it: the loop may have
    // been blocked (or this process starved) before it began.
    const start = Math.max(since, markStart);
    if (now - start < thresholdMs) return;
    const who = names.get(id);
    if (!logged) stallStart = start;
    named = who === undefined ? {} : { flow: who[0], process: who[1] };
    stallCell[0] = start;
    if (Atomics.compareExchange(cells, 0, id, -id) === id) flipped = -id;
    logged = true;
    const s = ((now - start) / 1000).toFixed(1);
    say(
      who !== undefined
        ? "flow " + JSON.stringify(who[0]) + ": process " + JSON.stringify(who[1]) +
          " has blocked the event loop for " + s + " s" + limit +
          "; the flow is stopped as soon as it returns"
        : "an activation of process #" + id + " has blocked the event loop for " +
          s + " s" + limit,
      now - start,
    );
    return;
  }
  if (logged) return;
  logged = true;
  stallStart = since;
  say(
    "the event loop has been blocked for " + ((now - since) / 1000).toFixed(1) +
      " s" + limit +
      "; no flow activation is running (the server's own work, or a process's code after an await)",
    now - since,
  );
}
self.onmessage = (e) => {
  const m = e.data;
  if (m.type === "init") {
    hb = new Float64Array(m.heartbeat);
    seen = since = lastPoll = markStart = hb[0];
    cells = new Int32Array(m.cells, 0, 2);
    stallCell = new Float64Array(m.cells, 8, 1);
    alive = new Float64Array(m.cells, 16, 1);
    thresholdMs = m.thresholdMs;
    format = m.format;
    setInterval(check, m.intervalMs);
    self.postMessage({ type: "ready" });
  } else if (m.type === "names") {
    for (const [id, flow, process] of m.entries) names.set(id, [flow, process]);
  } else if (m.type === "forget") {
    for (const id of m.ids) names.delete(id);
  }
};
`;

/**
 * The web `Worker` both runtimes have globally. Declared here because the
 * package's declarations are built against Node's types (tsconfig.types.json,
 * lib esnext), which do not declare the web one.
 */
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onerror:
    | ((e: { message: string; preventDefault?: () => void }) => void)
    | null;
  onmessage: ((e: { data: unknown }) => void) | null;
}

/** The runtime's `Worker` constructor, typed as {@linkcode WebWorker}. */
const WebWorkerClass = (globalThis as unknown as {
  Worker: new (url: string, options: { type: "module" }) => WebWorker;
}).Worker;

/**
 * Watches the event loop from a worker; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StallWatchdog } from "./stall_watchdog.ts";
 *
 * const ends: number[] = [];
 * const dog = await StallWatchdog.start({
 *   thresholdMs: 200,
 *   onStallEnd: (s) => ends.push(s.ms),
 * });
 * const t0 = Date.now();
 * while (Date.now() - t0 < 600) {} // blocks the loop: the worker logs it
 * await new Promise((r) => setTimeout(r, 400));
 * dog.close();
 * assert.equal(ends.length, 1);
 * assert.ok(ends[0] >= 200);
 * ```
 */
export class StallWatchdog {
  /** The threshold, ms. */
  readonly thresholdMs: number;
  readonly #worker: WebWorker;
  readonly #timer: ReturnType<typeof setInterval>;
  #closed = false;

  private constructor(
    thresholdMs: number,
    worker: WebWorker,
    timer: ReturnType<typeof setInterval>,
  ) {
    this.thresholdMs = thresholdMs;
    this.#worker = worker;
    this.#timer = timer;
  }

  /** Starts the worker and the heartbeat; resolves once the worker watches. */
  static async start(options: StallWatchdogOptions = {}): Promise<
    StallWatchdog
  > {
    const thresholdMs = options.thresholdMs ?? 2000;
    if (
      !Number.isInteger(thresholdMs) || thresholdMs < 100 ||
      thresholdMs > 3_600_000
    ) {
      throw new RangeError(
        `Cannot start stall watchdog: thresholdMs must be a whole number of ms from 100 to 3600000, received ${thresholdMs}`,
      );
    }
    const intervalMs = Math.max(12, Math.min(100, Math.floor(thresholdMs / 8)));
    const heartbeat = new Float64Array(new SharedArrayBuffer(8));
    heartbeat[0] = Date.now();
    const url = URL.createObjectURL(
      new Blob([WORKER_SOURCE], { type: "application/javascript" }),
    );
    const worker = new WebWorkerClass(url, { type: "module" });
    const ready = new Promise<void>((resolve, reject) => {
      worker.onerror = (e) => {
        e.preventDefault?.();
        reject(new Error(`Cannot start stall watchdog: ${e.message}`));
      };
      worker.onmessage = (e: { data: unknown }) => {
        if ((e.data as { type?: string } | null)?.type === "ready") resolve();
      };
    });
    worker.postMessage({
      type: "init",
      heartbeat: heartbeat.buffer,
      cells: activationCells.buffer,
      thresholdMs,
      intervalMs,
      format: options.format ?? "text",
    });
    // A worker that never answers must not hold the server's start.
    let answer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      answer = setTimeout(
        () =>
          reject(
            new Error(
              "Cannot start stall watchdog: its worker did not answer within 10 s",
            ),
          ),
        10_000,
      );
    });
    try {
      await Promise.race([ready, late]);
    } catch (e) {
      worker.terminate();
      throw e;
    } finally {
      clearTimeout(answer);
      URL.revokeObjectURL(url);
    }
    const timer = setInterval(() => {
      heartbeat[0] = Date.now();
    }, intervalMs);
    const onEnd = options.onStallEnd;
    worker.onmessage = (e: { data: unknown }) => {
      const m = e.data as { type: string } & StallInfo;
      if (m?.type !== "end" || onEnd === undefined) return;
      onEnd({
        ms: m.ms,
        ...(m.flow !== undefined ? { flow: m.flow, process: m.process } : {}),
      });
    };
    // Neither keeps a process alive that has nothing else to do (Bun, Node).
    (worker as { unref?: () => void }).unref?.();
    (timer as { unref?: () => void }).unref?.();
    return new StallWatchdog(thresholdMs, worker, timer);
  }

  /**
   * Tells the worker the names of `network`'s processes, as flow `flow`;
   * returns the function that forgets them (when the network is retired).
   */
  watch(flow: string, network: Network): () => void {
    const ids = network.activationIds();
    if (this.#closed) return () => {};
    this.#worker.postMessage({
      type: "names",
      entries: ids.map(([id, process]) => [id, flow, process]),
    });
    return () => {
      if (!this.#closed) {
        this.#worker.postMessage({
          type: "forget",
          ids: ids.map(([id]) => id),
        });
      }
    };
  }

  /** Stops the heartbeat and the worker. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#worker.terminate();
  }
}
