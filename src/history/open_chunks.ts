/**
 * The open (growing) chunks of one tier for every series, written in the
 * codec's format (see `codec.ts`: version, columns, count, then the
 * Gorilla bit stream) but kept as a structure of arrays: the encoder
 * state of series `id` lives at index `id` of a few typed arrays, and its
 * bits in a slot of a shared slab. A `ChunkEncoder` object per series and
 * tier costs a few hundred bytes of object headers; ~57,000 series x 3
 * tiers of them would not fit the 32 MB the store may use.
 *
 * A chunk's bytes are a chain of 32-byte blocks carved from 64 KiB pages,
 * so memory follows the bytes actually written (a block, 4 bytes of link)
 * and a sealed chunk's blocks go back to one free list for any series.
 * A page's links come with it (8 KiB), and the free list is a chain of
 * those links: no array grows by copies (the old ones left behind as
 * garbage) and none has room to spare.
 * A row is encoded into a small scratch buffer first, then its bytes are
 * copied onto the chain.
 *
 * `decodeChunk()` of `codec.ts` reads what {@linkcode OpenChunks.finish}
 * returns; the tests check the bytes equal `ChunkEncoder`'s.
 *
 * @module
 */

import {
  BufferInts,
  HI,
  LO,
  NO_WINDOW,
  putDod,
  putFirstTime,
  putValue,
  SCRATCH,
  SCRATCH_U32,
  TIME_BITS_MAX,
  VALUE_BITS_MAX,
  valueDiff,
  valueWindow,
  varintLength,
  writeHeader,
} from "./_bits.ts";
import { decodedColumnState, RowBuffer } from "./codec.ts";

/** A row column's integer difference that did not fit 32 bits. */
const UNKNOWN = -0x80000000;
/**
 * A time delta (or a sample's integer difference) that does not fit 32
 * bits: its value is in a map beside the array (#wide).
 */
const WIDE = -0x80000000;
/** What `decodedColumnState` hands a lean rebuild (reused). */
const _columnState = { window: 0, diff: 0 };
const BLOCK_SHIFT = 5; // 32-byte blocks
const BLOCK_BYTES = 1 << BLOCK_SHIFT;
const PAGE_SHIFT = 11; // 2048 blocks (64 KiB) per page
const PAGE_MASK = (1 << PAGE_SHIFT) - 1;
const PAGE_BYTES = BLOCK_BYTES << PAGE_SHIFT;
const NONE = -1;

/**
 * Seal a chunk once its stream holds this many bits (16 KiB): a chunk
 * record must stay far below the frame's 16 MiB, and a reader decodes a
 * chunk at a time.
 */
export const MAX_STREAM_BITS = 16384 * 8;

/**
 * The next capacity of arrays indexed by series id: double while small,
 * then a quarter more (57,430 series took 65,536 slots by doubling: 14 %
 * of every per-series array unused; by a quarter at most 25 %, about
 * 12 % on average, for a few more copies while series are added).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { growCapacity } from "./open_chunks.ts";
 *
 * assert.equal(growCapacity(0), 64);
 * assert.equal(growCapacity(1024), 2048);
 * assert.equal(growCapacity(40_000), 50_000);
 * ```
 */
export function growCapacity(n: number): number {
  return n < 64 ? 64 : n < 16_384 ? 2 * n : Math.ceil(n * 1.25);
}

/**
 * Open chunks of one tier, indexed by series id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeChunk } from "./codec.ts";
 * import { OpenChunks } from "./open_chunks.ts";
 *
 * const open = new OpenChunks(1);
 * open.ensure(3);
 * for (let i = 1; i <= 100; i++) open.append(2, i * 1000, i % 3);
 * assert.equal(open.count(2), 100);
 * const { t, columns } = decodeChunk(open.finish(2));
 * assert.equal(t[99], 100_000);
 * assert.equal(columns[0][4], 2);
 * open.reset(2);
 * assert.equal(open.count(2), 0);
 * ```
 */
