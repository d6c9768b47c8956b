/**
 * A header timeout for `Deno.serve`, which has none: a client that opens a
 * connection and sends its request headers slowly, or never finishes them
 * (slowloris), holds the connection for ever (500 such connections were
 * all still open after 25 s; Bun closes them after about 12 s).
 *
 * The kernel lists the server's connections (`/proc/net/tcp`, see
 * `sockets.ts`); the server's handler reports the peer port of the
 * requests it gets (all, or those not answered at once: below). A
 * connection that has carried no request `timeoutMs`
 * after it was first seen is shut down (`shutdown(2)` through libc, by
 * Deno's FFI): the runtime then sees the end of the stream and drops the
 * connection as if the client had left. `shutdown` does not close the
 * descriptor, so no other connection can receive it by reuse.
 *
 * The peer of every request costs Deno an op (~0.7 µs, `info.remoteAddr`).
 * Once the kernel can be asked (`TCP_INFO` through FFI: has the server
 * sent this connection any data, that is answered a whole request?),
 * {@linkcode HeaderTimeout.everyPeer} turns false and the server reports
 * only the requests it does not answer at once (whose handler returned a
 * promise): a connection that reaches its deadline with no request noted
 * is cut only when the kernel says nothing was ever sent on it.
 *
 * Limits: a connection that sent one whole request and is slow with the
 * next one is not cut (it is idle keep-alive to this check); peers are told
 * apart by port only, so a slow connection whose port another host used for
 * a request is spared. Needs Linux's /proc and FFI (`-A`, or `--allow-read`
 * and `--allow-ffi`); without them it says why once and does nothing.
 *
 * @module
 */
import { readdirSync, readlinkSync } from "node:fs";
import { clearInterval, setInterval } from "node:timers";
import { openLibc } from "./libc.ts";
import {
  readOwnSocketInodes,
  readOwnTcpSockets,
  type TcpSocket,
} from "./sockets.ts";

/** Options of {@linkcode HeaderTimeout}. */
export interface HeaderTimeoutOptions {
  /** How long a connection may go without a whole request (ms). Default 10000. */
  timeoutMs?: number;
  /** How often the connections are looked at (ms). Default 1000. */
  checkMs?: number;
  /** Told, in a sentence for the operator, what was cut or why nothing can be. Default none. */
  log?: (message: string) => void;
  /** Reads the process's TCP sockets. Default {@linkcode readOwnTcpSockets}. */
  read?: () => TcpSocket[] | null;
  /** Reads the process's socket inodes. Default {@linkcode readOwnSocketInodes}. */
  readInodes?: () => Set<number> | null;
  /**
   * Shuts the socket with this inode down; true when it did. Default:
   * finds its descriptor in /proc/self/fd and calls libc's `shutdown`.
   */
  cut?: (inode: number) => boolean;
  /** The clock (ms). Default `performance.now()`. */
  now?: () => number;
  /**
   * For each socket inode given: whether the server has sent data on it
   * (answered a request), or `undefined` when that cannot be told.
   * Default: `TCP_INFO` (`tcpi_bytes_acked`) through libc's `getsockopt`,
   * by Deno's FFI.
   */
  served?: (inodes: readonly number[]) => (boolean | undefined)[];
}

interface _Pending {
  port: number;
  since: number;
}

/**
 * Cuts the connections to the server on `port` that carry no whole
 * request within `timeoutMs`. Call {@linkcode HeaderTimeout.noteRequest}
 * with each request's peer port, and {@linkcode HeaderTimeout.stop} when
 * the server closes.
 *
 * @example A connection with a request is spared, one without is cut
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeaderTimeout } from "./header_timeout.ts";
 *
 * let now = 0;
 * const cut: number[] = [];
 * const sock = (port: number, inode: number) => ({
 *   state: "established" as const, localAddress: "127.0.0.1", localPort: 80,
 *   remoteAddress: "127.0.0.1", remotePort: port, inode,
 * });
 * const t = new HeaderTimeout(80, {
 *   timeoutMs: 1000,
 *   read: () => [sock(5001, 11), sock(5002, 12)],
 *   readInodes: () => new Set([11, 12]),
 *   cut: (inode) => cut.push(inode) > 0,
 *   now: () => now,
 * });
 * t.noteRequest(5001);
 * t.check();
 * now = 1500;
 * t.check();
 * assert.deepEqual(cut, [12]);
 * t.stop();
 * ```
 */
