/**
 * `http/In` and `http/Response`: a flow serves HTTP routes under the weir
 * server, at `/in/<flow>/<path>`. `http/In` turns each request into a
 * message; `http/Response` answers it from a message that carries the
 * request's `requestId`. Both are made for one {@linkcode HttpInRouter},
 * the table the server owns.
 *
 * @module
 */
import {
  type Component,
  defineComponent,
  parseDuration,
  type ProcessProblem,
  type ProcessSettings,
} from "../engine/component.ts";
import { encodeBody, parseMethods } from "./http_body.ts";
import {
  _httpInError,
  type HttpInMessage,
  type HttpInRouter,
} from "./http_in_router.ts";
import {
  compileRoutePattern,
  type RoutePattern,
  sharedRoute,
} from "./http_route_pattern.ts";

/** Default of `http/In`'s `timeout`: 30 s. */
export const DEFAULT_HTTP_IN_TIMEOUT_MS = 30_000;
/** Default of `http/In`'s `maxBody`: 1 MiB. */
export const DEFAULT_HTTP_IN_MAX_BODY = 1024 * 1024;
/** Default of `http/In`'s `maxPending`: 1000 requests. */
export const DEFAULT_HTTP_IN_MAX_PENDING = 1000;

interface HttpInState {
  /** Removes the route (answering its waiting requests 503). */
  remove: () => void;
}

function _positiveInteger(what: string, max: number) {
  return (value: unknown): number => {
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new RangeError(
        `expected ${what} as a positive integer, received ${
          JSON.stringify(value)
        }`,
      );
    }
    if ((value as number) > max) {
      throw new RangeError(
        `expected ${what} up to ${max}, received ${value}`,
      );
    }
    return value as number;
  };
}

function _timeout(value: unknown): number {
  const ms = parseDuration(value);
  if (ms < 1 || ms > 2 ** 31 - 1) {
    throw new RangeError(
      `expected a timeout from 1 ms to 2147483647 ms, received ${
        JSON.stringify(value)
      }`,
    );
  }
  return ms;
}

function _pathPattern(value: unknown): string {
  compileRoutePattern(value);
  return value as string;
}

interface _Route {
  process: string;
  methods: readonly string[];
  pattern: RoutePattern;
}

/**
 * `http/In`'s check across a flow's processes: a problem for each one that
 * serves a method and path an earlier one serves already (the same pattern
 * up to parameter names and a trailing `/`, as the router compares them),
 * since the router would refuse it at the flow's start. Only routes the
 * graph's initial packets settle count: a `method` or `path` fed by a
 * connection or an exported port is known only when the flow runs, where
 * the router checks it. One function for every `http/In` made, so that
 * those of two registries in one flow are checked together.
 */
function _sharedRoutes(
  processes: readonly ProcessSettings[],
): ProcessProblem[] {
  const problems: ProcessProblem[] = [];
  const routes: _Route[] = [];
  for (const { process, settings } of processes) {
    const route = _routeOf(process, settings);
    if (route === undefined) continue;
    for (const r of routes) {
      const both = sharedRoute(
        r.methods,
        r.pattern,
        route.methods,
        route.pattern,
      )
        .join(",");
      if (both === "") continue;
      problems.push({
        process,
        message:
          `Cannot serve ${both} ${route.pattern.source} from process "${process}" (http/In): process "${r.process}" serves ${both} ${r.pattern.source} already, the same method and path, so the flow would fail to start; give each http/In its own method or path`,
      });
      break;
    }
    routes.push(route);
  }
  return problems;
}

/** The route of an `http/In` process, when its settings settle it. */
function _routeOf(
  process: string,
  settings: Readonly<Record<string, unknown>>,
): _Route | undefined {
  const { method, path } = settings;
  if (!Array.isArray(method) || typeof path !== "string") return undefined;
  try {
    return { process, methods: method, pattern: compileRoutePattern(path) };
  } catch {
    return undefined; // A bad pattern is the path port's problem.
  }
}

