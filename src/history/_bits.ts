/**
 * The bit-writing steps of the chunk format (see `codec.ts`), shared by
 * `ChunkEncoder` (one growable buffer per encoder) and `OpenChunks` (a
 * scratch buffer per row): one copy of the format, so the two cannot
 * drift apart. Each writer takes a byte buffer and a bit position and
 * returns the position after what it wrote; the buffer's bytes past the
 * position must be zero (bits are OR-ed into the partial byte).
 *
 * @module
 */

/** The format version written in byte 0. */
export const VERSION = 1;
/** No leading/trailing-zero window yet (a column's first non-zero XOR). */
export const NO_WINDOW = -1;
/** Most bits one sample can take: a time (65) and 78 per column. */
export const TIME_BITS_MAX = 65;
/** Most bits one column's value can take. */
export const VALUE_BITS_MAX = 78;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** 2^32: the weight of a float64's high 32-bit half as a number. */
export const TWO_32 = 4294967296;

// One shared view for reading a number's bits: no allocation, no BigInt.
/** A float64 whose bits are read through {@linkcode SCRATCH_U32}. */
export const SCRATCH = new Float64Array(1);
/** The 32-bit halves of {@linkcode SCRATCH}. */
export const SCRATCH_U32 = new Uint32Array(SCRATCH.buffer);

const NO_WORDS: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/**
 * The 32-bit words of a `Float64Array`'s whole buffer, through one view
 * kept per buffer (a caller reading the same array again and again makes
 * no view object a call): `of(a)[a.byteOffset / 4 + 2 * i + HI]` is the
 * high word of `a[i]`. Reading bits, not numbers, keeps a NaN's payload
 * (the staleness marker) on Bun, whose numbers keep one NaN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferWords, HI } from "./_bits.ts";
 *
 * const words = new BufferWords();
 * const a = new Float64Array([1, 2]);
 * const w = words.of(a.subarray(1));
 * assert.equal(w, words.of(a)); // the same view for the same buffer
 * assert.equal(w[2 + HI], 0x40000000); // 2.0's high word
 * words.drop();
 * assert.notEqual(words.of(a), w);
 * ```
 */
export class BufferWords {
  #of: ArrayBufferLike | null = null;
  #words: Uint32Array<ArrayBufferLike> = NO_WORDS;

  /** The words of `a`'s buffer. */
  of(a: Float64Array): Uint32Array<ArrayBufferLike> {
    if (a.buffer !== this.#of) {
      this.#of = a.buffer;
      this.#words = new Uint32Array(a.buffer, 0, a.buffer.byteLength >>> 2);
    }
    return this.#words;
  }

  /** Takes `words` (a view of a whole buffer from byte 0) as its buffer's. */
  use(words: Uint32Array<ArrayBufferLike>): void {
    this.#of = words.buffer;
    this.#words = words;
  }

  /** Lets go of the buffer seen last. */
  drop(): void {
    this.#of = null;
    this.#words = NO_WORDS;
  }
}
/**
 * {@linkcode BufferWords} read as signed words: each is an int32, which an
 * optimizing compiler keeps in a register as one. A `Uint32Array`'s word
 * past 2^31 (a negative value's high word, most float bits) reads as a
 * double: Bun's JIT, which took the reads in `OpenChunks.appendSamples`
 * for int32, left its optimized code at such a word, pass after pass,
 * and compiled the function again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferInts, HI } from "./_bits.ts";
 *
 * const words = new BufferInts();
 * const a = new Float64Array([-1]);
 * assert.equal(words.of(a)[HI], 0xbff00000 | 0); // -1.0's high word
 * assert.equal(words.of(a.subarray(0, 1)), words.of(a));
 * ```
 */
export class BufferInts {
  #of: ArrayBufferLike | null = null;
  #words: Int32Array<ArrayBufferLike> = new Int32Array(0);

  /** The signed words of `a`'s buffer. */
  of(a: Float64Array): Int32Array<ArrayBufferLike> {
    if (a.buffer !== this.#of) {
      this.#of = a.buffer;
      this.#words = new Int32Array(a.buffer, 0, a.buffer.byteLength >>> 2);
    }
    return this.#words;
  }
}
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Index of the high (sign, exponent) 32 bits of a float64 in a Uint32Array view. */
export const HI = LITTLE_ENDIAN ? 1 : 0;
/** Index of the low 32 bits. */
export const LO = 1 - HI;

/**
 * The window (leading * 64 + trailing) {@linkcode putValue} leaves for its
 * caller to keep (second and third return values without an allocation).
 */
