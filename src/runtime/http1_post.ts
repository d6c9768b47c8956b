/**
 * A small HTTP/1.1 client for one kind of request: a POST of a body of
 * known size to one `http:` origin, on connections kept open between
 * requests. Remote write sends tens of such requests a second for as long
 * as weir runs; each one through the runtime's `fetch` costs about 80 µs
 * of CPU more on Deno 2.9 and 100 µs more on Bun 1.4 than the same bytes
 * written on a socket (`bench/RESULTS.md`, session 17), which is a
 * quarter of what remote write costs a device while caught up.
 *
 * Plain TCP only: over `https:` the runtime's `fetch` keeps the job (its
 * trust store, the TLS settings of `tls_fetch.ts`), as it does when a
 * proxy is configured (see {@linkcode proxyConfigured}).
 *
 * What it reads of an answer: the status, the headers (names in lower
 * case, repeated ones joined with ", "), and the first `maxBodyBytes` of
 * the body (the rest is read and dropped): a body sized by
 * `Content-Length`, in chunks, or up to the end of the connection; none
 * for 204 and 304. Interim answers (100 Continue) are skipped. A
 * connection is used again unless the answer says `Connection: close`,
 * comes from HTTP/1.0 without keep-alive, or ends with the connection; an
 * idle one is closed after `idleMs`. When a connection kept from before
 * fails before any byte of the answer arrived (the server closed it while
 * idle), the request is sent once more on a new connection.
 *
 * The connection: the runtime's own TCP sockets (`Bun.connect`,
 * `Deno.connect`), `node:net` elsewhere. Node's socket streams cost Bun
 * about 40-90 µs of CPU more a request than `Bun.connect` with the same
 * bytes (a 6 ms receiver here, 2026-12-06: 95-163 against 59-70 µs) and
 * Deno about 30-40 (noisier), and remote write sends ~29 a second while
 * caught up.
 *
 * Per request it does as little as it can, because remote write's
 * requests reach a process that slept between them: on this project's
 * 2-core VM each distinct operation then costs Deno 10-40 µs (a text
 * decode 40, a `slice()` 23, a split or regular expression 10-14) and Bun
 * 2-14 (`bench/RESULTS.md`, session 19). So the head's bytes are kept
 * from one request to the next (only the length's digits are written),
 * one timer serves every request's deadline and one the idle
 * connections, an abort signal gets one listener for good, and an
 * answer's head is read as bytes (its header map is made when asked
 * for): 269-303 -> 194-202 µs of CPU a request on Deno, 177-189 -> 150-178
 * on Bun, against a receiver answering after 6 ms.
 *
 * Errors: a `TimeoutError` when no whole answer came within `timeoutMs`,
 * an `AbortError` when `signal` aborts, otherwise an `Error` whose message
 * says what went wrong and where (host and port; never a header, so never
 * a token) and whose `code` is the socket's error code when there is one.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import process from "node:process";
// unref()-able timers on Deno too (its global setTimeout returns a number).
import { clearTimeout, setTimeout } from "node:timers";

/** An answer: its status, headers and (the start of) its body. */
export interface Http1Answer {
  status: number;
  /** Header names in lower case; a repeated header's values joined with ", ". */
  headers: Map<string, string>;
  /** The first `maxBodyBytes` of the body, decoded as UTF-8. */
  body: string;
}

/** Options of {@linkcode Http1Poster}. */
export interface Http1PosterOptions {
  /** How long an idle connection is kept (ms). Default 30000. */
  idleMs?: number;
  /** How much of an answer's body is kept (bytes). Default 4096. */
  maxBodyBytes?: number;
  /** The longest answer head accepted (bytes). Default 65536. */
  maxHeadBytes?: number;
}

/** Options of one {@linkcode Http1Poster.post}. */
export interface Http1PostOptions {
  /** Headers to send (besides Host, Content-Length and Connection, which are the poster's). */
  headers?: Headers;
  /** Aborts the request (its connection is closed). */
  signal?: AbortSignal;
  /** No whole answer within this long (ms): a `TimeoutError`. */
  timeoutMs: number;
}

/** Headers a caller may not set: the poster frames the request itself. */
const OWN = new Set([
  "host",
  "content-length",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
]);

const CR = 13;
const LF = 10;
const _encoder = new TextEncoder();
const _utf8 = new TextDecoder();

/**
 * Whether the environment names a proxy that the runtime's `fetch` would
 * use for an `http:` URL (`HTTP_PROXY` or `ALL_PROXY`, either case): then
 * a request must go through `fetch`, not straight to the host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { proxyConfigured } from "./http1_post.ts";
 *
 * assert.equal(proxyConfigured({ HTTP_PROXY: "http://proxy:3128" }), true);
 * assert.equal(proxyConfigured({ all_proxy: "socks5://p:1080" }), true);
 * assert.equal(proxyConfigured({ HTTPS_PROXY: "http://proxy:3128" }), false);
 * assert.equal(proxyConfigured({ HTTP_PROXY: "" }), false);
 * ```
 */
