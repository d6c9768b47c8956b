/**
 * The chunk codec of the history store: Gorilla-style compression of
 * `(time, value)` samples, and of rows of several values sharing one time
 * (a downsampled window's `count`, `sum`, `min`, `max`, ...).
 *
 * Timestamps (integer ms) are written as the difference of successive
 * differences (delta of delta): samples on a regular tick cost one bit.
 * Values are written per column as the XOR of their IEEE 754 bits with the
 * column's previous value, keeping only the bits between the leading and
 * trailing zeros (a repeated value costs one bit). Every float64 comes back
 * bit for bit: `-0`, `±Infinity`, subnormals, and NaN payloads such as
 * Prometheus's stale marker `0x7ff0000000000002`.
 *
 * A chunk's bytes:
 *
 *     byte 0      format version (1)
 *     byte 1      columns (1..255)
 *     bytes 2..   sample count, unsigned LEB128 varint (at most 5 bytes)
 *     then        the bit stream, most significant bit first, zero padded
 *
 * The bit stream: the first time as a sign bit and 8-bit varint groups
 * (continuation bit + 7 bits), then for every later sample the delta of
 * delta `dod` (zigzag `z`) as `0` (dod 0), `10`+7 bits, `110`+12 bits,
 * `1110`+20 bits, `11110`+32 bits or `11111`+sign+53 bits of magnitude.
 * After each time, each column's value against the column's previous
 * value (0 before the first): `0` (same bits), `10`+the XOR's bits in the
 * previous window, `110`+5 bits leading zeros+6 bits length (64 as 0)+the
 * XOR's bits, or, when both values are integers and it is shorter, `111`+
 * the change of the integer difference (`dd`, zigzag `z`; the difference
 * counts as 0 after a value written any other way) as `0`+4 bits, `10`+8,
 * `110`+16 or `111`+32 bits. The integer mode keeps counters and histogram
 * buckets small: a bucket going up by about the same amount each second
 * costs 8 bits where its XOR costs 10 to 20.
 *
 * The codec checks a chunk's structure (version, columns, count, every
 * read inside the bytes, times in order, zero padding), not its content:
 * a flipped bit inside a value decodes to another value. A checksum over
 * what is written to disk belongs to the disk layer.
 *
 * Over 800 lines: the encoder and the decoder of one bit format belong in
 * one file, and about a third of it is the format's documentation.
 *
 * @module
 */

import {
  HI,
  LO,
  NO_WINDOW,
  putDod,
  putFirstTime,
  putValue,
  SCRATCH,
  SCRATCH_U32,
  TIME_BITS_MAX,
  TWO_32,
  VALUE_BITS_MAX,
  valueDiff,
  valueWindow,
  varintLength,
  VERSION,
  writeHeader,
} from "./_bits.ts";

const MAX_COLUMNS = 255;
/** Largest count a header may hold (fits a 5-byte varint, and an array). */
const MAX_COUNT = 0x7fffffff;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Every encoder starts with this buffer, so an empty encoder allocates none. */
const EMPTY = new Uint8Array(0);

/**
 * Thrown by {@linkcode decodeChunk} when the bytes are not a whole chunk:
 * truncated, an unknown version, or a stream that reads past its end or
 * decodes to times out of order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder, CorruptChunkError, decodeChunk } from "./codec.ts";
 *
 * const e = new ChunkEncoder();
 * e.append(1000, 1.5);
 * e.append(2000, 2.5);
 * const bytes = e.finish();
 * assert.throws(() => decodeChunk(bytes.subarray(0, bytes.length - 1)), CorruptChunkError);
 * ```
 */
export class CorruptChunkError extends RangeError {
  /** The chunk's length in bytes. */
  readonly byteLength: number;

  /** A chunk of `byteLength` bytes that cannot be decoded, and why. */
  constructor(reason: string, byteLength: number) {
    super(`Cannot decode chunk: ${reason} (${byteLength} bytes)`);
    this.name = "CorruptChunkError";
    this.byteLength = byteLength;
  }
}

/**
 * Encodes samples (one column) or rows (several columns sharing one time)
 * into a growable byte buffer, Gorilla-style. Times are integer
 * milliseconds, never decreasing (equal times are kept).
 * {@linkcode ChunkEncoder.finish} returns a compact copy of the chunk so
 * far, and the encoder may go on appending.
 *
 * The state is small on purpose (the history store keeps one open encoder
 * per series and tier): a few numbers, and a byte buffer that is only
 * allocated with the first sample and grows by half. Measured with 120
 * samples in each of 100,000 encoders: about 380 heap bytes an encoder
 * (its 139 data bytes included) on Bun; on Deno 380 heap bytes plus the
 * buffer off the heap (V8 keeps a typed array over 64 bytes there).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder, decodeChunk } from "./codec.ts";
 *
 * const e = new ChunkEncoder();
 * for (let i = 0; i < 60; i++) e.append(1_700_000_000_000 + i * 1000, 42);
 * assert.equal(e.count, 60);
 * assert.ok(e.byteLength <= 32); // 60 samples of a constant: about 2 bits each
 * const { t, columns } = decodeChunk(e.finish());
 * assert.equal(t[59], 1_700_000_059_000);
 * assert.equal(columns[0][59], 42);
 * ```
 */
export class ChunkEncoder {
  #cols: number;
  #count = 0;
  /** Bits written; the bytes after the last partial one are all zero. */
  #bits = 0;
  #buf: Uint8Array = EMPTY;
  #lastT = 0;
  #delta = 0;
  // Column 0's state in fields (the common one-column encoder needs no array):
  // the previous value's bits and its window (leading * 64 + trailing).
  #h0 = 0;
  #l0 = 0;
  #w0 = NO_WINDOW;
  /** Column 0's last integer difference (0 after any other kind of value). */
  #d0 = 0;
  /** Columns 1..N-1: [hi, lo, window, difference] each; null for one column. */
  #more: number[] | null = null;