export let valueWindow = NO_WINDOW;
/** The integer difference {@linkcode putValue} leaves for its caller to keep. */
export let valueDiff = 0;

/** Count trailing zeros of a non-zero int32. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * Bytes of the unsigned LEB128 varint of `n`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { varintLength } from "./_bits.ts";
 *
 * assert.equal(varintLength(127), 1);
 * assert.equal(varintLength(128), 2);
 * ```
 */
export function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/**
 * Writes a chunk's header (version, `columns`, the count `n` as a varint)
 * into `out` at `at`; returns the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeHeader } from "./_bits.ts";
 *
 * const out = new Uint8Array(4);
 * assert.equal(writeHeader(out, 0, 1, 200), 4);
 * assert.deepEqual([...out], [1, 1, 200, 1]);
 * ```
 */
export function writeHeader(
  out: Uint8Array,
  at: number,
  columns: number,
  n: number,
): number {
  out[at++] = VERSION;
  out[at++] = columns;
  let rest = n;
  while (rest >= 128) {
    out[at++] = 128 | (rest & 127);
    rest = Math.floor(rest / 128);
  }
  out[at++] = rest;
  return at;
}

/**
 * Writes the low `n` bits (1..32) of `v` (no bits above them set) into
 * `buf` at bit `p`, most significant first; returns `p + n`. Only `v`'s
 * bits are read: callers hand an int32 (`x | 0`), not the same bits as an
 * unsigned number (`x >>> 0`, a double past 2^31), so that a compiler
 * that took `v` for an int32 does not meet a double (Bun's JIT left its
 * optimized code for it at every such call, and compiled it again).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { putBits } from "./_bits.ts";
 *
 * const buf = new Uint8Array(2);
 * assert.equal(putBits(buf, 4, 0xab, 8), 12);
 * assert.deepEqual([...buf], [0x0a, 0xb0]);
 * ```
 */
export function putBits(
  buf: Uint8Array,
  p: number,
  v: number,
  n: number,
): number {
  let i = p >>> 3;
  const free = 8 - (p & 7);
  if (n <= free) {
    buf[i] |= v << (free - n);
    return p + n;
  }
  let rest = n - free;
  buf[i++] |= v >>> rest;
  while (rest >= 8) {
    rest -= 8;
    buf[i++] = v >>> rest; // a Uint8Array keeps the low 8 bits
  }
  if (rest > 0) buf[i] = v << (8 - rest);
  return p + n;
}

/**
 * Writes a chunk's first time: a sign bit and 8-bit varint groups of its
 * magnitude; returns the bit position after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { putFirstTime } from "./_bits.ts";
 *
 * assert.equal(putFirstTime(new Uint8Array(4), 0, 1000), 17);
 * ```
 */
export function putFirstTime(buf: Uint8Array, p: number, t: number): number {
  let m = Math.abs(t);
  p = putBits(buf, p, t < 0 ? 1 : 0, 1);
  while (m >= 128) {
    p = putBits(buf, p, 128 | (m % 128), 8);
    m = Math.floor(m / 128);
  }
  return putBits(buf, p, m | 0, 8);
}

/**
 * Writes a later time's delta of delta `dod`; returns the bit position
 * after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { putDod } from "./_bits.ts";
 *
 * const buf = new Uint8Array(4);
 * assert.equal(putDod(buf, 0, 0), 1);
 * assert.equal(putDod(buf, 1, 1), 10);
 * ```
 */
export function putDod(buf: Uint8Array, p: number, dod: number): number {
  if (dod === 0) return p + 1; // a 0 bit: the buffer past p is already zero
  const z = dod >= 0 ? 2 * dod : -2 * dod - 1;
  if (z < 128) return putBits(buf, p, 0x100 | z, 9); // 10 + 7
  if (z < 4096) return putBits(buf, p, 0x6000 | z, 15); // 110 + 12
  if (z < 1048576) return putBits(buf, p, 0xe00000 | z, 24); // 1110 + 20
  if (z < TWO_32) {
    p = putBits(buf, p, 0x1e, 5); // 11110 + 32
    return putBits(buf, p, z | 0, 32);
  }
  const m = Math.abs(dod); // < 2^53: sign and 53 bits
  p = putBits(buf, p, 0x3e | (dod < 0 ? 1 : 0), 6); // 11111 + sign
  p = putBits(buf, p, Math.floor(m / TWO_32) | 0, 21);
  return putBits(buf, p, m | 0, 32);
}

