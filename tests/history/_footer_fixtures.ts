/**
 * Stores whose segments close every 4 KiB, filled with a few series, for
 * the tests of segment footers and of their records' checks.
 *
 * @module
 */
import { statSync } from "node:fs";
import { HistoryStore } from "../../src/history/store.ts";
import { readFooter } from "../../src/history/segment_footer.ts";
import { segmentFiles, SMALL_TIERS } from "./_store_fixtures.ts";

const all = [{ name: "__name__", type: "=~" as const, value: ".+" }];
/** Series that {@linkcode fill} writes. */
export const SERIES = 40;
/** The folders of SMALL_TIERS' tiers, raw first. */
export const TIER_NAMES = SMALL_TIERS.map((t) => t.name);

/** A store of SMALL_TIERS in `dir` whose segments close every 4 KiB. */
export function openSmall(
  dir: string,
  warnings: string[] = [],
  maxDiskBytes?: number,
): Promise<HistoryStore> {
  return HistoryStore.open({
    dir,
    tiers: SMALL_TIERS,
    flushIntervalMs: 0,
    now: () => 0,
    segmentBytes: 4096,
    maxDiskBytes,
    onWarning: (m) => warnings.push(m),
  });
}

/** Seconds `from..to` of SERIES series (label i = series id), a flush every 20 s. */
export async function fill(
  s: HistoryStore,
  from: number,
  to: number,
): Promise<void> {
  const refs = Array.from(
    { length: SERIES },
    (_, i) => s.seriesRef({ __name__: "x", i: String(i) }, "gauge"),
  );
  for (let t = from; t <= to; t++) {
    refs.forEach((r, i) => s.append(r, t * 1000, (t * 7 + i) % 13));
    if (t % 20 === 0) await s.flush();
  }
  await s.flush();
}

/** A series as {@linkcode everything} gives it: label i, times, values, counts, maxes. */
export type Row = [string, number[], number[], number[], number[]];

/** What a select of each tier gives, as plain arrays. */
export function everything(s: HistoryStore): Row[][] {
  return TIER_NAMES.map((_, tier) =>
    s.select(all, 0, 1e9, tier).map((p): Row => [
      p.labels.i,
      [...p.t],
      [...p.value],
      [...(p.count ?? [])],
      [...(p.max ?? [])],
    ])
  );
}

/** The closed segments (those ending with a footer) of tier folder `tier`, in order. */
export function closedSegments(dir: string, tier = "raw"): string[] {
  return segmentFiles(dir, tier).filter((f) => readFooter(f, statSync(f).size));
}
