/**
 * A file of framed records (see `record_frame.ts`) that is only ever
 * appended to, or replaced whole: each write ends with `fdatasync`, so
 * what a write returned from survives a power cut; a replacement goes
 * through a temporary file and a rename, so a reader sees the old file or
 * the new one, never half of one.
 *
 * @module
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { ByteWriter } from "./_bytes.ts";
import { RECORD_HEADER_BYTES, scanRecords } from "./record_frame.ts";

/**
 * Writes all of `bytes` to `fd`.
 */
function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    off += writeSync(fd, bytes, off, bytes.length - off);
  }
}

/**
 * Makes a new or renamed entry of `dir` durable (best effort: some systems
 * refuse a directory fd, and then it does nothing).
 *
 * @example
 * ```ts
 * import { tmpdir } from "node:os";
 * import { syncDir } from "./record_file.ts";
 *
 * syncDir(tmpdir()); // never throws
 * syncDir("/no/such/folder");
 * ```
 */
export function syncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // The data itself is synced; only the entry's durability is best effort.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * One append-only file of framed records.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { ByteWriter } from "./_bytes.ts";
 * import { beginRecord, endRecord } from "./record_frame.ts";
 * import { RecordFile } from "./record_file.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-rf-"));
 * try {
 *   const f = new RecordFile(join(dir, "a.log"));
 *   const w = new ByteWriter();
 *   const at = beginRecord(w);
 *   w.u8(42);
 *   endRecord(w, at);
 *   f.append(w.bytes());
 *   const seen: number[] = [];
 *   assert.equal(f.load((b, s) => seen.push(b[s])), 0);
 *   assert.deepEqual(seen, [42]);
 * } finally {
 *   rmSync(dir, { recursive: true });
 * }
 * ```
 */
export class RecordFile {
  /** Its path. */
  readonly path: string;
  /** Its size in bytes, as this object knows it. */
  bytes: number;

  /** @param path the file (need not exist yet) */
  constructor(path: string) {
    this.path = path;
    this.bytes = existsSync(path) ? statSync(path).size : 0;
  }

  /**
   * Calls `visit` for every good record; returns how many bad runs were
   * skipped. A file with bad runs is rewritten with its good records only,
   * so they are reported once and later appends follow good data.
   */
  load(
    visit: (bytes: Uint8Array, start: number, end: number) => void,
  ): number {
    if (!existsSync(this.path)) {
      this.bytes = 0;
      return 0;
    }
    const bytes = readFileSync(this.path);
    const good: [number, number][] = [];
    const { corrupt } = scanRecords(bytes, (b, start, end) => {
      good.push([start - RECORD_HEADER_BYTES, end]);
      visit(b, start, end);
    });
    this.bytes = bytes.length;
    if (corrupt > 0) {
      const w = new ByteWriter(bytes.length);
      for (const [s, e] of good) w.raw(bytes.subarray(s, e));
      this.replace(w.bytes());
    }
    return corrupt;
  }

  /**
   * Appends `bytes` (whole records) and syncs them to the disk. A write
   * cut short (a full disk) leaves the file as it was (see appendWith).
   */
  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.appendWith((out) => out(bytes));
  }

  /** Replaces the whole file with `bytes`, atomically. */
  replace(bytes: Uint8Array): void {
    this.replaceWith((out) => out(bytes));
  }

  /**
   * Appends what `fill` hands to its `out` (whole records, in pieces), then
   * syncs once: a big batch never needs one big buffer. A write cut short
   * (a full disk) cuts the file back to what it held, so that it and
   * `bytes` agree and later appends land where an index says.
   */
  appendWith(fill: (out: (bytes: Uint8Array) => void) => void): void {
    const created = !existsSync(this.path);
    writeSynced(openSync(this.path, "a"), fill, (n) => {
      this.bytes += n;
    }, this.bytes);
    if (created) syncDir(dirname(this.path));
  }

  /** Replaces the whole file, atomically, with what `fill` hands to its `out`. */
  replaceWith(fill: (out: (bytes: Uint8Array) => void) => void): void {
    const tmp = `${this.path}.tmp`;
    let n = 0;
    try {
      writeSynced(openSync(tmp, "w"), fill, (wrote) => {
        n = wrote;
      });
    } catch (error) {
      // Not left behind holding the space of a full disk.
      try {
        unlinkSync(tmp);
      } catch {
        // Gone already.
      }
      throw error;
    }
    renameSync(tmp, this.path);
    syncDir(dirname(this.path));
    this.bytes = n;
  }

  /** Deletes the file. */
  remove(): void {
    if (existsSync(this.path)) unlinkSync(this.path);
    this.bytes = 0;
  }

  /** The file's bytes (empty when it does not exist). */
  read(): Uint8Array {
    return existsSync(this.path) ? readFileSync(this.path) : new Uint8Array(0);
  }
}

/**
 * Hands `fill` an `out` that writes to `fd`, syncs and closes `fd`;
 * `wrote` gets the bytes written, also when `fill` throws.
 */
function writeSynced(
  fd: number,
  fill: (out: (bytes: Uint8Array) => void) => void,
  wrote: (n: number) => void,
  truncateTo?: number,
): void {
  let n = 0;
  try {
    fill((bytes) => {
      writeAll(fd, bytes);
      n += bytes.length;
    });
    fdatasyncSync(fd);
  } catch (error) {
    if (truncateTo !== undefined) {
      _truncate(fd, truncateTo);
      n = 0;
    }
    throw error;
  } finally {
    closeSync(fd);
    wrote(n);
  }
}

/** Cuts the file `fd` back to `size` bytes (best effort). */
function _truncate(fd: number, size: number): void {
  try {
    ftruncateSync(fd, size);
  } catch {
    // Nothing more to do: the next load drops a torn tail.
  }
}
