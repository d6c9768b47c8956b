import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { withDir } from "./_store_fixtures.ts";
import { named, rowsOf, windows } from "./_review_rollup.ts";

// The hour tier's rows are folded from the stored minute rows, half a
// day of them at a time. A minute tier kept for less than that (here 30
// minutes: "keep minutes for a while, hours for years") loses the rows
// the hour rows still need. Before the rollup each tier's windows were
// fed by the samples themselves.

test("review rollup: hour rows do not depend on the minute tier keeping its rows until the hour block is rolled up (minute retention 30 min)", async () => {
  await withDir(async (dir) => {
    let now = 0;
    const store = await HistoryStore.open({
      dir,
      flushIntervalMs: 0,
      segmentBytes: 4096,
      now: () => now,
      tiers: [
        { name: "raw", resolutionMs: 1000, retentionMs: 1e12 },
        { name: "1m", resolutionMs: 60_000, retentionMs: 1_800_000 },
        { name: "1h", resolutionMs: 3_600_000, retentionMs: 1e12 },
      ],
    });
    const ref = store.seriesRef({ __name__: "g" }, "gauge");
    const pts: [number, number][] = [];
    for (let s = 1; s <= 4 * 3600; s++) {
      now = s * 1000;
      store.append(ref, now, s % 17);
      pts.push([now, s % 17]);
      if (s % 60 === 0) await store.flush();
    }
    const want = windows(pts, 3_600_000, false);
    const got = rowsOf(store.select(named("g"), 0, 1e9, 2)[0], false);
    assert.deepEqual(got, want);
    await store.close();
  });
});
