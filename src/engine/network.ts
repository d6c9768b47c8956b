/**
 * The network: runs processes, moves messages through bounded connections,
 * and keeps the statistics the metrics layer reads.
 *
 * Scheduling: a message sent to an idle receiver (nothing buffered, no
 * activation in flight, room on its own outputs) is handed over at once:
 * the sender's call runs the receiver's activation, so a chain of idle
 * synchronous processes costs a few function calls per message. Otherwise
 * the message waits in the connection's bounded FIFO, and the receiver
 * waits in a run queue; the run loop activates each ready process for a
 * short batch and yields to the host's event loop every 4 ms (a slice),
 * after which senders meet full buffers and back pressure until the next
 * slice. A synchronous activation that sends more than a full `block`
 * connection can take parks the surplus (`pending`) and the sender is not
 * activated again until it has drained, so a connection holds at most its
 * capacity plus one activation's output.
 *
 * Timing: queue wait and source-to-sink latency use a clock read once per
 * 128 activations (and at every entry from the event loop), so they resolve
 * to that granularity (microseconds under load; a hand-over waits 0 s).
 * Processing time is read around the activation itself: every activation
 * of an asynchronous process, and one in `timingSampleEvery` (default 64)
 * activations of a synchronous one, plus at least one per millisecond,
 * because reading the clock costs more than a small synchronous activation
 * (about 45 ns on Bun and 100 ns on Deno). A timed activation buffers its
 * sends (so its receivers' work is not counted in its time) and hands them
 * over right after.
 *
 * Size: about 1,100 lines, over the ~800 the style asks for. What is left
 * here is one class's private state and the methods that share it on the
 * per-message path (send, push, hand-over, activation, run queue, clock)
 * and at each process's end (loops, flush, close), which call each other
 * both ways; everything that reads that state from outside the message
 * path is already in its own file (connection, wiring, guard, breaker,
 * faults, deadlock, drain, stats, events). The next split would move the
 * per-process life cycle (loops, flush, close; about 250 lines) behind an
 * internal interface, at the cost of calls through it on a path known to
 * be sensitive to such changes: it waits for a quiet machine to measure
 * it (`bun bench/versus.ts --same-process`).
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "./option_keys.ts";
import { activationCells, aliveAt, marked, stallSince } from "./activation.ts";
import { END, isThenable } from "./component.ts";
import { type Connection, endpointName } from "./connection.ts";
import { estimateBytes } from "./size.ts";
import { thrownText } from "./excerpt.ts";
import {
  allWaiting,
  deadlockReport,
  progress,
  StallWatch,
} from "./deadlock.ts";
import {
  checkDrainTimeout,
  drainedQuietly,
  type DrainResult,
  settlesWithin,
} from "./drain.ts";
import { isProcessError, ProcessError } from "./errors.ts";
import { Faults } from "./faults.ts";
import { type Listener, Listeners, type NetworkEvents } from "./events.ts";
import { type GuardHost, runGuarded } from "./guard.ts";
import { Histogram } from "./histogram.ts";
import type { Meter, MeterSpec } from "./meters.ts";
import type { Engine, OutPortHandle, ProcessRuntime } from "./process.ts";
import type { NetworkSpec } from "./spec.ts";
import {
  backlogOf,
  type NetworkStats,
  networkStats,
  networkStatsInto,
} from "./stats.ts";
import { wire, wireHostReader, type Wiring } from "./wiring.ts";

/** Life-cycle state of a network. */
export type NetworkState =
  | "created"
  | "running"
  | "draining"
  | "stopping"
  | "stopped"
  | "finished";

/** Options of a network. */
export interface NetworkOptions {
  /**
   * Time one in this many activations of a synchronous process (and at
   * least one per millisecond; every activation of an asynchronous one).
   * 1 times all. Default 64.
   */
  timingSampleEvery?: number;
  /** Histogram bounds in seconds for every duration. Default 10 µs to 10 s. */
  buckets?: readonly number[];
  /**
   * A deadlock is reported when every live process is found waiting on a
   * connection twice this many milliseconds apart, with no message taken
   * in between. Default 50.
   */
  deadlockDelayMs?: number;
  /**
   * The flow's bytes budget: when the estimated bytes buffered in its
   * connections (see `size.ts`) exceed it, its sources (loops with no data
   * input, and hosts sending into exported in-ports) wait on their next
   * buffered send, as on a full connection, until the buffers are back
   * under it; `pressure` says `"bytes"` meanwhile. Default `Infinity`.
   */
  bytesBudget?: number;
}

/** Every key of {@linkcode NetworkOptions}. */
export const NETWORK_OPTION_KEYS = optionKeys<NetworkOptions>()([
  "timingSampleEvery",
  "buckets",
  "deadlockDelayMs",
  "bytesBudget",
]);

const SLICE_MS = 4;
/** `performance.now()` plus this is epoch ms (a getter call on some runtimes: read once). */
const TIME_ORIGIN = performance.timeOrigin;
const BATCH = 64;
/** The coarse clock is read every 128 activations. */
const CLOCK_MASK = 127;
/** A synchronous process is timed at least this often (ms), whatever its rate. */
const TIME_AT_LEAST_EVERY_MS = 1;
/** Nesting limit of direct hand-overs (a chain of idle receivers). */
const MAX_DEPTH = 48;

/**
 * Runs `fn` on a later turn of the event loop (`setImmediate` where the
 * runtime has it): after the microtasks, and after I/O that is ready, but
 * not always after the timers already due: one queued from a timer's
 * callback (or from a step that began in one) runs before them, on Bun,
 * Deno and Node alike. To let those run too, see {@linkcode loopTurn}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { macrotask } from "./network.ts";
 *
 * const order: string[] = [];
 * const later = new Promise<void>((resolve) =>
 *   macrotask(() => {
 *     order.push("macrotask");
 *     resolve();
 *   })
 * );
 * queueMicrotask(() => order.push("microtask"));
 * await later;
 * assert.deepEqual(order, ["microtask", "macrotask"]);
 * ```
 */
export const macrotask: (fn: () => void) => void =
  typeof setImmediate !== "function"
    ? (fn) => void setTimeout(fn, 0)
    : "Deno" in globalThis
    ? _pollingMacrotask
    : (fn) => void setImmediate(fn);

/**
 * The longest run of back-to-back immediates (ms) after which Deno's
 * {@linkcode macrotask} takes a timer instead, to let sockets be read.
 */
const IMMEDIATE_RUN_MS = 50;
/** Immediates queued by {@linkcode _pollingMacrotask} and not yet run. */
let _immediatesOut = 0;
/** Whether one of those is running now (what it queues continues its run). */
let _inImmediate = false;
/**
 * When the current run of back-to-back immediates began; -1 when it has
 * not gone on yet.
 */
let _runStart = -1;
/**
 * While the timer a run took is pending, the callbacks waiting for it, in
 * the order they were given: one queued after it runs after it.
 */
let _behindTimer: (() => void)[] | null = null;

