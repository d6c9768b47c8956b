/**
 * The Hono sub-app that serves `GET /metrics` and `GET /api/v1/metadata`.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { Hono } from "hono";
import type { Context } from "hono";
import {
  acceptsGzip,
  CONTENT_TYPES,
  type MetricMetadata,
  type MetricsSource,
  negotiateFormat,
} from "../metrics/exposition.ts";
import { type Rendition, SharedRenders } from "../metrics/shared_renders.ts";
import { _header } from "./_request.ts";
import { _errorResponse, _json } from "./_response.ts";
import { _notAllowed } from "./_method_not_allowed.ts";
import { _notFound } from "./_not_found.ts";

const METRICS_PATH = "/metrics";
const METADATA_PATH = "/api/v1/metadata";

/**
 * The methods each path takes, for `Allow` and the 405's sentence. The
 * metadata takes GET alone, as Prometheus 2.42's router does (a HEAD gets
 * 405 there, as on the query API's paths); a scrape may be a HEAD.
 */
const ALLOWED: Readonly<Record<string, string>> = {
  [METRICS_PATH]: "GET, HEAD",
  [METADATA_PATH]: "GET",
};

/** Default of {@linkcode MetricsAppOptions.maxConcurrentScrapes}. */
export const DEFAULT_MAX_CONCURRENT_SCRAPES = 32;

/** Options of {@linkcode metricsApp}. */
export interface MetricsAppOptions {
  /**
   * How many scrapes may be in flight (waiting for their render or its
   * gzip) at once; a scrape beyond the cap is answered `503` with
   * `Retry-After: 1` at once. Concurrent scrapes share renders, so the cap
   * bounds the requests held, not the renders (at most one per format runs
   * at a time). A positive integer.
   *
   * @default {32}
   */
  maxConcurrentScrapes?: number;
}

const METRICS_APP_OPTIONS = optionKeys<MetricsAppOptions>()([
  "maxConcurrentScrapes",
]);

/**
 * A Hono app serving a {@linkcode MetricsSource} the way Prometheus expects.
 *
 * - `GET /metrics` (and `HEAD`): the exposition in the format the `Accept`
 *   header asks for (text 0.0.4 unless OpenMetrics is preferred; a malformed
 *   header gets text), with its exact `Content-Type`, gzip-compressed when
 *   `Accept-Encoding` accepts gzip, `Cache-Control: no-store` and
 *   `Vary: Accept, Accept-Encoding`. Concurrent scrapes of one format share
 *   one render and one gzip of it (see {@linkcode SharedRenders}): a scrape
 *   never waits behind another's render for longer than one render, and
 *   its values were read at most one render before it arrived. At most
 *   `maxConcurrentScrapes` scrapes are in flight at once; one more gets
 *   `503` with `Retry-After: 1`.
 * - `GET /api/v1/metadata`: `{ "status": "success", "data": ... }` like
 *   Prometheus's own metadata API, with its `metric=<name>` and `limit=<n>`
 *   query parameters (a bad `limit` gets `400`). GET alone, as Prometheus
 *   takes it: a HEAD gets `405`, as on the query API's paths.
 * - A wrong method on those paths gets `405` with `Allow` (`GET, HEAD` on
 *   `/metrics`, `GET` on the metadata); any other path `404`; a source
 *   that throws `500`. Every error body is JSON `{ "error": "..." }`,
 *   never a stack trace.
 *
 * Mount it with `route()`, at the root or under a prefix
 * (`host.route("/ops", metricsApp(source))` serves `/ops/metrics`). Once
 * mounted, the host's not-found handler answers unknown paths (Hono does not
 * carry a sub-app's `notFound` over, and a catch-all route here would shadow
 * the host's own routes when mounted at `/`); the 405s and the 500 go with
 * the routes.
 *
 * @param source What to serve: a `MetricsCollector`, or any object with
 *   `render(format)` and `metadata()`.
 * @param options See {@linkcode MetricsAppOptions}.
 * @returns A Hono app with the routes above.
 * @throws {RangeError} When `maxConcurrentScrapes` is not a positive integer.
 *
 * @example Serve a source and scrape it
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { metricsApp } from "./metrics_app.ts";
 *
 * const source = {
 *   render: (format: "text" | "openmetrics") =>
 *     Promise.resolve(
 *       "# TYPE up gauge\nup 1\n" + (format === "openmetrics" ? "# EOF\n" : ""),
 *     ),
 *   metadata: () => ({
 *     up: [{ type: "gauge", help: "Whether weir is up.", unit: "", labels: [] }],
 *   }),
 * };
 * const app = new Hono().route("/ops", metricsApp(source));
 *
 * const res = await app.request("/ops/metrics");
 * assert.equal(res.status, 200);
 * assert.equal(
 *   res.headers.get("content-type"),
 *   "text/plain; version=0.0.4; charset=utf-8",
 * );
 * assert.equal(await res.text(), "# TYPE up gauge\nup 1\n");
 *
 * const meta = await app.request("/ops/api/v1/metadata?metric=up");
 * assert.deepEqual((await meta.json()).data.up[0].type, "gauge");
 * ```
 */
