/**
 * The table of routes that flows serve under `/in/<flow>/<path>`: `http/In`
 * processes add their routes when their flow starts and remove them when
 * it stops, the server hands each request under `/in/` to
 * {@linkcode HttpInRouter.handle}, and `http/Response` answers a request
 * by its id ({@linkcode HttpInRouter.respond}). The server owns one router
 * and gives it to the components (`builtins({ httpIn: router })`) and to
 * its routes (`flowApp({ httpIn: router })`).
 *
 * Nothing here waits for ever: a request no response answers gets 504
 * after its route's timeout, the requests of a flow that stops get 503,
 * and a route has a bound on the requests it holds at once.
 *
 * @module
 */
import { utf8Length } from "../engine/size.ts";
import {
  _JSON_TYPE,
  headersRecord,
  mediaType,
  parseBody,
  parseJsonBody,
  readLimited,
  requestHeaderRecord,
  searchParamsObject,
} from "./http_body.ts";
import { type RoutePattern, sharedRoute } from "./http_route_pattern.ts";

/** A number a component's meter holds (see `ctx.meter`). */
export interface HttpInMeter {
  /** Adds `n` (default 1). */
  add(n?: number): void;
  /** Sets the value. */
  set(value: number): void;
}

/** The message `http/In` sends for each request. */
export interface HttpInMessage {
  /** Pairs the request with its answer: keep it in the message `http/Response` gets. */
  requestId: number;
  /** `GET`, `POST`, ... */
  method: string;
  /** The path under `/in/<flow>` (`/readings/s1`), percent-encoded as sent. */
  path: string;
  /** The path pattern's parameters, decoded (`{ sensor: "s1" }`). */
  params: Record<string, string>;
  /** The query string's parameters (a name given twice: a list). */
  query: Record<string, string | string[]>;
  /**
   * The request headers, names in lower case, a repeated header once with
   * its values joined by `, ` (`set-cookie` too); in no set order (on Deno
   * as they came); never `authorization` or `proxy-authorization`.
   */
  headers: Record<string, string>;
  /** The body by content type: JSON parsed, text, a form as an object, else bytes; `null` when empty. */
  body: unknown;
}

/** A route as `http/In` adds it. */
export interface HttpInRouteSpec {
  /** The flow (network) name: the route is served under `/in/<flow>`. */
  flow: string;
  /** The process that serves it, for error messages. */
  process: string;
  /** The methods it answers (a `GET` route answers `HEAD` too). */
  methods: readonly string[];
  /** Its path pattern. */
  pattern: RoutePattern;
  /** How long a request waits for its answer before it gets 504 (ms). */
  timeoutMs: number;
  /** The largest body accepted (bytes); larger ones get 413. */
  maxBodyBytes: number;
  /** Requests held at once; more get 503. */
  maxPending: number;
  /**
   * Sends the request's message into the flow; a promise while the flow
   * has no room (the request waits), a throw when the flow cannot take it.
   */
  deliver(message: HttpInMessage): void | Promise<void>;
  /** Counted: every request the route took, every 504, the requests held now. */
  meters?: {
    requests?: HttpInMeter;
    timeouts?: HttpInMeter;
    inFlight?: HttpInMeter;
  };
}

/** A route in the table. */
interface _Route extends HttpInRouteSpec {
  /**
   * Requests waiting for their answer, a list from the oldest (`head`) to
   * the newest (`tail`), so their deadlines are in order; `count` of them.
   */
  head: _Pending | null;
  tail: _Pending | null;
  count: number;
  /** Armed for the oldest pending request's deadline. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The flow is stopping: new requests get 503. */
  closed: boolean;
  /**
   * Requests whose body is still arriving (they count toward
   * `maxPending` too), each with what ends its read early.
   */
  reading: Set<_Reading>;
}

/** A request whose body is being read: when it started, and its end. */
interface _Reading {
  /** The read sweep's tick when it started. */
  started: number;
  /**
   * Answers the request: ends the read with this answer (a deadline
   * passed, the flow stopped, the body refused), or the flow's answer.
   */
  stop: (response: Response) => void;
  /** Fails the request's promise (an error of the router's own). */
  fail: (error: unknown) => void;
  route: _Route;
  message: HttpInMessage;
}

/** How often the bodies being read are looked at (ms). */
const _READ_SWEEP_MS = 100;

/**
 * A JSON body read as text by the runtime, whose length in UTF-8 was
 * declared as `length`: the value, or a `SyntaxError` (see `#readBody`).
 */
