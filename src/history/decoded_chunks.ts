/**
 * A byte-bounded cache of decoded raw chunks, so a query that reads the
 * same sealed chunks as the one before (a dashboard refreshing, a range
 * sliding forward) copies their samples instead of decoding them again:
 * decoding is most of a raw query (about 10 ns a sample; copying a cached
 * chunk is about 1).
 *
 * A sealed chunk never changes, so a chunk is known by its series, its
 * first and last time and its byte length (a chunk read from disk and the
 * same chunk in memory are one entry). Open chunks, which grow, are never
 * cached. Times on a regular grid (what the sampler writes) are kept as a
 * first time and a step, so a chunk costs about 8 bytes a sample.
 *
 * Chunks are kept from the second query that decodes their series on
 * (see `admit`): the first query after a start, or a one-off, pays no
 * copying.
 *
 * Samples live in slabs (one `Float64Array` of 512 KiB each, filled in
 * turn), not an array per chunk: a query that decodes 30,000 chunks would
 * otherwise allocate 30,000 buffers (most of what caching added to the
 * first query's time). Eviction is by slab, oldest first, and never of a
 * slab holding a chunk the running query used (its `epoch`): a query that
 * reads more than the cache holds keeps what it found and caches what
 * still fits, instead of each new chunk pushing out one it needs next
 * time (a scan flushing an LRU).
 *
 * @module
 */

/** One decoded chunk: where its samples are in a slab. */
export class DecodedChunk {
  constructor(
    readonly id: number,
    readonly minT: number,
    readonly maxT: number,
    readonly byteLength: number,
    /** Its samples. */
    readonly n: number,
    /** Its slab. */
    readonly slab: Slab,
    /** Where its values start in the slab (its times follow, unless regular). */
    readonly at: number,
    /** Whether its times are `t0 + i * step` (else kept after its values). */
    readonly regular: boolean,
    readonly t0: number,
    readonly step: number,
    /** Whether a value is a NaN. */
    readonly nan: boolean,
    /** Whether no value is below the one before. */
    readonly rises: boolean,
  ) {}
  /**
   * Views of its values and times in the slab, made at its first copy
   * (not when it is kept: a view costs about half a microsecond before
   * the JIT warms, 30,000 of them a first query).
   */
  values: Float64Array | null = null;
  times: Float64Array | null = null;
}

/** A slab of samples and the chunks in it. */
class Slab {
  /** How far it is filled. */
  used = 0;
  /** The last query that used a chunk in it. */
  epoch = 0;
  readonly chunks: DecodedChunk[] = [];
  constructor(readonly data: Float64Array) {}
}

/** Numbers a slab holds: 512 KiB. */
const SLAB = 65_536;

/**
 * Decoded raw chunks by series and span, at most `maxBytes` of samples
 * (in slabs of 512 KiB; plus about 10 % for the bookkeeping).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecodedChunks } from "./decoded_chunks.ts";
 *
 * const cache = new DecodedChunks(1 << 20);
 * // Times then values, in one buffer (as a reader decodes them).
 * const buf = new Float64Array([1000, 2000, 3000, 1, 2, 4]);
 * cache.beginQuery();
 * cache.put(7, 1000, 3000, 20, buf, 0, 3, 3, false, true);
 * const chunk = cache.find(7, 1000, 3000, 20)!;
 * const outT = new Float64Array(3);
 * const outV = new Float64Array(3);
 * assert.equal(cache.copy(chunk, outT, outV, 0), 3);
 * assert.deepEqual([...outT], [1000, 2000, 3000]);
 * assert.deepEqual([...outV], [1, 2, 4]);
 * assert.equal(cache.find(7, 1000, 3000, 21), undefined); // not that chunk
 * ```
 */
