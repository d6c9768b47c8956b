/**
 * Reading a /proc file whole, in as few `read()` calls as it takes.
 *
 * @module
 */
import { closeSync, openSync, readSync } from "node:fs";
import { Buffer } from "node:buffer";

/**
 * A read that returned fewer bytes than this reached the end of the file.
 * /proc files are seq_files: one `read()` returns records until the end,
 * or until its page-sized buffer (4 KiB; larger only for a record that
 * does not fit one) or the caller's is full. So a read shorter than a
 * page less the longest record (TCP rows are 150 to 180 bytes) is the
 * last: another read to see the end would cost as much again where the
 * kernel must walk a table to find it (`/proc/net/tcp` walks the whole
 * connection table, 2 ms a walk on the VM of bench/RESULTS.md). A regular
 * file returns less than asked only at its end too.
 */
const SHORT_READ = 4096 - 512;

// One buffer for every read: /proc files of the tracker are a few KiB; it
// grows when a file fills it (an interface list of a busy host, say).
let _buf = Buffer.allocUnsafe(16 * 1024);

/**
 * The text of a /proc file, or `null` when it cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import process from "node:process";
 * import { readProcText } from "./proc_text.ts";
 *
 * assert.equal(readProcText("/proc/no-such-file"), null);
 * const status = readProcText("/proc/self/status");
 * if (process.platform === "linux") assert.match(status!, /^Name:\t/);
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
      // Room for more than a page, so that a short read means the end.
      if (_buf.length - length < 2 * 4096) {
        const bigger = Buffer.allocUnsafe(_buf.length * 2);
        _buf.copy(bigger, 0, 0, length);
        _buf = bigger;
      }
      const n = readSync(fd, _buf, length, _buf.length - length, null);
      length += n;
      if (n < SHORT_READ) break;
    }
    return _buf.toString("latin1", 0, length);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