function _jsonText(text: string, length: number): unknown {
  if (text.includes("\uFFFD") && utf8Length(text) !== length) {
    throw new SyntaxError("the body is not valid UTF-8 text");
  }
  return parseJsonBody(text);
}

/** A waiting request: an entry of its route's list. */
interface _Pending {
  id: number;
  prev: _Pending | null;
  next: _Pending | null;
  route: _Route;
  deadline: number;
  resolve: (response: Response) => void;
}

/** A JSON error answer, as the rest of the server gives them. */
export function _httpInError(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error: message }), {
    status,
    headers: {
      "Content-Type": "application/json",
      "Cache-Control": "no-store",
      ...headers,
    },
  });
}

/**
 * The routes flows serve and the requests waiting for an answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpInRouter } from "./http_in_router.ts";
 * import { compileRoutePattern } from "./http_route_pattern.ts";
 *
 * const router = new HttpInRouter();
 * const remove = router.add({
 *   flow: "f", process: "In", methods: ["GET"],
 *   pattern: compileRoutePattern("/hello/:name"),
 *   timeoutMs: 1000, maxBodyBytes: 1024, maxPending: 10,
 *   // The flow answers at once here; a real flow sends it to http/Response.
 *   deliver: (m) => void router.respond("f", m.requestId, new Response(`hi ${m.params.name}`)),
 * });
 * const res = await router.handle("f", "/hello/ann", new Request("http://x/in/f/hello/ann"));
 * assert.equal(await res?.text(), "hi ann");
 * assert.equal(router.handle("f", "/nope", new Request("http://x/in/f/nope")), undefined);
 * remove();
 * assert.equal(router.handle("f", "/hello/ann", new Request("http://x/in/f/hello/ann")), undefined);
 * ```
 */
export class HttpInRouter {
  readonly #flows = new Map<string, _Route[]>();
  // Keyed by number: string keys cost about 2 µs a request on Deno.
  readonly #pending = new Map<number, _Pending>();
  #next = 0;

