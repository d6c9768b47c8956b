/**
 * The flow server's Hono app: health, version, the component catalogue,
 * `/metrics` and the flow API, each a route group joined with
 * `app.route()`, behind bearer-token access.
 *
 * Every error is a JSON body `{ "error": "..." }` (with `problems` for an
 * invalid graph), made in one place (`errorHandler`); no stack trace ever
 * leaves the server.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import type { Registry } from "../engine/registry.ts";
import type { FlowManager } from "../flows/flow_manager.ts";
import type { HistoryReader } from "../history/types.ts";
import type { MetricsCollector } from "../metrics/collector.ts";
import { _guardMiddleware, _mountGuarded, type Guard } from "./_guard.ts";
import { _notFound } from "./_not_found.ts";
import {
  accessCheck,
  accessGuard,
  type ClientAddress,
} from "./access_guard.ts";
import { Access, type AccessOptions } from "./auth.ts";
import { componentRoutes } from "./component_routes.ts";
import { crossSiteCheck } from "./cross_site_guard.ts";
import { dashboardRoutes } from "./dashboard_routes.ts";
import type { OutputHub } from "../flows/output_hub.ts";
import {
  errorHandler,
  type InternalErrorListener,
  logInternalError,
} from "./error_handler.ts";
import { flowRoutes } from "./flow_routes.ts";
import { healthRoutes } from "./health_routes.ts";
import { httpInRoutes } from "./http_in_routes.ts";
import type { HttpInRouter } from "../components/http_in_router.ts";
import { hostCheck } from "./host_guard.ts";
import { metricsApp } from "./metrics_app.ts";
import { queryRoutes } from "./query_routes.ts";
import { DEFAULT_MAX_BODY_DEPTH } from "./_request.ts";
import type { EventStreamLimits, EventStreamLog } from "./_flow_events.ts";

export { DEFAULT_MAX_BODY_DEPTH };

/** Options of {@linkcode flowApp}. */
export interface FlowAppOptions {
  /** The flows the API manages. */
  flows: FlowManager;
  /** The collector `/metrics` renders. */
  metrics: MetricsCollector;
  /** The component catalogue `GET /components` lists. */
  components: Registry;
  /** Who may do what (tokens, and whether the server is exposed). Default: open, loopback. */
  access?: Access | AccessOptions;
  /**
   * Host names besides the loopback ones that a loopback server answers
   * to (see `hostGuard`). A server whose `access` is not exposed refuses
   * any other `Host` with 421, against DNS rebinding; an exposed one
   * answers to any name. Default none.
   */
  allowedHosts?: readonly string[];
  /**
   * The client address of a request (e.g. the runtime server's
   * `remoteAddress`), by which failed token attempts are counted. Default:
   * unknown, so every client shares one count.
   */
  clientAddress?: ClientAddress;
  /** The largest request body accepted (bytes); larger ones get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * How deep a JSON request body (a graph, a merge patch) may nest
   * (objects and arrays within each other); a deeper one gets 400 before
   * it is parsed. Default {@linkcode DEFAULT_MAX_BODY_DEPTH} (64).
   */
  maxBodyDepth?: number;
  /**
   * How long a request may take (ms), its body included: a client that
   * sends its body slower gets 408, a handler that takes longer 503.
   * Event streams are not limited. Default 30000.
   */
  requestTimeoutMs?: number;
  /** How often `GET /flows/:id/events` sends a `stats` event (ms), unless the request asks (`?interval=`). Default 1000. */
  eventsIntervalMs?: number;
  /**
   * Bounds of `GET /flows/:id/events`: per client, the size of a `stats`
   * snapshot (a bigger one is cut and says so), the unread bytes and the
   * time without reading before a client is dropped; per server, the
   * streams open at once (503 beyond). Defaults in
   * `DEFAULT_EVENT_STREAM_LIMITS` (256 KiB, 1 MiB, 60 s, 64).
   */
  eventStreams?: EventStreamLimits;
  /**
   * The operator's log, for what the server does on its own (an event
   * stream client dropped). Default `console.warn`.
   */
  log?: EventStreamLog;
  /** Middleware run before every route, e.g. the HTTP metrics. Default none. */
  middleware?: readonly MiddlewareHandler[];
  /** Passed to the metrics app. Default 32. */
  maxConcurrentScrapes?: number;
  /**
   * Aborting it ends every event stream (a server that shuts down must not
   * wait for its SSE clients to leave). Default: none.
   */
  signal?: AbortSignal;
  /**
   * Told of each request that failed with an internal error (answered 500
   * with a request id), with the error. Default: `console.error`.
   */
  onInternalError?: InternalErrorListener;
  /**
   * The `core/Output` lines of each flow (the hub the components write
   * through: `builtins({ output: hub.wrap(...) })`), sent by
   * `GET /flows/:id/tap`. Default: none, and a tap carries messages only.
   */
  outputs?: OutputHub;
  /** Taps open at once (`GET /flows/:id/tap`); more get 429. Default 32. */
  maxTaps?: number;
  /**
   * The metric history that the Prometheus query API (`/api/v1/query`,
   * `/query_range`, `/series`, `/labels`, `/label/:name/values`) reads,
   * behind the `read` scope. Default: none, and those paths answer 404.
   */
  history?: HistoryReader;
  /**
   * The routes flows serve with `http/In` (the router given to the
   * components too: `builtins({ httpIn })`), answered under
   * `/in/<flow>/<path>` behind the `in` scope. Default: none, and those
   * paths answer 404.
   */
  httpIn?: HttpInRouter;
}