/**
 * Deno's {@linkcode macrotask}: `setImmediate`, except that once
 * immediates have followed each other for {@linkcode IMMEDIATE_RUN_MS}
 * (a busy flow continuing slice after slice), the next goes through
 * `setTimeout(0)`, and those queued before that timer fires wait behind
 * it, in order (an immediate would run first). On Deno 2.9 a chain of
 * immediates leaves the sockets unread for long stretches (the runtime's I/O driver is polled only
 * every few dozen turns): with a flow busy all the time, every request
 * to `weir serve` waited about 270 ms (bench/RESULTS.md, session 27). A
 * timer's turn costs about 2 ms, so a busy flow keeps about 90% of the
 * loop. Bun reads its sockets between immediates and keeps `setImmediate`.
 */
function _pollingMacrotask(fn: () => void): void {
  if (_behindTimer !== null) {
    // Not as an immediate, which would run before those behind the timer.
    _behindTimer.push(fn);
    return;
  }
  if (_immediatesOut === 0 && !_inImmediate) {
    // A new run, its clock read only if it goes on: a lone macrotask (one
    // a request's message asks for) costs no clock read.
    _runStart = -1;
  } else {
    const now = performance.now();
    if (_runStart < 0) _runStart = now;
    else if (now - _runStart >= IMMEDIATE_RUN_MS) {
      // What is queued until it fires waits behind it; the next run
      // begins when it fires.
      _behindTimer = [fn];
      setTimeout(_afterTimer, 0);
      return;
    }
  }
  _immediatesOut++;
  setImmediate(_runImmediate, fn);
}

function _runImmediate(fn: () => void): void {
  _immediatesOut--;
  _inImmediate = true;
  try {
    fn();
  } finally {
    _inImmediate = false;
  }
}

function _afterTimer(): void {
  const fns = _behindTimer!;
  _behindTimer = null;
  _runStart = -1;
  let i = 0;
  try {
    for (; i < fns.length; i++) fns[i]();
  } finally {
    if (i < fns.length - 1) {
      // fns[i] threw: the others still run, as separate tasks would, and
      // before what was queued after them.
      const rest = fns.slice(i + 1);
      // Set again if fns[0..i] took a timer (TypeScript sees it null).
      const behind = _behindTimer as (() => void)[] | null;
      if (behind !== null) behind.unshift(...rest);
      else {
        _behindTimer = rest;
        setTimeout(_afterTimer, 0);
      }
    }
  }
}

/**
 * Resolves once the event loop has had a whole turn: the I/O that is
 * ready and the timers that are due have run (two
 * {@linkcode macrotask}s: the first can come before the due timers, a
 * macrotask queued from it comes after them). What a long task awaits
 * between its slices, so that flows' timers and the stall watchdog's beat
 * are not held up for its whole length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loopTurn } from "./network.ts";
 *
 * const spin = (ms: number) => {
 *   const end = performance.now() + ms;
 *   while (performance.now() < end);
 * };
 * await new Promise<void>((resolve) => setTimeout(resolve, 1));
 * // Now inside a timer's step, as a sampling pass that a timer began.
 * let ran = false;
 * setTimeout(() => (ran = true), 0);
 * spin(5);
 * await loopTurn();
 * assert.equal(ran, true);
 * ```
 */
export function loopTurn(): Promise<void> {
  return new Promise<void>((resolve) => macrotask(() => macrotask(resolve)));
}

type Conn = Connection<ProcessRuntime>;

/**
 * A running flow: processes joined by bounded connections.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Network } from "./network.ts";
 * import { defineComponent } from "./component.ts";
 *
 * const seen: unknown[] = [];
 * const Collect = defineComponent({
 *   name: "test/Collect",
 *   description: "Keeps what it gets.",
 *   inPorts: { in: {} },
 *   process(v) {
 *     seen.push(v);
 *   },
 * });
 * const net = new Network({
 *   name: "demo",
 *   processes: [{ name: "C", component: Collect }],
 *   connections: [],
 *   initials: [{ data: 42, to: { process: "C", port: "in" } }],
 * });
 * await net.start();
 * await net.finished;
 * assert.deepEqual(seen, [42]);
 * ```
 */
export class Network {
  /** The flow's name. */
  readonly name: string;
  /** Resolves with the final state once every process finished or the network stopped. */
  readonly finished: Promise<NetworkState>;
  #state: NetworkState = "created";
  #resolveFinished!: (s: NetworkState) => void;
  /** Processes, connections, IIPs and exported ports, as wired from the spec. */
  readonly #w: Wiring;
  readonly #procs: ProcessRuntime[];
  readonly #conns: Conn[];
  /** Receivers to try to finish, while a finish closes connections. */
  #finishing: ProcessRuntime[] | null = null;
  /** The listeners of each tapped connection (see `tap`). */
  readonly #taps = new Map<Conn, Set<(value: unknown) => void>>();
  readonly #listeners = new Listeners();
  readonly #sampleEvery: number;
  /** Source-to-sink latency, seconds. */
  readonly #latency: Histogram;
  /** What processes and their ports call back into (kept off the public API). */
  readonly #engine: Engine;
  /** What a guarded activation calls back into. */
  readonly #guardHost: GuardHost;
  readonly #stallWatch: StallWatch;
  /** The current-activation marker's cells (activation.ts), kept at hand. */
  readonly #cells: Int32Array = activationCells;
  readonly #faults: Faults;

  // Run queue: a ring holding each process at most once.
  #rq: ProcessRuntime[] = [];
  #rqHead = 0;
  #rqSize = 0;
  #scheduled = false;
  #running = false;
  /** The time slice is used up: yield to the host before running more. */
  #throttled = false;
  #sliceEnd = 0;
  /** Activations so far (for the clock). */
  #ops = 0;
  /** Depth of nested direct hand-overs. */
  #depth = 0;
  /** Started and not yet complete: hand-overs may happen. */
  #live = false;
  /**
   * How many reasons hold direct hand-overs back now: the network is not
   * live (see #setLive), the slice is used up (#setThrottled), and one per
   * timed activation in progress (its sends buffer, so that the receivers'
   * work stays out of its time). One number, so that the hottest check
   * reads one field (three cost Deno's pipeline about 3%: bench/versus.ts
   * --same-process, 1.01 against 1.05 of bd57960).
   */
  #holds = 1;

  // Coarse clock (ms).
  #now = 0;
  #fresh = false;
  #staleScheduled = false;

  /** Asynchronous activations and flushes in flight (exact). */
  #inFlight = 0;
  /** `#complete` ran (teardown is done once). */
  #completed = false;
  /** A drain found nothing buffered and nothing in flight, then stopped. */
  #drainedQuietly = false;
  /** Exported out-ports a host reads (`output()`), by name. */
  readonly #outports = new Map<string, ProcessRuntime>();
  /** Processes not yet finished. */
  #unfinished = 0;
  /**
   * Estimated bytes buffered: the count at the last look over every
   * connection, plus what sources buffered since (see `#sourceSent`).
   */
  #bytes = 0;
  readonly #bytesBudget: number;
  /** Sources waiting for the buffers to be under the bytes budget, or `null`. */
  #bytesWaiters: (() => void)[] | null = null;
  /** Exported data in-ports not yet closed. */
  #openInports = 0;