  /**
   * Adds a route; returns the function that removes it (answering its
   * waiting requests 503). Throws an `Error` when the flow serves the same
   * method and path already (the same pattern up to parameter names). A
   * path two routes match goes to the more specific one
   * ({@linkcode _bySpecificity}), not the one added first.
   */
  add(spec: HttpInRouteSpec): () => void {
    const routes = this.#flows.get(spec.flow) ?? [];
    for (const r of routes) {
      const both = sharedRoute(
        r.methods,
        r.pattern,
        spec.methods,
        spec.pattern,
      );
      if (both.length > 0) {
        throw new Error(
          `Cannot serve ${
            both.join(",")
          } /in/${spec.flow}${spec.pattern.source} from process "${spec.process}": process "${r.process}" of flow "${spec.flow}" serves ${
            both.join(",")
          } ${r.pattern.source} already; give each http/In its own method or path`,
        );
      }
    }
    const route: _Route = {
      ...spec,
      head: null,
      tail: null,
      count: 0,
      timer: undefined,
      closed: false,
      reading: new Set(),
    };
    // The most specific first, whatever the order they were added in:
    // `/a/latest` is served by its own route beside `/a/:id`.
    let at = routes.length;
    while (
      at > 0 && _bySpecificity(route.pattern, routes[at - 1].pattern) < 0
    ) {
      at--;
    }
    routes.splice(at, 0, route);
    this.#flows.set(spec.flow, routes);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const list = this.#flows.get(spec.flow);
      const i = list?.indexOf(route) ?? -1;
      if (i >= 0) list!.splice(i, 1);
      if (list !== undefined && list.length === 0) {
        this.#flows.delete(spec.flow);
      }
      this.#abandon(route, `flow "${spec.flow}" stopped before answering`);
    };
  }

  /**
   * Closes the routes of process `process` of `flow` to new requests
   * (503, while the flow drains); the waiting ones may still be answered.
   */
  close(flow: string, process: string): void {
    for (const r of this.#flows.get(flow) ?? []) {
      if (r.process === process) r.closed = true;
    }
  }

  /** Whether `flow` serves any route now. */
  serves(flow: string): boolean {
    return this.#flows.has(flow);
  }

  /** Requests waiting for an answer, across every flow. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Answers a request under `/in/<flow>` whose path below it is `path`
   * (`/readings/s1`, as sent): the route's answer, a 405 when the path is
   * served for other methods only, or `undefined` when `flow` serves no
   * route for `path` (the server then answers 404, or 503 while the flow
   * starts).
   */
  handle(
    flow: string,
    path: string,
    request: Request,
  ): Response | Promise<Response> | undefined {
    const routes = this.#flows.get(flow);
    if (routes === undefined) return undefined;
    const method = request.method;
    let allowed: string[] | undefined;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i];
      const raw = r.pattern.match(path);
      if (raw === undefined) continue;
      if (!r.methods.includes(method)) {
        if (!(method === "HEAD" && r.methods.includes("GET"))) {
          (allowed ??= []).push(...r.methods);
          continue;
        }
        // A GET route answers HEAD unless a route of the same path names
        // HEAD itself: that one is there to answer it.
        const own = _namesHead(routes, i + 1, r.pattern.shape);
        if (own !== undefined) {
          return this.#take(own, own.pattern.match(path)!, path, request);
        }
      }
      return this.#take(r, raw, path, request);
    }
    if (allowed === undefined) return undefined;
    const methods = [...new Set(allowed)];
    // A GET route answers HEAD (above): said in Allow, after the GET.
    const get = methods.indexOf("GET");
    if (get >= 0 && !methods.includes("HEAD")) {
      methods.splice(get + 1, 0, "HEAD");
    }
    const allow = methods.join(", ");
    return _httpInError(
      405,
      `${method} is not served at /in/${flow}${path}; it answers ${allow}`,
      { Allow: allow },
    );
  }

  /**
   * Answers the waiting request `requestId` of `flow` with `response`;
   * `false` when no such request waits (answered already, timed out, or
   * another flow's).
   */
  respond(flow: string, requestId: number, response: Response): boolean {
    const p = this.#pending.get(requestId);
    if (p === undefined || p.route.flow !== flow) return false;
    this.#settle(p, response);
    return true;
  }

  /** Whether `requestId` of `flow` still waits for its answer. */
  waiting(flow: string, requestId: number): boolean {
    return this.#pending.get(requestId)?.route.flow === flow;
  }

  #take(
    r: _Route,
    raw: string[],
    path: string,
    request: Request,
  ): Response | Promise<Response> {
    r.meters?.requests?.add(1);
    if (r.closed) {
      return _httpInError(
        503,
        `flow "${r.flow}" is stopping and takes no new requests`,
        { "Retry-After": "1" },
      );
    }
    if (r.count + r.reading.size >= r.maxPending) {
      return _httpInError(
        503,
        `flow "${r.flow}" holds ${r.maxPending} requests of this route already (its maxPending); retry later`,
        { "Retry-After": "1" },
      );
    }
    const params: Record<string, string> = {};
    const names = r.pattern.params;
    for (let i = 0; i < names.length; i++) {
      try {
        const v = raw[i];
        params[names[i]] = v.includes("%") ? decodeURIComponent(v) : v;
      } catch {
        return _httpInError(
          400,
          `path parameter "${names[i]}" is not valid percent-encoding`,
        );
      }
    }
    const url = request.url;
    const q = url.indexOf("?");
    const query = q < 0 ? {} : searchParamsObject(url.slice(q + 1));
    const method = request.method;
    const message = _message(method, path, params, query, request);
    if (method === "GET" || method === "HEAD") {
      return new Promise((resolve) => this.#wait(r, message, resolve));
    }
    // Not `request.body === null`: on Deno, reading `body` makes a stream
    // and takes the body's slow path (about 40 µs a request).
    const declared = _header(message, request, "content-length");
    // Neither length nor chunks: no body on the wire (a Request made in
    // the process, e.g. by `app.request()`, may still have one).
    if (
      declared === undefined &&
      _header(message, request, "transfer-encoding") === undefined &&
      request.body === null
    ) {
      return new Promise((resolve) => this.#wait(r, message, resolve));
    }
    if (declared !== undefined && Number(declared) > r.maxBodyBytes) {
      return _tooBig(r.maxBodyBytes);
    }
    return this.#readTimed(r, message, request, declared);
  }

  /**
   * #readBody within the route's timeout: a body that has not arrived by
   * then is answered 408 (and its connection closed), one whose flow
   * stops meanwhile 503. Until then the request counts toward the route's
   * `maxPending`: a client that sends its bodies slowly holds at most that
   * many, for at most that long. A read ended early never reaches the
   * flow, even when its body arrives after all.
   *
   * One promise a request, resolved by whichever answers it first (the
   * read's end, a refusal, the flow): the echo of
   * `bench/http_in_bench.ts` answers every request through here.
   */
  #readTimed(
    r: _Route,
    message: HttpInMessage,
    request: Request,
    declared: string | undefined,
  ): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const reading: _Reading = {
        // A read that arms the sweep starts as its interval does: the
        // first tick is a whole sweep after it.
        started: this.#readSweep === undefined ? this.#tick - 1 : this.#tick,
        stop: resolve,
        fail: reject,
        route: r,
        message,
      };
      r.reading.add(reading);
      this.#armReadSweep();
      this.#readBody(reading, request, declared);
    });
  }

  /**
   * Ends a body's read: hands the message to the flow, or answers with
   * `refused` (400, 413). Nothing when the read was ended already (408 or
   * 503, and the message dropped).
   */
  #bodyRead(reading: _Reading, refused: Response | undefined): void {
    const r = reading.route;
    if (!r.reading.delete(reading)) return;
    try {
      if (refused !== undefined) reading.stop(refused);
      else this.#wait(r, reading.message, reading.stop);
    } catch (e) {
      reading.fail(e);
    }
  }

  /** The body, parsed into the message; or refused by why it is not. */
  #bodyParsed(reading: _Reading, parse: () => unknown): void {
    try {
      reading.message.body = parse();
    } catch (e) {
      return this.#bodyRefused(reading, e);
    }
    this.#bodyRead(reading, undefined);
  }

  /** A JSON body, read as text: #bodyParsed without a function made. */
  #jsonRead(reading: _Reading, text: string, length: number): void {
    try {
      reading.message.body = _jsonText(text, length);
    } catch (e) {
      return this.#bodyRefused(reading, e);
    }
    this.#bodyRead(reading, undefined);
  }

  #bodyRefused(reading: _Reading, e: unknown): void {
    this.#bodyRead(reading, _unreadable(e, reading.route.maxBodyBytes));
  }

  /**
   * One timer for every body being read: ends those past their deadline
   * (it runs only while some are, as a waiting request's timer does).
   * Reads start at its tick (no clock read a request): one is ended at
   * the first tick at least its route's timeout after its start.
   */
  #readSweep: ReturnType<typeof setInterval> | undefined;
  #tick = 0;

  #armReadSweep(): void {
    if (this.#readSweep !== undefined) return;
    this.#readSweep = setInterval(() => {
      const tick = ++this.#tick;
      let any = false;
      for (const routes of this.#flows.values()) {
        for (const r of routes) {
          for (const reading of r.reading) {
            any = true;
            // Started within tick `started`: at least (tick - started - 1)
            // sweeps ago.
            if ((tick - reading.started - 1) * _READ_SWEEP_MS < r.timeoutMs) {
              continue;
            }
            r.reading.delete(reading);
            r.meters?.timeouts?.add(1);
            reading.stop(_httpInError(
              408,
              `the request body did not arrive within ${r.timeoutMs} ms (process "${r.process}"'s timeout)`,
              { Connection: "close" },
            ));
          }
        }
      }
      if (!any) {
        clearInterval(this.#readSweep);
        this.#readSweep = undefined;
      }
    }, _READ_SWEEP_MS);
  }

  /**
   * Reads the body into the message by its content type, then ends the
   * read (#bodyRead) with the answer that refuses it (400, 413), or with
   * none once it is read. No `async`: one promise (the runtime's read) a
   * request, and no function made for it but the two the read calls.
   */
  #readBody(
    reading: _Reading,
    request: Request,
    declared: string | undefined,
  ): void {
    const r = reading.route;
    try {
      const type = _header(reading.message, request, "content-type");
      // A JSON body of a declared size (checked against the limit
      // already) is read by the runtime's own text reader: on Bun about
      // 0.8 µs a request less than reading its bytes and decoding them
      // here. That reader puts U+FFFD where bytes are not UTF-8; such a
      // body is refused (as it is read in bytes) when the text's length in
      // UTF-8 then differs from the declared one. It differs unless every
      // bad sequence is three bytes long (a 4-byte character cut short):
      // that one case, and a real U+FFFD, pass.
      if (
        declared !== undefined && type !== undefined &&
        (type === "application/json" || _JSON_TYPE.test(mediaType(type)))
      ) {
        const length = Number(declared);
        if (length === 0) return this.#bodyRead(reading, undefined);
        request.text().then(
          (text) => this.#jsonRead(reading, text, length),
          (e) => this.#bodyRefused(reading, e),
        );
        return;
      }
      const read = declared !== undefined
        ? request.arrayBuffer().then((b) => new Uint8Array(b))
        : readLimited(request.body!, r.maxBodyBytes);
      read.then(
        (bytes) =>
          bytes.byteLength > r.maxBodyBytes
            ? this.#bodyRead(reading, _tooBig(r.maxBodyBytes))
            : this.#bodyParsed(reading, () => parseBody(bytes, type)),
        (e) => this.#bodyRefused(reading, e),
      );
    } catch (e) {
      this.#bodyRefused(reading, e);
    }
  }

  /**
   * Hands `message` to the flow; `resolve` gets its answer (or a 503 when
   * the route closed meanwhile, a 504 past its deadline).
   */
  #wait(
    r: _Route,
    message: HttpInMessage,
    resolve: (response: Response) => void,
  ): void {
    // Read again: the route may have closed while the body arrived.
    if (r.closed || !this.#flows.get(r.flow)?.includes(r)) {
      return resolve(_httpInError(
        503,
        `flow "${r.flow}" is stopping and takes no new requests`,
        { "Retry-After": "1" },
      ));
    }
    const id = ++this.#next;
    message.requestId = id;
    const p: _Pending = {
      id,
      prev: r.tail,
      next: null,
      route: r,
      deadline: Date.now() + r.timeoutMs,
      resolve,
    };
    this.#pending.set(id, p);
    if (r.tail === null) r.head = p;
    else r.tail.next = p;
    r.tail = p;
    r.count++;
    r.meters?.inFlight?.set(r.count);
    if (r.timer === undefined) this.#arm(r);
    try {
      const sent = r.deliver(message);
      if (sent !== undefined) {
        sent.catch((e) => this.#undeliverable(id, e));
      }
    } catch (e) {
      this.#undeliverable(id, e);
    }
  }

  /** The flow could not take the request's message: 503. */
  #undeliverable(id: number, error: unknown): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#settle(
      p,
      _httpInError(
        503,
        `flow "${p.route.flow}" cannot take the request: ${_why(error)}`,
        { "Retry-After": "1" },
      ),
    );
  }

  #settle(p: _Pending, response: Response): void {
    this.#pending.delete(p.id);
    const r = p.route;
    if (p.prev === null) r.head = p.next;
    else p.prev.next = p.next;
    if (p.next === null) r.tail = p.prev;
    else p.next.prev = p.prev;
    r.count--;
    r.meters?.inFlight?.set(r.count);
    p.resolve(response);
  }

  /** Arms the route's timer for its oldest request, if any. */
  #arm(r: _Route): void {
    if (r.head === null) return;
    r.timer = setTimeout(
      () => this.#expire(r),
      Math.max(0, r.head.deadline - Date.now()),
    );
  }

  /** Answers 504 to every request of `r` past its deadline, then re-arms. */
  #expire(r: _Route): void {
    r.timer = undefined;
    const now = Date.now();
    while (r.head !== null && r.head.deadline <= now) {
      r.meters?.timeouts?.add(1);
      this.#settle(
        r.head,
        _httpInError(
          504,
          `flow "${r.flow}" did not answer within ${r.timeoutMs} ms (process "${r.process}"'s timeout)`,
        ),
      );
    }
    this.#arm(r);
  }

  /** Answers every waiting request of `r` with 503 and stops its timer. */
  #abandon(r: _Route, why: string): void {
    r.closed = true;
    if (r.timer !== undefined) clearTimeout(r.timer);
    r.timer = undefined;
    for (const reading of r.reading) {
      reading.stop(
        _httpInError(503, why, { "Retry-After": "1", Connection: "close" }),
      );
    }
    r.reading.clear();
    while (r.head !== null) {
      this.#settle(r.head, _httpInError(503, why, { "Retry-After": "1" }));
    }
  }
}

