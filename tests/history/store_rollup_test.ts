import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import type { SeriesPoints } from "../../src/history/types.ts";
import { withDir } from "./_store_fixtures.ts";

// The default tiers' shape at a smaller scale: the rollup's block is one
// window of the coarsest tier (60 s: six 10 s rows a chunk).
const TIERS = [
  { name: "raw", resolutionMs: 1000, retentionMs: 1e12 },
  { name: "10s", resolutionMs: 10_000, retentionMs: 1e12 },
  { name: "1m", resolutionMs: 60_000, retentionMs: 1e12 },
];
const STALE_MS = 30_000;
// More series than one pass rolls up (64), so blocks are stored over
// several passes and reads meet series on both sides of their watermark.
const SERIES = 200;

/** Seeded samples of series `i` at second `s` (undefined: none then). */
function sample(i: number, s: number): number | undefined {
  if (i % 10 === 3 && s > 150) return undefined; // stops
  if (i % 10 === 7 && s <= 70) return undefined; // starts late
  const x = Math.imul(i * 7919 + s * 104729, 2654435761) >>> 0;
  if (i % 2 === 0) {
    // A counter with rare resets.
    return x % 97 === 0 ? x % 5 : i * 1000 + s * (1 + (i % 4));
  }
  return (x % 17) - 8 + (x % 3) / 4;
}

/** Window rows of `res` ms from the samples, live semantics: [t, value, count, sum, min, max, increase]. */
function windows(points: [number, number][], res: number, counter: boolean) {
  const rows: number[][] = [];
  let prev = NaN;
  for (const [t, v] of points) {
    const end = Math.ceil(t / res) * res;
    let r = rows[rows.length - 1];
    if (!r || r[0] !== end) rows.push(r = [end, v, 0, 0, v, v, 0]);
    r[1] = v;
    r[2]++;
    r[3] += v;
    r[4] = Math.min(r[4], v);
    r[5] = Math.max(r[5], v);
    if (counter && prev === prev) r[6] += v >= prev ? v - prev : v;
    prev = v;
  }
  return rows;
}

/** Coarser rows folded from finer rows (sums add, min of mins, ...). */
function fold(rows: number[][], res: number): number[][] {
  const out: number[][] = [];
  for (const r of rows) {
    const end = Math.ceil(r[0] / res) * res;
    let o = out[out.length - 1];
    if (!o || o[0] !== end) out.push(o = [end, r[1], 0, 0, r[4], r[5], 0]);
    o[1] = r[1];
    o[2] += r[2];
    o[3] += r[3];
    o[4] = Math.min(o[4], r[4]);
    o[5] = Math.max(o[5], r[5]);
    o[6] += r[6];
  }
  return out;
}

function rowsOf(p: SeriesPoints | undefined, counter: boolean): number[][] {
  if (!p) return [];
  return [...p.t].map((t, i) => [
    t,
    p.value[i],
    p.count![i],
    p.sum![i],
    p.min![i],
    p.max![i],
    counter ? p.increase![i] : 0,
  ]);
}

test(
  "HistoryStore: the rollup's stored rows and the rows a read computes past a series' watermark are the windows of the raw samples, at every moment (series rolled up over several passes, a series that stops, one that starts late), and after a close and reopen",
  { timeout: 120_000 },
  async () => {
    await withDir(async (dir) => {
      const opts = {
        dir,
        tiers: TIERS,
        flushIntervalMs: 0,
        staleMs: STALE_MS,
        now: () => 1e6,
      };
      let store = await HistoryStore.open(opts);
      const refs = (s: HistoryStore) =>
        Array.from({ length: SERIES }, (_, i) =>
          s.seriesRef(
            { __name__: "x", i: String(i) },
            i % 2 === 0 ? "counter" : "gauge",
          ));
      let ids = refs(store);
      const points: [number, number][][] = ids.map(() => []);
      const batchRefs = new Int32Array(SERIES);
      const batchValues = new Float64Array(SERIES);
      const check = (s: HistoryStore, latest: number) => {
        const all = [{ name: "__name__", type: "=" as const, value: "x" }];
        const byI = (tier: number) =>
          new Map(
            s.select(all, 0, 1e9, tier).map((p) => [Number(p.labels.i), p]),
          );
        const fine = byI(1);
        const coarse = byI(2);
        for (let i = 0; i < SERIES; i++) {
          const counter = i % 2 === 0;
          const pts = points[i];
          if (pts.length === 0) continue;
          const last = pts[pts.length - 1][0];
          const stopped = last < latest - STALE_MS;
          const complete = (end: number) => end <= (stopped ? latest : last);
          const tens = windows(pts, 10_000, counter);
          const wantFine = tens.filter((r) => complete(r[0]));
          const fineEnd = wantFine.length > 0
            ? wantFine[wantFine.length - 1][0]
            : -Infinity;
          const wantCoarse = fold(wantFine, 60_000).filter((r) =>
            stopped ? r[0] <= latest : r[0] <= fineEnd
          );
          const at = `series ${i} at ${latest / 1000} s`;
          assert.deepEqual(
            rowsOf(fine.get(i), counter),
            wantFine,
            `10s, ${at}`,
          );
          assert.deepEqual(
            rowsOf(coarse.get(i), counter),
            wantCoarse,
            `1m, ${at}`,
          );
        }
      };
      const seconds = 330;
      for (let s = 1; s <= seconds; s++) {
        let n = 0;
        for (let i = 0; i < SERIES; i++) {
          const v = sample(i, s);
          if (v === undefined) continue;
          batchRefs[n] = ids[i];
          batchValues[n++] = v;
          points[i].push([s * 1000, v]);
        }
        store.appendBatch(batchRefs, batchValues, n, s * 1000);
        if (s % 10 === 0) await store.flush();
        if (s % 13 === 0 || s % 60 <= 2) check(store, s * 1000);
        if (s === 200) {
          await store.close();
          store = await HistoryStore.open(opts);
          ids = refs(store);
          check(store, s * 1000);
        }
      }
      await store.close();
      store = await HistoryStore.open(opts);
      check(store, seconds * 1000);
      await store.close();
    });
  },
);