export function proxyConfigured(
  env: Record<string, string | undefined> = process.env,
): boolean {
  return ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"].some((name) =>
    (env[name] ?? "") !== ""
  );
}

/**
 * POSTs to one `http:` URL on kept connections (see the module's
 * documentation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * import type { AddressInfo } from "node:net";
 * import { Http1Poster } from "./http1_post.ts";
 *
 * const server = createServer((req, res) => {
 *   let n = 0;
 *   req.on("data", (d) => n += d.length);
 *   req.on("end", () => res.end(`got ${n} bytes as ${req.headers["content-type"]}`));
 * });
 * await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
 * const { port } = server.address() as AddressInfo;
 * const poster = new Http1Poster(`http://127.0.0.1:${port}/write`);
 * const answer = await poster.post(new Uint8Array(5), {
 *   headers: new Headers({ "Content-Type": "application/x-protobuf" }),
 *   timeoutMs: 5000,
 * });
 * assert.equal(answer.status, 200);
 * assert.equal(answer.body, "got 5 bytes as application/x-protobuf");
 * poster.close();
 * server.close();
 * ```
 */
export class Http1Poster {
  readonly #host: string;
  readonly #port: number;
  /** `POST <path> HTTP/1.1` and `Host`, as bytes of the head's start. */
  readonly #start: string;
  readonly #where: string;
  readonly #idleMs: number;
  readonly #maxBody: number;
  readonly #maxHead: number;
  readonly #idle: _Conn[] = [];
  readonly #busy = new Set<_Conn>();
  /**
   * The last headers given, and the request head's bytes up to the
   * Content-Length value, made again when another Headers object comes.
   */
  #headers: Headers | undefined;
  #headPrefix: Uint8Array | undefined;
  #closed = false;
  /**
   * One timer for every request's deadline, armed for the earliest (a
   * timer per request costs a wake-cold process tens of µs on Deno:
   * `bench/RESULTS.md`, session 19), and cleared once no request is in
   * flight. Not unref'd: it runs only while a request's connection keeps
   * the process alive anyway, and a request must never wait past its
   * deadline because nothing else woke the event loop (once, a Deno test
   * waited for ever with this timer unref'd and no timer armed in its
   * loop; not reproduced, see bench/RESULTS.md, session 33).
   */
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  #deadlineAt = Infinity;
  /** One timer for the idle connections, armed for the oldest's idleMs. */
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** The abort signals listened to (one listener each, for good). */
  readonly #signals = new WeakSet<AbortSignal>();
  #lastSignal: AbortSignal | undefined;

