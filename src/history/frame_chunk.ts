/**
 * The random-access ("frame") chunk format of the downsampled tiers: every
 * column (the times, then each window column) packed at one fixed bit
 * width per chunk, so row `i` of column `c` is read in O(1) without
 * decoding the rows before it or the other columns. A step-wise query
 * (`rate(x[1m])` at a 1 h step over 30 days) reads the one or two rows of
 * each hour it needs instead of decoding the whole hour's 60 rows x 6
 * columns (see `step_read.ts`).
 *
 * Why only the downsampled tiers: the raw tier's Gorilla stream
 * (`codec.ts`) is about 1.2 bytes a sample and raw queries read every
 * sample anyway; a window row of the minute tier costs about 5 bytes in
 * Gorilla and about 1.5-2 times that here, and those tiers are small next
 * to raw (one row a minute against 60 samples). Open chunks stay in the
 * Gorilla format (they grow row by row, `open_chunks.ts`); a chunk is
 * re-encoded here once, when it is sealed (`tier.ts`).
 *
 * A chunk's bytes:
 *
 *     byte 0      format version (3; the Gorilla codec's is 1, so byte 0
 *                 tells the formats apart and older chunks still read)
 *     byte 1      value columns C (1..255); C + 1 columns follow, times first
 *     bytes 2..   row count, unsigned LEB128 varint
 *     then        the C + 1 column descriptors, back to back
 *     then        each column's packed data, in the same order
 *     then        4 zero bytes (every read loads 4 bytes at once)
 *
 * Descriptors first: a reader learns where every column is from the first
 * hundred bytes or so, and a step read of one row touches those and the
 * row's bits in the columns it reads, not the whole chunk (at 1,000 series
 * x 720 chunks, memory waits are most of a step read).
 *
 * A column is one of two kinds:
 *
 * - line (kind 0): whole numbers `v[i] = base + slope * i + u[i]`:
 *   `kind u8, width u8 (0..32), slope i32 LE, base f64 LE`. Frame of
 *   reference on a line: a regular time column (slope = the resolution)
 *   and a constant are 0 bits a row, a steady counter a few.
 * - xor (kind 1): any float64, `bits(v[i]) = bits(base) ^ (u[i] << trail)`:
 *   `kind u8, width u8 (0..64), trail u8, base (8 bytes, the float64's
 *   bits LE)`. The XOR against the first value with one leading- and
 *   trailing-zero trim shared by the chunk; every value comes back bit for
 *   bit (`-0`, NaN payloads such as the stale marker).
 *
 * The data: `u[i]` for each row, `width` bits each, most significant bit
 * first, the column padded to a whole byte. The encoder picks per column
 * the kind that is narrower (line only when it gives every value back
 * exactly).
 *
 * @module
 */
import type { ByteWriter } from "./_bytes.ts";
import { BufferWords } from "./_bits.ts";
import { CorruptChunkError, decodeChunk } from "./codec.ts";

/**
 * Byte 0 of a frame chunk: 3. Format 2, on main for about an hour on
 * 2026-12-03 and never released, put each column's data right after its
 * descriptor; it is not read (such a chunk is skipped with the store's one
 * "does not decode" warning).
 */
export const FRAME_VERSION = 3;
const KIND_LINE = 0;
const KIND_XOR = 1;
const LINE_BYTES = 14;
const XOR_BYTES = 11;
const PAD = 4;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TWO_32 = 4294967296;

const SCRATCH = new Float64Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

/**
 * How each column of the chunk being encoded is written (times at 0, then
 * the value columns): kind, width, and the kind's parameters. Module
 * scratch, one slot per column (a chunk has at most 256): an encode makes
 * no object per column, and every field of a slot is written by the plan
 * of its column before it is read.
 */
const P_KIND = new Uint8Array(256);
const P_WIDTH = new Uint8Array(256);
const P_TRAIL = new Uint8Array(256);
const P_SLOPE = new Float64Array(256);
const P_BASE = new Float64Array(256);
const P_HI = new Int32Array(256);
const P_LO = new Int32Array(256);

