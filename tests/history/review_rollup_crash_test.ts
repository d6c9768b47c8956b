import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { SegmentDir } from "../../src/history/segments.ts";
import { withDir } from "./_store_fixtures.ts";
import { named, rowsOf, windows } from "./_review_rollup.ts";

// A flush rolls up the rows raw segments still hold (#rollBeforeDrops),
// then deletes those segments, and writes the rows later in the same
// flush. A process killed in between (here: the write of the 10 s
// tier's segment never happens, as after a SIGKILL, and the store is
// opened again without a close) has neither the raw samples nor the
// rows: the deletion must wait until the rows it depends on are written.

test("review rollup: a crash after a flush deleted raw segments and before it wrote the rows rolled up from them loses no row", async () => {
  const write = SegmentDir.prototype.write;
  let failRows = false;
  SegmentDir.prototype.write = function (this: SegmentDir, e) {
    // Killed before the rows were written: they never reach the file.
    if (failRows && basename(this.dir) === "10s") return;
    return write.call(this, e);
  };
  try {
    await withDir(async (dir) => {
      let now = 0;
      const opts = {
        dir,
        flushIntervalMs: 0,
        segmentBytes: 256,
        now: () => now,
        onWarning: () => {},
        tiers: [
          {
            name: "raw",
            resolutionMs: 1000,
            retentionMs: 30_000,
            chunkRows: 5,
          },
          // One tier after raw: a block of 60 rows (10 minutes), longer
          // than raw samples are kept: rows are rolled up before drops.
          { name: "10s", resolutionMs: 10_000, retentionMs: 1e12 },
        ],
      };
      let store = await HistoryStore.open(opts);
      const ref = store.seriesRef({ __name__: "g" }, "gauge");
      const pts: [number, number][] = [];
      // Until raw samples first leave, the 10 s tier has no row to write
      // (its block is 10 minutes); the flush that drops the first raw
      // segment rolls rows up and is the one killed.
      failRows = true;
      let last = 0;
      for (let s = 1; s <= 200; s++) {
        now = s * 1000;
        store.append(ref, now, s % 9);
        pts.push([now, s % 9]);
        if (s % 10 === 0) {
          assert.equal(store.stats().tiers[1].chunksWritten, 0);
          await store.flush();
          last = s;
          if (store.stats().tiers[0].chunksDropped.retention > 0) break;
        }
      }
      assert.ok(last < 200, "raw samples left by retention");
      failRows = false;
      // The killed process's lock stays behind.
      writeFileSync(join(dir, "LOCK"), "999999999");
      store = await HistoryStore.open(opts);
      const got = rowsOf(store.select(named("g"), 0, 1e9, 1)[0], false);
      // Every window up to the flush before the killed one has its row.
      const upTo = (last - 10) * 1000;
      const want = windows(pts, 10_000, false).filter((r) => r[0] <= upTo);
      assert.deepEqual(got.filter((r) => r[0] <= upTo), want);
      await store.close();
    });
  } finally {
    SegmentDir.prototype.write = write;
  }
});
