import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";

test("HistoryStore with the default tiers seals an hour-tier chunk at 24 rows (a day), and reads its rows across the sealed chunk and the open one, also after a reopen", async () => {
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
    assert.equal(hour.chunksWritten, 1, "one sealed chunk of 24 hourly rows");
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
