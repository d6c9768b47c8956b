/**
 * HTTP server metrics for a Hono app: {@linkcode httpMetrics} is a
 * middleware that counts and times every request by method, route pattern
 * and status, with request and response sizes and the requests in flight;
 * {@linkcode connectionMetrics} adds the open connections and connection
 * ages of a server that can tell them (weir's `serve()` can).
 *
 * The request path does no prom-client work and allocates no label set: it
 * adds into plain records (a count and {@linkcode Histogram}s) found by
 * route, method and status, which the collector reads at scrape time.
 *
 * Labels stay bounded:
 * - `route` is the pattern of the route that answered (`/flows/:id`, with
 *   the prefix of a sub-app mounted with `app.route()`), never the raw
 *   path; a 404 that no route answered (the last route matched was a
 *   middleware, `app.use()`, or any route registered for every method)
 *   is `unmatched`.
 * - `method` is one of {@linkcode HTTP_METHODS}; any other is `OTHER`.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import {
  checkBuckets,
  DURATION_BUCKETS,
  Histogram,
} from "../engine/histogram.ts";
import { utf8Length } from "../engine/size.ts";
import { HTTP_METHODS, HTTP_METRICS } from "./catalogue.ts";
import {
  captureMatches,
  type MatchResult,
  type RouteInfo,
} from "./_hono_internals.ts";
import type { MetricsCollector } from "./collector.ts";
import { monotonicMs } from "../runtime/clock.ts";
import { requestHeader } from "../runtime/request_header.ts";

/**
 * Default bucket bounds for request and response sizes, in bytes: powers
 * of 4 from 64 B to 16 MiB.
 */
export const SIZE_BUCKETS: readonly number[] = [
  64,
  256,
  1024,
  4096,
  16384,
  65536,
  262144,
  1048576,
  4194304,
  16777216,
];

/** The `route` label of a request no route answered. */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * What a server tells about its connections (weir's `serve()` returns one
 * as `server.connections`).
 */
export interface ConnectionSource {
  /**
   * The connections open now, or `null` when the server cannot tell (the
   * metrics are then left out of the scrape).
   */
  open(): number | null;
  /**
   * Calls `listener` with the age in seconds of each connection that
   * closes; returns the function that stops it.
   */
  onClose(listener: (ageSeconds: number) => void): () => void;
}

/** Options of {@linkcode httpMetrics}. */
export interface HttpMetricsOptions {
  /**
   * Where the open connections and their ages come from; passed to
   * {@linkcode connectionMetrics}. Default: none, and those two metrics
   * are not exported (they can be added later with `connectionMetrics`,
   * once the server listens).
   */
  connections?: ConnectionSource;
  /**
   * Bucket bounds of `http_request_duration_seconds`, in seconds. Default
   * {@linkcode DURATION_BUCKETS} (10 µs to 10 s).
   */
  buckets?: readonly number[];
  /**
   * Bucket bounds of the request and response sizes, in bytes. Default
   * {@linkcode SIZE_BUCKETS}.
   */
  sizeBuckets?: readonly number[];
}

const HTTP_METRICS_OPTIONS = optionKeys<HttpMetricsOptions>()([
  "connections",
  "buckets",
  "sizeBuckets",
]);

/** The middleware {@linkcode httpMetrics} returns. */
export interface HttpMetricsMiddleware extends MiddlewareHandler {
  /** Takes its metrics out of the collector (the middleware keeps counting). */
  remove(): void;
}

type Labels = Record<string, string>;

/** One method, route and status: its count and durations. */
interface StatusRecord {
  labels: Labels;
  count: number;
  duration: Histogram;
  /**
   * Responses in a row whose size was unknown (no `Content-Length`), up
   * to {@linkcode SIZELESS_AFTER}; from there only every
   * {@linkcode SIZELESS_RECHECK}th response is looked at.
   */
  sizeless: number;
}

/**
 * After this many responses in a row without `Content-Length`, a method,
 * route and status is taken to send none: reading a response's headers
 * costs about 5 % of a trivial route's requests/s (Deno and Bun make the
 * `Headers` object on demand).
 */
const SIZELESS_AFTER = 64;
/** How often such a record's responses are looked at again (a power of 2). */
const SIZELESS_RECHECK = 64;

