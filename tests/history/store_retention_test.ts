import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { diskBytes, segmentFiles, withDir } from "./_store_fixtures.ts";

const all = [{ name: "__name__", type: "=~" as const, value: ".+" }];

test("HistoryStore retention: segments past a tier's retention are deleted and counted (fake clock)", async () => {
  await withDir(async (dir) => {
    let now = 0;
    const s = await HistoryStore.open({
      dir,
      flushIntervalMs: 0,
      now: () => now,
      segmentBytes: 1, // one flush, one segment: retention can drop them one by one
      tiers: [
        { name: "raw", resolutionMs: 1000, retentionMs: 60_000, chunkRows: 10 },
        {
          name: "10s",
          resolutionMs: 10_000,
          retentionMs: 600_000,
          chunkRows: 2,
        },
      ],
    });
    const r = s.seriesRef({ __name__: "x" }, "gauge");
    for (let i = 1; i <= 300; i++) {
      s.append(r, i * 1000, i);
      if (i % 10 === 0) {
        now = i * 1000;
        await s.flush();
      }
    }
    const st = s.stats();
    // Raw keeps chunks whose last point is within the last 60 s (the
    // chunk ending exactly at the cutoff, 240 s, stays).
    const [raw] = s.select(all, 0, 1e9, 0);
    assert.equal(raw.t[0], 231_000);
    assert.ok(st.tiers[0].chunksDropped.retention >= 20);
    assert.equal(st.tiers[0].chunksDropped.budget, 0);
    // The 10 s tier keeps far longer: everything it sealed is still there.
    const [w] = s.select(all, 0, 1e9, 1);
    assert.equal(w.t[0], 10_000);
    assert.equal(st.tiers[1].chunksDropped.retention, 0);
    // Files on disk follow: nothing of raw older than the cutoff.
    assert.ok(segmentFiles(dir, "raw").length <= 7);
    await s.close();
  });
});

test("HistoryStore in memory: retention drops ring chunks by time too", async () => {
  let now = 0;
  const s = await HistoryStore.open({
    now: () => now,
    tiers: [{
      name: "raw",
      resolutionMs: 1000,
      retentionMs: 30_000,
      chunkRows: 10,
    }],
  });
  const r = s.seriesRef({ __name__: "x" }, "gauge");
  for (let i = 1; i <= 100; i++) s.append(r, i * 1000, i);
  now = 100_000;
  await s.flush();
  const [p] = s.select(all, 0, 1e9, 0);
  assert.equal(p.t[0], 61_000);
  assert.equal(s.stats().tiers[0].chunksDropped.retention, 6);
  await s.close();
});

test(
  "HistoryStore budget: the disk never exceeds maxDiskBytes by more than one chunk, the oldest goes first",
  {
    // 300 flushes with fdatasync: over Bun's 5 s default on a loaded machine.
    timeout: 60_000,
  },
  async () => {
    await withDir(async (dir) => {
      const budget = 20_000;
      const s = await HistoryStore.open({
        dir,
        flushIntervalMs: 0,
        maxDiskBytes: budget,
        segmentBytes: 2048,
        now: () => 0,
        tiers: [
          { name: "raw", resolutionMs: 1000, retentionMs: 1e12, chunkRows: 20 },
          {
            name: "1m",
            resolutionMs: 60_000,
            retentionMs: 1e12,
            chunkRows: 10,
          },
        ],
      });
      const refs = Array.from(
        { length: 8 },
        (_, i) => s.seriesRef({ __name__: "x", i: String(i) }, "counter"),
      );
      let maxSeen = 0;
      for (let i = 1; i <= 3000; i++) {
        for (const r of refs) s.append(r, i * 1000, i * (r + 1) + Math.sin(i));
        if (i % 10 === 0) {
          await s.flush();
          const bytes = diskBytes(dir);
          maxSeen = Math.max(maxSeen, bytes);
          // The check comes before each write, so not even one chunk over.
          assert.ok(bytes <= budget, `${bytes} bytes on disk after ${i} s`);
        }
      }
      const st = s.stats();
      assert.ok(st.tiers[0].chunksDropped.budget > 0);
      assert.ok(maxSeen > budget / 2, `the budget was used: ${maxSeen}`);
      // The newest data is there, the oldest raw data went.
      const [p] = s.select([{ name: "i", type: "=", value: "3" }], 0, 1e9, 0);
      assert.equal(p.t[p.t.length - 1], 3_000_000);
      assert.ok(p.t[0] > 1000, `oldest raw point left: ${p.t[0]}`);
      await s.close();
    });
  },
);

