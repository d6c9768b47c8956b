/**
 * The flow server's Hono app: the flow management API, health, version,
 * the component catalogue and `/metrics`, behind bearer-token access.
 *
 * Every error is a JSON body `{ "error": "..." }` (with `problems` for an
 * invalid graph), made in one place (`onError`); no stack trace ever
 * leaves the server.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Registry } from "../engine/registry.ts";
import { GraphError } from "../graph/graph_error.ts";
import type { Problem } from "../graph/problem.ts";
import type { MetricsCollector } from "../metrics/collector.ts";
import { VERSION } from "../version.ts";
import { Access, type AccessOptions, type Scope } from "./auth.ts";
import type { FlowEvent, FlowInput, FlowManager } from "./flows.ts";
import { metricsApp } from "./metrics_app.ts";

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
  /** The largest request body accepted (bytes); larger ones get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * How long a request may take (ms), its body included: a client that
   * sends its body slower gets 408, a handler that takes longer 503.
   * Event streams are not limited. Default 30000.
   */
  requestTimeoutMs?: number;
  /** How often `GET /flows/:id/events` sends a `stats` event (ms), unless the request asks (`?interval=`). Default 1000. */
  eventsIntervalMs?: number;
  /** Middleware run before every route, e.g. the HTTP metrics. Default none. */
  middleware?: readonly MiddlewareHandler[];
  /** Passed to the metrics app. Default 4. */
  maxConcurrentScrapes?: number;
  /**
   * Aborting it ends every event stream (a server that shuts down must not
   * wait for its SSE clients to leave). Default: none.
   */
  signal?: AbortSignal;
  /**
   * Told of each request that failed with an internal error (answered 500),
   * with the error. Default: `console.error`.
   */
  onInternalError?: (
    request: { method: string; path: string },
    error: unknown,
  ) => void;
}

/** Default of {@linkcode FlowAppOptions.maxBodyBytes}: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const JSON_TYPES = /^application\/(?:[\w.+-]*\+)?json$/;
const FBP_TYPES = new Set([
  "text/vnd.fbp",
  "text/x-fbp",
  "application/x-fbp",
  "text/plain",
]);
const ACCEPTED_GRAPH_TYPES =
  "application/json (fbp-graph JSON) or text/vnd.fbp (.fbp text; text/plain also works)";

/** Bytes of events queued for a client before snapshots are skipped. */
const SSE_HIGH_WATER_BYTES = 64 * 1024;
/** Bytes queued beyond that before a client that does not read is cut off. */
const SSE_BACKLOG_BYTES = 1024 * 1024;

/** An error the API answers with a status of its own. */
class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The flow server's Hono app. Mount it, or serve its `fetch`.
 *
 * @example
 * ```ts
 * import { builtins, FlowManager, FlowStore, MetricsCollector, flowApp } from "../../mod.ts";
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
 * res.status; // 201
 * await flows.close();
 * ```
 */
