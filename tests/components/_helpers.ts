/**
 * Runs one component inside a small network: IIPs on its ports, optional
 * feeding sources on its data in-ports, and a capturing sink on each of
 * its out-ports.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Component,
  type Context,
  defineComponent,
  type OutPort,
} from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { Network } from "../../src/engine/network.ts";
import { ProcessMeters } from "../../src/engine/meters.ts";
import type {
  ConnectionSpec,
  InitialSpec,
  ProcessSpec,
} from "../../src/engine/spec.ts";

/** One message as a capturing sink saw it. */
export interface Arrival {
  port: string;
  value: unknown;
  /** `performance.now()` when the sink took it. */
  at: number;
}

/** What {@linkcode runComponent} does. */
export interface RunOptions {
  /** IIPs by in-port (controls, or a single data IIP). */
  iips?: Record<string, unknown>;
  /** Values a source sends on in-port `in` (awaiting back pressure). */
  input?: unknown[];
  /**
   * More feeding sources, each one connection into `port`: a `feedOf`
   * the `values`, or a `component` with an out-port `out`.
   */
  feeds?: { port: string; values?: unknown[]; component?: Component }[];
  /**
   * Out-ports to capture. Default every out-port but `error`, so that
   * failures arrive as the network's `error` events.
   */
  capture?: string[];
  /** Capacity of every connection. Default the network's (10). */
  capacity?: number;
  /** Overrides the process's concurrency. */
  concurrency?: number;
  /** Called for each captured message; may stop or drain the network. */
  onArrival?: (arrival: Arrival, net: Network) => void;
  /** Fails the run (after stopping the network) past this. Default 5000 ms. */
  timeoutMs?: number;
}

/** What arrived while the component ran. */
export interface RunResult {
  /** Values by captured out-port, in arrival order. */
  outputs: Record<string, unknown[]>;
  /** Every captured message across ports, in arrival order. */
  arrivals: Arrival[];
  /** The network's `error` events. */
  errors: ProcessError[];
  /** The network's final state. */
  state: string;
}

/** The name of the process under test. */
export const UNDER_TEST = "T";

/**
 * Runs `component` as process `T` until the network finishes (or
 * `onArrival` stops it) and returns what arrived on each out-port.
 */
export async function runComponent(
  component: Component,
  options: RunOptions = {},
): Promise<RunResult> {
  const outputs: Record<string, unknown[]> = {};
  const arrivals: Arrival[] = [];
  const errors: ProcessError[] = [];
  const processes: ProcessSpec[] = [{
    name: UNDER_TEST,
    component,
    concurrency: options.concurrency,
  }];
  const connections: ConnectionSpec[] = [];
  const initials: InitialSpec[] = Object.entries(options.iips ?? {}).map((
    [port, data],
  ) => ({ data, to: { process: UNDER_TEST, port } }));
  const feeds = [...options.feeds ?? []];
  if (options.input) feeds.unshift({ port: "in", values: options.input });
  feeds.forEach(({ port, values, component }, i) => {
    const name = `Feed${i}`;
    processes.push({ name, component: component ?? feedOf(values ?? []) });
    connections.push({
      from: { process: name, port: "out" },
      to: { process: UNDER_TEST, port },
      capacity: options.capacity,
    });
  });
  let net: Network | undefined = undefined;
  const capture = options.capture ??
    Object.keys(component.outPorts).filter((port) => port !== "error");
  for (const port of capture) {
    outputs[port] = [];
    const name = `Capture_${port}`;
    processes.push({
      name,
      component: captureOf((value) => {
        const arrival = { port, value, at: performance.now() };
        outputs[port].push(value);
        arrivals.push(arrival);
        options.onArrival?.(arrival, net!);
      }),
    });
    connections.push({
      from: { process: UNDER_TEST, port },
      to: { process: name, port: "in" },
      capacity: options.capacity,
    });
  }
  net = new Network({ name: "test", processes, connections, initials });
  net.on("error", (e) => errors.push(e));
  await net.start();
  const timeoutMs = options.timeoutMs ?? 5000;
  const state = await finishedWithin(net, timeoutMs);
  if (state === "timeout") {
    throw new Error(
      `the network did not finish within ${timeoutMs} ms; arrived: ${
        JSON.stringify(outputs)
      }`,
    );
  }
  return { outputs, arrivals, errors, state };
}

/** A source that sends `values` in order, waiting for room, then ends. */
export function feedOf(values: readonly unknown[]): Component {
  return defineComponent({
    name: "test/Feed",
    description: "Sends fixed values, then ends.",
    outPorts: { out: { description: "The values." } },
    async run(ctx) {
      for (const value of values) {
        if (ctx.signal.aborted) return;
        await ctx.send("out", value);
      }
    },
  });
}

/** A sink that hands every message to `take`. */
export function captureOf(take: (value: unknown) => void): Component {
  return defineComponent({
    name: "test/Capture",
    description: "Hands every message to a callback.",
    inPorts: { in: { description: "Messages to capture." } },
    process(value) {
      take(value);
    },
  });
}

/** A context for calling a component's functions directly, outside a network. */
export interface FakeContext {
  ctx: Context<unknown>;
  /** What was sent, in order, as `[port, value]`. */
  sent: [string, unknown][];
  /** Aborts `ctx.signal`. */
  abort(): void;
  /** Sets a control as if a packet arrived on it (parsed by its port). */
  setControl(port: string, value: unknown): void;
}

/**
 * A context whose controls hold `controls` (parsed by the component's
 * ports, defaults filled in), whose out-ports record what is sent, and
 * whose state comes from the component's `setup`. Every out-port counts
 * as connected unless listed in `unconnected`.
 */
