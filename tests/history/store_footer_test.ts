import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { HistoryStore } from "../../src/history/store.ts";
import { readFooter } from "../../src/history/segment_footer.ts";
import { diskBytes, segmentFiles, withDir } from "./_store_fixtures.ts";
import {
  everything,
  fill,
  openSmall as open,
  SERIES,
} from "./_footer_fixtures.ts";

/** The raw tier's closed segments (with a footer) and where each footer starts. */
function closed(dir: string): [string, number][] {
  const out: [string, number][] = [];
  for (const file of segmentFiles(dir, "raw")) {
    const f = readFooter(file, statSync(file).size);
    if (f) out.push([file, f.dataEnd]);
  }
  return out;
}

test("HistoryStore writes footers as segments close and reads them after a reopen: the same points", async () => {
  await withDir(async (dir) => {
    const s = await open(dir);
    await fill(s, 1, 600);
    const before = everything(s);
    await s.close();
    assert.ok(closed(dir).length >= 5, `${closed(dir).length} footers`);
    const again = await open(dir);
    assert.deepEqual(everything(again), before);
    await again.close();
  });
});

test("HistoryStore loads segments whose footer is torn, corrupt or missing (a store before footers): every point, no warning", async () => {
  await withDir(async (dir) => {
    const s = await open(dir);
    await fill(s, 1, 600);
    const before = everything(s);
    await s.close();
    const footers = closed(dir);
    assert.ok(footers.length >= 3);
    const [[torn, tornAt], [flipped], ...rest] = footers;
    truncateSync(torn, tornAt + 30);
    const bytes = readFileSync(flipped);
    bytes[bytes.length - 40] ^= 0x08;
    writeFileSync(flipped, bytes);
    for (const [file, at] of rest) truncateSync(file, at);
    const warnings: string[] = [];
    const again = await open(dir, warnings);
    assert.deepEqual(warnings, []);
    assert.deepEqual(everything(again), before);
    // Their footers are written again by the next flush.
    await fill(again, 601, 605);
    await again.close();
    assert.equal(closed(dir).length, footers.length);
    const third = await open(dir, warnings);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      everything(third).map((x) => (x as unknown[]).length),
      before.map((x) => (x as unknown[]).length),
    );
    await third.close();
  });
});

test("HistoryStore with footers keeps the disk within maxDiskBytes", async () => {
  await withDir(async (dir) => {
    const max = 48 * 1024;
    const s = await open(dir, [], max);
    const refs = Array.from(
      { length: SERIES },
      (_, i) => s.seriesRef({ __name__: "x", i: String(i) }, "gauge"),
    );
    for (let t = 1; t <= 1500; t++) {
      refs.forEach((r, i) => s.append(r, t * 1000, (t * 7 + i) % 13));
      if (t % 20 === 0) {
        await s.flush();
        assert.ok(diskBytes(dir) <= max, `${diskBytes(dir)} bytes at ${t} s`);
      }
    }
    assert.ok(s.stats().tiers[0].chunksDropped.budget > 0);
    assert.ok(closed(dir).length > 0);
    await s.close();
  });
});

test("HistoryStore: a read of a few series from closed segments (their records read range by range) gives the same points as a read of all of them (whole files)", async () => {
  await withDir(async (dir) => {
    const opts = {
      dir,
      flushIntervalMs: 0,
      segmentBytes: 16 * 1024,
      now: () => 2_000_000,
    };
    let store = await HistoryStore.open(opts);
    const refs = Array.from(
      { length: 200 },
      (_, i) => store.seriesRef({ __name__: "x", i: String(i) }, "counter"),
    );
    for (let s = 1; s <= 1500; s++) {
      refs.forEach((r, i) => store.append(r, s * 1000, s * (i + 1) + (s % 7)));
      if (s % 10 === 0) await store.flush();
    }
    await store.close();
    store = await HistoryStore.open(opts);
    for (const tier of [0, 1]) {
      const all = new Map(
        store.select(
          [{ name: "__name__", type: "=", value: "x" }],
          0,
          2e6,
          tier,
        )
          .map((p) => [p.labels.i, p]),
      );
      for (const i of ["0", "73", "199"]) {
        const [one] = store.select(
          [{ name: "i", type: "=", value: i }],
          0,
          2e6,
          tier,
        );
        assert.ok(one.t.length > 0);
        assert.deepEqual(
          [...one.t],
          [...all.get(i)!.t],
          `tier ${tier}, series ${i}`,
        );
        assert.deepEqual(
          [...one.value],
          [...all.get(i)!.value],
          `tier ${tier}, series ${i}`,
        );
      }
    }
    await store.close();
  });
});