export function flowApp(options: FlowAppOptions): Hono {
  const { flows, metrics, components } = options;
  const access = options.access instanceof Access
    ? options.access
    : new Access(options.access);
  const maxBody = positiveInt(
    options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    "maxBodyBytes",
  );
  const timeoutMs = positiveInt(
    options.requestTimeoutMs ?? 30_000,
    "requestTimeoutMs",
  );
  const eventsMs = positiveInt(
    options.eventsIntervalMs ?? 1000,
    "eventsIntervalMs",
  );
  const onInternalError = options.onInternalError ??
    ((r: { method: string; path: string }, error: unknown) =>
      console.error(`weir: ${r.method} ${r.path} failed:`, error));
  const app = new Hono();

  for (const m of options.middleware ?? []) app.use(m);

  const guard =
    (scope: Scope | "auto"): MiddlewareHandler => async (c, next) => {
      const need: Scope = scope !== "auto"
        ? scope
        : c.req.method === "GET" || c.req.method === "HEAD"
        ? "read"
        : "write";
      const r = access.check(c.req.header("Authorization"), need);
      if (!r.ok) {
        throw new ApiError(
          r.status,
          r.message,
          r.status === 401 ? { "WWW-Authenticate": 'Bearer realm="weir"' } : {},
        );
      }
      await next();
    };
  const limited: MiddlewareHandler = async (c, next) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            // Still waiting for the body: the client is slow (408), and
            // nothing was done. This timer started first, so it is the one
            // that fires for a body that stalls.
            readingBody.has(c.req.raw) ? bodyTimeout(timeoutMs) : new ApiError(
              503,
              `the request took over ${timeoutMs} ms and was abandoned; it may still complete: check GET /flows`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };

  app.get("/healthz", (c) => json(c, { status: "ok" }));
  app.get("/readyz", (c) => {
    const r = flows.readiness();
    return json(c, r, r.ready ? 200 : 503);
  });
  app.get("/version", (c) => json(c, { version: VERSION, ...runtimeOf() }));

  for (const path of ["/metrics", "/api/v1/metadata"]) {
    app.use(path, guard("metrics"));
  }
  app.route(
    "/",
    metricsApp(metrics, { maxConcurrentScrapes: options.maxConcurrentScrapes }),
  );

  app.use("/components", guard("read"));
  app.get("/components", (c) =>
    json(c, {
      components: components.components().map((k) => ({
        name: k.name,
        aliases: components.aliasesOf(k.name),
        description: k.description,
        inPorts: Object.entries(k.inPorts).map(([name, p]) => ({
          name,
          type: p.type,
          required: p.required ?? false,
          control: p.control ?? false,
          description: p.description ?? "",
        })),
        outPorts: Object.entries(k.outPorts).map(([name, p]) => ({
          name,
          type: p.type,
          description: p.description ?? "",
        })),
      })),
    }));

  app.use("/flows", guard("auto"));
  app.use("/flows/*", guard("auto"));
  app.get("/flows", (c) => json(c, { flows: flows.list() }));
  app.post("/flows", limited, async (c) => {
    const input = await readGraph(c, maxBody, timeoutMs);
    const id = c.req.query("id");
    const start = queryBool(c, "start", true);
    const info = await flows.create({ ...input, id, start });
    return json(c, info, 201, {
      Location: `/flows/${encodeURIComponent(info.id)}`,
      ETag: etag(info.rev),
    });
  });
  app.get("/flows/:id", (c) => {
    const id = c.req.param("id");
    const info = flows.get(id);
    let graph: unknown;
    let problems: Record<string, unknown>[] | undefined;
    try {
      graph = flows.source(id).graph;
    } catch (e) {
      // A stored text that no longer parses (written by an older weir) is
      // the server's state, not a fault of this request: show the text, so
      // that it can be fixed, and why it does not parse.
      if (!(e instanceof GraphError)) throw e;
      graph = null;
      problems = e.problems.map(problemJson);
    }
    const src = flows.stored(id);
    return json(
      c,
      {
        ...info,
        source: { format: src.format, text: src.text },
        graph,
        ...(problems === undefined ? {} : { problems }),
      },
      200,
      { ETag: etag(info.rev) },
    );
  });
  app.put("/flows/:id", limited, async (c) => {
    const id = c.req.param("id");
    const rev = expectedRev(c);
    const start = queryBool(c, "start", true);
    const input = await readGraph(c, maxBody, timeoutMs);
    // One step in the flow manager: concurrent PUTs of a new id create it
    // once and replace it after, never a 409 for an upsert.
    const { info, created } = await flows.put(id, input, {
      rev: rev === "*" ? undefined : rev,
      mustExist: rev === "*",
      start,
    });
    return created
      ? json(c, info, 201, {
        Location: `/flows/${encodeURIComponent(info.id)}`,
        ETag: etag(info.rev),
      })
      : json(c, info, 200, { ETag: etag(info.rev) });
  });
  app.patch("/flows/:id", limited, async (c) => {
    const id = c.req.param("id");
    const rev = expectedRev(c);
    const type = mediaType(c);
    if (type === null || !JSON_TYPES.test(type)) {
      throw new ApiError(
        415,
        `PATCH takes a JSON merge patch (application/merge-patch+json or application/json), received ${
          type === null ? "no Content-Type" : `"${type}"`
        }`,
      );
    }
    const text = await readBody(c, maxBody, timeoutMs);
    let patch: unknown;
    try {
      patch = JSON.parse(text);
    } catch (e) {
      throw new ApiError(
        400,
        `the merge patch is not valid JSON: ${(e as Error).message}`,
      );
    }
    const info = await flows.patch(id, patch, { rev: anyRev(rev) });
    return json(c, info, 200, { ETag: etag(info.rev) });
  });
  app.delete("/flows/:id", limited, async (c) => {
    await flows.delete(c.req.param("id"), { rev: anyRev(expectedRev(c)) });
    return c.body(null, 204);
  });
  app.post("/flows/:id/start", limited, async (c) => {
    const info = await flows.start(c.req.param("id"));
    return json(c, info, 200, { ETag: etag(info.rev) });
  });
  app.post("/flows/:id/stop", limited, async (c) => {
    const t = c.req.query("timeout");
    let timeout: number | undefined;
    if (t !== undefined) {
      if (!/^\d{1,9}$/.test(t) || Number(t) >= timeoutMs) {
        throw new ApiError(
          400,
          `timeout must be a whole number of milliseconds below the request timeout (${timeoutMs}), received "${t}"`,
        );
      }
      timeout = Number(t);
    }
    const info = await flows.stop(c.req.param("id"), { timeoutMs: timeout });
    return json(c, info, 200, { ETag: etag(info.rev) });
  });
  app.get("/flows/:id/stats", (c) => json(c, flows.stats(c.req.param("id"))));
  app.get("/flows/:id/events", (c) => {
    const id = c.req.param("id");
    flows.get(id);
    const q = c.req.query("interval");
    let every = eventsMs;
    if (q !== undefined) {
      if (!/^\d{1,9}$/.test(q) || Number(q) < 100 || Number(q) > 60_000) {
        // Under a minute, so an idle stream is never cut by a proxy's or
        // Bun's idle timeout.
        throw new ApiError(
          400,
          `interval must be a whole number of milliseconds from 100 to 60000, received "${q}"`,
        );
      }
      every = Number(q);
    }
    // A HEAD gets the headers only: a stream nobody reads would never end.
    if (c.req.method === "HEAD") {
      return c.body(null, 200, {
        "Content-Type": "text/event-stream; charset=utf-8",
      });
    }
    return eventStream(flows, id, every, options.signal);
  });

  for (
    const [path, allow] of [
      ["/flows", "GET, HEAD, POST"],
      ["/flows/:id", "GET, HEAD, PUT, PATCH, DELETE"],
      ["/flows/:id/start", "POST"],
      ["/flows/:id/stop", "POST"],
      ["/flows/:id/stats", "GET, HEAD"],
      ["/flows/:id/events", "GET"],
      ["/components", "GET, HEAD"],
      ["/healthz", "GET, HEAD"],
      ["/readyz", "GET, HEAD"],
      ["/version", "GET, HEAD"],
    ]
  ) {
    app.all(path, (c) => {
      throw new ApiError(
        405,
        `method ${c.req.method} is not allowed on ${c.req.path}: use ${allow}`,
        { Allow: allow },
      );
    });
  }

  app.notFound((c) => errorResponse(c, 404, `no route for ${c.req.path}`));
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return errorResponse(c, error.status, error.message, error.headers);
    }
    if (error instanceof GraphError) {
      return json(c, {
        error: error.message.split("\n")[0],
        problems: error.problems.map(problemJson),
      }, 400);
    }
    const status = (error as { status?: unknown }).status;
    if (
      typeof status === "number" && status >= 400 && status < 600 &&
      !(error instanceof HTTPException)
    ) {
      return errorResponse(c, status, error.message);
    }
    if (error instanceof HTTPException) {
      return errorResponse(c, error.status, error.message || "bad request");
    }
    if (
      error instanceof RangeError && /call stack/i.test(error.message)
    ) {
      // Deeply nested JSON overflows the recursion of the graph reader or
      // the merge patch; the runtime's own words name neither.
      return errorResponse(
        c,
        400,
        "the request body is nested too deeply to read (JSON objects and arrays within each other thousands of levels deep); flatten it",
      );
    }
    if (error instanceof RangeError || error instanceof TypeError) {
      // The flow manager's argument checks: the request asked for
      // something impossible (a bad id, a patch that is not an object).
      return errorResponse(c, 400, error.message);
    }
    onInternalError({ method: c.req.method, path: c.req.path }, error);
    return errorResponse(
      c,
      500,
      `internal error while handling ${c.req.method} ${c.req.path}; the server log has the details`,
    );
  });
  return app;
}