/** Default of {@linkcode FlowAppOptions.maxBodyBytes}: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const FLOW_APP_OPTIONS = optionKeys<FlowAppOptions>()([
  "flows",
  "metrics",
  "components",
  "access",
  "allowedHosts",
  "clientAddress",
  "maxBodyBytes",
  "maxBodyDepth",
  "requestTimeoutMs",
  "eventsIntervalMs",
  "eventStreams",
  "log",
  "middleware",
  "maxConcurrentScrapes",
  "signal",
  "onInternalError",
  "outputs",
  "maxTaps",
  "history",
  "httpIn",
]);

/**
 * The flow server's Hono app. Mount it, or serve its `fetch`. An internal
 * error anywhere is a logged 500 whose body and `X-Request-Id` header name
 * its request id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtins } from "../components/mod.ts";
 * import { FlowManager, FlowStore } from "../flows/mod.ts";
 * import { MetricsCollector } from "../metrics/collector.ts";
 * import { flowApp } from "./flow_app.ts";
 *
 * const metrics = new MetricsCollector();
 * const components = builtins();
 * const flows = new FlowManager({
 *   store: FlowStore.open(":memory:"),
 *   registry: components,
 *   collector: metrics,
 * });
 * const app = flowApp({ flows, metrics, components });
 * const res = await app.request("/flows", {
 *   method: "POST",
 *   headers: { "Content-Type": "text/vnd.fbp" },
 *   body: "# @name hello\n'1s' -> interval Tick(core/Interval) out -> in Out(core/Drop)",
 * });
 * assert.equal(res.status, 201);
 * assert.equal((await app.request("/flows/nope")).status, 404);
 * await flows.close();
 * ```
 */