  /** Throws TypeError for a URL that is not `http:`. */
  constructor(url: string | URL, options: Http1PosterOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== "http:") {
      throw new TypeError(
        `Cannot post to ${u.protocol}//${u.host}: only http: URLs are sent without fetch`,
      );
    }
    this.#host = u.hostname.startsWith("[")
      ? u.hostname.slice(1, -1)
      : u.hostname;
    this.#port = u.port === "" ? 80 : Number(u.port);
    this.#start =
      `POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n`;
    this.#where = u.host;
    this.#idleMs = options.idleMs ?? 30_000;
    this.#maxBody = options.maxBodyBytes ?? 4096;
    this.#maxHead = options.maxHeadBytes ?? 65_536;
  }

  /** Connections open now (idle and in use). */
  get connections(): number {
    return this.#idle.length + this.#busy.size;
  }

  /**
   * POSTs `body`; resolves with the answer, whatever its status; rejects
   * when there is no whole answer (see the module's documentation).
   */
  async post(
    body: Uint8Array,
    options: Http1PostOptions,
  ): Promise<Http1Answer> {
    if (this.#closed) throw this.#closedError();
    options.signal?.throwIfAborted();
    const request = this.#request(body, options.headers);
    const deadline = performance.now() + options.timeoutMs;
    const kept = this.#idle.pop();
    if (kept !== undefined) {
      try {
        return await this.#exchange(kept, request, options, deadline, true);
      } catch (e) {
        // The server closed the kept connection while it idled: once more,
        // on a new one, unless close() came meanwhile.
        if (!(e instanceof _StaleConnection)) throw e;
        if (this.#closed) throw this.#closedError();
      }
    }
    return await this.#exchange(
      _connect(this.#host, this.#port, (conn) => this.#forget(conn)),
      request,
      options,
      deadline,
      false,
    );
  }

  #closedError(): Error {
    return new Error(`the poster to ${this.#where} is closed`);
  }

  /** Closes every connection; a request in flight rejects. */
  close(): void {
    this.#closed = true;
    this.#clearDeadline();
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    for (const c of this.#idle.splice(0)) c.destroy();
    for (const c of [...this.#busy]) c.destroy();
    this.#busy.clear();
  }

  /** The request's bytes: its head, then `body`. */
  #request(body: Uint8Array, headers: Headers | undefined): Uint8Array {
    let prefix = this.#headPrefix;
    if (headers !== this.#headers || prefix === undefined) {
      this.#headers = headers;
      let text = "";
      headers?.forEach((value, name) => {
        if (!OWN.has(name)) text += `${name}: ${value}\r\n`;
      });
      prefix = this.#headPrefix = _encoder.encode(
        `${this.#start}${text}Content-Length: `,
      );
    }
    // The length's digits and the blank line written as bytes: no text
    // encoded per request.
    const n = body.byteLength;
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    const at = prefix.length + digits;
    const bytes = new Uint8Array(at + 4 + n);
    bytes.set(prefix);
    for (let i = at - 1, x = n; i >= prefix.length; i--) {
      bytes[i] = 48 + x % 10;
      x = Math.floor(x / 10);
    }
    bytes[at] = CR;
    bytes[at + 1] = LF;
    bytes[at + 2] = CR;
    bytes[at + 3] = LF;
    bytes.set(body, at + 4);
    return bytes;
  }

  /** Takes `conn` out of the idle ones (it closed, or idled too long). */
  #forget(conn: _Conn): boolean {
    const i = this.#idle.indexOf(conn);
    if (i < 0) return false;
    this.#idle.splice(i, 1);
    return true;
  }

  /** Sends `request` on `conn` and reads its answer. */
  #exchange(
    conn: _Conn,
    request: Uint8Array,
    options: Http1PostOptions,
    deadline: number,
    kept: boolean,
  ): Promise<Http1Answer> {
    this.#busy.add(conn);
    conn.ref();
    return new Promise<Http1Answer>((resolve, reject) => {
      const reader = new _AnswerReader(this.#maxHead, this.#maxBody);
      let received = false;
      let settled = false;
      const finish = (error: unknown, answer?: Http1Answer) => {
        if (settled) return;
        settled = true;
        conn.listener = null;
        conn.fail = null;
        this.#busy.delete(conn);
        if (this.#busy.size === 0) this.#clearDeadline();
        if (answer !== undefined && reader.reusable && !this.#closed) {
          this.#keep(conn);
        } else {
          conn.destroy();
        }
        if (answer !== undefined) resolve(answer);
        else reject(error);
      };
      const onData = (chunk: Uint8Array) => {
        received = true;
        try {
          if (reader.push(chunk)) finish(undefined, reader.answer());
        } catch (e) {
          finish(
            new Error(
              `the answer from ${this.#where} is not HTTP/1.1: ${
                (e as Error).message
              }`,
            ),
          );
        }
      };
      const gone = (error?: Error & { code?: string }) => {
        // close()'s end of the connection, not the server's.
        if (this.#closed) {
          finish(this.#closedError());
          return;
        }
        if (!received && kept) {
          finish(new _StaleConnection());
          return;
        }
        if (reader.endsWithClose() && received) {
          finish(undefined, reader.answer());
          return;
        }
        const code = error?.code;
        const e = new Error(
          error === undefined
            ? `${this.#where} closed the connection before a whole answer`
            : `cannot reach ${this.#where}: ${
              code !== undefined ? `${_reason(code)} (${code})` : error.message
            }`,
        ) as Error & { code?: string };
        if (code !== undefined) e.code = code;
        finish(e);
      };
      conn.listener = { data: onData, end: gone };
      conn.fail = finish;
      conn.deadline = deadline;
      conn.timeoutMs = options.timeoutMs;
      const signal = options.signal;
      conn.signal = signal;
      if (signal !== undefined) {
        if (signal.aborted) {
          finish(_abortReason(signal));
          return;
        }
        this.#watch(signal);
      }
      this.#armDeadline(deadline);
      conn.write(request);
    });
  }

  /** Listens to `signal` (once for good): its abort ends its requests. */
  #watch(signal: AbortSignal): void {
    if (signal === this.#lastSignal) return;
    this.#lastSignal = signal;
    if (this.#signals.has(signal)) return;
    this.#signals.add(signal);
    signal.addEventListener("abort", () => {
      for (const c of [...this.#busy]) {
        if (c.signal === signal) c.fail?.(_abortReason(signal));
      }
    }, { once: true });
  }

  /** Makes sure the deadline timer fires by `deadline`. */
  #armDeadline(deadline: number): void {
    if (this.#deadlineTimer !== undefined) {
      if (this.#deadlineAt <= deadline) return;
      clearTimeout(this.#deadlineTimer);
    }
    this.#deadlineAt = deadline;
    this.#deadlineTimer = setTimeout(
      () => this.#onDeadline(),
      Math.max(0, deadline - performance.now()),
    );
  }

  /** Stops the deadline timer: no request is in flight. */
  #clearDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#deadlineAt = Infinity;
  }

  /** Ends the requests past their deadline; waits for the next one. */
  #onDeadline(): void {
    this.#deadlineTimer = undefined;
    this.#deadlineAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const c of [...this.#busy]) {
      const fail = c.fail;
      if (fail === null) continue;
      if (c.deadline <= now) {
        fail(
          _named(
            "TimeoutError",
            `no answer from ${this.#where} within ${c.timeoutMs} ms`,
          ),
        );
      } else if (c.deadline < next) next = c.deadline;
    }
    if (next < Infinity) this.#armDeadline(next);
  }

  /** Keeps `conn` for the next request, closed after idleMs unused. */
  #keep(conn: _Conn): void {
    conn.unref();
    conn.idleSince = performance.now();
    this.#idle.push(conn);
    if (this.#idleTimer === undefined) this.#armIdle(conn.idleSince);
  }

  /** Arms the idle timer for the connection idle since `since`. */
  #armIdle(since: number): void {
    this.#idleTimer = setTimeout(
      () => this.#onIdle(),
      Math.max(0, since + this.#idleMs - performance.now()),
    );
    // Never what keeps the process alive.
    this.#idleTimer.unref();
  }

  /** Closes the connections idle for idleMs; waits for the next one. */
  #onIdle(): void {
    this.#idleTimer = undefined;
    const now = performance.now();
    let oldest = Infinity;
    for (const c of [...this.#idle]) {
      if (now - c.idleSince >= this.#idleMs) {
        if (this.#forget(c)) c.destroy();
      } else if (c.idleSince < oldest) oldest = c.idleSince;
    }
    if (oldest < Infinity) this.#armIdle(oldest);
  }
}

/** What an exchange hears of its connection. */
interface _ConnListener {
  /** Bytes of the answer, as they arrive. */
  data(chunk: Uint8Array): void;
  /** The connection ended (closed by either side, or failed: `error`). */
  end(error?: Error & { code?: string }): void;
}

/**
 * A TCP connection as the poster uses it: bytes written in order (kept
 * until the socket takes them, also before it is connected), what arrives
 * to the exchange listening, its end once. `destroy()` ends it, the
 * listener hearing so (as `node:net`'s "close" after `destroy()`).
 */
interface _Conn {
  /** The exchange listening; null while idle (an end then calls `gone`). */
  listener: _ConnListener | null;
  /** Ends the exchange under way with an error; null while idle. */
  fail: ((error: unknown) => void) | null;
  /** The exchange's deadline (performance.now() ms) and timeout. */
  deadline: number;
  timeoutMs: number;
  /** The exchange's abort signal. */
  signal: AbortSignal | undefined;
  /** Since when it idles (performance.now() ms). */
  idleSince: number;
  write(bytes: Uint8Array): void;
  ref(): void;
  unref(): void;
  destroy(): void;
}

/** The error shape both socket kinds report: a message and maybe a code. */
type _SocketError = Error & { code?: string };

/** A connection to `host:port`; `gone(conn)` when it ends while idle. */
function _connect(
  host: string,
  port: number,
  gone: (conn: _Conn) => void,
): _Conn {
  const g = globalThis as { Bun?: _BunApi; Deno?: _DenoApi };
  return g.Bun !== undefined
    ? new _BunConn(g.Bun, host, port, gone)
    : g.Deno !== undefined
    ? new _DenoConn(g.Deno, host, port, gone)
    : new _NodeConn(host, port, gone);
}

/**
 * What the socket kinds share: ref()/unref() remembered until the socket
 * exists, and the end heard once (by the exchange listening, or by `gone`
 * while idle).
 */
abstract class _ConnBase implements _Conn {
  listener: _ConnListener | null = null;
  fail: ((error: unknown) => void) | null = null;
  deadline = Infinity;
  timeoutMs = 0;
  signal: AbortSignal | undefined = undefined;
  idleSince = 0;
  /** Whether the connection may keep the process alive. */
  protected refd = true;
  protected ended = false;
  readonly #gone: (conn: _Conn) => void;

  constructor(gone: (conn: _Conn) => void) {
    this.#gone = gone;
  }

  abstract write(bytes: Uint8Array): void;
  abstract destroy(): void;
  /** The socket once connected. */
  protected abstract socket(): { ref(): void; unref(): void } | undefined;

  ref(): void {
    this.refd = true;
    this.socket()?.ref();
  }

  unref(): void {
    this.refd = false;
    this.socket()?.unref();
  }

  protected end(error?: _SocketError): void {
    if (this.ended) return;
    this.ended = true;
    const l = this.listener;
    this.listener = null;
    if (l !== null) l.end(error);
    else this.#gone(this);
  }
}

/** `node:net` (Node). */
class _NodeConn extends _ConnBase {
  readonly #socket: Socket;
  #error: _SocketError | undefined;

  constructor(host: string, port: number, gone: (conn: _Conn) => void) {
    super(gone);
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.listener?.data(chunk));
    socket.on("error", (e: _SocketError) => this.#error ??= e);
    socket.on("close", () => this.end(this.#error));
    this.#socket = socket;
  }

  write(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  destroy(): void {
    this.#socket.destroy();
  }

  protected socket(): Socket {
    return this.#socket;
  }
}

/** What the poster uses of Bun's TCP sockets (`Bun.connect`). */
interface _BunSocket {
  write(bytes: Uint8Array): number;
  setNoDelay(on: boolean): unknown;
  end(): unknown;
  terminate(): unknown;
  ref(): void;
  unref(): void;
}

interface _BunApi {
  connect(options: {
    hostname: string;
    port: number;
    socket: {
      open(socket: _BunSocket): void;
      data(socket: _BunSocket, data: Uint8Array): void;
      drain(socket: _BunSocket): void;
      end(socket: _BunSocket): void;
      close(socket: _BunSocket, error?: _SocketError): void;
      error(socket: _BunSocket, error: _SocketError): void;
      connectError(socket: _BunSocket, error: _SocketError): void;
    };
  }): Promise<_BunSocket>;
}

/** Bun's own TCP sockets. */
class _BunConn extends _ConnBase {
  #socket: _BunSocket | undefined;
  /** Bytes not yet taken by the socket, in order. */
  readonly #queue: Uint8Array[] = [];
  #error: _SocketError | undefined;

  constructor(
    bun: _BunApi,
    host: string,
    port: number,
    gone: (conn: _Conn) => void,
  ) {
    super(gone);
    bun.connect({
      hostname: host,
      port,
      socket: {
        open: (socket) => {
          if (this.ended) {
            socket.terminate();
            return;
          }
          this.#socket = socket;
          socket.setNoDelay(true);
          if (!this.refd) socket.unref();
          this.#flush();
        },
        data: (_socket, data) => this.listener?.data(data),
        drain: () => this.#flush(),
        // The peer's FIN: an answer "up to the connection's end" is whole.
        end: (socket) => {
          this.end();
          socket.terminate();
        },
        close: (_socket, error) => this.end(error),
        error: (_socket, error) => this.#error ??= error,
        connectError: (_socket, error) => this.end(error),
      },
    }).catch((e) => this.end(e as _SocketError)); // after connectError
  }

  write(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    this.#flush();
  }

  protected socket(): _BunSocket | undefined {
    return this.#socket;
  }

  destroy(): void {
    const socket = this.#socket;
    if (socket !== undefined) socket.terminate();
    // Not connected yet (open terminates it), or terminate() did not call
    // close: the listener hears of the end all the same, once.
    queueMicrotask(() => this.end());
  }

  /** Writes what the socket takes now; the rest waits for its drain. */
  #flush(): void {
    const socket = this.#socket;
    if (socket === undefined || this.ended) return;
    const queue = this.#queue;
    while (queue.length > 0) {
      const bytes = queue[0];
      const n = socket.write(bytes);
      if (n < 0) return;
      if (n < bytes.length) {
        queue[0] = bytes.subarray(n);
        return;
      }
      queue.shift();
    }
  }

  protected override end(error?: _SocketError): void {
    this.#queue.length = 0;
    super.end(error ?? this.#error);
  }
}

/** What the poster uses of Deno's TCP connections (`Deno.connect`). */
interface _DenoTcpConn {
  read(into: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  setNoDelay(on?: boolean): void;
  close(): void;
  ref(): void;
  unref(): void;
}

interface _DenoApi {
  connect(
    options: { hostname: string; port: number; signal?: AbortSignal },
  ): Promise<_DenoTcpConn>;
}

/** Deno's own TCP connections: one read loop, writes chained in order. */
class _DenoConn extends _ConnBase {
  #conn: _DenoTcpConn | undefined;
  /** The writes so far, chained: each starts when the one before is done. */
  #writing: Promise<unknown>;
  /** Writes not yet done. */
  #writes = 0;
  /** Cancels a connect still under way (a receiver that drops SYNs). */
  readonly #connecting = new AbortController();

  constructor(
    deno: _DenoApi,
    host: string,
    port: number,
    gone: (conn: _Conn) => void,
  ) {
    super(gone);
    const opened = deno.connect({
      hostname: host,
      port,
      signal: this.#connecting.signal,
    }).then((conn) => {
      if (this.ended) {
        conn.close();
        throw new Error("closed");
      }
      this.#conn = conn;
      conn.setNoDelay(true);
      if (!this.refd) conn.unref();
      this.#read(conn);
      return conn;
    });
    opened.catch((e) => this.end(e as _SocketError));
    this.#writing = opened;
  }

  write(bytes: Uint8Array): void {
    const conn = this.#conn;
    // None under way: straight to the socket, not after the chain.
    const written = conn !== undefined && this.#writes === 0 && !this.ended
      ? conn.write(bytes).then((n) =>
        n < bytes.length ? this.#writeAll(bytes.subarray(n)) : undefined
      )
      : this.#writing.then(() => this.#writeAll(bytes));
    this.#writes++;
    this.#writing = written.then(
      () => this.#writes--,
      (e) => this.end(e as _SocketError),
    );
  }

  /** Writes `bytes` whole, on the connection if it is still open. */
  async #writeAll(bytes: Uint8Array): Promise<void> {
    const conn = this.#conn;
    if (conn === undefined || this.ended) return;
    let at = 0;
    while (at < bytes.length) at += await conn.write(bytes.subarray(at));
  }

  protected socket(): _DenoTcpConn | undefined {
    return this.#conn;
  }

  destroy(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn === undefined) this.#connecting.abort();
    this.end();
    try {
      conn?.close();
    } catch {
      // Closed already.
    }
  }

  async #read(conn: _DenoTcpConn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        // A copy: the answer reader may keep part of it.
        this.listener?.data(buffer.slice(0, n));
      }
      this.end();
    } catch (e) {
      this.end(this.ended ? undefined : e as _SocketError);
    }
    try {
      if (this.#conn === conn) conn.close();
    } catch {
      // Closed already.
    }
  }
}