/**
 * `http/In` serving its routes through `router`, or, without one, a
 * component whose flow fails to start with a sentence saying that this
 * host serves no `/in/` routes (`weir run`). Each request to
 * `/in/<flow><path>` with one of its `method`s becomes a message on
 * `out`: `{ requestId, method, path, params, query, headers, body }`,
 * the body read by its content type (JSON parsed, text, a form as an
 * object, else bytes; `null` when empty) and refused past `maxBody` (413).
 * The request waits for an `http/Response` of the same flow to answer its
 * `requestId`, for up to `timeout` (then 504). A request that arrives while
 * the flow's `out` connection is full waits for room (back pressure onto
 * the clients); past `maxPending` requests held at once, new ones get 503.
 * When the flow drains, new requests get 503; when it stops, so do the
 * waiting ones, and the route is gone (404).
 *
 * Two `http/In` of one flow cannot serve the same method and path (the
 * same pattern up to parameter names and a trailing `/`): validating the
 * graph finds it (its `checkProcesses`) when initial packets give both
 * routes, naming both; otherwise the second one's flow fails to start and
 * says which process has it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { httpIn } from "./http_in.ts";
 * import { HttpInRouter } from "./http_in_router.ts";
 *
 * const In = httpIn(new HttpInRouter());
 * assert.equal(In.name, "http/In");
 * assert.deepEqual(In.inPorts.method.parse?.(["get", "post"]), ["GET", "POST"]);
 * assert.throws(() => In.inPorts.path.parse?.("readings"), /must start with "\/"/);
 * const shared = In.checkProcesses?.([
 *   { process: "A", settings: { method: ["GET"], path: "/a/:x" } },
 *   { process: "B", settings: { method: ["GET", "POST"], path: "/a/:y/" } },
 * ]);
 * assert.deepEqual(shared?.map((p) => p.process), ["B"]);
 * ```
 */
export function httpIn(router?: HttpInRouter): Component {
  return defineComponent<HttpInState>({
    name: "http/In",
    description:
      "Serves an HTTP route of its flow at /in/<flow><path>: each request becomes a message for http/Response to answer.",
    inPorts: {
      method: {
        control: true,
        default: ["GET"],
        parse: parseMethods,
        description:
          'The method or list of methods served, e.g. "POST" or ["GET", "POST"] (default GET; a GET route answers HEAD too, unless one of the flow names HEAD on its path).',
      },
      path: {
        type: "string",
        control: true,
        required: true,
        parse: _pathPattern,
        description:
          'The path under /in/<flow>, with :name parameters and an optional trailing *, e.g. "/readings/:sensor".',
      },
      timeout: {
        type: "duration",
        control: true,
        default: DEFAULT_HTTP_IN_TIMEOUT_MS,
        parse: _timeout,
        description:
          'How long a request waits for http/Response before it gets 504, e.g. "5s" (default 30 s).',
      },
      maxBody: {
        type: "integer",
        control: true,
        default: DEFAULT_HTTP_IN_MAX_BODY,
        parse: _positiveInteger("a body size in bytes", 2 ** 30),
        description:
          "The largest request body accepted, in bytes; larger ones get 413 (default 1 MiB, at most 1 GiB).",
      },
      maxPending: {
        type: "integer",
        control: true,
        default: DEFAULT_HTTP_IN_MAX_PENDING,
        parse: _positiveInteger("a number of requests", 1_000_000),
        description:
          "Requests this route holds at once (waiting for room in the flow or for their answer); more get 503 (default 1000).",
      },
    },
    outPorts: {
      out: {
        type: "object",
        description:
          "One message per request: { requestId, method, path, params, query, headers, body }.",
      },
    },
    meters: [
      {
        name: "http_in_requests_total",
        type: "counter",
        help:
          "Requests that reached this http/In's route (any method it serves), answered or not.",
        moves:
          "on each request matching the route's path and method, before its body is read; refused ones (413, 503) count too",
      },
      {
        name: "http_in_timeouts_total",
        type: "counter",
        help:
          "Requests of this route answered 504 because no http/Response answered within its timeout, or 408 because their body did not arrive within it.",
        moves:
          "when a request's timeout passes without an answer (a flow that drops or loses requests) or before its body arrived (a slow or stalled client)",
      },
      {
        name: "http_in_requests_in_flight",
        type: "gauge",
        help:
          "Requests of this route waiting now for room in the flow or for their answer.",
        moves:
          "up when a request enters the flow, down when it is answered, times out or the flow stops; near maxPending, new ones get 503",
      },
    ],
    setup(ctx) {
      if (router === undefined) {
        throw new Error(
          `http/In ("${ctx.process}") serves routes only under weir serve: this host has no HTTP server for /in/ routes`,
        );
      }
      const path = ctx.control<string | undefined>("path");
      if (typeof path !== "string") {
        throw new Error(
          `http/In ("${ctx.process}") needs its path as an initial value (IIP), e.g. '/readings/:sensor' -> path ${ctx.process}`,
        );
      }
      const out = ctx.out.out;
      const remove = router.add({
        flow: ctx.network,
        process: ctx.process,
        methods: ctx.control<string[]>("method"),
        pattern: compileRoutePattern(path),
        timeoutMs: ctx.control<number>("timeout"),
        maxBodyBytes: ctx.control<number>("maxBody"),
        maxPending: ctx.control<number>("maxPending"),
        deliver: (message: HttpInMessage) => out.send(message),
        meters: {
          requests: ctx.meter("http_in_requests_total"),
          timeouts: ctx.meter("http_in_timeouts_total"),
          inFlight: ctx.meter("http_in_requests_in_flight"),
        },
      });
      return { remove };
    },
    async run(ctx) {
      // Requests arrive through the router; this loop only lives as long
      // as the route is open.
      const signal = ctx.signal;
      if (!signal.aborted) {
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true })
        );
      }
      router?.close(ctx.network, ctx.process);
    },
    teardown(ctx) {
      ctx.state?.remove();
    },
    checkProcesses: _sharedRoutes,
  });
}

