/**
 * weir's HTTP surface as Hono apps to serve on their own or mount in a
 * host app: {@linkcode flowApp} is the flow server (the flow API over a
 * `FlowManager` from `src/flows`, health, version, components, `/metrics`,
 * behind scoped bearer tokens), joined from route groups that can also be
 * mounted one by one; {@linkcode metricsApp} serves `GET /metrics`
 * (Prometheus text 0.0.4 or OpenMetrics, gzip when accepted, a cap on
 * concurrent scrapes) and `GET /api/v1/metadata` alone;
 * {@linkcode queryRoutes} serves the Prometheus query API (`/api/v1/query`,
 * `/query_range`, `/series`, `/labels`, ...) over a metric history;
 * {@linkcode errorHandler} is the one table from domain error to status.
 * The flow domain (`FlowManager`, `FlowStore` and their errors) is
 * `weir/flows`; the root re-exports the manager and the store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { metricsApp } from "./mod.ts";
 *
 * const source = {
 *   render: () => Promise.resolve("up 1\n"),
 *   metadata: () => ({}),
 * };
 * const host = new Hono().route("/", metricsApp(source));
 * const res = await host.request("/metrics");
 * assert.equal(res.status, 200);
 * assert.equal(await res.text(), "up 1\n");
 * ```
 *
 * @module
 */
export { accessGuard } from "./access_guard.ts";
export {
  Access,
  type AccessOptions,
  type AccessResult,
  isLoopback,
  MIN_TOKEN_LENGTH,
  parseTokenSpec,
  type Scope,
  SCOPES,
  type TokenGrant,
} from "./auth.ts";
export { componentRoutes } from "./component_routes.ts";
export { dashboardRoutes } from "./dashboard_routes.ts";
export {
  ERROR_STATUS,
  errorHandler,
  type InternalErrorListener,
  statusOf,
} from "./error_handler.ts";
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_BODY_DEPTH,
  flowApp,
  type FlowAppOptions,
} from "./flow_app.ts";
export { flowRoutes, type FlowRoutesOptions } from "./flow_routes.ts";
export { healthRoutes } from "./health_routes.ts";
export { HttpError } from "./http_error.ts";
export { metricsApp, type MetricsAppOptions } from "./metrics_app.ts";
export {
  type QueryEngine,
  queryRoutes,
  type QueryRoutesOptions,
} from "./query_routes.ts";
