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
 * first time and a step, so an entry costs about 8 bytes a sample.
 *
 * Eviction: oldest put first, skipping (and requeueing) an entry the
 * running query used (its `epoch`, a CLOCK's second chance): a query that
 * reads more than the cache holds keeps what it found and caches what
 * still fits, instead of each new entry pushing out one it needs next
 * time (a scan flushing an LRU).
 *
 * @module
 */

/** One decoded chunk. */
export class DecodedChunk {
  constructor(
    readonly id: number,
    readonly minT: number,
    readonly maxT: number,
    readonly byteLength: number,
    /** The times, or null when they are `t0 + i * step`. */
    readonly t: Float64Array | null,
    readonly t0: number,
    readonly step: number,
    /** The values, bit for bit. */
    readonly v: Float64Array,
    /** Whether a value is a NaN. */
    readonly nan: boolean,
    /** Whether no value is below the one before. */
    readonly rises: boolean,
    /** What it costs (bytes). */
    readonly bytes: number,
    /** The query that used it last. */
    public epoch: number,
    /** Whether it is still held. */
    public live = true,
  ) {}
}

/** Bookkeeping bytes of an entry besides its arrays (objects, slots). */
const ENTRY_OVERHEAD = 160;

/**
 * Decoded raw chunks by series and span, at most `maxBytes` of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecodedChunks } from "./decoded_chunks.ts";
 *
 * const cache = new DecodedChunks(1 << 20);
 * const t = new Float64Array([1000, 2000, 3000]);
 * const v = new Float64Array([1, 2, 4]);
 * cache.beginQuery();
 * cache.put(7, 1000, 3000, 20, t, v, 0, 3, false, true);
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
  /** The bound (bytes); 0 caches nothing. */
  readonly maxBytes: number;
  /** Bytes held now. */
  bytes = 0;
  /** Lookups that found their chunk, and that did not. */
  hits = 0;
  misses = 0;
  /** Per series id: its chunks, by first time. */
  #bySeries: (DecodedChunk[] | undefined)[] = [];
  /** Every chunk held, oldest put first (a CLOCK hand at `#head`). */
  #queue: DecodedChunk[] = [];
  /** Per series id: where in its list the last lookup found a chunk. */
  #hint = new Int32Array(0);
  #head = 0;
  #epoch = 0;

  /** @param maxBytes the most bytes of decoded samples (and bookkeeping) to hold, >= 0 */
  constructor(maxBytes: number) {
    if (!(maxBytes >= 0) || !Number.isFinite(maxBytes)) {
      throw new RangeError(
        `Cannot create decoded chunk cache: maxBytes must be a non-negative number, received ${maxBytes}`,
      );
    }
    this.maxBytes = maxBytes;
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
    const list = this.#bySeries[id];
    if (list === undefined) {
      this.misses++;
      return undefined;
    }
    const e = list[this.#at(id, list, minT)];
    if (
      e === undefined || e.minT !== minT || e.maxT !== maxT ||
      e.byteLength !== byteLength
    ) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    e.epoch = this.#epoch;
    return e;
  }

  /**
   * Whether the chunk is held, marking it used by the running query (so
   * its bytes need not be read: {@linkcode find} will find it).
   */
  holds(id: number, minT: number, maxT: number, byteLength: number): boolean {
    const list = this.#bySeries[id];
    if (list === undefined) return false;
    const e = list[this.#at(id, list, minT)];
    if (
      e === undefined || e.minT !== minT || e.maxT !== maxT ||
      e.byteLength !== byteLength
    ) return false;
    e.epoch = this.#epoch;
    return true;
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

  /** Copies `e`'s samples into `t` and `v` from `at` (bit for bit); returns their count. */
  copy(e: DecodedChunk, t: Float64Array, v: Float64Array, at: number): number {
    const n = e.v.length;
    v.set(e.v, at);
    if (e.t !== null) t.set(e.t, at);
    else {
      const t0 = e.t0;
      const step = e.step;
      for (let i = 0; i < n; i++) t[at + i] = t0 + i * step;
    }
    return n;
  }

  /**
   * Keeps the chunk's `n` samples at `t[at..]`, `v[at..]` (copied), when
   * they fit in the bound after evicting chunks the running query has
   * not used.
   */
  put(
    id: number,
    minT: number,
    maxT: number,
    byteLength: number,
    t: Float64Array,
    v: Float64Array,
    at: number,
    n: number,
    nan: boolean,
    rises: boolean,
  ): void {
    if (n === 0 || this.maxBytes === 0) return;
    // A regular grid (the exact times come back as first + i * step)?
    const t0 = t[at];
    const step = n > 1 ? t[at + 1] - t0 : 0;
    let regular = true;
    for (let i = 2; i < n; i++) {
      if (t[at + i] !== t0 + i * step) {
        regular = false;
        break;
      }
    }
    const bytes = ENTRY_OVERHEAD + 8 * n + (regular ? 0 : 8 * n);
    if (bytes > this.maxBytes) return;
    let list = this.#bySeries[id];
    if (list === undefined) {
      while (this.#bySeries.length < id) this.#bySeries.push(undefined);
      this.#bySeries[id] = list = [];
    }
    const pos = lowerBound(list, minT);
    const old = list[pos];
    if (old !== undefined && old.minT === minT) this.#drop(old, pos);
    if (this.bytes + bytes > this.maxBytes && !this.#evict(bytes)) return;
    const e = new DecodedChunk(
      id,
      minT,
      maxT,
      byteLength,
      regular ? null : t.slice(at, at + n),
      t0,
      step,
      v.slice(at, at + n),
      nan,
      rises,
      bytes,
      this.#epoch,
    );
    list.splice(lowerBound(list, minT), 0, e);
    this.#queue.push(e);
    this.bytes += bytes;
  }

  /** Empties the cache. */
  clear(): void {
    this.#bySeries = [];
    this.#queue = [];
    this.#head = 0;
    this.bytes = 0;
  }

  /** Removes `e`, at `pos` of its series' list. */
  #drop(e: DecodedChunk, pos: number): void {
    this.#bySeries[e.id]!.splice(pos, 1);
    e.live = false;
    this.bytes -= e.bytes;
  }

  /**
   * Evicts chunks earlier queries used, oldest put first (one the running
   * query used goes to the back of the queue), until `need` more bytes
   * fit; false when they cannot.
   */
  #evict(need: number): boolean {
    const q = this.#queue;
    let passed = 0;
    while (this.bytes + need > this.maxBytes && this.#head < q.length) {
      const e = q[this.#head++];
      if (!e.live) continue;
      if (e.epoch === this.#epoch) {
        q.push(e);
        // Everything left is the running query's.
        if (++passed > q.length - this.#head) break;
        continue;
      }
      this.#drop(e, lowerBound(this.#bySeries[e.id]!, e.minT));
    }
    if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
    return this.bytes + need <= this.maxBytes;
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