  /** Builds the network; a spec that does not fit its components throws. */
  constructor(spec: NetworkSpec, options: NetworkOptions = {}) {
    if (typeof spec?.name !== "string" || spec.name === "") {
      throw new TypeError(
        "Cannot create network: spec.name must be a non-empty string",
      );
    }
    checkOptionKeys(
      `Cannot create network "${spec.name}"`,
      options,
      NETWORK_OPTION_KEYS,
    );
    this.name = spec.name;
    this.#engine = {
      name: spec.name,
      sendFrom: (out, value, index, origin) =>
        this.#sendFrom(out, value, index, origin),
      receive: (p, port) => this.#receive(p, port),
      report: (p, e, input, options) =>
        this.#faults.report(p, e, input, options),
    };
    this.#sampleEvery = options.timingSampleEvery ?? 64;
    if (!Number.isInteger(this.#sampleEvery) || this.#sampleEvery < 1) {
      throw new RangeError(
        `Cannot create network "${spec.name}": timingSampleEvery must be a positive integer, received ${this.#sampleEvery}`,
      );
    }
    this.#latency = new Histogram(options.buckets);
    this.#bytesBudget = options.bytesBudget ?? Infinity;
    if (!(this.#bytesBudget > 0)) {
      throw new RangeError(
        `Cannot create network "${spec.name}": bytesBudget must be a positive number of bytes, received ${options.bytesBudget}`,
      );
    }
    this.finished = new Promise((r) => (this.#resolveFinished = r));
    this.#w = wire(spec, this.#engine, options.buckets);
    this.#faults = new Faults(
      spec.name,
      this.#listeners,
      () => this.#state === "stopping" || this.#state === "stopped",
    );
    this.#procs = this.#w.procs;
    this.#conns = this.#w.conns;
    for (const c of this.#conns) {
      c.fromSource = c.source === null ? !c.iip : c.source.source;
    }
    this.#rq = new Array(this.#procs.length).fill(null);
    this.#guardHost = {
      name: spec.name,
      faults: this.#faults,
      reachedSink: (at, origin) => this.#latency.observe((at - origin) / 1000),
      now: () => {
        this.#tick();
        return this.#now;
      },
      stalled: (p) => this.#stalled(p),
    };
    this.#stallWatch = new StallWatch(
      options.deadlockDelayMs ?? 50,
      () => this.#workRanOut() && allWaiting(this.#procs),
      () => progress(this.#conns),
      () =>
        this.#listeners.emit(
          "deadlock",
          deadlockReport(this.name, this.#procs),
        ),
    );
  }

  /** The current life-cycle state. */
  get state(): NetworkState {
    return this.#state;
  }

  /** Names of the processes. */
  get processNames(): string[] {
    return this.#procs.map((p) => p.name);
  }

  /**
   * The meters its processes' components declare (see `meters.ts`), each
   * name once (the first declaration; components sharing a name declare it
   * alike, which the registry checks).
   */
  meterSpecs(): MeterSpec[] {
    const out = new Map<string, MeterSpec>();
    for (const p of this.#procs) {
      if (p.hidden) continue;
      for (const m of p.component.meters) {
        if (!out.has(m.name)) out.set(m.name, m);
      }
    }
    return [...out.values()];
  }

  /**
   * Calls `fn` with every meter series its processes have asked for (see
   * `Context.meter`), with the process name: what a scrape reads.
   */
  forEachMeter(fn: (process: string, meter: Meter) => void): void {
    for (const p of this.#procs) {
      const meters = p.meters;
      if (meters === null || p.hidden) continue;
      for (const m of meters.list) fn(p.name, m);
    }
  }

  /**
   * Each process's id in the current-activation marker and its name (see
   * `activation.ts`), for a stall watchdog to name what stalled.
   */
  activationIds(): [id: number, process: string][] {
    return this.#procs.map((p) => [p.id, p.name]);
  }

  /**
   * Subscribes to an event (`error`, `state`, `deadlock`, `stall`); returns the
   * function that unsubscribes. Without an `error` listener, process faults
   * are written to `console.error`, so that none goes unseen.
   */
  on<K extends keyof NetworkEvents>(
    event: K,
    listener: Listener<NetworkEvents[K]>,
  ): () => void {
    return this.#listeners.on(event, listener);
  }

  #setState(s: NetworkState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.#listeners.emit("state", s);
  }

