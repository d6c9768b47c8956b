/**
 * Small builders for engine tests.
 *
 * @module
 */
import { type Component, defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import type { DeadlockReport } from "../../src/engine/deadlock.ts";
import { Network, type NetworkOptions } from "../../src/engine/network.ts";
import type { NetworkStats, ProcessStats } from "../../src/engine/stats.ts";
import type {
  ConnectionSpec,
  NetworkSpec,
  ProcessSpec,
} from "../../src/engine/spec.ts";

/**
 * A source that sends each of `values` (awaiting back pressure), waiting
 * `gapMs` after each when given, then ends; it stops when its signal aborts.
 */
export function sourceOf(values: unknown[], gapMs = 0): Component {
  return defineComponent({
    name: "test/Source",
    description: "Sends fixed values.",
    outPorts: { out: {} },
    async run(ctx) {
      for (const v of values) {
        if (ctx.signal.aborted) return;
        await ctx.send("out", v);
        // A source paced by a timer, when asked for: the point, not a wait.
        if (gapMs > 0) await sleep(gapMs);
      }
    },
  });
}

/** A sink that pushes what it takes into `into`. */
export function sinkInto(into: unknown[], delayMs = 0): Component {
  return defineComponent({
    name: "test/Sink",
    description: "Keeps what it gets.",
    inPorts: { in: {} },
    process: delayMs > 0
      ? (v) =>
        new Promise((r) => setTimeout(() => (into.push(v), r()), delayMs))
      : (v) => {
        into.push(v);
      },
  });
}

/**
 * A map that multiplies each number by its `factor` control port (default
 * 1; strings are read as numbers).
 */
export function scaleOf(): Component {
  return defineComponent({
    name: "test/Scale",
    description: "Multiplies by its factor.",
    inPorts: {
      in: {},
      factor: { control: true, default: 1, parse: (v) => Number(v) },
    },
    outPorts: { out: {} },
    process(v, ctx) {
      ctx.send("out", (v as number) * ctx.control<number>("factor"));
    },
  });
}

/** A map component running `fn`. */
export function mapOf(fn: (v: unknown) => unknown): Component {
  return defineComponent({
    name: "test/Map",
    description: "Maps values.",
    inPorts: { in: {} },
    outPorts: { out: {}, error: {} },
    process(v, ctx) {
      ctx.send("out", fn(v));
    },
  });
}

/** Processes given as name -> component, connections as "A.out>B.in". */
export function network(
  processes: Record<string, Component | Omit<ProcessSpec, "name">>,
  connections: (string | ConnectionSpec)[],
  extra: Partial<NetworkSpec> = {},
  options?: NetworkOptions,
): Network {
  const spec: NetworkSpec = {
    name: "test",
    processes: Object.entries(processes).map(([name, p]) =>
      "component" in p && typeof (p as ProcessSpec).component === "object" &&
        "inPorts" in (p as ProcessSpec).component
        ? { name, ...(p as Omit<ProcessSpec, "name">) }
        : { name, component: p as Component }
    ),
    connections: connections.map((c) => {
      if (typeof c !== "string") return c;
      const [from, to] = c.split(">");
      const [fp, fport] = from.split(".");
      const [tp, tport] = to.split(".");
      return {
        from: { process: fp, port: fport },
        to: { process: tp, port: tport },
      };
    }),
    ...extra,
  };
  return new Network(spec, options);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Stands for the work of an async activation: settles after `ms` (a later
 * turn of the event loop even at 0), so the activation stays in flight
 * meanwhile. What the tests that use it are about, never a wait for a
 * condition.
 */
export function work(ms: number): Promise<void> {
  return sleep(ms);
}

/** Resolves when `cond()` holds (polled every ms), or rejects after `ms`. */
export async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await sleep(1);
  }
}

/** A sink that holds its first message until `open()`, then keeps what it gets in `got`. */
export function gated(got: unknown[] = []) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const component = defineComponent({
    name: "test/Gated",
    description: "Waits for the gate.",
    inPorts: { in: {} },
    async process(v) {
      await gate;
      got.push(v);
    },
  });
  return { component, open, got };
}

/**
 * B sends 0..9 in one activation into G through a connection of capacity 3
 * with `policy`, while G holds its first message ("first") until `open()`.
 */
export function overflowNet(
  policy: "drop-oldest" | "drop-newest" | "error",
  got: unknown[],
) {
  // A receiver that waits for a gate, so the connection fills up.
  const { component: Gated, open } = gated(got);
  const errors: ProcessError[] = [];
  const Burst = defineComponent({
    name: "test/Burst",
    description: "Sends 0..9 in one activation.",
    inPorts: { in: {} },
    outPorts: { out: {}, error: {} },
    process(_v, ctx) {
      for (let i = 0; i < 10; i++) ctx.send("out", i);
    },
  });
  // G takes "first" and waits at the gate; then B's burst meets a busy G.
  const net = network(
    { B: Burst, G: Gated },
    [{
      from: { process: "B", port: "out" },
      to: { process: "G", port: "in" },
      capacity: 3,
      policy,
    }],
    {
      initials: [
        { data: "first", to: { process: "G", port: "in" } },
        { data: "go", to: { process: "B", port: "in" } },
      ],
    },
  );
  net.on("error", (e) => errors.push(e));
  return { net, open, errors };
}