/** The first route from `from` on whose path is `shape` and that names HEAD. */
function _namesHead(
  routes: readonly _Route[],
  from: number,
  shape: string,
): _Route | undefined {
  for (let j = from; j < routes.length; j++) {
    const r = routes[j];
    if (r.pattern.shape === shape && r.methods.includes("HEAD")) return r;
  }
  return undefined;
}

/**
 * Orders two patterns by how specific they are: at the first segment where
 * their shapes differ in kind, a literal comes before a parameter, and a
 * parameter before `*`. Negative when `a` comes first; 0 keeps the order
 * they were added in.
 */
function _bySpecificity(a: RoutePattern, b: RoutePattern): number {
  const sa = a.shape.split("/");
  const sb = b.shape.split("/");
  const n = Math.min(sa.length, sb.length);
  for (let i = 0; i < n; i++) {
    const d = _segmentKind(sa[i]) - _segmentKind(sb[i]);
    if (d !== 0) return d;
  }
  return 0;
}

/** A shape segment's kind: 0 a literal, 1 a parameter, 2 the wildcard. */
function _segmentKind(segment: string): number {
  return segment === "*" ? 2 : segment.startsWith(":") ? 1 : 0;
}

function _tooBig(limit: number): Response {
  return _httpInError(
    413,
    `the request body is larger than the route's ${limit}-byte limit (its maxBody)`,
  );
}

