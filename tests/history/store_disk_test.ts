import assert from "node:assert/strict";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { crc32 } from "../../src/history/crc32.ts";
import { scanRecords } from "../../src/history/record_frame.ts";
import { parseChunkRecord } from "../../src/history/segments.ts";
import { HistoryStore } from "../../src/history/store.ts";
import { segmentFiles, SMALL_TIERS, withDir } from "./_store_fixtures.ts";

const all = [{ name: "__name__", type: "=~" as const, value: ".+" }];

function fill(s: HistoryStore, from: number, to: number, name = "x") {
  const r = s.seriesRef({ __name__: name }, "counter");
  for (let i = from; i <= to; i++) s.append(r, i * 1000, i * 10);
  return r;
}

test("HistoryStore reads merge disk and memory, sorted, without duplicates", async () => {
  await withDir(async (dir) => {
    const s = await HistoryStore.open({
      dir,
      tiers: SMALL_TIERS,
      memoryChunks: 3,
      flushIntervalMs: 0,
    });
    fill(s, 1, 95);
    await s.flush(); // 9 sealed chunks to disk, 3 of them still in the ring
    fill(s, 96, 123);
    const [p] = s.select(all, 0, 1e9, 0);
    assert.deepEqual(
      [...p.t],
      Array.from({ length: 123 }, (_, i) => (i + 1) * 1000),
    );
    assert.deepEqual(p.value[122], 1230);
    const st = s.stats();
    assert.equal(st.tiers[0].chunksWritten, 9);
    assert.ok(st.tiers[0].diskBytes > 0);
    const [w] = s.select(all, 0, 1e9, 1);
    assert.deepEqual([...w.t], [
      10_000,
      20_000,
      30_000,
      40_000,
      50_000,
      60_000,
      70_000,
      80_000,
      90_000,
      100_000,
      110_000,
      120_000,
    ]);
    assert.deepEqual([...w.increase!.subarray(1, 3)], [100, 100]);
    await s.close();
  });
});

test("HistoryStore.selectEach() hands over select()'s series one at a time, from disk and memory, in one reused buffer", async () => {
  await withDir(async (dir) => {
    const s = await HistoryStore.open({
      dir,
      tiers: SMALL_TIERS,
      memoryChunks: 3,
      flushIntervalMs: 0,
    });
    fill(s, 1, 95, "a");
    fill(s, 1, 40, "b");
    await s.flush();
    fill(s, 96, 123, "a");
    fill(s, 41, 77, "b");
    for (
      const [start, end] of [[0, 1e9], [33_500, 101_000], [50_000, 50_000]]
    ) {
      for (const tier of [0, 1]) {
        const want = s.select(all, start, end, tier);
        const got: { labels: unknown; t: number[]; v: number[] }[] = [];
        const buffers = new Set<ArrayBufferLike>();
        s.selectEach(all, start, end, tier, (p) => {
          got.push({ labels: p.labels, t: [...p.t], v: [...p.value] });
          buffers.add(p.t.buffer);
        });
        assert.deepEqual(
          got,
          want.map((p) => ({ labels: p.labels, t: [...p.t], v: [...p.value] })),
          `[${start}, ${end}] tier ${tier}`,
        );
        if (tier === 0) assert.ok(buffers.size <= 2, `${buffers.size} buffers`);
      }
    }
    await s.close();
  });
});

test("HistoryStore reloads after close: series, points, open chunks and open windows continue", async () => {
  await withDir(async (dir) => {
    const opts = { dir, tiers: SMALL_TIERS, flushIntervalMs: 0 };
    let s = await HistoryStore.open(opts);
    fill(s, 1, 25);
    s.seriesRef({ __name__: "g", a: "b" }, "gauge");
    await s.close();
    s = await HistoryStore.open(opts);
    assert.equal(s.stats().series, 2);
    assert.deepEqual(
      s.series([{ name: "a", type: "=", value: "b" }], 0, 1e9),
      [],
    );
    const r = s.seriesRef({ __name__: "x" }, "counter");
    assert.equal(r, 0);
    // Already stored: dropped as out of order.
    s.append(r, 25_000, 1);
    assert.equal(s.stats().outOfOrderDropped, 1);
    for (let i = 26; i <= 41; i++) s.append(r, i * 1000, i * 10);
    const [p] = s.select(all, 0, 1e9, 0);
    assert.deepEqual(
      [...p.t],
      Array.from({ length: 41 }, (_, i) => (i + 1) * 1000),
    );
    // The window (20 s, 30 s] was open at close: it still counts all its 10 samples.
    const [w] = s.select(all, 0, 1e9, 1);
    assert.deepEqual([...w.t], [10_000, 20_000, 30_000, 40_000]);
    assert.deepEqual([...w.count!], [10, 10, 10, 10]);
    assert.deepEqual([...w.increase!], [90, 100, 100, 100]);
    await s.close();
  });
});