/** One method and route: its sizes and its statuses. */
interface MethodRecord {
  labels: Labels;
  requestSize: Histogram;
  responseSize: Histogram;
  statuses: Map<number, StatusRecord>;
}

/** Method name to index; no prototype, so any name is safe to look up. */
const METHOD_INDEX: Readonly<Record<string, number | undefined>> = Object
  .assign(
    Object.create(null),
    Object.fromEntries(HTTP_METHODS.map((m, i) => [m, i])),
  );
const OTHER = HTTP_METHODS.indexOf("OTHER");
const HEAD = HTTP_METHODS.indexOf("HEAD");
const GET = HTTP_METHODS.indexOf("GET");

/**
 * A Hono middleware that measures every request that reaches it, and
 * registers `http_requests_total`, `http_request_duration_seconds`,
 * `http_request_size_bytes`, `http_response_size_bytes` and
 * `http_requests_in_flight` in `collector` (names without a namespace).
 * Mount it first (`app.use(httpMetrics(collector))`) so that it sees
 * every request, the ones other middleware answer too.
 *
 * A request's duration runs from the middleware to the response's headers
 * (a streamed body is not waited for). A handler's error is counted with
 * the status of the response `app.onError` makes of it. Sizes:
 * the size given with {@linkcode noteBodySize} for a response, else
 * `Content-Length` when the message has one, else 0 for a request with no
 * body (a `GET` or `HEAD` is taken to have none) or the bytes the handler
 * read through Hono (`c.req.text()`,
 * `json()`, `arrayBuffer()`, `blob()`), and 0 for a response to `HEAD` or
 * with status 1xx, 204 or 304; other sizes are unknown and not observed
 * (Hono's `c.text()` and `c.json()` set no `Content-Length`: the runtime
 * adds it when it writes). After 64 responses in a row of unknown size, a
 * method, route and status is looked at only every 64th response until
 * one has `Content-Length` again.
 *
 * Throws an `Error` when the collector has these metrics already, and a
 * `RangeError` for bad buckets.
 *
 * @example Count the requests of an app
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { MetricsCollector } from "./collector.ts";
 * import { httpMetrics } from "./http_metrics.ts";
 *
 * const collector = new MetricsCollector();
 * const app = new Hono();
 * app.use(httpMetrics(collector));
 * app.get("/flows/:id", (c) => c.text(c.req.param("id")));
 * await app.request("/flows/a");
 * await app.request("/flows/b");
 * assert.deepEqual(
 *   (await collector.render()).includes(
 *     'http_requests_total{method="GET",route="/flows/:id",status="200"} 2',
 *   ),
 *   true,
 * );
 * ```
 */
export function httpMetrics(
  collector: MetricsCollector,
  options: HttpMetricsOptions = {},
): HttpMetricsMiddleware {
  const rec = _recorder(collector, options);
  const middleware = async (c: Context, next: () => Promise<void>) => {
    const start = monotonicMs();
    rec.inFlight++;
    let failed = true;
    try {
      await next();
      failed = false;
    } finally {
      rec.inFlight--;
      const seconds = (monotonicMs() - start) / 1000;
      // An error that escaped Hono's own handling becomes a 500 upstream.
      const res = failed ? undefined : c.res;
      const status = res?.status ?? 500;
      const method = METHOD_INDEX[c.req.method] ?? OTHER;
      const m = rec.methodRecord(_route(c, status), method);
      rec.observe(m, status, seconds, res, method);
      // GET and HEAD carry no body in practice: no need to look.
      const requestSize = method === GET || method === HEAD
        ? 0
        : _requestSize(c);
      if (typeof requestSize === "number") {
        if (requestSize >= 0) m.requestSize.observe(requestSize);
      } else {
        // Only for a body without Content-Length that the handler read.
        await requestSize.then(
          (n) => n >= 0 && m.requestSize.observe(n),
          () => {},
        );
      }
    }
  };
  return Object.assign(middleware, { remove: rec.remove });
}

/** A fetch function measured by {@linkcode httpMetricsFetch}. */
export interface MeasuredFetch {
  /**
   * The app's `fetch`, measured; `env` is passed on to it (what the
   * runtime's server gives a handler: Deno's serve info, Bun's server).
   */
  (request: Request, env?: unknown): Response | Promise<Response>;
  /** Takes its metrics out of the collector (it keeps counting). */
  remove(): void;
}

