/**
 * The stall watchdog: notices that the event loop has been blocked longer
 * than a threshold, says at once which flow and process did it, and has
 * the network report the stall when the activation returns, so that the
 * flow manager stops that flow (issue 18: a poison flow must not take the
 * server down).
 *
 * A stall cannot be seen from the blocked thread, so the watching runs on
 * a `Worker` (a Web standard both Deno and Bun have). The worker looks
 * every `thresholdMs / 8` (at most every 100 ms), sleeping in between in
 * `Atomics.wait` (a futex: no timer of its event loop). It knows the loop
 * turned when a network took up work or the server's periodic work began
 * (the engine's `aliveAt` cell, `noteLoopTurn`), or when the main thread
 * answered its ping: once the loop has been quiet for `thresholdMs * 3/4`
 * (at most 1.5 s), the worker posts a ping, and the main thread writes the
 * time into a `SharedArrayBuffer` (the heartbeat) when it gets it. An idle
 * server whose history samples every second thus wakes its main thread
 * for the watchdog not at all, one without at most about once a second,
 * where a heartbeat timer woke it ten times a second (a wake-up costs a
 * few hundred µs of CPU here: bench/RESULTS.md, session 26).
 *
 * A stall is told two ways. While an activation runs (the engine's
 * current-activation marker, `engine/activation.ts`), from when it began:
 * when that is `thresholdMs` ago, the worker writes one log line to
 * standard error itself (the main thread, which owns the log, is blocked)
 * and flips the marker so that the network reports the stall when the
 * activation returns. Outside any activation (the server's own work, a
 * process's code after an `await`), from the ping the loop did not
 * answer: a loop quiet for a while before it blocked is never counted
 * blocked for that while. The worker's code is inline (a `Blob` URL), so
 * the single executable needs no extra file.
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
  /**
   * How long the loop was blocked (ms). In an activation, from the
   * worker's look before it first saw the activation (up to a look's
   * interval, threshold / 8 and at most 100 ms, more); outside one, from
   * the ping the loop did not answer (up to a ping's wait, threshold * 3/4
   * and at most 1.5 s, less).
   */
  ms: number;
}

/** The message a worker posts to ask the main thread for a heartbeat. */
const PING = 0;

/** Cells of the mailbox: messages posted to the worker, and "closed". */
const MAIL_POSTED = 0;
const MAIL_CLOSED = 1;

