/**
 * One HTTP server entry point for Deno and Bun: `serve(fetch, options)`
 * listens with the runtime's own server (`Deno.serve` or `Bun.serve`) and
 * returns a {@linkcode Server} that behaves the same on both.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { lookup } from "node:dns/promises";
import { createServer, isIP } from "node:net";
import { ConnectionTracker, type ServerConnections } from "./connections.ts";
import { HeaderTimeout } from "./header_timeout.ts";

/**
 * A Web-standard request handler, such as a Hono app's `fetch`. `env` is
 * what the runtime's server gives its handler besides the request: Deno's
 * serve info (with `remoteAddr`) or Bun's server, as Hono's own adapters
 * expect it in `c.env`; pass it to {@linkcode Server.remoteAddress}.
 */
export type FetchHandler = (
  request: Request,
  env?: unknown,
) => Response | Promise<Response>;

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** The interface to listen on. Default `"127.0.0.1"` (loopback only). */
  hostname?: string;
  /** The TCP port, an integer from 0 to 65535. Default `0`: any free port. */
  port?: number;
  /**
   * Aborting it closes the server as {@linkcode Server.close} does. Default:
   * none.
   */
  signal?: AbortSignal;
  /**
   * How long `close()` lets the requests in flight finish (milliseconds)
   * before it gives up on the connections that are left: a scraper that
   * stopped reading, or a client that sent half a request, must not keep
   * the process from exiting. Bun cuts them; Deno cannot once its shutdown
   * has begun, so they are abandoned (the server no longer keeps the event
   * loop alive; `process.exit()` ends them). Default 5000.
   */
  closeGraceMs?: number;
  /**
   * Deno only (Bun has its own, about 10 s): a connection that has sent no
   * whole request this long after it opened (slow or unfinished headers) is
   * shut down (milliseconds; 0: never). Needs /proc and FFI (`-A`);
   * without them `onHeaderTimeout` is told why. See `header_timeout.ts`.
   * Default 10000.
   */
  headerTimeoutMs?: number;
  /** Told what the header timeout cut, or why it cannot run. Default none. */
  onHeaderTimeout?: (message: string) => void;
}

/** A listening HTTP server, as returned by {@linkcode serve}. */
export interface Server {
  /** The hostname the server listens on. */
  readonly hostname: string;
  /** The port the server listens on: the one picked when asked for `0`. */
  readonly port: number;
  /** The server's base URL, `http://hostname:port` (IPv6 in brackets). */
  readonly url: string;
  /**
   * Stops accepting connections and resolves once the requests in flight
   * have been answered, or after `closeGraceMs`, when the connections left
   * are cut. Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** Resolves once the server is closed, by `close()` or by the signal. */
  readonly finished: Promise<void>;
  /**
   * The server's TCP connections: how many are open, and the age of each
   * as it closes (read from /proc; see `src/runtime/connections.ts` for
   * the resolution). Nothing is read, and requests cost nothing extra,
   * until it is used.
   */
  readonly connections: ServerConnections;
  /**
   * The address of the client that sent `request` (a request this server
   * is answering, with the `env` its handler was given), e.g.
   * `"127.0.0.1"`; `undefined` for any other request.
   */
  remoteAddress(request: Request, env: unknown): string | undefined;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const SERVE_OPTIONS = optionKeys<ServeOptions>()([
  "hostname",
  "port",
  "signal",
  "closeGraceMs",
  "headerTimeoutMs",
  "onHeaderTimeout",
]);

/**
 * Serves `fetch` over HTTP on Deno or Bun and resolves once the server
 * listens.
 *
 * Rejects with a `TypeError` or `RangeError` for a bad option, and with an
 * `Error` whose message reads `cannot listen on HOST:PORT: REASON` (the
 * runtime's error as its `cause`, its system error code, when known, as
 * its `code`) when the runtime cannot listen, for example
 * `cannot listen on 127.0.0.1:8080: address already in use` (`EADDRINUSE`).
 *
 * @example Serve on a free port, answer one request, close
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./serve.ts";
 *
 * const server = await serve(() => new Response("hello"));
 * assert.equal(server.url, `http://127.0.0.1:${server.port}`);
 * const response = await fetch(server.url);
 * assert.equal(await response.text(), "hello");
 * await server.close();
 * ```
 */
export async function serve(
  fetch: FetchHandler,
  options: ServeOptions = {},
): Promise<Server> {
  checkOptionKeys("Cannot serve", options, SERVE_OPTIONS);
  if (typeof fetch !== "function") {
    // serve(app) is what Bun.serve(app) teaches: name the function to pass.
    const hint = typeof (fetch as { fetch?: unknown } | null)?.fetch ===
        "function"
      ? "; pass its fetch method (serve(app.fetch) for a Hono app)"
      : "";
    throw new TypeError(
      `Cannot serve: the handler must be a function, received ${
        _show(fetch)
      }${hint}`,
    );
  }
  const {
    hostname: given = "127.0.0.1",
    port = 0,
    signal,
    closeGraceMs = 5000,
    headerTimeoutMs = 10_000,
  } = options;
  if (typeof given !== "string" || given === "") {
    throw new TypeError(
      `Cannot serve: hostname must be a non-empty string, received ${
        _show(given)
      }`,
    );
  }
  // An IPv6 address may come in URL brackets ("[::1]"): listen without them.
  const hostname = given.replace(/^\[(.*)\]$/, "$1");
  if (typeof port !== "number") {
    throw new TypeError(
      `Cannot serve: port must be a number, received ${_show(port)}`,
    );
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot serve: port must be an integer from 0 to 65535, received ${
        _show(port)
      }`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot serve: signal must be an AbortSignal, received ${_show(signal)}`,
    );
  }
  if (
    typeof closeGraceMs !== "number" || !(closeGraceMs >= 0) ||
    closeGraceMs > 2_147_483_647
  ) {
    throw new RangeError(
      `Cannot serve: closeGraceMs must be a number of milliseconds from 0 to 2147483647, received ${
        _show(closeGraceMs)
      }`,
    );
  }
  if (
    typeof headerTimeoutMs !== "number" || !(headerTimeoutMs >= 0) ||
    headerTimeoutMs > 2_147_483_647
  ) {
    throw new RangeError(
      `Cannot serve: headerTimeoutMs must be a number of milliseconds from 0 to 2147483647, received ${
        _show(headerTimeoutMs)
      }`,
    );
  }
  // As fetch() does: an aborted signal refuses the work before it starts.
  signal?.throwIfAborted();
  // A name that does not resolve gets one clear reason on both runtimes
  // (Bun's own error blames the port, Deno's is getaddrinfo's wording).
  if (isIP(hostname) === 0) {
    try {
      await lookup(hostname);
    } catch (error) {
      throw _listenError(
        hostname,
        port,
        _errorCode(error),
        error,
        `cannot resolve hostname ${JSON.stringify(hostname)} (${
          _errorCode(error) ?? "lookup failed"
        })`,
      );
    }
  }