export class HeaderTimeout {
  /** The server's port. */
  readonly port: number;
  readonly #timeoutMs: number;
  readonly #checkMs: number;
  readonly #log: (message: string) => void;
  readonly #read: () => TcpSocket[] | null;
  readonly #readInodes: () => Set<number> | null;
  readonly #cut: (inode: number) => boolean;
  readonly #now: () => number;
  readonly #served: (inodes: readonly number[]) => (boolean | undefined)[];
  /** Times the kernel could not tell whether a socket was served. */
  #unanswered = 0;
  #everyPeer = true;
  /** Peer ports that sent a request, with the check they came before. */
  readonly #requested = new Map<number, number>();
  /** Checks so far: dates requests without a clock read per request. */
  #checks = 0;
  /** Server connections without a request yet, by inode. */
  readonly #pending = new Map<number, _Pending>();
  /** Inodes judged already: served connections and other sockets. */
  readonly #settled = new Set<number>();
  /**
   * Sockets listed but not yet looked up in the socket table, by inode,
   * with when they were first listed: looked up only once one could be
   * due within a check (see `check`).
   */
  readonly #unread = new Map<number, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #off = false;

  /** Starts watching the server on `port`. */
  constructor(port: number, options: HeaderTimeoutOptions = {}) {
    const {
      timeoutMs = 10_000,
      checkMs = 1000,
      log = () => {},
      read = readOwnTcpSockets,
      readInodes = readOwnSocketInodes,
      cut = _shutdownInode,
      now = () => performance.now(),
      served = _servedInodes,
    } = options;
    for (const [name, v] of [["timeoutMs", timeoutMs], ["checkMs", checkMs]]) {
      if (typeof v !== "number" || !(v >= 1) || v > 2_147_483_647) {
        throw new RangeError(
          `Cannot time out request headers: ${name} must be a number of milliseconds from 1 to 2147483647, received ${
            String(v)
          }`,
        );
      }
    }
    this.port = port;
    this.#timeoutMs = timeoutMs;
    this.#checkMs = checkMs;
    this.#log = log;
    this.#read = read;
    this.#readInodes = readInodes;
    this.#cut = cut;
    this.#now = now;
    this.#served = served;
    if (options.read === undefined) {
      this.#timer = setInterval(() => this.check(), checkMs);
      // The checks must not keep the process alive.
      this.#timer.unref();
    }
  }

  /**
   * Whether the server must report every request's peer: until the kernel
   * has told whether a socket was served, and for ever when it cannot.
   * When false, only requests not answered by the time the handler
   * returns (a promise) need reporting.
   */
  get everyPeer(): boolean {
    return this.#everyPeer;
  }

