import assert from "node:assert/strict";
import { basename } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { SegmentDir } from "../../src/history/segments.ts";
import { withDir } from "./_store_fixtures.ts";
const named = (
  name: string,
) => [{ name: "__name__", type: "=" as const, value: name }];

// flush() chains each flush on the one before (`#flushing`) with
// then(): once one flush fails (a full disk for a moment), the chain
// holds that rejection, every later flush rejects with it without
// running, and nothing is written again. The rejected chain is also
// never handled (an unhandled rejection on top of the caller's).
// Found by a review (the same since eb3f091).

test("HistoryStore: a flush after a failed one writes (the failure does not stick to every later flush)", async () => {
  const write = SegmentDir.prototype.write;
  let fail = false;
  SegmentDir.prototype.write = function (this: SegmentDir, e) {
    if (fail && basename(this.dir) === "raw") {
      throw new Error("ENOSPC for a moment");
    }
    return write.call(this, e);
  };
  // The store's own rejected chain is unhandled: kept here so the
  // assertion below, not the runner, reports what goes wrong.
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => {
    unhandled.push(reason);
  };
  process.on("unhandledRejection", onUnhandled);
  try {
    await withDir(async (dir) => {
      const store = await HistoryStore.open({
        dir,
        flushIntervalMs: 0,
        now: () => 1e6,
        tiers: [{
          name: "raw",
          resolutionMs: 1000,
          retentionMs: 1e12,
          chunkRows: 5,
        }],
      });
      const ref = store.seriesRef({ __name__: "g" }, "gauge");
      for (let s = 1; s <= 20; s++) store.append(ref, s * 1000, s);
      fail = true;
      await assert.rejects(store.flush(), /ENOSPC/);
      fail = false;
      for (let s = 21; s <= 40; s++) store.append(ref, s * 1000, s);
      await store.flush();
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(unhandled, [], "no unhandled rejection");
      await store.close();
      const again = await HistoryStore.open({
        dir,
        flushIntervalMs: 0,
        now: () => 1e6,
      });
      const [p] = again.select(named("g"), 0, 1e9, 0);
      assert.equal(p.t.length, 40);
      await again.close();
    });
  } finally {
    SegmentDir.prototype.write = write;
    process.off("unhandledRejection", onUnhandled);
  }
});

test("HistoryStore's timed flushes say a lasting failure once, not at every flush, and say when flushes work again as information, not a warning", async () => {
  const write = SegmentDir.prototype.write;
  let fail = false;
  SegmentDir.prototype.write = function (this: SegmentDir, e) {
    if (fail) throw new Error("ENOSPC: no space left on device, write");
    return write.call(this, e);
  };
  try {
    await withDir(async (dir) => {
      const warnings: string[] = [];
      const infos: string[] = [];
      const store = await HistoryStore.open({
        dir,
        flushIntervalMs: 20,
        onWarning: (m) => warnings.push(m),
        onInfo: (m) => infos.push(m),
        tiers: [{
          name: "raw",
          resolutionMs: 1000,
          retentionMs: 1e12,
          chunkRows: 2,
        }],
      });
      const ref = store.seriesRef({ __name__: "g" }, "gauge");
      const t0 = Math.floor(Date.now() / 1000) * 1000 - 100_000;
      let s = 0;
      const append = () => {
        for (let i = 0; i < 4; i++, s++) store.append(ref, t0 + s * 1000, s);
      };
      const until = async (done: () => boolean) => {
        for (let i = 0; i < 1000 && !done(); i++) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      let attempts = 0;
      const failing = SegmentDir.prototype.write;
      SegmentDir.prototype.write = function (this: SegmentDir, e) {
        attempts++;
        return failing.call(this, e);
      };
      fail = true;
      // Timed flushes with chunks to write, at least eight, every one failing.
      await until(() => {
        append();
        return attempts >= 8;
      });
      assert.ok(attempts >= 8, `${attempts} flushes`);
      const failed = warnings.filter((w) => /flush failed/.test(w));
      assert.equal(failed.length, 1, warnings.join("\n"));
      assert.match(
        failed[0],
        /ENOSPC: no space left on device, write; recent samples are held in memory and written by the first flush that works/,
      );
      fail = false;
      append();
      await until(() => infos.some((w) => /flushes work again/.test(w)));
      assert.deepEqual(infos, [
        "history: flushes work again; the samples held meanwhile are on disk",
      ]);
      assert.equal(warnings.length, 1, warnings.join("\n"));
      await store.close();
    });
  } finally {
    SegmentDir.prototype.write = write;
  }
});