  const runtime = globalThis as RuntimeGlobals;
  const handler = _headWithoutLength(
    fetch,
    runtime.Deno !== undefined ? _unsizedDeno : _unsizedBun,
  );
  // Made when server.connections is first used; each request reports its
  // peer to it while it watches closes (the peer names the connection).
  const peers: Peers = { tracker: undefined, headers: undefined };
  let listening: Listening;
  if (runtime.Deno !== undefined) {
    listening = _serveDeno(runtime.Deno, handler, peers, hostname, port);
    if (headerTimeoutMs > 0) {
      peers.headers = new HeaderTimeout(listening.port, {
        timeoutMs: headerTimeoutMs,
        log: options.onHeaderTimeout,
      });
    }
  } else if (runtime.Bun !== undefined) {
    listening = await _serveBun(runtime.Bun, handler, peers, hostname, port);
  } else {
    throw new Error("Cannot serve: serve() needs the Deno or Bun runtime");
  }
  return _server(listening, signal, closeGraceMs, peers);
}

/**
 * `fetch`, with the answer to a HEAD that says no length made `unsized`.
 * Hono answers a HEAD with its GET's headers and no body, and both
 * runtimes then send `Content-Length: 0` unless the answer sets one: an
 * event stream or a flow's `http/In` answer would claim to be empty. RFC
 * 9110 (8.6, 9.3.2) wants the GET's length or none, so an answer without
 * a length of its own goes out without one. Only HEAD pays for the check.
 */
function _headWithoutLength(
  fetch: FetchHandler,
  unsized: (res: Response) => Response,
): FetchHandler {
  const fix = (res: Response): Response =>
    res.body === null && res.status >= 200 && res.status !== 204 &&
      res.status !== 304 && !res.headers.has("content-length")
      ? unsized(res)
      : res;
  return (request, env) => {
    if (request.method !== "HEAD") return fetch(request, env);
    const res = fetch(request, env);
    return res instanceof Promise ? res.then(fix) : fix(res);
  };
}

/** Deno sends no length for a body that is an (empty) stream. */
function _unsizedDeno(res: Response): Response {
  return new Response(
    new ReadableStream({ start: (c) => c.close() }),
    { status: res.status, statusText: res.statusText, headers: res.headers },
  );
}

/**
 * Bun sends `Transfer-Encoding: chunked` (as its GET of a stream does)
 * and no length when the answer says so; the HEAD sends no body anyway.
 */
