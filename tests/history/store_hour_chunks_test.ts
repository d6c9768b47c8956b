import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";

test("HistoryStore with the default tiers seals hour-tier chunks at 12 rows (half a day; the first staggered to 1-12 by id), and reads its rows across the sealed chunks and the open one, also after a reopen", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-hour-chunks-"));
  try {
    const t0 = 1_700_002_800_000; // on an hour
    const hours = 26;
    // The store's clock at the data's end: retention counts from it.
    const now = () => t0 + hours * 3_600_000;
    let store = await HistoryStore.open({ dir, flushIntervalMs: 0, now });
    const ref = store.seriesRef({ __name__: "jobs_total" }, "counter");
    const refs = new Int32Array([ref]);
    const v = new Float64Array(1);
    for (let s = 1; s <= hours * 3600; s++) {
      v[0] = s;
      store.appendBatch(refs, v, 1, t0 + s * 1000);
    }
    await store.flush();
    const hour = store.stats().tiers[2];
    assert.equal(hour.name, "1h");
    // Series 0's first chunk: 1 row, then 12: 3 sealed, 1 row open.
    assert.equal(hour.chunksWritten, 3, "sealed chunks of 1, 12 and 12 rows");
    const read = (s: HistoryStore) =>
      s.select(
        [{ name: "__name__", type: "=", value: "jobs_total" }],
        t0,
        t0 + hours * 3_600_000,
        2,
      )[0];
    const rows = read(store);
    assert.equal(rows.t.length, hours);
    assert.equal(rows.t[0], t0 + 3_600_000);
    assert.deepEqual([...rows.count!], new Array(hours).fill(3600));
    assert.equal(rows.max![23], 24 * 3600);
    assert.equal(rows.max![hours - 1], hours * 3600);
    await store.close();
    store = await HistoryStore.open({ dir, flushIntervalMs: 0, now });
    const again = read(store);
    assert.deepEqual([...again.t], [...rows.t]);
    assert.deepEqual([...again.max!], [...rows.max!]);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("HistoryStore with the default tiers ends minute-tier chunks every 10 rows (at times staggered by series) and on each hour's end (its open chunks stay small), and the hour rows still hold whole hours", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-minute-chunks-"));
  try {
    const t0 = 1_700_002_800_000; // on an hour
    const end = t0 + 2 * 3600_000 + 1_500_000;
    const store = await HistoryStore.open({
      dir,
      flushIntervalMs: 0,
      now: () => end,
    });
    const ref = store.seriesRef({ __name__: "depth" }, "gauge");
    for (let t = t0 + 1000; t <= end; t += 1000) {
      store.append(ref, t, (t / 1000) % 11);
    }
    await store.flush();
    // 145 minute rows; series 0's chunks end where minutes are a multiple
    // of 10 (its phase is 0), so on the hours too: 14 sealed, 5 rows open.
    assert.equal(store.stats().tiers[1].chunksWritten, 14);
    const m = [{ name: "__name__", type: "=" as const, value: "depth" }];
    assert.equal(store.select(m, t0, end, 1)[0].t.length, 145);
    const hour = store.select(m, t0, end, 2)[0];
    assert.deepEqual([...hour.t], [t0 + 3_600_000, t0 + 7_200_000]);
    assert.deepEqual([...hour.count!], [3600, 3600]);
    let sum = 0;
    for (let t = t0 + 3_601_000; t <= t0 + 7_200_000; t += 1000) {
      sum += (t / 1000) % 11;
    }
    assert.equal(hour.sum![1], sum);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
