/**
 * weir's flow-based-programming engine: components and their registry,
 * the network spec, the {@linkcode Network} that runs it (bounded
 * connections with overflow policies, IIPs, drain, deadlock detection,
 * retries, timeouts and circuit breakers) and its statistics. It knows
 * nothing of HTTP, prom-client, Deno or Bun.
 *
 * The engine builds from a {@linkcode NetworkSpec}; to build from `.fbp`
 * text or fbp-graph JSON, see `weir/graph` or the root's `createNetwork`.
 *
 * @example Two processes and a connection, wired by hand
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineComponent, Network, Registry } from "./mod.ts";
 *
 * const seen: unknown[] = [];
 * const registry = new Registry()
 *   .register(defineComponent({
 *     name: "my/Double",
 *     description: "Doubles a number.",
 *     inPorts: { in: { type: "number" } },
 *     outPorts: { out: { type: "number" } },
 *     process(value, ctx) {
 *       ctx.send("out", value * 2);
 *     },
 *   }))
 *   .register(defineComponent({
 *     name: "my/Keep",
 *     description: "Keeps what it receives.",
 *     inPorts: { in: {} },
 *     process(value) {
 *       seen.push(value);
 *     },
 *   }));
 * const net = new Network({
 *   name: "doubles",
 *   processes: [
 *     { name: "Double", component: registry.get("my/Double")! },
 *     { name: "Keep", component: registry.get("my/Keep")! },
 *   ],
 *   connections: [{
 *     from: { process: "Double", port: "out" },
 *     to: { process: "Keep", port: "in" },
 *   }],
 *   initials: [{ data: 21, to: { process: "Double", port: "in" } }],
 * });
 * await net.start();
 * assert.equal(await net.finished, "finished");
 * assert.deepEqual(seen, [42]);
 * ```
 *
 * @module
 */
export {
  checkPortValue,
  type Component,
  type ComponentSpec,
  type Context,
  defineComponent,
  END,
  type InPortSpec,
  type InPortValues,
  isComponent,
  type OutPort,
  type OutPortSpec,
  type OutPortValues,
  parseDuration,
  PORT_TYPES,
  type PortType,
  type PortValue,
  type PortValueMap,
  type ProcessProblem,
  type ProcessSettings,
} from "./component.ts";
export {
  checkMeterSpecs,
  Meter,
  type MeterLabel,
  type MeterSpec,
  ProcessMeters,
  sameMeter,
} from "./meters.ts";
export { closestName, Registry } from "./registry.ts";
export {
  type CircuitBreakerSpec,
  type ConnectionSpec,
  DEFAULT_CAPACITY,
  type ExportSpec,
  type InitialSpec,
  type NetworkSpec,
  OVERFLOW_POLICIES,
  type OverflowPolicy,
  type PortRef,
  type ProcessSpec,
  type RetrySpec,
} from "./spec.ts";
export { Network, type NetworkOptions, type NetworkState } from "./network.ts";
export {
  type ConnectionStats,
  DROP_REASONS,
  type DropReason,
  type NetworkStats,
  type ProcessStats,
} from "./stats.ts";
export type { DeadlockReport, StuckProcess } from "./deadlock.ts";
export type { DrainResult } from "./drain.ts";
export type { Listener, NetworkEvents, StallReport } from "./events.ts";
export { activationCells, nextActivationId, stallSince } from "./activation.ts";
export type { BreakerState } from "./breaker.ts";
export type { ProcessPhase } from "./process.ts";
export {
  BudgetError,
  type BudgetLimit,
  ERROR_KINDS,
  type ErrorKind,
  OverflowError,
  ProcessError,
  type ReportLevel,
} from "./errors.ts";
export {
  DURATION_BUCKETS,
  Histogram,
  type HistogramSnapshot,
} from "./histogram.ts";
