import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { named, rowsOf, windows } from "./_review_rollup.ts";

// A store without a dir: the raw ring is all the raw history there is.
// Before the rollup every sample fed the minute window at append, so a
// minute row never depended on how long the ring keeps raw samples.

test("review rollup: a store without a dir whose raw ring holds less than a block (memoryChunks) keeps every minute row", async () => {
  // 4 raw chunks of 120 samples: 8 minutes of raw, a block is an hour.
  const store = await HistoryStore.open({ memoryChunks: 4 });
  const ref = store.seriesRef({ __name__: "g" }, "gauge");
  const pts: [number, number][] = [];
  for (let s = 1; s <= 7300; s++) {
    store.append(ref, s * 1000, s % 17);
    pts.push([s * 1000, s % 17]);
  }
  const want = windows(pts, 60_000, false).filter((r) => r[0] <= 7_300_000);
  const got = rowsOf(store.select(named("g"), 0, 1e9, 1)[0], false);
  assert.equal(got.length, want.length, "minute rows");
  assert.deepEqual(got, want);
  await store.close();
});

test("review rollup: a store without a dir whose raw retention is shorter than a block keeps every minute row across flush()", async () => {
  let now = 0;
  const store = await HistoryStore.open({
    now: () => now,
    tiers: [
      { name: "raw", resolutionMs: 1000, retentionMs: 600_000 },
      { name: "1m", resolutionMs: 60_000, retentionMs: 1e12 },
      { name: "1h", resolutionMs: 3_600_000, retentionMs: 1e12 },
    ],
  });
  const ref = store.seriesRef({ __name__: "g" }, "gauge");
  const pts: [number, number][] = [];
  for (let s = 1; s <= 3000; s++) {
    now = s * 1000;
    store.append(ref, now, s % 17);
    pts.push([now, s % 17]);
    if (s % 10 === 0) await store.flush();
  }
  const want = windows(pts, 60_000, false).filter((r) => r[0] <= 3_000_000);
  const got = rowsOf(store.select(named("g"), 0, 1e9, 1)[0], false);
  assert.equal(got.length, want.length, "minute rows");
  assert.deepEqual(got, want);
  await store.close();
});

test("review rollup: a store without a dir sampling every 500 ms (default tiers: its raw ring holds 32 min) keeps every minute row", async () => {
  const store = await HistoryStore.open({ intervalMs: 500 });
  const ref = store.seriesRef({ __name__: "g" }, "gauge");
  const pts: [number, number][] = [];
  for (let s = 1; s <= 2 * 7300; s++) {
    store.append(ref, s * 500, s % 17);
    pts.push([s * 500, s % 17]);
  }
  const want = windows(pts, 60_000, false).filter((r) => r[0] <= 7_300_000);
  const got = rowsOf(store.select(named("g"), 0, 1e9, 1)[0], false);
  assert.equal(got.length, want.length, "minute rows");
  assert.deepEqual(got, want);
  await store.close();
});

test("review rollup: a store without a dir whose minute ring holds less than the hour tier's block (24 h) keeps every hour row whole", async () => {
  // 32 minute chunks of 25 rows: 13 h 20 min of minute rows.
  const store = await HistoryStore.open({
    tiers: [
      { name: "raw", resolutionMs: 1000, retentionMs: 1e12 },
      { name: "1m", resolutionMs: 60_000, retentionMs: 1e12, chunkRows: 25 },
      { name: "1h", resolutionMs: 3_600_000, retentionMs: 1e12 },
    ],
  });
  const ref = store.seriesRef({ __name__: "g" }, "gauge");
  const pts: [number, number][] = [];
  for (let s = 1; s <= 15 * 3600; s++) {
    store.append(ref, s * 1000, s % 17);
    pts.push([s * 1000, s % 17]);
  }
  const want = windows(pts, 3_600_000, false);
  const got = rowsOf(store.select(named("g"), 0, 1e9, 2)[0], false);
  // No hour row may be made of part of its minutes.
  for (const r of got) {
    assert.deepEqual(r, want.find((w) => w[0] === r[0]), `hour ${r[0]}`);
  }
  assert.deepEqual(got, want);
  await store.close();
});
