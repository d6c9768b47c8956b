/**
 * The current process's TCP sockets, read from Linux's /proc: the inodes
 * of the `socket:[N]` links in `/proc/self/fd`, matched against the rows
 * of `/proc/net/tcp` and `/proc/net/tcp6` (which list every socket of the
 * network namespace, not only this process's).
 *
 * Neither Deno nor Bun tells how many connections a server holds; the
 * kernel does. One read is one `readdir`, one `readlink` per open file and
 * two file reads, done with `node:fs` (Bun's `Bun.file()` reads /proc
 * files as empty once their size was asked).
 *
 * @module
 */
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { readProcText } from "./proc_text.ts";

/**
 * The kernel's TCP states, lower-case, in the order of their numbers in
 * `/proc/net/tcp` (`01` is `established`, `0A` is `listen`).
 */
export const TCP_STATES: readonly TcpState[] = [
  "established",
  "syn_sent",
  "syn_recv",
  "fin_wait1",
  "fin_wait2",
  "time_wait",
  "close",
  "close_wait",
  "last_ack",
  "listen",
  "closing",
  "new_syn_recv",
];

/** A kernel TCP state name, lower-case. */
export type TcpState =
  | "established"
  | "syn_sent"
  | "syn_recv"
  | "fin_wait1"
  | "fin_wait2"
  | "time_wait"
  | "close"
  | "close_wait"
  | "last_ack"
  | "listen"
  | "closing"
  | "new_syn_recv";

/** One TCP socket, as the kernel lists it. */
export interface TcpSocket {
  /** Its state: `established`, `listen`, `close_wait`, ... */
  readonly state: TcpState;
  /**
   * The local address: dotted IPv4 (`127.0.0.1`) or compressed IPv6
   * (`::1`, `::ffff:127.0.0.1`), no brackets.
   */
  readonly localAddress: string;
  /** The local port. */
  readonly localPort: number;
  /** The peer's address (`0.0.0.0` or `::` for a listening socket). */
  readonly remoteAddress: string;
  /** The peer's port (`0` for a listening socket). */
  readonly remotePort: number;
  /** The socket's inode: the `N` of its `socket:[N]` file descriptor. */
  readonly inode: number;
}

/**
 * Lists the TCP sockets (IPv4 and IPv6) this process holds open, or
 * `null` when /proc cannot be read: not Linux, or Deno without `-A` (Deno
 * refuses /proc even with `--allow-read` of the exact path).
 *
 * Only sockets that own a file descriptor are listed: a connection closed
 * by this process and lingering in `time_wait` belongs to the kernel and
 * is not. A connection the peer closed but this process has not yet is in
 * `close_wait`.
 *
 * @example Count the established connections
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { serve } from "./serve.ts";
 * import { readOwnTcpSockets } from "./sockets.ts";
 *
 * await using server = await serve(() => new Response("hi"));
 * const sockets = readOwnTcpSockets(); // null where /proc cannot be read
 * if (process.platform === "linux") {
 *   const listening = sockets!.filter((s) =>
 *     s.state === "listen" && s.localPort === server.port
 *   );
 *   assert.equal(listening.length, 1);
 * }
 * ```
 */
export function readOwnTcpSockets(): TcpSocket[] | null {
  let inodes: Set<number>;
  try {
    inodes = _ownSocketInodes();
  } catch {
    return null;
  }
  // Read in as few calls as it takes: each read to the end walks the
  // kernel's whole connection table (see proc_text.ts).
  const v4 = readProcText("/proc/net/tcp");
  // A kernel without IPv6 has no tcp6 file: its sockets are all IPv4.
  const v6 = readProcText("/proc/net/tcp6") ??
    (existsSync("/proc/net/tcp6") ? null : "");
  if (v4 === null || v6 === null) return null;
  const out: TcpSocket[] = [];
  _parseInto(v4, 4, inodes, out);
  _parseInto(v6, 6, inodes, out);
  return out;
}

