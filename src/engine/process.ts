/**
 * The running instance of a component inside a network: its buffers, its
 * counters and the context handed to the component.
 *
 * @module
 */
import {
  type Component,
  type Context,
  END,
  type OutPort,
} from "./component.ts";
import { nextActivationId } from "./activation.ts";
import { thrownText } from "./excerpt.ts";
import { isProcessError, type ReportLevel } from "./errors.ts";
import { CircuitBreaker } from "./breaker.ts";
import type { Connection } from "./connection.ts";
import { Histogram } from "./histogram.ts";
import { type Meter, ProcessMeters } from "./meters.ts";
import type { CircuitBreakerSpec, RetrySpec } from "./spec.ts";

export type { BreakerState } from "./breaker.ts";

/** What the network does for its processes; implemented by `Network`. */
export interface Engine {
  readonly name: string;
  sendFrom(
    out: OutPortHandle,
    value: unknown,
    index: number,
    origin: number,
  ): void | Promise<void>;
  receive(proc: ProcessRuntime, port: string): Promise<unknown>;
  /** A fault `proc` reports without failing (see `Context.report`). */
  report?(
    proc: ProcessRuntime,
    error: unknown,
    input?: unknown,
    options?: { level?: ReportLevel },
  ): void;
}

/**
 * One out-port of a running process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineComponent } from "./component.ts";
 * import { type Engine, OutPortHandle, ProcessRuntime } from "./process.ts";
 *
 * const sent: unknown[] = [];
 * const engine: Engine = {
 *   name: "demo",
 *   sendFrom: (_out, value) => void sent.push(value),
 *   receive: () => Promise.resolve(undefined),
 * };
 * const Emit = defineComponent({
 *   name: "test/Emit",
 *   description: "Emits.",
 *   outPorts: { out: {} },
 *   process() {},
 * });
 * const p = new ProcessRuntime(engine, "E", Emit, {}, {});
 * const out = new OutPortHandle(engine, p, "out", false);
 * out.send(42);
 * assert.deepEqual([sent, out.connected], [[42], false]);
 * ```
 */
export class OutPortHandle implements OutPort {
  /** Attached connections (fan-out). */
  conns: Connection<ProcessRuntime>[] = [];
  /** Connections of an addressable port by index. */
  byIndex: (Connection<ProcessRuntime> | undefined)[] = [];
  /** Values sent through this port. */
  sent = 0;

  /** Creates the handle of port `name` of process `proc`. */
  constructor(
    readonly engine: Engine,
    readonly proc: ProcessRuntime,
    readonly name: string,
    readonly addressable: boolean,
  ) {}

  /** Whether at least one connection is attached. */
  get connected(): boolean {
    return this.conns.length > 0;
  }

  /** Number of attached connections. */
  get width(): number {
    return this.conns.length;
  }

  /** Sends a value (see {@linkcode OutPort.send}). */
  send(value: unknown, index?: number): void | Promise<void> {
    return this.engine.sendFrom(this, value, index ?? -1, this.proc.origin);
  }
}

/**
 * The context a component's functions receive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineComponent } from "./component.ts";
 * import { type Engine, ProcessContext, ProcessRuntime } from "./process.ts";
 *
 * const engine: Engine = {
 *   name: "demo",
 *   sendFrom() {},
 *   receive: () => Promise.resolve(undefined),
 * };
 * const Scale = defineComponent({
 *   name: "test/Scale",
 *   description: "Scales.",
 *   inPorts: { in: {}, factor: { control: true, default: 2 } },
 *   process() {},
 * });
 * const p = new ProcessRuntime(engine, "S", Scale, {}, {});
 * p.controls.factor = 2;
 * const ctx = new ProcessContext(p, {}, p.abort.signal);
 * ctx.state = { seen: 1 };
 * assert.deepEqual(
 *   [ctx.process, ctx.network, ctx.control("factor"), p.state],
 *   ["S", "demo", 2, { seen: 1 }],
 * );
 * ```
 */
export class ProcessContext implements Context<unknown> {
  port = "";
  index = -1;

  /** Creates the context of `proc`. */
  constructor(
    readonly proc: ProcessRuntime,
    readonly out: Readonly<Record<string, OutPort>>,
    readonly signal: AbortSignal,
  ) {}

  /** Per-process state (shared by concurrent activations). */
  get state(): unknown {
    return this.proc.state;
  }

  set state(value: unknown) {
    this.proc.state = value;
  }

  /** The process's name. */
  get process(): string {
    return this.proc.name;
  }

  /** The network's name. */
  get network(): string {
    return this.proc.engine.name;
  }

  /** Graph metadata of the process. */
  get metadata(): Readonly<Record<string, unknown>> {
    return this.proc.metadata;
  }

  /** Sends on out-port `port`. */
  send(port: string, value: unknown, index?: number): void | Promise<void> {
    const o: OutPort | undefined = this.out[port];
    if (o === undefined) {
      throw new RangeError(
        `process "${this.proc.name}" has no out-port "${port}"; its out-ports are ${
          Object.keys(this.out).join(", ") || "none"
        }`,
      );
    }
    return o.send(value, index);
  }

