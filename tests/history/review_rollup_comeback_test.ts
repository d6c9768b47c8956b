import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { named, rowsOf, windows } from "./_review_rollup.ts";

// append() looks for due series as a new tick starts (its first sample),
// before the tick's other samples are in. Closing a stopped series'
// window moves its last time to the window's end; when that end is the
// new tick, the series' own sample of that tick is then taken as out of
// order and dropped: a series that comes back after a pause longer than
// staleMs loses its first sample when it comes back on a window's end.

const TIERS = [
  { name: "raw", resolutionMs: 1000, retentionMs: 1e12 },
  { name: "10s", resolutionMs: 10_000, retentionMs: 1e12 },
  { name: "1m", resolutionMs: 60_000, retentionMs: 1e12 },
];

test("review rollup: a series that comes back (after a pause longer than staleMs) on a coarser window's end keeps the sample it comes back with", async () => {
  const store = await HistoryStore.open({ tiers: TIERS, staleMs: 30_000 });
  const live = store.seriesRef({ __name__: "live" }, "gauge");
  const back = store.seriesRef({ __name__: "back" }, "gauge");
  const pts: [number, number][] = [];
  for (let s = 1; s <= 70; s++) {
    store.append(live, s * 1000, s);
    if (s <= 20 || s >= 60) {
      store.append(back, s * 1000, s % 7);
      pts.push([s * 1000, s % 7]);
    }
  }
  assert.equal(store.stats().outOfOrderDropped, 0);
  const raw = store.select(named("back"), 0, 1e9, 0)[0];
  assert.deepEqual([...raw.t], pts.map((p) => p[0]));
  const ten = rowsOf(store.select(named("back"), 0, 1e9, 1)[0], false);
  assert.deepEqual(
    ten,
    windows(pts, 10_000, false).filter((r) => r[0] <= 70_000),
  );
  await store.close();
});
