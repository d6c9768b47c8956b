/**
 * Growable byte writer and a bounds-checked reader for the history file
 * records: unsigned LEB128 varints up to 2^53, float64, raw bytes.
 *
 * @module
 */

const _utf8 = new TextEncoder();

/**
 * Appends bytes to a growable buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteReader, ByteWriter } from "./_bytes.ts";
 *
 * const w = new ByteWriter();
 * w.varint(2 ** 40 + 3);
 * w.f64(-0.5);
 * const r = new ByteReader(w.bytes());
 * assert.equal(r.varint(), 2 ** 40 + 3);
 * assert.equal(r.f64(), -0.5);
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  /** Bytes written. */
  length = 0;

  /** @param capacity initial capacity in bytes */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** One byte. */
  u8(v: number): void {
    this.reserve(1);
    this.#buf[this.length++] = v;
  }

  /** A little-endian u32 at `at` (already written space). */
  setU32(at: number, v: number): void {
    this.#view.setUint32(at, v, true);
  }

  /** A little-endian u32. */
  u32(v: number): void {
    this.reserve(4);
    this.#view.setUint32(this.length, v, true);
    this.length += 4;
  }

  /** An unsigned integer below 2^53 as LEB128. */
  varint(v: number): void {
    this.reserve(8);
    while (v >= 0x80) {
      this.#buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.length++] = v;
  }

  /** A little-endian float64. */
  f64(v: number): void {
    this.reserve(8);
    this.#view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  /**
   * `s` as UTF-8, the bytes `TextEncoder.encode(s)` gives (a lone
   * surrogate becomes U+FFFD), without an array for them: ASCII is copied
   * unit by unit, the rest goes through `TextEncoder.encodeInto()`. The
   * series file writes 57,000 label sets in the first flush of the
   * 100 flows x 10 processes set-up: an array each was 9 MB of garbage.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ByteWriter } from "./_bytes.ts";
   *
   * const w = new ByteWriter();
   * w.utf8('{"flow":"café"}');
   * assert.deepEqual(w.bytes(), new TextEncoder().encode('{"flow":"café"}'));
   * ```
   */
  utf8(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this.#buf;
    let at = this.length;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at++] = c;
    }
    this.length = at;
    if (i === n) return;
    // At most 3 bytes a UTF-16 unit (a pair's 4 bytes are 2 units).
    const rest = s.slice(i);
    this.reserve(3 * rest.length);
    this.length += _utf8.encodeInto(rest, this.#buf.subarray(this.length))
      .written;
  }

  /** Raw bytes. */
  raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
  }

  /** A view of what was written (valid until the next write). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }

  /** The underlying buffer (valid until the next write). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Forgets what was written, keeping the buffer. */
  reset(): void {
    this.length = 0;
  }
}

/**
 * Reads what {@linkcode ByteWriter} wrote; throws RangeError past the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteReader } from "./_bytes.ts";
 *
 * const r = new ByteReader(new Uint8Array([0x96, 0x01, 5]));
 * assert.equal(r.varint(), 150);
 * assert.equal(r.u8(), 5);
 * assert.throws(() => r.u8(), RangeError);
 * ```
 */
export class ByteReader {
  #buf: Uint8Array;
  #view: DataView;
  /** The read position. */
  pos: number;
  /** The end of readable bytes. */
  end: number;

  /**
   * @param buf the bytes
   * @param start the first byte to read
   * @param end one past the last byte
   */
  constructor(buf: Uint8Array, start = 0, end: number = buf.length) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  #need(n: number): void {
    if (this.pos + n > this.end) {
      throw new RangeError(
        `Cannot read record: ${n} bytes wanted at ${this.pos}, the record ends at ${this.end}`,
      );
    }
  }

  /** One byte. */
  u8(): number {
    this.#need(1);
    return this.#buf[this.pos++];
  }

  /** A varint. */
  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    throw new RangeError(`Cannot read record: varint too long at ${this.pos}`);
  }

  /** A float64. */
  f64(): number {
    this.#need(8);
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** `n` bytes, as a view. */
  bytes(n: number): Uint8Array {
    this.#need(n);
    const out = this.#buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
