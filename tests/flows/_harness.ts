/**
 * The flow manager tests' harness: a manager over an in-memory (or file) store with test components, and the checks its tests share.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtins } from "../../src/components/mod.ts";
import { type Component, defineComponent } from "../../src/engine/component.ts";
import type { Registry } from "../../src/engine/registry.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { until } from "../engine/_helpers.ts";

export const SLOW = { timeout: 30_000 };

/** Generous: the machine is shared, and nothing here is a timing claim. */
export const WAIT = 15_000;

/** A sink named `name` that keeps what it gets in `into`. */
export function collect(name: string, into: unknown[]): Component {
  return defineComponent({
    name,
    description: "Keeps what it gets.",
    inPorts: { in: {} },
    process(v) {
      into.push(v);
    },
  });
}

/** Builds, but its setup fails: the network cannot start. */
export const FailStart = defineComponent({
  name: "test/FailStart",
  description: "Cannot start.",
  inPorts: { in: {} },
  setup() {
    throw new Error("no device at /dev/ttyUSB0");
  },
  process() {},
});

/** Fails every message. */
export const Throw = defineComponent({
  name: "test/Throw",
  description: "Fails every message.",
  inPorts: { in: {} },
  process(v) {
    throw new Error(`cannot handle ${v}`);
  },
});

export const ticking = (sink = "test/Sink") =>
  `'5ms' -> interval Tick(core/Interval) out -> in Sink(${sink})`;

export const NO_START = "'1' -> in Bad(test/FailStart)";

export interface Harness {
  flows: FlowManager;
  store: FlowStore;
  collector: MetricsCollector;
  logs: string[];
  got: unknown[];
  got2: unknown[];
}

export function registryOf(got: unknown[], got2: unknown[]): Registry {
  return builtins()
    .register(collect("test/Sink", got))
    .register(collect("test/Sink2", got2))
    .register(FailStart)
    .register(Throw);
}

export async function harness(
  options: { path?: string; registry?: Registry; drainTimeoutMs?: number } = {},
): Promise<Harness> {
  const got: unknown[] = [];
  const got2: unknown[] = [];
  const store = FlowStore.open(options.path ?? ":memory:");
  const collector = new MetricsCollector();
  const logs: string[] = [];
  const flows = new FlowManager({
    store,
    registry: options.registry ?? registryOf(got, got2),
    collector,
    drainTimeoutMs: options.drainTimeoutMs ?? 5000,
    log: (line) => logs.push(line),
  });
  await flows.restore();
  return { flows, store, collector, logs, got, got2 };
}

/** What a failed operation must leave as it was. */
export function snapshot(h: Harness) {
  return {
    flows: h.flows.list(),
    stored: h.store.list(),
    tracked: h.collector.flows.sort(),
    readiness: h.flows.readiness(),
  };
}

/** Resolves once `into` has grown by `n` from now: the flow still runs. */
export function grows(into: unknown[], n = 3): Promise<void> {
  const from = into.length;
  return until(() => into.length >= from + n, WAIT);
}

/** The count of ticks the flow's current network has sent. */
export function ticks(h: Harness, id: string): number {
  const tick = h.flows.stats(id).processes.find((p) => p.name === "Tick");
  return tick?.messagesOut.out ?? -1;
}

export async function operations(
  collector: MetricsCollector,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const re =
    /^weir_flow_operations_total\{operation="(\w+)",result="(\w+)"\} (\d+)$/gm;
  for (const m of (await collector.render()).matchAll(re)) {
    if (m[3] !== "0") out[`${m[1]} ${m[2]}`] = Number(m[3]);
  }
  return out;
}

export async function rejects<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
  check: (e: T) => void = () => {},
): Promise<T> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof type,
    `expected a ${type.name}, received ${caught}`,
  );
  check(caught);
  return caught;
}

export function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "weir-flows-"));
  return {
    dir,
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}