/** The worker: watches the loop, names the activation, flips the marker. */
const WORKER_SOURCE = `
import { writeSync } from "node:fs";
let hb, cells, stallCell, alive, mail, thresholdMs, intervalMs, pingMs, format;
const names = new Map();
// seen: the heartbeat last read; since: when the loop was last known to
// turn; pingAt: when the unanswered ping was posted (0: none); mark: the
// marker last read, markStart: the look before it was first read (its
// activation began after then); logged: this stall was logged; flipped:
// the marker value written to say "stalled" (0: none).
let seen = 0, since = 0, pingAt = 0, mark = 0, markStart = 0, lastPoll = 0;
let logged = false, flipped = 0, stallStart = 0, named = {};
// Messages the main thread posted (names, forget) that arrived.
let received = 0;
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
  // The main thread's time when it last answered a ping.
  const beat = hb[0];
  const now = Date.now();
  const id = Atomics.load(cells, 0);
  if (id !== mark) {
    mark = id;
    markStart = lastPoll;
  }
  lastPoll = now;
  // The ping was answered, or the flipped activation returned (the main
  // thread may block again before it answers a ping): the stall is over.
  if (beat !== seen || (flipped !== 0 && id !== flipped)) {
    if (logged || flipped !== 0) {
      self.postMessage({ type: "end", ms: now - stallStart, ...named });
    }
    logged = false;
    flipped = 0;
    named = {};
    since = beat !== seen ? beat : now;
    seen = beat;
    pingAt = 0;
    return;
  }
  // A network took up work since: the loop turned then.
  if (alive[0] > since) since = Math.min(alive[0], now);
  if (pingAt < since) pingAt = 0;
  if (pingAt === 0 && now - since >= pingMs) {
    pingAt = now;
    self.postMessage(${PING});
  }
  if (flipped !== 0) return;
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
  // Outside an activation, only an unanswered ping tells a blocked loop
  // from an idle one.
  if (logged || pingAt === 0 || now - pingAt < thresholdMs) return;
  logged = true;
  stallStart = pingAt;
  say(
    "the event loop has been blocked for " + ((now - pingAt) / 1000).toFixed(1) +
      " s" + limit +
      "; no flow activation is running (the server's own work, or a process's code after an await)",
    now - pingAt,
  );
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function watch() {
  let posted = 0;
  for (;;) {
    // Sleeps a look's interval, or until the main thread posts a message.
    Atomics.wait(mail, ${MAIL_POSTED}, posted, intervalMs);
    if (Atomics.load(mail, ${MAIL_CLOSED}) !== 0) return self.close();
    posted = Atomics.load(mail, ${MAIL_POSTED});
    // Lets the event loop deliver what was posted (names of a flow about
    // to run), for at most a look's interval.
    for (let waited = 0; received < posted && waited < intervalMs; waited++) {
      await sleep(1);
    }
    check();
  }
}
self.onmessage = (e) => {
  const m = e.data;
  if (m.type === "init") {
    hb = new Float64Array(m.heartbeat);
    seen = since = lastPoll = markStart = hb[0];
    cells = new Int32Array(m.cells, 0, 2);
    stallCell = new Float64Array(m.cells, 8, 1);
    alive = new Float64Array(m.cells, 16, 1);
    mail = new Int32Array(m.mail);
    thresholdMs = m.thresholdMs;
    intervalMs = m.intervalMs;
    pingMs = m.pingMs;
    format = m.format;
    self.postMessage({ type: "ready" });
    watch();
    return;
  }
  received++;
  if (m.type === "names") {
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
  /** Messages posted to the worker, and "closed": see the worker's `watch`. */
  readonly #mail: Int32Array;
  readonly #pings: () => number;
  #closed = false;

  private constructor(
    thresholdMs: number,
    worker: WebWorker,
    mail: Int32Array,
    pings: () => number,
  ) {
    this.thresholdMs = thresholdMs;
    this.#worker = worker;
    this.#mail = mail;
    this.#pings = pings;
  }

  /**
   * How many times the worker has asked the main thread whether the loop
   * turns (answered pings): none while flows or the server's sampling
   * turn it (`noteLoopTurn`), about one per `thresholdMs * 3/4` (at most
   * 1.5 s) while nothing does.
   */
  get pings(): number {
    return this.#pings();
  }

  /** Starts the worker; resolves once it watches. */
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
    // Longer than a second, so that a server's own work of every second
    // (a sampling tick: noteLoopTurn) shows the loop turns without a ping.
    const pingMs = Math.min(1500, Math.floor(thresholdMs * 3 / 4));
    const heartbeat = new Float64Array(new SharedArrayBuffer(8));
    heartbeat[0] = Date.now();
    const mail = new Int32Array(new SharedArrayBuffer(8));
    const url = URL.createObjectURL(
      new Blob([WORKER_SOURCE], { type: "application/javascript" }),
    );
    const worker = new WebWorkerClass(url, { type: "module" });
    const onEnd = options.onStallEnd;
    let pings = 0;
    const ready = new Promise<void>((resolve, reject) => {
      worker.onerror = (e) => {
        e.preventDefault?.();
        reject(new Error(`Cannot start stall watchdog: ${e.message}`));
      };
      // One handler from the start: a ping may come before the answer.
      worker.onmessage = (e: { data: unknown }) => {
        const m = e.data as ({ type: string } & StallInfo) | typeof PING;
        if (m === PING) {
          heartbeat[0] = Date.now();
          pings++;
        } else if (m?.type === "ready") resolve();
        else if (m?.type === "end") {
          onEnd?.({
            ms: m.ms,
            ...(m.flow !== undefined
              ? { flow: m.flow, process: m.process }
              : {}),
          });
        }
      };
    });
    worker.postMessage({
      type: "init",
      heartbeat: heartbeat.buffer,
      cells: activationCells.buffer,
      mail: mail.buffer,
      thresholdMs,
      intervalMs,
      pingMs,
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
    // It does not keep a process alive that has nothing else to do (Bun,
    // Node).
    (worker as { unref?: () => void }).unref?.();
    return new StallWatchdog(thresholdMs, worker, mail, () => pings);
  }

  /**
   * Tells the worker the names of `network`'s processes, as flow `flow`;
   * returns the function that forgets them (when the network is retired).
   */
  watch(flow: string, network: Network): () => void {
    const ids = network.activationIds();
    if (this.#closed) return () => {};
    this.#post({
      type: "names",
      entries: ids.map(([id, process]) => [id, flow, process]),
    });
    return () => {
      if (!this.#closed) {
        this.#post({ type: "forget", ids: ids.map(([id]) => id) });
      }
    };
  }

  /** Stops the worker. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#mail, MAIL_CLOSED, 1);
    Atomics.notify(this.#mail, MAIL_POSTED);
    this.#worker.terminate();
  }

  /**
   * Posts `message` and wakes the worker, which sleeps in `Atomics.wait`
   * and lets its event loop deliver messages only when told.
   */
  #post(message: unknown): void {
    this.#worker.postMessage(message);
    Atomics.add(this.#mail, MAIL_POSTED, 1);
    Atomics.notify(this.#mail, MAIL_POSTED);
  }
}