function errorResponse(
  c: Context,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return json(c, { error: message }, status as 400, {
    "Cache-Control": "no-store",
    ...headers,
  });
}

function problemJson(p: Problem): Record<string, unknown> {
  return p.line === undefined
    ? { path: p.path, message: p.message }
    : { path: p.path, line: p.line, col: p.col ?? 1, message: p.message };
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new RangeError(
      `Cannot create the flow app: ${name} must be a positive integer up to 2^31-1, received ${value}`,
    );
  }
  return value;
}

function etag(rev: number): string {
  return `"${rev}"`;
}

/** The media type of the request body, lower case, without parameters. */
function mediaType(c: Context): string | null {
  const h = c.req.header("Content-Type");
  if (h === undefined || h.trim() === "") return null;
  const [type, ...params] = h.split(";");
  for (const p of params) {
    const [k, v] = p.split("=").map((s) => s.trim().toLowerCase());
    if (k === "charset" && v !== "utf-8" && v !== '"utf-8"' && v !== "utf8") {
      throw new ApiError(
        415,
        `the body must be UTF-8, received charset ${v}`,
      );
    }
  }
  return type.trim().toLowerCase();
}

/**
 * The revision the client expects: `If-Match: "3"` or `?rev=3`; `"*"` for
 * `If-Match: *` (RFC 9110: any revision, but the flow must exist).
 */