  /**
   * Starts every process: creates state, applies control IIPs, queues data
   * IIPs (which are taken before any other message) and starts the loops.
   * A component whose `setup` throws, or a control IIP its port rejects,
   * stops the network again and rejects with the reason, naming the
   * process, its component and the setup or the port.
   */
  start(): Promise<void> {
    if (this.#state !== "created") {
      return Promise.reject(
        new Error(
          `Cannot start network "${this.name}": it is ${this.#state}; build a new Network to run the graph again`,
        ),
      );
    }
    this.#refresh();
    // Where it failed, for the message: a graph may hold many processes of
    // one component.
    let at = "";
    try {
      for (const { conn, value } of this.#w.controlIips) {
        conn.delivered++;
        at =
          `process "${conn.target.name}" (${conn.target.component.name}), control port "${conn.port}": `;
        conn.target.applyControl(conn.port, value);
        conn.closed = true;
      }
      for (const p of this.#procs) {
        p.starts++;
        const setup = p.component.setup;
        at = `process "${p.name}" (${p.component.name}), setup: `;
        if (setup) p.ctx.state = this.#marked(p, () => setup(p.ctx));
        p.setUp = true;
      }
      at = "";
      // A stall in a setup stopped it (the flow manager's stall listener).
      if (this.#state !== "created") {
        throw new Error("a watchdog stopped it: a setup stalled the server");
      }
    } catch (e) {
      this.#setState("stopping");
      this.#complete("stopped");
      return Promise.reject(
        new Error(
          `Cannot start network "${this.name}": ${at}${thrownText(e)}`,
          {
            cause: e,
          },
        ),
      );
    }
    this.#unfinished = this.#procs.length;
    this.#openInports =
      [...this.#w.inports.values()].filter((c) => !c.control && !c.closed)
        .length;
    for (const { conn, values } of this.#w.iips) {
      for (const v of values) this.#push(conn, v, this.#now);
      conn.target.iips += values.length;
      conn.closed = true;
    }
    for (const p of this.#procs) {
      p.openInputs = p.inputs.filter((c) => !c.closed).length;
      for (const port in p.controlConns) {
        if (p.controlIn[port] === 0) p.awaitingControls.add(port);
      }
      // Waiting for a control value holds the process back like a full
      // output does, at no cost on the per-message path.
      p.fullOutputs += p.awaitingControls.size;
    }
    this.#setState("running");
    this.#setLive(true);
    for (const p of this.#procs) {
      if (p.loop && !p.hidden && p.awaitingControls.size === 0) {
        this.#startLoop(p);
      }
    }
    for (const p of this.#procs) {
      if (!p.loop) this.#tryFinish(p);
    }
    if (this.#rqSize > 0) this.#schedule();
    this.#maybeIdle();
    return Promise.resolve();
  }

  /**
   * Stops at once: aborts every process, discards what is buffered and
   * gives up the messages that activations still in flight had taken (each
   * counted as dropped with reason `stopped`, on the process it was going
   * to), and runs each component's teardown.
   */
  stop(): Promise<void> {
    this.#halt();
    return Promise.resolve();
  }

  /** `stop()`; returns how many messages it gave up (buffered and in flight). */
  #halt(): number {
    if (
      this.#state === "stopped" || this.#state === "finished" ||
      this.#state === "stopping"
    ) {
      return 0;
    }
    this.#setState("stopping");
    // Counted before the abort: an aborted activation may settle at once.
    // An activation waiting for room to send has handed its message on:
    // the parked send is counted in the backlog, not again here.
    let given = this.backlog;
    for (const p of this.#procs) {
      const cut = p.active - p.parked;
      if (cut > 0) {
        p.cutOff += cut;
        given += cut;
        // What those activations send after the stop is the same message.
        const credit = { n: cut };
        for (const c of p.outConns) c.lateCredit = credit;
      }
    }
    for (const p of this.#procs) p.abort.abort();
    for (const c of this.#conns) c.discard("stopped");
    this.#bytes = 0;
    this.#underBudget();
    for (const p of this.#procs) {
      p.queued = 0;
      p.fullOutputs = 0;
      p.parked = 0;
      if (p.phase !== "finished") p.phase = "stopped";
      for (const port in p.waiters) {
        for (const resolve of p.waiters[port].splice(0)) resolve(END);
      }
    }
    this.#rqSize = 0;
    this.#complete("stopped");
    return given;
  }

  /**
   * Stops the sources (their `ctx.signal` aborts and exported in-ports
   * close), lets every buffered and in-flight message reach its sink, and
   * resolves once the network has finished, or once nothing is buffered
   * and nothing is in flight (a cycle never finishes by itself: it is then
   * stopped, with nothing lost). Past `timeoutMs` it stops what is left and
   * reports what it gave up: the backlog, and with it the messages still in
   * activations (e.g. waiting inside `core/Delay`) in `discarded`.
   */
  async drain(timeoutMs: number): Promise<DrainResult> {
    checkDrainTimeout(this.name, timeoutMs);
    if (this.#state === "created") {
      await this.stop();
      return { drained: true, backlog: 0, discarded: 0 };
    }
    if (this.#state !== "running" && this.#state !== "draining") {
      return {
        drained: this.#state === "finished",
        backlog: this.backlog,
        discarded: 0,
      };
    }
    this.#setState("draining");
    for (const p of this.#procs) if (p.source) p.abort.abort();
    for (const name of this.#w.inports.keys()) this.closeInport(name);
    this.#maybeIdle();
    if (await settlesWithin(this.finished, timeoutMs)) {
      return {
        drained: this.state === "finished" || this.#drainedQuietly,
        backlog: 0,
        discarded: 0,
      };
    }
    const backlog = this.backlog;
    const discarded = this.#halt();
    return { drained: false, backlog, discarded };
  }

  /**
   * Sends a value into an exported in-port of the network (a graph
   * `inports` entry). Returns a promise when the connection is full: await
   * it for back pressure. (A `stop()` settles it too, the value then
   * counted as dropped with reason `stopped`.)
   */
  send(target: string, value: unknown): void | Promise<void> {
    const c = this.#inport(target);
    if (this.#state !== "running") {
      throw new Error(
        `Cannot send to in-port "${target}" of network "${this.name}": it is ${this.#state}`,
      );
    }
    if (c.closed) {
      throw new Error(
        `Cannot send to in-port "${target}" of network "${this.name}": it was closed`,
      );
    }
    this.#tick();
    return this.#push(c, value, this.#now);
  }

  /** Exported in-port `name`'s connection; an unknown name throws a `RangeError`. */
  #inport(name: string): Conn {
    const c = this.#w.inports.get(name);
    if (c !== undefined) return c;
    throw new RangeError(
      `network "${this.name}" has no exported in-port "${name}"; it has ${
        [...this.#w.inports.keys()].join(", ") || "none"
      }`,
    );
  }

  /** Closes an exported in-port: the process behind it sees its input end. */
  closeInport(inport: string): void {
    const c = this.#inport(inport);
    if (c.closed) return;
    if (!c.control) this.#openInports--;
    this.#close(c);
    if (this.#rqSize > 0) this.#schedule();
    this.#maybeIdle();
  }

  /**
   * Reads an exported out-port of the network (a graph `outports` entry):
   * the values the process behind it sends there, in order, ending when that
   * process finishes. Call it before `start()`; an exported out-port nobody
   * reads stays unconnected (its values go nowhere). The reader's pace is
   * back pressure: read to the end, or the flow waits for you.
   */
  output(outport: string): AsyncIterable<unknown> {
    const ref = this.#w.outports.get(outport);
    if (ref === undefined) {
      throw new RangeError(
        `network "${this.name}" has no exported out-port "${outport}"; it has ${
          [...this.#w.outports.keys()].join(", ") || "none"
        }`,
      );
    }
    if (this.#state !== "created" || this.#outports.has(outport)) {
      throw new Error(
        `Cannot read out-port "${outport}" of network "${this.name}": call output() once per port, before start()`,
      );
    }
    const host = wireHostReader(this.#w, this.#engine, outport, ref);
    this.#rq.push(null as unknown as ProcessRuntime);
    this.#outports.set(outport, host);
    return host.ctx.input("in");
  }

  // ---- moving messages -------------------------------------------------

  /** Sends from a process's out-port (`ctx.send`). */
  #sendFrom(
    out: OutPortHandle,
    value: unknown,
    index: number,
    from: number,
  ): void | Promise<void> {
    out.sent++;
    const p = out.proc;
    if (!this.#fresh) this.#refresh();
    const origin = from === 0 ? this.#now : from;
    if (index >= 0) {
      const c = out.byIndex[index];
      if (c === undefined) {
        if (!out.addressable) {
          throw new RangeError(
            `process "${p.name}" sent to index ${index} of out-port "${out.name}", which is not addressable`,
          );
        }
        return;
      }
      return this.#push(c, value, origin);
    }
    const conns = out.conns;
    if (conns.length === 1) return this.#push(conns[0], value, origin);
    if (conns.length === 0) {
      // A fault a component sends on an error port nobody listens to goes
      // to the error event, as the engine's own faults do (weir serve's
      // log of it is rate-limited), rather than nowhere.
      if (out.name === "error" && isProcessError(value)) {
        this.#faults.route(
          p,
          value,
          value.input,
          value.port,
          value.kind,
          value.level,
        );
      }
      return;
    }
    let waits: Promise<void>[] | undefined;
    let refused: unknown = undefined;
    for (let i = 0; i < conns.length; i++) {
      // A connection that refuses (policy "error") does not keep the
      // value from the others.
      try {
        const r = this.#push(conns[i], value, origin);
        if (r !== undefined) (waits ??= []).push(r);
      } catch (e) {
        refused ??= e;
      }
    }
    if (refused !== undefined) throw refused;
    if (waits === undefined) return;
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(_noop);
  }

  /**
   * Moves a value into connection `c`: applied at once to a control port,
   * handed over to an idle receiver, else offered to the connection's
   * buffer (whose policy decides what a full one does).
   */
  #push(c: Conn, value: unknown, origin: number): void | Promise<void> {
    if (c.tap !== null) c.tap(value);
    if (c.control && !c.closed) {
      this.#applyControlFrom(c, value);
      return;
    }
    const t = c.target;
    if (
      c.count === 0 && !c.closed && !c.fromAsync && t.direct &&
      // t.mayActivate() && this.#mayHandOver(), written out on this, the
      // hottest line: the two calls cost Deno's pipeline about 3-5%
      // (bench/versus.ts --same-process).
      t.queued === 0 && t.active === 0 && t.fullOutputs === 0 &&
      this.#holds === 0 && this.#depth < MAX_DEPTH
    ) {
      this.#direct(c, t, value, origin);
      return;
    }
    const before = c.count;
    const r = c.offer(value, origin, this.#now);
    if (c.count !== before) {
      // Buffered: the receiver has one more to take.
      if (c.count === c.capacity && c.blocksSender) c.source!.fullOutputs++;
      t.queued++;
      if (t.loop) {
        const ws = t.waiters[c.port];
        if (ws.length > 0) this.#wake(t, c, ws);
      } else if (!t.inRunQueue && t.mayActivate()) {
        this.#enqueue(t);
      }
      if (c.fromSource && r === undefined) return this.#sourceSent(value);
    } else if (r !== undefined && c.source !== null) {
      // Parked: the sender waits for room.
      c.source.parked++;
    }
    return r;
  }

  /**
   * A source (a loop with no data input, or a host) buffered `value`: new
   * bytes enter the flow here, so this is where the bytes budget is kept,
   * at no cost to the other sends. The value's estimate is added to the
   * running count; once that is over the budget, every buffer is looked at
   * (the count falls as the flow drains, unseen), and when they do hold
   * more than the budget the source waits until they no longer do. Other
   * senders go on: what they send is bounded by their inputs.
   */
  #sourceSent(value: unknown): Promise<void> | undefined {
    if (this.#bytesBudget === Infinity) return;
    this.#bytes += estimateBytes(value);
    if (this.#bytes <= this.#bytesBudget) return;
    this.#bytes = this.#countBytes();
    if (this.#bytes <= this.#bytesBudget) return;
    return new Promise<void>((resolve) =>
      (this.#bytesWaiters ??= []).push(resolve)
    );
  }

  /** Every connection's estimated bytes (sampled: see `Connection.estimateBytes`). */
  #countBytes(): number {
    let n = 0;
    for (const c of this.#conns) if (c.count > 0) n += c.estimateBytes();
    return n;
  }

  /** Sources wait for the bytes budget: are the buffers back under it? */
  #recheckBytes(): void {
    this.#bytes = this.#countBytes();
    if (this.#bytes <= this.#bytesBudget) this.#underBudget();
  }

  /** The buffers are under the bytes budget again (or gone): sources go on. */
  #underBudget(): void {
    const waiters = this.#bytesWaiters;
    if (waiters === null) return;
    this.#bytesWaiters = null;
    for (const resolve of waiters) resolve();
  }

  /**
   * `"bytes"` while sources wait because the flow's buffers hold more than
   * its bytes budget; else `null`.
   */
  get pressure(): "bytes" | null {
    return this.#bytesWaiters === null ? null : "bytes";
  }

  /** Estimated bytes buffered in the flow's connections (see `size.ts`). */
  get bufferedBytes(): number {
    return this.#countBytes();
  }

  /** Takes the next message of process `p` from connection `c`. */
  #takeFrom(p: ProcessRuntime, c: Conn): unknown {
    const wasFull = c.count === c.capacity;
    const v = c.take(this.#now);
    p.origin = c.takenOrigin;
    if (c.iip) p.iips--;
    const ctx = p.ctx;
    ctx.port = c.port;
    ctx.index = c.index;
    if (c.count === c.capacity) {
      // A parked value took the freed slot: as many queued as before.
      if (c.source !== null) c.source.parked--;
    } else {
      p.queued--;
      if (wasFull && c.blocksSender) this.#roomFor(c.source!);
    }
    return v;
  }

  /** A full connection of `s` has room again: it may be ready to run. */
  #roomFor(s: ProcessRuntime): void {
    if (--s.fullOutputs === 0 && !s.loop) this.#enqueueIfReady(s);
  }

  /** Takes the next message of a per-message process (it has one queued). */
  #take(p: ProcessRuntime): unknown {
    const ins = p.inputs;
    return this.#takeFrom(p, ins.length === 1 ? ins[0] : p.nextInput(ins)!);
  }

  #applyControlFrom(c: Conn, value: unknown): void {
    const p = c.target;
    const port = c.port;
    c.delivered++;
    try {
      this.#marked(p, () => {
        p.applyControl(port, value);
        p.component.onControl?.(port, p.controls[port], p.ctx);
      });
    } catch (e) {
      this.#faults.count(p, "exception");
      this.#faults.route(p, e, value, port, "exception");
    }
    // A value that failed its parse still ends the wait (the port keeps its
    // previous value), or the process would wait for ever.
    this.#controlSettled(p, port);
  }

  /** A connected control port has its first value, or no more can come. */
  #controlSettled(p: ProcessRuntime, port: string): void {
    if (!p.awaitingControls.delete(port)) return;
    if (this.#state !== "running" && this.#state !== "draining") return;
    p.fullOutputs--;
    if (p.loop) {
      if (p.awaitingControls.size === 0 && !p.hidden) this.#startLoop(p);
    } else if (p.queued > 0) {
      this.#after(p);
    } else if (p.openInputs === 0 && p.active === 0) {
      this.#tryFinish(p);
    }
  }

  // ---- scheduling ------------------------------------------------------

  /**
   * A send may run its receiver at once (a hand-over): the network is live,
   * the time slice is not used up, no activation is being timed, and the
   * chain of nested hand-overs is not too deep.
   */
  #mayHandOver(): boolean {
    return this.#holds === 0 && this.#depth < MAX_DEPTH;
  }

  #setLive(live: boolean): void {
    if (live !== this.#live) {
      this.#live = live;
      this.#holds += live ? -1 : 1;
    }
  }