export function flowApp(options: FlowAppOptions): Hono {
  checkOptionKeys("Cannot build the flow app", options, FLOW_APP_OPTIONS);
  const { flows, metrics, components } = options ?? {};
  // Checked here, by what each is used for: a missing one would otherwise
  // fail deep inside a route, or only at the first request.
  _required(flows, "flows", "a FlowManager", "subscribe");
  _required(metrics, "metrics", "a MetricsCollector", "render");
  _required(components, "components", "a Registry (builtins())", "names");
  const access = options.access instanceof Access
    ? options.access
    : new Access(options.access);
  const maxBodyBytes = _positiveInt(
    options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    "maxBodyBytes",
  );
  const maxBodyDepth = _positiveInt(
    options.maxBodyDepth ?? DEFAULT_MAX_BODY_DEPTH,
    "maxBodyDepth",
  );
  const requestTimeoutMs = _positiveInt(
    options.requestTimeoutMs ?? 30_000,
    "requestTimeoutMs",
  );
  const eventsIntervalMs = _positiveInt(
    options.eventsIntervalMs ?? 1000,
    "eventsIntervalMs",
  );
  const onInternalError = options.onInternalError ?? logInternalError;
  const app = new Hono();
  for (const m of options.middleware ?? []) app.use(m);
  // The checks run inside each route's handler (see _guard.ts), so that a
  // request matches one handler and stays on Hono's fast path.
  const host: Guard[] = access.exposed
    ? []
    : [hostCheck({ allowedHosts: options.allowedHosts })];
  const clientAddress = options.clientAddress;

  // No `hono/request-id` on every request: it cost the flow routes about
  // 6% of their throughput (bench/versus.ts serve, Bun). The error handler
  // gives a 500 an id of its own (or the one that middleware set, for an
  // app that mounts it in front).
  _mountGuarded(app, "/", healthRoutes(flows), host);
  // The metrics app answers its own errors: joined with middleware.
  // The metadata also with `read`: a query API client (Grafana's metric
  // browser) holds a read token, and it already reads every series.
  for (
    const [path, scopes] of [
      ["/metrics", ["metrics"]],
      ["/api/v1/metadata", ["metrics", "read"]],
    ] as const
  ) {
    for (const g of host) app.use(path, _guardMiddleware(g));
    app.use(path, accessGuard(access, scopes, clientAddress));
  }
  app.route(
    "/",
    metricsApp(metrics, { maxConcurrentScrapes: options.maxConcurrentScrapes }),
  );
  _mountGuarded(app, "/components", componentRoutes(components), [
    ...host,
    accessCheck(access, "read", clientAddress),
  ]);
  _mountGuarded(
    app,
    "/",
    dashboardRoutes(access, {
      guard: accessCheck(access, "read", clientAddress),
      history: options.history !== undefined,
      namespace: metrics.options.namespace,
    }),
    host,
  );
  _mountGuarded(
    app,
    "/flows",
    flowRoutes({
      flows,
      maxBodyBytes,
      maxBodyDepth,
      requestTimeoutMs,
      eventsIntervalMs,
      signal: options.signal,
      eventStreams: options.eventStreams,
      outputs: options.outputs,
      maxTaps: options.maxTaps === undefined
        ? undefined
        : _positiveInt(options.maxTaps, "maxTaps"),
      log: options.log,
    }),
    // The cross-site check first: a page's request is refused before a
    // token is looked at (and never counts as a failed attempt).
    [...host, crossSiteCheck(), accessCheck(access, "auto", clientAddress)],
  );
  if (options.httpIn !== undefined) {
    // No cross-site check: a flow's routes are its own API, posted to by
    // forms and webhooks; the `in` scope guards them.
    _mountGuarded(
      app,
      "/",
      httpInRoutes(options.httpIn, {
        flowState: (id) => {
          try {
            return flows.get(id).state;
          } catch {
            return undefined;
          }
        },
      }),
      [...host, accessCheck(access, "in", clientAddress)],
    );
  }
  if (options.history !== undefined) {
    // The query API answers its own errors: joined with middleware.
    app.route(
      "/",
      queryRoutes(options.history, {
        middleware: [
          ...host.map(_guardMiddleware),
          accessGuard(access, "read", clientAddress),
        ],
        maxBodyBytes,
        bodyTimeoutMs: requestTimeoutMs,
        onInternalError,
      }),
    );
  }
  app.notFound(_notFound(app, host));
  app.onError(errorHandler(onInternalError));
  return app;
}

function _required(
  value: unknown,
  name: string,
  what: string,
  method: string,
): void {
  if (
    typeof value !== "object" || value === null ||
    typeof Reflect.get(value, method) !== "function"
  ) {
    throw new TypeError(
      `Cannot create the flow app: options.${name} must be ${what}, received ${
        value === null ? "null" : typeof value
      }`,
    );
  }
}

function _positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new RangeError(
      `Cannot create the flow app: ${name} must be a positive integer up to 2^31-1, received ${value}`,
    );
  }
  return value;
}