  /**
   * An encoder of rows of `columns` values (1..255): 1 for raw samples.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ChunkEncoder, decodeChunk } from "./codec.ts";
   *
   * const e = new ChunkEncoder(3);
   * e.appendRow(60_000, [60, 1.5, 3]);
   * const { columns } = decodeChunk(e.finish());
   * assert.deepEqual(columns.map((c) => c[0]), [60, 1.5, 3]);
   * ```
   */
  constructor(columns = 1) {
    if (!Number.isInteger(columns) || columns < 1 || columns > MAX_COLUMNS) {
      throw new RangeError(
        `Cannot create a chunk encoder: columns must be an integer from 1 to ${MAX_COLUMNS}, received ${columns}`,
      );
    }
    this.#cols = columns;
    if (columns > 1) {
      const more: number[] = [];
      for (let c = 1; c < columns; c++) more.push(0, 0, NO_WINDOW, 0);
      this.#more = more;
    }
  }

  /** Samples (rows) appended. */
  get count(): number {
    return this.#count;
  }

  /** The length in bytes of what {@linkcode finish} returns now. */
  get byteLength(): number {
    return 2 + varintLength(this.#count) + ((this.#bits + 7) >>> 3);
  }

  /**
   * Appends a sample to a one-column encoder. `t` is an integer number of
   * ms, not before the previous sample's.
   *
   * A NaN's payload comes through as far as the runtime keeps it in a
   * number: V8 (Deno) does, JavaScriptCore (Bun) turns every NaN read
   * from memory into the canonical one. Hand a NaN with a payload (the
   * stale marker) over in a `Float64Array` through
   * {@linkcode appendRow}, whose bits are read directly.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ChunkEncoder, decodeChunk } from "./codec.ts";
   *
   * const e = new ChunkEncoder();
   * e.append(0, -0);
   * e.append(1000, Infinity);
   * assert.throws(() => e.append(500, 1), RangeError); // older than the last
   * const v = decodeChunk(e.finish()).columns[0];
   * assert.ok(Object.is(v[0], -0));
   * assert.equal(v[1], Infinity);
   * ```
   */
  append(t: number, v: number): void {
    if (this.#cols !== 1) {
      throw new RangeError(
        `Cannot append a sample: this encoder has ${this.#cols} columns; use appendRow()`,
      );
    }
    this.#time(t);
    SCRATCH[0] = v;
    const hi = SCRATCH_U32[HI] | 0;
    const lo = SCRATCH_U32[LO] | 0;
    this.#value0(hi, lo);
  }

  /**
   * Appends a row of `columns` values sharing time `t` (an integer number
   * of ms, not before the previous row's). A `Float64Array` row's values
   * are read bit for bit, NaN payloads included, on every runtime.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ChunkEncoder, decodeChunk } from "./codec.ts";
   *
   * // Prometheus's stale marker: a NaN with payload 2.
   * const row = new Float64Array(2);
   * new Uint32Array(row.buffer).set([2, 0x7ff00000, 0, 0x3ff00000]);
   * const e = new ChunkEncoder(2);
   * e.appendRow(5000, row);
   * const out = decodeChunk(e.finish()).columns;
   * const bits = new Uint32Array(out[0].buffer, out[0].byteOffset, 2);
   * assert.deepEqual([...bits], [2, 0x7ff00000]);
   * assert.equal(out[1][0], 1);
   * ```
   */
  appendRow(t: number, row: ArrayLike<number>): void {
    const cols = this.#cols;
    if (row.length !== cols) {
      throw new RangeError(
        `Cannot append a row: this encoder has ${cols} columns, received a row of ${row.length}`,
      );
    }
    this.#time(t);
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      let hi: number;
      let lo: number;
      if (v !== v && row instanceof Float64Array) {
        // A NaN read into a number may have lost its payload (JSC): read the bits.
        const bits = new Uint32Array(row.buffer, row.byteOffset + c * 8, 2);
        hi = bits[HI] | 0;
        lo = bits[LO] | 0;
      } else {
        SCRATCH[0] = v;
        hi = SCRATCH_U32[HI] | 0;
        lo = SCRATCH_U32[LO] | 0;
      }
      if (c === 0) {
        this.#value0(hi, lo);
      } else {
        const more = this.#more as number[];
        const k = (c - 1) * 4;
        this.#bits = putValue(
          this.#buf,
          this.#bits,
          hi,
          lo,
          more[k],
          more[k + 1],
          more[k + 2],
          more[k + 3],
        );
        more[k + 2] = valueWindow;
        more[k] = hi;
        more[k + 1] = lo;
        more[k + 3] = valueDiff;
      }
    }
  }

  /**
   * A compact copy of the chunk so far (header and stream). The encoder
   * keeps its state: appending more and finishing again gives a chunk
   * that holds all the samples.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ChunkEncoder, decodeChunk } from "./codec.ts";
   *
   * const e = new ChunkEncoder();
   * e.append(1000, 1);
   * const first = e.finish();
   * e.append(2000, 2);
   * assert.equal(decodeChunk(first).t.length, 1);
   * assert.deepEqual([...decodeChunk(e.finish()).columns[0]], [1, 2]);
   * assert.equal(e.finish().length, e.byteLength);
   * ```
   */
  finish(): Uint8Array {
    const n = this.#count;
    const dataBytes = (this.#bits + 7) >>> 3;
    const head = 2 + varintLength(n);
    const out = new Uint8Array(head + dataBytes);
    writeHeader(out, 0, this.#cols, n);
    // A loop, not subarray(): a view would make the runtime give the
    // encoder's small buffer an ArrayBuffer of its own (more memory).
    const buf = this.#buf;
    for (let j = 0; j < dataBytes; j++) out[head + j] = buf[j];
    return out;
  }

  /** Writes column 0's value of bits `hi:lo` and keeps its state. */
  #value0(hi: number, lo: number): void {
    this.#bits = putValue(
      this.#buf,
      this.#bits,
      hi,
      lo,
      this.#h0,
      this.#l0,
      this.#w0,
      this.#d0,
    );
    this.#w0 = valueWindow;
    this.#h0 = hi;
    this.#l0 = lo;
    this.#d0 = valueDiff;
  }

  /** Checks `t`, makes room for one sample and writes its time. */
  #time(t: number): void {
    const n = this.#count;
    const need = ((this.#bits + TIME_BITS_MAX + VALUE_BITS_MAX * this.#cols) >>>
      3) + 1;
    if (n === 0) {
      if (!Number.isSafeInteger(t)) {
        throw new RangeError(
          `Cannot append to a chunk: t must be an integer number of ms, received ${t}`,
        );
      }
      if (need > this.#buf.length) this.#grow(need);
      this.#bits = putFirstTime(this.#buf, this.#bits, t);
      this.#lastT = t;
      this.#delta = 0;
      this.#count = 1;
      return;
    }
    const last = this.#lastT;
    const d = t - last;
    if (!(d >= 0) || Math.floor(t) !== t || t > MAX_SAFE) {
      throw new RangeError(
        `Cannot append to a chunk: t must be an integer number of ms not before the last (${last}), received ${t}`,
      );
    }
    if (n === MAX_COUNT) {
      throw new RangeError(
        `Cannot append to a chunk: it holds the most samples a chunk can (${MAX_COUNT})`,
      );
    }
    if (need > this.#buf.length) this.#grow(need);
    this.#bits = putDod(this.#buf, this.#bits, d - this.#delta);
    this.#lastT = t;
    this.#delta = d;
    this.#count = n + 1;
  }

  /** Grows the buffer by half (at least to `need` bytes), zero filled. */
  #grow(need: number): void {
    const old = this.#buf;
    let size = old.length + (old.length >>> 1);
    if (size < need) size = need;
    size = (size + 7) & ~7;
    const buf = new Uint8Array(size);
    buf.set(old); // the bytes past the stream are 0 anyway
    this.#buf = buf;
  }
}

