/**
 * Readers of Linux's /proc for the resource tracker: threads, open and
 * maximum file descriptors, network bytes and the process start time.
 *
 * Each reader returns `null` when its file cannot be read: not Linux, or
 * Deno without `-A` (Deno refuses /proc even with `--allow-read` of the
 * exact path). Files are read with `node:fs` into one buffer kept between
 * calls (Bun's `Bun.file()` reads /proc files as empty once their size was
 * asked, and /proc files report a size of 0 anyway).
 *
 * @module
 */
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { Buffer } from "node:buffer";
import process from "node:process";
import type { ResourceSource } from "../metrics/resource_tracker.ts";
import { readOwnTcpSockets, TCP_STATES, type TcpState } from "./sockets.ts";

/** What {@linkcode readProcStatus} finds in `/proc/self/status`. */
export interface ProcStatus {
  /** Operating-system threads of the process (`Threads:`). */
  threads: number;
  /** Resident memory in bytes (`VmRSS:`). */
  residentBytes: number;
}

/** Bytes counted by the network interfaces, summed over all of them. */
export interface NetDevTotals {
  /** Bytes received. */
  receiveBytes: number;
  /** Bytes sent. */
  transmitBytes: number;
}

/**
 * The kernel's clock ticks per second for /proc times (`USER_HZ`): 100 on
 * every architecture Deno and Bun run on; JavaScript cannot ask sysconf.
 */
const USER_HZ = 100;

// One buffer for every read: /proc files of the tracker are a few KiB; it
// grows when a file fills it (an interface list of a busy host, say).
let _buf = Buffer.allocUnsafe(16 * 1024);

/**
 * The text of a /proc file, or `null` when it cannot be read.
 *
 * @example
 * ```ts
 * import { readProcText } from "./proc.ts";
 *
 * const status = readProcText("/proc/self/status");
 * if (status !== null) console.log(status.split("\n")[0]); // "Name:\t..."
 * ```
 */
export function readProcText(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    let length = 0;
    for (;;) {
      const n = readSync(fd, _buf, length, _buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === _buf.length) {
        const bigger = Buffer.allocUnsafe(_buf.length * 2);
        _buf.copy(bigger, 0, 0, length);
        _buf = bigger;
      }
    }
    return _buf.toString("latin1", 0, length);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * The process's thread count and resident memory from
 * `/proc/self/status`, or `null` when it cannot be read.
 *
 * @example
 * ```ts
 * import { readProcStatus } from "./proc.ts";
 *
 * const status = readProcStatus();
 * if (status !== null) console.log(`${status.threads} threads`);
 * ```
 */
export function readProcStatus(): ProcStatus | null {
  const text = readProcText("/proc/self/status");
  if (text === null) return null;
  const threads = _field(text, "\nThreads:");
  const rssKb = _field(text, "\nVmRSS:");
  if (threads === null || rssKb === null) return null;
  return { threads, residentBytes: rssKb * 1024 };
}

/**
 * The number of open file descriptors of the process (the entries of
 * `/proc/self/fd`, less the one the listing itself holds open), or `null`
 * when it cannot be read.
 *
 * @example
 * ```ts
 * import { countOpenFds } from "./proc.ts";
 *
 * const fds = countOpenFds();
 * if (fds !== null) console.log(`${fds} open files`);
 * ```
 */
export function countOpenFds(): number | null {
  try {
    // readdir opens the directory, and that descriptor is listed too.
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return null;
  }
}

/**
 * The soft limit on open file descriptors (`Max open files` of
 * `/proc/self/limits`), or `null` when it cannot be read (or is
 * `unlimited`, which Linux does not allow for files).
 *
 * @example
 * ```ts
 * import { readMaxFds } from "./proc.ts";
 *
 * const max = readMaxFds();
 * if (max !== null) console.log(`at most ${max} open files`);
 * ```
 */
export function readMaxFds(): number | null {
  const text = readProcText("/proc/self/limits");
  if (text === null) return null;
  const at = text.indexOf("Max open files");
  if (at === -1) return null;
  const soft = Number.parseInt(text.slice(at + 14, at + 60).trimStart(), 10);
  return Number.isFinite(soft) ? soft : null;
}

/**
 * Bytes received and sent by every network interface the process sees,
 * loopback included, from `/proc/self/net/dev`, or `null` when it cannot
 * be read. The counts are the network namespace's (a container's, or the
 * host's), not the process's alone.
 *
 * @example
 * ```ts
 * import { readNetDev } from "./proc.ts";
 *
 * const net = readNetDev();
 * if (net !== null) console.log(`${net.receiveBytes} bytes received`);
 * ```
 */
export function readNetDev(): NetDevTotals | null {
  const text = readProcText("/proc/self/net/dev");
  if (text === null) return null;
  return parseNetDev(text);
}

/**
 * Sums the receive and transmit bytes of the text of `/proc/net/dev`
 * (two header lines, then `iface: rx_bytes packets ... tx_bytes ...`).
 * Lines it cannot read are skipped.
 *
 * @example
 * ```ts
 * import { parseNetDev } from "./proc.ts";
 *
 * const text = "Inter-|   Receive ...\n face |bytes ...\n" +
 *   "    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n" +
 *   "  eth0: 5000 9 0 0 0 0 0 0 700 4 0 0 0 0 0 0\n";
 * parseNetDev(text); // { receiveBytes: 5100, transmitBytes: 800 }
 * ```
 */
export function parseNetDev(text: string): NetDevTotals {
  let receiveBytes = 0;
  let transmitBytes = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const colon = text.indexOf(":", start);
    if (colon !== -1 && colon < end) {
      // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes ...
      const f = text.slice(colon + 1, end).trim().split(/\s+/);
      const rx = Number(f[0]);
      const tx = Number(f[8]);
      if (f.length >= 16 && Number.isFinite(rx) && Number.isFinite(tx)) {
        receiveBytes += rx;
        transmitBytes += tx;
      }
    }
    start = end + 1;
  }
  return { receiveBytes, transmitBytes };
}

