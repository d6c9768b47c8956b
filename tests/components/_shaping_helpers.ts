/**
 * Graph runs for the data-shaping components' tests: `test/Values` (sends
 * the values of its `values` IIP), `test/Script` (sends `[port, value]`
 * steps one at a time, each once the process under test has taken the one
 * before, so that messages on two ports arrive in a known order),
 * `test/Sink` and `test/SlowSink` (20 ms a message).
 *
 * @module
 */
import { builtins } from "../../src/components/mod.ts";
import { createNetwork } from "../../src/embed.ts";
import { type Component, defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import type { Network } from "../../src/engine/network.ts";
import { finishedWithin, statsOf, until } from "./_helpers.ts";
import { tmpdir } from "node:os";

/** Sends each value of its `values` IIP (an array), waiting for room. */
export const Values: Component = defineComponent({
  name: "test/Values",
  description: "Sends the values of its values IIP, then ends.",
  inPorts: {
    values: { type: "array", control: true, required: true },
  },
  outPorts: { out: {} },
  async run(ctx) {
    for (const v of ctx.control<unknown[]>("values")) {
      if (ctx.signal.aborted) return;
      await ctx.send("out", v);
    }
  },
});

/** One step of `test/Script`: an out-port and a value, or a pause in ms. */
export type Step = [port: string, value: unknown] | number;

/** What a run produced. */
export interface ShapingRun {
  /** Values taken by each `test/Sink` process, by process name. */
  sinks: Record<string, unknown[]>;
  /** The network's error events. */
  errors: ProcessError[];
  net: Network;
}

/**
 * Runs .fbp text with the built-ins, `test/Values`, `test/Sink` and a
 * `test/Script` playing `steps` into process `target`, until it finishes
 * (it fails after `timeoutMs`).
 */
export async function runShaping(
  text: string,
  options: { steps?: Step[]; target?: string; timeoutMs?: number } = {},
): Promise<ShapingRun> {
  const sinks: Record<string, unknown[]> = {};
  const box: { net?: Network } = {};
  const target = options.target ?? "T";
  const Script = defineComponent({
    name: "test/Script",
    description: "Sends its steps in order, each once the last was taken.",
    outPorts: { in: {}, reset: {} },
    async run(ctx) {
      let sent = 0;
      for (const step of options.steps ?? []) {
        if (typeof step === "number") {
          await new Promise((r) => setTimeout(r, step));
          continue;
        }
        await ctx.send(step[0] as "in", step[1]);
        sent++;
        const net = box.net!;
        const taken = () => {
          const s = statsOf(net, target).messagesIn;
          return (s.in ?? 0) + (s.reset ?? 0) >= sent;
        };
        await until(taken, `${target} took step ${sent}`);
      }
    },
  });
  const registry = builtins({ files: { root: tmpdir() } })
    .register(Values)
    .register(defineComponent({
      name: "test/SlowSink",
      description: "Keeps every message, by process name, 20 ms each.",
      inPorts: { in: {} },
      async process(value, ctx) {
        await new Promise((r) => setTimeout(r, 20));
        (sinks[ctx.process] ??= []).push(value);
      },
    }))
    .register(Script)
    .register(defineComponent({
      name: "test/Sink",
      description: "Keeps every message, by process name.",
      inPorts: { in: {} },
      process(value, ctx) {
        (sinks[ctx.process] ??= []).push(value);
      },
    }));
  const net = box.net = createNetwork(text, { registry });
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  await net.start();
  const timeoutMs = options.timeoutMs ?? 5000;
  const state = await finishedWithin(net, timeoutMs);
  if (state === "timeout") {
    throw new Error(
      `the graph did not finish within ${timeoutMs} ms; sinks: ${
        JSON.stringify(sinks)
      }`,
    );
  }
  return { sinks, errors, net };
}

/** The `ProcessError`s a sink took, as `line N: reason` lists or messages. */
export function messagesOf(values: unknown[] | undefined): string[] {
  return (values ?? []).map((e) => (e as Error).message);
}

/** The value of meter `name` of `process` (0 when it never asked for it). */
export function meterOf(net: Network, process: string, name: string): number {
  let found = 0;
  net.forEachMeter((p, m) => {
    if (p === process && m.spec.name === name) found = m.value;
  });
  return found;
}