/**
 * Decodes a chunk written by {@linkcode ChunkEncoder.finish}: the times
 * and one array per column, each of the header's count, all views of one
 * `ArrayBuffer` (one allocation: allocating typed arrays is what costs
 * most on V8). Values are written bit for bit into the arrays (read NaN
 * payloads through a `Uint32Array` view at the array's `byteOffset`:
 * JavaScriptCore canonicalizes a NaN read into a number). Throws {@linkcode CorruptChunkError} when the bytes are not a
 * whole chunk; it never reads past them and never returns more samples
 * than the header says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder, decodeChunk } from "./codec.ts";
 *
 * const e = new ChunkEncoder();
 * e.append(1000, 0.1);
 * e.append(2001, 0.2);
 * const { t, columns } = decodeChunk(e.finish());
 * assert.deepEqual([...t], [1000, 2001]);
 * assert.deepEqual([...columns[0]], [0.1, 0.2]);
 * ```
 */
export function decodeChunk(
  bytes: Uint8Array,
): { t: Float64Array; columns: Float64Array[] } {
  const len = bytes?.length;
  _readHeader(bytes, len);
  const cols = _headCols;
  const count = _headCount;
  if (count === 0) {
    const columns: Float64Array[] = [];
    for (let c = 0; c < cols; c++) columns.push(new Float64Array(0));
    return { t: new Float64Array(0), columns };
  }
  if (cols === 1) {
    // Raw samples, the common case: the decoder tuned for them.
    const both = new Float64Array(2 * count);
    const t = both.subarray(0, count);
    const v = both.subarray(count);
    decodeSamplesInto(bytes, t, v, 0);
    return { t, columns: [v] };
  }
  // One buffer for the times and every column; `u` sees its bits.
  const out = new ArrayBuffer(8 * count * (1 + cols));
  const t = new Float64Array(out, 0, count);
  const columns: Float64Array[] = [];
  for (let c = 1; c <= cols; c++) {
    columns.push(new Float64Array(out, 8 * count * c, count));
  }
  _decodeRows(bytes, len, t, columns, new Uint32Array(out), count);
  return { t, columns };
}

/**
 * Room for a chunk's decoded rows, kept and reused: the times and each
 * column side by side in one buffer, `stride` rows apart, grown when a
 * chunk needs more. What a tier's seal and a lean open chunk decode
 * into, so decoding a chunk allocates nothing (at an hour's end every
 * series seals a minute chunk: 57,000 decodes in one pass).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder, RowBuffer } from "./codec.ts";
 *
 * const e = new ChunkEncoder(2);
 * e.appendRow(60_000, [1.5, 60]);
 * e.appendRow(120_000, [NaN, 59]);
 * const rows = new RowBuffer();
 * assert.equal(rows.decode(e.finish()), 2);
 * assert.deepEqual([...rows.t.subarray(0, 2)], [60_000, 120_000]);
 * assert.deepEqual(rows.columns.length, 2);
 * assert.equal(rows.columns[1][1], 59);
 * assert.ok(Number.isNaN(rows.columns[0][1]));
 * ```
 */
export class RowBuffer {
  /** Rows a column holds before the buffer grows. */
  stride = 0;
  /** Times of the rows decoded last (the first `count` are theirs). */
  t: Float64Array = new Float64Array(0);
  /** Their columns (as many as the chunk has). */
  columns: Float64Array[] = [];
  /** The buffer's bits: row `i` of column `c` is words `2 * (stride * (c + 1) + i)` and the next. */
  words: Uint32Array = new Uint32Array(0);
  #byColumns: Float64Array[][] = [];

  /**
   * Decodes the chunk `bytes[0, length)` into this buffer; returns its
   * rows. Throws {@linkcode CorruptChunkError} as {@linkcode decodeChunk}.
   */
  decode(bytes: Uint8Array, length: number = bytes.length): number {
    _readHeader(bytes, length);
    const cols = _headCols;
    const count = _headCount;
    if (count > this.stride || cols >= this.#byColumns.length) {
      this.#grow(Math.max(count, this.stride), cols);
    }
    this.columns = this.#byColumns[cols];
    if (count === 0) return 0;
    if (cols === 1) {
      // Raw samples: the decoder tuned for them.
      _span.to = length;
      return decodeSamplesInto(bytes, this.t, this.columns[0], 0, _span);
    }
    _decodeRows(bytes, length, this.t, this.columns, this.words, this.stride);
    return count;
  }