/** The Hono app shape {@linkcode httpMetricsFetch} needs. */
export interface RoutedApp {
  /** Answers a request. */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
  /** The app's router (Hono's `app.router`). */
  readonly router: {
    match(method: string, path: string): MatchResult;
  };
}

/**
 * The same measurements as {@linkcode httpMetrics}, taken around a Hono
 * app's `fetch` instead of inside it: what to serve when you own the app.
 * A middleware turns every request into an asynchronous chain of
 * functions (on Bun a no-op middleware alone costs more than a trivial
 * route); this wrapper lets Hono answer on its fast path and keeps about
 * 95 % of a trivial route's requests/s (see `bench/RESULTS.md`). The route
 * pattern is the one the app's own router matched for the request (the
 * wrapper observes `app.router.match()`, see `_hono_internals.ts`).
 * Request sizes are known from `Content-Length` only (0 for a request
 * with no body).
 *
 * @example Serve an app measured
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { MetricsCollector } from "./collector.ts";
 * import { httpMetricsFetch } from "./http_metrics.ts";
 *
 * const collector = new MetricsCollector();
 * const app = new Hono();
 * app.get("/flows/:id", (c) => c.text(c.req.param("id")));
 * const fetch = httpMetricsFetch(app, collector);
 * await fetch(new Request("http://localhost/flows/a"));
 * assert.deepEqual(
 *   (await collector.render()).includes(
 *     'http_requests_total{method="GET",route="/flows/:id",status="200"} 1',
 *   ),
 *   true,
 * );
 * // Deno.serve(fetch) or Bun.serve({ fetch })
 * ```
 */
export function httpMetricsFetch(
  app: RoutedApp,
  collector: MetricsCollector,
  options: HttpMetricsOptions = {},
): MeasuredFetch {
  if (
    typeof app?.fetch !== "function" ||
    typeof app.router?.match !== "function"
  ) {
    throw new TypeError(
      "Cannot measure fetch: app must be a Hono app (fetch and router)",
    );
  }
  const rec = _recorder(collector, options);
  const matches = captureMatches(app.router);
  /** Counts and times a request that `fetch` answered with `res`. */
  const done = (
    last: RouteInfo | null,
    method: number,
    requestSize: number,
    start: number,
    res: Response | undefined,
  ) => {
    rec.inFlight--;
    const status = res === undefined ? 500 : res.status;
    const route = last === null || (status === 404 && last.method === "ALL")
      ? UNMATCHED_ROUTE
      : last.path;
    const m = rec.methodRecord(route, method);
    rec.observe(m, status, (monotonicMs() - start) / 1000, res, method);
    if (requestSize >= 0) m.requestSize.observe(requestSize);
  };
  const measured = (request: Request, env?: unknown) => {
    const start = monotonicMs();
    const method = METHOD_INDEX[request.method] ?? OTHER;
    // GET and HEAD carry no body in practice: their headers are not read
    // (on Bun, a request's headers are made only when asked for).
    let requestSize = 0;
    if (method !== GET && method !== HEAD) {
      const length = requestHeader(request, "content-length");
      requestSize = length !== null
        ? _length(length)
        : request.body === null
        ? 0
        : -1;
    }
    rec.inFlight++;
    let res: Response | Promise<Response>;
    const outer = matches.begin();
    try {
      res = app.fetch(request, env);
    } catch (e) {
      done(matches.end(outer), method, requestSize, start, undefined);
      throw e;
    }
    // Hono asked its router before anything could run asynchronously.
    const last = matches.end(outer);
    if (!(res instanceof Promise)) {
      done(last, method, requestSize, start, res);
      return res;
    }
    return res.then((r) => {
      done(last, method, requestSize, start, r);
      return r;
    }, (e) => {
      done(last, method, requestSize, start, undefined);
      throw e;
    });
  };
  return Object.assign(measured, { remove: rec.remove });
}

/** The records of one measured app, and the families that export them. */
interface Recorder {
  inFlight: number;
  methodRecord(route: string, method: number): MethodRecord;
  /** Counts and times a response; observes its size when known. */
  observe(
    m: MethodRecord,
    status: number,
    seconds: number,
    res: Response | undefined,
    method: number,
  ): void;
  remove(): void;
}

