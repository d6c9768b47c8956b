/**
 * A bounded, non-blocking read of a small file (a secret, a TLS PEM file)
 * on the event loop. `readFileSync` of a FIFO waits forever for a writer,
 * and of `/dev/zero` grows until memory runs out, both while the whole
 * server is blocked. Here the file is opened with `O_NONBLOCK` (a FIFO's
 * open returns at once) and `O_NOFOLLOW`, its descriptor is checked with
 * `fstat` (a regular file only) and its size against a cap, and at most
 * `cap + 1` bytes are read, so the read is short whatever the path names.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readlinkSync,
  readSync,
} from "node:fs";

/** The cap on a secret file: a password or a token, 64 KiB. */
export const _SECRET_CAP = 64 * 1024;
/** The cap on a PEM file (a CA bundle, a certificate, a key): 1 MiB. */
export const _PEM_CAP = 1024 * 1024;

/** Options of {@linkcode _readBounded}. */
export interface _BoundedReadOptions {
  /** The most bytes the file may hold. */
  cap: number;
  /**
   * What the file is, for messages: `secret file:mqtt`, `TLS key file
   * /run/credentials/weir/key.pem`. Never a value.
   */
  what: string;
  /**
   * Called with the real path of the open descriptor (from
   * `/proc/self/fd`, or `path` where there is none) before anything is
   * read; throws to refuse it (its message ends the error's sentence).
   */
  verify?: (real: string) => void;
}

function _kind(st: ReturnType<typeof fstatSync>): string {
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Reads the file at `path` (give its real path: a symbolic link as its last
 * part is refused) when it is a regular file of at most `options.cap`
 * bytes. An `Error` "Cannot read WHAT: REASON" otherwise, naming the file
 * and why (its code, its kind, its size), never its content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { _readBounded } from "./_bounded_read.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-bounded-"));
 * writeFileSync(join(dir, "pw"), "hunter2\n");
 * assert.equal(_readBounded(join(dir, "pw"), { cap: 64, what: "secret file:pw" }).toString(), "hunter2\n");
 * assert.throws(() => _readBounded(join(dir, "pw"), { cap: 4, what: "secret file:pw" }),
 *   (e: Error) => /file:pw: it is larger than 4 bytes/.test(e.message) && !e.message.includes("hunter2"));
 * assert.throws(() => _readBounded("/dev/zero", { cap: 64, what: "x" }), /a character device/);
 * assert.throws(() => _readBounded(dir, { cap: 64, what: "x" }), /a folder|EISDIR/);
 * ```
 */
export function _readBounded(
  path: string,
  options: _BoundedReadOptions,
): Buffer {
  const fail = (reason: string): never => {
    throw new Error(`Cannot read ${options.what}: ${reason}`);
  };
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW,
    );
  } catch (e) {
    // The code only (ENOENT, EACCES, ELOOP): a message could quote more.
    const code = (e as { code?: unknown })?.code;
    return fail(
      code === "ELOOP"
        ? "it is a symbolic link (give the file it points to)"
        : typeof code === "string"
        ? code
        : "it cannot be opened",
    );
  }
  try {
    if (options.verify !== undefined) {
      let real = path;
      try {
        real = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // No /proc (not Linux): the path was checked by the caller.
      }
      try {
        options.verify(real);
      } catch (e) {
        fail((e as Error).message);
      }
    }
    const st = fstatSync(fd);
    if (!st.isFile()) fail(`it is ${_kind(st)}, not a regular file`);
    if (st.size > options.cap) {
      fail(
        `it is larger than ${_size(options.cap)} (${st.size} bytes)`,
      );
    }
    // At most cap + 1 bytes, whatever fstat said: a file that grows, or
    // one whose size the kernel does not know, stays bounded.
    const buf = Buffer.alloc(options.cap + 1);
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (got > options.cap) fail(`it is larger than ${_size(options.cap)}`);
        break;
      }
      let n: number;
      try {
        n = readSync(fd, buf, got, buf.length - got, null);
      } catch (e) {
        const code = (e as { code?: unknown })?.code;
        return fail(typeof code === "string" ? code : "it cannot be read");
      }
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function _size(bytes: number): string {
  return bytes % 1024 === 0 && bytes >= 1024
    ? bytes % (1024 * 1024) === 0
      ? `${bytes / 1024 / 1024} MiB`
      : `${bytes / 1024} KiB`
    : `${bytes} bytes`;
}