/**
 * Writes value bits `hi:lo` against the previous `ph:pl`
 * whose window is `w` and whose integer difference was `pd` (NaN: none
 * known, no integer mode); returns the bit position after it and leaves
 * the window to keep in {@linkcode valueWindow} and the difference to
 * keep in {@linkcode valueDiff}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_WINDOW, putValue, valueDiff } from "./_bits.ts";
 *
 * const buf = new Uint8Array(16);
 * // 1.0 against 0.0: hi 0x3ff00000, lo 0; both integers, difference 1.
 * const end = putValue(buf, 0, 0x3ff00000, 0, 0, 0, NO_WINDOW, 0);
 * assert.equal(end, 8); // 111 0 + 4 bits
 * assert.equal(valueDiff, 1);
 * ```
 */
export function putValue(
  buf: Uint8Array,
  p: number,
  hi: number,
  lo: number,
  ph: number,
  pl: number,
  w: number,
  pd: number,
): number {
  valueDiff = 0;
  valueWindow = w;
  // The number itself from its bits, not an argument: a double passed to
  // a call that is not inlined is boxed (a heap number each float sample,
  // 14 MB a minute at 57,000 series on Deno).
  SCRATCH_U32[HI] = hi;
  SCRATCH_U32[LO] = lo;
  const v = SCRATCH[0];
  const xh = hi ^ ph;
  const xl = lo ^ pl;
  if ((xh | xl) === 0) return p + 1; // 0: the same bits
  let lead = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
  if (lead > 31) lead = 31; // 5 bits
  const trail = xl !== 0 ? ctz(xl) : 32 + ctz(xh);
  const reuse = w >= 0 && lead >= w >> 6 && trail >= (w & 63);
  const xorBits = reuse ? 66 - (w >> 6) - (w & 63) : 78 - lead - trail;
  // An integer after an integer: keep the difference whichever way the
  // value is written, and write the difference's change when shorter
  // (not for -0, which an integer difference would turn into +0).
  if (v === Math.floor(v) && v <= MAX_SAFE && v >= -MAX_SAFE) {
    SCRATCH_U32[HI] = ph;
    SCRATCH_U32[LO] = pl;
    const prev = SCRATCH[0];
    const d = v - prev;
    const ints = prev === Math.floor(prev) && prev <= MAX_SAFE &&
      prev >= -MAX_SAFE && d <= MAX_SAFE && d >= -MAX_SAFE;
    if (ints) valueDiff = d;
    if (ints && pd === pd && xorBits > 8 && (v !== 0 || hi === 0)) {
      const dd = d - pd;
      const z = dd >= 0 ? 2 * dd : -2 * dd - 1;
      if (z < 16) return putBits(buf, p, 0xe0 | z, 8); // 111 0 + 4
      if (z < 256 && xorBits > 13) return putBits(buf, p, 0x1e00 | z, 13); // 111 10 + 8
      if (z < 65536 && xorBits > 22) {
        return putBits(buf, p, 0x3e0000 | z, 22); // 111 110 + 16
      }
      if (z < TWO_32 && xorBits > 38) {
        p = putBits(buf, p, 0x3f, 6); // 111 111 + 32
        return putBits(buf, p, z | 0, 32);
      }
    }
  }
  if (reuse) {
    const pt = w & 63;
    p = putBits(buf, p, 2, 2); // 10: inside the previous window
    return putXor(buf, p, xh, xl, pt, 64 - (w >> 6) - pt);
  }
  const sig = 64 - lead - trail;
  p = putBits(buf, p, 0x3000 | (lead << 6) | (sig & 63), 14); // 110 + 5 + 6
  valueWindow = (lead << 6) | trail;
  return putXor(buf, p, xh, xl, trail, sig);
}

/** Writes the `sig` bits of the 64-bit `xh:xl` above its `trail` low bits. */
function putXor(
  buf: Uint8Array,
  p: number,
  xh: number,
  xl: number,
  trail: number,
  sig: number,
): number {
  let h: number;
  let l: number;
  if (trail >= 32) {
    h = 0;
    l = (xh >>> (trail - 32)) | 0;
  } else if (trail === 0) {
    h = xh;
    l = xl;
  } else {
    h = xh >>> trail;
    l = (xl >>> trail) | (xh << (32 - trail));
  }
  if (sig > 32) {
    p = putBits(buf, p, h, sig - 32);
    return putBits(buf, p, l, 32);
  }
  return putBits(buf, p, l, sig);
}