function _recorder(
  collector: MetricsCollector,
  options: HttpMetricsOptions,
): Recorder {
  checkOptionKeys("Cannot measure HTTP", options, HTTP_METRICS_OPTIONS);
  const {
    connections,
    buckets = DURATION_BUCKETS,
    sizeBuckets = SIZE_BUCKETS,
  } = options;
  checkBuckets(buckets);
  checkBuckets(sizeBuckets);
  /** By route, then by method index. */
  const routes = new Map<string, (MethodRecord | undefined)[]>();

  function* methods(): Generator<MethodRecord> {
    for (const byMethod of routes.values()) {
      for (const m of byMethod) if (m !== undefined) yield m;
    }
  }

  const rec: Recorder = {
    inFlight: 0,
    methodRecord(route, method) {
      let byMethod = routes.get(route);
      if (byMethod === undefined) {
        byMethod = new Array(HTTP_METHODS.length).fill(undefined);
        routes.set(route, byMethod);
      }
      return byMethod[method] ??= {
        labels: { method: HTTP_METHODS[method], route },
        requestSize: new Histogram(sizeBuckets),
        responseSize: new Histogram(sizeBuckets),
        statuses: new Map(),
      };
    },
    observe(m, status, seconds, res, method) {
      let s = m.statuses.get(status);
      if (s === undefined) {
        s = {
          labels: { ...m.labels, status: String(status) },
          count: 0,
          duration: new Histogram(buckets),
          sizeless: 0,
        };
        m.statuses.set(status, s);
      }
      s.count++;
      s.duration.observe(seconds);
      if (res === undefined) return;
      if (
        s.sizeless >= SIZELESS_AFTER && (s.count & (SIZELESS_RECHECK - 1)) !== 0
      ) return;
      const size = _responseSize(res, status, method === HEAD);
      if (size >= 0) {
        m.responseSize.observe(size);
        s.sizeless = 0;
      } else if (s.sizeless < SIZELESS_AFTER) s.sizeless++;
    },
    remove() {
      for (const remove of removers) remove();
    },
  };

  const removers = [
    collector.addFamily(HTTP_METRICS.httpRequests, (out) => {
      for (const m of methods()) {
        for (const s of m.statuses.values()) out.sample(s.labels, s.count);
      }
    }),
    collector.addFamily(HTTP_METRICS.httpRequestDuration, (out) => {
      for (const m of methods()) {
        for (const s of m.statuses.values()) {
          out.histogram(s.labels, s.duration);
        }
      }
    }),
    collector.addFamily(HTTP_METRICS.httpRequestSize, (out) => {
      for (const m of methods()) out.histogram(m.labels, m.requestSize);
    }),
    collector.addFamily(HTTP_METRICS.httpResponseSize, (out) => {
      for (const m of methods()) out.histogram(m.labels, m.responseSize);
    }),
    collector.addFamily(
      HTTP_METRICS.httpRequestsInFlight,
      (out) => out.sample({}, rec.inFlight),
    ),
  ];
  if (connections !== undefined) {
    removers.push(connectionMetrics(collector, connections));
  }
  return rec;
}

/**
 * Registers `http_open_connections` and `http_connection_duration_seconds`
 * in `collector`, read from `connections` (weir's `serve()` gives one as
 * `server.connections`). Both are left out of a scrape when the source
 * cannot tell (`open()` is `null`). Returns the function that takes them
 * out again and stops listening.
 *
 * @example Count the connections of a served app
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsCollector } from "./collector.ts";
 * import { connectionMetrics } from "./http_metrics.ts";
 *
 * const collector = new MetricsCollector();
 * // In weir: `(await serve(app.fetch)).connections`.
 * const connections = { open: () => 3, onClose: () => () => {} };
 * const remove = connectionMetrics(collector, connections);
 * assert.deepEqual(
 *   (await collector.render()).includes("http_open_connections 3"),
 *   true,
 * );
 * remove();
 * assert.deepEqual(
 *   (await collector.render()).includes("http_open_connections"),
 *   false,
 * );
 * ```
 */