test("HistoryStore: rows whose raw samples leave by retention before their block ends are rolled up first (a partial block), so none is lost", async () => {
  await withDir(async (dir) => {
    const tiers = [
      { name: "raw", resolutionMs: 1000, retentionMs: 120_000, chunkRows: 20 },
      // A block of 10 minutes: longer than raw samples are kept.
      { name: "10s", resolutionMs: 10_000, retentionMs: 1e12, chunkRows: 60 },
      { name: "1m", resolutionMs: 60_000, retentionMs: 1e12 },
    ];
    let now = 0;
    const store = await HistoryStore.open({
      dir,
      tiers,
      flushIntervalMs: 0,
      segmentBytes: 256,
      now: () => now,
    });
    const ref = store.seriesRef({ __name__: "c" }, "counter");
    const pts: [number, number][] = [];
    for (let s = 1; s <= 900; s++) {
      now = s * 1000;
      store.append(ref, now, s * 3);
      pts.push([now, s * 3]);
      if (s % 10 === 0) await store.flush();
    }
    const m = [{ name: "__name__", type: "=" as const, value: "c" }];
    assert.ok(store.stats().tiers[0].chunksDropped.retention > 0);
    const raw = store.select(m, 0, 1e9, 0)[0];
    assert.ok(raw.t[0] > 600_000, "raw samples before 10 min are gone");
    const want = windows(pts, 10_000, true);
    assert.deepEqual(rowsOf(store.select(m, 0, 1e9, 1)[0], true), want);
    await store.close();
  });
});

test("HistoryStore: a head log written before the rollup (an open minute-tier chunk) loads: its rows are read as they were logged, and rows after them come from the raw samples", async () => {
  const { ByteWriter } = await import("../../src/history/_bytes.ts");
  const { ChunkEncoder } = await import("../../src/history/codec.ts");
  const { encodeHeadRecord } = await import("../../src/history/head_log.ts");
  const { RecordFile } = await import("../../src/history/record_file.ts");
  const { join } = await import("node:path");
  await withDir(async (dir) => {
    const t0 = 1_700_002_800_000; // on an hour
    const value = (s: number) => (s * 7) % 11;
    const pts: [number, number][] = [];
    // The raw samples of 10 minutes, on disk (a raw-only store writes them).
    let store = await HistoryStore.open({
      dir,
      tiers: [{ name: "raw", resolutionMs: 1000, retentionMs: 1e12 }],
      flushIntervalMs: 0,
      now: () => t0,
    });
    const ref = store.seriesRef({ __name__: "g" }, "gauge");
    for (let s = 1; s <= 600; s++) {
      store.append(ref, t0 + s * 1000, value(s));
      pts.push([t0 + s * 1000, value(s)]);
    }
    await store.close();
    // The minute tier's open chunk as the old store logged it: the ten
    // rows, marked (+1000 on the sums) to tell them from computed ones.
    const rows = windows(pts, 60_000, false);
    const enc = new ChunkEncoder(5);
    for (const r of rows) {
      enc.appendRow(r[0], [r[1], r[2], r[3] + 1000, r[4], r[5]]);
    }
    const w = new ByteWriter();
    encodeHeadRecord(w, {
      id: ref,
      lastT: t0 + 600_000,
      chunks: [undefined, { chunk: enc.finish(), columns: 5 }, undefined],
    });
    new RecordFile(join(dir, "head.log")).append(w.bytes());
    const opts = { dir, flushIntervalMs: 0, now: () => t0 + 3_600_000 };
    store = await HistoryStore.open(opts);
    const ref2 = store.seriesRef({ __name__: "g" }, "gauge");
    assert.equal(ref2, ref);
    for (let s = 601; s <= 900; s++) {
      store.append(ref, t0 + s * 1000, value(s));
      pts.push([t0 + s * 1000, value(s)]);
    }
    const m = [{ name: "__name__", type: "=" as const, value: "g" }];
    const want = windows(pts, 60_000, false).map((r, i) =>
      i < 10 ? [r[0], r[1], r[2], r[3] + 1000, r[4], r[5], 0] : r
    );
    assert.deepEqual(rowsOf(store.select(m, 0, 1e13, 1)[0], false), want);
    await store.close();
    store = await HistoryStore.open(opts);
    assert.deepEqual(rowsOf(store.select(m, 0, 1e13, 1)[0], false), want);
    await store.close();
  });
});
