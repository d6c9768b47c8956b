/**
 * The in-memory index of a tier's open segment file (`segments.ts`).
 *
 * @module
 */
import type { FooterEntries } from "./segment_footer.ts";

/** A column of {@linkcode SegmentIndex}: narrow until a value needs more. */
type _Column = Uint16Array | Uint32Array | Int32Array | Float64Array;
type _Type = new (n: number) => _Column;

/** `a` with room for `size` entries, of `type` when given (else its own). */
function _resize(a: _Column, size: number, type?: _Type): _Column {
  const b = new (type ?? (a.constructor as _Type))(size);
  b.set(a.subarray(0, Math.min(a.length, size)) as ArrayLike<number>);
  return b;
}

/** Whether `v` fits column `a` (its integer type, or any number for Float64Array). */
function _fits(a: _Column, v: number): boolean {
  if (a instanceof Float64Array) return true;
  if (a instanceof Uint16Array) return v >= 0 && v <= 0xffff;
  if (a instanceof Int32Array) return v >= -0x80000000 && v <= 0x7fffffff;
  return v >= 0 && v <= 0xffffffff;
}

/**
 * Where the open segment's chunk records are, kept in memory so a read
 * picks the chunks it wants without parsing every record, and reads the
 * file only when it needs bytes from it: entry k is series `id(k)`'s
 * chunk spanning `minT(k)..maxT(k)`, its codec bytes at
 * `[from(k), to(k))` of the file. When the segment closes, its entries
 * become its footer (`segment_footer.ts`) and leave memory.
 *
 * 15 bytes an entry at 57,000 series (it was 28, and 40 before; every
 * segment had one in memory until footers, about 1.7 million raw chunks
 * at the default 256 MiB budget and 57,000 series). The columns: the id (16-bit while ids are below
 * 65,536), where the chunk's bytes start (32-bit), the bytes of its
 * record before them (8-bit: a chunk's bytes end its record and records
 * lie back to back, so a chunk ends where the next record starts), its
 * first time less the segment's first chunk's (32-bit signed) and its
 * last time less its first (32-bit). A column turns wider, entries kept,
 * when a value does not fit; {@linkcode trim} drops the room for growth
 * once the segment is full.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SegmentIndex } from "./segment_index.ts";
 *
 * const index = new SegmentIndex();
 * for (let k = 0; k < 40; k++) index.add(k, 1.7e12 + k * 1000, 1.7e12 + k * 1000 + 999, k * 50 + 20, 20);
 * index.end = 40 * 50;
 * assert.equal(index.n, 40);
 * assert.equal(index.to(39), 2000);
 * assert.equal(index.to(0), 50);
 * assert.equal(index.maxT(3), 1.7e12 + 3999);
 * index.add(2 ** 33, 1, 2, 2 ** 32 + 7, 30);
 * assert.equal(index.id(40), 2 ** 33);
 * assert.equal(index.minT(40), 1);
 * assert.equal(index.from(40), 2 ** 32 + 7);
 * ```
 */
export class SegmentIndex implements FooterEntries {
  /** Entries. */
  n = 0;
  /** Where the last entry's chunk bytes end (the segment's end). */
  end = 0;
  /** The first entry's first time: entries keep theirs less it. */
  base = NaN;
  #id: _Column = new Uint16Array(16);
  #at: _Column = new Uint32Array(16);
  #head = new Uint8Array(16);
  #min: _Column = new Int32Array(16);
  #span: _Column = new Uint32Array(16);

  /**
   * Adds a chunk record's entry: series `id`, times `minT..maxT`, its
   * bytes from `from` to the end of its record, which has `head` bytes
   * before them (set {@linkcode end} after the segment's last record).
   */
  add(
    id: number,
    minT: number,
    maxT: number,
    from: number,
    head: number,
  ): void {
    const k = this.n;
    if (k === 0) this.base = minT;
    if (k === this.#head.length) this.#resize(k * 2);
    const size = this.#head.length;
    const rel = minT - this.base;
    const span = maxT - minT;
    if (!_fits(this.#id, id)) {
      this.#id = _resize(
        this.#id,
        size,
        id >= 0 && id <= 0xffffffff ? Uint32Array : Float64Array,
      );
    }
    if (!_fits(this.#at, from)) {
      this.#at = _resize(this.#at, size, Float64Array);
    }
    if (!_fits(this.#min, rel)) {
      this.#min = _resize(this.#min, size, Float64Array);
    }
    if (!_fits(this.#span, span)) {
      this.#span = _resize(this.#span, size, Float64Array);
    }
    if (!(head >= 0 && head <= 255)) {
      throw new RangeError(
        `Cannot index a chunk record: its header must be 0..255 bytes, received ${head}`,
      );
    }
    this.#id[k] = id;
    this.#at[k] = from;
    this.#head[k] = head;
    this.#min[k] = rel;
    this.#span[k] = span;
    this.n = k + 1;
  }

  /** Entry k's series id. */
  id(k: number): number {
    return this.#id[k];
  }

  /** Entry k's first time. */
  minT(k: number): number {
    return this.base + this.#min[k];
  }

  /** Entry k's last time. */
  maxT(k: number): number {
    return this.base + this.#min[k] + this.#span[k];
  }

  /** Where entry k's chunk bytes start in the file. */
  from(k: number): number {
    return this.#at[k];
  }

  /** Where entry k's chunk bytes end: the next record's start, or {@linkcode end}. */
  to(k: number): number {
    return k + 1 < this.n ? this.#at[k + 1] - this.#head[k + 1] : this.end;
  }

  /**
   * Calls `visit(k, id, minT, maxT)` for each entry whose span overlaps
   * `[start, end]`, in order: the columns read in one loop.
   */
  scan(
    start: number,
    end: number,
    visit: (k: number, id: number, minT: number, maxT: number) => void,
  ): void {
    const ids = this.#id;
    const min = this.#min;
    const span = this.#span;
    const base = this.base;
    // Relative bounds: a chunk starting after `end` is skipped without
    // the addition (most entries of a segment that a range cuts).
    const relEnd = end - base;
    for (let k = 0; k < this.n; k++) {
      const m = min[k];
      if (m > relEnd) continue;
      const maxT = base + m + span[k];
      if (maxT < start) continue;
      visit(k, ids[k], base + m, maxT);
    }
  }

  /** Drops the room for growth (the segment takes no more chunks). */
  trim(): void {
    if (this.#head.length > this.n) this.#resize(Math.max(this.n, 1));
  }

  /** Bytes it holds in memory. */
  get memoryBytes(): number {
    return this.#id.byteLength + this.#at.byteLength + this.#head.byteLength +
      this.#min.byteLength + this.#span.byteLength;
  }

  #resize(size: number): void {
    this.#id = _resize(this.#id, size);
    this.#at = _resize(this.#at, size);
    const head = new Uint8Array(size);
    head.set(this.#head.subarray(0, Math.min(this.#head.length, size)));
    this.#head = head;
    this.#min = _resize(this.#min, size);
    this.#span = _resize(this.#span, size);
  }
}