/** The line plan's base of the last {@linkcode lineWidth} that fit. */
let _lineBase = 0;

/**
 * The width of the line plan of `v[0..n)` with `slope` (its base left in
 * `_lineBase`), or -1 when it is not exact in 32 bits.
 */
function lineWidth(v: Float64Array, n: number, slope: number): number {
  let base = Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (
      x !== Math.floor(x) || x > MAX_SAFE || x < -MAX_SAFE || Object.is(x, -0)
    ) return -1;
    const r = x - slope * i;
    if (r < base) base = r;
  }
  if (!(Math.abs(base) <= MAX_SAFE)) return -1;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const u = v[i] - slope * i - base;
    // Exact only when the parts give the value back (all within 2^53).
    if (
      !(u >= 0 && u < TWO_32) || u !== Math.floor(u) ||
      base + slope * i + u !== v[i]
    ) {
      return -1;
    }
    if (u > max) max = u;
  }
  _lineBase = base;
  return max === 0 ? 0 : 32 - Math.clz32(max);
}

/** The xor plan of `n` values whose bits start at `u32[at]`, into slot `c`. */
function xorPlan(
  u32: Uint32Array<ArrayBufferLike>,
  at: number,
  n: number,
  c: number,
): void {
  const bh = u32[at + HI] | 0;
  const bl = u32[at + LO] | 0;
  let lead = 64;
  let trail = 64;
  for (let i = 1; i < n; i++) {
    const h = (u32[at + 2 * i + HI] ^ bh) | 0;
    const l = (u32[at + 2 * i + LO] ^ bl) | 0;
    if (h === 0 && l === 0) continue;
    const ld = h !== 0 ? Math.clz32(h) : 32 + Math.clz32(l);
    const tr = l !== 0 ? 31 - Math.clz32(l & -l) : 32 + 31 - Math.clz32(h & -h);
    if (ld < lead) lead = ld;
    if (tr < trail) trail = tr;
  }
  const width = lead === 64 ? 0 : 64 - lead - trail;
  P_KIND[c] = KIND_XOR;
  P_WIDTH[c] = width;
  P_TRAIL[c] = width === 0 ? 0 : trail;
  P_SLOPE[c] = 0;
  P_BASE[c] = 0;
  P_HI[c] = bh;
  P_LO[c] = bl;
}

/** Makes slot `c` a line plan when it is no wider than what the slot holds. */
function tryLine(v: Float64Array, n: number, slope: number, c: number): void {
  const width = lineWidth(v, n, slope);
  if (width < 0 || width > P_WIDTH[c]) return;
  P_KIND[c] = KIND_LINE;
  P_WIDTH[c] = width;
  P_TRAIL[c] = 0;
  P_SLOPE[c] = slope;
  P_BASE[c] = _lineBase;
  P_HI[c] = 0;
  P_LO[c] = 0;
}

/**
 * The 32-bit words of the buffer an encode reads (a view per buffer, not
 * per column: a decoded chunk's columns share one), dropped at the end of
 * each encode so that no caller's buffer is kept.
 */
const _words = new BufferWords();

/** The words of `v`'s buffer; `v`'s first value starts at word `v.byteOffset / 4`. */
function wordsOf(v: Float64Array): Uint32Array<ArrayBufferLike> {
  return _words.of(v);
}

/** The narrower exact plan for one column, into slot `c`. */
function planColumn(v: Float64Array, n: number, c: number): void {
  xorPlan(wordsOf(v), v.byteOffset >>> 2, n, c);
  tryLine(v, n, 0, c);
  if (n > 1) {
    const s = Math.round((v[n - 1] - v[0]) / (n - 1));
    if (s !== 0 && s >= -0x80000000 && s <= 0x7fffffff) tryLine(v, n, s, c);
  }
}

/** Writes `x`'s low 32 bits at `out[at..at+4)`, little-endian. */
function putU32LE(out: Uint8Array, at: number, x: number): void {
  out[at] = x;
  out[at + 1] = x >>> 8;
  out[at + 2] = x >>> 16;
  out[at + 3] = x >>> 24;
}

