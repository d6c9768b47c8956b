/**
 * The flow API: `/flows` and `/flows/:id` with its `start`, `stop`,
 * `stats`, `events` and `tap`, over a {@linkcode FlowManager}.
 *
 * @module
 */
import { _actorOf } from "./_actor.ts";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { BlankEnv } from "hono/types";
import { timeout } from "hono/timeout";
import { excerpt } from "../engine/excerpt.ts";
import { GraphError } from "../graph/graph_error.ts";
import type { FlowManager } from "../flows/flow_manager.ts";
import { _methodNotAllowed } from "./_method_not_allowed.ts";
import {
  _anyRev,
  _bodyTimeout,
  _checkJsonDepth,
  _expectedRev,
  _header,
  _JSON_TYPES,
  _mediaType,
  _query,
  _queryBool,
  _readBody,
  _readGraph,
  _readingBody,
  DEFAULT_MAX_BODY_DEPTH,
} from "./_request.ts";
import { type _JsonBody, _jsonBody } from "./_json_memo.ts";
import {
  _bodyTag,
  _etag,
  _json,
  _jsonResponse,
  _problemJson,
  _tagMatches,
} from "./_response.ts";
import {
  _defaultStreamLog,
  _EVENT_STREAM_HEADERS,
  _EventStreams,
  type EventStreamLimits,
  type EventStreamLog,
} from "./_flow_events.ts";
import { HttpError } from "./http_error.ts";
import { _TapStreams } from "./_tap_stream.ts";
import type { OutputHub } from "../flows/output_hub.ts";

/** Options of {@linkcode flowRoutes}. */
export interface FlowRoutesOptions {
  /** The flows the routes manage. */
  flows: FlowManager;
  /** The largest request body accepted (bytes); larger ones get 413. */
  maxBodyBytes: number;
  /**
   * How deep a JSON body (a graph, a merge patch) may nest; deeper ones
   * get 400 before they are parsed. Default `DEFAULT_MAX_BODY_DEPTH` (64).
   */
  maxBodyDepth?: number;
  /**
   * How long a request that changes a flow may take (ms), its body
   * included: a body slower than that gets 408, a handler 503.
   */
  requestTimeoutMs: number;
  /** How often the event stream sends a `stats` event, unless the request asks. */
  eventsIntervalMs: number;
  /** Aborting it ends every event stream. */
  signal?: AbortSignal;
  /** Bounds of the event streams, per client and per server (see `EventStreamLimits`). */
  eventStreams?: EventStreamLimits;
  /** Where a dropped event-stream client is logged. Default `console.warn`. */
  log?: EventStreamLog;
  /**
   * The `core/Output` lines of each flow, for `GET /flows/:id/tap`.
   * Default: none, and a tap carries messages only.
   */
  outputs?: OutputHub;
  /** Taps open at once (`GET /flows/:id/tap`); more get 429. Default 32. */
  maxTaps?: number;
  /** Middleware run first on every route of the group (the access guard). */
  middleware?: readonly MiddlewareHandler[];
}

/**
 * The flow API at the root of the returned app (mount it at `/flows`).
 * Errors are thrown for the host's error handler (see `errorHandler`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { builtins } from "../components/mod.ts";
 * import { FlowManager, FlowStore } from "../flows/mod.ts";
 * import { errorHandler } from "./error_handler.ts";
 * import { flowRoutes } from "./flow_routes.ts";
 *
 * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
 * const app = new Hono()
 *   .route("/flows", flowRoutes({
 *     flows,
 *     maxBodyBytes: 1024,
 *     requestTimeoutMs: 5000,
 *     eventsIntervalMs: 1000,
 *   }))
 *   .onError(errorHandler(() => {}));
 * const res = await app.request("/flows/a?start=false", {
 *   method: "PUT",
 *   headers: { "Content-Type": "text/vnd.fbp" },
 *   body: "A(core/Repeat)",
 * });
 * assert.deepEqual([res.status, res.headers.get("etag")], [201, '"1"']);
 * assert.equal((await app.request("/flows/b")).status, 404);
 * await flows.close();
 * ```
 */
