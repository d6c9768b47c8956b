import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";

test("HistoryStore with the default tiers stores hour rows half a day at a time (chunks of 12 rows ending on the half days), and reads its rows across the stored chunks and the rows computed since, also after a reopen", async () => {
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
    // t0 is 11 h past a half day: the blocks end 1 h, 13 h and 25 h in
    // (1, 12 and 12 rows); the 26th hour's row is computed when read.
    assert.equal(hour.chunksWritten, 3, "chunks of 1, 12 and 12 rows");
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

test("HistoryStore with the default tiers stores minute rows 20 minutes at a time (the rollup, chunks ending on the hours too) and computes the rows since from the raw samples: reads see every complete minute, the hour rows hold whole hours, and a reopen reads the same", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-minute-chunks-"));
  try {
    const t0 = 1_700_002_800_000; // on an hour
    const end = t0 + 2 * 3600_000 + 1_500_000;
    const open = () =>
      HistoryStore.open({ dir, flushIntervalMs: 0, now: () => end });
    let store = await open();
    const ref = store.seriesRef({ __name__: "depth" }, "gauge");
    const value = (t: number) => (t / 1000) % 11;
    for (let t = t0 + 1000; t <= end; t += 1000) store.append(ref, t, value(t));
    await store.flush();
    // 145 minute rows: the first 140 stored (7 blocks of 20), the 5
    // minutes since computed when read.
    assert.equal(store.stats().tiers[1].chunksWritten, 7);
    const m = [{ name: "__name__", type: "=" as const, value: "depth" }];
    const check = (s: HistoryStore) => {
      const minute = s.select(m, t0, end, 1)[0];
      assert.equal(minute.t.length, 145);
      for (let k = 0; k < 145; k++) {
        const e = t0 + (k + 1) * 60_000;
        let sum = 0;
        let max = -Infinity;
        for (let t = e - 59_000; t <= e; t += 1000) {
          sum += value(t);
          max = Math.max(max, value(t));
        }
        assert.equal(minute.t[k], e);
        assert.equal(minute.count![k], 60, `row ${k}`);
        assert.equal(minute.sum![k], sum, `row ${k}`);
        assert.equal(minute.max![k], max, `row ${k}`);
        assert.equal(minute.value[k], value(e), `row ${k}`);
      }
      const hour = s.select(m, t0, end, 2)[0];
      assert.deepEqual([...hour.t], [t0 + 3_600_000, t0 + 7_200_000]);
      assert.deepEqual([...hour.count!], [3600, 3600]);
      let sum = 0;
      for (let t = t0 + 3_601_000; t <= t0 + 7_200_000; t += 1000) {
        sum += value(t);
      }
      assert.equal(hour.sum![1], sum);
    };
    check(store);
    await store.close();
    // The reopened store computes the 5 minutes since again.
    store = await open();
    check(store);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