  #grow(rows: number, cols: number): void {
    const stride = Math.max(16, rows);
    const most = Math.max(cols, this.#byColumns.length - 1, 6);
    const out = new ArrayBuffer(8 * stride * (1 + most));
    this.stride = stride;
    this.t = new Float64Array(out, 0, stride);
    this.words = new Uint32Array(out);
    const all: Float64Array[] = [];
    for (let c = 1; c <= most; c++) {
      all.push(new Float64Array(out, 8 * stride * c, stride));
    }
    this.#byColumns = [];
    for (let n = 0; n <= most; n++) this.#byColumns.push(all.slice(0, n));
  }
}

/**
 * Reads a chunk's header from `bytes[0, len)` into `_headCols`,
 * `_headCount` and `_headAt` (module scratch: no object a call), after
 * the checks every decode makes; throws {@linkcode CorruptChunkError}.
 */
function _readHeader(bytes: Uint8Array, len: number): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot decode chunk: expected a Uint8Array, received ${typeof bytes}`,
    );
  }
  if (len < 3) throw new CorruptChunkError("shorter than a header", len);
  if (bytes[0] !== VERSION) {
    throw new CorruptChunkError(`unknown format version ${bytes[0]}`, len);
  }
  const cols = bytes[1];
  if (cols < 1) throw new CorruptChunkError("0 columns", len);
  let count = 0;
  let scale = 1;
  let head = 2;
  for (;;) {
    if (head >= len || head > 6) {
      throw new CorruptChunkError("the sample count is cut or too long", len);
    }
    const b = bytes[head++];
    count += (b & 127) * scale;
    scale *= 128;
    if (b < 128) break;
  }
  const totalBits = (len - head) * 8;
  if (count > MAX_COUNT) {
    throw new CorruptChunkError(`a count of ${count} samples`, len);
  }
  if (count === 0 && len !== head) {
    throw new CorruptChunkError("data after 0 samples", len);
  }
  // Each sample takes at least 1 bit of time and 1 per column, the first 9 + cols.
  if (count > 0 && count - 1 > (totalBits - 9 - cols) / (1 + cols)) {
    throw new CorruptChunkError(
      `${count} samples cannot fit in ${len - head} bytes`,
      len,
    );
  }
  _headCols = cols;
  _headCount = count;
  _headAt = head;
}

/** RowBuffer's span for decodeSamplesInto (from 0 to the length it was given). */
const _span: SampleSpan = { from: 0, to: 0, nan: false };
let _headCols = 0;
let _headCount = 0;
let _headAt = 0;

/**
 * Decodes the rows of the chunk `bytes[0, len)` whose header
 * {@linkcode _readHeader} read (at least one row): times into `t`,
 * column `c` into `columns[c]`, both views of the buffer `u` sees, column
 * `c` starting `stride * (c + 1)` numbers in.
 */
function _decodeRows(
  bytes: Uint8Array,
  len: number,
  t: Float64Array,
  columns: Float64Array[],
  u: Uint32Array,
  stride: number,
): void {
  const cols = _headCols;
  const count = _headCount;
  const head = _headAt;
  const totalBits = (len - head) * 8;
  // A padded copy (in a buffer kept between calls: allocating typed
  // arrays is what costs most on V8) lets every read load 4 bytes without
  // a bounds check; the position is checked against the real end after
  // each sample.
  const need = len - head + ((TIME_BITS_MAX + VALUE_BITS_MAX * cols) >>> 3) +
    8;
  if (padded.length < need) padded = new Uint8Array(need * 2);
  const b = padded;
  // A loop, not set(subarray()): no view object a call.
  for (let j = head; j < len; j++) b[j - head] = bytes[j];
  b.fill(0, len - head, need);

  // Per column: the XOR window, and the integer difference kept. The
  // previous value is read back from the output (its bits from `u`).
  const lead = WINDOW_LEAD;
  const sigs = WINDOW_SIG;
  const diffs = DIFFS;
  lead.fill(NO_WINDOW, 0, cols);
  diffs.fill(0, 0, cols);

  // Reads are inline: `peek(b, pos)` gives the next 25+ bits at the top
  // of an int32, and the caller moves `pos` on.
  let pos = 0;
  const negative = peek(b, pos) < 0;
  pos++;
  let m = 0;
  let scale = 1;
  for (let g = 0;; g++) {
    if (g === 8) throw new CorruptChunkError("the first time is too long", len);
    const group = peek(b, pos) >>> 24;
    pos += 8;
    m += (group & 127) * scale;
    scale *= 128;
    if (group < 128) break;
  }
  if (m > MAX_SAFE) {
    throw new CorruptChunkError("the first time is out of range", len);
  }
  let time = negative ? -m : m;
  let delta = 0;

  for (let i = 0; i < count; i++) {
    if (i > 0) {
      const w = peek(b, pos);
      if (w >= 0) {
        pos += 1; // 0: the same delta
      } else {
        // 1 to 4 ones and a zero, or 5 ones.
        const ones = Math.clz32(~w);
        let z: number;
        if (ones === 1) {
          z = (w << 2) >>> 25;
          pos += 9;
        } else if (ones === 2) {
          z = (w << 3) >>> 20;
          pos += 15;
        } else if (ones === 3) {
          z = (w << 4) >>> 12;
          pos += 24;
        } else if (ones === 4) {
          z = readBits(b, pos + 5, 32);
          pos += 37;
        } else {
          const neg = peek(b, pos + 5) < 0;
          const mag = readBits(b, pos + 6, 21) * TWO_32 +
            readBits(b, pos + 27, 32);
          pos += 59;
          if (mag > MAX_SAFE) {
            throw new CorruptChunkError(
              `sample ${i}'s time is out of range`,
              len,
            );
          }
          z = -1;
          delta += neg ? -mag : mag;
        }
        if (z >= 0) delta += z % 2 === 0 ? z / 2 : -(z + 1) / 2; // zigzag
        if (delta < 0) {
          throw new CorruptChunkError(`sample ${i}'s time goes backwards`, len);
        }
      }
      time += delta;
      if (time > MAX_SAFE) {
        throw new CorruptChunkError(`sample ${i}'s time is out of range`, len);
      }
    }
    t[i] = time;
    for (let c = 0; c < cols; c++) {
      const col = columns[c];
      const wd = u;
      const k = 2 * (stride * (c + 1) + i);
      const w = peek(b, pos);
      if (w >= 0) {
        pos += 1; // 0: the same bits as the previous value (0 before the first)
        // (Written either way: a RowBuffer's room holds an earlier chunk.)
        wd[k + HI] = i > 0 ? wd[k - 2 + HI] : 0;
        wd[k + LO] = i > 0 ? wd[k - 2 + LO] : 0;
        diffs[c] = 0;
        continue;
      }
      if ((w << 1) < 0 && (w << 2) < 0) {
        // 111: the change of the integer difference.
        const ones = Math.clz32(~(w << 3));
        let z: number;
        if (ones === 0) {
          z = (w << 4) >>> 28;
          pos += 8;
        } else if (ones === 1) {
          z = (w << 5) >>> 24;
          pos += 13;
        } else if (ones === 2) {
          z = (w << 6) >>> 16;
          pos += 22;
        } else {
          z = readBits(b, pos + 6, 32);
          pos += 38;
        }
        const p = i > 0 ? col[i - 1] : 0;
        const d = diffs[c] + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
        if (
          p !== Math.floor(p) || p > MAX_SAFE || p < -MAX_SAFE ||
          d > MAX_SAFE || d < -MAX_SAFE
        ) {
          throw new CorruptChunkError(
            `sample ${i} adds to a value that is not an integer`,
            len,
          );
        }
        col[i] = p + d;
        diffs[c] = d;
        continue;
      }
      let ld: number;
      let sig: number;
      if ((w << 1) >= 0) {
        // 10: the XOR's bits in the previous window.
        pos += 2;
        ld = lead[c];
        sig = sigs[c];
        if (ld < 0) {
          throw new CorruptChunkError(
            `sample ${i} reuses a window before any was set`,
            len,
          );
        }
      } else {
        // 110: a new window, 5 bits of leading zeros and 6 of length.
        ld = (w << 3) >>> 27;
        sig = ((w << 8) >>> 26) || 64;
        pos += 14;
        if (ld + sig > 64) {
          throw new CorruptChunkError(
            `sample ${i} has a window past 64 bits`,
            len,
          );
        }
        lead[c] = ld;
        sigs[c] = sig;
      }
      const trail = 64 - ld - sig;
      // The previous value's bits: 0 before the first.
      const oh = i > 0 ? wd[k - 2 + HI] : 0;
      const ol = i > 0 ? wd[k - 2 + LO] : 0;
      let h: number;
      let l: number;
      if (sig > 32) {
        h = readBits(b, pos, sig - 32);
        l = readBits(b, pos + sig - 32, 32);
      } else {
        h = 0;
        l = readBits(b, pos, sig);
      }
      pos += sig;
      if (trail >= 32) {
        h = l << (trail - 32);
        l = 0;
      } else if (trail > 0) {
        h = (h << trail) | (l >>> (32 - trail));
        l = l << trail;
      }
      wd[k + HI] = oh ^ h;
      wd[k + LO] = ol ^ l;
      // The integer difference the encoder keeps after an XOR.
      const v = col[i];
      const p = i > 0 ? col[i - 1] : 0;
      const d = v - p;
      diffs[c] = v === Math.floor(v) && v <= MAX_SAFE && v >= -MAX_SAFE &&
          p === Math.floor(p) && p <= MAX_SAFE && p >= -MAX_SAFE &&
          d <= MAX_SAFE && d >= -MAX_SAFE
        ? d
        : 0;
    }
    if (pos > totalBits) {
      throw new CorruptChunkError(`cut inside sample ${i} of ${count}`, len);
    }
  }
  if (totalBits - pos >= 8) {
    throw new CorruptChunkError(
      `${totalBits - pos} bits left after ${count} samples`,
      len,
    );
  }
  if (pos < totalBits && readBits(b, pos, totalBits - pos) !== 0) {
    throw new CorruptChunkError(
      "the padding after the last sample is not zero",
      len,
    );
  }
}