export function flowRoutes(options: FlowRoutesOptions): Hono {
  const app = new Hono();
  // "*" once: "/" and "/*" both match the list route, which then ran
  // each middleware twice.
  for (const m of options.middleware ?? []) app.use("*", m);
  const ms = options.requestTimeoutMs;
  const limited = timeout(
    ms,
    // Still waiting for the body: the client is slow (408), and nothing was
    // done. This timer starts before the body is read, so it is the one
    // that fires for a body that stalls.
    (c) =>
      _readingBody.has(c.req.raw) ? _bodyTimeout(ms) : new HttpError(
        503,
        `the request took over ${ms} ms and was abandoned; it may still complete: check GET /flows`,
      ),
  );
  const flows = options.flows;
  // The list is the same between two changes of a flow: serialized again
  // only when the manager's key for it is a new one.
  const lists = new WeakMap<object, _JsonBody>();
  const reads: _FlowReads = new WeakMap();
  app.get("/", (c) => {
    const key = flows.listKey();
    let body = lists.get(key);
    if (body === undefined) {
      lists.set(key, body = _jsonBody({ flows: flows.list() }, true));
    }
    return _jsonResponse(c, body);
  });
  app.post("/", limited, (c) => _create(options, c));
  app.get("/:id", (c) => _read(flows, reads, c));
  app.put("/:id", limited, (c) => _put(options, c));
  app.patch("/:id", limited, (c) => _patch(options, c));
  app.delete("/:id", limited, async (c) => {
    const id = c.req.param("id");
    await flows.delete(id, {
      rev: _anyRev(_expectedRev(c, _currentRev(flows, id))),
      by: _actorOf(c.req.raw),
    });
    return c.body(null, 204);
  });
  app.post("/:id/start", limited, async (c) => {
    const info = await flows.start(c.req.param("id"), {
      by: _actorOf(c.req.raw),
    });
    return _json(c, info, 200, { ETag: _etag(info.rev) });
  });
  app.post("/:id/stop", limited, (c) => _stop(options, c));
  app.get("/:id/stats", (c) => _json(c, flows.stats(c.req.param("id"))));
  const streams = new _EventStreams(
    flows,
    options.eventStreams,
    options.log,
    options.signal,
  );
  app.get("/:id/events", (c) => _events(options, streams, c));
  const taps = new _TapStreams(
    flows,
    options.outputs,
    options.log ?? _defaultStreamLog,
    options.signal,
    options.maxTaps,
  );
  app.get("/:id/tap", (c) => {
    const id = c.req.param("id");
    const req = _TapStreams.parse((name) => _query(c, name));
    // A HEAD gets the headers only: a stream nobody reads would never end.
    if (c.req.method === "HEAD") {
      flows.get(id);
      return c.body(null, 200, _EVENT_STREAM_HEADERS);
    }
    return taps.open(id, req);
  });
  for (
    const [path, allow] of [
      ["/", "GET, HEAD, POST"],
      ["/:id", "GET, HEAD, PUT, PATCH, DELETE"],
      ["/:id/start", "POST"],
      ["/:id/stop", "POST"],
      ["/:id/stats", "GET, HEAD"],
      // An event stream answers HEAD with its headers, opening none.
      ["/:id/events", "GET, HEAD"],
      ["/:id/tap", "GET, HEAD"],
    ]
  ) {
    _methodNotAllowed(app, path, allow);
  }
  return app;
}

/**
 * The rev of flow `id` now, or `undefined` when there is none: for an
 * If-Match list to pick the tag that names it (`_expectedRev`).
 */
function _currentRev(flows: FlowManager, id: string): () => number | undefined {
  return () => {
    try {
      return flows.get(id).rev;
    } catch {
      // No such flow (or no such id): the change itself says so.
      return undefined;
    }
  };
}

/** The context of a route with an `:id`. */
type _IdContext = Context<BlankEnv, "/:id">;

async function _create(o: FlowRoutesOptions, c: Context): Promise<Response> {
  const input = await _readGraph(
    c,
    o.maxBodyBytes,
    o.requestTimeoutMs,
    o.maxBodyDepth,
  );
  const id = _query(c, "id");
  const start = _queryBool(c, "start", true);
  const info = await o.flows.create({
    ...input,
    id,
    start,
    by: _actorOf(c.req.raw),
  });
  return _json(c, info, 201, {
    Location: `/flows/${encodeURIComponent(info.id)}`,
    ETag: _etag(info.rev),
  });
}

/**
 * The body and entity tag answered for a flow, under the flow manager's
 * key for what the flow shows (`FlowManager.infoKey`): made once per
 * change of the flow, and gone with the key.
 */
type _FlowReads = WeakMap<object, { tag: string; body: _JsonBody }>;

/**
 * A flow as stored and running. Its entity tag is its rev and a hash of
 * the body (`_bodyTag`): a GET whose If-None-Match names it gets a 304
 * without the body. Checked here, not
 * with `hono/etag`: the tag is known before the body is built, and that
 * middleware's wrapper cost every read about a tenth of its throughput
 * (bench/versus.ts serve). The body is made and serialized again only
 * when the flow shows something new (its state, restarts, graph...): the
 * manager's key for it tells, without making its info.
 */
function _read(
  flows: FlowManager,
  reads: _FlowReads,
  c: _IdContext,
): Response {
  const id = c.req.param("id");
  const key = flows.infoKey(id);
  let kept = reads.get(key);
  if (kept === undefined) reads.set(key, kept = _flowBody(flows, id));
  return _tagMatches(_header(c, "if-none-match"), kept.tag)
    ? c.body(null, 304, { ETag: kept.tag })
    : _jsonResponse(c, kept.body, 200, { ETag: kept.tag });
}

