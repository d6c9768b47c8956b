/**
 * The Prometheus HTTP query API over weir's metric history, so that
 * existing clients (`promtool query`, Grafana's Prometheus data source)
 * read it: `/api/v1/query`, `/api/v1/query_range`, `/api/v1/series`,
 * `/api/v1/labels`, `/api/v1/label/:name/values`,
 * `/api/v1/format_query` (the query prettified, as Grafana's "Format
 * query" asks for it) and
 * `/api/v1/query_exemplars` (always none: weir keeps no exemplars),
 * `/api/v1/rules` and `/api/v1/alerts` (always none: weir evaluates no
 * rules) and `/api/v1/status/buildinfo`, by GET or by POST of a form, with
 * Prometheus's parameters, JSON and errors.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type {
  HistoryReader,
  LabelMatcher,
  SeriesLabels,
} from "../history/types.ts";
import type {
  QueryOptions,
  QueryResult,
  RangeColumns,
} from "../history/promql/mod.ts";
import { PromQLError } from "../history/promql/promql_error.ts";
import { sortByLabelsOf } from "../history/promql/_points.ts";
import { _nextTurn } from "../engine/_next_turn.ts";
import { VERSION } from "../version.ts";
import { _methodNotAllowed } from "./_method_not_allowed.ts";
import {
  formatPointValue,
  formatSampleValue,
  MAX_TIME_MS,
  MIN_TIME_MS,
  NS_PER_MS,
  parseDurationParam,
  parseDurationParamNs,
  parseTimeParam,
  parseTimeParamNs,
  PROM_ERROR_STATUS,
  PromApiError,
  type PromErrorType,
} from "./_prometheus_api.ts";
import { _header, _readBody } from "./_request.ts";
import {
  type InternalErrorListener,
  logInternalError,
  reportInternalError,
  statusOf,
} from "./error_handler.ts";
import { HttpError } from "./http_error.ts";
import { _json, _jsonResponse } from "./_response.ts";
import { type _JsonBody, _jsonBody } from "./_json_memo.ts";
import { _matrixJson } from "./_matrix_json.ts";
import { gzip } from "node:zlib";
import { acceptsGzip } from "../metrics/exposition.ts";
import { noteBodySize } from "../metrics/http_metrics.ts";

/** What the evaluator is told: the PromQL module's `QueryOptions`. */
export type EvalOptions = QueryOptions;

/** What the evaluator answers (times in ms): the PromQL module's `QueryResult`. */
export type EvalResult = QueryResult;

/**
 * A PromQL evaluator: weir's own (`src/history/promql`) by default. Its
 * errors are `PromQLError`s, whose `type` is Prometheus's (`bad_data`,
 * `execution`, `timeout`).
 */
export interface QueryEngine {
  /** Evaluates `query` at `timeMs`. */
  queryInstant(
    reader: HistoryReader,
    query: string,
    timeMs: number,
    options?: EvalOptions,
  ): EvalResult;
  /**
   * Evaluates `query` at every step from `startMs` to `endMs`: a matrix,
   * or the promise of one (evaluated in slices, letting the server run),
   * either as {@linkcode EvalResult} or held compactly as `RangeColumns`
   * (weir's, whose JSON is written without an array a point).
   */
  queryRange(
    reader: HistoryReader,
    query: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    options?: EvalOptions,
  ):
    | EvalResult
    | RangeColumns
    | Promise<EvalResult | RangeColumns>;
}

/** The modules that parse and evaluate PromQL. */
interface _PromQL {
  promql: typeof import("../history/promql/mod.ts");
  selector: typeof import("./_series_selector.ts");
  /**
   * weir's PromQL evaluator (src/history/promql); range queries in slices
   * of steps with the event loop running between them, answered in typed
   * arrays (`queryRangeColumns`).
   */
  engine: QueryEngine;
}

let _promqlLoading: Promise<_PromQL> | undefined;

/**
 * The PromQL parser and evaluator, imported at the first query rather
 * than with the routes: the parser's `@lezer/lr` reads the environment as
 * it loads (`LOG`), which on Deno needs `--allow-env`, and weir's root
 * module (`flowApp`) imports these routes, so an app that embeds weir and
 * keeps no history would need that permission for nothing.
 */