function _unsizedBun(res: Response): Response {
  // A copy: the answer's own headers may be immutable (a fetch()'s).
  const headers = new Headers(res.headers);
  headers.set("Transfer-Encoding", "chunked");
  return new Response(null, {
    status: res.status,
    statusText: res.statusText,
    headers,
  });
}

/** Where the runtime adapters report each request's peer. */
interface Peers {
  tracker: ConnectionTracker | undefined;
  /** Deno's header timeout, told of each request's peer port. */
  headers: HeaderTimeout | undefined;
}

/** What a runtime adapter hands back: the bound address and a stopper. */
interface Listening {
  hostname: string;
  port: number;
  /** Stops accepting, resolves when the requests in flight are answered. */
  stop(): Promise<void>;
  /** Cuts (Bun) or abandons (Deno) every connection left. */
  kill(): Promise<void>;
  /** The client address of a request being answered. */
  remoteAddress(request: Request, env: unknown): string | undefined;
}

function _server(
  listening: Listening,
  signal: AbortSignal | undefined,
  graceMs: number,
  peers: Peers,
): Server {
  const { hostname, port } = listening;
  const host = _urlHost(hostname);
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let closing: Promise<void> | undefined;
  const onAbort = () => void close();
  function close(): Promise<void> {
    closing ??= (async () => {
      signal?.removeEventListener("abort", onAbort);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), graceMs);
      });
      try {
        const stopped = listening.stop();
        if (await Promise.race([stopped, late]) === "late") {
          stopped.catch(() => {});
          await listening.kill();
        }
      } finally {
        clearTimeout(timer);
        peers.tracker?.stop();
        peers.headers?.stop();
        resolveFinished();
      }
    })();
    return closing;
  }
  // The signal closes through close() on both runtimes rather than through
  // Deno.serve's own `signal` option: Deno's aborts the requests in flight,
  // Bun has none, and close() gives them closeGraceMs on both.
  signal?.addEventListener("abort", onAbort, { once: true });
  return {
    hostname,
    port,
    url: `http://${host}:${port}`,
    close,
    finished,
    get connections(): ServerConnections {
      // reuseMs: a metric history collects the open connections every
      // second; while no socket of the process came or went, the count of
      // a read up to 30 s old stands (a full read walks the kernel's whole
      // socket table: 1.3 ms here with 3 sockets, about 5 ms on a busy
      // host). A connection that opens or closes changes the sockets and
      // is counted at once; only a change of state alone (a connection
      // the peer half-closed, which the runtimes close at once when idle)
      // waits for the next full read.
      return peers.tracker ??= new ConnectionTracker(port, { reuseMs: 30_000 });
    },
    remoteAddress: (request, env) => listening.remoteAddress(request, env),
    [Symbol.asyncDispose]: close,
  };
}

function _serveDeno(
  deno: DenoRuntime,
  fetch: FetchHandler,
  peers: Peers,
  hostname: string,
  port: number,
): Listening {
  // Deno hands the peer only to the handler: its info goes on to `fetch`
  // as `env` (where Hono's Deno adapter expects it), for remoteAddress().
  // Not kept per request in a WeakMap: that cost ~10% of a trivial
  // route's requests/s (bench/RESULTS.md).
  const handler = (request: Request, info: DenoServeInfo) => {
    const tracker = peers.tracker;
    const headers = peers.headers;
    // The tracker needs a sample of the peers; the header timeout every
    // one until the kernel can tell it which connections were answered
    // (see HeaderTimeout.everyPeer), then those of the requests not
    // answered at once: a peer is an op (~0.7 µs) a request.
    const sampled = tracker !== undefined && tracker.samplePeer();
    if (sampled || (headers !== undefined && headers.everyPeer)) {
      const peer = info.remoteAddr;
      headers?.noteRequest(peer.port);
      if (sampled) tracker.noteRequest(peer.hostname, peer.port);
      return fetch(request, info);
    }
    const res = fetch(request, info);
    if (headers !== undefined && res instanceof Promise) {
      headers.noteRequest(info.remoteAddr.port);
    }
    return res;
  };
  let server: DenoHttpServer;
  try {
    // onListen replaces Deno's default "Listening on ..." log line.
    server = deno.serve({ hostname, port, onListen() {} }, handler);
  } catch (error) {
    throw _listenError(hostname, port, _errorCode(error), error);
  }
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    stop: () => server.shutdown(),
    // Once shutdown() has begun, Deno can no longer cut a connection (its
    // abort signal then throws BadResource): a stalled one is abandoned,
    // and no longer holds the event loop open on the server's account.
    kill: () => {
      server.unref();
      return Promise.resolve();
    },
    remoteAddress: (_request, env) =>
      _isDenoInfo(env) ? env.remoteAddr.hostname : undefined,
  };
}