test("HistoryStore without close keeps what the last flush wrote (a crash loses at most one interval)", async () => {
  await withDir(async (dir) => {
    const opts = { dir, tiers: SMALL_TIERS, flushIntervalMs: 0 };
    const s = await HistoryStore.open(opts);
    fill(s, 1, 17);
    await s.flush();
    fill(s, 18, 30); // never flushed: lost by the "crash"
    // A live store's lock refuses a second one ...
    await assert.rejects(
      async () => await HistoryStore.open(opts),
      /LOCK is in use by process \d+/,
    );
    // ... and a dead process leaves its lock behind, which is taken over.
    writeFileSync(join(dir, "LOCK"), "999999999");
    const again = await HistoryStore.open(opts);
    const [p] = again.select(all, 0, 1e9, 0);
    assert.equal(p.t.length, 17);
    assert.equal(p.t[16], 17_000);
    // Appends continue after the last durable sample.
    again.append(0, 18_000, 180);
    assert.equal(again.select(all, 0, 1e9, 0)[0].t.length, 18);
    await again.close();
  });
});

test("HistoryStore.open() drops a torn tail record with one warning naming the file, and loads the rest", async () => {
  await withDir(async (dir) => {
    const opts = { dir, tiers: SMALL_TIERS, flushIntervalMs: 0 };
    const s = await HistoryStore.open(opts);
    fill(s, 1, 30);
    await s.close();
    const [seg] = segmentFiles(dir, "raw");
    const size = readFileSync(seg).length;
    truncateSync(seg, size - 3);
    const warnings: string[] = [];
    const again = await HistoryStore.open({
      ...opts,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].includes(seg), warnings[0]);
    assert.equal(again.stats().corruptChunksSkipped, 1);
    const [p] = again.select(all, 0, 1e9, 0);
    // Chunks (0, 10] and (10, 20] load; the torn one (20, 30] is gone.
    assert.deepEqual([p.t[0], p.t.length], [1000, 20]);
    await again.close();
    // The torn bytes were dropped from the file: the next open is quiet.
    const third = await HistoryStore.open({
      ...opts,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    await third.close();
  });
});

test("HistoryStore.open() skips a record with a flipped byte in the middle of a segment, with one warning", async () => {
  await withDir(async (dir) => {
    const opts = { dir, tiers: SMALL_TIERS, flushIntervalMs: 0 };
    const s = await HistoryStore.open(opts);
    fill(s, 1, 50);
    await s.close();
    const [seg] = segmentFiles(dir, "raw");
    const bytes = readFileSync(seg);
    const records: [number, number][] = [];
    scanRecords(bytes, (_, start, end) => records.push([start, end]));
    assert.equal(records.length, 5);
    // Flip a byte in the middle of the second record's payload.
    const [start, end] = records[1];
    bytes[Math.floor((start + end) / 2)] ^= 0x10;
    writeFileSync(seg, bytes);
    const warnings: string[] = [];
    const again = await HistoryStore.open({
      ...opts,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /dropped 1 corrupt or torn record in .*000001\.seg/,
    );
    const [p] = again.select(all, 0, 1e9, 0);
    const t = [...p.t];
    assert.equal(t.length, 40);
    assert.ok(!t.includes(15_000) && t.includes(10_000) && t.includes(21_000));
    await again.close();
  });
});

test("HistoryStore.open() survives a corrupt head log record: the series loses only its open part", async () => {
  await withDir(async (dir) => {
    const opts = { dir, tiers: SMALL_TIERS, flushIntervalMs: 0 };
    const s = await HistoryStore.open(opts);
    fill(s, 1, 15, "a");
    fill(s, 1, 15, "b");
    await s.close();
    const head = join(dir, "head.log");
    const bytes = readFileSync(head);
    bytes[bytes.length - 2] ^= 0xff; // the last head record: series b
    writeFileSync(head, bytes);
    const warnings: string[] = [];
    const again = await HistoryStore.open({
      ...opts,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].includes("head.log"));
    const got = again.select(all, 0, 1e9, 0).map((
      p,
    ) => [p.labels.__name__, p.t.length]);
    // a: all 15; b: only its sealed chunk of 10 (its open part was in the lost record).
    assert.deepEqual(got, [["a", 15], ["b", 10]]);
    await again.close();
  });
});

test("HistoryStore rebuilds an open window from raw samples on disk and in the head log", async () => {
  await withDir(async (dir) => {
    const opts = {
      dir,
      flushIntervalMs: 0,
      tiers: [
        { name: "raw", resolutionMs: 1000, retentionMs: 1e12, chunkRows: 4 },
        { name: "10s", resolutionMs: 10_000, retentionMs: 1e12, chunkRows: 5 },
      ],
    };
    let s = await HistoryStore.open(opts);
    // A counter with a reset inside the window (20 s, 30 s].
    const values = (i: number) => (i <= 22 ? i * 10 : i - 22);
    const r = s.seriesRef({ __name__: "x" }, "counter");
    for (let i = 1; i <= 27; i++) s.append(r, i * 1000, values(i));
    await s.close();
    s = await HistoryStore.open(opts);
    for (let i = 28; i <= 31; i++) s.append(r, i * 1000, values(i));
    const [w] = s.select(all, 0, 1e9, 1);
    assert.deepEqual([...w.t], [10_000, 20_000, 30_000]);
    // 21..30: from 200 (at 20 s) up to 220, reset to 1, up to 8.
    assert.deepEqual(
      [
        w.count![2],
        w.sum![2],
        w.min![2],
        w.max![2],
        w.value[2],
        w.increase![2],
      ],
      [10, 210 + 220 + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8, 1, 220, 8, 20 + 8],
    );
    await s.close();
  });
});

test("HistoryStore.selectSteps() reads only each step's reach, from disk and memory, like select() per step", async () => {
  await withDir(async (dir) => {
    const s = await HistoryStore.open({
      dir,
      tiers: SMALL_TIERS,
      flushIntervalMs: 0,
    });
    fill(s, 1, 200);
    await s.flush();
    fill(s, 201, 237);
    const ends = new Float64Array([5_000, 50_000, 51_000, 150_000, 236_000]);
    for (const tier of [0, 1]) {
      const [got] = s.selectSteps(all, ends, 12_000, tier);
      const want = new Map<number, number>();
      for (const e of ends) {
        const [p] = s.select(all, e - 12_000, e, tier);
        p?.t.forEach((t, i) => want.set(t, p.value[i]));
      }
      assert.deepEqual([...got.t], [...want.keys()].sort((a, b) => a - b));
      assert.deepEqual([...got.value], [...got.t].map((t) => want.get(t)));
    }
    assert.throws(
      () => s.selectSteps(all, new Float64Array([2, 1]), 1, 0),
      /ends must ascend, received 2 then 1/,
    );
    await s.close();
  });
});

test("HistoryStore: a chunk whose CRC holds but which does not decode is skipped at read, counted, warned once", async () => {
  await withDir(async (dir) => {
    const opts = { dir, tiers: SMALL_TIERS, flushIntervalMs: 0 };
    const s = await HistoryStore.open(opts);
    fill(s, 1, 30);
    await s.close();
    const [seg] = segmentFiles(dir, "raw");
    const bytes = readFileSync(seg);
    const records: [number, number][] = [];
    scanRecords(bytes, (_, start, end) => records.push([start, end]));
    // Give the first chunk an unknown codec version, and a CRC that fits.
    const [start, end] = records[0];
    const r = parseChunkRecord(bytes, start, end)!;
    const at = r.bytes.byteOffset - bytes.byteOffset;
    bytes[at] = 99;
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(
      start - 4,
      crc32(bytes, start, end),
      true,
    );
    writeFileSync(seg, bytes);
    const warnings: string[] = [];
    const again = await HistoryStore.open({
      ...opts,
      onWarning: (m) => warnings.push(m),
    });
    assert.deepEqual(warnings, []);
    const [p] = again.select(all, 0, 1e9, 0);
    assert.deepEqual([p.t[0], p.t.length], [11_000, 20]);
    again.select(all, 0, 1e9, 0);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /skipped a chunk of series 0 that does not decode/,
    );
    assert.equal(again.stats().corruptChunksSkipped, 2);
    await again.close();
  });
});

test("HistoryStore: a sample on a window's end completes the window at once, also across a restart", async () => {
  await withDir(async (dir) => {
    const opts = {
      dir,
      flushIntervalMs: 0,
      tiers: [
        { name: "raw", resolutionMs: 1000, retentionMs: 1e12, chunkRows: 7 },
        { name: "10s", resolutionMs: 10_000, retentionMs: 1e12 },
        { name: "1m", resolutionMs: 60_000, retentionMs: 1e12, chunkRows: 5 },
      ],
    };
    let s = await HistoryStore.open(opts);
    const r = fill(s, 1, 60); // the last sample sits on both windows' end
    const minute = () => s.select(all, 0, 1e9, 2)[0];
    const tens = () => s.select(all, 0, 1e9, 1)[0];
    assert.deepEqual([...tens().t].slice(-1), [60_000]);
    assert.deepEqual([...minute().t], [60_000]);
    assert.deepEqual([minute().count![0], minute().increase![0]], [60, 590]);
    await s.close();
    s = await HistoryStore.open(opts);
    for (let i = 61; i <= 121; i++) s.append(r, i * 1000, i * 10);
    assert.deepEqual([...tens().t], [
      10_000,
      20_000,
      30_000,
      40_000,
      50_000,
      60_000,
      70_000,
      80_000,
      90_000,
      100_000,
      110_000,
      120_000,
    ]);
    assert.deepEqual([...tens().count!], Array(12).fill(10));
    assert.deepEqual([...minute().t], [60_000, 120_000]);
    assert.deepEqual([...minute().count!], [60, 60]);
    assert.deepEqual([...minute().increase!], [590, 600]);
    await s.close();
  });
});
