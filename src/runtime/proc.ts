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
import { readdirSync } from "node:fs";
import process from "node:process";
import type { ResourceSource } from "../metrics/resource_tracker.ts";
import { readProcText } from "./proc_text.ts";
import { readOwnTcpSockets, TCP_STATES, type TcpState } from "./sockets.ts";

export { readProcText };

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

/**
 * The process's operating-system threads (`/proc/self/stat`, field 20:
 * a read of `/proc/self/status` costs the kernel three to five times as
 * much), or `null` when it cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { readThreads } from "./proc.ts";
 *
 * const threads = readThreads(); // null where /proc cannot be read
 * if (process.platform === "linux") assert.ok(threads! >= 1);
 * ```
 */
export function readThreads(): number | null {
  const n = _statField(20);
  return n === null || n < 1 ? null : n;
}

/** Field `n` (from 1) of `/proc/self/stat` as a number, or null. */
function _statField(n: number): number | null {
  const stat = readProcText("/proc/self/stat");
  if (stat === null) return null;
  // The command name (field 2) is in parentheses and may hold spaces: count
  // the fields after its closing parenthesis, which is field 3.
  const v = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[n - 3]);
  return Number.isFinite(v) ? v : null;
}

/**
 * The number of open file descriptors of the process (the entries of
 * `/proc/self/fd`, less the one the listing itself holds open), or `null`
 * when it cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { countOpenFds } from "./proc.ts";
 *
 * const fds = countOpenFds(); // null where /proc cannot be read
 * // At least standard input, output and error.
 * if (process.platform === "linux") assert.ok(fds! >= 3);
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
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { countOpenFds, readMaxFds } from "./proc.ts";
 *
 * const max = readMaxFds(); // null where /proc cannot be read
 * if (process.platform === "linux") assert.ok(max! >= countOpenFds()!);
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
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { readNetDev } from "./proc.ts";
 *
 * const net = readNetDev(); // null where /proc cannot be read
 * if (process.platform === "linux") {
 *   assert.deepEqual(Object.keys(net!), ["receiveBytes", "transmitBytes"]);
 *   assert.ok(net!.receiveBytes >= 0 && net!.transmitBytes >= 0);
 * }
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
 * import assert from "node:assert/strict";
 * import { parseNetDev } from "./proc.ts";
 *
 * const text = "Inter-|   Receive ...\n face |bytes ...\n" +
 *   "    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n" +
 *   "  eth0: 5000 9 0 0 0 0 0 0 700 4 0 0 0 0 0 0\n";
 * assert.deepEqual(parseNetDev(text), { receiveBytes: 5100, transmitBytes: 800 });
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
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { readStartTime } from "./proc.ts";
 *
 * const started = readStartTime(); // seconds since the epoch, or null
 * if (process.platform === "linux") {
 *   // Seconds since the epoch: after 2020, and not after now.
 *   assert.ok(started! > 1.6e9 && started! <= Date.now() / 1000);
 * }
 * ```
 */
export function readStartTime(): number | null {
  const ticks = _statField(22);
  if (ticks === null) return null;
  const boot = readProcText("/proc/stat");
  if (boot === null) return null;
  const btime = _field(boot, "\nbtime");
  return btime === null ? null : btime + ticks / USER_HZ;
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
 * import assert from "node:assert/strict";
 * import { procResourceReads } from "./proc.ts";
 *
 * assert.deepEqual(procResourceReads("darwin"), {}); // no /proc there
 * const reads = procResourceReads("linux");
 * assert.deepEqual(Object.keys(reads).sort(), [
 *   "maxFds",
 *   "networkBytes",
 *   "openFds",
 *   "startTime",
 *   "tcpConnections",
 *   "threads",
 * ]);
 * ```
 */
export function procResourceReads(
  platform: string = process.platform,
): ProcResourceReads {
  if (platform !== "linux") return {};
  return {
    threads: readThreads,
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
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { countOwnTcpSockets } from "./proc.ts";
 * import { serve } from "./serve.ts";
 *
 * await using _server = await serve(() => new Response("hi"));
 * const byState = countOwnTcpSockets(); // null where /proc cannot be read
 * if (process.platform === "linux") assert.ok(byState!.listen >= 1);
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
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { processSource } from "./proc.ts";
 *
 * const source = processSource("bun", "1.0.0", () => ({
 *   rss: 50e6,
 *   heapUsed: 8e6,
 *   heapTotal: 12e6,
 *   external: 1e6,
 * }));
 * assert.equal(source.runtime, "bun");
 * assert.deepEqual(source.memory(), {
 *   residentBytes: 50e6,
 *   types: { heap_used: 8e6, heap_total: 12e6, external: 1e6 },
 * });
 * assert.ok(source.cpuUsage()!.user >= 0); // this process's, in µs
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