/**
 * The encoder state the last decode of a chunk of rows (through
 * {@linkcode RowBuffer.decode} or {@linkcode decodeChunk}, two or more
 * columns) ended in, for column `c`: the XOR window an encoder keeps
 * (leading zeros * 64 + trailing zeros, `NO_WINDOW` when none was set)
 * and the integer difference it keeps (0 when none). With the last row's
 * bits, what an encoder that wrote the chunk holds for its next row:
 * `OpenChunks.lean` takes a series' column state from here instead of
 * encoding the chunk again. Valid until the next decode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder, decodedColumnState, RowBuffer } from "./codec.ts";
 *
 * const e = new ChunkEncoder(2);
 * e.appendRow(60_000, [1.5, 60]);
 * e.appendRow(120_000, [2.5, 62]);
 * new RowBuffer().decode(e.finish());
 * const state = { window: 0, diff: 0 };
 * decodedColumnState(1, state);
 * assert.equal(state.diff, 2); // 62 - 60
 * ```
 */
export function decodedColumnState(
  c: number,
  out: { window: number; diff: number },
): void {
  const lead = WINDOW_LEAD[c];
  out.window = lead < 0 ? NO_WINDOW : (lead << 6) | (64 - lead - WINDOW_SIG[c]);
  out.diff = DIFFS[c];
}

