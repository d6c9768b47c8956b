import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { ChunkEncoder } from "../../src/history/codec.ts";
import {
  decodeAnyChunk,
  encodeFrameChunk,
  FRAME_VERSION,
} from "../../src/history/frame_chunk.ts";
import { mergePieces, type Steps } from "../../src/history/merge.ts";
import { scanRecords } from "../../src/history/record_frame.ts";
import { encodeChunks, parseChunkRecord } from "../../src/history/segments.ts";
import {
  type ChunkSpan,
  SpanList,
  stepPoints,
} from "../../src/history/step_read.ts";
import { HistoryStore } from "../../src/history/store.ts";
import { queryRange } from "../../src/history/promql/mod.ts";
import { seededRandom } from "../_seeded_random.ts";
import { segmentFiles, SMALL_TIERS, withDir } from "./_store_fixtures.ts";

const all = [{ name: "__name__", type: "=~" as const, value: ".+" }];

function stepsOf(ends: number[], reachMs: number): Steps {
  const e = new Float64Array(ends);
  return {
    ends: e,
    reachMs,
    overlaps: (minT, maxT) =>
      ends.some((x) => x >= minT && x - reachMs <= maxT),
  };
}

/** Chunks of consecutive minute rows (6 columns), some Gorilla, some frame. */
function chunks(rand: () => number): ChunkSpan[] {
  const out: ChunkSpan[] = [];
  let t = 60_000;
  let acc = 0;
  for (let k = 0; k < 8; k++) {
    const n = 1 + Math.floor(rand() * 60);
    const ts = new Float64Array(n);
    const cols = Array.from({ length: 6 }, () => new Float64Array(n));
    for (let i = 0; i < n; i++) {
      ts[i] = t;
      t += 60_000 * (rand() < 0.1 ? 3 : 1);
      acc += Math.floor(rand() * 9);
      cols[0][i] = acc;
      cols[1][i] = 60;
      cols[2][i] = rand();
      cols[3][i] = -acc;
      cols[4][i] = acc + 0.5;
      cols[5][i] = i % 4;
    }
    let bytes: Uint8Array;
    if (rand() < 0.3) {
      const e = new ChunkEncoder(6);
      for (let i = 0; i < n; i++) e.appendRow(ts[i], cols.map((c) => c[i]));
      bytes = e.finish();
    } else bytes = encodeFrameChunk(ts, cols);
    out.push({ minT: ts[0], maxT: ts[n - 1], bytes });
  }
  return out;
}

test(
  "stepPoints() gives the rows mergePieces() keeps for the same step windows, from either format, with repeats dropped (500 seeded cases)",
  { timeout: 60_000 },
  () => {
    const rand = seededRandom(30);
    for (let k = 0; k < 500; k++) {
      const parts = chunks(rand);
      // A repeat (the same chunk in the ring and the write queue), shuffled.
      parts.push(parts[Math.floor(rand() * parts.length)]);
      parts.sort(() => rand() - 0.5);
      const last = Math.max(...parts.map((p) => p.maxT));
      const step = 60_000 * (1 + Math.floor(rand() * 90));
      const reach = 60_000 * Math.floor(rand() * 10) + (rand() < 0.2 ? 1 : 0);
      const ends: number[] = [];
      for (let e = Math.floor(rand() * step); e < last + step; e += step) {
        ends.push(e);
      }
      const steps = stepsOf(ends, reach);
      // Half the cases hold the chunks back to back in one buffer (as a
      // ring does), the others each in its own.
      const list = new SpanList();
      if (k % 2 === 0) {
        const whole = new Uint8Array(
          parts.reduce((n, p) => n + p.bytes.length, 7),
        );
        let at = 7;
        for (const p of parts) {
          whole.set(p.bytes, at);
          list.push(p.minT, p.maxT, whole, at, at + p.bytes.length);
          at += p.bytes.length;
        }
      } else parts.forEach((p) => list.add(p));
      const got = stepPoints({}, "counter", list, steps, () => {
        throw new Error("no chunk is corrupt");
      });
      const pieces = parts.map((p) => decodeAnyChunk(p.bytes));
      const want = mergePieces(
        {},
        "counter",
        pieces,
        ends[0] - reach,
        ends[ends.length - 1],
        true,
        steps,
      );
      // Only increase asked for: the windows are open at the start,
      // (end - reach, end], which on whole ms is [end - reach + 1, end].
      const rate = reach > 0
        ? stepPoints({}, "counter", list, steps, () => {}, ["increase"])
        : undefined;
      const rateWant = reach > 0
        ? mergePieces(
          {},
          "counter",
          pieces,
          ends[0] - reach + 1,
          ends[ends.length - 1],
          true,
          stepsOf(ends, reach - 1),
        )
        : undefined;
      // The same with each chunk's edge (its last row, as a ring keeps it)
      // beside it: the reads that need only that row read no chunk byte.
      const withEdges = new SpanList();
      const table = new Float64Array(parts.length * 7);
      const tableU32 = new Uint32Array(table.buffer);
      parts.forEach((part, i) => {
        const d = decodeAnyChunk(part.bytes);
        const n = d.t.length;
        table[i * 7] = n > 1 ? d.t[n - 2] : -Infinity;
        d.columns.forEach((c, j) =>
          table.set(c.subarray(n - 1, n), i * 7 + 1 + j)
        );
        withEdges.add(part);
        withEdges.edge(table, tableU32, i * 7);
      });
      const rateEdges = reach > 0
        ? stepPoints({}, "counter", withEdges, steps, () => {}, ["increase"])
        : undefined;
      assert.deepEqual(
        rateEdges && [...rateEdges.t, ...rateEdges.increase!],
        rate && [...rate.t, ...rate.increase!],
        `case ${k} edges`,
      );
      assert.equal(rate === undefined, rateWant === undefined, `case ${k}`);
      if (rate && rateWant) {
        assert.deepEqual([...rate.t], [...rateWant.t], `case ${k} open`);
        assert.deepEqual([...rate.increase!], [...rateWant.increase!]);
        assert.deepEqual([...rate.value], [...rateWant.value]);
        assert.equal(rate.count, undefined);
        assert.equal(rate.sum, undefined);
      }
      assert.equal(got === undefined, want === undefined, `case ${k}`);
      if (!got || !want) continue;
      assert.deepEqual([...got.t], [...want.t], `case ${k}`);
      for (
        const c of ["value", "count", "sum", "min", "max", "increase"] as const
      ) {
        assert.deepEqual([...got[c]!], [...want[c]!], `case ${k} ${c}`);
      }
    }
  },
);