/**
 * Limit for outcomes that must come: tests that guard against a hang race
 * the awaited outcome against it (`within`), so that a bug fails the test
 * instead of the whole run. A hang guard, never what a test measures.
 */
export const HANG_MS = 1500;
/** What `within` gives when the outcome did not come in time. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/** The value of `p`, or `TIMED_OUT` after `ms`; the timer never outlives it. */
export async function within<T>(
  p: Promise<T>,
  ms = HANG_MS,
): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<typeof TIMED_OUT>((r) => {
        timer = setTimeout(() => r(TIMED_OUT), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise and the function that resolves it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** 0 .. n-1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A connection "A.out" -> "B.in" with options. */
export function edge(
  from: string,
  to: string,
  extra: Partial<ConnectionSpec> = {},
): ConnectionSpec {
  const [fp, fport] = from.split(".");
  const [tp, tport] = to.split(".");
  return {
    from: { process: fp, port: fport },
    to: { process: tp, port: tport },
    ...extra,
  };
}

/** The stats of process `name`; throws when there is none. */
export function proc(s: NetworkStats, name: string): ProcessStats {
  const p = s.processes.find((x) => x.name === name);
  if (!p) throw new Error(`no process ${name} in stats`);
  return p;
}

/** The stats of the connection `from` -> `to`; throws when there is none. */
export function connTo(s: NetworkStats, from: string | null, to: string) {
  const c = s.connections.find((x) => x.from === from && x.to === to);
  if (!c) throw new Error(`no connection ${from} -> ${to} in stats`);
  return c;
}

/** The sum of the drops of every reason. */
export function dropsOf(d: Record<string, number>): number {
  return Object.values(d).reduce((a, b) => a + b, 0);
}

/** The first deadlock report within `ms`, or `null`. */
export async function deadlockWithin(
  net: Network,
  ms = 300,
): Promise<DeadlockReport | null> {
  let off = () => {};
  const r = await within(
    new Promise<DeadlockReport>((
      resolve,
    ) => (off = net.on("deadlock", resolve))),
    ms,
  );
  off();
  return r === TIMED_OUT ? null : r;
}

/** A loop that sends 0, 1, 2, ... until its signal aborts; counts them. */
export function endless(sent: { n: number }): Component {
  return defineComponent({
    name: "test/Endless",
    description: "Sends numbers until aborted.",
    outPorts: { out: {} },
    async run(ctx) {
      while (!ctx.signal.aborted) {
        const r = ctx.send("out", sent.n++);
        if (r) await r;
        // Paced by a timer, as a real source is: the point, not a wait.
        await sleep(1);
      }
    },
  });
}

/** A loop that waits on its in-port forever (never gets anything). */
export const Waiter = defineComponent({
  name: "test/Waiter",
  description: "Waits for one message on in, then ends.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  async run(ctx) {
    await ctx.receive("in");
  },
});

/** Sends n-1 on out, or n on done once n is 0: a cycle's terminating condition. */
export const Countdown = defineComponent({
  name: "test/Countdown",
  description: "Sends n-1 on out, or 0 on done.",
  inPorts: { in: {} },
  outPorts: { out: {}, done: {} },
  process(v, ctx) {
    const n = v as number;
    if (n === 0) ctx.send("done", n);
    else ctx.send("out", n - 1);
  },
});

/** Collects errors from the error event. */
export function collectErrors(net: Network): ProcessError[] {
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  return errors;
}

/** A network whose exported in-port "in" feeds a sink that keeps what it gets. */
export function inportNet(got: unknown[]): Network {
  return network({ K: sinkInto(got) }, [], {
    inports: { in: { process: "K", port: "in" } },
  });
}

/**
 * A busy network, not started: a source of 60, a map with a control port
 * fed twice over the run, a fan-out to a slow async sink K1 (block,
 * capacity 2) and a sink K2 (drop-newest, capacity 1). `inSlowSink` runs
 * inside every activation of K1, while messages are in flight: the
 * moments a statistics test reads the network at.
 */
export function busyNetwork(inSlowSink: () => void): Network {
  const Ctl = defineComponent({
    name: "test/Ctl",
    description: "Sends two control values.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", 1);
      // Spreads the two control values over the run: the point, not a wait.
      await sleep(2);
      await ctx.send("out", 1);
    },
  });
  const Slow = defineComponent({
    name: "test/Slow",
    description: "Slow sink that runs the test's reading.",
    inPorts: { in: {} },
    async process() {
      inSlowSink();
      await work(0);
    },
  });
  return network(
    {
      S: sourceOf(range(60)),
      C: Ctl,
      M: scaleOf(),
      K1: Slow,
      K2: sinkInto([], 1),
    },
    [
      "S.out>M.in",
      "C.out>M.factor",
      edge("M.out", "K1.in", { capacity: 2 }),
      edge("M.out", "K2.in", { capacity: 1, policy: "drop-newest" }),
    ],
  );
}
