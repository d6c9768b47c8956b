/**
 * A minute window open across close + reopen counts every raw sample of
 * that minute. The restored raw open chunk was cut again by the staggered
 * first-chunk limit (reset at open) and sealed into the write queue,
 * which the window rebuild did not read: those samples were missing from
 * the minute row (and so from the hour row) of about a quarter of the
 * series (found in review, session 7).
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { HistoryStore } from "../../src/history/store.ts";
import { withDir } from "./_store_fixtures.ts";

test(
  "a minute window open at close holds every sample after reopen, and its hour row all of them",
  {
    timeout: 60_000,
  },
  async () => {
    await withDir(async (dir) => {
      const T0 = 1_699_999_200_000; // an hour start
      let now = T0;
      const open = () =>
        HistoryStore.open({ dir, flushIntervalMs: 0, now: () => now });
      let store = await open();
      const refs = () =>
        Array.from(
          { length: 40 },
          (_, i) => store.seriesRef({ __name__: "g", i: String(i) }, "gauge"),
        );
      let r = refs();
      for (let k = 1; k <= 3660; k++) {
        if (k === 150 || k === 3590) {
          await store.close();
          store = await open();
          r = refs();
        }
        now = T0 + k * 1000;
        for (const ref of r) store.append(ref, now, k);
        if (k % 10 === 0) await store.flush();
      }
      const wrong: string[] = [];
      for (const p of store.select([], 0, 1e13, 1)) {
        for (let i = 0; i < p.t.length; i++) {
          if (p.count![i] !== 60) {
            wrong.push(
              `i=${p.labels.i} +${(p.t[i] - T0) / 1000}s: ${p.count![i]}`,
            );
          }
        }
      }
      const hours = store.select([], 0, 1e13, 2);
      await store.close();
      assert.deepEqual(wrong, []);
      // Each series' first hour row folds its 60 minute rows.
      assert.equal(hours.length, 40);
      for (const h of hours) assert.deepEqual([...h.count!], [3600]);
    });
  },
);
