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
 * @module
 */
import { defineComponent, END, isThenable, type OutPort } from "./component.ts";
import { BLOCK, Connection } from "./connection.ts";
import { type ErrorKind, OverflowError, ProcessError } from "./errors.ts";
import { Histogram, type HistogramSnapshot } from "./histogram.ts";
import {
  type BreakerState,
  type Engine,
  OutPortHandle,
  ProcessContext,
  type ProcessPhase,
  ProcessRuntime,
} from "./process.ts";
import { estimateBytes } from "./size.ts";
import {
  DEFAULT_CAPACITY,
  type NetworkSpec,
  type OverflowPolicy,
  type PortRef,
} from "./spec.ts";

/** Life-cycle state of a network. */
export type NetworkState =
  | "created"
  | "running"
  | "draining"
  | "stopping"
  | "stopped"
  | "finished";

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
}

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

/** Result of {@linkcode Network.drain}. */
export interface DrainResult {
  /** Everything reached its sink before the timeout. */
  drained: boolean;
  /** Messages still buffered when the timeout struck (then discarded). */
  backlog: number;
}

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
  /** Seconds since the epoch of the last error, or `null`. */
  lastErrorAt: number | null;
  /** Times started. */
  starts: number;
  /** Messages given up on, after any retries. */
  failures: number;
  /** `null` when the process has no circuit breaker. */
  breaker: BreakerState | null;
  /** Messages dropped on their way into this process, by reason. */
  drops: Record<DropReason, number>;
}

/** Statistics of one connection. */
export interface ConnectionStats {
  /** `A.out`, or `null` for IIPs and exported in-ports. */
  from: string | null;
  /** `B.in`. */
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
  /** Source-to-sink latency of messages that reached a sink. */
  latency: HistogramSnapshot;
  /** Connected parts among healthy (live, breaker not open) processes. */
  partitions: number;
  /** Processes not yet finished. */
  activeProcesses: number;
  /** Connections between processes not yet closed. */
  activeConnections: number;
}

/** Events of a network and their payloads. */
export interface NetworkEvents {
  /** A process failed a message. */
  error: ProcessError;
  /** The life-cycle state changed. */
  state: NetworkState;
  /** Every live process waits on a connection. */
  deadlock: DeadlockReport;
}

/** A listener of a network event. */
export type Listener<T> = (payload: T) => void;

const SLICE_MS = 4;
const BATCH = 64;
/** The coarse clock is read every 128 activations. */
const CLOCK_MASK = 127;
/** A synchronous process is timed at least this often (ms), whatever its rate. */
const TIME_AT_LEAST_EVERY_MS = 1;
/** Nesting limit of direct hand-overs (a chain of idle receivers). */
const MAX_DEPTH = 48;

/**
 * Runs `fn` on a later turn of the event loop, after pending I/O and timers
 * (`setImmediate` where the runtime has it).
 *
 * @example
 * ```ts
 * import { macrotask } from "./network.ts";
 *
 * await new Promise<void>((resolve) => macrotask(resolve));
 * ```
 */
export const macrotask: (fn: () => void) => void =
  typeof setImmediate === "function"
    ? (fn) => void setImmediate(fn)
    : (fn) => void setTimeout(fn, 0);

type Conn = Connection<ProcessRuntime>;

/**
 * A running flow: processes joined by bounded connections.
 *
 * @example
 * ```ts
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
 * seen; // [42]
 * ```
 */