test("stepPoints() reads a window that needs only a chunk's last row from the edge beside it, without the chunk's bytes", () => {
  const t = Float64Array.from({ length: 60 }, (_, i) => (i + 1) * 60_000);
  const inc = Float64Array.from({ length: 60 }, (_, i) => i + 0.5);
  const bytes = encodeFrameChunk(t, [t, t, t, t, t, inc]);
  bytes[3] = 9; // column 0's kind: the bytes do not decode
  const table = new Float64Array([0, 59 * 60_000, 1, 2, 3, 4, 5, 59.5]);
  const list = new SpanList();
  list.add({ minT: 60_000, maxT: 3_600_000, bytes });
  list.edge(table, new Uint32Array(table.buffer), 1);
  const corrupt: Uint8Array[] = [];
  const steps = stepsOf([3_600_000], 60_000);
  const p = stepPoints({}, "counter", list, steps, (_, b) => corrupt.push(b), [
    "increase",
  ])!;
  assert.deepEqual([...p.t], [3_600_000]);
  assert.deepEqual([...p.increase!], [59.5]);
  assert.deepEqual([...p.value], [1]);
  assert.equal(corrupt.length, 0);
  // A window of two rows needs the chunk: it is read, and found corrupt.
  stepPoints(
    {},
    "counter",
    list,
    stepsOf([3_600_000], 120_000),
    (_, b) => corrupt.push(b),
    ["increase"],
  );
  assert.equal(corrupt.length, 1);
});

test("stepPoints() skips a chunk that does not decode and says which", () => {
  const t = new Float64Array([60_000, 120_000]);
  const good = encodeFrameChunk(t, [t, t, t, t, t]);
  const bad = good.slice();
  bad[3] = 9; // column 0's kind
  const seen: Uint8Array[] = [];
  const list = new SpanList();
  list.add({ minT: 60_000, maxT: 120_000, bytes: bad });
  list.add({
    minT: 180_000,
    maxT: 240_000,
    bytes: encodeFrameChunk(new Float64Array([180_000, 240_000]), [
      t,
      t,
      t,
      t,
      t,
    ]),
  });
  const p = stepPoints(
    {},
    "gauge",
    list,
    stepsOf([120_000, 240_000], 60_000),
    (_, bytes) => seen.push(bytes),
  )!;
  assert.equal(seen.length, 1);
  assert.deepEqual([...seen[0]], [...bad]);
  assert.deepEqual([...p.t], [180_000, 240_000]);
});