/** Why a body could not be read, as the answer that refuses it. */
function _unreadable(e: unknown, limit: number): Response {
  if (e instanceof RangeError) return _tooBig(limit);
  if (e instanceof SyntaxError) {
    return _httpInError(
      400,
      e.message.startsWith("the body")
        ? e.message
        : `the body is not valid JSON: ${e.message}`,
    );
  }
  return _httpInError(
    400,
    `the request body could not be read to its end: ${_why(e)}`,
  );
}

/** What was thrown, as text, whatever it is (even an object with no string form). */
function _why(e: unknown): string {
  try {
    const message = (e as Error)?.message;
    return typeof message === "string" ? message : String(e);
  } catch {
    return "an unreadable error";
  }
}

/**
 * The request headers a flow sees: every one but the credentials of the
 * caller. `Authorization` carries the weir token that passed the `in`
 * scope (a flow author must not read the server's tokens, nor a
 * `core/Output` log them), and `Proxy-Authorization` a proxy's.
 */
/**
 * The message of a request, its headers without credentials. On Bun the
 * `headers` record is made when a process first reads it (an accessor
 * that then keeps the record; assigning replaces it): Bun hands a
 * request's headers one call at a time from its own `Headers` object,
 * which it keeps after the answer, and a flow that never reads them (an
 * echo, a webhook that takes the body) saves about 0.4 µs a request. On
 * Deno the record is made at once from the header lines read in one op
 * (`eachRequestHeader`): an accessor costs V8 more there than the record
 * (an object literal with an accessor about 500 ns, the record 170).
 */
