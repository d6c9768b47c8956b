/**
 * Small builders for engine tests.
 *
 * @module
 */
import { type Component, defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { Network, type NetworkOptions } from "../../src/engine/network.ts";
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