/** A kept connection that failed before its answer began. */
class _StaleConnection extends Error {}

/** What an aborted request rejects with: the signal's reason. */
function _abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? _named("AbortError", "aborted");
}

/** An Error whose `name` is `name` (as DOMException's TimeoutError). */
function _named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** What a socket error code means, in words. */
function _reason(code: string): string {
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
      return "connection reset";
    case "EPIPE":
      return "connection closed while sending";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "no such host";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    case "ETIMEDOUT":
      return "connection timed out";
    default:
      return "socket error";
  }
}

/**
 * Reads one answer from the bytes a connection delivers (interim answers
 * skipped): {@linkcode push} says when it is whole.
 */
export class _AnswerReader {
  readonly #maxHead: number;
  readonly #maxBody: number;
  /** Bytes of the head not yet whole (or of a chunk-size line). */
  #pending: Uint8Array = new Uint8Array(0);
  #state:
    | "head"
    | "length"
    | "chunk-size"
    | "chunk-data"
    | "chunk-end"
    | "trailers"
    | "close"
    | "done" = "head";
  #status = 0;
  /** The answer's head (its headers are read from it when asked for). */
  #headBytes: Uint8Array = new Uint8Array(0);
  #keepAlive = true;
  /** Body bytes still to read (length), or of the current chunk. */
  #left = 0;
  readonly #body: Uint8Array[] = [];
  #bodyBytes = 0;