export class DecodedChunks {
  /** The bound (bytes of slabs); below one slab's 512 KiB, nothing is cached. */
  readonly maxBytes: number;
  /** Lookups that found their chunk, and that did not. */
  hits = 0;
  misses = 0;
  /** Per series id: its chunks, by first time. */
  #bySeries: (DecodedChunk[] | undefined)[] = [];
  /** Per series id: where in its list the last lookup found a chunk. */
  #hint = new Int32Array(0);
  /** The slabs, oldest first; the last is being filled. */
  #slabs: Slab[] = [];
  #epoch = 0;
  /** Per series id: the query that first decoded it (0: none; see admit()). */
  #seen = new Int32Array(0);

  /** @param maxBytes the most bytes of decoded samples to hold, >= 0 */
  constructor(maxBytes: number) {
    if (!(maxBytes >= 0) || !Number.isFinite(maxBytes)) {
      throw new RangeError(
        `Cannot create decoded chunk cache: maxBytes must be a non-negative number, received ${maxBytes}`,
      );
    }
    this.maxBytes = maxBytes;
  }

  /** Bytes held (slabs allocated). */
  get bytes(): number {
    return this.#slabs.length * SLAB * 8;
  }

  /**
   * Whether to keep the chunks of series `id` decoded now: yes when an
   * earlier query decoded the series too (it is read again: a
   * dashboard's refresh), no the first time, so a one-off query, and the
   * first after a start, pays nothing for the cache (one number a series
   * to remember it).
   */
  admit(id: number): boolean {
    if (this.maxBytes < SLAB * 8) return false;
    let seen = this.#seen;
    if (id >= seen.length) {
      const grown = new Int32Array(Math.max(id + 1, 2 * seen.length, 64));
      grown.set(seen);
      this.#seen = seen = grown;
    }
    const first = seen[id];
    if (first === 0) {
      seen[id] = this.#epoch;
      return false;
    }
    return first !== this.#epoch;
  }

  /** Starts a query: what it uses from now on is not evicted until the next one starts. */
  beginQuery(): void {
    this.#epoch++;
  }

  /**
   * The chunk of series `id` spanning `minT..maxT` in `byteLength` bytes,
   * marked used by the running query (so it stays until the next one), or
   * undefined when it is not held.
   */
  find(
    id: number,
    minT: number,
    maxT: number,
    byteLength: number,
  ): DecodedChunk | undefined {
    const e = this.#lookup(id, minT, maxT, byteLength);
    if (e === undefined) this.misses++;
    else this.hits++;
    return e;
  }

  /**
   * Whether the chunk is held, marking it used by the running query (so
   * its bytes need not be read: {@linkcode find} will find it).
   */
  holds(id: number, minT: number, maxT: number, byteLength: number): boolean {
    return this.#lookup(id, minT, maxT, byteLength) !== undefined;
  }

  /** Copies `e`'s samples into `t` and `v` from `at` (bit for bit); returns their count. */
  copy(e: DecodedChunk, t: Float64Array, v: Float64Array, at: number): number {
    const n = e.n;
    const data = e.slab.data;
    v.set(e.values ??= data.subarray(e.at, e.at + n), at);
    if (!e.regular) {
      t.set(e.times ??= data.subarray(e.at + n, e.at + 2 * n), at);
    } else {
      const t0 = e.t0;
      const step = e.step;
      for (let i = 0; i < n; i++) t[at + i] = t0 + i * step;
    }
    return n;
  }