  /** Reports a request whose connection's peer port is `port`. */
  noteRequest(port: number): void {
    if (this.#off) return;
    this.#requested.set(port, this.#checks);
  }

  /** Looks at the connections once: what the interval does. */
  check(): void {
    if (this.#off) return;
    const now = this.#now();
    const checks = this.#checks++;
    const inodes = this.#readInodes();
    if (inodes === null) {
      return this.#disable(
        "cannot read this process's sockets in /proc (not Linux, or Deno without -A)",
      );
    }
    for (const inode of this.#settled) {
      if (!inodes.has(inode)) this.#settled.delete(inode);
    }
    for (const inode of this.#pending.keys()) {
      if (!inodes.has(inode)) this.#pending.delete(inode);
    }
    for (const inode of this.#unread.keys()) {
      if (!inodes.has(inode)) this.#unread.delete(inode);
    }
    // A new socket is dated now, and looked up in the socket table (a
    // read of the kernel's whole table: 2 to 6 ms here) only once it
    // could be due by the next check: a connection that closes before
    // its deadline, as most do, costs no read at all. Until the kernel
    // has been asked whether it can tell a served socket (everyPeer),
    // new sockets are read at once.
    let unknown = false;
    const soon = this.#timeoutMs - this.#checkMs;
    for (const inode of inodes) {
      if (this.#settled.has(inode) || this.#pending.has(inode)) continue;
      let first = this.#unread.get(inode);
      if (first === undefined) this.#unread.set(inode, first = now);
      if (this.#everyPeer || now - first >= soon) unknown = true;
    }
    if (unknown) this.#readSockets(now, checks, inodes);
    const due: number[] = [];
    for (const [inode, p] of this.#pending) {
      if (this.#requested.has(p.port)) {
        this.#pending.delete(inode);
        this.#settled.add(inode);
      } else if (now - p.since >= this.#timeoutMs) {
        this.#pending.delete(inode);
        this.#settled.add(inode);
        due.push(inode);
      }
    }
    // Requests answered at once are not reported (see everyPeer): the
    // kernel tells whether a connection due to be cut was ever answered.
    const served = due.length > 0 ? this.#served(due) : [];
    let cut = 0;
    for (let i = 0; i < due.length; i++) {
      if (served[i] === true) continue;
      try {
        if (this.#cut(due[i])) cut++;
      } catch (e) {
        return this.#disable(
          `cannot shut connections down: ${(e as Error).message}`,
        );
      }
    }
    if (cut > 0) {
      this.#log(
        `closed ${cut} connection${
          cut === 1 ? "" : "s"
        } that sent no whole request within ${this.#timeoutMs} ms (slow or unfinished headers)`,
      );
    }
  }

  /** Stops the checks. */
  stop(): void {
    this.#off = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
    this.#settled.clear();
    this.#unread.clear();
    this.#requested.clear();
  }

  /**
   * Reads the TCP sockets to tell the new ones of `inodes` (the process's
   * sockets just listed) apart. A socket of `inodes` the read does not
   * list is no TCP socket (a Unix socket of the runtime's, a UDP one) or
   * closed meanwhile: it is settled too, else it would cost a read of
   * the whole socket table (milliseconds) at every check for as long as
   * it lives.
   */
  #readSockets(now: number, checks: number, inodes: Set<number>): void {
    const sockets = this.#read();
    if (sockets === null) {
      return this.#disable("cannot read /proc/net/tcp");
    }
    const ports = new Set<number>();
    for (const s of sockets) {
      if (this.#settled.has(s.inode) || this.#pending.has(s.inode)) {
        if (s.localPort === this.port) ports.add(s.remotePort);
        continue;
      }
      if (s.localPort !== this.port || s.state !== "established") {
        this.#settled.add(s.inode);
        continue;
      }
      ports.add(s.remotePort);
      if (this.#requested.has(s.remotePort)) this.#settled.add(s.inode);
      else {
        this.#pending.set(s.inode, {
          port: s.remotePort,
          since: this.#unread.get(s.inode) ?? now,
        });
      }
      if (this.#everyPeer && this.#unanswered < 3) {
        // Can the kernel tell whether a connection was served? Asked of
        // new connections until it answers (a socket may close meanwhile),
        // three times at most (no FFI, an old kernel: every peer, then).
        if (this.#served([s.inode])[0] === undefined) this.#unanswered++;
        else this.#everyPeer = false;
      }
    }
    for (const inode of inodes) {
      if (!this.#pending.has(inode)) this.#settled.add(inode);
    }
    this.#unread.clear();
    // Forget the requests of connections gone; one noted after this read
    // began may belong to a connection it did not list yet.
    for (const [port, at] of this.#requested) {
      if (at < checks && !ports.has(port)) this.#requested.delete(port);
    }
  }

  #disable(why: string): void {
    this.stop();
    this.#log(`slow request headers are not timed out: ${why}`);
  }
}

interface _Libc {
  shutdown(fd: number, how: number): number;
  getsockopt(
    fd: number,
    level: number,
    name: number,
    value: Uint8Array,
    length: Uint8Array,
  ): number;
}

let _libc: _Libc | undefined;

/** Shuts down the socket with this inode, by its descriptor. */
function _shutdownInode(inode: number): boolean {
  const fd = _fdOf(inode);
  if (fd === undefined) return false;
  _libc ??= _openLibc();
  // 2: SHUT_RDWR.
  return _libc.shutdown(fd, 2) === 0;
}

/**
 * Whether the server has sent data on each socket (by inode): `TCP_INFO`'s
 * `tcpi_bytes_acked` (Linux 4.1+) above 0; `undefined` for a socket not
 * found among the descriptors, or when libc or FFI is missing.
 */
function _servedInodes(inodes: readonly number[]): (boolean | undefined)[] {
  const out: (boolean | undefined)[] = inodes.map(() => undefined);
  let fds: Map<number, number>;
  try {
    fds = _fdsOf(inodes);
  } catch {
    return out;
  }
  const info = new Uint8Array(232);
  const length = new Uint32Array(1);
  for (let i = 0; i < inodes.length; i++) {
    const fd = fds.get(inodes[i]);
    if (fd === undefined) continue;
    try {
      _libc ??= _openLibc();
    } catch {
      return out;
    }
    length[0] = info.byteLength;
    // SOL_TCP 6, TCP_INFO 11.
    const r = _libc.getsockopt(fd, 6, 11, info, new Uint8Array(length.buffer));
    if (r !== 0 || length[0] < 128) continue;
    const view = new DataView(info.buffer);
    out[i] = view.getUint32(120, true) !== 0 || view.getUint32(124, true) !== 0;
  }
  return out;
}

function _fdOf(inode: number): number | undefined {
  return _fdsOf([inode]).get(inode);
}

/**
 * The descriptors of the sockets with these inodes, found in one pass
 * over /proc/self/fd (a socket not found is left out). Throws when the
 * folder cannot be read.
 */
function _fdsOf(inodes: readonly number[]): Map<number, number> {
  const want = new Map<string, number>();
  for (const inode of inodes) want.set(`socket:[${inode}]`, inode);
  const found = new Map<number, number>();
  for (const name of readdirSync("/proc/self/fd")) {
    let inode: number | undefined;
    try {
      inode = want.get(readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      continue; // Closed while listed.
    }
    if (inode !== undefined) found.set(inode, Number(name));
  }
  return found;
}

function _openLibc(): _Libc {
  return openLibc({
    shutdown: { parameters: ["i32", "i32"], result: "i32" },
    getsockopt: {
      parameters: ["i32", "i32", "i32", "buffer", "buffer"],
      result: "i32",
    },
  }) as unknown as _Libc;
}