  constructor(maxHead: number, maxBody: number) {
    this.#maxHead = maxHead;
    this.#maxBody = maxBody;
  }

  /** Whether the connection can carry another request after this answer. */
  get reusable(): boolean {
    return this.#state === "done" && this.#keepAlive;
  }

  /** Whether the answer's body runs to the end of the connection. */
  endsWithClose(): boolean {
    return this.#state === "close";
  }

  /** Takes `chunk`; true once the answer is whole. Throws on bad framing. */
  push(chunk: Uint8Array): boolean {
    let data = chunk;
    while (data.length > 0 && this.#state !== "done") {
      switch (this.#state) {
        case "head":
        case "chunk-size":
        case "trailers": {
          const joined = this.#join(data);
          const limit = this.#state === "head" ? this.#maxHead : 4096;
          const end = this.#state === "chunk-size"
            ? _indexOfCrlf(joined, 0)
            : _indexOfBlankLine(joined, this.#state === "trailers");
          if (end < 0) {
            if (joined.length > limit) {
              throw new Error(
                this.#state === "head"
                  ? `its head is over ${limit} bytes`
                  : `a chunk's framing is over ${limit} bytes`,
              );
            }
            this.#pending = joined;
            return false;
          }
          const lineEnd = this.#state === "chunk-size" ? end + 2 : end;
          const line = joined.subarray(0, lineEnd);
          this.#pending = new Uint8Array(0);
          data = joined.subarray(lineEnd);
          if (this.#state === "head") this.#head(line);
          else if (this.#state === "chunk-size") {
            this.#chunkSize(_latin1(line, 0, line.length, Infinity));
          } else this.#state = "done";
          break;
        }
        case "length":
        case "chunk-data": {
          const n = Math.min(this.#left, data.length);
          this.#keep(data.subarray(0, n));
          this.#left -= n;
          data = data.subarray(n);
          if (this.#left === 0) {
            this.#state = this.#state === "length" ? "done" : "chunk-end";
          }
          break;
        }
        case "chunk-end": {
          const joined = this.#join(data);
          if (joined.length < 2) {
            this.#pending = joined;
            return false;
          }
          if (joined[0] !== CR || joined[1] !== LF) {
            throw new Error("a chunk does not end with CRLF");
          }
          this.#pending = new Uint8Array(0);
          data = joined.subarray(2);
          this.#state = "chunk-size";
          break;
        }
        case "close":
          this.#keep(data);
          data = data.subarray(data.length);
          break;
      }
    }
    // Bytes after the answer that nobody asked for: the connection is not
    // used again (they would be read as the next answer's start).
    if (this.#state === "done" && data.length > 0) this.#keepAlive = false;
    return this.#state === "done";
  }

  /** The answer read (whole, or up to the connection's end). */
  answer(): Http1Answer {
    let text = "";
    if (this.#bodyBytes > 0) {
      const body = new Uint8Array(this.#bodyBytes);
      let at = 0;
      for (const part of this.#body) {
        body.set(part, at);
        at += part.length;
      }
      text = _utf8.decode(body);
    }
    const head = this.#headBytes;
    let headers: Map<string, string> | undefined;
    return {
      status: this.#status,
      get headers(): Map<string, string> {
        return headers ??= _headerMap(head);
      },
      body: text,
    };
  }

  #join(data: Uint8Array): Uint8Array {
    if (this.#pending.length === 0) return data;
    const joined = new Uint8Array(this.#pending.length + data.length);
    joined.set(this.#pending);
    joined.set(data, this.#pending.length);
    return joined;
  }

  #keep(part: Uint8Array): void {
    const room = this.#maxBody - this.#bodyBytes;
    if (room <= 0 || part.length === 0) return;
    const kept = part.subarray(0, room).slice();
    this.#body.push(kept);
    this.#bodyBytes += kept.length;
  }

  /**
   * An answer's head: its bytes, with the blank line. Read as bytes: the
   * status and the three headers that frame the body; the header map is
   * made when asked for ({@linkcode answer}), since a wake-cold process
   * pays tens of µs on Deno for each text decode, split and regular
   * expression (`bench/RESULTS.md`, session 19).
   */
  #head(b: Uint8Array): void {
    const first = _indexOfCrlf(b, 0);
    const lineEnd = first < 0 ? b.length : first;
    // `HTTP/1.x NNN`, then a space or the line's end.
    if (
      lineEnd < 12 || b[0] !== 72 || b[1] !== 84 || b[2] !== 84 ||
      b[3] !== 80 || b[4] !== 47 || b[5] !== 49 || b[6] !== 46 ||
      (b[7] !== 48 && b[7] !== 49) || b[8] !== 32 || !_isDigit(b[9]) ||
      !_isDigit(b[10]) || !_isDigit(b[11]) || (lineEnd > 12 && b[12] !== 32)
    ) {
      throw new Error(
        `its status line is ${JSON.stringify(_latin1(b, 0, lineEnd, 80))}`,
      );
    }
    const status = (b[9] - 48) * 100 + (b[10] - 48) * 10 + b[11] - 48;
    let connection: string | undefined;
    let coding: string | undefined;
    let length: string | undefined;
    _eachHeader(b, lineEnd + 2, (at, colon, end) => {
      const which = _framing(b, at, colon);
      if (which === 0) return;
      const value = _latin1(b, colon + 1, end, Infinity).trim();
      if (which === 1) connection = _joined(connection, value);
      else if (which === 2) coding = _joined(coding, value);
      else length = _joined(length, value);
    });
    if (status >= 100 && status < 200) {
      if (status === 101) throw new Error("it switches protocols (101)");
      // An interim answer: the real one follows.
      return;
    }
    this.#status = status;
    this.#headBytes = b;
    connection = connection?.toLowerCase();
    this.#keepAlive = b[7] === 49
      ? connection === undefined || !/(^|,)\s*close\s*(,|$)/.test(connection)
      : connection !== undefined &&
        /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
    if (status === 204 || status === 304) {
      this.#state = "done";
    } else if (coding !== undefined) {
      if (!/(^|,)\s*chunked\s*$/i.test(coding)) {
        // Not chunked last: the body runs to the connection's end.
        this.#state = "close";
        this.#keepAlive = false;
      } else {
        this.#state = "chunk-size";
      }
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) {
        throw new Error(
          `its Content-Length is ${JSON.stringify(length.slice(0, 40))}`,
        );
      }
      this.#left = Number(length);
      this.#state = this.#left === 0 ? "done" : "length";
    } else {
      this.#state = "close";
      this.#keepAlive = false;
    }
  }

  /** A chunk-size line (with its CRLF). */
  #chunkSize(line: string): void {
    const m = /^([0-9a-fA-F]{1,12})(?:\s*;[^\r\n]*)?\r\n$/.exec(line);
    if (m === null) {
      throw new Error(`a chunk size is ${JSON.stringify(line.slice(0, 40))}`);
    }
    const size = parseInt(m[1], 16);
    if (size === 0) {
      this.#state = "trailers";
      return;
    }
    this.#left = size;
    this.#state = "chunk-data";
  }
}

/** Where the first CRLF at or after `from` is, or -1. */
function _indexOfCrlf(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.length; i++) {
    if (bytes[i] === CR && bytes[i + 1] === LF) return i;
  }
  return -1;
}

/**
 * Where a head ends: the index just past its blank line (CRLF CRLF), or
 * -1. For trailers, a blank line at the very start ends them too.
 */
function _indexOfBlankLine(bytes: Uint8Array, trailers: boolean): number {
  if (trailers && bytes.length >= 2 && bytes[0] === CR && bytes[1] === LF) {
    return 2;
  }
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === CR && bytes[i + 1] === LF && bytes[i + 2] === CR &&
      bytes[i + 3] === LF
    ) return i + 4;
  }
  return -1;
}

/** Whether byte `c` is an ASCII digit. */
function _isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `bytes[from, to)` as Latin-1 text, at most `max` characters. */
function _latin1(
  bytes: Uint8Array,
  from: number,
  to: number,
  max: number,
): string {
  const end = Math.min(to, from + max);
  let text = "";
  for (let i = from; i < end; i += 4096) {
    text += String.fromCharCode.apply(
      null,
      bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[],
    );
  }
  return text;
}

/** The framing header names, as bytes, lower case. */
const _FRAMING = ["connection", "transfer-encoding", "content-length"].map((
  name,
) => _encoder.encode(name));

/**
 * Which framing header the name at `bytes[from, to)` (blanks around it
 * allowed) is: 1 Connection, 2 Transfer-Encoding, 3 Content-Length, 0
 * another.
 */
function _framing(bytes: Uint8Array, from: number, to: number): number {
  while (from < to && (bytes[from] === 32 || bytes[from] === 9)) from++;
  while (to > from && (bytes[to - 1] === 32 || bytes[to - 1] === 9)) to--;
  for (let k = 0; k < _FRAMING.length; k++) {
    const name = _FRAMING[k];
    if (name.length !== to - from) continue;
    let i = 0;
    for (; i < name.length; i++) {
      const c = bytes[from + i];
      if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== name[i]) break;
    }
    if (i === name.length) return k + 1;
  }
  return 0;
}

