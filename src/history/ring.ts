/**
 * In-memory rings of sealed (compressed) chunks: per series, at most
 * `capacity` chunks, the oldest dropped when a new one comes, so memory
 * follows the number of series, not the time running.
 *
 * A series' chunks sit back to back in one byte buffer, with their spans
 * (first and last time, rows, where they start and end) in one
 * `Float64Array`: two objects a series instead of two a chunk. A step
 * read of 30 days touches each of a series' 720 minute-tier chunks; with
 * an object and a byte array per chunk, scattered over a heap of a
 * gigabyte, those reads were memory waits (measured at 1,000 series:
 * most of the query), and the collector had millions of objects to
 * trace.
 *
 * @module
 */

/** A sealed chunk: the codec's bytes and what a reader needs to skip it. */
export interface StoredChunk {
  /** Its first timestamp (ms). */
  readonly minT: number;
  /** Its last timestamp (ms). */
  readonly maxT: number;
  /** Rows in it. */
  readonly count: number;
  /** The codec's bytes. */
  readonly bytes: Uint8Array;
}

/**
 * Numbers kept per chunk in a series' span table: minT, maxT, count, end
 * (the start is the previous chunk's end), then the chunk's edge: the
 * time of its row before the last (-Infinity for one row; NaN: no edge
 * kept) and its last row's columns ({@linkcode EDGE} numbers from
 * `SPAN_EDGE`).
 */
export const SPAN = 11;
/** Where a chunk's edge starts in its span. */
export const SPAN_EDGE = 4;
/** Numbers of an edge: the time before the last row, and 6 columns (NaN where the chunk has fewer). */
export const EDGE = 7;

/** One series' ring: its chunks' bytes and spans. */
class SeriesRing {
  buf: Uint8Array = new Uint8Array(0);
  /** Spans, SPAN numbers a chunk; chunk k's bytes are [end(k - 1), end(k)). */
  spans: Float64Array = new Float64Array(0);
  /** The spans' bits (edges keep NaN payloads). */
  spansU32: Uint32Array = new Uint32Array(0);
  /** The first live chunk (those before were dropped). */
  first = 0;
  /** Chunks in the table, live or dropped. */
  n = 0;
  /** Where the first live chunk's bytes start. */
  startOf(k: number): number {
    return k === 0 ? 0 : this.spans[(k - 1) * SPAN + 3];
  }
}

/**
 * What a reader sees of one series' ring: its chunks `first..n-1`, chunk
 * k spanning `spans[k*SPAN]` (first time) to `spans[k*SPAN+1]` (last
 * time) with `spans[k*SPAN+2]` rows, its bytes `buf[start(k),
 * spans[k*SPAN+3])` where start(k) is the previous chunk's end (0 for the
 * first in the table), its edge from `spans[k*SPAN+SPAN_EDGE]` (see
 * {@linkcode SPAN}). Valid until the ring next changes.
 */
export interface RingView {
  readonly buf: Uint8Array;
  readonly spans: Float64Array;
  readonly spansU32: Uint32Array;
  readonly first: number;
  readonly n: number;
}

/**
 * Per-series rings of sealed chunks, oldest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkRing } from "./ring.ts";
 *
 * const ring = new ChunkRing(2);
 * const chunk = (t: number) => ({ minT: t, maxT: t + 9, count: 10, bytes: new Uint8Array(4).fill(t) });
 * ring.push(7, chunk(0));
 * ring.push(7, chunk(10));
 * assert.equal(ring.push(7, chunk(20))?.minT, 0);
 * assert.deepEqual(ring.chunks(7).map((c) => c.minT), [10, 20]);
 * assert.deepEqual([...ring.chunks(7)[1].bytes], [20, 20, 20, 20]);
 * assert.equal(ring.bytes, 8);
 * assert.ok(ring.allocatedBytes >= 8);
 * ```
 */
export class ChunkRing {
  /** Chunks kept per series. */
  readonly capacity: number;
  /** Bytes of the chunks held. */
  bytes = 0;
  #allocated = 0;
  #rings: (SeriesRing | undefined)[] = [];

  /**
   * Bytes the rings take in memory: their buffers (including the room
   * kept for growth and what dropped chunks left) and span tables. This,
   * not {@linkcode bytes}, is what the tier's memory figure reports.
   */
  get allocatedBytes(): number {
    return this.#allocated;
  }

