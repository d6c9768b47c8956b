/**
 * Runs of whole graphs of the built-in components, from .fbp text. Apart
 * from `_helpers.ts` because it loads every built-in (and so `jsonata`),
 * which the scripts that `fs_*` tests run in a temporary folder must not.
 *
 * @module
 */
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { createNetwork } from "../../src/embed.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { type Component, defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import type { Network } from "../../src/engine/network.ts";
import { finishedWithin } from "./_helpers.ts";
import { tmpdir } from "node:os";

/**
 * The file sandbox of these runs: the system's temporary folder, where
 * `inTempDir` makes each test's files (the default, `./data`, is the
 * subject of fs_sandbox_test.ts).
 */
const _FILES = { files: { root: tmpdir() } };

/** What a graph run produced. */
export interface GraphRun {
  /** Values taken by each `test/Sink` process, by process name. */
  sinks: Record<string, unknown[]>;
  /** The network's error events. */
  errors: ProcessError[];
  /** The final state. */
  state: string;
  /** The network, for stats. */
  net: Network;
}

/**
 * Runs .fbp text with the built-ins plus `test/Sink` (keeps what it takes,
 * by process name) and `extra` components, until it finishes; stops it and
 * fails after `timeoutMs`.
 */
export async function runGraph(
  text: string,
  options: {
    extra?: Component[];
    timeoutMs?: number;
    onSink?: (process: string, value: unknown, net: Network) => void;
  } = {},
): Promise<GraphRun> {
  const sinks: Record<string, unknown[]> = {};
  const box: { net?: Network } = {};
  const registry = builtins(_FILES).register(defineComponent({
    name: "test/Sink",
    description: "Keeps every message, by process name.",
    inPorts: { in: { description: "Messages to keep." } },
    process(value, ctx) {
      (sinks[ctx.process] ??= []).push(value);
      options.onSink?.(ctx.process, value, box.net!);
    },
  }));
  for (const c of options.extra ?? []) registry.register(c);
  const net = box.net = createNetwork(text, {
    registry,
  });
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  await net.start();
  const timeoutMs = options.timeoutMs ?? 5000;
  const state = await finishedWithin(net, timeoutMs);
  if (state === "timeout") {
    assert.fail(
      `the graph did not finish within ${timeoutMs} ms; sinks: ${
        JSON.stringify(sinks)
      }`,
    );
  }
  return { sinks, errors, state, net };
}

/** The problems `validateGraph` finds in .fbp text, against the built-ins. */
export function problemsOf(text: string): string[] {
  return validateGraph(loadGraph(text), builtins(_FILES))
    .map((p) => p.message);
}