function expectedRev(c: Context): number | "*" | undefined {
  const header = c.req.header("If-Match");
  const query = c.req.query("rev");
  let rev: number | undefined;
  if (header?.trim() === "*") {
    if (query !== undefined) {
      throw new ApiError(
        400,
        `If-Match (*) and ?rev= (${query}) disagree; send one`,
      );
    }
    return "*";
  }
  if (header !== undefined) {
    const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header);
    if (m === null) {
      throw new ApiError(
        400,
        `If-Match must be a flow revision such as "3", received ${header}`,
      );
    }
    rev = Number(m[1]);
  }
  if (query !== undefined) {
    if (!/^\d{1,15}$/.test(query)) {
      throw new ApiError(
        400,
        `rev must be a whole number (the flow's revision), received "${query}"`,
      );
    }
    if (rev !== undefined && rev !== Number(query)) {
      throw new ApiError(
        400,
        `If-Match (${rev}) and ?rev= (${query}) disagree; send one`,
      );
    }
    rev = Number(query);
  }
  return rev;
}

/** A rev for a route where the flow must exist anyway: `*` checks nothing more. */
function anyRev(rev: number | "*" | undefined): number | undefined {
  return rev === "*" ? undefined : rev;
}

function queryBool(c: Context, name: string, fallback: boolean): boolean {
  const v = c.req.query(name);
  if (v === undefined || v === "") return fallback;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new ApiError(
    400,
    `${name} must be true or false, received "${v}"`,
  );
}

/** Reads a graph body and tells its format from the Content-Type. */
async function readGraph(
  c: Context,
  limit: number,
  timeoutMs: number,
): Promise<FlowInput> {
  const type = mediaType(c);
  let format: FlowInput["format"];
  if (type !== null && JSON_TYPES.test(type)) format = "json";
  else if (type !== null && FBP_TYPES.has(type)) format = "fbp";
  else {
    throw new ApiError(
      415,
      `a graph must be sent as ${ACCEPTED_GRAPH_TYPES}, received ${
        type === null ? "no Content-Type" : `"${type}"`
      }`,
    );
  }
  const text = await readBody(c, limit, timeoutMs);
  if (text.trim() === "") {
    throw new ApiError(400, "the request body is empty: send a graph");
  }
  return { text, format };
}

/** Requests whose body is being read now. */
const readingBody = new WeakSet<Request>();

function bodyTimeout(timeoutMs: number): ApiError {
  return new ApiError(
    408,
    `the request body did not arrive within ${timeoutMs} ms`,
  );
}