/**
 * `http/Response` answering through `router`: each message answers the
 * waiting request named by its `requestId` (as `http/In` sent it, kept in
 * the message):
 *
 * - `{ requestId, status?, headers?, body? }`: that status (default 200),
 *   those headers and that body;
 * - a message that still has the request's `method` (the request message
 *   itself, changed or not, e.g. `http/In -> http/Response` to echo): its
 *   `status` and `body`; its `headers` are the request's and are not sent
 *   back;
 * - any other object with a `requestId`: its other fields as a JSON body.
 *
 * A body is sent as text (`text/plain`) when a string, as bytes
 * (`application/octet-stream`) when a `Uint8Array`, as nothing when
 * `null`, else as JSON; a `content-type` header overrides that. A message
 * whose request no longer waits (it timed out, or was answered) or that is
 * not a valid answer goes to `error` (the client of a bad answer gets 500).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { httpResponse } from "./http_in.ts";
 * import { HttpInRouter } from "./http_in_router.ts";
 *
 * const Response = httpResponse(new HttpInRouter());
 * assert.equal(Response.name, "http/Response");
 * ```
 */
export function httpResponse(router?: HttpInRouter): Component {
  return defineComponent({
    name: "http/Response",
    description:
      "Answers the http/In request named by the message's requestId with its status, headers and body.",
    inPorts: {
      in: {
        type: "object",
        description:
          "{ requestId, status?, headers?, body? }, or the request message itself (echo), or { requestId, ...fields } (a JSON body).",
      },
    },
    process(value, ctx) {
      const msg = value as Record<string, unknown>;
      const id = msg !== null && typeof msg === "object"
        ? msg.requestId
        : undefined;
      if (typeof id !== "number") {
        throw new TypeError(
          "Cannot answer: the message has no requestId (keep the requestId of http/In's message in what reaches http/Response)",
        );
      }
      let response: Response;
      try {
        response = toHttpResponse(msg);
      } catch (e) {
        router?.respond(
          ctx.network,
          id,
          _httpInError(
            500,
            `the flow's answer was not valid: ${(e as Error).message}`,
          ),
        );
        throw new TypeError(
          `Cannot answer request ${id}: ${(e as Error).message}`,
        );
      }
      if (router === undefined || !router.respond(ctx.network, id, response)) {
        throw new Error(
          `Cannot answer request ${id}: it no longer waits (it timed out, was answered already, or is not this flow's)`,
        );
      }
    },
  });
}

/**
 * The HTTP response a message asks for (see {@linkcode httpResponse}).
 * Throws a `TypeError` or `RangeError` when it is not a valid answer (a
 * status outside 200 to 599, a header that is not a string or number, a
 * body JSON cannot hold).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toHttpResponse } from "./http_in.ts";
 *
 * const res = toHttpResponse({ requestId: 1, status: 201, headers: { "x-a": "1" }, body: { ok: true } });
 * assert.equal(res.status, 201);
 * assert.equal(res.headers.get("content-type"), "application/json");
 * assert.equal(await res.text(), '{"ok":true}');
 * const echo = toHttpResponse({ requestId: 2, method: "POST", headers: { host: "x" }, body: "hi" });
 * assert.equal(echo.headers.get("host"), null);
 * assert.equal(await echo.text(), "hi");
 * ```
 */
