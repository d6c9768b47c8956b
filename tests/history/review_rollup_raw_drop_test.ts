import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { withDir } from "./_store_fixtures.ts";
import { named, rowsOf, windows } from "./_review_rollup.ts";

// Before raw samples leave (retention, the budget) the store rolls the
// series they belong to up to their last complete window. A series that
// paused (for less than staleMs: not stopped) in the middle of a window
// has that window incomplete: its samples in the dropped segment are
// lost, and the window's row, computed when the series goes on, holds
// only the samples after them. Before the rollup the window aggregator
// had every sample at append.

test("review rollup: a window open when its first raw samples leave by retention (the series paused, not stopped) keeps them in its row", async () => {
  await withDir(async (dir) => {
    let now = 0;
    const store = await HistoryStore.open({
      dir,
      flushIntervalMs: 0,
      segmentBytes: 256,
      now: () => now,
      tiers: [
        { name: "raw", resolutionMs: 1000, retentionMs: 30_000, chunkRows: 7 },
        { name: "10s", resolutionMs: 10_000, retentionMs: 1e12 },
      ],
    });
    const live = store.seriesRef({ __name__: "live" }, "gauge");
    const g = store.seriesRef({ __name__: "g" }, "gauge");
    const pts: [number, number][] = [];
    for (let s = 1; s <= 130; s++) {
      now = s * 1000;
      store.append(live, now, s);
      // A pause of 74 s (staleMs is 300 s): the window (20 s, 30 s] has
      // 21 s (in a sealed chunk, 15..21 s) to 25 s.
      if (s <= 25 || s >= 100) {
        store.append(g, now, s % 9);
        pts.push([now, s % 9]);
      }
      if (s % 10 === 0) await store.flush();
    }
    assert.ok(store.stats().tiers[0].chunksDropped.retention > 0);
    const want = windows(pts, 10_000, false).filter((r) => r[0] <= 130_000);
    const got = rowsOf(store.select(named("g"), 0, 1e9, 1)[0], false);
    assert.deepEqual(
      got.find((r) => r[0] === 30_000),
      want.find((r) => r[0] === 30_000),
    );
    assert.deepEqual(got, want);
    await store.close();
  });
});

test("review rollup: a store closed for longer than raw samples are kept (default tiers), opened and flushed before sampling starts again (a query tool, the flush timer), keeps the row of the minute it was closed in", async () => {
  await withDir(async (dir) => {
    const t0 = 1_700_002_800_000; // on an hour
    let now = t0;
    const opts = { dir, flushIntervalMs: 0, now: () => now };
    let store = await HistoryStore.open(opts);
    // Series 1: its raw chunks end at 61 s, 181 s, ... 661 s (the first
    // one is cut short by its id), so the minute (11 min, 12 min] has
    // 661 s in a sealed chunk and the rest in the open one.
    store.seriesRef({ __name__: "other" }, "gauge");
    let ref = store.seriesRef({ __name__: "g" }, "gauge");
    const pts: [number, number][] = [];
    // 11 min 30 s of samples: the minute (11 min, 12 min] is open at close.
    for (let s = 1; s <= 690; s++) {
      now = t0 + s * 1000;
      store.append(ref, now, s % 7);
      pts.push([now, s % 7]);
      if (s % 10 === 0) await store.flush();
    }
    await store.close();
    // Two days off: the raw samples (kept a day) leave at the first flush,
    // here before any new sample.
    const back = t0 + 2 * 86_400_000;
    now = back;
    store = await HistoryStore.open(opts);
    await store.flush();
    ref = store.seriesRef({ __name__: "g" }, "gauge");
    for (let s = 1; s <= 120; s++) {
      now = back + s * 1000;
      store.append(ref, now, s % 5);
      pts.push([now, s % 5]);
      if (s % 10 === 0) await store.flush();
    }
    assert.ok(store.stats().tiers[0].chunksDropped.retention > 0);
    const want = windows(pts, 60_000, false).filter((r) => r[0] <= now);
    const got = rowsOf(store.select(named("g"), 0, 1e15, 1)[0], false);
    const closedIn = t0 + 720_000;
    assert.deepEqual(
      got.find((r) => r[0] === closedIn),
      want.find((r) => r[0] === closedIn),
      "the minute the store was closed in",
    );
    assert.deepEqual(got, want);
    await store.close();
  });
});