export function fakeContext(
  component: Component,
  controls: Record<string, unknown> = {},
  unconnected: string[] = [],
): FakeContext {
  const sent: [string, unknown][] = [];
  const values: Record<string, unknown> = {};
  const setControl = (port: string, value: unknown) => {
    const parse = component.inPorts[port].parse;
    values[port] = parse ? parse(value) : value;
  };
  for (const [port, spec] of Object.entries(component.inPorts)) {
    if (!spec.control) continue;
    if (port in controls) setControl(port, controls[port]);
    else values[port] = spec.default;
  }
  const abort = new AbortController();
  const out: Record<string, OutPort> = {};
  for (const port of Object.keys(component.outPorts)) {
    const connected = !unconnected.includes(port);
    out[port] = {
      send(value: unknown) {
        if (connected) sent.push([port, value]);
      },
      connected,
      width: connected ? 1 : 0,
    };
  }
  const meters = new ProcessMeters(component.name, component.meters);
  const ctx: Context<unknown> = {
    process: UNDER_TEST,
    network: "test",
    port: "in",
    index: -1,
    out,
    send: (port, value, index) => out[port].send(value, index),
    control: <T>(port: string) => values[port] as T,
    state: undefined,
    signal: abort.signal,
    metadata: {},
    input: () => {
      throw new Error("fakeContext has no inputs");
    },
    receive: () => Promise.reject(new Error("fakeContext has no inputs")),
    meter: (name, labels) => meters.meter(name, labels),
    report: (error) => sent.push(["error", error]),
  };
  if (component.setup) ctx.state = component.setup(ctx);
  return { ctx, sent, abort: () => abort.abort(), setControl };
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
export async function inTempDir(
  body: (dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "weir-test-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The lines of a file written by fs/WriteLines (each ends with "\n"). */
export function linesOf(path: string): string[] {
  const text = readFileSync(path, "utf8");
  assert.ok(text === "" || text.endsWith("\n"), "the file ends with a newline");
  return text === "" ? [] : text.slice(0, -1).split("\n");
}

/**
 * Awaits `net.finished`, or stops the network and resolves `"timeout"`
 * after `timeoutMs`, so that a hang fails a test instead of the run.
 */
export async function finishedWithin(
  net: Network,
  timeoutMs: number,
): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const state = await Promise.race([
    net.finished,
    new Promise<"timeout">((r) => timer = setTimeout(r, timeoutMs, "timeout")),
  ]);
  clearTimeout(timer);
  if (state === "timeout") await net.stop();
  return state;
}

export const NAMES = [
  "core/Delay",
  "core/Drop",
  "core/Interval",
  "core/Kick",
  "core/Merge",
  "core/Output",
  "core/Repeat",
  "core/Schedule",
  "csv/Parse",
  "csv/Stringify",
  "exec/Run",
  "flow/Batch",
  "flow/Change",
  "flow/Counter",
  "flow/Dedupe",
  "flow/Filter",
  "flow/Join",
  "flow/Map",
  "flow/Switch",
  "flow/Throttle",
  "flow/Trigger",
  "flow/Window",
  "fs/ReadFile",
  "fs/ReadLines",
  "fs/Tail",
  "fs/WriteLines",
  "http/In",
  "http/Request",
  "http/Response",
  "json/Parse",
  "json/Stringify",
  "mqtt/In",
  "mqtt/Out",
  "strings/Split",
  "text/Template",
];

/**
 * Waits until `condition` holds, checking every few milliseconds, and fails
 * with `what` after `limitMs`: for effects nothing can be awaited on, such
 * as a stream closing its file.
 */
export async function until(
  condition: () => boolean,
  what: string,
  limitMs = 3000,
): Promise<void> {
  const end = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > end) assert.fail(`${what} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise with its resolve function. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
} {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Watches `setTimeout` while a test runs: which timers are still live (not
 * fired, not cleared), and what a timer callback threw (caught here, so a
 * bug cannot crash the test run; a host would crash).
 */
export interface TimerWatch {
  /** Delays of the timers neither fired nor cleared. */
  live(): number[];
  /** Errors thrown out of timer callbacks. */
  escaped: unknown[];
  /** Resolves after the next callback of a timer with this delay has run. */
  fired(delay: number): Promise<void>;
  /** Puts the real functions back. */
  restore(): void;
}

export function watchTimers(): TimerWatch {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Map<unknown, number>();
  const escaped: unknown[] = [];
  const waiters = new Map<number, (() => void)[]>();
  const patchedSet = (
    fn: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const delay = ms ?? 0;
    const id: unknown = realSet(() => {
      live.delete(id);
      try {
        fn(...args);
      } catch (e) {
        escaped.push(e);
      }
      for (const w of waiters.get(delay)?.splice(0) ?? []) w();
    }, ms);
    live.set(id, delay);
    return id;
  };
  const patchedClear = (id?: unknown) => {
    live.delete(id);
    realClear(id as Parameters<typeof clearTimeout>[0]);
  };
  globalThis.setTimeout = patchedSet as unknown as typeof setTimeout;
  globalThis.clearTimeout = patchedClear as unknown as typeof clearTimeout;
  return {
    live: () => [...live.values()],
    escaped,
    fired(delay) {
      return new Promise((resolve) => {
        const list = waiters.get(delay) ?? [];
        list.push(resolve);
        waiters.set(delay, list);
      });
    },
    restore() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

/** Stats of process `name`. */
export function statsOf(net: Network, name: string) {
  const p = net.stats().processes.find((s) => s.name === name);
  assert.ok(p, `process ${name} exists`);
  return p;
}