export class Network {
  /** The flow's name. */
  readonly name: string;
  /** Resolves with the final state once every process finished or the network stopped. */
  readonly finished: Promise<NetworkState>;
  #state: NetworkState = "created";
  #resolveFinished!: (s: NetworkState) => void;
  readonly #procs: ProcessRuntime[] = [];
  readonly #byName = new Map<string, ProcessRuntime>();
  readonly #conns: Conn[] = [];
  readonly #iips: { conn: Conn; values: unknown[] }[] = [];
  readonly #controlIips: { conn: Conn; value: unknown }[] = [];
  readonly #inports = new Map<string, Conn>();
  readonly #listeners: {
    [K in keyof NetworkEvents]: Listener<NetworkEvents[K]>[];
  } = {
    error: [],
    state: [],
    deadlock: [],
  };
  readonly #sampleEvery: number;
  readonly #deadlockDelayMs: number;
  /** Source-to-sink latency, seconds. */
  readonly #latency: Histogram;
  /** What processes and their ports call back into (kept off the public API). */
  readonly #engine: Engine;

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
  /** Timed activations in progress: their sends buffer, so that the receivers' work stays out of their time. */
  #timing = 0;

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
  readonly #outportSpecs = new Map<string, PortRef>();
  readonly #defaultCapacity: number;
  #unfinished = 0;
  #openInports = 0;
  #deadlockTimer: ReturnType<typeof setTimeout> | undefined;
  #reportedAt = -1;
  #stallMark = -1;

  /** Builds the network; a spec that does not fit its components throws. */
  constructor(spec: NetworkSpec, options: NetworkOptions = {}) {
    if (typeof spec?.name !== "string" || spec.name === "") {
      throw new TypeError(
        "Cannot create network: spec.name must be a non-empty string",
      );
    }
    this.name = spec.name;
    this.#engine = {
      name: spec.name,
      sendFrom: (out, value, index, origin) =>
        this.#sendFrom(out, value, index, origin),
      receive: (p, port) => this.#receive(p, port),
    };
    const where = `Cannot create network "${spec.name}"`;
    this.#sampleEvery = options.timingSampleEvery ?? 64;
    if (!Number.isInteger(this.#sampleEvery) || this.#sampleEvery < 1) {
      throw new RangeError(
        `${where}: timingSampleEvery must be a positive integer, received ${this.#sampleEvery}`,
      );
    }
    this.#deadlockDelayMs = options.deadlockDelayMs ?? 50;
    this.#latency = new Histogram(options.buckets);
    this.finished = new Promise((r) => (this.#resolveFinished = r));
    const defaultCapacity = spec.defaultCapacity ?? DEFAULT_CAPACITY;
    this.#defaultCapacity = defaultCapacity;

    for (const ps of spec.processes) {
      if (
        ps.concurrency !== undefined &&
        (!Number.isInteger(ps.concurrency) || ps.concurrency < 1)
      ) {
        throw new RangeError(
          `${where}: process "${ps.name}" concurrency must be a positive integer, received ${ps.concurrency}`,
        );
      }
      if (this.#byName.has(ps.name)) {
        throw new TypeError(
          `${where}: process name "${ps.name}" is used twice`,
        );
      }
      const p = new ProcessRuntime(
        this.#engine,
        ps.name,
        ps.component,
        ps.metadata ?? {},
        {
          concurrency: ps.concurrency,
          timeoutMs: ps.timeoutMs,
          retry: ps.retry,
          circuitBreaker: ps.circuitBreaker,
          buckets: options.buckets,
        },
      );
      const outs: Record<string, OutPortHandle> = {};
      for (const [port, spec] of Object.entries(ps.component.outPorts)) {
        outs[port] = new OutPortHandle(
          this.#engine,
          p,
          port,
          spec.addressable === true,
        );
      }
      Object.assign(p.outs, outs);
      p.errorPort = p.outs["error"] ?? null;
      for (const [port, spec] of Object.entries(ps.component.inPorts)) {
        if (spec.control) {
          p.controls[port] = spec.default;
          p.controlIn[port] = 0;
        } else {
          p.inputsByPort[port] = [];
          p.waiters[port] = [];
        }
      }
      p.ctx = new ProcessContext(p, p.outs, p.abort.signal);
      this.#procs.push(p);
      this.#byName.set(ps.name, p);
    }

    const endpoint = (ref: PortRef, dir: "in" | "out", what: string) => {
      const p = this.#byName.get(ref?.process);
      if (!p) {
        throw new TypeError(
          `${where}: ${what} names unknown process ${
            JSON.stringify(ref?.process)
          }`,
        );
      }
      const ports = dir === "in" ? p.component.inPorts : p.component.outPorts;
      if (!Object.hasOwn(ports, ref.port)) {
        throw new TypeError(
          `${where}: ${what} names unknown ${dir}-port "${ref.port}" of "${ref.process}" (${p.component.name}); its ${dir}-ports are ${
            Object.keys(ports).join(", ") || "none"
          }`,
        );
      }
      return { proc: p, port: ref.port, index: ref.index ?? -1 };
    };

    spec.connections.forEach((cs, i) => {
      const what = `connection ${i}`;
      const from = endpoint(cs.from, "out", what);
      const to = endpoint(cs.to, "in", what);
      const control = to.proc.component.inPorts[to.port].control === true;
      const c: Conn = new Connection(
        from,
        to,
        cs.capacity ?? defaultCapacity,
        cs.policy ?? "block",
        control,
        options.buckets,
      );
      const out = from.proc.outs[from.port];
      out.conns.push(c);
      from.proc.outConns.push(c);
      if (from.index >= 0) out.byIndex[from.index] = c;
      this.#addInput(c);
    });

    const iipsByPort = new Map<
      string,
      { to: ReturnType<typeof endpoint>; values: unknown[] }
    >();
    (spec.initials ?? []).forEach((iip, i) => {
      const to = endpoint(iip.to, "in", `initial packet ${i}`);
      if (to.proc.component.inPorts[to.port].control) {
        const c: Conn = new Connection(null, to, 1, "block", true);
        this.#conns.push(c);
        this.#controlIips.push({ conn: c, value: iip.data });
        return;
      }
      const key = `${to.proc.name}\u0000${to.port}\u0000${to.index}`;
      let group = iipsByPort.get(key);
      if (!group) iipsByPort.set(key, group = { to, values: [] });
      group.values.push(iip.data);
    });
    for (const { to, values } of iipsByPort.values()) {
      const c: Conn = new Connection(
        null,
        to,
        values.length,
        "block",
        false,
        options.buckets,
      );
      c.iip = true;
      this.#addInput(c, true);
      this.#iips.push({ conn: c, values });
    }

    for (const [name, ref] of Object.entries(spec.inports ?? {})) {
      const to = endpoint(ref, "in", `exported in-port "${name}"`);
      const c: Conn = new Connection(
        null,
        to,
        defaultCapacity,
        "block",
        to.proc.component.inPorts[to.port].control === true,
        options.buckets,
      );
      this.#addInput(c);
      this.#inports.set(name, c);
    }

    for (const [name, ref] of Object.entries(spec.outports ?? {})) {
      endpoint(ref, "out", `exported out-port "${name}"`);
      this.#outportSpecs.set(name, ref);
    }

    for (const p of this.#procs) {
      p.sink = !Object.values(p.outs).some((o) =>
        o !== p.errorPort && o.connected
      );
      // Drain stops sources: loops with no input from processes or the
      // host. (A per-message process fed only by IIPs ends by itself.)
      p.source = p.loop &&
        p.inputs.every((c) => c.from === null && !this.#isInport(c));
      if (!p.loop && p.fn === undefined) {
        throw new TypeError(
          `${where}: component ${p.component.name} has no process function`,
        );
      }
    }
    this.#rq = new Array(this.#procs.length).fill(null);
  }

  #isInport(c: Conn): boolean {
    for (const x of this.#inports.values()) if (x === c) return true;
    return false;
  }

  #addInput(c: Conn, first = false): void {
    this.#conns.push(c);
    const p = c.target;
    if (c.control) {
      (p.controlConns[c.port] ??= []).push(c);
      return;
    }
    if (first) {
      p.inputs.unshift(c);
      p.inputsByPort[c.to.port].unshift(c);
    } else {
      p.inputs.push(c);
      p.inputsByPort[c.to.port].push(c);
    }
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
   * Subscribes to an event (`error`, `state`, `deadlock`); returns the
   * function that unsubscribes. Without an `error` listener, process faults
   * are written to `console.error`, so that none goes unseen.
   */
  on<K extends keyof NetworkEvents>(
    event: K,
    listener: Listener<NetworkEvents[K]>,
  ): () => void {
    const list = this.#listeners[event] as Listener<NetworkEvents[K]>[];
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  #emit<K extends keyof NetworkEvents>(
    event: K,
    payload: NetworkEvents[K],
  ): void {
    const list = this.#listeners[event] as Listener<NetworkEvents[K]>[];
    if (list.length === 0 && event === "error") {
      console.error(`[weir] ${(payload as ProcessError).message}`);
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

  #setState(s: NetworkState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.#emit("state", s);
  }

  /**
   * Starts every process: creates state, applies control IIPs, queues data
   * IIPs (which are taken before any other message) and starts the loops.
   * A component whose `setup` throws, or a control IIP its port rejects,
   * stops the network again and rejects with the reason.
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
    try {
      for (const { conn, value } of this.#controlIips) {
        conn.delivered++;
        this.#applyControl(conn.target, conn.port, value);
        conn.closed = true;
      }
      for (const p of this.#procs) {
        p.starts++;
        if (p.component.setup) p.ctx.state = p.component.setup(p.ctx);
        p.setUp = true;
      }
    } catch (e) {
      this.#setState("stopping");
      this.#complete("stopped");
      return Promise.reject(
        new Error(
          `Cannot start network "${this.name}": ${(e as Error).message}`,
          {
            cause: e,
          },
        ),
      );
    }
    this.#unfinished = this.#procs.length;
    this.#openInports =
      [...this.#inports.values()].filter((c) => !c.control && !c.closed)
        .length;
    for (const { conn, values } of this.#iips) {
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
    this.#live = true;
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
   * Stops at once: aborts every process, discards what is buffered (counted
   * as dropped with reason `stopped`) and runs each component's teardown.
   */
  stop(): Promise<void> {
    if (
      this.#state === "stopped" || this.#state === "finished" ||
      this.#state === "stopping"
    ) {
      return Promise.resolve();
    }
    this.#setState("stopping");
    for (const p of this.#procs) p.abort.abort();
    for (const c of this.#conns) c.discard("stopped");
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
    return Promise.resolve();
  }

  /**
   * Stops the sources (their `ctx.signal` aborts and exported in-ports
   * close), lets every buffered and in-flight message reach its sink, and
   * resolves once the network has finished, or once nothing is buffered
   * and nothing is in flight (a cycle never finishes by itself: it is then
   * stopped, with nothing lost). Past `timeoutMs` it stops what is left and
   * reports the backlog it discarded.
   */
  async drain(timeoutMs: number): Promise<DrainResult> {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new RangeError(
        `Cannot drain network "${this.name}": timeoutMs must be a non-negative number, received ${timeoutMs}`,
      );
    }
    if (this.#state === "created") {
      await this.stop();
      return { drained: true, backlog: 0 };
    }
    if (this.#state !== "running" && this.#state !== "draining") {
      return { drained: this.#state === "finished", backlog: this.backlog };
    }
    this.#setState("draining");
    for (const p of this.#procs) if (p.source) p.abort.abort();
    for (const name of this.#inports.keys()) this.closeInport(name);
    this.#maybeIdle();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      this.finished.then(() => true),
      new Promise<boolean>((
        r,
      ) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (done) {
      return {
        drained: this.state === "finished" || this.#drainedQuietly,
        backlog: 0,
      };
    }
    const backlog = this.backlog;
    await this.stop();
    return { drained: false, backlog };
  }

  /**
   * Sends a value into an exported in-port of the network (a graph
   * `inports` entry). Returns a promise when the connection is full: await
   * it for back pressure. (A `stop()` settles it too, the value then
   * counted as dropped with reason `stopped`.)
   */
  send(target: string, value: unknown): void | Promise<void> {
    const c = this.#inports.get(target);
    if (!c) {
      throw new RangeError(
        `network "${this.name}" has no exported in-port "${target}"; it has ${
          [...this.#inports.keys()].join(", ") || "none"
        }`,
      );
    }
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

  /** Closes an exported in-port: the process behind it sees its input end. */
  closeInport(inport: string): void {
    const c = this.#inports.get(inport);
    if (!c) {
      throw new RangeError(
        `network "${this.name}" has no exported in-port "${inport}"; it has ${
          [...this.#inports.keys()].join(", ") || "none"
        }`,
      );
    }
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
    const ref = this.#outportSpecs.get(outport);
    if (ref === undefined) {
      throw new RangeError(
        `network "${this.name}" has no exported out-port "${outport}"; it has ${
          [...this.#outportSpecs.keys()].join(", ") || "none"
        }`,
      );
    }
    if (this.#state !== "created" || this.#outports.has(outport)) {
      throw new Error(
        `Cannot read out-port "${outport}" of network "${this.name}": call output() once per port, before start()`,
      );
    }
    const from = this.#byName.get(ref.process)!;
    const host = new ProcessRuntime(
      this.#engine,
      `<outport ${outport}>`,
      _HOST_SINK,
      {},
      { hidden: true },
    );
    host.inputsByPort.in = [];
    host.waiters.in = [];
    host.ctx = new ProcessContext(host, host.outs, host.abort.signal);
    host.sink = true;
    const c: Conn = new Connection(
      { proc: from, port: ref.port, index: ref.index ?? -1 },
      { proc: host, port: "in", index: -1 },
      this.#defaultCapacity,
      "block",
      false,
    );
    const out = from.outs[ref.port];
    out.conns.push(c);
    from.outConns.push(c);
    if (c.from!.index >= 0) out.byIndex[c.from!.index] = c;
    from.sink = false;
    this.#addInput(c);
    this.#procs.push(host);
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
    if (c.control && !c.closed) {
      this.#applyControlFrom(c, value);
      return;
    }
    const t = c.target;
    if (
      c.count === 0 && !c.closed && !c.fromAsync && t.direct &&
      t.queued === 0 && t.mayActivate() && this.#mayHandOver()
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
    } else if (r !== undefined && c.source !== null) {
      // Parked: the sender waits for room.
      c.source.parked++;
    }
    return r;
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

  #take(p: ProcessRuntime): unknown {
    const ins = p.inputs;
    if (ins.length === 1) return this.#takeFrom(p, ins[0]);
    if (p.iips > 0) {
      // Initial packets come before anything else, port by port.
      for (const c of ins) {
        if (c.iip && c.count > 0) return this.#takeFrom(p, c);
      }
    }
    let i = p.rr;
    const n = ins.length;
    for (;;) {
      const c = ins[i];
      i = i + 1 === n ? 0 : i + 1;
      if (c.count > 0) {
        p.rr = i;
        return this.#takeFrom(p, c);
      }
    }
  }

  #applyControl(p: ProcessRuntime, port: string, value: unknown): void {
    const spec = p.component.inPorts[port];
    p.controlIn[port]++;
    p.controls[port] = spec.parse ? spec.parse(value) : value;
  }

  #applyControlFrom(c: Conn, value: unknown): void {
    const p = c.target;
    const port = c.port;
    c.delivered++;
    try {
      this.#applyControl(p, port, value);
      p.component.onControl?.(port, p.controls[port], p.ctx);
    } catch (e) {
      this.#countError(p, "exception");
      this.#route(p, e, value, port, "exception");
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
    return this.#live && !this.#throttled && this.#timing === 0 &&
      this.#depth < MAX_DEPTH;
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
    this.#throttled = false;
  };

  /** Every 128 activations: refresh the clock, end the slice when due. */
  #clockTick(): void {
    this.#now = performance.now();
    // Hand-overs wait for the next slice too.
    if (this.#now >= this.#sliceEnd) this.#throttled = true;
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
    // A cycle may have sent it more while it ran.
    this.#enqueueIfReady(t);
  }

  #invoke(p: ProcessRuntime, v: unknown): void {
    if ((++this.#ops & CLOCK_MASK) === 0) this.#clockTick();
    const ctx = p.concurrency > 1 ? this.#activationContext(p) : p.ctx;
    let t0 = 0;
    if (
      p.async || --p.timingCountdown === 0 ||
      this.#now - p.timedAt >= TIME_AT_LEAST_EVERY_MS
    ) {
      p.timingCountdown = this.#sampleEvery;
      p.timedAt = this.#now;
      // Nested direct activations would count in this one's time.
      this.#timing++;
      t0 = performance.now();
    }
    p.active++;
    let r: void | Promise<void>;
    try {
      r = p.fn!(v, ctx);
    } catch (e) {
      if (t0 !== 0) this.#timing--;
      p.active--;
      p.activations++;
      this.#fail(p, e, v, ctx.port);
      return;
    }
    if (t0 !== 0) this.#timing--;
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
    this.#becomeAsync(p);
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
        this.#fail(p, e, v, port);
        this.#after(p);
      },
    );
  }

  /**
   * A context of its own for one activation of a process with concurrency
   * above 1: its port, index and origin stay its own across awaits (state
   * is shared).
   */
  #activationContext(p: ProcessRuntime): ProcessContext {
    const base = p.ctx;
    const origin = p.origin;
    const out: Record<string, OutPort> = {};
    for (const [name, handle] of Object.entries(p.outs)) {
      out[name] = {
        send: (value: unknown, index?: number) =>
          this.#sendFrom(handle, value, index ?? -1, origin),
        get connected() {
          return handle.connected;
        },
        get width() {
          return handle.width;
        },
      };
    }
    const ctx: ProcessContext = Object.create(base);
    ctx.port = base.port;
    ctx.index = base.index;
    Object.defineProperty(ctx, "out", { value: out });
    return ctx;
  }

  /**
   * A process returned a promise: from now on every activation is timed,
   * and its sends (which may come after an await) are buffered rather than
   * handed over, so that receivers' work is not counted in its time.
   */
  #becomeAsync(p: ProcessRuntime): void {
    if (p.async) return;
    p.async = true;
    for (const c of p.outConns) c.fromAsync = true;
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

  #kindOf(e: unknown): ErrorKind {
    return e instanceof OverflowError ? "overflow" : "exception";
  }

  #countError(p: ProcessRuntime, kind: ErrorKind): void {
    if (kind === "timeout") p.errorsTimeout++;
    else if (kind === "overflow") p.errorsOverflow++;
    else p.errorsException++;
    p.lastErrorAt = Date.now();
  }

  #fail(p: ProcessRuntime, e: unknown, input: unknown, port: string): void {
    const kind = this.#kindOf(e);
    this.#countError(p, kind);
    p.failures++;
    this.#route(p, e, input, port, kind);
  }

  #route(
    p: ProcessRuntime,
    e: unknown,
    input: unknown,
    port: string,
    kind: ErrorKind,
  ): void {
    if (this.#state === "stopping" || this.#state === "stopped") return;
    const pe = e instanceof ProcessError && e.process === p.name
      ? e
      : new ProcessError(
        e instanceof Error ? e.message : String(e),
        { network: this.name, process: p.name, port, kind, input, cause: e },
      );
    const ep = p.errorPort;
    if (ep !== null && ep.connected) {
      try {
        void this.#sendFrom(ep, pe, -1, p.origin);
        return;
      } catch (e2) {
        this.#emit(
          "error",
          new ProcessError(
            `its error port could not take the error (${
              (e2 as Error).message
            }): ${pe.message}`,
            {
              network: this.name,
              process: p.name,
              port,
              kind,
              input,
              cause: pe,
            },
          ),
        );
        return;
      }
    }
    this.#emit("error", pe);
  }

  #activateGuarded(p: ProcessRuntime, v: unknown): void {
    const port = p.ctx.port;
    const index = p.ctx.index;
    const b = p.breakerSpec;
    if (b !== undefined) {
      if (p.breaker === "open" && this.#now - p.openedAt >= b.resetTimeoutMs) {
        p.breaker = "half-open";
      }
      if (p.breaker === "open" || (p.breaker === "half-open" && p.trial)) {
        p.rejected++;
        this.#route(
          p,
          new ProcessError(
            "its circuit breaker is open; the message was rejected",
            {
              network: this.name,
              process: p.name,
              port,
              kind: "circuit_open",
              input: v,
            },
          ),
          v,
          port,
          "circuit_open",
        );
        return;
      }
      if (p.breaker === "half-open") p.trial = true;
    }
    p.active++;
    this.#inFlight++;
    this.#runGuarded(p, v, port, index, p.origin).catch((e) => {
      console.error(`[weir] process "${p.name}": fault handling failed:`, e);
    }).finally(() => {
      this.#inFlight--;
      p.active--;
      this.#after(p);
    });
  }

  async #runGuarded(
    p: ProcessRuntime,
    v: unknown,
    port: string,
    index: number,
    origin: number,
  ): Promise<void> {
    const attempts = p.retry?.attempts ?? 1;
    for (let attempt = 1;; attempt++) {
      p.ctx.port = port;
      p.ctx.index = index;
      p.origin = origin;
      const ctx = p.concurrency > 1 ? this.#activationContext(p) : p.ctx;
      const t0 = performance.now();
      let failure: unknown = _NONE;
      let kind: ErrorKind = "exception";
      try {
        const r = p.fn!(v, ctx);
        if (isThenable(r)) {
          this.#becomeAsync(p);
          if (p.timeoutMs > 0) {
            await _withTimeout(r as Promise<void>, p.timeoutMs);
          } else await r;
        }
      } catch (e) {
        failure = e;
        kind = e === _TIMEOUT ? "timeout" : this.#kindOf(e);
      }
      const t1 = performance.now();
      p.activations++;
      p.timing.observe((t1 - t0) / 1000);
      if (failure === _NONE) {
        p.consecutiveFailures = 0;
        if (p.breaker !== "closed") p.breaker = "closed";
        p.trial = false;
        if (p.sink && origin !== 0) this.#latency.observe((t1 - origin) / 1000);
        return;
      }
      this.#countError(p, kind);
      if (attempt < attempts && !p.abort.signal.aborted) {
        await _sleep(p.retry!.backoffMs * 2 ** (attempt - 1), p.abort.signal);
        if (p.abort.signal.aborted) return;
        continue;
      }
      p.failures++;
      const b = p.breakerSpec;
      if (b !== undefined) {
        p.consecutiveFailures++;
        if (
          p.breaker === "half-open" ||
          p.consecutiveFailures >= b.failureThreshold
        ) {
          p.breaker = "open";
          this.#tick();
          p.openedAt = this.#now;
        }
        p.trial = false;
      }
      const e = failure === _TIMEOUT
        ? new ProcessError(
          `activation did not settle within ${p.timeoutMs} ms`,
          {
            network: this.name,
            process: p.name,
            port,
            kind: "timeout",
            input: v,
          },
        )
        : failure;
      this.#route(p, e, v, port, kind);
      return;
    }
  }

  // ---- loops -----------------------------------------------------------

  #startLoop(p: ProcessRuntime): void {
    if (p.loopStarted) return;
    p.loopStarted = true;
    let r: Promise<void>;
    try {
      r = p.component.run!(p.ctx);
    } catch (e) {
      r = Promise.reject(e);
    }
    Promise.resolve(r).then(
      () => this.#loopDone(p, _NONE),
      (e) => this.#loopDone(p, e),
    );
  }

  #loopDone(p: ProcessRuntime, e: unknown): void {
    if (e !== _NONE && !p.abort.signal.aborted) this.#fail(p, e, undefined, "");
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
    const n = conns.length;
    if (p.iips > 0) {
      for (const c of conns) {
        if (c.iip && c.count > 0) return Promise.resolve(this.#loopTake(p, c));
      }
    }
    for (let k = 0; k < n; k++) {
      const c = conns[(p.rr + k) % n];
      if (c.count > 0) {
        p.rr = (p.rr + k + 1) % n;
        return Promise.resolve(this.#loopTake(p, c));
      }
    }
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
      r = flush(p.ctx);
    } catch (e) {
      this.#fail(p, e, undefined, "");
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
          this.#fail(p, e, undefined, "");
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
      this.#tryFinish(t);
    }
  }

  #complete(state: "finished" | "stopped"): void {
    if (this.#completed) return;
    this.#completed = true;
    this.#live = false;
    if (this.#deadlockTimer !== undefined) {
      clearTimeout(this.#deadlockTimer);
      this.#deadlockTimer = undefined;
    }
    for (const p of this.#procs) {
      if (!p.setUp) continue;
      try {
        p.component.teardown?.(p.ctx);
      } catch (e) {
        console.error(`[weir] teardown of process "${p.name}" threw:`, e);
      }
    }
    this.#setState(state);
    this.#resolveFinished(state);
  }

  // ---- deadlock --------------------------------------------------------

  /**
   * Called whenever work may have run out. A drain that finds nothing
   * buffered or in flight and every process waiting is complete; otherwise
   * a stall check is scheduled (see `#checkStall`).
   */
  #maybeIdle(): void {
    if (
      this.#rqSize !== 0 || this.#openInports !== 0 ||
      this.#unfinished === 0 ||
      (this.#state !== "running" && this.#state !== "draining")
    ) return;
    if (
      this.#state === "draining" && this.#inFlight === 0 &&
      this.backlog === 0 && this.#allWaiting()
    ) {
      this.#drainedQuietly = true;
      void this.stop();
      return;
    }
    if (this.#deadlockTimer === undefined) {
      this.#deadlockTimer = setTimeout(this.#checkStall, this.#deadlockDelayMs);
    }
  }

  /**
   * A stall is every live process waiting, twice in a row with nothing
   * taken in between (deadlockDelayMs apart): then it is reported, once.
   */
  #checkStall = (): void => {
    this.#deadlockTimer = undefined;
    if (
      this.#rqSize !== 0 || this.#openInports !== 0 ||
      this.#unfinished === 0 ||
      (this.#state !== "running" && this.#state !== "draining") ||
      !this.#allWaiting()
    ) {
      this.#stallMark = -1;
      return;
    }
    const progress = this.#progress();
    if (progress === this.#reportedAt) return;
    if (progress === this.#stallMark) {
      this.#reportedAt = progress;
      this.#emit("deadlock", this.#deadlockReport());
      return;
    }
    this.#stallMark = progress;
    this.#deadlockTimer = setTimeout(this.#checkStall, this.#deadlockDelayMs);
  };

  /**
   * Every live process waits on a connection: a per-message process has no
   * activation or flush in flight (or each activation in flight has a send
   * waiting for room), a loop waits in `receive()` or on a parked send (a
   * loop doing its own work, such as awaiting a timer, is not waiting).
   */
  #allWaiting(): boolean {
    for (const p of this.#procs) {
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

  /** Messages taken so far: tells a stall from progress. */
  #progress(): number {
    let n = 0;
    for (const c of this.#conns) n += c.delivered;
    return n;
  }

  #deadlockReport(): DeadlockReport {
    const processes: StuckProcess[] = [];
    for (const p of this.#procs) {
      if (p.phase === "finished" || p.phase === "stopped" || p.hidden) continue;
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
        processes.push({
          process: p.name,
          waitingOn: "send",
          port: full[0].from!.port,
          connections: full.map(_connLabel),
        });
        continue;
      }
      const awaited = [...p.awaitingControls][0];
      if (awaited !== undefined) {
        processes.push({
          process: p.name,
          waitingOn: "receive",
          port: awaited,
          connections: p.controlConns[awaited].map(_connLabel),
        });
        continue;
      }
      const port = Object.keys(p.waiters).find((k) =>
        p.waiters[k].length > 0
      ) ??
        Object.keys(p.inputsByPort).find((k) =>
          p.inputsByPort[k].some((c) => !c.closed)
        ) ?? "";
      processes.push({
        process: p.name,
        waitingOn: "receive",
        port,
        connections: (p.inputsByPort[port] ?? []).filter((c) => !c.closed).map(
          _connLabel,
        ),
      });
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
      network: this.name,
      processes,
      message:
        `network "${this.name}" is deadlocked: every live process waits on a connection\n${
          lines.join("\n")
        }`,
    };
  }

  // ---- statistics ------------------------------------------------------

  /** Messages buffered in every connection (pending included). */
  get backlog(): number {
    let n = 0;
    for (const c of this.#conns) n += c.count + c.pending.length;
    return n;
  }

  /** A snapshot of every statistic (allocates; meant for scrapes, not per message). */
  stats(): NetworkStats {
    const drops = _noDrops();
    const processes: ProcessStats[] = [];
    const procDrops = new Map<ProcessRuntime, Record<DropReason, number>>();
    for (const p of this.#procs) {
      const d = _noDrops();
      d.circuit_open = p.rejected;
      procDrops.set(p, d);
    }
    const connections: ConnectionStats[] = [];
    let activeConnections = 0;
    for (const c of this.#conns) {
      const cd = _connDrops(c);
      const pd = procDrops.get(c.target)!;
      for (const r of DROP_REASONS) pd[r] += cd[r];
      if (c.from !== null && !c.closed) activeConnections++;
      connections.push({
        from: c.from === null ? null : `${c.from.proc.name}.${c.from.port}`,
        to: `${c.to.proc.name}.${c.to.port}`,
        toProcess: c.to.proc.name,
        toPort: c.to.port,
        capacity: c.capacity,
        policy: c.policy,
        depth: c.count + c.pending.length,
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
    for (const p of this.#procs) {
      if (p.hidden) continue;
      if (p.phase === "idle" || p.phase === "flushing") activeProcesses++;
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
          depth += c.count + c.pending.length;
          capacity += c.capacity;
          wait = _mergeInto(wait, _waitSnapshot(c));
          for (const v of c.values()) bufferedBytes += estimateBytes(v);
        }
        queueDepth[port] = depth;
        queueCapacity[port] = capacity;
        queueWait[port] = wait ??
          new Histogram(Array.from(p.timing.bounds)).snapshot();
      }
      const messagesOut: Record<string, number> = {};
      for (const [port, o] of Object.entries(p.outs)) {
        messagesOut[port] = o.sent;
      }
      const pd = procDrops.get(p)!;
      processes.push({
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
        lastErrorAt: p.lastErrorAt === 0 ? null : p.lastErrorAt / 1000,
        starts: p.starts,
        failures: p.failures,
        breaker: p.breakerSpec === undefined ? null : this.#breakerNow(p),
        drops: pd,
      });
    }
    return {
      name: this.name,
      state: this.#state,
      processes,
      connections,
      drops,
      backlog: this.backlog,
      latency: this.#latency.snapshot(),
      partitions: this.#partitions(),
      activeProcesses,
      activeConnections,
    };
  }

  #breakerNow(p: ProcessRuntime): BreakerState {
    if (
      p.breaker === "open" &&
      performance.now() - p.openedAt >= p.breakerSpec!.resetTimeoutMs
    ) return "half-open";
    return p.breaker;
  }

  #partitions(): number {
    const healthy = (p: ProcessRuntime) =>
      !p.hidden && (p.phase === "idle" || p.phase === "flushing") &&
      (p.breakerSpec === undefined || this.#breakerNow(p) !== "open");
    const parent = new Map<ProcessRuntime, ProcessRuntime>();
    const find = (p: ProcessRuntime): ProcessRuntime => {
      let r = p;
      while (parent.get(r) !== r) r = parent.get(r)!;
      parent.set(p, r);
      return r;
    };
    for (const p of this.#procs) if (healthy(p)) parent.set(p, p);
    for (const c of this.#conns) {
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
}

const _NONE = Symbol("none");
const _TIMEOUT = Symbol("timeout");

function _noop(): void {}

/** What a host reading an exported out-port looks like to the network. */
const _HOST_SINK = defineComponent({
  name: "weir/HostSink",
  description: "The host's end of an exported out-port.",
  inPorts: { in: {} },
  run: () => Promise.resolve(),
});

function _withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<void>((
      _,
      reject,
    ) => (timer = setTimeout(() => reject(_TIMEOUT), ms))),
  ]).finally(() => clearTimeout(timer));
}

function _sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function _connLabel(c: Conn): string {
  const waiting = c.pending.length > 0
    ? `, ${c.pending.length} more waiting`
    : "";
  return `${c.name()} (${c.count}/${c.capacity}${waiting})`;
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
