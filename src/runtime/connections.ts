/**
 * Connection tracking for one HTTP server: how many TCP connections are
 * open to it, and how old each was when it closed.
 *
 * Neither Deno nor Bun reports a server's connections, so the tracker asks
 * the kernel ({@linkcode readOwnTcpSockets}): the server's connections are
 * this process's established sockets whose local port is the server's.
 * A close has no event either; it is seen when the connection's socket is
 * gone from the process's descriptors. Two kinds of read:
 * - the full read of the socket table, when asked ({@linkcode
 *   ConnectionTracker.open}, at every scrape), and at most every
 *   `fullReadMs` while new sockets wait to be told apart (the kernel
 *   lists `/proc/net/tcp` by walking its whole connection table: about
 *   2 ms a file on this 24 GiB machine, much less on a small one);
 * - the cheap read of the process's own socket inodes (`/proc/self/fd`),
 *   on an unref'd interval (`pollMs`) while closes are watched and
 *   connections are known: it sees the closes of known connections.
 *
 * Resolution of a connection's age: it starts at the first of (a) the
 * arrival of its first request (the server reports each request's peer
 * address and port, which name the connection, since keep-alive reuses it)
 * and (b) the first read that found it; it ends at the first read that no
 * longer finds it. So an age is late by up to one `pollMs` at its end for
 * a connection a full read has seen, and by up to `fullReadMs` for one
 * that closed before any full read saw it (it is still counted, through
 * its requests); it starts at most one request round-trip after the
 * accept (a connection that sent nothing before the first read is dated
 * by that read).
 *
 * The server reports the peers of a sample of requests
 * ({@linkcode ConnectionTracker.samplePeer}; Bun's peer lookup costs a
 * fifth of a trivial request, Deno's an op and two objects): every
 * request below about 200 a second, about 200 a second above. A busy
 * server's connection is then dated by its first sampled request or the
 * first read that finds it, and a short one (opened and closed between two
 * reads, with no sampled request) is missed: the ages are a sample of the
 * connections, no longer every one of them.
 *
 * @module
 */
import { clearInterval, setInterval } from "node:timers";
import {
  readOwnSocketInodes,
  readOwnTcpSockets,
  type TcpSocket,
} from "./sockets.ts";

/**
 * What a server tells about its connections, as {@linkcode serve} returns
 * it in `server.connections`.
 */
export interface ServerConnections {
  /**
   * Reads the server's sockets now: the number of established connections,
   * or `null` when the sockets cannot be read (not Linux; Deno without
   * `-A`). Closes found by the read are reported to the `onClose`
   * listeners before it returns.
   */
  open(): number | null;
  /**
   * Calls `listener` with the age in seconds (accept to close) of every
   * connection that closes from now on; returns the function that stops
   * it. Connections open when the first listener came are dated from the
   * first read that finds them.
   */
  onClose(listener: (ageSeconds: number) => void): () => void;
}

/** Options of {@linkcode ConnectionTracker}. */
export interface ConnectionTrackerOptions {
  /**
   * How often the sockets are read while closes are watched and
   * connections are open (milliseconds): the resolution of a
   * connection's closing time. Default 500.
   */
  pollMs?: number;
  /**
   * The least time between two full reads of the socket table made to
   * tell new sockets apart (milliseconds); reads asked for by `open()`
   * are not limited. Default 2000.
   */
  fullReadMs?: number;
  /** How the sockets are read. Default {@linkcode readOwnTcpSockets}. */
  read?: () => TcpSocket[] | null;
  /**
   * How the process's socket inodes are read. Default
   * {@linkcode readOwnSocketInodes}.
   */
  readInodes?: () => Set<number> | null;
  /** The clock, in milliseconds. Default `performance.now()`. */
  now?: () => number;
  /**
   * How long `open()` may answer with the count of the last full read
   * (milliseconds) while the process's socket inodes are the same as just
   * before it (no connection opened or closed since; a socket that only
   * changed state, e.g. to close-wait, is then seen late). Each full read
   * walks the kernel's whole socket table (milliseconds on a busy host),
   * and a metric history collects every second. Default 0: `open()`
   * always reads.
   */
  reuseMs?: number;
  /**
   * How many requests a second may report their peer once a burst of
   * {@linkcode ConnectionTrackerOptions.peerBurst} is spent, for a server
   * whose peer lookup is dear (Bun's `server.requestIP()`: about 3 µs, a
   * fifth of a trivial request's CPU time). See
   * {@linkcode ConnectionTracker.samplePeer}. Default 200.
   */
  peerRate?: number;
  /** How many requests in a row may report their peer. Default 64. */
  peerBurst?: number;
}

