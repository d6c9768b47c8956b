import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { withDir } from "./_store_fixtures.ts";

test("HistoryStore: a flush that brings more new series than one piece of the series file (256 KiB) writes them all, in id order, and a reopened store knows each by its id", async () => {
  await withDir(async (dir) => {
    const opts = { dir, flushIntervalMs: 0, now: () => 1e6 };
    let store = await HistoryStore.open(opts);
    const pad = "x".repeat(120);
    const labels = (i: number) => ({ __name__: "s", i: String(i), pad });
    const refs: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const ref = store.seriesRef(labels(i), "gauge");
      refs.push(ref);
      store.append(ref, 1000, i);
    }
    await store.flush();
    await store.close();
    store = await HistoryStore.open(opts);
    for (const i of [0, 1999, 2500, 3999]) {
      assert.equal(store.seriesRef(labels(i), "gauge"), refs[i]);
      const [p] = store.select(
        [{ name: "i", type: "=", value: String(i) }],
        0,
        2000,
        0,
      );
      assert.deepEqual([...p.value], [i]);
    }
    assert.equal(store.stats().series, 4000);
    await store.close();
  });
});