export function metricsApp(
  source: MetricsSource,
  options: MetricsAppOptions = {},
): Hono {
  checkOptionKeys("Cannot build the metrics app", options, METRICS_APP_OPTIONS);
  if (
    typeof (source as Partial<MetricsSource> | null)?.render !== "function" ||
    typeof source.metadata !== "function"
  ) {
    throw new TypeError(
      `Cannot create the metrics app: the source must be a MetricsCollector (or have render() and metadata()), received ${
        source === null ? "null" : typeof source
      }`,
    );
  }
  const maxConcurrentScrapes = options.maxConcurrentScrapes ??
    DEFAULT_MAX_CONCURRENT_SCRAPES;
  if (!Number.isInteger(maxConcurrentScrapes) || maxConcurrentScrapes < 1) {
    throw new RangeError(
      `Cannot create the metrics app: maxConcurrentScrapes must be a positive integer, received ${
        _describe(maxConcurrentScrapes)
      }`,
    );
  }
  let inFlight = 0;
  const renders = new SharedRenders(source);
  const app = new Hono();

  app.get(METRICS_PATH, async (c) => {
    if (inFlight >= maxConcurrentScrapes) {
      return _error(
        c,
        503,
        `too many concurrent scrapes: ${inFlight} in flight, the cap is ${maxConcurrentScrapes} (option maxConcurrentScrapes)`,
        { "Retry-After": "1" },
      );
    }
    const format = negotiateFormat(_header(c, "accept"));
    const gzipped = acceptsGzip(_header(c, "accept-encoding"));
    // The slot covers the gzip too: it is a wait like the render.
    inFlight++;
    try {
      let rendition: Rendition;
      try {
        rendition = await renders.get(format);
      } catch (error) {
        // Wrapped so that a non-Error rejection still reaches onError (Hono
        // rethrows anything that is not an Error) and the message says where.
        throw new Error(`metrics rendering failed: ${_message(error)}`, {
          cause: error,
        });
      }
      // c.body() rather than c.text(): c.text() puts its own
      // "text/plain; charset=UTF-8" over a Content-Type set beforehand.
      const headers: Record<string, string> = {
        "Content-Type": CONTENT_TYPES[format],
        "Cache-Control": "no-store",
        "Vary": "Accept, Accept-Encoding",
      };
      // Content-Length is set here: a HEAD must announce what the GET
      // sends, and Hono's HEAD answer would otherwise say 0. The bytes
      // are shared by every scrape of the render: never written to.
      if (!gzipped) {
        headers["Content-Length"] = String(rendition.body.byteLength);
        return c.body(rendition.body, 200, headers);
      }
      const body = await rendition.gzipped();
      headers["Content-Encoding"] = "gzip";
      headers["Content-Length"] = String(body.byteLength);
      return c.body(body, 200, headers);
    } finally {
      inFlight--;
    }
  });

  app.get(METADATA_PATH, (c) => {
    // Hono answers a HEAD with the GET route: refused here, in the route
    // itself, so that a GET still matches one handler alone.
    if (c.req.method === "HEAD") return _refused(c, METADATA_PATH);
    const metric = c.req.query("metric");
    const limitParam = c.req.query("limit");
    let limit = Infinity;
    // As in Prometheus, an empty value means the parameter is absent.
    if (limitParam !== undefined && limitParam !== "") {
      // Past the safe integers a limit cannot be told from its neighbours.
      if (
        !/^\d+$/.test(limitParam) || !Number.isSafeInteger(Number(limitParam))
      ) {
        return c.json({
          status: "error",
          errorType: "bad_data",
          error:
            `invalid parameter "limit": must be a non-negative integer, received ${
              JSON.stringify(limitParam)
            }`,
        }, 400);
      }
      limit = Number(limitParam);
    }
    let all: Record<string, MetricMetadata[]>;
    try {
      all = source.metadata();
    } catch (error) {
      throw new Error(`metrics metadata failed: ${_message(error)}`, {
        cause: error,
      });
    }
    let data = all;
    if ((metric !== undefined && metric !== "") || limit !== Infinity) {
      // A null prototype, so that a metric named like an Object.prototype
      // member is looked up and stored as data, never as a prototype key.
      data = Object.create(null);
      const names = metric ? [metric] : Object.keys(all);
      let count = 0;
      for (const name of names) {
        if (count >= limit) break;
        if (Object.hasOwn(all, name)) {
          data[name] = all[name];
          count++;
        }
      }
    }
    // _json: a HEAD gets the GET's Content-Length.
    return _json(c, { status: "success", data }, 200, {
      "Cache-Control": "no-store",
    });
  });

  for (const path of [METRICS_PATH, METADATA_PATH]) {
    app.all(path, (c) => _refused(c, path));
  }

  app.notFound(_notFound(app));

  app.onError((error, c) => _error(c, 500, _message(error)));

  return app;
}

/**
 * A JSON error response `{ "error": message }` that is never cached, as
 * the rest of the server answers one (a HEAD's says its Content-Length).
 */
function _error(
  c: Context,
  status: 404 | 405 | 500 | 503,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return _errorResponse(c, status, message, headers);
}

/**
 * The 405 of a method `path` does not take, naming the ones it does: the
 * one every route group of the server answers (`_notAllowed`).
 */
function _refused(c: Context, path: string): Response {
  const e = _notAllowed(c, ALLOWED[path]);
  return _error(c, 405, e.message, { ...e.headers });
}

function _message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function _describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
