/**
 * In-memory rings of sealed (compressed) chunks: per series, at most
 * `capacity` chunks, the oldest dropped when a new one comes, so memory
 * follows the number of series, not the time running.
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
 * Per-series rings of sealed chunks, oldest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkRing } from "./ring.ts";
 *
 * const ring = new ChunkRing(2);
 * const chunk = (t: number) => ({ minT: t, maxT: t + 9, count: 10, bytes: new Uint8Array(4) });
 * ring.push(7, chunk(0));
 * ring.push(7, chunk(10));
 * assert.equal(ring.push(7, chunk(20))?.minT, 0);
 * assert.deepEqual(ring.chunks(7).map((c) => c.minT), [10, 20]);
 * assert.equal(ring.bytes, 8);
 * ```
 */
export class ChunkRing {
  /** Chunks kept per series. */
  readonly capacity: number;
  /** Bytes of the chunks held. */
  bytes = 0;
  #rings: (StoredChunk[] | undefined)[] = [];

  /** @param capacity chunks kept per series, >= 0 */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(
        `Cannot create chunk ring: capacity must be a non-negative integer, received ${capacity}`,
      );
    }
    this.capacity = capacity;
  }

  /** Adds a sealed chunk of `id`; returns the chunk it pushed out, if any. */
  push(id: number, chunk: StoredChunk): StoredChunk | undefined {
    if (this.capacity === 0) return chunk;
    let ring = this.#rings[id];
    if (!ring) {
      while (this.#rings.length < id) this.#rings.push(undefined);
      this.#rings[id] = ring = [];
    }
    ring.push(chunk);
    this.bytes += chunk.bytes.length;
    if (ring.length <= this.capacity) return undefined;
    const out = ring.shift()!;
    this.bytes -= out.bytes.length;
    return out;
  }

  /** The chunks of `id`, oldest first. */
  chunks(id: number): readonly StoredChunk[] {
    return this.#rings[id] ?? [];
  }

  /** Drops every chunk whose last point is before `cutoff`; returns how many. */
  dropBefore(cutoff: number): number {
    let dropped = 0;
    for (const ring of this.#rings) {
      if (!ring) continue;
      while (ring.length > 0 && ring[0].maxT < cutoff) {
        this.bytes -= ring.shift()!.bytes.length;
        dropped++;
      }
    }
    return dropped;
  }
}