export class OpenChunks {
  /** The most columns a chunk of this tier has. */
  readonly maxColumns: number;
  #n = 0;
  /**
   * Per series: rows of its open chunk. 16 bits: a chunk is sealed once
   * its stream passes {@linkcode MAX_STREAM_BITS}, and a row takes at
   * least 2 bits (a first one 10), so a chunk that is sealed then holds
   * at most 65,533 rows.
   */
  #count = new Uint16Array(0);
  /**
   * Per series: bits of its stream. 16 bits until a stream passes 65,535
   * (a chunk of 120 raw rows takes at most 17,160, of 10 minute rows
   * 5,330), then 32 for all (see #widenBits).
   */
  #bits: Uint16Array | Int32Array = new Uint16Array(0);
  #cols = new Uint8Array(0);
  #head = new Int32Array(0);
  #tail = new Int32Array(0);
  /**
   * Per series: the last row's time. 32-bit (4 bytes a series less than
   * a Float64Array) while #narrowT: samples' times in ms after #tBase
   * (moved to a later time when one is past 2^31 ms after it, about 25
   * days; see #rebase), rows on a grid (a downsampled tier's window
   * ends) in steps of #grid. Else, once a time fits neither (off the
   * grid, -0, a chunk left open for weeks), in ms for all series.
   */
  #lastT: Float64Array | Int32Array = new Float64Array(0);
  #narrowT = false;
  /** The step of #lastT's times (1: ms). */
  #grid = 1;
  /** The time #lastT's 32-bit times count from. */
  #tBase = 0;
  /** Per series: the last time delta, 32-bit (WIDE: see #wide). */
  #delta = new Int32Array(0);
  /** Per series and column: previous value's high and low 32 bits. */
  #prev = new Int32Array(0);
  /** Per series and column: the XOR window (leading * 64 + trailing). */
  #win = new Int16Array(0);
  /** Per series: the stream's last byte (partial when bits % 8 != 0). */
  #lastByte = new Uint8Array(0);
  /**
   * Per series (one-column chunks): the last integer difference, 32-bit
   * (WIDE: see #wide; 8 bytes a series less than a Float64Array, for a
   * map entry a series whose difference passes 2^31, which is rare).
   */
  #diff = new Int32Array(0);
  /**
   * The time deltas (key `2 * id`) and integer differences (`2 * id + 1`)
   * that do not fit 32 bits, where #delta or #diff holds WIDE.
   */
  #wide = new Map<number, number>();
  /**
   * Per series and column (rows): the last integer difference when it fits
   * 32 bits, else UNKNOWN (then the next value is written as an XOR; the
   * codec reads either): 4 bytes a column instead of 8.
   */
  #diff32 = new Int32Array(0);
  /** Per series: rows of its chunk the head log holds (0: none; 16 bits as #count). */
  #logCount = new Uint16Array(0);
  /** Per series: stream bits of its chunk the head log holds (as #bits). */
  #logBits: Uint16Array | Int32Array = new Uint16Array(0);
  #rows: boolean;
  #open = 0;
  // Blocks: pages of bytes, and each page's links (a block's next one).
  #pages: Uint8Array[] = [];
  #links: Int32Array[] = [];
  #blocks = 0;
  /** The free blocks: a chain through their links (NONE: none). */
  #freeHead = NONE;
  #freeCount = 0;
  // The row being written: bits go to #scratch from bit #pos.
  #scratch = new Uint8Array(0);
  #pos = 0;
  /** Scratch bytes the last row wrote. */
  #used = 0;
  /**
   * Lean: the encoder state (the time delta, and per column the previous
   * value, XOR window and integer difference: 14 bytes a column, 92 a
   * series of 6) is kept for one series at a time, the last one appended
   * to, and rebuilt for another from a decode of its chunk (the last two
   * rows' times, the last row's bits, and the window and difference the
   * decoder ends with: what encoding the rows again would leave). For a
   * tier whose rows come rarely into chunks of a few rows (the `1h` tier,
   * and the `1m` tier of a store on disk: chunks of at most 10 rows): 5
   * MB less a tier at 57,000 series for a decode of a few rows a row
   * (about 0.75 µs at 10-row chunks; encoding the rows again, as this did
   * until 2026-12-06, took about 2 µs).
   */
  readonly lean: boolean;
  /** Lean: the series whose state the columns hold (-1: none). */
  #stateOf = -1;
  /** Lean: the rows of the chunk whose state is rebuilt. */
  #leanRows = new RowBuffer();
  /** {@linkcode decodeInto}'s copy of a chunk's bytes. */
  #bytes = new Uint8Array(0);
  /** The bits of the values appendSamples() reads, and of the rows appendRow() does. */
  #valuesWords = new BufferInts();
  #rowWords = new BufferInts();