/**
 * The headers of an answer's head (its bytes): names in lower case, a
 * repeated header's values joined with ", ".
 */
function _headerMap(head: Uint8Array): Map<string, string> {
  const headers = new Map<string, string>();
  const first = _indexOfCrlf(head, 0);
  if (first < 0) return headers;
  _eachHeader(head, first + 2, (at, colon, end) => {
    const name = _latin1(head, at, colon, Infinity).trim().toLowerCase();
    const value = _latin1(head, colon + 1, end, Infinity).trim();
    headers.set(name, _joined(headers.get(name), value));
  });
  return headers;
}

/**
 * Calls `f(at, colon, end)` for each header line of a head from `from`
 * (the line's start, its colon, its end); throws for a line with no name
 * before a colon.
 */
function _eachHeader(
  head: Uint8Array,
  from: number,
  f: (at: number, colon: number, end: number) => void,
): void {
  for (let at = from; at < head.length;) {
    let end = _indexOfCrlf(head, at);
    if (end < 0) end = head.length;
    if (end > at) {
      let colon = at;
      while (colon < end && head[colon] !== 58) colon++;
      if (colon === at || colon === end) {
        throw new Error(
          `a header line is ${JSON.stringify(_latin1(head, at, end, 80))}`,
        );
      }
      f(at, colon, end);
    }
    at = end + 2;
  }
}

/** A repeated header's values, joined as one: `had, value`. */
function _joined(had: string | undefined, value: string): string {
  return had === undefined ? value : `${had}, ${value}`;
}
