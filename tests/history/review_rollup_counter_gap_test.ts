import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { named, rowsOf, windows } from "./_review_rollup.ts";

// A counter that pauses for longer than a window (5 minutes) and goes
// on: the first minute after the pause increases by what the counter
// gained over the pause (the sample before the window is the last one
// before the pause), as the store's own reference says
// (store_rollup_test.ts) and the per-series aggregator gave before the
// rollup.

const pts: [number, number][] = [];
for (let s = 1; s <= 3500; s++) pts.push([s * 1000, s]);
for (let s = 3800; s <= 3900; s++) pts.push([s * 1000, s]);

test("review rollup: a counter's first minute after a pause longer than a window, past the watermark (computed when read), increases from the last sample before the pause", async () => {
  const store = await HistoryStore.open();
  const ref = store.seriesRef({ __name__: "c" }, "counter");
  for (const [t, v] of pts) store.append(ref, t, v);
  const want = windows(pts, 60_000, true).filter((r) => r[0] <= 3_900_000);
  const got = rowsOf(store.select(named("c"), 0, 1e9, 1)[0], true);
  // The row ending at 3840 s: 3840 - 3500 = 340, not 40.
  assert.deepEqual(
    got.find((r) => r[0] === 3_840_000),
    want.find((r) => r[0] === 3_840_000),
  );
  assert.deepEqual(got, want);
  await store.close();
});

test("review rollup: a counter's first minute after a pause longer than a window, stored by the rollup, increases from the last sample before the pause", async () => {
  const store = await HistoryStore.open();
  const ref = store.seriesRef({ __name__: "c" }, "counter");
  const all = [...pts];
  for (let s = 3901; s <= 7300; s++) all.push([s * 1000, s]);
  for (const [t, v] of all) store.append(ref, t, v);
  // The rollup stored the block (3600 s, 7200 s].
  assert.equal(store.stats().tiers[1].chunksDropped.budget, 0);
  const want = windows(all, 60_000, true).filter((r) => r[0] <= 7_300_000);
  const got = rowsOf(store.select(named("c"), 0, 1e9, 1)[0], true);
  assert.deepEqual(
    got.find((r) => r[0] === 3_840_000),
    want.find((r) => r[0] === 3_840_000),
  );
  assert.deepEqual(got, want);
  await store.close();
});

test("review rollup: a read that starts after a counter's pause (rows computed past the watermark) gives the first minute's increase from the last sample before the pause", async () => {
  const store = await HistoryStore.open();
  const ref = store.seriesRef({ __name__: "c" }, "counter");
  // Samples from 3601 s to 3700 s, a pause of 5 minutes, then on: no block
  // ended after them, so every row is computed when read.
  const p: [number, number][] = [];
  for (let s = 3601; s <= 3700; s++) p.push([s * 1000, s]);
  for (let s = 4000; s <= 4100; s++) p.push([s * 1000, s]);
  for (const [t, v] of p) store.append(ref, t, v);
  const want = windows(p, 60_000, true).filter((r) =>
    r[0] >= 3_990_000 && r[0] <= 4_100_000
  );
  const got = rowsOf(
    store.select(named("c"), 3_990_000, 1e9, 1)[0],
    true,
  );
  assert.deepEqual(got, want);
  await store.close();
});