export function connectionMetrics(
  collector: MetricsCollector,
  connections: ConnectionSource,
  options: { buckets?: readonly number[] } = {},
): () => void {
  if (
    typeof connections?.open !== "function" ||
    typeof connections?.onClose !== "function"
  ) {
    throw new TypeError(
      "Cannot add connection metrics: connections must have open() and onClose() methods",
    );
  }
  const { buckets = CONNECTION_BUCKETS } = options;
  checkBuckets(buckets);
  const ages = new Histogram(buckets);
  const stop = connections.onClose((age) => ages.observe(age));
  // One read of the sockets per scrape (a full read costs milliseconds):
  // the open connections' family reads, and reports the closes it found
  // before the ages' family (registered after it) is written.
  let readable = false;
  const removeOpen = collector.addFamily(
    HTTP_METRICS.httpOpenConnections,
    (out) => {
      const open = connections.open();
      readable = open !== null;
      if (open !== null) out.sample({}, open);
    },
  );
  const removeAges = collector.addFamily(
    HTTP_METRICS.httpConnectionDuration,
    (out) => {
      if (readable) out.histogram({}, ages);
    },
  );
  return () => {
    stop();
    removeOpen();
    removeAges();
  };
}

/**
 * Default bucket bounds of connection ages, in seconds: 0.1 s to 1 h
 * (ages are known to about half a second).
 */
export const CONNECTION_BUCKETS: readonly number[] = [
  0.1,
  0.5,
  1,
  5,
  10,
  30,
  60,
  300,
  900,
  3600,
];

const _BODY_SIZE = Symbol("weir.bodySize");

interface _SizedResponse extends Response {
  [_BODY_SIZE]?: number;
}

/**
 * Tells the HTTP metrics the size in bytes of `response`'s body, for a
 * response made without a `Content-Length` header, and returns the
 * response. Why not the header: on Deno 2.9 a response that carries its
 * own `Content-Length` costs the server several microseconds more
 * (bench/serve_bench.ts), and the runtime writes the header anyway. The
 * size is kept on the response object itself; nothing else reads it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { MetricsCollector } from "./collector.ts";
 * import { httpMetricsFetch, noteBodySize } from "./http_metrics.ts";
 *
 * const collector = new MetricsCollector();
 * const app = new Hono().get("/", () => noteBodySize(new Response("hello"), 5));
 * await httpMetricsFetch(app, collector)(new Request("http://localhost/"));
 * assert.ok(
 *   (await collector.render()).includes(
 *     'http_response_size_bytes_sum{method="GET",route="/"} 5',
 *   ),
 * );
 * ```
 */
export function noteBodySize(response: Response, bytes: number): Response {
  (response as _SizedResponse)[_BODY_SIZE] = bytes;
  return response;
}

/** The route label: the pattern that answered, or `unmatched`. */
function _route(c: Context, status: number): string {
  const last = matchedRoutes(c).at(-1);
  if (last === undefined) return UNMATCHED_ROUTE;
  // Not found and no route of a method answered: what matched were only
  // middleware (registered for every method), then Hono's notFound.
  if (status === 404 && last.method === "ALL") return UNMATCHED_ROUTE;
  return last.path;
}

/** The body size of `res` (whose status is `status`), or -1 when it is unknown. */
function _responseSize(res: Response, status: number, head: boolean): number {
  // The status is the caller's: reading it again from the response is a
  // native call on Bun.
  if (head || status < 200 || status === 204 || status === 304) return 0;
  const noted = (res as _SizedResponse)[_BODY_SIZE];
  if (noted !== undefined) return noted;
  const length = res.headers.get("content-length");
  return length === null ? -1 : _length(length);
}

/**
 * The body size of the request: a number (-1 when unknown), or a promise
 * of it when the handler read a body that had no Content-Length.
 */
function _requestSize(c: Context): number | Promise<number> {
  const raw = c.req.raw;
  const length = requestHeader(raw, "content-length");
  if (length !== null) return _length(length);
  if (raw.body === null) return 0;
  // Hono types its cache as values; it holds the promises of them.
  const cache = c.req.bodyCache;
  if (cache.arrayBuffer) {
    return Promise.resolve(cache.arrayBuffer).then((b) => b.byteLength);
  }
  if (cache.blob) return Promise.resolve(cache.blob).then((b) => b.size);
  if (cache.text) return Promise.resolve(cache.text).then(utf8Length);
  return -1;
}

function _length(header: string): number {
  const n = Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}