function _promql(): Promise<_PromQL> {
  return _promqlLoading ??= Promise.all([
    import("../history/promql/mod.ts"),
    import("./_series_selector.ts"),
  ]).then(([promql, selector]) => ({
    promql,
    selector,
    engine: {
      queryInstant: promql.queryInstant,
      queryRange: promql.queryRangeColumns,
    },
  }));
}

/** Options of {@linkcode queryRoutes}. */
export interface QueryRoutesOptions {
  /** Middleware run before each route, e.g. the access guard. Default none. */
  middleware?: readonly MiddlewareHandler[];
  /** The evaluator. Default: weir's PromQL evaluator. */
  engine?: QueryEngine;
  /** The longest a query may run (ms); a `timeout` parameter may only shorten it. Default 120000 (Prometheus's `--query.timeout`). */
  timeoutMs?: number;
  /** The most samples a query may hold; passed to the evaluator. Default: the evaluator's. */
  maxSamples?: number;
  /** How far back an instant selector looks (ms). Default: the evaluator's (5 min). */
  lookbackDeltaMs?: number;
  /** The largest POST body (bytes). Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long a POST body may take to arrive (ms). Default 30000. */
  bodyTimeoutMs?: number;
  /** The clock, for `time` by default (ms). Default `Date.now`. */
  now?: () => number;
  /**
   * Told of each query that failed with an internal error (answered 500
   * in Prometheus's shape, with a request id). Default: `console.error`.
   */
  onInternalError?: InternalErrorListener;
}

const QUERY_ROUTES_OPTIONS = optionKeys<QueryRoutesOptions>()([
  "middleware",
  "engine",
  "timeoutMs",
  "maxSamples",
  "lookbackDeltaMs",
  "maxBodyBytes",
  "bodyTimeoutMs",
  "now",
  "onInternalError",
]);

/** Prometheus refuses range queries of more points per series than this. */
export const MAX_POINTS_PER_SERIES = 11_000;
/**
 * The longest query weir parses (characters), and the longest the
 * `match[]` selectors of one request may be together: as
 * VictoriaMetrics' `-search.maxQueryLen` (16 KiB). Prometheus sets none,
 * but weir's parser (lezer) takes time and memory in proportion to a
 * query, and far more on one it recovers from: a 1 MB query of
 * unbalanced parentheses, of tokens without operators or of nested
 * calls held the event loop 10 to 20 s and grew the server by 500 MB.
 */
export const MAX_QUERY_LENGTH = 16_384;
/**
 * The most `match[]` selectors of one request (2.42 sets none): each scans
 * every series, so 780 of them on /api/v1/series over 58,000 series held
 * the event loop 70 s. Grafana and promtool send one or a few.
 */
export const MAX_MATCH_SELECTORS = 16;
/** Go's int64, where a time.Duration stops. */
const MAX_INT64 = 2n ** 63n - 1n;

const PATHS = [
  "/api/v1/query",
  "/api/v1/query_range",
  "/api/v1/series",
  "/api/v1/labels",
  "/api/v1/label/:name/values",
  "/api/v1/query_exemplars",
  "/api/v1/format_query",
];
/** Paths answered by GET alone, whatever the history holds. */
const GET_PATHS = [
  "/api/v1/status/buildinfo",
  "/api/v1/rules",
  "/api/v1/alerts",
];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Every path the routes answer, `:name` as one segment. */
const QUERY_PATH = new RegExp(
  `^(?:${
    [...PATHS, ...GET_PATHS]
      .map((p) => p.replace(/:[a-z]+/g, "[^/]+"))
      .join("|")
  })$`,
);

/**
 * Whether {@linkcode queryRoutes} answers `pathname`: for a server that
 * mounts them beside other routes (`weir run` beside its `/metrics`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isQueryPath } from "./query_routes.ts";
 *
 * assert.equal(isQueryPath("/api/v1/query_exemplars"), true);
 * assert.equal(isQueryPath("/api/v1/format_query"), true);
 * assert.equal(isQueryPath("/api/v1/label/job/values"), true);
 * assert.equal(isQueryPath("/metrics"), false);
 * ```
 */