/**
 * The body as UTF-8 text, refused past `limit` bytes (413) or when it
 * takes longer than `timeoutMs` to arrive (408).
 */
async function readBody(
  c: Context,
  limit: number,
  timeoutMs: number,
): Promise<string> {
  const declared = c.req.header("Content-Length");
  const tooBig = () =>
    new ApiError(
      413,
      `the request body is larger than the ${limit}-byte limit`,
    );
  if (declared !== undefined && Number(declared) > limit) throw tooBig();
  const body = c.req.raw.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(bodyTimeout(timeoutMs)), timeoutMs);
  });
  readingBody.add(c.req.raw);
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), expired]);
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw tooBig();
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    if (e instanceof ApiError) throw e;
    // The client went away or broke the framing mid-body: its fault, not
    // an internal error worth a stack in the log.
    throw new ApiError(
      400,
      `the request body could not be read to its end: ${
        (e as Error)?.message || String(e)
      }`,
    );
  } finally {
    clearTimeout(timer);
    readingBody.delete(c.req.raw);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const ch of chunks) {
    all.set(ch, at);
    at += ch.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw new ApiError(400, "the request body is not valid UTF-8");
  }
}

/**
 * Server-sent events of one flow: `state`, `error`, `replaced`,
 * `deleted` (then the stream ends) and a `stats` snapshot every `everyMs`.
 */
function eventStream(
  flows: FlowManager,
  id: string,
  everyMs: number,
  signal: AbortSignal | undefined,
): Response {
  const encoder = new TextEncoder();
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const end = () => {
        stop();
        try {
          controller.close();
        } catch { /* closed already */ }
      };
      const send = (event: string, data: unknown) => {
        if (!open) return;
        // A client that stops reading must not make the server buffer
        // without bound: past the allowance it is cut off (its `retry`
        // brings it back when it reads again).
        if ((controller.desiredSize ?? 0) < -SSE_BACKLOG_BYTES) return end();
        try {
          controller.enqueue(
            encoder.encode(
              `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
            ),
          );
        } catch {
          stop();
        }
      };
      const stats = () => {
        // A snapshot only when the last one has been taken: the next one
        // supersedes it, so a slow client skips snapshots instead of
        // queueing them (each can be megabytes for a big flow).
        if ((controller.desiredSize ?? 0) <= 0) return;
        try {
          send("stats", flows.stats(id));
        } catch {
          // The flow is gone: its `deleted` event closes the stream.
        }
      };
      const unsubscribe = flows.subscribe(id, (e: FlowEvent) => {
        const { type, ...data } = e;
        send(type, data);
        if (type === "deleted") end();
      });
      const timer = setInterval(stats, everyMs);
      signal?.addEventListener("abort", end, { once: true });
      stop = () => {
        if (!open) return;
        open = false;
        clearInterval(timer);
        unsubscribe();
        signal?.removeEventListener("abort", end);
      };
      if (signal?.aborted) return end();
      // A retry hint, the current state and a first snapshot at once.
      controller.enqueue(
        encoder.encode(`retry: ${Math.max(everyMs, 1000)}\n\n`),
      );
      send("state", { state: flows.get(id).state });
      stats();
    },
    cancel() {
      stop();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: SSE_HIGH_WATER_BYTES }));
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    },
  });
}

/** The runtime's name and version, from the Web-standard user agent. */
function runtimeOf(): { runtime: string; runtimeVersion: string } {
  const ua = globalThis.navigator?.userAgent ?? "";
  const m = /^(Deno|Bun|Node\.js)\/(\S+)/.exec(ua);
  return m === null
    ? { runtime: "unknown", runtimeVersion: "" }
    : { runtime: m[1].toLowerCase(), runtimeVersion: m[2] };
}

const _encoder = new TextEncoder();

/**
 * `c.json()` with a `Content-Length`: Hono leaves it to the runtime, and
 * then the HTTP metrics cannot see a response's size.
 */
function json(
  c: Context,
  value: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  const body = _encoder.encode(JSON.stringify(value));
  return c.body(body, status as 200, {
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": String(body.byteLength),
  });
}