/**
 * Parses the text of `/proc/net/tcp` (`family` 4) or `/proc/net/tcp6`
 * (`family` 6) into sockets, every row of it (all the namespace's
 * sockets, without regard to which process holds them). Rows it cannot
 * read are skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProcNetTcp } from "./sockets.ts";
 *
 * const text =
 *   "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
 *   "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n";
 * const [listening] = parseProcNetTcp(text, 4);
 * assert.equal(listening.state, "listen");
 * assert.equal(listening.localPort, 8080);
 * assert.equal(listening.inode, 4242);
 * // The kernel writes the address in its own byte order: x86 and ARM are
 * // little-endian.
 * assert.equal(listening.localAddress, "127.0.0.1");
 * ```
 */
export function parseProcNetTcp(text: string, family: 4 | 6): TcpSocket[] {
  if (family !== 4 && family !== 6) {
    throw new RangeError(
      `Cannot parse /proc/net/tcp: family must be 4 or 6, received ${
        String(family)
      }`,
    );
  }
  const out: TcpSocket[] = [];
  _parseInto(text, family, null, out);
  return out;
}

/**
 * The inodes of every socket among this process's file descriptors (TCP,
 * UDP, Unix), or `null` when `/proc/self/fd` cannot be read. Much cheaper
 * than {@linkcode readOwnTcpSockets}: the kernel lists `/proc/net/tcp` by
 * walking its whole connection table (about 2 ms a file on a machine with
 * 24 GiB), this reads only the process's own descriptors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { serve } from "./serve.ts";
 * import { readOwnSocketInodes } from "./sockets.ts";
 *
 * await using _server = await serve(() => new Response("hi"));
 * const inodes = readOwnSocketInodes(); // null where /proc cannot be read
 * if (process.platform === "linux") assert.ok(inodes!.size >= 1);
 * ```
 */
export function readOwnSocketInodes(): Set<number> | null {
  try {
    return _ownSocketInodes();
  } catch {
    return null;
  }
}

/** The inodes of the sockets among this process's file descriptors. */
function _ownSocketInodes(): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // Closed between the readdir and the readlink (or the readdir's own
      // descriptor, gone by now).
      continue;
    }
    if (target.startsWith("socket:[")) {
      inodes.add(Number(target.slice(8, -1)));
    }
  }
  return inodes;
}

/** Appends the rows of `text` whose inode is in `inodes` (all when null). */
function _parseInto(
  text: string,
  family: 4 | 6,
  inodes: Set<number> | null,
  out: TcpSocket[],
): void {
  let start = text.indexOf("\n") + 1; // past the header line
  if (start === 0) return;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const inode = Number(f[9]);
    if (!Number.isSafeInteger(inode)) continue;
    if (inodes !== null && !inodes.has(inode)) continue;
    const state = TCP_STATES[parseInt(f[3], 16) - 1];
    const local = _endpoint(f[1], family);
    const remote = _endpoint(f[2], family);
    if (state === undefined || local === null || remote === null) continue;
    out.push({
      state,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      inode,
    });
  }
}

// The kernel prints an address as 32-bit words in host byte order: writing
// each word back into a Uint32Array and reading its bytes undoes that on
// any machine.
const _words = new Uint32Array(4);
const _bytes = new Uint8Array(_words.buffer);

/** `0100007F:1F90` as `{ address: "127.0.0.1", port: 8080 }`. */
function _endpoint(
  hex: string,
  family: 4 | 6,
): { address: string; port: number } | null {
  const colon = hex.indexOf(":");
  const digits = family === 4 ? 8 : 32;
  if (colon !== digits) return null;
  const port = parseInt(hex.slice(colon + 1), 16);
  if (!(port >= 0 && port <= 65535)) return null;
  for (let w = 0; w < digits / 8; w++) {
    _words[w] = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
  }
  const address = family === 4
    ? `${_bytes[0]}.${_bytes[1]}.${_bytes[2]}.${_bytes[3]}`
    : _ipv6(_bytes);
  return { address, port };
}

/** Sixteen bytes as RFC 5952 text: `::1`, `fe80::1`, `::ffff:1.2.3.4`. */
function _ipv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  // An IPv4-mapped address keeps its dotted tail.
  if (
    groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff
  ) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  // The longest run of two or more zero groups becomes "::" (the first one
  // when two runs tie).
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt === -1) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${
    hex.slice(bestAt + bestLen).join(":")
  }`;
}
