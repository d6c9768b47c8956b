/**
 * weir: an embeddable flow-based-programming engine with first-class
 * Prometheus metrics, for Deno and Bun.
 *
 * The root holds what an embedding app needs in its first hour: build a
 * network from `.fbp` text, fbp-graph JSON or code, define components, run
 * it, export its metrics, serve weir's Hono apps. The rest lives behind
 * subpaths, each a folder's `mod.ts`: `weir/engine` (the network, specs,
 * statistics types, errors), `weir/graph` (formats, validation, subgraphs),
 * `weir/components` (the built-in components one by one), `weir/metrics`
 * (the catalogue, options, HTTP and resource metrics), `weir/history`
 * (the on-device metric history: `History`, its store and sampler; kept
 * out of the root, as an app attaches it to a collector when it wants
 * one, and `flowApp` reads any `HistoryReader`), `weir/server` (the Hono
 * apps, access tokens, the error table), `weir/flows` (the flow
 * manager, its SQLite store and their errors) and `weir/runtime` (serving
 * and signals on Deno and Bun).
 *
 * Build a network, define your own component, run it, and read its
 * statistics:
 *
 * ```ts
 * import assert from "node:assert/strict";
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
 * assert.equal(await net.finished, "finished");
 * assert.deepEqual(seen, [0, 2, 4]);
 * const double = net.stats().processes.find((p) => p.name === "Double");
 * assert.equal(double?.messagesIn.in, 3);
 * ```
 *
 * A bad graph is refused before anything runs, with every problem at once:
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createNetwork, GraphError } from "./mod.ts";
 *
 * assert.throws(
 *   () => createNetwork("Tick out -> in Log(core/Ouptut)", { file: "a.fbp" }),
 *   (e) => e instanceof GraphError && /did you mean "core\/Output"/.test(e.message),
 * );
 * ```
 *
 * Export its metrics to Prometheus: a `MetricsCollector` reads the flows it
 * tracks when a scrape asks, and `metricsApp()` is a Hono app that serves
 * `GET /metrics` (mount it in your own app, or serve it as it is):
 *
 * ```ts
 * import assert from "node:assert/strict";
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
 * assert.equal(
 *   res.headers.get("content-type"),
 *   "text/plain; version=0.0.4; charset=utf-8",
 * );
 * assert.match(
 *   await res.text(),
 *   /^weir_process_messages_total\{flow="ticks",process="Drop",port="in",direction="in"\} 3$/m,
 * );
 * ```
 *
 * @module
 */
export { createNetwork, type CreateNetworkOptions } from "./src/embed.ts";
export {
  type Component,
  type ComponentSpec,
  type Context,
  defineComponent,
  END,
  Network,
  type NetworkOptions,
  type NetworkState,
  type NetworkStats,
  ProcessError,
  type ProcessStats,
  Registry,
} from "./src/engine/mod.ts";
export {
  buildNetworkSpec,
  type Graph,
  GraphBuilder,
  GraphError,
  loadGraph,
  type LoadGraphOptions,
  parseFbp,
  parseGraphJson,
  type Problem,
} from "./src/graph/mod.ts";
export { builtins } from "./src/components/mod.ts";
export {
  connectionMetrics,
  httpMetrics,
  httpMetricsFetch,
  MetricsCollector,
  type MetricsOptions,
  ResourceTracker,
} from "./src/metrics/mod.ts";
export {
  flowApp,
  type FlowAppOptions,
  metricsApp,
  type MetricsAppOptions,
} from "./src/server/mod.ts";
export {
  FlowManager,
  type FlowManagerOptions,
  FlowStore,
} from "./src/flows/mod.ts";
export {
  onShutdown,
  resourceSource,
  serve,
  type ServeOptions,
  type Server,
} from "./src/runtime/mod.ts";