  /** @param capacity chunks kept per series, >= 0 */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(
        `Cannot create chunk ring: capacity must be a non-negative integer, received ${capacity}`,
      );
    }
    this.capacity = capacity;
  }

  /**
   * Adds a sealed chunk of `id` (its bytes are copied), with its edge
   * (EDGE numbers, copied bit for bit; see {@linkcode SPAN}) when given;
   * returns the chunk it pushed out, if any.
   */
  push(
    id: number,
    chunk: StoredChunk,
    edge?: Float64Array,
  ): StoredChunk | undefined {
    if (this.capacity === 0) return chunk;
    const ring = this.#add(
      id,
      chunk.minT,
      chunk.maxT,
      chunk.count,
      chunk.bytes,
      0,
      chunk.bytes.length,
      edge,
    );
    if (ring.n - ring.first <= this.capacity) return undefined;
    const out = this.#chunk(ring, ring.first, true);
    ring.first++;
    this.bytes -= out.bytes.length;
    return out;
  }

  /**
   * {@linkcode push} of a chunk given by its fields and bytes
   * `buf[from, to)`, with nothing made for the chunk it pushes out (a
   * tier seals thousands a minute).
   */
  add(
    id: number,
    minT: number,
    maxT: number,
    count: number,
    buf: Uint8Array,
    from: number,
    to: number,
    edge?: Float64Array,
  ): void {
    if (this.capacity === 0) return;
    const ring = this.#add(id, minT, maxT, count, buf, from, to, edge);
    if (ring.n - ring.first <= this.capacity) return;
    const k = ring.first++;
    this.bytes -= ring.spans[k * SPAN + 3] - ring.startOf(k);
  }

  /** Adds a chunk to `id`'s ring, past its capacity; returns the ring. */
  #add(
    id: number,
    minT: number,
    maxT: number,
    count: number,
    buf: Uint8Array,
    from: number,
    to: number,
    edge: Float64Array | undefined,
  ): SeriesRing {
    let ring = this.#rings[id];
    if (!ring) {
      while (this.#rings.length < id) this.#rings.push(undefined);
      this.#rings[id] = ring = new SeriesRing();
    }
    const len = to - from;
    this.#makeRoom(ring, len);
    const start = ring.startOf(ring.n);
    if (len <= 256) {
      // No view made for a small chunk (most of them).
      const into = ring.buf;
      for (let i = 0; i < len; i++) into[start + i] = buf[from + i];
    } else ring.buf.set(buf.subarray(from, to), start);
    const s = ring.n * SPAN;
    ring.spans[s] = minT;
    ring.spans[s + 1] = maxT;
    ring.spans[s + 2] = count;
    ring.spans[s + 3] = start + len;
    if (edge) {
      ring.spans.set(
        edge.length === EDGE ? edge : edge.subarray(0, EDGE),
        s + SPAN_EDGE,
      );
    } else ring.spans[s + SPAN_EDGE] = NaN;
    ring.n++;
    this.bytes += len;
    return ring;
  }

  /** The chunks of `id`, oldest first (views of the ring's bytes, valid until it changes). */
  chunks(id: number): readonly StoredChunk[] {
    const ring = this.#rings[id];
    if (!ring) return [];
    const out: StoredChunk[] = [];
    for (let k = ring.first; k < ring.n; k++) {
      out.push(this.#chunk(ring, k, false));
    }
    return out;
  }

  /** The chunks of `id` as one buffer and a span table (see {@linkcode RingView}), or undefined. */
  view(id: number): RingView | undefined {
    const ring = this.#rings[id];
    return ring && ring.n > ring.first ? ring : undefined;
  }

  /** Drops every chunk whose last point is before `cutoff`; returns how many. */
  dropBefore(cutoff: number): number {
    let dropped = 0;
    for (const ring of this.#rings) {
      if (!ring) continue;
      while (
        ring.first < ring.n && ring.spans[ring.first * SPAN + 1] < cutoff
      ) {
        const k = ring.first;
        this.bytes -= ring.spans[k * SPAN + 3] - ring.startOf(k);
        ring.first++;
        dropped++;
      }
    }
    return dropped;
  }

  #chunk(ring: SeriesRing, k: number, copy: boolean): StoredChunk {
    const s = k * SPAN;
    const start = ring.startOf(k);
    const end = ring.spans[s + 3];
    return {
      minT: ring.spans[s],
      maxT: ring.spans[s + 1],
      count: ring.spans[s + 2],
      bytes: copy ? ring.buf.slice(start, end) : ring.buf.subarray(start, end),
    };
  }

  /** Room for one more chunk of `len` bytes: drops what was dropped, grows by half. */
  #makeRoom(ring: SeriesRing, len: number): void {
    const used = ring.startOf(ring.n);
    const live = ring.n - ring.first;
    const dead = ring.startOf(ring.first);
    if (
      ring.first > 0 &&
      (used + len > ring.buf.length || (ring.n + 1) * SPAN > ring.spans.length)
    ) {
      // Move the live chunks to the front.
      ring.buf.copyWithin(0, dead, used);
      ring.spans.copyWithin(0, ring.first * SPAN, ring.n * SPAN);
      for (let k = 0; k < live; k++) ring.spans[k * SPAN + 3] -= dead;
      ring.first = 0;
      ring.n = live;
    }
    const need = ring.startOf(ring.n) + len;
    if (need > ring.buf.length) {
      const b = new Uint8Array(
        Math.max(need, Math.ceil(ring.buf.length * 1.5), 256),
      );
      b.set(ring.buf.subarray(0, ring.startOf(ring.n)));
      this.#allocated += b.byteLength - ring.buf.byteLength;
      ring.buf = b;
    }
    if ((ring.n + 1) * SPAN > ring.spans.length) {
      const sp = new Float64Array(
        Math.max((ring.n + 1) * SPAN, ring.spans.length * 2, 8 * SPAN),
      );
      sp.set(ring.spans.subarray(0, ring.n * SPAN));
      this.#allocated += sp.byteLength - ring.spans.byteLength;
      ring.spans = sp;
      ring.spansU32 = new Uint32Array(sp.buffer);
    }
  }
}