/** A connection the tracker knows. */
interface Known {
  /** When it was first seen (ms). */
  since: number;
  /** Its socket's inode; 0 until a read found it. */
  inode: number;
  /** The read that last found it. */
  seen: number;
  /** The peer's port. */
  port: number;
}

/**
 * Tracks the connections of the server listening on `port`.
 *
 * @example Count a server's connections
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { ConnectionTracker } from "./connections.ts";
 * import { serve } from "./serve.ts";
 *
 * await using server = await serve(() => new Response("hi"));
 * const tracker = new ConnectionTracker(server.port);
 * assert.equal(await (await fetch(server.url)).text(), "hi");
 * // Keep-alive holds the connection open; off Linux there is no /proc.
 * assert.equal(tracker.open(), process.platform === "linux" ? 1 : null);
 * tracker.stop();
 * assert.equal(tracker.open(), null);
 * ```
 */
export class ConnectionTracker implements ServerConnections {
  /** The server's port. */
  readonly port: number;
  readonly #pollMs: number;
  readonly #read: () => TcpSocket[] | null;
  readonly #readInodes: () => Set<number> | null;
  readonly #fullReadMs: number;
  readonly #now: () => number;
  /** When the last full read was (ms). */
  #lastFull = -Infinity;
  readonly #reuseMs: number;
  /** The open count of the last full read (`null`: it failed). */
  #lastOpen: number | null = null;
  /** The socket inodes read just before open()'s last full read. */
  #fullInodes: Set<number> | null = null;
  /** The socket inodes seen by the last cheap read. */
  #inodes = new Set<number>();
  readonly #listeners = new Set<(ageSeconds: number) => void>();
  /** Known connections by peer (`address port`), while watched. */
  readonly #known = new Map<string, Known>();
  /**
   * Peer port to the address (as the server reported it) of a connection
   * in `#known`: lets noteRequest() skip building the key for a request on
   * a known connection, which every request but a connection's first is.
   * Only a shortcut: an entry goes whenever a known connection on its port
   * goes.
   */
  readonly #ports = new Map<number, string>();
  #reads = 0;
  /** False after a read failed: requests are not noted then. */
  #readable = true;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  readonly #peerRate: number;
  readonly #peerBurst: number;
  /** Peer reports left in the budget of samplePeer(), and when counted. */
  #peerTokens: number;
  #peerAt = 0;
  /** Requests left to refuse before the clock is read again. */
  #peerSkip = 0;

