/**
 * The chunk codec the store uses, behind one import so the store does not
 * care who encodes: until helper A's Gorilla codec (`codec.ts`) is on main
 * this is a plain, uncompressed stand-in with the same API
 * (`ChunkEncoder`, `decodeChunk`, `CorruptChunkError`).
 *
 * @module
 */

/** A chunk's bytes do not decode. */
export class CorruptChunkError extends RangeError {
  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "CorruptChunkError";
  }
}

/**
 * Appends rows of `columns` values with a timestamp; `finish()` returns
 * the bytes (uncompressed in this stand-in: 5-byte header, then float64s).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder, decodeChunk } from "./_chunk_codec.ts";
 *
 * const e = new ChunkEncoder();
 * e.append(1000, 1.5);
 * e.append(2000, 2.5);
 * const d = decodeChunk(e.finish());
 * assert.deepEqual([...d.t], [1000, 2000]);
 * assert.deepEqual([...d.columns[0]], [1.5, 2.5]);
 * ```
 */
export class ChunkEncoder {
  #columns: number;
  #buf: Float64Array;
  #n = 0;

  /** @param columns values per row (1 for raw samples) */
  constructor(columns = 1) {
    this.#columns = columns;
    this.#buf = new Float64Array(4 * (columns + 1));
  }

  /** Rows appended. */
  get count(): number {
    return this.#n;
  }

  /** Bytes `finish()` would return. */
  get byteLength(): number {
    return 5 + this.#n * (this.#columns + 1) * 8;
  }

  /** Appends one sample (one column). */
  append(t: number, v: number): void {
    const w = this.#columns + 1;
    this.#grow();
    this.#buf[this.#n * w] = t;
    this.#buf[this.#n * w + 1] = v;
    this.#n++;
  }

  /** Appends one row of `columns` values. */
  appendRow(t: number, row: ArrayLike<number>): void {
    const w = this.#columns + 1;
    this.#grow();
    const at = this.#n * w;
    this.#buf[at] = t;
    for (let i = 0; i < this.#columns; i++) this.#buf[at + 1 + i] = row[i];
    this.#n++;
  }

  /** A compact copy of what was appended so far. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.#n, true);
    out[4] = this.#columns;
    const w = this.#columns + 1;
    for (let i = 0; i < this.#n * w; i++) {
      view.setFloat64(5 + i * 8, this.#buf[i], true);
    }
    return out;
  }

  #grow(): void {
    const w = this.#columns + 1;
    if ((this.#n + 1) * w <= this.#buf.length) return;
    const next = new Float64Array(this.#buf.length * 2);
    next.set(this.#buf);
    this.#buf = next;
  }
}

/**
 * Decodes what {@linkcode ChunkEncoder.finish} returned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder, decodeChunk } from "./_chunk_codec.ts";
 *
 * const e = new ChunkEncoder(2);
 * e.appendRow(5, [1, 2]);
 * assert.deepEqual([...decodeChunk(e.finish()).columns[1]], [2]);
 * ```
 */
export function decodeChunk(
  bytes: Uint8Array,
): { t: Float64Array; columns: Float64Array[] } {
  if (bytes.length < 5) {
    throw new CorruptChunkError(
      `Cannot decode chunk: ${bytes.length} bytes is shorter than its header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true);
  const c = bytes[4];
  if (5 + n * (c + 1) * 8 !== bytes.length) {
    throw new CorruptChunkError(
      `Cannot decode chunk: ${n} rows of ${c} columns do not fit ${bytes.length} bytes`,
    );
  }
  const t = new Float64Array(n);
  const columns = Array.from({ length: c }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const at = 5 + i * (c + 1) * 8;
    t[i] = view.getFloat64(at, true);
    for (let j = 0; j < c; j++) {
      columns[j][i] = view.getFloat64(at + 8 + j * 8, true);
    }
  }
  return { t, columns };
}
