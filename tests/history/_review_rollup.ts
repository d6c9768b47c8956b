/**
 * Helpers of the rollup review tests: the reference windows of raw
 * samples (as tests/history/store_rollup_test.ts defines them) and a
 * store's rows in the same shape.
 *
 * @module
 */
import type { SeriesPoints } from "../../src/history/types.ts";

/** A row: [t, value, count, sum, min, max, increase]. */
export type Row = number[];

/**
 * Window rows of `res` ms from the samples: the window (end - res, end]
 * holds count, sum, min, max, last value and, for a counter, the
 * increase from the sample before the window (resets handled).
 */
export function windows(
  points: readonly (readonly [number, number])[],
  res: number,
  counter: boolean,
): Row[] {
  const rows: Row[] = [];
  let prev = NaN;
  for (const [t, v] of points) {
    const end = Math.ceil(t / res) * res;
    let r = rows[rows.length - 1];
    if (!r || r[0] !== end) rows.push(r = [end, v, 0, 0, v, v, 0]);
    r[1] = v;
    r[2]++;
    r[3] += v;
    r[4] = Math.min(r[4], v);
    r[5] = Math.max(r[5], v);
    if (counter && prev === prev) r[6] += v >= prev ? v - prev : v;
    prev = v;
  }
  return rows;
}

/** A store's window rows as {@linkcode windows} gives them. */
export function rowsOf(p: SeriesPoints | undefined, counter: boolean): Row[] {
  if (!p) return [];
  return [...p.t].map((t, i) => [
    t,
    p.value[i],
    p.count![i],
    p.sum![i],
    p.min![i],
    p.max![i],
    counter ? p.increase![i] : 0,
  ]);
}

/** A matcher of `__name__`. */
export function named(name: string) {
  return [{ name: "__name__", type: "=" as const, value: name }];
}