test("HistoryStore seals downsampled chunks in the frame format, and still reads downsampled chunks written before it (Gorilla, format 1)", async () => {
  await withDir(async (dir) => {
    const opts = { dir, tiers: SMALL_TIERS, flushIntervalMs: 0 };
    const s = await HistoryStore.open(opts);
    const r = s.seriesRef({ __name__: "x" }, "counter");
    for (let i = 1; i <= 300; i++) s.append(r, i * 1000, i * 3);
    await s.close();
    const [seg] = segmentFiles(dir, "10s");
    const bytes = readFileSync(seg);
    const pending: Parameters<typeof encodeChunks>[0][number][] = [];
    scanRecords(bytes, (b, start, end) => {
      const rec = parseChunkRecord(b, start, end)!;
      assert.equal(rec.bytes[0], FRAME_VERSION);
      // Re-write it as the store did before the frame format.
      const { t, columns } = decodeAnyChunk(rec.bytes);
      const e = new ChunkEncoder(columns.length);
      for (let i = 0; i < t.length; i++) {
        e.appendRow(
          t[i],
          columns.map((c) => c[i]),
        );
      }
      pending.push({
        id: rec.id,
        columns: rec.columns,
        chunk: {
          minT: rec.minT,
          maxT: rec.maxT,
          count: rec.count,
          bytes: e.finish(),
        },
      });
    });
    const before = await HistoryStore.open(opts);
    const [want] = before.select(all, 0, 1e9, 1);
    const ends = new Float64Array([50_000, 120_000, 290_000]);
    const [wantSteps] = before.selectSteps(all, ends, 20_000, 1);
    await before.close();
    writeFileSync(seg, encodeChunks(pending).bytes);
    const warnings: string[] = [];
    const again = await HistoryStore.open({
      ...opts,
      onWarning: (m) => warnings.push(m),
    });
    const [got] = again.select(all, 0, 1e9, 1);
    const [gotSteps] = again.selectSteps(all, ends, 20_000, 1);
    assert.deepEqual(warnings, []);
    assert.equal(got.t.length, 30);
    assert.deepEqual([...got.t], [...want.t]);
    assert.deepEqual([...got.increase!], [...want.increase!]);
    assert.deepEqual([...gotSteps.t], [...wantSteps.t]);
    assert.deepEqual([...gotSteps.sum!], [...wantSteps.sum!]);
    assert.deepEqual([...gotSteps.t], [
      30_000,
      40_000,
      50_000,
      100_000,
      110_000,
      120_000,
      270_000,
      280_000,
      290_000,
    ]);
    await again.close();
  });
});

test(
  "queryRange() on the minute tier answers alike through selectSteps() (the columns each function reads) and through select() per step",
  { timeout: 60_000 },
  async () => {
    const store = await HistoryStore.open({ memoryChunks: 100 });
    const rand = seededRandom(1);
    const hour = 3_600_000;
    const refs = [
      store.seriesRef({ __name__: "c", k: "a" }, "counter"),
      store.seriesRef({ __name__: "c", k: "b" }, "counter"),
      store.seriesRef({ __name__: "g", k: "a" }, "gauge"),
    ];
    const acc = [0, 0, 0];
    // Two days at 10 s, with a reset and a gap.
    for (let t = 10_000; t <= 2 * 24 * hour; t += 10_000) {
      if (t > 30 * hour && t < 31 * hour) continue;
      acc[0] = t === 20 * hour ? 0 : acc[0] + Math.floor(rand() * 100);
      acc[1] += rand() * 5;
      acc[2] = Math.round(rand() * 1000) / 10;
      refs.forEach((r, i) => store.append(r, t, acc[i]));
    }
    // The same store without selectSteps(): the evaluator selects per step.
    const plain = {
      tiers: store.tiers,
      select: store.select.bind(store),
      series: store.series.bind(store),
      labelNames: store.labelNames.bind(store),
      labelValues: store.labelValues.bind(store),
    };
    const queries = [
      "sum by (k) (rate(c[1m]))",
      "increase(c[5m])",
      "sum_over_time(g[2m])",
      "avg_over_time(g[3m])",
      "min_over_time(g[1m])",
      "max_over_time(c[2m])",
      "count_over_time(g[4m])",
      "last_over_time(g[1m])",
      "present_over_time(c[1m])",
      "g",
    ];
    const start = 2 * hour;
    const end = 47 * hour;
    for (const q of queries) {
      const opts = { nowMs: end, tier: "1m" };
      const got = queryRange(store, q, start, end, hour, opts);
      const want = queryRange(plain, q, start, end, hour, opts);
      assert.deepEqual(got, want, q);
      assert.ok(
        got.resultType === "matrix" && got.result.length > 0 &&
          got.result[0].values.length > 40,
        q,
      );
    }
    await store.close();
  },
);
