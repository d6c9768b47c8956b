/**
 * weir's HTTP surface as Hono apps to serve on their own or mount in a
 * host app: {@linkcode metricsApp} serves `GET /metrics` (Prometheus text
 * 0.0.4 or OpenMetrics, gzip when accepted, a cap on concurrent scrapes)
 * and `GET /api/v1/metadata`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { metricsApp } from "./mod.ts";
 *
 * const source = {
 *   render: () => Promise.resolve("up 1\n"),
 *   metadata: () => ({}),
 * };
 * const host = new Hono().route("/", metricsApp(source));
 * (await host.request("/metrics")).status; // 200
 * ```
 *
 * @module
 */
export { metricsApp, type MetricsAppOptions } from "./metrics_app.ts";