  /** The latest value of a control port. */
  control<T = unknown>(port: string): T {
    const controls = this.proc.controls;
    const v = controls[port];
    if (v === undefined && !Object.hasOwn(controls, port)) {
      throw new RangeError(
        `process "${this.proc.name}" has no control port "${port}"; its control ports are ${
          Object.keys(controls).join(", ") || "none"
        }`,
      );
    }
    return v as T;
  }

  /** Iterates the messages of an in-port until it is closed and empty. */
  input(port: string): AsyncIterable<unknown> {
    const engine = this.proc.engine;
    const proc = this.proc;
    return {
      [Symbol.asyncIterator]() {
        return {
          async next(): Promise<IteratorResult<unknown>> {
            const v = await engine.receive(proc, port);
            return v === END
              ? { done: true, value: undefined }
              : { done: false, value: v };
          },
        };
      },
    };
  }

  /** The next message of an in-port, or `END`. */
  receive(port: string): Promise<unknown> {
    return this.proc.engine.receive(this.proc, port);
  }

  /** Reports a fault without failing the process (see `Context.report`). */
  report(
    error: unknown,
    input?: unknown,
    options?: { level?: ReportLevel },
  ): void {
    const engine = this.proc.engine;
    if (engine.report !== undefined) {
      engine.report(this.proc, error, input, options);
      return;
    }
    const line = `[weir] process "${this.proc.name}": ${thrownText(error)}`;
    let level = options?.level ?? "error";
    if (isProcessError(error)) {
      try {
        level = error.level;
      } catch {
        // A proxy of a ProcessError whose getter throws: the level asked for.
      }
    }
    if (level === "warning") console.warn(line);
    else if (level === "info") console.info(line);
    else console.error(line);
  }

  /** A series of one of the component's meters. */
  meter(name: string, labels?: Readonly<Record<string, string>>): Meter {
    const proc = this.proc;
    proc.meters ??= new ProcessMeters(
      proc.component.name,
      proc.component.meters,
    );
    return proc.meters.meter(name, labels);
  }
}

/** Life-cycle phase of a process. */
export type ProcessPhase = "idle" | "flushing" | "finished" | "stopped";

/**
 * A running process: plain numeric fields read by the network on every
 * message and by the stats snapshot at scrape time.
 */
export class ProcessRuntime {
  /** Its component's `process` function, or `undefined` for loops. */
  readonly fn: Component["process"];
  /** A loop (`run`) component. */
  readonly loop: boolean;
  /** Its id in the current-activation marker (see `activation.ts`). */
  readonly id: number = nextActivationId();
  /** Activations allowed in flight. */
  readonly concurrency: number;
  /** The context handed to the component. */
  ctx!: ProcessContext;
  /** Out-ports by name. */
  readonly outs: Record<string, OutPortHandle> = {};
  /** The `error` out-port, if the component has one. */
  errorPort: OutPortHandle | null = null;
  /** Every out-connection, of every port. */
  readonly outConns: Connection<ProcessRuntime>[] = [];
  /** Data in-connections (IIP connections first). */
  readonly inputs: Connection<ProcessRuntime>[] = [];
  /** Data in-connections by port. */
  readonly inputsByPort: Record<string, Connection<ProcessRuntime>[]> = {};
  /** Current control values. */
  readonly controls: Record<string, unknown> = {};
  /** Control values received, by port. */
  readonly controlIn: Record<string, number> = {};
  /** Connections feeding each control port (IIPs not included). */
  readonly controlConns: Record<string, Connection<ProcessRuntime>[]> = {};
  /** Connected control ports still without a value: the process waits. */
  readonly awaitingControls: Set<string> = new Set();
  /** A loop's `run` has been called. */
  loopStarted = false;
  /** Aborted on stop (and, for sources, on drain). */
  readonly abort: AbortController = new AbortController();

  // Scheduling state.
  /** Values buffered across data inputs. */
  queued = 0;
  /** Block-policy out-connections currently full. */
  fullOutputs = 0;
  /** Activations in flight. */
  active = 0;
  /** Data in-connections not yet closed. */
  openInputs = 0;
  /** In the network's run queue. */
  inRunQueue = false;
  /** Next input to look at (round robin). */
  rr = 0;
  /** Origin time of the message being processed (ms, 0 = none). */
  origin = 0;
  /** Phase of its life cycle. */
  phase: ProcessPhase = "idle";
  /** Has no connected out-port other than `error`: a sink. */
  sink = false;
  /** Has no data in-connection: a source. */
  source = false;
  /** Has returned a promise once: time every activation. */
  async = false;
  /** Activations until the next timed one. */
  timingCountdown = 1;
  /** Coarse time of the last timed activation (ms). */
  timedAt = 0;
  /** Pending `receive()` calls of a loop, by port. */
  readonly waiters: Record<string, ((v: unknown) => void)[]> = {};
  /** Its sends waiting for room in full connections. */
  parked = 0;
  /** Initial packets not yet taken (they go first). */
  iips = 0;
  /** The component's state (`ctx.state`). */
  state: unknown = undefined;
  /** Its meters' series, once the component asked for one. */
  meters: ProcessMeters | null = null;

