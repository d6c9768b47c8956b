import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";

test("HistoryStore.reserveSeries(n) then n new series: the same ids and the same reads as without it", async () => {
  const fill = async (reserve: boolean) => {
    const store = await HistoryStore.open();
    if (reserve) store.reserveSeries(300);
    const refs = Array.from({ length: 300 }, (_, i) =>
      store.seriesRef(
        { __name__: "x", i: String(i) },
        i % 2 ? "gauge" : "counter",
      ));
    const ids = new Int32Array(refs);
    const values = new Float64Array(300);
    for (let s = 1; s <= 200; s++) {
      for (let i = 0; i < 300; i++) values[i] = s * (i + 1) + (s % 3);
      store.appendBatch(ids, values, 300, s * 1000);
    }
    const got = {
      refs,
      raw: store.select([{ name: "i", type: "=~", value: "1.*" }], 0, 1e6, 0)
        .map((p) => [p.labels.i, [...p.value]]),
      minute: store.select([], 0, 1e6, 1).map((p) => [p.labels.i, [...p.sum!]]),
    };
    await store.close();
    return got;
  };
  assert.deepEqual(await fill(true), await fill(false));
});