export function toHttpResponse(msg: Record<string, unknown>): Response {
  const isRequest = typeof msg.method === "string";
  const shaped = isRequest || "status" in msg || "body" in msg ||
    "headers" in msg;
  let bodyValue: unknown;
  if (shaped) {
    bodyValue = msg.body;
  } else {
    const rest: Record<string, unknown> = {};
    for (const k in msg) if (k !== "requestId") rest[k] = msg[k];
    bodyValue = rest;
  }
  const status = msg.status ?? 200;
  if (
    typeof status !== "number" || !Number.isInteger(status) || status < 200 ||
    status > 599
  ) {
    throw new RangeError(
      `status must be an integer from 200 to 599, received ${
        JSON.stringify(status)
      }`,
    );
  }
  const custom = !isRequest && msg.headers !== undefined &&
    msg.headers !== null;
  // Without headers of its own, a plain object: Deno sends a response made
  // so on its fast path.
  const headers: Headers | Record<string, string> = custom
    ? _headers(msg.headers)
    : {};
  if (status === 204 || status === 205 || status === 304) {
    return new Response(null, { status, headers });
  }
  const { body, type } = encodeBody(bodyValue);
  if (type !== null) {
    if (!custom) (headers as Record<string, string>)["content-type"] = type;
    else if (!(headers as Headers).has("content-type")) {
      (headers as Headers).set("content-type", type);
    }
  }
  if (custom) _sandboxMarkup(headers as Headers);
  return new Response(body as ConstructorParameters<typeof Response>[0], {
    status,
    headers,
  });
}

/**
 * Media types a browser shows as data, never as a document that runs
 * scripts in the server's origin: every other type is sandboxed (an
 * allow-list: `text/xsl`, `multipart/x-mixed-replace` and the like render
 * as pages too).
 */
const _INERT =
  /^(text\/(plain|csv|css|event-stream)|application\/(json|[!#$%&'*.^_`|~0-9a-z-]+\+json|x-ndjson|octet-stream|x-protobuf|protobuf|pdf|zip|gzip)|image\/(png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)|audio\/[!#$%&'*+.^_`|~0-9a-z-]+|video\/[!#$%&'*+.^_`|~0-9a-z-]+|font\/[!#$%&'*+.^_`|~0-9a-z-]+)\s*(;|$)/i;
/** A media type `type/subtype` (RFC 9110's tokens), before any parameter. */
const _MEDIA_TYPE =
  /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+\s*(;|$)/i;
/** Types a browser sniffs the body of (WHATWG MIME Sniffing, 7.1). */
const _SNIFFED = /^(unknown\/unknown|application\/unknown|\*\/\*)\s*(;|$)/i;

/**
 * A page a flow serves (HTML, SVG, XML, XSL: anything a browser may run
 * scripts in; every type but the inert ones of `_INERT`: text, JSON, CSV,
 * bytes, raster images, audio, video, fonts) gets
 * `Content-Security-Policy: sandbox ...`: its scripts and forms work, but
 * in an origin of its own, never weir's, so a flow that echoes its input
 * into a page cannot become a script that drives weir's API. So does a
 * body a browser would sniff, and might run as a page: no content type,
 * one that does not parse, or `unknown/unknown`, `*\/*`. Every such
 * answer also gets `X-Content-Type-Options: nosniff`. A policy the flow
 * sets itself is kept; both apply. Only flows that set their own headers
 * can serve these, so the common answers carry no extra header.
 */
function _sandboxMarkup(headers: Headers): void {
  const type = (headers.get("content-type") ?? "").trim();
  if (_MEDIA_TYPE.test(type) && !_SNIFFED.test(type) && _INERT.test(type)) {
    return;
  }
  headers.append(
    "content-security-policy",
    "sandbox allow-scripts allow-forms allow-popups allow-downloads",
  );
  headers.set("x-content-type-options", "nosniff");
}

/** A message's `headers` as `Headers`; throws a `TypeError` for a bad one. */
function _headers(value: unknown): Headers {
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      "headers must be an object of header names to values",
    );
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string" && typeof v !== "number") {
      throw new TypeError(
        `header ${JSON.stringify(k)} must be a string or a number`,
      );
    }
    try {
      // Several cookies, one per line, as http/Request gives them: each
      // its own Set-Cookie (one header cannot hold a line break).
      if (typeof v === "string" && k.toLowerCase() === "set-cookie") {
        for (const line of v.split(/\r?\n/)) {
          if (line.trim() !== "") headers.append(k, line);
        }
      } else headers.set(k, String(v));
    } catch {
      throw new TypeError(
        `header ${JSON.stringify(k.slice(0, 60))} is not a valid header`,
      );
    }
  }
  return headers;
}

/**
 * `http/In` with no router, for the catalogue and for hosts without an
 * HTTP server: a flow using it fails to start, saying so. `weir serve`
 * registers {@linkcode httpIn} with its router instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpIn } from "./http_in.ts";
 *
 * assert.equal(HttpIn.inPorts.path.required, true);
 * ```
 */
export const HttpIn: Component = httpIn();

/**
 * `http/Response` with no router, for the catalogue (see
 * {@linkcode HttpIn}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpResponse } from "./http_in.ts";
 *
 * assert.deepEqual(Object.keys(HttpResponse.outPorts), ["error"]);
 * ```
 */
export const HttpResponse: Component = httpResponse();