function _message(
  method: string,
  path: string,
  params: Record<string, string>,
  query: Record<string, string | string[]>,
  request: Request,
): HttpInMessage {
  if (!_LAZY_HEADERS) {
    return {
      requestId: 0,
      method,
      path,
      params,
      query,
      headers: requestHeaderRecord(request, _CREDENTIALS),
      body: null,
    };
  }
  const source = request.headers;
  let record: Record<string, string> | undefined;
  return {
    requestId: 0,
    method,
    path,
    params,
    query,
    get headers(): Record<string, string> {
      // Made once (a copy of the accessor shares it, as a copy of the
      // field would share the record), then a plain field of this message.
      record ??= headersRecord(source, _CREDENTIALS);
      _headersField(this, record, false);
      return record;
    },
    set headers(value: Record<string, string>) {
      _headersField(this, value, true);
    },
    body: null,
  };
}

/**
 * Makes `headers` a plain field of `message` holding `value`, so that it
 * behaves from then on as on Deno (an assigned `null` stays, a frozen
 * message refuses a new value, its descriptor is a value's). On a message
 * frozen or sealed before the first read, a read keeps the accessor
 * (`assigned` false), an assignment throws the `TypeError` an assignment
 * to a read-only field throws.
 */
function _headersField(
  message: HttpInMessage,
  value: Record<string, string>,
  assigned: boolean,
): void {
  try {
    Object.defineProperty(message, "headers", {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } catch {
    if (assigned) {
      throw new TypeError(
        "Cannot assign to read only property 'headers' of the message",
      );
    }
  }
}

/** Whether {@linkcode _message} makes the headers record when first read. */
const _LAZY_HEADERS = "Bun" in globalThis;

/**
 * A header the router reads, as the message's record holds it (without
 * making a record that is made when first read).
 */
function _header(
  message: HttpInMessage,
  request: Request,
  name: string,
): string | undefined {
  return _LAZY_HEADERS
    ? request.headers.get(name) ?? undefined
    : message.headers[name];
}

const _CREDENTIALS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
]);