/** Where {@linkcode decodeSamplesInto} finds a chunk in its bytes, and what it found. */
export interface SampleSpan {
  /** The chunk's first byte. */
  from: number;
  /** The end of its bytes (exclusive). */
  to: number;
  /** Set to true when a decoded value is a NaN (left as it is otherwise). */
  nan: boolean;
}

/**
 * The sample count a chunk's header at `bytes[from, to)` gives, or -1
 * when the header is not whole: what a reader sizes its arrays with
 * before {@linkcode decodeSamplesInto} (which checks the rest).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder, chunkCount } from "./codec.ts";
 *
 * const e = new ChunkEncoder();
 * for (let i = 0; i < 200; i++) e.append(i * 1000, i);
 * const bytes = e.finish();
 * assert.equal(chunkCount(bytes, 0, bytes.length), 200);
 * assert.equal(chunkCount(bytes, 0, 3), -1); // a 2-byte count, cut
 * ```
 */
export function chunkCount(
  bytes: Uint8Array,
  from: number,
  to: number,
): number {
  let count = 0;
  let scale = 1;
  for (let at = from + 2; at < to && at - from <= 6; at++) {
    const b = bytes[at];
    count += (b & 127) * scale;
    scale *= 128;
    if (b < 128) return count;
  }
  return -1;
}

/**
 * Decodes a one-column chunk (raw samples) straight into `t` and `v` from
 * index `at` on, and returns its sample count: no arrays of its own, so a
 * reader can decode a series' chunks one after the other into the
 * series' arrays without a merge copy. The same format and checks as
 * {@linkcode decodeChunk} (which uses it for one-column chunks), tuned
 * for what the store holds most: times on the tick (a delta of delta of
 * 0) with integer counters (a small change of their difference: three
 * such samples from one 32-bit peek) or repeated values (a run of them
 * from one peek). Values are written bit for bit (a NaN through a 32-bit
 * view of `v`). With `span`, the chunk is `bytes[span.from, span.to)` (a
 * chunk inside a bigger buffer: no view needed) and `span.nan` is set
 * when a value is a NaN (so a reader can tell a series holds no
 * staleness marker). Throws {@linkcode CorruptChunkError} when the bytes
 * are not a whole one-column chunk or its samples do not fit in `t` and
 * `v` from `at`; what it wrote before then is garbage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder, decodeSamplesInto } from "./codec.ts";
 *
 * const a = new ChunkEncoder();
 * a.append(1000, 5);
 * a.append(2000, 7);
 * const b = new ChunkEncoder();
 * b.append(3000, 0.5);
 * const t = new Float64Array(3);
 * const v = new Float64Array(3);
 * let n = decodeSamplesInto(a.finish(), t, v, 0);
 * n += decodeSamplesInto(b.finish(), t, v, n);
 * assert.equal(n, 3);
 * assert.deepEqual([...t], [1000, 2000, 3000]);
 * assert.deepEqual([...v], [5, 7, 0.5]);
 * ```
 */