/** Writes the low `n` (0..32) bits of `x` at bit `pos` of `b`, most significant first. */
function putBits(b: Uint8Array, pos: number, x: number, n: number): void {
  for (let k = n - 1; k >= 0; k--, pos++) {
    if ((x >>> k) & 1) b[pos >>> 3] |= 0x80 >>> (pos & 7);
  }
}

/**
 * Encodes `count` rows (times `t`, and `columns`) as a frame chunk. Times
 * must be whole ms; values are any float64 (kept bit for bit). `words`,
 * when given, is a 32-bit view of the columns' whole buffer from its first
 * byte (a `RowBuffer`'s `words`): the encode then makes no view of its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFrameChunk, encodeFrameChunk } from "./frame_chunk.ts";
 *
 * const t = new Float64Array([60_000, 120_000, 180_000]);
 * const count = new Float64Array([60, 60, 60]);
 * const value = new Float64Array([1.5, 2.25, -0]);
 * const bytes = encodeFrameChunk(t, [value, count]);
 * assert.equal(bytes[0], 3);
 * const back = decodeFrameChunk(bytes);
 * assert.deepEqual([...back.t], [...t]);
 * assert.ok(Object.is(back.columns[0][2], -0));
 * assert.deepEqual([...back.columns[1]], [60, 60, 60]);
 * ```
 */
export function encodeFrameChunk(
  t: Float64Array,
  columns: readonly Float64Array[],
  count: number = t.length,
  words?: Uint32Array<ArrayBufferLike>,
): Uint8Array {
  _check(t, columns, count);
  if (words !== undefined) _words.use(words);
  try {
    return _encode(t, columns, count, undefined);
  } finally {
    _words.drop();
  }
}

/**
 * {@linkcode encodeFrameChunk} appending the chunk to `w` (its bytes made
 * nowhere else first: a tier frames sealed chunks straight into their
 * records). Returns where the chunk starts in `w`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { encodeFrameChunk, encodeFrameChunkTo } from "./frame_chunk.ts";
 *
 * const t = new Float64Array([60_000, 120_000]);
 * const v = new Float64Array([1.5, NaN]);
 * const w = new ByteWriter();
 * w.u8(0xff);
 * assert.equal(encodeFrameChunkTo(w, t, [v]), 1);
 * assert.deepEqual(w.bytes().subarray(1), encodeFrameChunk(t, [v]));
 * ```
 */
export function encodeFrameChunkTo(
  w: ByteWriter,
  t: Float64Array,
  columns: readonly Float64Array[],
  count: number = t.length,
  words?: Uint32Array<ArrayBufferLike>,
): number {
  const at = w.length;
  _check(t, columns, count);
  if (words !== undefined) _words.use(words);
  try {
    _encode(t, columns, count, w);
  } finally {
    _words.drop();
  }
  return at;
}