export function isQueryPath(pathname: string): boolean {
  return QUERY_PATH.test(pathname);
}

/**
 * The query API's routes over `reader` (mount at `/`). Errors are
 * Prometheus's: `{"status":"error","errorType":"bad_data","error":"..."}`
 * with 400 for bad input, 422 for a failed evaluation, 503 for a timeout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queryRoutes } from "./query_routes.ts";
 * import type { HistoryReader } from "../history/types.ts";
 *
 * const reader: HistoryReader = {
 *   tiers: [{ name: "raw", resolutionMs: 1000, retentionMs: 86_400_000 }],
 *   select: () => [],
 *   series: () => [{ __name__: "up", job: "weir" }],
 *   labelNames: () => ["__name__", "job"],
 *   labelValues: () => ["weir"],
 * };
 * const app = queryRoutes(reader);
 * const res = await app.request("/api/v1/series?match[]=up");
 * assert.deepEqual(await res.json(), {
 *   status: "success",
 *   data: [{ __name__: "up", job: "weir" }],
 * });
 * const bad = await app.request("/api/v1/series");
 * assert.equal(bad.status, 400);
 * assert.equal((await bad.json()).errorType, "bad_data");
 * ```
 */
export function queryRoutes(
  reader: HistoryReader,
  options: QueryRoutesOptions = {},
): Hono {
  checkOptionKeys(
    "Cannot build the query routes",
    options,
    QUERY_ROUTES_OPTIONS,
  );
  const {
    middleware = [],
    engine: givenEngine,
    timeoutMs = 120_000,
    maxSamples,
    lookbackDeltaMs,
    maxBodyBytes = 1024 * 1024,
    bodyTimeoutMs = 30_000,
    now = Date.now,
    onInternalError = logInternalError,
  } = options;
  const app = new Hono();
  for (const path of [...PATHS, ...GET_PATHS]) {
    for (const m of middleware) app.use(path, m);
  }
  // Methods as Prometheus 2.42's router takes them: GET and POST (GET
  // alone where it registers no POST), and HEAD refused with 405 as it
  // refuses it, not answered as a GET. Before the routes: a GET route
  // would answer the HEAD first.
  for (const path of PATHS) {
    _methodNotAllowed(
      app,
      path,
      path.startsWith("/api/v1/label/") ? "GET" : "GET, POST",
      { refuseHead: true },
    );
  }
  for (const path of GET_PATHS) {
    _methodNotAllowed(app, path, "GET", { refuseHead: true });
  }
  const read = (c: Context) => _params(c, maxBodyBytes, bodyTimeoutMs);
  const engine = async () => givenEngine ?? (await _promql()).engine;
  const matchers = async (p: Params) => {
    const { parseSeriesSelector } = (await _promql()).selector;
    // The same selector twice matches the same series: read once.
    const all = [...new Set(p.all("match[]"))];
    if (all.length > MAX_MATCH_SELECTORS) {
      throw new PromApiError(
        "bad_data",
        `invalid parameter "match[]": ${all.length} different match[] selectors; weir reads at most ${MAX_MATCH_SELECTORS} in one request`,
      );
    }
    const length = all.reduce((sum, m) => sum + m.length, 0);
    if (length > MAX_QUERY_LENGTH) {
      throw new PromApiError(
        "bad_data",
        `invalid parameter "match[]": the ${all.length} match[] selectors are ${length} characters long together; weir reads at most ${MAX_QUERY_LENGTH}`,
      );
    }
    return all.map(parseSeriesSelector);
  };
  // Range queries take turns: evaluated in slices, two at once could each
  // hold up to maxSamples; one after the other they hold what one query
  // evaluated at once held. The turn lasts until the answer's JSON is
  // written: the other copy of the answer a query holds.
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(run: () => T | Promise<T>): Promise<T> => {
    const mine = turn.then(run);
    turn = mine.then(() => {}, () => {});
    return mine;
  };
  const evalOptions = (p: Params): EvalOptions => {
    let t = timeoutMs;
    const text = p.get("timeout");
    if (text !== undefined && text !== "") {
      const asked = parseDurationParam(text, "timeout");
      if (asked > 0) t = Math.min(t, asked);
    }
    return { timeoutMs: t, maxSamples, lookbackDeltaMs, nowMs: now() };
  };

  const instant = async (c: Context) => {
    const p = await read(c);
    const query = _query(p);
    const time = _time(p, "time", now(), false);
    const opts = evalOptions(p);
    const evaluator = await engine();
    let result: EvalResult;
    try {
      result = evaluator.queryInstant(reader, query, time, opts);
    } catch (error) {
      // 2.42 names the parameter in an instant query's bad_data errors
      // (the query's own: its evaluation fails with other types); a range
      // query's it gives as they are.
      throw _queryParamError(error);
    }
    return _success(c, _resultJson(result));
  };
  const range = async (c: Context) => {
    const p = await read(c);
    const query = _query(p);
    // Missing, each is "" (cannot parse "" to a valid timestamp).
    const startNs = parseTimeParamNs(p.get("start") ?? "", "start");
    const endNs = parseTimeParamNs(p.get("end") ?? "", "end");
    if (endNs < startNs) {
      throw new PromApiError(
        "bad_data",
        'invalid parameter "end": end timestamp must not be before start time',
      );
    }
    const stepNs = parseDurationParamNs(_required(p, "step"), "step");
    if (stepNs <= 0n) {
      throw new PromApiError(
        "bad_data",
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    }
    // 2.42 counts the steps on the times and the step as Go keeps them,
    // in ns (end.Sub(start), which stops at int64's largest, over step),
    // before its engine truncates each to ms.
    const span = endNs - startNs > MAX_INT64 ? MAX_INT64 : endNs - startNs;
    if (span / stepNs > BigInt(MAX_POINTS_PER_SERIES)) {
      throw new PromApiError(
        "bad_data",
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
      );
    }
    const step = Number(stepNs / NS_PER_MS);
    if (step === 0) {
      // 2.42 fails such a query in its engine ("integer divide by zero").
      throw new PromApiError(
        "bad_data",
        'invalid parameter "step": a step under 1 ms is not accepted: queries are evaluated at whole milliseconds',
      );
    }
    const start = Number(startNs / NS_PER_MS);
    const end = Number(endNs / NS_PER_MS);
    // Not the request's signal: on Deno, reading it prints a warning about
    // its legacy abort (it aborts on a successful answer too). The steps
    // were counted above, as 2.42 counts them.
    const opts = { ...evalOptions(p), maxSteps: Infinity };
    const evaluator = await engine();
    const body = await inTurn(async () => {
      const result = await evaluator.queryRange(
        reader,
        query,
        start,
        end,
        step,
        opts,
      );
      return "columns" in result
        ? await _matrixJson(result)
        : _jsonBody({ status: "success", data: _resultJson(result) });
    });
    return _answerBody(c, body);
  };
  const series = async (c: Context) => {
    const p = await read(c);
    const sets = await matchers(p);
    if (sets.length === 0) {
      throw new PromApiError("bad_data", "no match[] parameter provided");
    }
    const { start, end } = _allTime(p);
    const limit = _limit(p);
    if (end < start) return _success(c, []);
    // Each label set's sorted pairs as text: the key that removes
    // duplicates across match[].
    const seen = new Map<string, SeriesLabels>();
    for (let i = 0; i < sets.length; i++) {
      // Each selector scans every series (58,000: about 0.1 s): the event
      // loop runs between them (16 held it 1.9 s at once).
      if (i > 0) await _nextTurn();
      const matchers = sets[i];
      for (const labels of reader.series(matchers, start, end)) {
        seen.set(JSON.stringify(_sortedPairs(labels)), labels);
      }
    }
    // In Prometheus's order (Go's, by UTF-8 bytes).
    const all = [...seen.values()];
    return _limited(c, sortByLabelsOf(all, all), limit);
  };
  const labels = async (c: Context) => {
    const p = await read(c);
    const { start, end } = _allTime(p);
    const limit = _limit(p);
    const sets = await matchers(p);
    if (end < start) return _success(c, []);
    const names = _union(
      sets,
      (m) => reader.labelNames(m, start, end),
    );
    return _limited(c, names, limit);
  };
  const values = async (c: Context) => {
    const name = c.req.param("name") ?? "";
    if (!LABEL_NAME.test(name)) {
      throw new PromApiError(
        "bad_data",
        `invalid label name: ${JSON.stringify(name)}`,
      );
    }
    const p = await read(c);
    const { start, end } = _allTime(p);
    const limit = _limit(p);
    const sets = await matchers(p);
    if (end < start) return _success(c, []);
    const found = _union(
      sets,
      (m) => reader.labelValues(name, m, start, end),
    );
    return _limited(c, found, limit);
  };

  app.get("/api/v1/query", instant).post("/api/v1/query", instant);
  app.get("/api/v1/query_range", range).post("/api/v1/query_range", range);
  app.get("/api/v1/series", series).post("/api/v1/series", series);
  app.get("/api/v1/labels", labels).post("/api/v1/labels", labels);
  app.get("/api/v1/label/:name/values", values);
  // Grafana asks for exemplars beside a range query; weir stores none, so
  // the true answer is an empty list, once the parameters check out.
  const exemplars = async (c: Context) => {
    const p = await read(c);
    const query = _query(p);
    (await _promql()).promql.parseQuery(query);
    const { start, end } = _allTime(p);
    if (end < start) {
      throw new PromApiError(
        "bad_data",
        "end timestamp must not be before start timestamp",
      );
    }
    return _success(c, []);
  };
  app.get("/api/v1/query_exemplars", exemplars).post(
    "/api/v1/query_exemplars",
    exemplars,
  );
  // Grafana's "Format query": the query as Prometheus 2.42 prettifies it.
  // Parsed, not evaluated: a function weir does not evaluate but 2.42
  // knows formats, and a missing query is the parser's "no expression".
  const format = async (c: Context) => {
    const p = await read(c);
    const { formatQuery } = (await _promql()).promql;
    const query = _query(p, false);
    let text: string;
    try {
      text = formatQuery(query);
    } catch (error) {
      throw _queryParamError(error);
    }
    return _success(c, text);
  };
  app.get("/api/v1/format_query", format).post(
    "/api/v1/format_query",
    format,
  );
  app.get("/api/v1/status/buildinfo", (c) =>
    _success(c, {
      version: VERSION,
      revision: "",
      branch: "weir",
      buildUser: "",
      buildDate: "",
      goVersion: "",
    }));
  // weir evaluates no recording or alerting rules: no groups, no alerts,
  // as Prometheus answers without rule files. Grafana's alerting pages ask
  // every Prometheus data source for them and show a 404 as an error.
  app.get("/api/v1/rules", async (c) => {
    const type = (await read(c)).get("type") ?? "";
    if (!["", "alert", "record"].includes(type)) {
      throw new PromApiError(
        "bad_data",
        `invalid parameter "type": not supported value ${JSON.stringify(type)}`,
      );
    }
    return _success(c, { groups: [] });
  });
  app.get("/api/v1/alerts", (c) => _success(c, { alerts: [] }));
  app.onError((error, c) => {
    let type = _errorType(error);
    let message = error.message;
    let status: number | undefined;
    if (type === undefined) {
      const known = error instanceof HttpError ? error.status : statusOf(error);
      if (known === 408 || known === 413) {
        // The request's body: said in Prometheus's shape, its status kept.
        type = "bad_data";
        status = known;
      } else if (known !== undefined) {
        // A 401, a 405, a 429: the app's error table.
        throw error;
      } else if (error instanceof RangeError) {
        // A string or an array past the runtime's limit: the query asked
        // for more than the server holds.
        type = "execution";
        message =
          `the query needs more memory than the server gives one (${error.message}); ask for fewer series, a shorter range or a larger step`;
      } else {
        type = "internal";
        const requestId = reportInternalError(c, error, onInternalError);
        message =
          `internal error while handling ${c.req.method} ${c.req.path} (request id ${requestId}); the server log has the details`;
      }
    }
    return _json(
      c,
      { status: "error", errorType: type, error: message },
      status ?? PROM_ERROR_STATUS[type],
      {
        "Cache-Control": "no-store",
      },
    );
  });
  return app;
}

/** The error type of an error the API answers in Prometheus's shape. */
function _errorType(error: unknown): PromErrorType | undefined {
  if (error instanceof PromApiError || error instanceof PromQLError) {
    return error.type;
  }
  // An evaluator's own error class of that name (a test's, say).
  if (error instanceof Error && error.name === "PromQLError") {
    const type: unknown = Reflect.get(error, "type");
    if (typeof type === "string" && type in PROM_ERROR_STATUS) {
      return type as PromErrorType;
    }
  }
  return undefined;
}

/** A bad_data error of the query's, worded as 2.42 words it for a parameter. */
function _queryParamError(error: unknown): unknown {
  if (_errorType(error) !== "bad_data") return error;
  return new PromApiError(
    "bad_data",
    `invalid parameter "query": ${(error as Error).message}`,
  );
}

/**
 * The request's parameters in the order of Go's `r.Form`: a URL-encoded
 * body's before the URL's, a multipart body's (its fields, not its files)
 * after them.
 */
interface Params {
  get(name: string): string | undefined;
  all(name: string): string[];
}

async function _params(
  c: Context,
  maxBodyBytes: number,
  bodyTimeoutMs: number,
): Promise<Params> {
  let pairs: [string, string][] = [...new URL(c.req.url).searchParams];
  const contentType = _header(c, "content-type") ?? "";
  const type = contentType.split(";")[0].trim().toLowerCase();
  const post = c.req.method === "POST";
  if (post && type === "application/x-www-form-urlencoded") {
    const text = await _readBody(c, maxBodyBytes, bodyTimeoutMs);
    pairs = [...new URLSearchParams(text), ...pairs];
  } else if (post && type === "multipart/form-data") {
    // Read within the body's limits before it is parsed.
    const text = await _readBody(c, maxBodyBytes, bodyTimeoutMs);
    let form: FormData;
    try {
      form = await new Response(text, {
        headers: { "Content-Type": contentType },
      }).formData();
    } catch (error) {
      throw new PromApiError(
        "bad_data",
        `cannot read the multipart/form-data body: ${
          (error as Error)?.message || String(error)
        }`,
      );
    }
    for (const [k, v] of form) if (typeof v === "string") pairs.push([k, v]);
  }
  return {
    get: (name) => pairs.find(([k]) => k === name)?.[1],
    all: (name) => pairs.filter(([k]) => k === name).map(([, v]) => v),
  };
}

/** The `query` parameter, required, at most MAX_QUERY_LENGTH long. */
function _query(p: Params, required = true): string {
  const query = required ? _required(p, "query") : p.get("query") ?? "";
  if (query.length > MAX_QUERY_LENGTH) {
    throw new PromApiError(
      "bad_data",
      `invalid parameter "query": the query is ${query.length} characters long; weir reads at most ${MAX_QUERY_LENGTH}`,
    );
  }
  return query;
}

function _required(p: Params, name: string): string {
  const v = p.get(name);
  if (v === undefined || v === "") {
    throw new PromApiError(
      "bad_data",
      `invalid parameter ${JSON.stringify(name)}: missing`,
    );
  }
  return v;
}

function _time(
  p: Params,
  name: string,
  fallback: number | undefined,
  clamp: boolean,
): number {
  const v = p.get(name);
  if (v === undefined || v === "") {
    if (fallback !== undefined) return fallback;
    throw new PromApiError(
      "bad_data",
      `invalid parameter ${
        JSON.stringify(name)
      }: cannot parse "" to a valid timestamp`,
    );
  }
  return parseTimeParam(v, name, clamp);
}

/**
 * `start` and `end` of the series and label endpoints: all time by default.
 * An end before the start is no error there: 2.42 reads the empty interval
 * and answers nothing.
 */
function _allTime(p: Params): { start: number; end: number } {
  const start = _time(p, "start", MIN_TIME_MS, true);
  const end = _time(p, "end", MAX_TIME_MS, true);
  return { start, end };
}

/**
 * `limit`: a non-negative integer, 0 (or none) for no limit. One past
 * `Number.MAX_SAFE_INTEGER` cannot be told from its neighbours, so it is
 * refused as Prometheus refuses one past its int64, not read as no limit.
 */
function _limit(p: Params): number {
  const v = p.get("limit");
  if (v === undefined || v === "") return Infinity;
  if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new PromApiError(
      "bad_data",
      `invalid parameter "limit": cannot parse ${
        JSON.stringify(v)
      } to a valid limit`,
    );
  }
  const n = Number(v);
  if (n < 0) {
    throw new PromApiError(
      "bad_data",
      `invalid parameter "limit": limit must be non-negative, received ${v}`,
    );
  }
  return n === 0 ? Infinity : n;
}