  #setThrottled(throttled: boolean): void {
    if (throttled !== this.#throttled) {
      this.#throttled = throttled;
      this.#holds += throttled ? 1 : -1;
    }
  }

  /** Puts `p` in the run queue when it has work, may run, and is not there yet. */
  #enqueueIfReady(p: ProcessRuntime): void {
    if (p.queued > 0 && !p.inRunQueue && p.mayActivate()) this.#enqueue(p);
  }

  #enqueue(p: ProcessRuntime): void {
    const rq = this.#rq;
    let tail = this.#rqHead + this.#rqSize;
    if (tail >= rq.length) tail -= rq.length;
    rq[tail] = p;
    this.#rqSize++;
    p.inRunQueue = true;
    if (!this.#scheduled && !this.#running) this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (this.#throttled) macrotask(this.#run);
    else queueMicrotask(this.#run);
  }

  #tick(): void {
    if (!this.#fresh) this.#refresh();
  }

  /** Reads the clock; the first read of a macrotask opens a new time slice. */
  #refresh(): void {
    this.#now = performance.now();
    if (!this.#fresh) {
      this.#fresh = true;
      this.#sliceEnd = this.#now + SLICE_MS;
      // Once a macrotask: for the stall watchdog and the bytes budget.
      aliveAt[0] = TIME_ORIGIN + this.#now;
      if (this.#bytesWaiters !== null) this.#recheckBytes();
    }
    if (!this.#staleScheduled) {
      this.#staleScheduled = true;
      macrotask(this.#stale);
    }
  }

  /** Runs as the next macrotask: the clock is stale and a new slice may begin. */
  #stale = (): void => {
    this.#fresh = false;
    this.#staleScheduled = false;
    this.#setThrottled(false);
  };

  /** Every 128 activations: refresh the clock, end the slice when due. */
  #clockTick(): void {
    this.#now = performance.now();
    aliveAt[0] = TIME_ORIGIN + this.#now;
    if (this.#bytesWaiters !== null) this.#recheckBytes();
    // Hand-overs wait for the next slice too.
    if (this.#now >= this.#sliceEnd) this.#setThrottled(true);
  }

  #run = (): void => {
    this.#scheduled = false;
    if (this.#state !== "running" && this.#state !== "draining") return;
    this.#refresh();
    if (this.#throttled) {
      // The slice is used up: continue after the host's other work.
      this.#schedule();
      return;
    }
    this.#running = true;
    const rq = this.#rq;
    const size = rq.length;
    while (this.#rqSize > 0) {
      const p = rq[this.#rqHead];
      this.#rqHead = this.#rqHead + 1 === size ? 0 : this.#rqHead + 1;
      this.#rqSize--;
      p.inRunQueue = false;
      let k = 0;
      while (p.queued > 0 && p.mayActivate() && k < BATCH) {
        this.#activate(p);
        k++;
      }
      if (p.queued > 0) {
        this.#enqueueIfReady(p);
      } else if (p.openInputs === 0 && p.active === 0) {
        this.#tryFinish(p);
      }
      if (this.#throttled && this.#rqSize > 0) {
        this.#running = false;
        this.#schedule();
        return;
      }
    }
    this.#running = false;
    this.#maybeIdle();
  };

  #activate(p: ProcessRuntime): void {
    const v = this.#take(p);
    if (p.guarded) this.#activateGuarded(p, v);
    else this.#invoke(p, v);
  }

  /**
   * Hands a message straight to an idle receiver, skipping the buffer:
   * the sender's call does the receiver's work, which is back pressure at
   * its most direct. The message waited 0 s in the queue.
   */
  #direct(c: Conn, t: ProcessRuntime, value: unknown, origin: number): void {
    // Its 0 s of queue wait is not observed here: stats() adds the
    // hand-overs (delivered minus observed waits) to the first bucket.
    c.delivered++;
    t.origin = origin;
    const ctx = t.ctx;
    ctx.port = c.port;
    ctx.index = c.index;
    this.#depth++;
    this.#invoke(t, value);
    this.#depth--;
    // A cycle may have sent it more while it ran (checked before the call:
    // it is almost never so, and this runs for every hand-over).
    if (t.queued > 0) this.#enqueueIfReady(t);
  }

  #invoke(p: ProcessRuntime, v: unknown): void {
    if ((++this.#ops & CLOCK_MASK) === 0) this.#clockTick();
    const ctx = p.concurrency > 1 ? p.activationContext() : p.ctx;
    let t0 = 0;
    if (
      p.async || --p.timingCountdown === 0 ||
      this.#now - p.timedAt >= TIME_AT_LEAST_EVERY_MS
    ) {
      p.timingCountdown = this.#sampleEvery;
      p.timedAt = this.#now;
      // Nested direct activations would count in this one's time.
      this.#holds++;
      t0 = performance.now();
    }
    p.active++;
    // The current-activation marker (activation.ts): a watchdog on another
    // thread reads it during a stall, and flips it to say so.
    const cells = this.#cells;
    const prev = cells[0];
    cells[0] = p.id;
    let r: void | Promise<void>;
    try {
      r = p.fn!(v, ctx);
    } catch (e) {
      this.#threw(p, e, v, ctx.port, t0 !== 0, prev);
      return;
    }
    if (cells[0] !== p.id) {
      this.#returnedStalled(p, r, v, ctx.port, t0, prev);
      return;
    }
    cells[0] = prev;
    if (t0 !== 0) this.#holds--;
    if (isThenable(r)) {
      this.#settle(
        p,
        r as Promise<void>,
        v,
        ctx.port,
        t0 === 0 ? this.#now : t0,
      );
      return;
    }
    p.active--;
    p.activations++;
    if (p.sink && p.origin !== 0) {
      this.#latency.observe((this.#now - p.origin) / 1000);
    }
    if (t0 !== 0) {
      p.timing.observe((performance.now() - t0) / 1000);
      this.#handOver(p);
    }
  }

  /** An activation threw (kept out of `#invoke`, whose size the runtimes' inlining minds). */
  #threw(
    p: ProcessRuntime,
    e: unknown,
    v: unknown,
    port: string,
    timed: boolean,
    prev: number,
  ): void {
    const cells = this.#cells;
    const stalled = cells[0] !== p.id;
    cells[0] = prev;
    if (timed) this.#holds--;
    p.active--;
    p.activations++;
    this.#faults.fail(p, e, v, port);
    if (stalled) this.#stalled(p);
  }

  /** An activation returned after a watchdog found it stalled: finish it, then report. */
  #returnedStalled(
    p: ProcessRuntime,
    r: void | Promise<void>,
    v: unknown,
    port: string,
    t0: number,
    prev: number,
  ): void {
    this.#cells[0] = prev;
    if (t0 !== 0) this.#holds--;
    if (isThenable(r)) {
      this.#settle(p, r as Promise<void>, v, port, t0 === 0 ? this.#now : t0);
    } else {
      p.active--;
      p.activations++;
    }
    this.#stalled(p);
  }

  /**
   * A watchdog found the event loop stalled in an activation of `p`
   * (activation.ts): tell the listeners (the flow manager stops the flow).
   * The clock is stale after a stall: the next slice starts afresh.
   */
  #stalled(p: ProcessRuntime): void {
    const since = stallSince[0];
    const ms = since > 0 ? Math.max(0, Date.now() - since) : 0;
    this.#fresh = false;
    this.#setThrottled(true);
    this.#listeners.emit("stall", {
      network: this.name,
      process: p.name,
      ms,
    });
  }

  /** Runs a component's own code (setup, flush, a control, a loop's start) marked as `p`'s. */
  #marked<T>(p: ProcessRuntime, fn: () => T): T {
    return marked(p.id, fn, () => this.#stalled(p));
  }

  /**
   * After a timed activation (whose sends were buffered, to keep the
   * receivers' work out of its time), lets idle receivers take what it
   * buffered at once, so the flow returns to direct hand-overs.
   */
  #handOver(p: ProcessRuntime): void {
    const conns = p.outConns;
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i];
      const t = c.target;
      if (c.count === 0 || !t.direct) continue;
      while (t.queued > 0 && t.mayActivate() && this.#mayHandOver()) {
        this.#depth++;
        this.#activate(t);
        this.#depth--;
      }
      this.#enqueueIfReady(t);
    }
  }

  #settle(
    p: ProcessRuntime,
    r: Promise<void>,
    v: unknown,
    port: string,
    t0: number,
  ): void {
    p.becomeAsync();
    this.#inFlight++;
    const origin = p.origin;
    r.then(
      () => {
        this.#inFlight--;
        p.active--;
        p.activations++;
        const t1 = performance.now();
        p.timing.observe((t1 - t0) / 1000);
        if (p.sink && origin !== 0) this.#latency.observe((t1 - origin) / 1000);
        this.#after(p);
      },
      (e) => {
        this.#inFlight--;
        p.active--;
        p.activations++;
        this.#faults.fail(p, e, v, port);
        this.#after(p);
      },
    );
  }

  #after(p: ProcessRuntime): void {
    if (this.#state !== "running" && this.#state !== "draining") return;
    if (p.queued > 0) {
      this.#enqueueIfReady(p);
    } else if (p.openInputs === 0 && p.active === 0) {
      this.#tryFinish(p);
    }
    this.#maybeIdle();
  }

  // ---- faults ----------------------------------------------------------

  /**
   * Activates a process with a timeout, retries or a breaker (see
   * `guard.ts`); a message its open breaker rejects is routed as an error.
   */
  #activateGuarded(p: ProcessRuntime, v: unknown): void {
    const port = p.ctx.port;
    if (p.breaker !== undefined && !p.breaker.admit(this.#now)) {
      this.#faults.rejected(p, v, port);
      return;
    }
    p.active++;
    this.#inFlight++;
    runGuarded(this.#guardHost, p, v, port, p.ctx.index, p.origin).catch(
      // Not through #faults: its routing is what failed.
      (e) => this.#emitError(p, "its fault could not be handled", port, e),
    ).finally(() => {
      this.#inFlight--;
      p.active--;
      this.#after(p);
    });
  }

  // ---- loops -----------------------------------------------------------

  #startLoop(p: ProcessRuntime): void {
    if (p.loopStarted) return;
    p.loopStarted = true;
    let r: Promise<void>;
    try {
      r = this.#marked(p, () => p.component.run!(p.ctx));
    } catch (e) {
      r = Promise.reject(e);
    }
    Promise.resolve(r).then(
      () => this.#loopDone(p, undefined, false),
      (e) => this.#loopDone(p, e, true),
    );
  }

  #loopDone(p: ProcessRuntime, e: unknown, failed: boolean): void {
    if (failed && !p.abort.signal.aborted) {
      this.#faults.fail(p, e, undefined, "");
    }
    this.#discardInputs(p);
    this.#finish(p);
    this.#maybeIdle();
  }

  /**
   * A loop returned before reading all its input: what is left is counted
   * as dropped (reason `unread`), its senders are released, and whatever
   * they send later is dropped too.
   */
  #discardInputs(p: ProcessRuntime): void {
    if (p.phase === "finished" || p.phase === "stopped") return;
    for (const c of p.inputs) {
      const wasFull = c.count === c.capacity;
      if (!c.closed) p.openInputs--;
      if (c.source !== null) c.source.parked -= c.pending.length;
      c.discard("unread");
      if (wasFull && c.blocksSender) {
        const s = c.source!;
        if (--s.fullOutputs === 0 && !s.loop && s.queued > 0) this.#after(s);
      }
    }
    p.queued = 0;
    p.iips = 0;
  }

  /** A loop's `ctx.receive()`. */
  #receive(p: ProcessRuntime, port: string): Promise<unknown> {
    const conns = p.inputsByPort[port];
    if (conns === undefined) {
      return Promise.reject(
        new RangeError(
          `process "${p.name}" has no data in-port "${port}"; its data in-ports are ${
            Object.keys(p.inputsByPort).join(", ") || "none"
          }`,
        ),
      );
    }
    this.#tick();
    const c = p.nextInput(conns);
    if (c !== undefined) return Promise.resolve(this.#loopTake(p, c));
    if (conns.every((c) => c.closed) || p.phase === "stopped") {
      if (p.hidden) this.#finish(p);
      return Promise.resolve(END);
    }
    return new Promise((resolve) => {
      p.waiters[port].push(resolve);
      this.#maybeIdle();
    });
  }

  /** A loop takes a message: it has reached a sink when the loop is one. */
  #loopTake(p: ProcessRuntime, c: Conn): unknown {
    const v = this.#takeFrom(p, c);
    if (p.sink && p.origin !== 0) {
      this.#latency.observe((this.#now - p.origin) / 1000);
    }
    return v;
  }

  #wake(p: ProcessRuntime, c: Conn, waiters: ((v: unknown) => void)[]): void {
    const resolve = waiters.shift()!;
    this.#tick();
    resolve(this.#loopTake(p, c));
  }

  // ---- finishing -------------------------------------------------------

  #tryFinish(p: ProcessRuntime): void {
    if (p.phase !== "idle" || p.loop) return;
    if (p.queued !== 0 || p.openInputs !== 0 || p.active !== 0) return;
    if (this.#state !== "running" && this.#state !== "draining") return;
    const flush = p.component.flush;
    if (flush === undefined) {
      this.#finish(p);
      return;
    }
    p.phase = "flushing";
    p.origin = 0;
    p.ctx.port = "";
    p.ctx.index = -1;
    let r: void | Promise<void>;
    try {
      r = this.#marked(p, () => flush(p.ctx));
    } catch (e) {
      this.#faults.fail(p, e, undefined, "");
      this.#finish(p);
      return;
    }
    if (isThenable(r)) {
      this.#inFlight++;
      r.then(
        () => {
          this.#inFlight--;
          this.#finish(p);
          this.#maybeIdle();
        },
        (e) => {
          this.#inFlight--;
          this.#faults.fail(p, e, undefined, "");
          this.#finish(p);
          this.#maybeIdle();
        },
      );
      return;
    }
    this.#finish(p);
  }

  #finish(p: ProcessRuntime): void {
    if (p.phase === "finished" || p.phase === "stopped") return;
    p.phase = "finished";
    this.#unfinished--;
    for (const port in p.outs) {
      for (const c of p.outs[port].conns) this.#close(c);
    }
    if (this.#unfinished === 0) this.#complete("finished");
  }

  #close(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    if (c.control) {
      const t = c.target;
      if (t.controlConns[c.port]?.every((x) => x.closed)) {
        this.#controlSettled(t, c.port);
      }
      return;
    }
    const t = c.target;
    t.openInputs--;
    if (t.loop) {
      const ws = t.waiters[c.port];
      if (
        ws.length > 0 &&
        t.inputsByPort[c.port].every((x) => x.closed && x.count === 0)
      ) {
        if (t.hidden) this.#finish(t);
        for (const resolve of ws.splice(0)) resolve(END);
      }
    } else {
      this.#tryFinishAfter(t);
    }
  }

  /**
   * {@linkcode #tryFinish} of `t`, in a loop rather than by recursion: a
   * finish closes its outputs, whose receivers may finish and close theirs,
   * and a pipeline of thousands of stages would go as deep on the stack.
   * Called inside that loop, it queues `t` for it.
   */
  #tryFinishAfter(t: ProcessRuntime): void {
    const pending = this.#finishing;
    if (pending !== null) {
      pending.push(t);
      return;
    }
    const queue = [t];
    this.#finishing = queue;
    try {
      for (let i = 0; i < queue.length; i++) this.#tryFinish(queue[i]);
    } finally {
      this.#finishing = null;
    }
  }

  #complete(state: "finished" | "stopped"): void {
    if (this.#completed) return;
    this.#completed = true;
    this.#setLive(false);
    this.#stallWatch.cancel();
    this.#underBudget();
    for (const p of this.#procs) {
      if (!p.setUp) continue;
      try {
        p.component.teardown?.(p.ctx);
      } catch (e) {
        // Not through #faults, silent once the network stops. Counted as
        // one (process_errors_total, kind exception: the component threw),
        // though no message failed.
        this.#faults.count(p, "exception");
        this.#emitError(p, "its teardown threw", "", e);
      }
    }
    this.#setState(state);
    this.#resolveFinished(state);
  }

  /**
   * An error of process `p` outside a message's routing (`what`, with the
   * thrown `e`) as the error event, as any fault of a process: the
   * operator's log names the flow and the process; the message alone (an
   * excerpt), never the thrown object, whose fields may hold a client's
   * settings.
   */
  #emitError(p: ProcessRuntime, what: string, port: string, e: unknown): void {
    this.#listeners.emit(
      "error",
      new ProcessError(`${what}: ${thrownText(e)}`, {
        network: this.name,
        process: p.name,
        component: p.component.name,
        port,
        kind: "exception",
        cause: e,
      }),
    );
  }

  // ---- idleness and statistics -----------------------------------------

  /** Nothing is queued to run and no host can send more: work may have run out. */
  #workRanOut(): boolean {
    return this.#rqSize === 0 && this.#openInports === 0 &&
      this.#unfinished !== 0 &&
      (this.#state === "running" || this.#state === "draining");
  }

  /**
   * Called whenever work may have run out. A drain that finds nothing
   * buffered or in flight and every process waiting is complete; otherwise
   * the stall watch looks again a little later (see `deadlock.ts`).
   */
  #maybeIdle(): void {
    if (this.#bytesWaiters !== null) this.#recheckBytes();
    if (!this.#workRanOut()) return;
    if (
      this.#state === "draining" &&
      drainedQuietly(this.#inFlight, this.backlog, this.#procs)
    ) {
      this.#drainedQuietly = true;
      void this.stop();
      return;
    }
    this.#stallWatch.arm();
  }

  /** Messages buffered in every connection (pending included). */
  get backlog(): number {
    return backlogOf(this.#conns);
  }

  /** A snapshot of every statistic (allocates; meant for scrapes, not per message). */
  stats(): NetworkStats {
    return networkStats(this.#statsSource());
  }

  /**
   * {@linkcode stats}, read into `prev` when it is a snapshot this method
   * returned before (the same figures, the same objects: a reader every
   * second, the metric history, makes no garbage of them); else, `prev`
   * null, a new snapshot. `prev`'s figures change: read them before.
   */
  statsInto(prev: NetworkStats | null): NetworkStats {
    return networkStatsInto(this.#statsSource(), prev);
  }

  /**
   * Calls `listener` with every value sent into the connections from
   * out-port `from` (`"Process.port"`, or `null` for any sender) to in-port
   * `to` (`"Process.port"`), before the connection's policy decides what
   * becomes of it, until the returned function is called. The listener
   * runs on the sender's path: keep it short (copy or sample the value,
   * do not keep a reference that the flow may change). What it throws is
   * ignored. A connection nobody taps costs its sender one field read.
   * A port written `"Process.port[i]"` names only the connections of that
   * index (`Sw out[0] -> in Hot`); without one, every index. A
   * `RangeError` when no connection matches, naming those there are as the
   * graph writes them (`Sw.out[0] -> Hot.in`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Network } from "./network.ts";
   * import { defineComponent } from "./component.ts";
   *
   * const Double = defineComponent({
   *   name: "test/Double",
   *   description: "Sends twice what it gets.",
   *   inPorts: { in: {} },
   *   outPorts: { out: {} },
   *   process(v, ctx) {
   *     ctx.send("out", (v as number) * 2);
   *   },
   * });
   * const Drop = defineComponent({ name: "test/Drop", description: "Takes.", inPorts: { in: {} }, process() {} });
   * const net = new Network({
   *   name: "tapped",
   *   processes: [{ name: "D", component: Double }, { name: "X", component: Drop }],
   *   connections: [{ from: { process: "D", port: "out" }, to: { process: "X", port: "in" } }],
   *   initials: [{ data: 1, to: { process: "D", port: "in" } }, { data: 2, to: { process: "D", port: "in" } }],
   * });
   * const seen: unknown[] = [];
   * const off = net.tap("D.out", "X.in", (v) => seen.push(v));
   * await net.start();
   * await net.finished;
   * off();
   * assert.deepEqual(seen, [2, 4]);
   * assert.throws(() => net.tap(null, "X.nope", () => {}), /no connection to X.nope/);
   * ```
   */
  tap(
    from: string | null,
    to: string,
    listener: (value: unknown) => void,
  ): () => void {
    // Connections between processes: an IIP is no message passing.
    const matched = this.#conns.filter((c) =>
      c.from !== null && _names(c.to, to) &&
      (from === null || _names(c.from, from))
    );
    if (matched.length === 0) {
      const names = this.#conns.filter((c) => c.from !== null).map((c) =>
        `${endpointName(c.from!)} -> ${endpointName(c.to)}`
      );
      throw new RangeError(
        `network "${this.name}" has no connection ${
          from === null ? "" : `from ${from} `
        }to ${to}; it has ${names.join(", ") || "none"}`,
      );
    }
    const own = (value: unknown) => {
      try {
        listener(value);
      } catch { /* a tap never hurts the flow */ }
    };
    for (const c of matched) {
      let set = this.#taps.get(c);
      if (set === undefined) {
        const listeners = new Set<(value: unknown) => void>();
        set = listeners;
        this.#taps.set(c, listeners);
        c.tap = (v) => {
          for (const l of listeners) l(v);
        };
      }
      set.add(own);
    }
    return () => {
      for (const c of matched) {
        const set = this.#taps.get(c);
        if (set === undefined || !set.delete(own) || set.size > 0) continue;
        this.#taps.delete(c);
        c.tap = null;
      }
    };
  }

  #statsSource() {
    return {
      name: this.name,
      state: this.#state,
      procs: this.#procs,
      conns: this.#conns,
      latency: this.#latency,
      bufferedBytes: this.#countBytes(),
      pressure: this.pressure,
    };
  }
}

function _noop(): void {}

/** Whether `spec` names `end`: `Process.port` any index, `Process.port[i]` that one. */
function _names(
  end: { proc: { name: string }; port: string; index: number },
  spec: string,
): boolean {
  const name = `${end.proc.name}.${end.port}`;
  return spec === name || (end.index >= 0 && spec === `${name}[${end.index}]`);
}