export function decodeSamplesInto(
  bytes: Uint8Array,
  t: Float64Array,
  v: Float64Array,
  at: number,
  span?: SampleSpan,
): number {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot decode chunk: expected a Uint8Array, received ${typeof bytes}`,
    );
  }
  const from = span === undefined ? 0 : span.from;
  const stop = span === undefined ? bytes.length : span.to;
  const len = stop - from;
  if (!(from >= 0 && stop <= bytes.length && len >= 0)) {
    throw new RangeError(
      `Cannot decode chunk: bytes ${from} to ${stop} are not inside ${bytes.length}`,
    );
  }
  if (len < 3) throw new CorruptChunkError("shorter than a header", len);
  const version = bytes[from];
  if (version !== VERSION) {
    throw new CorruptChunkError(`unknown format version ${version}`, len);
  }
  const cols = bytes[from + 1];
  if (cols !== 1) {
    throw new CorruptChunkError(
      cols === 0 ? "0 columns" : `${cols} columns, expected 1`,
      len,
    );
  }
  let count = 0;
  let scale = 1;
  let head = from + 2;
  for (;;) {
    if (head >= stop || head - from > 6) {
      throw new CorruptChunkError("the sample count is cut or too long", len);
    }
    const b = bytes[head++];
    count += (b & 127) * scale;
    scale *= 128;
    if (b < 128) break;
  }
  const totalBits = (stop - head) * 8;
  if (count > MAX_COUNT) {
    throw new CorruptChunkError(`a count of ${count} samples`, len);
  }
  if (count === 0) {
    if (stop !== head) {
      throw new CorruptChunkError("data after 0 samples", len);
    }
    return 0;
  }
  if (count - 1 > (totalBits - 10) / 2) {
    throw new CorruptChunkError(
      `${count} samples cannot fit in ${stop - head} bytes`,
      len,
    );
  }
  if (!(at >= 0) || at + count > t.length || at + count > v.length) {
    throw new CorruptChunkError(
      `its ${count} samples do not fit from index ${at} of ${
        Math.min(t.length, v.length)
      }`,
      len,
    );
  }
  // The stream as big-endian 32-bit words (in a buffer kept between
  // calls), zero padded past its end: a peek is two loads, and a sample
  // may read past the end before the position is checked against it.
  const dataBytes = stop - head;
  const full = dataBytes >>> 2;
  const wordsNeeded = full + 8;
  if (words.length < wordsNeeded) words = new Int32Array(wordsNeeded * 2);
  const W = words;
  let k = 0;
  for (let j = head; k < full; k++, j += 4) {
    W[k] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) |
      bytes[j + 3];
  }
  let tail = 0;
  for (let j = head + 4 * full, s = 24; j < stop; j++, s -= 8) {
    tail |= bytes[j] << s;
  }
  W[k] = tail;
  for (let j = k + 1; j < k + 8; j++) W[j] = 0;

  // The first time: a sign bit and 8-bit varint groups.
  let pos = 0;
  const negative = W[0] < 0;
  pos++;
  let m = 0;
  scale = 1;
  for (let g = 0;; g++) {
    if (g === 8) throw new CorruptChunkError("the first time is too long", len);
    const i = pos >>> 5;
    const s = pos & 31;
    const group = ((W[i] << s) | ((W[i + 1] >>> 1) >>> (31 - s))) >>> 24;
    pos += 8;
    m += (group & 127) * scale;
    scale *= 128;
    if (group < 128) break;
  }
  if (m > MAX_SAFE) {
    throw new CorruptChunkError("the first time is out of range", len);
  }
  let time = negative ? -m : m;
  let delta = 0;
  // The previous value: as a number, as bits (valid unless `stale`: an
  // integer decoded by its difference has its bits worked out only when
  // an XOR needs them), whether it is a safe integer, and the integer
  // difference the encoder keeps.
  let prev = 0;
  let ph = 0;
  let pl = 0;
  let stale = false;
  let prevInt = true;
  let diff = 0;
  let lead = NO_WINDOW;
  let sig = 0;
  let vWords: Uint32Array | undefined;
  const end = at + count;

  for (let o = at; o < end; o++) {
    let i = pos >>> 5;
    let s = pos & 31;
    let w = (W[i] << s) | ((W[i + 1] >>> 1) >>> (31 - s));
    if (w >= 0 && o > at) {
      // `0`: the time on the tick. The common samples follow, each in one
      // step (any check failing leaves the sample to the general path).
      if ((w >>> 27) === 14 && prevInt) {
        // `1110` + 4 bits: a counter's difference changing by -8..7.
        // Three such samples fill 27 bits of `w`: take them at once.
        if (
          (w & 0xf87c3e00) === 0x70381c00 && o + 3 <= end &&
          pos + 27 <= totalBits && time + 3 * delta <= MAX_SAFE &&
          diff <= MAX_SAFE - 24 && diff >= 24 - MAX_SAFE
        ) {
          let z = (w >>> 23) & 15;
          const d1 = diff + ((z >>> 1) ^ -(z & 1));
          z = (w >>> 14) & 15;
          const d2 = d1 + ((z >>> 1) ^ -(z & 1));
          z = (w >>> 5) & 15;
          const d3 = d2 + ((z >>> 1) ^ -(z & 1));
          const p1 = prev + d1;
          const p2 = p1 + d2;
          if (
            p1 <= MAX_SAFE && p1 >= -MAX_SAFE && p2 <= MAX_SAFE &&
            p2 >= -MAX_SAFE
          ) {
            pos += 27;
            t[o] = time += delta;
            v[o] = p1;
            t[o + 1] = time += delta;
            v[o + 1] = p2;
            t[o + 2] = time += delta;
            prev = p2 + d3;
            v[o + 2] = prev;
            prevInt = prev <= MAX_SAFE && prev >= -MAX_SAFE;
            diff = d3;
            stale = true;
            o += 2;
            continue;
          }
        }
        const z = (w >>> 23) & 15;
        const d = diff + ((z >>> 1) ^ -(z & 1));
        if (
          time + delta <= MAX_SAFE && d <= MAX_SAFE && d >= -MAX_SAFE &&
          pos + 9 <= totalBits
        ) {
          pos += 9;
          t[o] = time += delta;
          prev += d;
          v[o] = prev;
          prevInt = prev <= MAX_SAFE && prev >= -MAX_SAFE;
          diff = d;
          stale = true;
          continue;
        }
      } else if ((w >>> 30) === 0 && prev === prev) {
        // `0`: the same value again (not a NaN: its bits need copying),
        // as are the next samples while the zero bits go on (pairs of
        // zeros: time on the tick, same value).
        let k = Math.clz32(w) >>> 1;
        if (o + k > end) k = end - o;
        if (pos + 2 * k <= totalBits && time + k * delta <= MAX_SAFE) {
          pos += 2 * k;
          for (const j = o + k; o < j; o++) {
            t[o] = time += delta;
            v[o] = prev;
          }
          o--;
          diff = 0;
          continue;
        }
      } else if ((w >>> 26) === 30 && prevInt) {
        // `11110` + 8 bits: a counter's difference changing by -128..127.
        const z = (w >>> 18) & 255;
        const d = diff + ((z >>> 1) ^ -(z & 1));
        if (
          time + delta <= MAX_SAFE && d <= MAX_SAFE && d >= -MAX_SAFE &&
          pos + 14 <= totalBits
        ) {
          pos += 14;
          t[o] = time += delta;
          prev += d;
          v[o] = prev;
          prevInt = prev <= MAX_SAFE && prev >= -MAX_SAFE;
          diff = d;
          stale = true;
          continue;
        }
      }
    }
    if (o > at) {
      if (w >= 0) {
        // 0: the same delta. The value's code follows at once.
        pos += 1;
        w <<= 1;
      } else {
        // 1 to 4 ones and a zero, or 5 ones.
        const ones = Math.clz32(~w);
        let z: number;
        if (ones === 1) {
          z = (w << 2) >>> 25;
          pos += 9;
        } else if (ones === 2) {
          z = (w << 3) >>> 20;
          pos += 15;
        } else if (ones === 3) {
          z = (w << 4) >>> 12;
          pos += 24;
        } else if (ones === 4) {
          z = bitsAt(W, pos + 5, 32);
          pos += 37;
        } else {
          const neg = bitsAt(W, pos + 5, 1) === 1;
          const mag = bitsAt(W, pos + 6, 21) * TWO_32 + bitsAt(W, pos + 27, 32);
          pos += 59;
          if (mag > MAX_SAFE) {
            throw new CorruptChunkError(
              `sample ${o - at}'s time is out of range`,
              len,
            );
          }
          z = -1;
          delta += neg ? -mag : mag;
        }
        if (z >= 0) delta += z % 2 === 0 ? z / 2 : -(z + 1) / 2; // zigzag
        if (delta < 0) {
          throw new CorruptChunkError(
            `sample ${o - at}'s time goes backwards`,
            len,
          );
        }
        i = pos >>> 5;
        s = pos & 31;
        w = (W[i] << s) | ((W[i + 1] >>> 1) >>> (31 - s));
      }
      time += delta;
      if (time > MAX_SAFE) {
        throw new CorruptChunkError(
          `sample ${o - at}'s time is out of range`,
          len,
        );
      }
    }
    t[o] = time;
    // `w` holds at least the value's first 25 bits.
    if (w >= 0) {
      // 0: the same bits as the previous value (0 before the first).
      pos += 1;
      if (prev === prev) v[o] = prev;
      else {
        vWords ??= new Uint32Array(v.buffer, v.byteOffset, 2 * v.length);
        vWords[2 * o + HI] = ph;
        vWords[2 * o + LO] = pl;
        if (span !== undefined) span.nan = true;
      }
      diff = 0;
    } else if ((w >>> 29) === 7) {
      // 111: the change of the integer difference.
      let z: number;
      if ((w << 3) >= 0) {
        z = (w << 4) >>> 28;
        pos += 8;
      } else {
        const ones = Math.clz32(~(w << 3));
        if (ones === 1) {
          z = (w << 5) >>> 24;
          pos += 13;
        } else if (ones === 2) {
          z = (w << 6) >>> 16;
          pos += 22;
        } else {
          z = bitsAt(W, pos + 6, 32);
          pos += 38;
        }
      }
      const d = diff + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
      if (!prevInt || d > MAX_SAFE || d < -MAX_SAFE) {
        throw new CorruptChunkError(
          `sample ${o - at} adds to a value that is not an integer`,
          len,
        );
      }
      prev += d;
      v[o] = prev;
      prevInt = prev <= MAX_SAFE && prev >= -MAX_SAFE;
      diff = d;
      stale = true;
    } else {
      if ((w << 1) >= 0) {
        // 10: the XOR's bits in the previous window.
        pos += 2;
        if (lead < 0) {
          throw new CorruptChunkError(
            `sample ${o - at} reuses a window before any was set`,
            len,
          );
        }
      } else {
        // 110: a new window, 5 bits of leading zeros and 6 of length.
        lead = (w << 3) >>> 27;
        sig = ((w << 8) >>> 26) || 64;
        pos += 14;
        if (lead + sig > 64) {
          throw new CorruptChunkError(
            `sample ${o - at} has a window past 64 bits`,
            len,
          );
        }
      }
      if (stale) {
        SCRATCH[0] = prev;
        ph = SCRATCH_U32[HI] | 0;
        pl = SCRATCH_U32[LO] | 0;
        stale = false;
      }
      const trail = 64 - lead - sig;
      let h: number;
      let l: number;
      if (sig > 32) {
        h = bitsAt(W, pos, sig - 32);
        l = bitsAt(W, pos + sig - 32, 32);
      } else {
        h = 0;
        l = bitsAt(W, pos, sig);
      }
      pos += sig;
      if (trail >= 32) {
        h = l << (trail - 32);
        l = 0;
      } else if (trail > 0) {
        h = (h << trail) | (l >>> (32 - trail));
        l = l << trail;
      }
      const p = prev;
      const pInt = prevInt;
      ph ^= h;
      pl ^= l;
      if ((ph & 0x7ff00000) === 0x7ff00000 && ((ph & 0xfffff) | pl) !== 0) {
        // A NaN: its payload survives only in memory, not in a number.
        vWords ??= new Uint32Array(v.buffer, v.byteOffset, 2 * v.length);
        vWords[2 * o + HI] = ph;
        vWords[2 * o + LO] = pl;
        if (span !== undefined) span.nan = true;
        prev = NaN;
        prevInt = false;
        diff = 0;
      } else {
        SCRATCH_U32[HI] = ph;
        SCRATCH_U32[LO] = pl;
        const x = SCRATCH[0];
        v[o] = x;
        prev = x;
        prevInt = x === Math.floor(x) && x <= MAX_SAFE && x >= -MAX_SAFE;
        // The integer difference the encoder keeps after an XOR.
        const d = x - p;
        diff = prevInt && pInt && d <= MAX_SAFE && d >= -MAX_SAFE ? d : 0;
      }
    }
    if (pos > totalBits) {
      throw new CorruptChunkError(
        `cut inside sample ${o - at} of ${count}`,
        len,
      );
    }
  }
  if (totalBits - pos >= 8) {
    throw new CorruptChunkError(
      `${totalBits - pos} bits left after ${count} samples`,
      len,
    );
  }
  if (pos < totalBits && bitsAt(W, pos, totalBits - pos) !== 0) {
    throw new CorruptChunkError(
      "the padding after the last sample is not zero",
      len,
    );
  }
  return count;
}