function _limited<T>(
  c: Context,
  items: T[],
  limit: number,
): Promise<Response> {
  if (items.length > limit) {
    return _answerBody(
      c,
      _jsonBody({
        status: "success",
        data: items.slice(0, limit),
        warnings: ["results truncated due to limit"],
      }),
    );
  }
  return _success(c, items);
}

/** The sorted union of what `read` gives for each matcher set, or for none. */
function _union(
  sets: LabelMatcher[][],
  read: (matchers: LabelMatcher[]) => string[],
): string[] {
  if (sets.length === 0) return read([]);
  const all = new Set<string>();
  for (const m of sets) for (const v of read(m)) all.add(v);
  return [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function _success(c: Context, data: unknown): Promise<Response> {
  return _answerBody(c, _jsonBody({ status: "success", data }));
}

/**
 * An answer of at least this many characters goes gzipped to a client
 * that takes gzip, as Prometheus sends it: a range query's JSON shrinks
 * many times (1.67 MB to 89 KB for 50 minutes of 577 series at 15 s),
 * which on a device's cellular link is most of a dashboard's wait. Below
 * it, the gzip header and the CPU are not worth it.
 */
const GZIP_MIN_CHARS = 4096;

/**
 * `json` (a serialized body, or the UTF-8 bytes `_matrixJson` writes) as
 * the body; gzipped (off the event loop) when large and taken.
 */
async function _answerBody(
  c: Context,
  json: _JsonBody | Uint8Array,
): Promise<Response> {
  const bytes = json instanceof Uint8Array;
  if (
    (bytes ? json.byteLength : json.text.length) < GZIP_MIN_CHARS ||
    !acceptsGzip(_header(c, "accept-encoding"))
  ) {
    return bytes
      ? noteBodySize(
        c.body(json as Uint8Array<ArrayBuffer>, 200, {
          "Content-Type": "application/json",
        }),
        json.byteLength,
      )
      : _jsonResponse(c, json);
  }
  const body = await new Promise<Uint8Array>((resolve, reject) =>
    gzip(
      bytes ? json : json.text,
      (error, out) => error === null ? resolve(out) : reject(error),
    )
  );
  return noteBodySize(
    c.body(body as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "application/json",
      "Content-Encoding": "gzip",
      "Content-Length": String(body.byteLength),
      "Vary": "Accept-Encoding",
    }),
    body.byteLength,
  );
}

/** A label set as [name, value, name, value, ...], sorted by name. */
function _sortedPairs(labels: SeriesLabels): string[] {
  const out: string[] = [];
  for (const n of Object.keys(labels).sort()) out.push(n, labels[n]);
  return out;
}

/** The evaluator's result as Prometheus's JSON: values as strings, times as float seconds. */
function _resultJson(r: EvalResult): unknown {
  switch (r.resultType) {
    case "vector":
      return {
        resultType: "vector",
        result: r.result.map(({ metric, value: [t, v] }) => ({
          metric,
          value: [t / 1000, formatPointValue(v)],
        })),
      };
    case "matrix":
      return {
        resultType: "matrix",
        result: r.result.map(({ metric, values }) => ({
          metric,
          values: values.map(([t, v]) => [t / 1000, formatPointValue(v)]),
        })),
      };
    case "scalar":
      return {
        resultType: "scalar",
        result: [r.result[0] / 1000, formatSampleValue(r.result[1])],
      };
    case "string":
      return {
        resultType: "string",
        result: [r.result[0] / 1000, r.result[1]],
      };
  }
}
