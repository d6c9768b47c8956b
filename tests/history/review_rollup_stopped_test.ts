import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { named, rowsOf, windows } from "./_review_rollup.ts";
import { withDir } from "./_store_fixtures.ts";

// A series that stopped (its last sample staleMs before the newest of
// any) has its windows complete once the newest sample passes their
// ends, in every tier (store_rollup_test.ts's reference). Closing its
// finer window moves its last time to that window's end, after which
// the store no longer takes it for stopped: the coarser window stays
// open until the newest sample is staleMs past the finer window's end.

const TIERS = [
  { name: "raw", resolutionMs: 1000, retentionMs: 1e12 },
  { name: "10s", resolutionMs: 10_000, retentionMs: 1e12 },
  { name: "1m", resolutionMs: 60_000, retentionMs: 1e12 },
];

test("review rollup: a stopped series' coarser window is complete once the newest sample passes its end, also when its finer window closed after its last sample", async () => {
  const store = await HistoryStore.open({ tiers: TIERS, staleMs: 30_000 });
  const live = store.seriesRef({ __name__: "live" }, "gauge");
  const stops = store.seriesRef({ __name__: "stops" }, "gauge");
  const pts: [number, number][] = [];
  for (let s = 1; s <= 75; s++) {
    store.append(live, s * 1000, s);
    if (s <= 42) {
      store.append(stops, s * 1000, s % 5);
      pts.push([s * 1000, s % 5]);
    }
  }
  // At 75 s: "stops" stopped at 42 s (before 75 - 30 s); its 10 s
  // windows up to 50 s and its minute (0, 60 s] are complete.
  const ten = rowsOf(store.select(named("stops"), 0, 1e9, 1)[0], false);
  assert.deepEqual(ten, windows(pts, 10_000, false));
  const minute = rowsOf(store.select(named("stops"), 0, 1e9, 2)[0], false);
  assert.deepEqual(minute, windows(pts, 60_000, false));
  await store.close();
});

test("review rollup: a flush closes a stopped series' coarser window that the newest sample passed (as the store did before the rollup), also when its finer window closed after its last sample", async () => {
  await withDir(async (dir) => {
    const store = await HistoryStore.open({
      dir,
      tiers: TIERS,
      staleMs: 30_000,
      flushIntervalMs: 0,
      now: () => 1e6,
    });
    const live = store.seriesRef({ __name__: "live" }, "gauge");
    const stops = store.seriesRef({ __name__: "stops" }, "gauge");
    const pts: [number, number][] = [];
    for (let s = 1; s <= 75; s++) {
      store.append(live, s * 1000, s);
      if (s <= 42) {
        store.append(stops, s * 1000, s % 5);
        pts.push([s * 1000, s % 5]);
      }
    }
    await store.flush();
    const minute = rowsOf(store.select(named("stops"), 0, 1e9, 2)[0], false);
    assert.deepEqual(minute, windows(pts, 60_000, false));
    await store.close();
  });
});