/**
 * When the process started, in seconds since the Unix epoch: its start in
 * clock ticks after boot (`/proc/self/stat`, field 22) plus the boot time
 * (`btime` of `/proc/stat`). `null` when either cannot be read.
 *
 * @example
 * ```ts
 * import { readStartTime } from "./proc.ts";
 *
 * const started = readStartTime();
 * if (started !== null) console.log(new Date(started * 1000).toISOString());
 * ```
 */
export function readStartTime(): number | null {
  const stat = readProcText("/proc/self/stat");
  if (stat === null) return null;
  // The command name (field 2) is in parentheses and may hold spaces: count
  // the fields after its closing parenthesis, which is field 3.
  const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(after[22 - 3]);
  const boot = readProcText("/proc/stat");
  if (boot === null) return null;
  const btime = _field(boot, "\nbtime");
  if (!Number.isFinite(ticks) || btime === null) return null;
  return btime + ticks / USER_HZ;
}

/** The integer after `key` (which starts with "\n") in `text`, or null. */
function _field(text: string, key: string): number | null {
  const at = text.indexOf(key);
  if (at === -1) return null;
  const from = at + key.length;
  const n = Number.parseInt(text.slice(from, from + 40).trimStart(), 10);
  return Number.isFinite(n) ? n : null;
}

/**
 * The resource tracker's /proc reads, as the optional methods of a
 * `ResourceSource`: threads, open and maximum file descriptors, network
 * bytes, the process's TCP sockets by state and its start time. Off Linux
 * there is no /proc and the object is empty, so those metrics are left
 * out; on Linux each method returns `null` when its file cannot be read.
 *
 * @example
 * ```ts
 * import { procResourceReads } from "./proc.ts";
 *
 * const reads = procResourceReads();
 * console.log(reads.openFds?.()); // a number on Linux (Deno with -A)
 * ```
 */
export function procResourceReads(
  platform: string = process.platform,
): ProcResourceReads {
  if (platform !== "linux") return {};
  return {
    threads: () => readProcStatus()?.threads ?? null,
    openFds: countOpenFds,
    maxFds: readMaxFds,
    networkBytes: readNetDev,
    tcpConnections: countOwnTcpSockets,
    startTime: readStartTime,
  };
}

/** The optional /proc methods of a `ResourceSource`. */
export type ProcResourceReads = Pick<
  ResourceSource,
  | "threads"
  | "openFds"
  | "maxFds"
  | "networkBytes"
  | "tcpConnections"
  | "startTime"
>;

/**
 * The process's own TCP sockets counted by state, every kernel state
 * present (0 when it has none), or `null` when /proc cannot be read.
 *
 * @example
 * ```ts
 * import { countOwnTcpSockets } from "./proc.ts";
 *
 * const byState = countOwnTcpSockets();
 * if (byState !== null) console.log(`${byState.listen} listening`);
 * ```
 */
export function countOwnTcpSockets(): Record<TcpState, number> | null {
  const sockets = readOwnTcpSockets();
  if (sockets === null) return null;
  const counts = {} as Record<TcpState, number>;
  for (const state of TCP_STATES) counts[state] = 0;
  for (const s of sockets) counts[s.state]++;
  return counts;
}

/**
 * A resource source from a runtime's memory reading and `node:process`'s
 * CPU times, with the /proc readings ({@linkcode procResourceReads}): what
 * the Deno and Bun adapters share.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { processSource } from "./proc.ts";
 *
 * const source = processSource("bun", "1.0.0", () => process.memoryUsage());
 * source.memory()?.types.heap_used; // a number of bytes
 * ```
 */
export function processSource(
  runtime: "deno" | "bun",
  runtimeVersion: string,
  memoryUsage: () => {
    rss: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
  },
): ResourceSource {
  return {
    runtime,
    runtimeVersion,
    cpuUsage: () => process.cpuUsage(),
    memory: () => {
      const m = memoryUsage();
      return {
        residentBytes: m.rss,
        types: {
          heap_used: m.heapUsed,
          heap_total: m.heapTotal,
          external: m.external,
        },
      };
    },
    ...procResourceReads(),
    // Where /proc cannot be read, the runtime's own clock origin (its
    // start, a few milliseconds after the process's).
    startTime: () => readStartTime() ?? performance.timeOrigin / 1000,
  };
}