test("HistoryStore budget too small for the open chunks: one warning, nothing else breaks", async () => {
  await withDir(async (dir) => {
    const warnings: string[] = [];
    const s = await HistoryStore.open({
      dir,
      flushIntervalMs: 0,
      maxDiskBytes: 10,
      now: () => 0,
      onWarning: (m) => warnings.push(m),
      tiers: [{
        name: "raw",
        resolutionMs: 1000,
        retentionMs: 1e12,
        chunkRows: 120,
      }],
    });
    const r = s.seriesRef({ __name__: "x" }, "gauge");
    for (let i = 1; i <= 500; i++) s.append(r, i * 1000, i);
    await s.flush();
    await s.flush();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /maxDiskBytes 10 is below/);
    // Nothing fits on disk, but memory (the open chunk) still answers.
    assert.equal(s.select(all, 0, 1e9, 0)[0].t.length, 20);
    assert.equal(s.stats().tiers[0].chunksDropped.budget, 4);
    await s.close();
  });
});

test("HistoryStore: a series that stops is sealed and its windows closed, then retention takes it", async () => {
  await withDir(async (dir) => {
    let now = 0;
    const opts = {
      dir,
      flushIntervalMs: 0,
      now: () => now,
      staleMs: 30_000,
      tiers: [
        {
          name: "raw",
          resolutionMs: 1000,
          retentionMs: 600_000,
          chunkRows: 50,
        },
        { name: "10s", resolutionMs: 10_000, retentionMs: 900_000 },
        {
          name: "1m",
          resolutionMs: 60_000,
          retentionMs: 1_200_000,
          chunkRows: 10,
        },
      ],
    };
    const s = await HistoryStore.open(opts);
    const gone = s.seriesRef({ __name__: "gone" }, "counter");
    const live = s.seriesRef({ __name__: "live" }, "gauge");
    for (let i = 1; i <= 75; i++) s.append(gone, i * 1000, i);
    // Stopping is measured against the newest sample of any series.
    s.append(live, 200_000, 1);
    now = 200_000;
    await s.flush();
    const name = (
      n: string,
    ) => [{ name: "__name__", type: "=" as const, value: n }];
    // Everything "gone" had is now in closed windows and sealed chunks.
    const [raw] = s.select(name("gone"), 0, 1e9, 0);
    assert.equal(raw.t.length, 75);
    const [w10] = s.select(name("gone"), 0, 1e9, 1);
    assert.deepEqual([...w10.t].slice(-2), [70_000, 80_000]);
    assert.deepEqual([...w10.count!].slice(-1), [5]);
    const [w60] = s.select(name("gone"), 0, 1e9, 2);
    assert.deepEqual([...w60.t], [60_000, 120_000]);
    assert.deepEqual([...w60.count!], [60, 15]);
    assert.deepEqual([...w60.increase!], [59, 15]);
    // A late sample inside a closed window is refused.
    s.append(gone, 78_000, 100);
    assert.equal(s.stats().outOfOrderDropped, 1);
    // Its history stays until each tier's retention has passed (retention
    // deletes whole segments: here the live series' single sample stays
    // open, so they hold only the one that stopped).
    now = 690_000;
    await s.flush();
    assert.deepEqual(s.select(name("gone"), 0, 1e9, 0), []);
    assert.equal(s.select(name("gone"), 0, 1e9, 2).length, 1);
    now = 2_000_000;
    await s.flush();
    for (const tier of [0, 1, 2]) {
      assert.deepEqual(
        s.select(name("gone"), 0, 1e9, tier),
        [],
        `tier ${tier}`,
      );
    }
    await s.close();
  });
});