/** decodeSamplesInto()'s stream as big-endian words, kept between calls. */
let words = new Int32Array(1024);

/** The `n` bits (1..32) of big-endian words `W` from bit `pos` on, unsigned. */
function bitsAt(W: Int32Array, pos: number, n: number): number {
  const i = pos >>> 5;
  const s = pos & 31;
  return ((W[i] << s) | ((W[i + 1] >>> 1) >>> (31 - s))) >>> (32 - n);
}

/** decodeChunk()'s padded copy of a chunk's stream, kept between calls. */
let padded = new Uint8Array(4096);
/** decodeChunk()'s per-column state, kept between calls (at most 255 columns). */
const WINDOW_LEAD = new Int32Array(MAX_COLUMNS);
const WINDOW_SIG = new Int32Array(MAX_COLUMNS);
const DIFFS = new Float64Array(MAX_COLUMNS);

/** The bits from `pos` on at the top of an int32 (at least 25 of them). */
function peek(b: Uint8Array, pos: number): number {
  const i = pos >>> 3;
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) <<
    (pos & 7);
}

/** The `n` bits (1..32) from `pos` on, unsigned. */
function readBits(b: Uint8Array, pos: number, n: number): number {
  if (n <= 25) return peek(b, pos) >>> (32 - n);
  return ((peek(b, pos) >>> (32 - (n - 16))) * 65536) +
    (peek(b, pos + n - 16) >>> 16);
}
