/**
 * weir's HTTP surface as Hono apps to serve on their own or mount in a
 * host app: {@linkcode flowApp} is the flow server (the flow API over a
 * {@linkcode FlowManager} whose flows persist in a {@linkcode FlowStore},
 * health, version, components, `/metrics`, behind scoped bearer tokens);
 * {@linkcode metricsApp} serves `GET /metrics` (Prometheus text 0.0.4 or
 * OpenMetrics, gzip when accepted, a cap on concurrent scrapes) and
 * `GET /api/v1/metadata` alone.
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
export { metricsApp, type MetricsAppOptions } from "./metrics_app.ts";
export { DEFAULT_MAX_BODY_BYTES, flowApp, type FlowAppOptions } from "./app.ts";
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
export {
  type FlowEvent,
  type FlowInfo,
  type FlowInput,
  type FlowLogLevel,
  FlowManager,
  FlowManagerClosedError,
  type FlowManagerOptions,
  FlowStartError,
} from "./flows.ts";
export {
  FlowConflictError,
  FlowNotFoundError,
  FlowStore,
  type FlowStoreOptions,
  type StoredFlow,
} from "./store.ts";