  /**
   * Keeps the chunk's `n` samples, times at `buf[tAt..]` and values at
   * `buf[vAt..]` (copied bit for bit), when they fit in the bound after
   * evicting slabs the running query has not used. `regular`: the caller
   * found the times to be `first + i * step` (checked here otherwise).
   */
  put(
    id: number,
    minT: number,
    maxT: number,
    byteLength: number,
    buf: Float64Array,
    tAt: number,
    vAt: number,
    n: number,
    nan: boolean,
    rises: boolean,
    regular?: boolean,
  ): void {
    if (n === 0) return;
    // A regular grid (the exact times come back as first + i * step)?
    const t0 = buf[tAt];
    const step = n > 1 ? buf[tAt + 1] - t0 : 0;
    if (regular === undefined) {
      regular = true;
      for (let i = 2; i < n; i++) {
        if (buf[tAt + i] !== t0 + i * step) {
          regular = false;
          break;
        }
      }
    }
    const size = regular ? n : 2 * n;
    if (size > SLAB) return;
    const slab = this.#room(size);
    if (slab === undefined) return;
    let list = this.#bySeries[id];
    if (list === undefined) {
      while (this.#bySeries.length < id) this.#bySeries.push(undefined);
      this.#bySeries[id] = list = [];
    }
    const pos = lowerBound(list, minT);
    // A chunk of the same start held already (a different one: `find`
    // missed it) is replaced.
    if (list[pos] !== undefined && list[pos].minT === minT) list.splice(pos, 1);
    const off = slab.used;
    // set() copies bit for bit; an element loop would box each 32-bit
    // half above 2^30 as a heap number until the JIT warms (ten times
    // slower on a first query).
    slab.data.set(buf.subarray(vAt, vAt + n), off);
    if (!regular) slab.data.set(buf.subarray(tAt, tAt + n), off + n);
    slab.used = off + size;
    slab.epoch = this.#epoch;
    const e = new DecodedChunk(
      id,
      minT,
      maxT,
      byteLength,
      n,
      slab,
      off,
      regular,
      t0,
      step,
      nan,
      rises,
    );
    slab.chunks.push(e);
    list.splice(pos, 0, e);
  }

  /** Empties the cache. */
  clear(): void {
    this.#bySeries = [];
    this.#slabs = [];
  }

  #lookup(
    id: number,
    minT: number,
    maxT: number,
    byteLength: number,
  ): DecodedChunk | undefined {
    const list = this.#bySeries[id];
    if (list === undefined) return undefined;
    const e = list[this.#at(id, list, minT)];
    if (
      e === undefined || e.minT !== minT || e.maxT !== maxT ||
      e.byteLength !== byteLength
    ) return undefined;
    e.slab.epoch = this.#epoch;
    return e;
  }

  /**
   * Where `minT` is (or would go) in series `id`'s `list`: a series' chunks
   * are looked up in time order, so first next to the last one found
   * (a search touches entries all over the heap: a cache miss each).
   */
  #at(id: number, list: DecodedChunk[], minT: number): number {
    const hint = this.#hint;
    if (id < hint.length) {
      const h = hint[id];
      for (let k = h; k < h + 2 && k < list.length; k++) {
        if (list[k].minT === minT) {
          hint[id] = k;
          return k;
        }
      }
    } else {
      const grown = new Int32Array(Math.max(id + 1, 2 * hint.length, 64));
      grown.set(hint);
      this.#hint = grown;
    }
    const k = lowerBound(list, minT);
    this.#hint[id] = k;
    return k;
  }

  /**
   * A slab with room for `size` numbers: the one being filled, a new one
   * within the bound, or the oldest one emptied (when the running query
   * used none of its chunks); undefined when there is none.
   */
  #room(size: number): Slab | undefined {
    const slabs = this.#slabs;
    const last = slabs[slabs.length - 1];
    if (last !== undefined && last.used + size <= SLAB) return last;
    if ((slabs.length + 1) * SLAB * 8 <= this.maxBytes) {
      const slab = new Slab(new Float64Array(SLAB));
      slabs.push(slab);
      return slab;
    }
    const oldest = slabs[0];
    if (oldest === undefined || oldest.epoch === this.#epoch) return undefined;
    // Its chunks go; its numbers are reused for the newest.
    for (const e of oldest.chunks) {
      const list = this.#bySeries[e.id]!;
      const k = lowerBound(list, e.minT);
      if (list[k] === e) list.splice(k, 1);
    }
    slabs.shift();
    const slab = new Slab(oldest.data);
    slabs.push(slab);
    return slab;
  }
}

/** The first index of `list` (by first time) with `minT >= x`. */
function lowerBound(list: DecodedChunk[], x: number): number {
  let a = 0;
  let b = list.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (list[mid].minT < x) a = mid + 1;
    else b = mid;
  }
  return a;
}
