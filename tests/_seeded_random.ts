/**
 * A seeded pseudo-random generator for tests (mulberry32): the same seed
 * gives the same sequence on both runtimes, so a failing generated case
 * can be replayed.
 *
 * @module
 */

/** Returns a generator of numbers in [0, 1) seeded with `seed`. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