/** Throws when {@linkcode encodeFrameChunk}'s arguments are not a chunk it can encode. */
function _check(
  t: Float64Array,
  columns: readonly Float64Array[],
  count: number,
): void {
  const cols = columns.length;
  if (cols < 1 || cols > 255) {
    throw new RangeError(
      `Cannot encode a frame chunk: it needs 1 to 255 columns, received ${cols}`,
    );
  }
  if (!(count >= 1 && count <= t.length && Number.isInteger(count))) {
    throw new RangeError(
      `Cannot encode a frame chunk: count must be 1..${t.length}, received ${count}`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (!Number.isSafeInteger(t[i]) || (i > 0 && t[i] < t[i - 1])) {
      throw new RangeError(
        `Cannot encode a frame chunk: times must be whole ms in order, received ${
          t[i]
        } at row ${i}`,
      );
    }
  }
  // Index loops (no iterator): a tier checks every chunk it seals.
  for (let c = 0; c < cols; c++) {
    if (columns[c].length < count) {
      throw new RangeError(
        `Cannot encode a frame chunk: a column has ${
          columns[c].length
        } rows, fewer than ${count}`,
      );
    }
  }
}

/**
 * {@linkcode encodeFrameChunk} once its arguments are checked: into a
 * new array, or appended to `w` (returns its buffer then).
 */
function _encode(
  t: Float64Array,
  columns: readonly Float64Array[],
  count: number,
  w: ByteWriter | undefined,
): Uint8Array {
  const cols = columns.length;
  planColumn(t, count, 0);
  for (let c = 1; c <= cols; c++) planColumn(columns[c - 1], count, c);
  let size = 2;
  for (let n = count; n >= 128; n = Math.floor(n / 128)) size++;
  size++;
  for (let c = 0; c <= cols; c++) {
    size += (P_KIND[c] === KIND_LINE ? LINE_BYTES : XOR_BYTES) +
      Math.ceil(P_WIDTH[c] * count / 8);
  }
  let out: Uint8Array;
  let at = 0;
  if (w === undefined) out = new Uint8Array(size + PAD);
  else {
    // Bits are or-ed in: the room starts as zeros.
    w.reserve(size + PAD);
    out = w.buffer;
    at = w.length;
    out.fill(0, at, at + size + PAD);
    w.length += size + PAD;
  }
  out[at++] = FRAME_VERSION;
  out[at++] = cols;
  for (let n = count;; n = Math.floor(n / 128)) {
    if (n >= 128) out[at++] = (n % 128) | 128;
    else {
      out[at++] = n;
      break;
    }
  }
  // All descriptors first (a reader finds every column from them alone,
  // touching one or two cache lines), then each column's data.
  let data = at;
  for (let c = 0; c <= cols; c++) {
    data += P_KIND[c] === KIND_LINE ? LINE_BYTES : XOR_BYTES;
  }
  for (let c = 0; c <= cols; c++) {
    out[at] = P_KIND[c];
    out[at + 1] = P_WIDTH[c];
    if (P_KIND[c] === KIND_LINE) {
      putU32LE(out, at + 2, P_SLOPE[c]);
      SCRATCH[0] = P_BASE[c];
      putU32LE(out, at + 6, SCRATCH_U32[LO]);
      putU32LE(out, at + 10, SCRATCH_U32[HI]);
      at += LINE_BYTES;
    } else {
      out[at + 2] = P_TRAIL[c];
      putU32LE(out, at + 3, P_LO[c]);
      putU32LE(out, at + 7, P_HI[c]);
      at += XOR_BYTES;
    }
  }
  for (let c = 0; c <= cols; c++) {
    const v = c === 0 ? t : columns[c - 1];
    const w = P_WIDTH[c];
    const at = data;
    if (w > 0 && P_KIND[c] === KIND_LINE) {
      const slope = P_SLOPE[c];
      const base = P_BASE[c];
      for (let i = 0; i < count; i++) {
        putBits(out, at * 8 + i * w, v[i] - slope * i - base, w);
      }
    } else if (w > 0) {
      const u32 = wordsOf(v);
      const from = v.byteOffset >>> 2;
      const tr = P_TRAIL[c];
      const ph = P_HI[c];
      const pl = P_LO[c];
      for (let i = 0; i < count; i++) {
        let h = (u32[from + 2 * i + HI] ^ ph) >>> 0;
        let l = (u32[from + 2 * i + LO] ^ pl) >>> 0;
        // Shift the 64-bit XOR right by `trail`.
        if (tr >= 32) {
          l = h >>> (tr - 32);
          h = 0;
        } else if (tr > 0) {
          l = ((l >>> tr) | (h << (32 - tr))) >>> 0;
          h = h >>> tr;
        }
        const pos = at * 8 + i * w;
        if (w > 32) {
          putBits(out, pos, h, w - 32);
          putBits(out, pos + w - 32, l, 32);
        } else putBits(out, pos, l, w);
      }
    }
    data += Math.ceil(w * count / 8);
  }
  return out;
}

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

/**
 * Reads rows of frame chunks in O(1) each. One reader is reused for chunk
 * after chunk ({@linkcode FrameReader.reset}): it allocates only when a
 * chunk has more columns than any before.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrameChunk, FrameReader } from "./frame_chunk.ts";
 *
 * const t = Float64Array.from({ length: 60 }, (_, i) => (i + 1) * 60_000);
 * const inc = Float64Array.from({ length: 60 }, (_, i) => i % 7);
 * const r = new FrameReader().reset(encodeFrameChunk(t, [inc]));
 * assert.equal(r.count, 60);
 * assert.equal(r.lowerBound(600_000), 9); // the first row at or after 10 min
 * assert.equal(r.time(9), 600_000);
 * assert.equal(r.value(1, 9), 9 % 7);
 * ```
 */
export class FrameReader {
  /** Rows. */
  count = 0;
  /** Value columns (the times are column 0, values 1..columns). */
  columns = 0;
  #b: Uint8Array = new Uint8Array(0);
  #kind = new Uint8Array(256);
  #width = new Uint8Array(256);
  #trail = new Uint8Array(256);
  /** Bit position of each column's data. */
  #pos = new Float64Array(256);
  #slope = new Float64Array(256);
  #base = new Float64Array(256);
  #hi = new Int32Array(256);
  #lo = new Int32Array(256);
  /** Byte offset of each column's descriptor. */
  #desc = new Int32Array(256);
  /** The epoch in which each column's parameters were read. */
  #ready = new Int32Array(256);
  #epoch = 0;

  /**
   * Points the reader at the frame chunk in `bytes[start, end)` (all of
   * `bytes` by default); returns this. Checks
   * that the descriptors and data fit in the bytes; throws
   * {@linkcode CorruptChunkError} when they do not.
   */
  reset(bytes: Uint8Array, start = 0, end: number = bytes.length): this {
    // Positions below are in `bytes` (the chunk may sit inside a larger
    // buffer: a ring's, or a segment file's); `len` is the chunk's length.
    const len = end - start;
    if (len < 3 + PAD || bytes[start] !== FRAME_VERSION) {
      throw new CorruptChunkError(
        len < 3 + PAD ? "shorter than a frame header" : "not a frame chunk",
        len,
      );
    }
    const cols = bytes[start + 1];
    if (cols < 1) throw new CorruptChunkError("0 columns", len);
    let at = start + 2;
    let count = 0;
    let scale = 1;
    for (;;) {
      if (at >= end || at > start + 6) {
        throw new CorruptChunkError("the row count is cut or too long", len);
      }
      const x = bytes[at++];
      count += (x & 127) * scale;
      scale *= 128;
      if (x < 128) break;
    }
    if (count < 1) throw new CorruptChunkError("0 rows", len);
    // Only each column's kind, width and data position now: the rest of
    // a descriptor is read when the column is (#parse), since a query
    // reads a few columns of a row or two per chunk.
    const kind = this.#kind;
    const width = this.#width;
    const desc = this.#desc;
    // Descriptors, then the data: each column's data position follows
    // from the widths before it.
    let data = at;
    for (let c = 0; c <= cols; c++) {
      if (data + 2 > end) {
        throw new CorruptChunkError(`column ${c} is cut`, len);
      }
      data += bytes[data] === KIND_LINE ? LINE_BYTES : XOR_BYTES;
    }
    for (let c = 0; c <= cols; c++) {
      if (at + XOR_BYTES > end) {
        throw new CorruptChunkError(`column ${c} is cut`, len);
      }
      const k = bytes[at];
      const w = bytes[at + 1];
      kind[c] = k;
      width[c] = w;
      desc[c] = at;
      if (k === KIND_LINE) {
        if (w > 32) throw new CorruptChunkError(`column ${c} is too wide`, len);
        at += LINE_BYTES;
      } else if (k === KIND_XOR) {
        if (w > 64 || w + bytes[at + 2] > 64) {
          throw new CorruptChunkError(`column ${c} is too wide`, len);
        }
        at += XOR_BYTES;
      } else {
        throw new CorruptChunkError(`column ${c} has kind ${k}`, len);
      }
      this.#pos[c] = data * 8;
      data += Math.ceil(w * count / 8);
    }
    at = data;
    if (at + PAD !== end) {
      throw new CorruptChunkError(
        `the columns end at byte ${at - start}, not ${len - PAD}`,
        len,
      );
    }
    this.#b = bytes;
    this.count = count;
    this.columns = cols;
    // A new epoch: every column's parameters are stale.
    this.#epoch = (this.#epoch + 1) | 0;
    return this;
  }

  /** Reads column `c`'s parameters (base, slope; trail, base bits) from its descriptor. */
  #parse(c: number): void {
    const bytes = this.#b;
    const at = this.#desc[c];
    if (this.#kind[c] === KIND_LINE) {
      this.#slope[c] = bytes[at + 2] | (bytes[at + 3] << 8) |
        (bytes[at + 4] << 16) | (bytes[at + 5] << 24);
      SCRATCH_U32[LO] = bytes[at + 6] | (bytes[at + 7] << 8) |
        (bytes[at + 8] << 16) | (bytes[at + 9] << 24);
      SCRATCH_U32[HI] = bytes[at + 10] | (bytes[at + 11] << 8) |
        (bytes[at + 12] << 16) | (bytes[at + 13] << 24);
      this.#base[c] = SCRATCH[0];
    } else {
      this.#trail[c] = bytes[at + 2];
      this.#lo[c] = bytes[at + 3] | (bytes[at + 4] << 8) |
        (bytes[at + 5] << 16) | (bytes[at + 6] << 24);
      this.#hi[c] = bytes[at + 7] | (bytes[at + 8] << 8) |
        (bytes[at + 9] << 16) | (bytes[at + 10] << 24);
    }
    this.#ready[c] = this.#epoch;
  }

  /** Time (ms) of row `i`. */
  time(i: number): number {
    return this.value(0, i);
  }

  /** Column `c` (0: times, 1..columns: values) of row `i`, as a number. */
  value(c: number, i: number): number {
    if (this.#ready[c] !== this.#epoch) this.#parse(c);
    const w = this.#width[c];
    if (this.#kind[c] === KIND_LINE) {
      const u = w === 0 ? 0 : readBits(this.#b, this.#pos[c] + i * w, w);
      return this.#base[c] + this.#slope[c] * i + u;
    }
    this.#bits(c, i);
    return SCRATCH[0];
  }

  /**
   * Writes column `c` of row `i` into `out[j]` bit for bit (a NaN's
   * payload too: it is written through the array's bytes, since a NaN
   * read into a number may lose its payload on JavaScriptCore).
   */
  copy(c: number, i: number, out: Float64Array, j: number): void {
    if (this.#ready[c] !== this.#epoch) this.#parse(c);
    const w = this.#width[c];
    if (this.#kind[c] === KIND_LINE) {
      const u = w === 0 ? 0 : readBits(this.#b, this.#pos[c] + i * w, w);
      out[j] = this.#base[c] + this.#slope[c] * i + u;
      return;
    }
    this.#bits(c, i);
    const x = SCRATCH[0];
    if (x === x) out[j] = x;
    else {
      const u = new Uint32Array(out.buffer, out.byteOffset + 8 * j, 2);
      u[HI] = SCRATCH_U32[HI];
      u[LO] = SCRATCH_U32[LO];
    }
  }

  /** The first row whose time is at or after `x` (count when none). */
  lowerBound(x: number): number {
    let a = 0;
    let b = this.count;
    if (this.#ready[0] !== this.#epoch) this.#parse(0);
    if (this.#kind[0] === KIND_LINE && this.#width[0] === 0) {
      // A regular time column: the row is a division away.
      const s = this.#slope[0];
      const base = this.#base[0];
      if (s <= 0) return x <= base ? 0 : b;
      const i = Math.ceil((x - base) / s);
      return i <= 0 ? 0 : i > b ? b : i;
    }
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.value(0, mid) < x) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  /** The first row whose time is after `x` (count when none). */
  upperBound(x: number): number {
    let a = 0;
    let b = this.count;
    if (this.#ready[0] !== this.#epoch) this.#parse(0);
    if (this.#kind[0] === KIND_LINE && this.#width[0] === 0) {
      const s = this.#slope[0];
      const base = this.#base[0];
      if (s <= 0) return x < base ? 0 : b;
      const i = Math.floor((x - base) / s) + 1;
      return i <= 0 ? 0 : i > b ? b : i;
    }
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.value(0, mid) <= x) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  /** Leaves the bits of xor column `c`'s row `i` in SCRATCH. */
  #bits(c: number, i: number): void {
    const w = this.#width[c];
    let h = 0;
    let l = 0;
    if (w > 0) {
      const b = this.#b;
      const pos = this.#pos[c] + i * w;
      if (w > 32) {
        h = readBits(b, pos, w - 32) | 0;
        l = readBits(b, pos + w - 32, 32) | 0;
      } else l = readBits(b, pos, w) | 0;
      const tr = this.#trail[c];
      if (tr >= 32) {
        h = l << (tr - 32);
        l = 0;
      } else if (tr > 0) {
        h = (h << tr) | (l >>> (32 - tr));
        l = l << tr;
      }
    }
    SCRATCH_U32[HI] = this.#hi[c] ^ h;
    SCRATCH_U32[LO] = this.#lo[c] ^ l;
  }
}

const READER = new FrameReader();

/**
 * Decodes a whole frame chunk: the times and one array per column, views
 * of one `ArrayBuffer` (as `decodeChunk` gives a Gorilla chunk's). Throws
 * {@linkcode CorruptChunkError} when the bytes are not a frame chunk or
 * its times are out of order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFrameChunk, encodeFrameChunk } from "./frame_chunk.ts";
 *
 * const t = new Float64Array([1000, 2000]);
 * const { columns } = decodeFrameChunk(encodeFrameChunk(t, [new Float64Array([NaN, 0.1])]));
 * assert.ok(Number.isNaN(columns[0][0]));
 * assert.equal(columns[0][1], 0.1);
 * ```
 */
export function decodeFrameChunk(
  bytes: Uint8Array,
): { t: Float64Array; columns: Float64Array[] } {
  const r = READER.reset(bytes);
  const n = r.count;
  const cols = r.columns;
  const out = new ArrayBuffer(8 * n * (1 + cols));
  const t = new Float64Array(out, 0, n);
  const columns: Float64Array[] = [];
  for (let c = 1; c <= cols; c++) {
    columns.push(new Float64Array(out, 8 * n * c, n));
  }
  const all = new Float64Array(out);
  for (let c = 0; c <= cols; c++) {
    for (let i = 0; i < n; i++) r.copy(c, i, all, c * n + i);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isSafeInteger(t[i]) || (i > 0 && t[i] < t[i - 1])) {
      throw new CorruptChunkError(
        `row ${i}'s time is out of order`,
        bytes.length,
      );
    }
  }
  return { t, columns };
}

/**
 * Decodes a sealed chunk of either format by its byte 0: a frame chunk
 * (version 2, the downsampled tiers' sealed chunks) or a Gorilla chunk
 * (version 1: the raw tier, open chunks, and downsampled chunks written
 * before the frame format, which still read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkEncoder } from "./codec.ts";
 * import { decodeAnyChunk, encodeFrameChunk } from "./frame_chunk.ts";
 *
 * const e = new ChunkEncoder();
 * e.append(1000, 7);
 * assert.deepEqual([...decodeAnyChunk(e.finish()).columns[0]], [7]);
 * const f = encodeFrameChunk(new Float64Array([1000]), [new Float64Array([7])]);
 * assert.deepEqual([...decodeAnyChunk(f).columns[0]], [7]);
 * ```
 */
export function decodeAnyChunk(
  bytes: Uint8Array,
): { t: Float64Array; columns: Float64Array[] } {
  return bytes.length > 0 && bytes[0] === FRAME_VERSION
    ? decodeFrameChunk(bytes)
    : decodeChunk(bytes);
}