  /** Creates a tracker for the server on `port`; it reads nothing yet. */
  constructor(port: number, options: ConnectionTrackerOptions = {}) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(
        `Cannot track connections: port must be an integer from 1 to 65535, received ${
          String(port)
        }`,
      );
    }
    const {
      pollMs = 500,
      fullReadMs = 2000,
      read = readOwnTcpSockets,
      readInodes = readOwnSocketInodes,
      now = () => performance.now(),
      reuseMs = 0,
      peerRate = 200,
      peerBurst = 64,
    } = options;
    if (typeof peerRate !== "number" || !(peerRate > 0)) {
      throw new RangeError(
        `Cannot track connections: peerRate must be a positive number of requests a second, received ${
          String(peerRate)
        }`,
      );
    }
    if (!Number.isInteger(peerBurst) || peerBurst < 1) {
      throw new RangeError(
        `Cannot track connections: peerBurst must be a positive integer, received ${
          String(peerBurst)
        }`,
      );
    }
    this.#peerRate = peerRate / 1000;
    this.#peerBurst = peerBurst;
    this.#peerTokens = peerBurst;
    if (
      typeof reuseMs !== "number" || !(reuseMs >= 0) || reuseMs > 2_147_483_647
    ) {
      throw new RangeError(
        `Cannot track connections: reuseMs must be a number of milliseconds from 0 to 2147483647, received ${
          String(reuseMs)
        }`,
      );
    }
    this.#reuseMs = reuseMs;
    if (
      typeof fullReadMs !== "number" || !(fullReadMs >= 0) ||
      fullReadMs > 2_147_483_647
    ) {
      throw new RangeError(
        `Cannot track connections: fullReadMs must be a number of milliseconds from 0 to 2147483647, received ${
          String(fullReadMs)
        }`,
      );
    }
    if (
      typeof pollMs !== "number" || !(pollMs >= 1) || pollMs > 2_147_483_647
    ) {
      throw new RangeError(
        `Cannot track connections: pollMs must be a number of milliseconds from 1 to 2147483647, received ${
          String(pollMs)
        }`,
      );
    }
    this.port = port;
    this.#pollMs = pollMs;
    this.#read = read;
    this.#readInodes = readInodes;
    this.#fullReadMs = fullReadMs;
    this.#now = now;
  }

  /**
   * True while someone listens to closes: only then do requests need to
   * be reported with {@linkcode ConnectionTracker.noteRequest}.
   */
  get watching(): boolean {
    return this.#listeners.size > 0 && !this.#stopped;
  }

  /**
   * Whether the request arriving now should report its peer with
   * {@linkcode ConnectionTracker.noteRequest}, for a server whose peer
   * lookup costs more than the tracker saves by it: true while closes are
   * watched and the budget allows (a burst of `peerBurst` requests, then
   * `peerRate` a second). So below about `peerRate` requests a second
   * every request reports its peer, as with `watching`; above, a sample.
   * A connection whose requests all go unsampled is dated by the first
   * read that finds it, and one that also opens and closes between two
   * reads of the process's sockets (`pollMs`) is not seen at all: its age
   * is missing from the closes reported.
   */
  samplePeer(): boolean {
    if (this.#listeners.size === 0 || this.#stopped) return false;
    if (this.#peerTokens >= 1) {
      // A full budget gains nothing while it waits: it refills from the
      // moment it is first spent.
      if (this.#peerTokens === this.#peerBurst) this.#peerAt = this.#now();
      this.#peerTokens--;
      return true;
    }
    // Once refused, the next 63 requests are too without reading the
    // clock: a clock read for each request of a busy server costs more
    // than the budget it keeps.
    if (this.#peerSkip > 0) {
      this.#peerSkip--;
      return false;
    }
    const at = this.#now();
    this.#peerTokens = Math.min(
      this.#peerBurst,
      this.#peerTokens + (at - this.#peerAt) * this.#peerRate,
    );
    this.#peerAt = at;
    if (this.#peerTokens < 1) {
      this.#peerSkip = 63;
      return false;
    }
    this.#peerTokens--;
    return true;
  }

  /**
   * Reports a request from the peer `address`:`port`, which dates its
   * connection when it is new. Cheap: one map lookup for a connection
   * known already; nothing when nobody watches.
   */
  noteRequest(address: string, port: number): void {
    if (this.#ports.get(port) === address) return;
    if (!this.watching || !this.#readable) return;
    const key = _peerKey(address, port);
    if (!this.#known.has(key)) {
      this.#known.set(key, { since: this.#now(), inode: 0, seen: -1, port });
      this.#schedule();
    }
    this.#ports.set(port, address);
  }

  /**
   * Reads the server's sockets now: the number of established
   * connections, or `null` when they cannot be read. Closes the read finds
   * are reported before it returns.
   */
  open(): number | null {
    if (this.#reuseMs === 0 || this.#stopped) return this.poll();
    const inodes = this.#readInodes();
    if (
      inodes !== null && this.#lastOpen !== null &&
      this.#fullInodes !== null &&
      this.#now() - this.#lastFull < this.#reuseMs &&
      _sameSet(inodes, this.#fullInodes)
    ) return this.#lastOpen;
    const open = this.poll();
    // Read before the full read: a socket that came or went during it
    // makes the next comparison differ.
    this.#fullInodes = inodes;
    return open;
  }

  /**
   * Calls `listener` with the age in seconds of every connection that
   * closes from now on; returns the function that stops it.
   */
  onClose(listener: (ageSeconds: number) => void): () => void {
    if (typeof listener !== "function") {
      throw new TypeError(
        `Cannot watch connection closes: the listener must be a function, received ${typeof listener}`,
      );
    }
    // A Set would merge a listener added twice; wrap it so each call counts.
    const entry = (age: number) => listener(age);
    this.#listeners.add(entry);
    // The first listener's read dates the connections open already.
    if (this.#listeners.size === 1) this.poll();
    return () => {
      this.#listeners.delete(entry);
      if (this.#listeners.size === 0) {
        this.#forgetAll();
        this.#schedule();
      }
    };
  }

  /**
   * Reads the sockets: returns the open connections (or `null` when they
   * cannot be read) and, while watched, reports the connections gone since
   * the last read.
   */
  poll(): number | null {
    const sockets = this.#stopped ? null : this.#read();
    this.#fullInodes = null;
    this.#lastOpen = null;
    if (sockets === null) {
      this.#readable = false;
      this.#forgetAll();
      this.#schedule();
      return null;
    }
    this.#readable = true;
    const at = this.#now();
    this.#lastFull = at;
    // What the full read has told apart is not new to the next tick.
    this.#inodes = this.#readInodes() ?? this.#inodes;
    const watching = this.watching;
    const read = ++this.#reads;
    let open = 0;
    for (const s of sockets) {
      if (s.localPort !== this.port || s.state !== "established") continue;
      open++;
      if (!watching) continue;
      const key = _peerKey(s.remoteAddress, s.remotePort);
      let known = this.#known.get(key);
      if (known !== undefined && known.inode !== 0 && known.inode !== s.inode) {
        // The peer reused its port for a new connection between two reads.
        this.#closed(known, at);
        known = undefined;
      }
      if (known === undefined) {
        known = { since: at, inode: s.inode, seen: read, port: s.remotePort };
        this.#known.set(key, known);
      } else {
        known.inode = s.inode;
        known.seen = read;
      }
    }
    if (watching) {
      for (const [key, known] of this.#known) {
        if (known.seen !== read) {
          this.#known.delete(key);
          this.#ports.delete(known.port);
          this.#closed(known, at);
        }
      }
    }
    this.#schedule();
    this.#lastOpen = open;
    return open;
  }

  /**
   * The interval's read: the process's socket inodes only, which shows the
   * closes of known connections; a full read only when new sockets or
   * connections known by their requests alone wait to be told apart, and
   * the last full read is `fullReadMs` old.
   */
  #tick(): void {
    const inodes = this.#stopped ? null : this.#readInodes();
    if (inodes === null) {
      this.poll();
      return;
    }
    const at = this.#now();
    let pending = false;
    for (const [key, known] of this.#known) {
      if (known.inode === 0) pending = true;
      else if (!inodes.has(known.inode)) {
        this.#known.delete(key);
        this.#ports.delete(known.port);
        this.#closed(known, at);
      }
    }
    for (const inode of inodes) {
      if (!this.#inodes.has(inode)) {
        pending = true;
        break;
      }
    }
    this.#inodes = inodes;
    if (pending && at - this.#lastFull >= this.#fullReadMs) this.poll();
    else this.#schedule();
  }

  /** Stops reading; `open()` returns `null` from now on. */
  stop(): void {
    this.#stopped = true;
    this.#forgetAll();
    this.#schedule();
  }

  #forgetAll(): void {
    this.#known.clear();
    this.#ports.clear();
  }

  #closed(known: Known, at: number): void {
    const age = Math.max(0, at - known.since) / 1000;
    for (const listener of this.#listeners) {
      try {
        listener(age);
      } catch {
        // One listener's failure must not stop the others or the read.
      }
    }
  }

  /** Runs the interval while closes are watched and connections known. */
  #schedule(): void {
    const wanted = this.watching && this.#known.size > 0;
    if (wanted && this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.#pollMs);
      // The reads must not keep the process alive.
      this.#timer.unref();
    } else if (!wanted && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

function _sameSet(a: Set<number>, b: Set<number>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * A peer as `address port`; an IPv4-mapped IPv6 address as plain IPv4, so
 * a server's report and the kernel's agree.
 */
function _peerKey(address: string, port: number): string {
  const plain = address.startsWith("::ffff:") && address.includes(".")
    ? address.slice(7)
    : address;
  return `${plain} ${port}`;
}