async function _serveBun(
  bun: BunRuntime,
  fetch: FetchHandler,
  peers: Peers,
  hostname: string,
  port: number,
): Promise<Listening> {
  // Bun's peer lookup (server.requestIP) costs about 3 µs, a fifth of a
  // trivial request's CPU time (bench/RESULTS.md "Server as shipped vs bare
  // Hono"): above about 200 requests a second, only a sample of requests
  // report their connection (see ConnectionTracker.samplePeer), on both
  // runtimes.
  const handler = (request: Request, server: BunHttpServer) => {
    const tracker = peers.tracker;
    if (tracker !== undefined && tracker.samplePeer()) {
      const peer = server.requestIP(request);
      if (peer !== null) tracker.noteRequest(peer.address, peer.port);
    }
    return fetch(request, server);
  };
  let server: BunHttpServer;
  try {
    // Bun cuts a connection quiet for idleTimeout seconds (10 by default),
    // a long scrape's too; the longest it allows is 255.
    // maxRequestBodySize: Bun refuses a body it declares larger than its
    // own cap (128 MB) with an empty 413 before the handler runs; the
    // handler reads bodies with its own limit and answers that 413 with a
    // sentence, so Bun's cap is lifted. Bun streams a body the handler does
    // not read, it never buffers it.
    server = bun.serve({
      hostname,
      port,
      fetch: handler,
      idleTimeout: 255,
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    });
  } catch (error) {
    // Bun says "Is port N in use?" with code EADDRINUSE for every listen
    // failure, an unknown hostname too: ask the OS what the failure is.
    throw _listenError(
      hostname,
      port,
      await _probeListen(hostname, port),
      error,
    );
  }
  return {
    hostname: server.hostname,
    port: server.port,
    // Without `true`, stop() lets the requests in flight finish.
    stop: () => server.stop(),
    kill: () => server.stop(true),
    remoteAddress: (request) => server.requestIP(request)?.address,
  };
}

/** Whether `env` is the info Deno.serve gave a handler. */
function _isDenoInfo(env: unknown): env is DenoServeInfo {
  return typeof env === "object" && env !== null &&
    typeof (env as { remoteAddr?: unknown }).remoteAddr === "object";
}

/** The error code node:net gets listening on the address, if any. */
function _probeListen(
  hostname: string,
  port: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (error) => resolve(_errorCode(error)));
    probe.listen({ host: hostname, port, exclusive: true }, () => {
      probe.close(() => resolve(undefined));
    });
  });
}

const _REASONS: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available on this machine",
  EACCES: "permission denied",
  ENOTFOUND: "hostname not found",
};

function _listenError(
  hostname: string,
  port: number,
  code: string | undefined,
  cause: unknown,
  why?: string,
): Error {
  const reason = why ?? (code !== undefined ? _REASONS[code] : undefined) ??
    (cause instanceof Error ? cause.message : String(cause));
  const host = _urlHost(hostname);
  // The code (EADDRINUSE, EADDRNOTAVAIL, ENOTFOUND, ...) tells a caller
  // whether the port or the host is at fault.
  return Object.assign(
    new Error(`cannot listen on ${host}:${port}: ${reason}`, { cause }),
    code === undefined ? {} : { code },
  );
}

/** A hostname as it stands in a URL: an IPv6 address in brackets. */
function _urlHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

function _errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

function _show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) {
    return value.constructor?.name
      ? `an object (${value.constructor.name})`
      : "an object";
  }
  return String(value);
}

// The slices of the runtimes' globals that serve() uses. Declared here
// because Bun's types are not available, and narrow so that `deno check`
// sees the same shapes on both.

interface RuntimeGlobals {
  Deno?: DenoRuntime;
  Bun?: BunRuntime;
}

interface DenoRuntime {
  serve(
    options: { hostname: string; port: number; onListen(): void },
    handler: (
      request: Request,
      info: DenoServeInfo,
    ) => Response | Promise<Response>,
  ): DenoHttpServer;
}

interface DenoServeInfo {
  readonly remoteAddr: { readonly hostname: string; readonly port: number };
}

interface DenoHttpServer {
  readonly addr: { readonly hostname: string; readonly port: number };
  shutdown(): Promise<void>;
  unref(): void;
}

interface BunRuntime {
  serve(
    options: {
      hostname: string;
      port: number;
      fetch: (
        request: Request,
        server: BunHttpServer,
      ) => Response | Promise<Response>;
      idleTimeout: number;
      maxRequestBodySize: number;
    },
  ): BunHttpServer;
}

interface BunHttpServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
  requestIP(
    request: Request,
  ): { readonly address: string; readonly port: number } | null;
}
