/**
 * weir: an embeddable flow-based-programming engine with first-class
 * Prometheus metrics, for Deno and Bun.
 *
 * Build a network from a `.fbp` text, fbp-graph JSON or code, define your
 * own components, run it, and read its statistics:
 *
 * ```ts
 * import { builtins, createNetwork, defineComponent } from "./mod.ts";
 *
 * const seen: unknown[] = [];
 * const registry = builtins().register(defineComponent({
 *   name: "my/Collect",
 *   description: "Keeps every reading.",
 *   inPorts: { in: {} },
 *   process(value) {
 *     seen.push(value);
 *   },
 * }));
 * const net = createNetwork(`
 *   '10ms' -> interval Tick(core/Interval)
 *   3 -> count Tick
 *   '$ * 2' -> expr Double(flow/Map)
 *   Tick out -> (50) in Double out -> in Keep(my/Collect)
 * `, { registry });
 * await net.start();
 * await net.finished;
 * seen; // [0, 2, 4]
 * net.stats().processes.find((p) => p.name === "Double")?.messagesIn.in; // 3
 * ```
 *
 * Export its metrics to Prometheus: a `MetricsCollector` reads the flows it
 * tracks when a scrape asks, and `metricsApp()` is a Hono app that serves
 * `GET /metrics` (mount it in your own app, or serve it as it is):
 *
 * ```ts
 * import { createNetwork, MetricsCollector, metricsApp } from "./mod.ts";
 *
 * const metrics = new MetricsCollector();
 * const net = createNetwork(`
 *   '10ms' -> interval Tick(core/Interval)
 *   3 -> count Tick
 *   Tick out -> in Drop(core/Drop)
 * `, { name: "ticks" });
 * metrics.track(net);
 * await net.start();
 * await net.finished;
 * const res = await metricsApp(metrics).request("/metrics");
 * res.headers.get("content-type"); // "text/plain; version=0.0.4; charset=utf-8"
 * (await res.text()).includes('weir_process_messages_total{flow="ticks",process="Drop",port="in",direction="in"} 3'); // true
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
  type OutPort,
  type OutPortSpec,
  parseDuration,
  PORT_TYPES,
  type PortType,
} from "./src/engine/component.ts";
export { closestName, Registry } from "./src/engine/registry.ts";
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
} from "./src/engine/spec.ts";
export {
  type ConnectionStats,
  type DeadlockReport,
  type DrainResult,
  DROP_REASONS,
  type DropReason,
  type Listener,
  Network,
  type NetworkEvents,
  type NetworkOptions,
  type NetworkState,
  type NetworkStats,
  type ProcessStats,
  type StuckProcess,
} from "./src/engine/network.ts";
export type { BreakerState, ProcessPhase } from "./src/engine/process.ts";
export {
  ERROR_KINDS,
  type ErrorKind,
  OverflowError,
  ProcessError,
} from "./src/engine/errors.ts";
export {
  DURATION_BUCKETS,
  Histogram,
  type HistogramSnapshot,
} from "./src/engine/histogram.ts";
export * from "./src/graph/mod.ts";
export * from "./src/components/mod.ts";
export { createNetwork, type CreateNetworkOptions } from "./src/embed.ts";
export * from "./src/metrics/mod.ts";
export * from "./src/flows/mod.ts";
export * from "./src/server/mod.ts";
export {
  type FetchHandler,
  serve,
  type ServeOptions,
  type Server,
} from "./src/runtime/serve.ts";
export type { ServerConnections } from "./src/runtime/connections.ts";
export { onShutdown, type ShutdownSignal } from "./src/runtime/signals.ts";
export { resourceSource } from "./src/runtime/resources.ts";