  /**
   * @param maxColumns the most columns a chunk has (1 for raw, 6 for
   * windows). Both use the codec's integer mode (a counter's steady step
   * costs a few bits instead of a 20-40 bit XOR).
   * @param lean keep the columns' encoder state for one series only (see
   * {@linkcode OpenChunks.lean}; rows only, appended with `appendRow`)
   * @param gridMs rows only: the step their times are multiples of (a
   * downsampled tier's resolution), kept as a count of steps (0: none;
   * a time off the grid is kept all the same, in ms)
   */
  constructor(maxColumns: number, lean = false, gridMs = 0) {
    if (!Number.isInteger(maxColumns) || maxColumns < 1 || maxColumns > 255) {
      throw new RangeError(
        `Cannot create open chunks: maxColumns must be an integer from 1 to 255, received ${maxColumns}`,
      );
    }
    if (
      !Number.isInteger(gridMs) || gridMs < 0 ||
      (gridMs > 0 && maxColumns === 1)
    ) {
      throw new RangeError(
        `Cannot create open chunks: gridMs must be 0, or a positive integer for rows of several columns, received ${gridMs}`,
      );
    }
    if (gridMs > 1 || maxColumns === 1) {
      this.#grid = Math.max(gridMs, 1);
      this.#lastT = new Int32Array(0);
      this.#narrowT = true;
    }
    this.maxColumns = maxColumns;
    this.#rows = maxColumns > 1;
    this.lean = lean && this.#rows;
    this.#scratch = new Uint8Array(
      ((TIME_BITS_MAX + VALUE_BITS_MAX * maxColumns) >>> 3) + 2,
    );
  }

  /** Makes room for ids below `n`. */
  ensure(n: number): void {
    if (n <= this.#n) return;
    const size = Math.max(n, growCapacity(this.#n));
    const cols = this.maxColumns;
    const i32 = (a: Int32Array, k: number, fill: number, n = size) => {
      const b = new Int32Array(n * k).fill(fill);
      b.set(a);
      return b;
    };
    const u16 = (a: Uint16Array) => {
      const b = new Uint16Array(size);
      b.set(a);
      return b;
    };
    const f64 = (a: Float64Array, n = size) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const bits = <T extends Uint16Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.#count = u16(this.#count);
    this.#bits = bits(this.#bits);
    this.#logCount = u16(this.#logCount);
    this.#logBits = bits(this.#logBits);
    this.#head = i32(this.#head, 1, NONE);
    // Lean: a chain's last block is found from its head (see #tailOf).
    if (!this.lean) this.#tail = i32(this.#tail, 1, NONE);
    // Lean: the column state of one series (allocated once).
    const states = this.lean ? 1 : size;
    if (this.#win.length < states * cols) {
      this.#prev = i32(this.#prev, 2 * cols, 0, states);
    }
    const colsArr = new Uint8Array(size);
    colsArr.set(this.#cols);
    this.#cols = colsArr;
    const lastByte = new Uint8Array(size);
    lastByte.set(this.#lastByte);
    this.#lastByte = lastByte;
    if (this.#win.length < states * cols) {
      const win = new Int16Array(states * cols).fill(NO_WINDOW);
      win.set(this.#win);
      this.#win = win;
      if (this.#rows) {
        this.#diff32 = i32(this.#diff32, cols, 0, states);
      } else this.#diff = i32(this.#diff, 1, 0);
    }
    this.#lastT = this.#lastT instanceof Float64Array
      ? f64(this.#lastT)
      : i32(this.#lastT, 1, 0);
    // Lean: the time delta is part of the state rebuilt from the chunk.
    if (this.#delta.length < states) {
      this.#delta = i32(this.#delta, 1, 0, states);
    }
    this.#n = size;
  }

  /** Rows in `id`'s open chunk (0: none). */
  count(id: number): number {
    return this.#count[id];
  }

  /** Columns of `id`'s open chunk. */
  columns(id: number): number {
    return this.#cols[id];
  }

  /**
   * First timestamp of `id`'s open chunk (NaN when it is empty), read
   * from the start of its stream (see `putFirstTime`: a sign bit, then
   * 8-bit groups of 7 bits, low first, all but the last with the top bit
   * set), in its first block: 8 bytes a series and tier less than a copy.
   */
  firstT(id: number): number {
    if (this.#count[id] === 0) return NaN;
    const b = this.#head[id];
    const page = this.#pages[b >>> PAGE_SHIFT];
    const at = (b & PAGE_MASK) << BLOCK_SHIFT;
    const negative = page[at] >>> 7;
    let m = 0;
    let scale = 1;
    for (let k = at;; k++) {
      const group = ((page[k] << 1) | (page[k + 1] >>> 7)) & 0xff;
      m += (group & 127) * scale;
      if (group < 128) break;
      scale *= 128;
    }
    return negative ? -m : m;
  }

  /** Last timestamp of `id`'s open chunk. */
  lastT(id: number): number {
    const t = this.#lastT[id];
    return this.#narrowT ? t * this.#grid + this.#tBase : t;
  }

  /**
   * The last value of `id`'s open chunk (one-column chunks) as
   * its float64 bits, high word in `out[HI]`, low in `out[LO]` of a
   * `Uint32Array` over a `Float64Array` (so a NaN's payload, the staleness
   * marker, stays as appended); `false`, `out` untouched, when the chunk
   * is empty. The encoder keeps these bits for the next XOR: no decode.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { OpenChunks } from "./open_chunks.ts";
   *
   * const open = new OpenChunks(1);
   * open.ensure(1);
   * const value = new Float64Array(1);
   * const bits = new Uint32Array(value.buffer);
   * assert.equal(open.lastBits(0, bits), false);
   * open.append(0, 1000, 2.5);
   * open.append(0, 2000, 7.25);
   * assert.equal(open.lastBits(0, bits), true);
   * assert.equal(value[0], 7.25);
   * ```
   */
  lastBits(id: number, out: Uint32Array): boolean {
    if (this.#count[id] === 0) return false;
    if (this.#rows) {
      throw new RangeError(
        "Cannot read the last value: these open chunks hold rows of several columns",
      );
    }
    out[HI] = this.#prev[2 * id];
    out[LO] = this.#prev[2 * id + 1];
    return true;
  }

  /** Open chunks. */
  get openCount(): number {
    return this.#open;
  }

  /** Bytes the chunk of `id` would take finished. */
  byteLength(id: number): number {
    const n = this.#count[id];
    return n === 0 ? 0 : 2 + varintLength(n) + ((this.#bits[id] + 7) >>> 3);
  }

  /**
   * At least the bytes of all open chunks together as {@linkcode finish}
   * would write them (their blocks, and a header of at most 7 bytes
   * each), without a pass over the series: what a flush weighs against
   * the disk budget before it writes.
   */
  bytesBound(): number {
    return (this.#blocks - this.#freeCount) * BLOCK_BYTES + this.#open * 7;
  }

  /** Bytes held: block pages, links, free list and the per-series state. */
  memoryBytes(): number {
    return this.#pages.length * (PAGE_BYTES + (4 << PAGE_SHIFT)) +
      this.#n * 2 + this.#count.byteLength + this.#bits.byteLength +
      this.#logCount.byteLength + this.#logBits.byteLength +
      this.#head.byteLength + this.#tail.byteLength +
      this.#lastT.byteLength + this.#delta.byteLength +
      this.#prev.byteLength +
      this.#win.byteLength + this.#diff.byteLength + this.#diff32.byteLength +
      this.#wide.size * 40;
  }

  /**
   * Appends sample `(t, v)` (one column) to `id`'s chunk; t integer ms,
   * after the last. Returns the bits the chunk's stream holds now: seal it
   * before {@linkcode MAX_STREAM_BITS}.
   */
  append(id: number, t: number, v: number): number {
    SCRATCH[0] = v;
    return this.appendBits(id, t, SCRATCH_U32[HI] | 0, SCRATCH_U32[LO] | 0);
  }

  /**
   * {@linkcode append} of the value whose float64 bits are `hi:lo`: a
   * NaN's payload (Prometheus's staleness marker) is kept, which a number
   * does not carry on Bun (JSC keeps one NaN).
   */
  appendBits(id: number, t: number, hi: number, lo: number): number {
    this.#startRow(id, t, 1);
    this.#value(id * this.maxColumns, hi, lo);
    return this.#endRow(id);
  }

  /**
   * Appends one tick's samples: `values[i]` at time `t` to the one-column
   * chunk of series `ids[i]`, for `from <= i < n` (each id once; `t`
   * after each one's last). The same bytes as {@linkcode append} one by one, in one
   * loop with the state in locals: a sampling pass appends to every series
   * (57,000 at 100 flows x 10 processes) and the calls and field reads of
   * `append()` were about half its cost. Writes into `full` the ids whose
   * chunk reached `limit[id]` rows or {@linkcode MAX_STREAM_BITS} (to
   * seal), and returns how many (a limit is 16 bits, as the rows of a
   * chunk are: the stream's bound comes first past 65,533 rows).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { decodeChunk } from "./codec.ts";
   * import { OpenChunks } from "./open_chunks.ts";
   *
   * const open = new OpenChunks(1);
   * open.ensure(2);
   * const ids = new Int32Array([0, 1]);
   * const limit = new Uint16Array([3, 3]);
   * const full = new Int32Array(2);
   * let sealing = 0;
   * for (let s = 1; s <= 3; s++) {
   *   sealing = open.appendSamples(ids, new Float64Array([s, 7]), 2, s * 1000, limit, full);
   * }
   * assert.equal(sealing, 2);
   * assert.deepEqual([...decodeChunk(open.finish(0)).columns[0]], [1, 2, 3]);
   * ```
   */
  appendSamples(
    ids: Int32Array,
    values: Float64Array,
    n: number,
    t: number,
    limit: Uint16Array,
    full: Int32Array,
    from = 0,
  ): number {
    if (this.#rows) {
      throw new RangeError(
        "Cannot append samples: these open chunks hold rows of several columns",
      );
    }
    const count = this.#count;
    let bitsOf = this.#bits;
    // The time as #lastT holds it (one column: ms, from #tBase).
    let tRel = t;
    if (this.#narrowT) {
      tRel = t - this.#tBase;
      if (tRel !== (tRel | 0) || Object.is(t, -0)) {
        if (!this.#rebase(t)) this.#wideT();
        tRel = t - this.#tBase;
      }
      // An int32 while the times are narrow (it fits: checked above), the
      // type #lastT holds: a difference of two ms times is a double to a
      // compiler, and Bun's JIT left its optimized loop at each store of
      // one into #lastT.
      if (this.#narrowT) tRel |= 0;
    }
    const lastT = this.#lastT;
    const delta = this.#delta;
    const prev = this.#prev;
    const win = this.#win;
    const diff = this.#diff;
    const lastByte = this.#lastByte;
    const tail = this.#tail;
    const scratch = this.#scratch;
    // The values' bits, not the numbers: a NaN's payload (the staleness
    // marker) is kept on Bun too.
    const vBits = this.#valuesWords.of(values);
    const vw = values.byteOffset >>> 2;
    let full_ = 0;
    for (let i = from; i < n; i++) {
      const id = ids[i];
      const hi = vBits[vw + 2 * i + HI];
      const lo = vBits[vw + 2 * i + LO];
      const rows = count[id];
      // As append(): a caller that does not seal the ids in `full` is
      // refused at the 65,536th row rather than wrap the 16-bit count.
      if (rows === 0xffff) _tooManyRows();
      let bits: number;
      if (rows === 0) {
        // A chunk's first row: the general path (once a chunk).
        bits = this.appendBits(id, t, hi, lo);
        bitsOf = this.#bits;
      } else if (
        (bitsOf[id] & 7) !== 0 && (bitsOf[id] & 7) <= 6 &&
        tRel - lastT[id] === delta[id] &&
        hi === prev[2 * id] && lo === prev[2 * id + 1]
      ) {
        // A steady tick and the same value (a quarter of a pass at 100
        // flows x 10 processes): two 0 bits, which fit the stream's
        // partial last byte, already zero there: nothing is written.
        lastT[id] = tRel;
        count[id] = rows + 1;
        diff[id] = 0;
        bits = bitsOf[id] + 2;
        if (bits > 0xffff && bitsOf instanceof Uint16Array) {
          bitsOf = this.#widenBits();
        }
        bitsOf[id] = bits;
      } else {
        bits = bitsOf[id];
        const from = bits & 7;
        // Zero what the last row left in the scratch buffer.
        for (let j = this.#used; j > 0;) scratch[--j] = 0;
        if (from !== 0) scratch[0] = lastByte[id];
        let pos = from;
        const d = tRel - lastT[id];
        let pd = delta[id];
        if (pd === WIDE) pd = this.#wide.get(2 * id)!;
        const dod = d - pd;
        if (dod === 0) pos++;
        else pos = putDod(scratch, pos, dod);
        lastT[id] = tRel;
        if ((d | 0) === d && d !== WIDE) delta[id] = d;
        else this.#setWide(delta, id, 2 * id, d);
        count[id] = rows + 1;
        const k = id; // one column: state index = id
        const ph = prev[2 * k];
        const pl = prev[2 * k + 1];
        prev[2 * k] = hi;
        prev[2 * k + 1] = lo;
        if (hi === ph && lo === pl) {
          diff[k] = 0;
          pos++;
        } else {
          let px = diff[k];
          if (px === WIDE) px = this.#wide.get(2 * k + 1)!;
          pos = putValue(scratch, pos, hi, lo, ph, pl, win[k], px);
          win[k] = valueWindow;
          const x = valueDiff;
          if ((x | 0) === x && x !== WIDE) diff[k] = x;
          else this.#setWide(diff, k, 2 * k + 1, x);
        }
        const nbytes = (pos + 7) >>> 3;
        this.#used = nbytes;
        // Onto the chain: the tail block has room up to a block boundary.
        let b = bits >>> 3;
        let covered = (((bits + 7) >>> 3) + BLOCK_BYTES - 1) &
          ~(BLOCK_BYTES - 1);
        let tb = tail[id];
        let page = this.#pages[tb >>> PAGE_SHIFT];
        let base = (tb & PAGE_MASK) << BLOCK_SHIFT;
        for (let j = 0; j < nbytes; j++, b++) {
          if (b >= covered) {
            const nb = this.#allocBlock();
            this.#links[tb >>> PAGE_SHIFT][tb & PAGE_MASK] = nb;
            tb = nb;
            covered += BLOCK_BYTES;
            page = this.#pages[tb >>> PAGE_SHIFT];
            base = (tb & PAGE_MASK) << BLOCK_SHIFT;
          }
          page[base + (b & (BLOCK_BYTES - 1))] = scratch[j];
        }
        tail[id] = tb;
        lastByte[id] = scratch[nbytes - 1];
        bits = bits + pos - from;
        if (bits > 0xffff && bitsOf instanceof Uint16Array) {
          bitsOf = this.#widenBits();
        }
        bitsOf[id] = bits;
      }
      if (count[id] >= limit[id] || bits > MAX_STREAM_BITS) full[full_++] = id;
    }
    return full_;
  }

  /** Appends a row of `columns` values of `row` to `id`'s chunk; returns the stream's bits. */
  appendRow(
    id: number,
    t: number,
    row: Float64Array,
    columns: number,
  ): number {
    if (this.lean && this.#stateOf !== id) this.#rebuildState(id);
    this.#startRow(id, t, columns);
    const at = this.lean ? 0 : id * this.maxColumns;
    // The row's bits (rows come from an aggregator's one row array: the
    // same view every time).
    const bits = this.#rowWords.of(row);
    const w = row.byteOffset >>> 2;
    for (let c = 0; c < columns; c++) {
      this.#value(at + c, bits[w + 2 * c + HI], bits[w + 2 * c + LO]);
    }
    return this.#endRow(id);
  }

  /**
   * Decodes `id`'s chunk so far into `rows` (through a byte buffer kept
   * between calls: nothing allocated once both are large enough);
   * returns its rows.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RowBuffer } from "./codec.ts";
   * import { OpenChunks } from "./open_chunks.ts";
   *
   * const open = new OpenChunks(6);
   * open.ensure(1);
   * open.appendRow(0, 60_000, new Float64Array([7, 60, 300, 1, 9, 4]), 6);
   * open.appendRow(0, 120_000, new Float64Array([8, 60, 420, 7, 8, 1]), 6);
   * const rows = new RowBuffer();
   * assert.equal(open.decodeInto(0, rows), 2);
   * assert.deepEqual([rows.t[1], rows.columns[2][1], rows.columns[5][0]], [120_000, 420, 4]);
   * ```
   */
  decodeInto(id: number, rows: RowBuffer): number {
    const n = this.byteLength(id);
    if (n === 0) return 0;
    if (this.#bytes.length < n) {
      this.#bytes = new Uint8Array(Math.max(256, 2 * n));
    }
    this.copyTo(id, this.#bytes, 0);
    return rows.decode(this.#bytes, n);
  }

  /** The chunk of `id` so far, in the codec's format (a copy). */
  finish(id: number): Uint8Array {
    const out = new Uint8Array(this.byteLength(id) || 3);
    this.copyTo(id, out, 0);
    return out;
  }

  /**
   * Writes what {@linkcode finish} returns into `out` at `at` (which must
   * have room for {@linkcode byteLength}); returns the end.
   */
  copyTo(id: number, out: Uint8Array, at: number): number {
    const n = this.#count[id];
    const dataBytes = (this.#bits[id] + 7) >>> 3;
    at = writeHeader(out, at, this.#cols[id], n);
    const end = at + dataBytes;
    // Locals, not fields, in the loop: a flush copies every open chunk
    // (megabytes at 57,000 series), and field reads per byte made this a
    // third of a flush's CPU.
    const pages = this.#pages;
    const links = this.#links;
    for (
      let b = this.#head[id];
      at < end;
      b = links[b >>> PAGE_SHIFT][b & PAGE_MASK]
    ) {
      const page = pages[b >>> PAGE_SHIFT];
      let off = (b & PAGE_MASK) << BLOCK_SHIFT;
      const stop = end < at + BLOCK_BYTES ? end : at + BLOCK_BYTES;
      while (at < stop) out[at++] = page[off++];
    }
    return at;
  }

  /**
   * Rows of `id`'s chunk the head log holds (0: none, the next record
   * writes it whole); see {@linkcode markLogged}.
   */
  loggedRows(id: number): number {
    return this.#logCount[id];
  }

  /** The stream byte a part for the head log starts at: the log's last (maybe partial) byte. */
  loggedByte(id: number): number {
    return this.#logBits[id] >>> 3;
  }

  /** Bytes of `id`'s stream from `from` on. */
  partLength(id: number, from: number): number {
    return ((this.#bits[id] + 7) >>> 3) - from;
  }

  /** Notes that the head log now holds `id`'s chunk as it is. */
  markLogged(id: number): void {
    this.#logCount[id] = this.#count[id];
    this.#logBits[id] = this.#count[id] === 0 ? 0 : this.#bits[id];
  }

  /**
   * Writes `id`'s stream bytes from `from` on into `out` at `at`; returns
   * the end. Only the chain's links are walked to `from` (one small array),
   * so a part costs its own blocks, not the chunk's.
   */
  copyPart(id: number, from: number, out: Uint8Array, at: number): number {
    const end = at + ((this.#bits[id] + 7) >>> 3) - from;
    const pages = this.#pages;
    const links = this.#links;
    let b = this.#head[id];
    for (let skip = from >>> BLOCK_SHIFT; skip > 0; skip--) {
      b = links[b >>> PAGE_SHIFT][b & PAGE_MASK];
    }
    let off = from & (BLOCK_BYTES - 1);
    for (; at < end; b = links[b >>> PAGE_SHIFT][b & PAGE_MASK], off = 0) {
      const page = pages[b >>> PAGE_SHIFT];
      let p = ((b & PAGE_MASK) << BLOCK_SHIFT) + off;
      const stop = end < at + BLOCK_BYTES - off ? end : at + BLOCK_BYTES - off;
      while (at < stop) out[at++] = page[p++];
    }
    return at;
  }

  /**
   * Lean: makes the state `id`'s: the time delta of its last two rows,
   * the last row's bits, and the XOR window and integer difference of
   * each column as the decoder of its chunk ends with them
   * (`decodedColumnState`): what encoding the rows again would leave, for
   * a decode of the chunk alone.
   */
  #rebuildState(id: number): void {
    this.#stateOf = id;
    if (this.#count[id] === 0) return;
    if (this.#cols[id] === 1) {
      // One column is decoded by the samples' own decoder, which keeps no
      // encoder state: encode it again.
      this.#encodeAgain(id);
      return;
    }
    const rows = this.#leanRows;
    const count = this.decodeInto(id, rows);
    const { t, words, stride } = rows;
    this.#setDelta(0, count > 1 ? t[count - 1] - t[count - 2] : 0);
    const state = _columnState;
    for (let c = 0; c < rows.columns.length; c++) {
      const k = 2 * (stride * (c + 1) + count - 1);
      this.#prev[2 * c] = words[k + HI] | 0;
      this.#prev[2 * c + 1] = words[k + LO] | 0;
      decodedColumnState(c, state);
      this.#win[c] = state.window;
      const d = state.diff;
      this.#diff32[c] = d >= -0x7fffffff && d <= 0x7fffffff ? d : UNKNOWN;
    }
  }

  /**
   * Lean: makes the column state `id`'s by encoding its chunk again from
   * its decoded rows (the same bytes; what the head log holds of it stays
   * as it was).
   */
  #encodeAgain(id: number): void {
    const rows = this.#leanRows;
    const count = this.decodeInto(id, rows);
    const { t, columns, words, stride } = rows;
    const logCount = this.#logCount[id];
    const logBits = this.#logBits[id];
    this.reset(id);
    this.#stateOf = id;
    for (let i = 0; i < count; i++) {
      this.#startRow(id, t[i], columns.length);
      for (let c = 0; c < columns.length; c++) {
        const k = 2 * (stride * (c + 1) + i);
        this.#value(c, words[k + HI] | 0, words[k + LO] | 0);
      }
      this.#endRow(id);
    }
    this.#logCount[id] = logCount;
    this.#logBits[id] = logBits;
  }

  /** Empties `id`'s chunk (after sealing it) and frees its slot. */
  reset(id: number): void {
    if (id === this.#stateOf) this.#stateOf = -1;
    this.#logCount[id] = 0;
    this.#logBits[id] = 0;
    if (this.#count[id] === 0) return;
    // The chain goes onto the free list whole: its last block links to
    // the list's first.
    const bits = this.#bits[id];
    const last = this.lean ? this.#tailOf(id, bits) : this.#tail[id];
    this.#links[last >>> PAGE_SHIFT][last & PAGE_MASK] = this.#freeHead;
    this.#freeHead = this.#head[id];
    this.#freeCount += (((bits + 7) >>> 3) + BLOCK_BYTES - 1) >>> BLOCK_SHIFT;
    this.#head[id] = NONE;
    if (!this.lean) this.#tail[id] = NONE;
    // (A lean tier's one state keeps its entries: the next rebuild sets them.)
    if (this.#wide.size !== 0 && !this.lean) {
      this.#wide.delete(2 * id);
      this.#wide.delete(2 * id + 1);
    }
    this.#count[id] = 0;
    this.#bits[id] = 0;
    this.#open--;
  }

  /** Writes the row's time, after making room for the whole row. */
  #startRow(id: number, t: number, columns: number): void {
    const n = this.#count[id];
    const bits = n === 0 ? 0 : this.#bits[id];
    // The row goes to the scratch buffer, after the stream's last partial byte.
    const scratch = this.#scratch;
    // Only the bytes the previous row used can be non-zero.
    for (let i = this.#used; i > 0;) scratch[--i] = 0;
    if (n === 0) {
      this.#cols[id] = columns;
      const at = this.lean ? 0 : id * this.maxColumns;
      for (let c = 0; c < columns; c++) {
        this.#prev[2 * (at + c)] = 0;
        this.#prev[2 * (at + c) + 1] = 0;
        this.#win[at + c] = NO_WINDOW;
        if (this.#rows) this.#diff32[at + c] = 0;
        else this.#diff[at + c] = 0;
      }
      this.#pos = putFirstTime(scratch, 0, t);
      this.#setLastT(id, t);
      this.#delta[this.lean ? 0 : id] = 0;
      this.#count[id] = 1;
      this.#open++;
      return;
    }
    if (n === 0xffff) _tooManyRows();
    if (columns !== this.#cols[id]) {
      throw new RangeError(
        `Cannot append to an open chunk: it has ${
          this.#cols[id]
        } columns, received ${columns}`,
      );
    }
    this.#pos = bits & 7;
    // The partial last byte, kept apart: reading it from its block would
    // cost a cache miss per sample with many series.
    if (this.#pos !== 0) scratch[0] = this.#lastByte[id];
    const d = t - this.lastT(id);
    const s = this.lean ? 0 : id;
    let pd = this.#delta[s];
    if (pd === WIDE) pd = this.#wide.get(2 * s)!;
    const dod = d - pd;
    // A steady tick (most samples): one 0 bit, no call.
    if (dod === 0) this.#pos++;
    else this.#pos = putDod(scratch, this.#pos, dod);
    this.#setLastT(id, t);
    this.#setDelta(s, d);
    this.#count[id] = n + 1;
  }

  /** Copies the row's bytes from the scratch buffer onto `id`'s chain; returns the stream's bits. */
  #endRow(id: number): number {
    const bits = this.#count[id] === 1 ? 0 : this.#bits[id];
    const from = bits & 7;
    const nbytes = (this.#pos + 7) >>> 3;
    this.#used = nbytes;
    // Bytes the allocated blocks cover so far.
    let covered = (((bits + 7) >>> 3) + BLOCK_BYTES - 1) & ~(BLOCK_BYTES - 1);
    let tail = this.lean ? this.#tailOf(id, bits) : this.#tail[id];
    let b = bits >>> 3;
    const scratch = this.#scratch;
    // The tail block's page and offset, looked up once, not per byte.
    let page = tail === NONE ? scratch : this.#pages[tail >>> PAGE_SHIFT];
    let base = (tail & PAGE_MASK) << BLOCK_SHIFT;
    for (let j = 0; j < nbytes; j++, b++) {
      if (b >= covered) {
        const nb = this.#allocBlock();
        if (tail === NONE) this.#head[id] = nb;
        else this.#links[tail >>> PAGE_SHIFT][tail & PAGE_MASK] = nb;
        tail = nb;
        covered += BLOCK_BYTES;
        page = this.#pages[tail >>> PAGE_SHIFT];
        base = (tail & PAGE_MASK) << BLOCK_SHIFT;
      }
      page[base + (b & (BLOCK_BYTES - 1))] = scratch[j];
    }
    if (!this.lean) this.#tail[id] = tail;
    this.#lastByte[id] = scratch[nbytes - 1];
    const end = bits + this.#pos - from;
    if (end > 0xffff && this.#bits instanceof Uint16Array) this.#widenBits();
    return this.#bits[id] = end;
  }

  /**
   * Makes #bits and #logBits 32-bit, values kept: a stream passed 65,535
   * bits (chunks of many rows); returns the new #bits.
   */
  #widenBits(): Int32Array {
    const bits = Int32Array.from(this.#bits);
    this.#bits = bits;
    this.#logBits = Int32Array.from(this.#logBits);
    return bits;
  }

  /** Sets time delta `s` (a series, or 0 for a lean tier's one state). */
  #setDelta(s: number, d: number): void {
    if ((d | 0) === d && d !== WIDE) this.#delta[s] = d;
    else this.#setWide(this.#delta, s, 2 * s, d);
  }

  /**
   * Keeps `v`, which does not fit 32 bits (or is WIDE itself), in #wide
   * under `key`, and WIDE at `a[i]`.
   */
  #setWide(a: Int32Array, i: number, key: number, v: number): void {
    a[i] = WIDE;
    this.#wide.set(key, v);
  }

  /** Sets `id`'s last time (see #lastT). */
  #setLastT(id: number, t: number): void {
    if (this.#narrowT) {
      const q = (t - this.#tBase) / this.#grid;
      if (q === (q | 0) && !Object.is(t, -0)) {
        this.#lastT[id] = q;
        return;
      }
      if (this.#grid === 1 && this.#rebase(t)) {
        this.#lastT[id] = t - this.#tBase;
        return;
      }
      this.#wideT();
    }
    this.#lastT[id] = t;
  }

  /**
   * Makes `t` the time #lastT's ms count from, when the times of the
   * open chunks still fit 32 bits from it (those of empty ones are not
   * kept); false when they do not, or `t` is no integer.
   */
  #rebase(t: number): boolean {
    if (!Number.isSafeInteger(t) || Object.is(t, -0)) return false;
    const lastT = this.#lastT;
    const count = this.#count;
    const shift = this.#tBase - t;
    for (let i = 0; i < this.#n; i++) {
      const v = lastT[i] + shift;
      if (count[i] !== 0 && (v | 0) !== v) return false;
    }
    for (let i = 0; i < this.#n; i++) {
      lastT[i] = count[i] === 0 ? 0 : lastT[i] + shift;
    }
    this.#tBase = t;
    return true;
  }

  /** Makes #lastT hold ms in a Float64Array, values kept. */
  #wideT(): void {
    const ms = new Float64Array(this.#lastT.length);
    for (let i = 0; i < ms.length; i++) ms[i] = this.lastT(i);
    this.#lastT = ms;
    this.#narrowT = false;
    this.#grid = 1;
    this.#tBase = 0;
  }

  /**
   * The last block of `id`'s chain when its stream holds `bits` bits
   * (NONE for none): a lean tier keeps no `#tail` (4 bytes a series) and
   * walks its chunks of a few rows, appended to rarely (a decode of the
   * chunk comes with each row anyway), from the head. A chain has a
   * block for each 32 bytes of the stream begun (see #endRow); the link
   * of its last block is left as it was, not NONE.
   */
  #tailOf(id: number, bits: number): number {
    let n = (((bits + 7) >>> 3) + BLOCK_BYTES - 1) >>> BLOCK_SHIFT;
    if (n === 0) return NONE;
    let b = this.#head[id];
    while (--n > 0) b = this.#links[b >>> PAGE_SHIFT][b & PAGE_MASK];
    return b;
  }

  #allocBlock(): number {
    const f = this.#freeHead;
    if (f !== NONE) {
      this.#freeHead = this.#links[f >>> PAGE_SHIFT][f & PAGE_MASK];
      this.#freeCount--;
      return f;
    }
    const b = this.#blocks++;
    if ((b >>> PAGE_SHIFT) === this.#pages.length) {
      const buffer = new ArrayBuffer(PAGE_BYTES + (4 << PAGE_SHIFT));
      this.#pages.push(new Uint8Array(buffer, 0, PAGE_BYTES));
      this.#links.push(new Int32Array(buffer, PAGE_BYTES, 1 << PAGE_SHIFT));
    }
    return b;
  }

  /**
   * Writes the value of bits `hi:lo` of column state `k` (series *
   * maxColumns + column) as the codec does (bits only: a double argument
   * is boxed when the call is not inlined).
   */
  #value(k: number, hi: number, lo: number): void {
    const prev = this.#prev;
    const ph = prev[2 * k];
    const pl = prev[2 * k + 1];
    prev[2 * k] = hi;
    prev[2 * k + 1] = lo;
    const rows = this.#rows;
    if (hi === ph && lo === pl) {
      // The same bits (most samples): one 0 bit, no call; the difference
      // is 0 as putValue would leave it.
      if (rows) this.#diff32[k] = 0;
      else this.#diff[k] = 0;
      this.#pos++;
      return;
    }
    let pd: number;
    if (rows) {
      const x = this.#diff32[k];
      pd = x === UNKNOWN ? NaN : x;
    } else {
      pd = this.#diff[k];
      if (pd === WIDE) pd = this.#wide.get(2 * k + 1)!;
    }
    this.#pos = putValue(
      this.#scratch,
      this.#pos,
      hi,
      lo,
      ph,
      pl,
      this.#win[k],
      pd,
    );
    this.#win[k] = valueWindow;
    const d = valueDiff;
    if (!rows) {
      if ((d | 0) === d && d !== WIDE) this.#diff[k] = d;
      else this.#setWide(this.#diff, k, 2 * k + 1, d);
    } else this.#diff32[k] = d >= -0x7fffffff && d <= 0x7fffffff ? d : UNKNOWN;
  }
}

/** The refusal of a 65,536th row in one open chunk (its count is 16 bits). */
function _tooManyRows(): never {
  throw new RangeError(
    `Cannot append to an open chunk: it holds 65,535 rows, the most a chunk has (seal it before its stream passes ${MAX_STREAM_BITS} bits)`,
  );
}
