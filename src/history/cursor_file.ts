/**
 * A small text kept in a file and replaced often, cheaply: remote write's
 * cursor, written after every acknowledged request (tens a second while
 * catching up).
 *
 * Writing a new file and renaming it over the old one cost about 1 ms a
 * write on this machine's file system (a profile of remote write,
 * 2026-12-05: 3% of a core at 24 writes a second). Instead the file has
 * two slots, written in turn in place, each `WRC1`, a sequence number, the
 * text's length and its CRC-32, then the text: a write is one `pwrite` to
 * an open file. Reading takes the valid slot with the higher sequence
 * number, so a write torn by a power cut leaves the one before it. Not
 * synced: a power cut may lose the last writes (the cursor then points a
 * little earlier, and those requests are sent again), never the file.
 *
 * @module
 */
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import { crc32 } from "./crc32.ts";

const _utf8 = new TextEncoder();
const MAGIC = 0x31435257; // "WRC1" little-endian
const HEADER = 16;

/**
 * One file of two slots of `slotBytes` each (see the module's
 * documentation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { CursorFile } from "./cursor_file.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "cursor-"));
 * const file = CursorFile.open(join(dir, "a.cursor"));
 * assert.equal(file.read(), undefined); // new
 * file.write('{"sent":1000}');
 * file.write('{"sent":2000}');
 * file.close();
 * assert.equal(CursorFile.open(join(dir, "a.cursor")).read(), '{"sent":2000}');
 * rmSync(dir, { recursive: true });
 * ```
 */
export class CursorFile {
  readonly path: string;
  readonly #fd: number;
  readonly #slotBytes: number;
  #seq = 0;
  /** The slot the next write goes to. */
  #next = 0;
  #buf: Uint8Array;
  #view: DataView;
  #closed = false;

  private constructor(path: string, fd: number, slotBytes: number) {
    this.path = path;
    this.#fd = fd;
    this.#slotBytes = slotBytes;
    this.#buf = new Uint8Array(slotBytes);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Opens (or makes) the file; throws what the file system says. */
  static open(path: string, slotBytes = 64 * 1024): CursorFile {
    let fd: number;
    try {
      fd = openSync(path, "r+");
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw e;
      fd = openSync(path, "w+", 0o600);
    }
    return new CursorFile(path, fd, slotBytes);
  }

  /**
   * The text last written whole, or undefined when the file holds none
   * (new, or both slots torn). Throws a RangeError when the file is
   * something else (a file of another format).
   */
  read(): string | undefined {
    const size = fstatSync(this.#fd).size;
    let best: { seq: number; text: string; slot: number } | undefined;
    let foreign = size > 0;
    for (let slot = 0; slot < 2; slot++) {
      const at = slot * this.#slotBytes;
      if (size < at + HEADER) continue;
      const n = readSync(this.#fd, this.#buf, 0, this.#slotBytes, at);
      if (n < HEADER || this.#view.getUint32(0, true) !== MAGIC) continue;
      foreign = false;
      const seq = this.#view.getUint32(4, true);
      const length = this.#view.getUint32(8, true);
      if (length > n - HEADER) continue;
      if (
        crc32(this.#buf, HEADER, HEADER + length) !==
          this.#view.getUint32(12, true)
      ) {
        continue;
      }
      // Newer: a higher number, wrapping round at 2^32.
      if (best === undefined || ((seq - best.seq) | 0) > 0) {
        best = {
          seq,
          slot,
          text: new TextDecoder().decode(
            this.#buf.subarray(HEADER, HEADER + length),
          ),
        };
      }
    }
    if (foreign) {
      throw new RangeError(`${this.path} is not a cursor file`);
    }
    if (best === undefined) return undefined;
    this.#seq = best.seq;
    this.#next = 1 - best.slot;
    return best.text;
  }

  /** Writes `text` into the slot not holding the newest (one `pwrite`). */
  write(text: string): void {
    if (this.#closed) throw new Error(`${this.path} is closed`);
    const length = this.#encode(text);
    this.#seq = (this.#seq + 1) >>> 0;
    this.#view.setUint32(0, MAGIC, true);
    this.#view.setUint32(4, this.#seq, true);
    this.#view.setUint32(8, length, true);
    this.#view.setUint32(12, crc32(this.#buf, HEADER, HEADER + length), true);
    writeSync(
      this.#fd,
      this.#buf,
      0,
      HEADER + length,
      this.#next * this.#slotBytes,
    );
    this.#next = 1 - this.#next;
  }

  /**
   * Puts `text` as UTF-8 after the slot's header; returns its bytes.
   * ASCII (what a cursor is: numbers and base64) byte by byte, without
   * `TextEncoder`, an op on Deno that a process waking for each remote
   * write answer pays tens of µs for (see `http1_post.ts`).
   */
  #encode(text: string): number {
    const buf = this.#buf;
    const room = this.#slotBytes - HEADER;
    const n = text.length;
    let i = 0;
    if (n <= room) {
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c > 0x7f) break;
        buf[HEADER + i] = c;
      }
      if (i === n) return n;
    }
    const r = _utf8.encodeInto(text, buf.subarray(HEADER));
    if (r.read < n) {
      throw new RangeError(
        `cannot write ${this.path}: the text is over ${room} bytes`,
      );
    }
    return r.written;
  }

  /** Empties the file (both slots). */
  clear(): void {
    ftruncateSync(this.#fd, 0);
    this.#seq = 0;
    this.#next = 0;
  }

  /** Closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