/** The entity tag and body of flow `id` as it is now (see `_read`). */
function _flowBody(
  flows: FlowManager,
  id: string,
): { tag: string; body: _JsonBody } {
  const info = flows.get(id);
  let body: _JsonBody;
  try {
    const source = flows.source(id);
    body = _jsonBody(
      {
        ...info,
        source: { format: source.format, text: source.text },
        graph: source.graph,
      },
      true,
    );
  } catch (e) {
    // A stored text that no longer parses (written by an older weir) is
    // the server's state, not a fault of this request: show the text, so
    // that it can be fixed, and why it does not parse.
    if (!(e instanceof GraphError)) throw e;
    const src = flows.stored(id);
    body = _jsonBody(
      {
        ...info,
        source: { format: src.format, text: src.text },
        graph: null,
        problems: e.problems.map(_problemJson),
      },
      true,
    );
  }
  return { tag: _bodyTag(info.rev, body.text), body };
}

async function _put(o: FlowRoutesOptions, c: _IdContext): Promise<Response> {
  const id = c.req.param("id");
  const rev = _expectedRev(c, _currentRev(o.flows, id));
  const start = _queryBool(c, "start", true);
  const input = await _readGraph(
    c,
    o.maxBodyBytes,
    o.requestTimeoutMs,
    o.maxBodyDepth,
  );
  // One step in the flow manager: concurrent PUTs of a new id create it
  // once and replace it after, never a 409 for an upsert.
  const { info, created } = await o.flows.put(id, input, {
    rev: rev === "*" ? undefined : rev,
    mustExist: rev === "*",
    start,
    by: _actorOf(c.req.raw),
  });
  return created
    ? _json(c, info, 201, {
      Location: `/flows/${encodeURIComponent(info.id)}`,
      ETag: _etag(info.rev),
    })
    : _json(c, info, 200, { ETag: _etag(info.rev) });
}

async function _patch(o: FlowRoutesOptions, c: _IdContext): Promise<Response> {
  const id = c.req.param("id");
  const rev = _expectedRev(c, _currentRev(o.flows, id));
  const type = _mediaType(c);
  if (type === null || !_JSON_TYPES.test(type)) {
    throw new HttpError(
      415,
      `PATCH takes a JSON merge patch (application/merge-patch+json or application/json), received ${
        type === null ? "no Content-Type" : `"${excerpt(type, 100)}"`
      }`,
    );
  }
  const text = await _readBody(c, o.maxBodyBytes, o.requestTimeoutMs);
  _checkJsonDepth(
    text,
    o.maxBodyDepth ?? DEFAULT_MAX_BODY_DEPTH,
    "the merge patch",
  );
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch (e) {
    throw new HttpError(
      400,
      `the merge patch is not valid JSON: ${(e as Error).message}`,
    );
  }
  const info = await o.flows.patch(id, patch, {
    rev: _anyRev(rev),
    by: _actorOf(c.req.raw),
  });
  return _json(c, info, 200, { ETag: _etag(info.rev) });
}

async function _stop(o: FlowRoutesOptions, c: _IdContext): Promise<Response> {
  const t = _query(c, "timeout");
  let timeoutMs: number | undefined;
  if (t !== undefined) {
    if (!/^\d{1,9}$/.test(t) || Number(t) >= o.requestTimeoutMs) {
      throw new HttpError(
        400,
        `timeout must be a whole number of milliseconds below the request timeout (${o.requestTimeoutMs}), received "${
          excerpt(t, 40)
        }"`,
      );
    }
    timeoutMs = Number(t);
  }
  const info = await o.flows.stop(c.req.param("id"), {
    timeoutMs,
    by: _actorOf(c.req.raw),
  });
  return _json(c, info, 200, { ETag: _etag(info.rev) });
}

function _events(
  o: FlowRoutesOptions,
  streams: _EventStreams,
  c: _IdContext,
): Response {
  const id = c.req.param("id");
  o.flows.get(id);
  const q = _query(c, "interval");
  let every = o.eventsIntervalMs;
  if (q !== undefined) {
    if (!/^\d{1,9}$/.test(q) || Number(q) < 100 || Number(q) > 60_000) {
      // Under a minute, so an idle stream is never cut by a proxy's or
      // Bun's idle timeout.
      throw new HttpError(
        400,
        `interval must be a whole number of milliseconds from 100 to 60000, received "${
          excerpt(q, 40)
        }"`,
      );
    }
    every = Number(q);
  }
  // A HEAD gets the headers only: a stream nobody reads would never end.
  if (c.req.method === "HEAD") {
    return c.body(null, 200, _EVENT_STREAM_HEADERS);
  }
  return streams.open(id, every);
}