  // Statistics.
  /** Activations completed (successfully or not). */
  activations = 0;
  /** Processing time of timed activations, seconds. */
  readonly timing: Histogram;
  /** Errors by kind. */
  errorsException = 0;
  errorsTimeout = 0;
  errorsOverflow = 0;
  /** Messages rejected while the breaker was open. */
  rejected = 0;
  /**
   * Messages it had taken whose activations a stop cut off (e.g. waiting
   * inside `core/Delay`): given up, counted as dropped, reason `stopped`.
   */
  cutOff = 0;
  /** Time of the last error, ms since the epoch (0 = never). */
  lastErrorAt = 0;
  /** Times started. */
  starts = 0;
  /** Its `setup` has run (so `teardown` is due). */
  setUp = false;
  /** Messages given up on (after retries). */
  failures = 0;

  // Faults.
  /** Fails an async activation after this many ms (0 = never). */
  readonly timeoutMs: number;
  /** Tries a failed message again. */
  readonly retry: RetrySpec | undefined;
  /** Its circuit breaker, when it has one. */
  readonly breaker: CircuitBreaker | undefined;
  /** Needs the guarded (timeout/retry/breaker) activation path. */
  readonly guarded: boolean;
  /** May take a message straight from an idle sender's call. */
  readonly direct: boolean;

  /** Creates the runtime of one process. */
  constructor(
    readonly engine: Engine,
    readonly name: string,
    readonly component: Component,
    readonly metadata: Readonly<Record<string, unknown>>,
    options: {
      concurrency?: number;
      timeoutMs?: number;
      retry?: RetrySpec;
      circuitBreaker?: CircuitBreakerSpec;
      buckets?: readonly number[];
      /** Hidden processes (exported out-ports) are left out of stats. */
      hidden?: boolean;
    },
  ) {
    this.fn = component.process;
    this.loop = component.run !== undefined;
    this.concurrency = options.concurrency ?? component.concurrency;
    this.timing = new Histogram(options.buckets);
    this.timeoutMs = options.timeoutMs ?? 0;
    this.retry = options.retry;
    this.breaker = options.circuitBreaker === undefined
      ? undefined
      : new CircuitBreaker(options.circuitBreaker);
    this.guarded = this.timeoutMs > 0 || this.retry !== undefined ||
      this.breaker !== undefined;
    this.direct = !this.loop && !this.guarded && this.concurrency === 1;
    this.hidden = options.hidden ?? false;
  }

  /** Left out of stats. */
  readonly hidden: boolean;

  /**
   * It may start an activation now: no full `block` output (nor a control
   * value still awaited) holds it back, and an activation slot is free.
   */
  mayActivate(): boolean {
    return this.fullOutputs === 0 && this.active < this.concurrency;
  }

  /**
   * The connection among `conns` (all its inputs, or one port's) to take
   * from next: one holding initial packets first, then round robin from
   * where the last take left off; `undefined` when all are empty.
   */
  nextInput(
    conns: readonly Connection<ProcessRuntime>[],
  ): Connection<ProcessRuntime> | undefined {
    if (this.iips > 0) {
      for (const c of conns) if (c.iip && c.count > 0) return c;
    }
    const n = conns.length;
    // One port's inputs may be fewer than the ones `rr` last counted.
    let i = this.rr < n ? this.rr : this.rr % n;
    for (let k = 0; k < n; k++) {
      const c = conns[i];
      i = i + 1 === n ? 0 : i + 1;
      if (c.count > 0) {
        this.rr = i;
        return c;
      }
    }
    return undefined;
  }

  /** Sets control port `port` to `value` (parsed by the port's `parse`). */
  applyControl(port: string, value: unknown): void {
    const spec = this.component.inPorts[port];
    this.controlIn[port]++;
    this.controls[port] = spec.parse ? spec.parse(value) : value;
  }

  /**
   * It returned a promise: from now on every activation is timed, and its
   * sends (which may come after an await) are buffered rather than handed
   * over, so that receivers' work is not counted in its time.
   */
  becomeAsync(): void {
    if (this.async) return;
    this.async = true;
    for (const c of this.outConns) c.fromAsync = true;
  }

  /**
   * A context of its own for one activation of a process with concurrency
   * above 1: its port, index and origin stay its own across awaits (state
   * is shared).
   */
  activationContext(): ProcessContext {
    const base = this.ctx;
    const engine = this.engine;
    const origin = this.origin;
    const out: Record<string, OutPort> = {};
    for (const [name, handle] of Object.entries(this.outs)) {
      out[name] = {
        send: (value: unknown, index?: number) =>
          engine.sendFrom(handle, value, index ?? -1, origin),
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
}
