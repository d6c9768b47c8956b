import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { scanRecords } from "../../src/history/record_frame.ts";
import { parseChunkRecord } from "../../src/history/segments.ts";
import { HistoryStore } from "../../src/history/store.ts";
import { segmentFiles, withDir } from "./_store_fixtures.ts";

const eq = (name: string, value: string) => ({
  name,
  type: "=" as const,
  value,
});

test("HistoryStore.select() on raw: the samples in [start, end], value only", async () => {
  const s = await HistoryStore.open();
  const a = s.seriesRef({ __name__: "q", flow: "a" }, "gauge");
  const b = s.seriesRef({ __name__: "q", flow: "b" }, "gauge");
  for (let i = 1; i <= 300; i++) {
    s.append(a, i * 1000, i);
    s.append(b, i * 1000, -i);
  }
  const [pa] = s.select([eq("flow", "a")], 10_000, 250_000, 0);
  assert.equal(pa.t.length, 241);
  assert.equal(pa.t[0], 10_000);
  assert.equal(pa.t[240], 250_000);
  assert.equal(pa.value[5], 15);
  assert.equal(pa.count, undefined);
  assert.equal(pa.increase, undefined);
  assert.deepEqual(pa.labels, { __name__: "q", flow: "a" });
  assert.equal(pa.kind, "gauge");
  const both = s.select([eq("__name__", "q")], 0, 2000, 0);
  assert.deepEqual(both.map((p) => [...p.value]), [[1, 2], [-1, -2]]);
  // A range with no points returns no series.
  assert.deepEqual(s.select([eq("__name__", "q")], 400_000, 500_000, 0), []);
  await s.close();
});

test("HistoryStore: downsampled tiers hold window aggregates; counters also their increase", async () => {
  const s = await HistoryStore.open();
  const c = s.seriesRef({ __name__: "msgs_total" }, "counter");
  const g = s.seriesRef({ __name__: "depth" }, "gauge");
  // 3 minutes at 1 s; the counter resets at 90 s.
  for (let i = 1; i <= 180; i++) {
    s.append(c, i * 1000, i <= 90 ? i * 2 : i - 90);
    s.append(g, i * 1000, i % 10);
  }
  s.append(c, 181_000, 91);
  s.append(g, 181_000, 0);
  const [pc] = s.select([eq("__name__", "msgs_total")], 0, 1e9, 1);
  assert.deepEqual([...pc.t], [60_000, 120_000, 180_000]);
  assert.deepEqual([...pc.count!], [60, 60, 60]);
  assert.deepEqual([...pc.value], [120, 30, 90]);
  // (0, 60]: 2..120 → +118; (60, 120]: 120 → 180 then reset to 1 → 30 = +60 +1 +29;
  // (120, 180]: 30 → 90 = +60.
  assert.deepEqual([...pc.increase!], [118, 90, 60]);
  assert.deepEqual([...pc.min!], [2, 1, 31]);
  assert.deepEqual([...pc.max!], [120, 180, 90]);
  const [pg] = s.select([eq("__name__", "depth")], 0, 1e9, 1);
  assert.equal(pg.increase, undefined);
  assert.deepEqual([...pg.sum!], [270, 270, 270]);
  assert.deepEqual([...pg.min!], [0, 0, 0]);
  // The hour tier has no closed window yet.
  assert.deepEqual(s.select([eq("__name__", "depth")], 0, 1e9, 2), []);
  await s.close();
});

test("HistoryStore.append() drops and counts out-of-order and duplicate timestamps", async () => {
  const s = await HistoryStore.open();
  const r = s.seriesRef({ __name__: "x" }, "gauge");
  s.append(r, 2000, 1);
  s.append(r, 2000, 2);
  s.append(r, 1000, 3);
  s.append(r, 3000, 4);
  s.append(r, NaN, 5);
  const [p] = s.select([], 0, 10_000, 0);
  assert.deepEqual([...p.t], [2000, 3000]);
  assert.deepEqual([...p.value], [1, 4]);
  const st = s.stats();
  assert.equal(st.samplesAppended, 2);
  assert.equal(st.outOfOrderDropped, 3);
  assert.throws(() => s.append(99, 5000, 1), /no series has ref 99/);
  assert.throws(
    () => s.append(r, 5000.5, 1),
    /t must be an integer number of ms, received 5000.5/,
  );
  assert.throws(() => s.append(r, Infinity, 1), /received Infinity/);
  await s.close();
});

test("HistoryStore keeps values bit-exact: NaN, -0, infinities", async () => {
  const s = await HistoryStore.open();
  const r = s.seriesRef({ __name__: "x" }, "untyped");
  const values = [NaN, -0, Infinity, -Infinity, 1e-300];
  values.forEach((v, i) => s.append(r, (i + 1) * 1000, v));
  const [p] = s.select([], 0, 10_000, 0);
  assert.deepEqual([...p.value], values);
  assert.ok(Object.is(p.value[1], -0));
  await s.close();
});

test("HistoryStore in memory: a ring per series keeps memory flat as time goes by", async () => {
  const s = await HistoryStore.open({
    memoryChunks: 2,
    tiers: [{
      name: "raw",
      resolutionMs: 1000,
      retentionMs: 1e12,
      chunkRows: 10,
    }],
  });
  const r = s.seriesRef({ __name__: "x" }, "gauge");
  let t = 0;
  const sizes: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 1000; i++) s.append(r, t += 1000, i);
    sizes.push(s.stats().tiers[0].memoryBytes);
  }
  // Two sealed chunks of 10 samples each, whatever the time: the sizes
  // differ only by a byte or two of varint as timestamps grow.
  assert.ok(sizes.every((b) => Math.abs(b - sizes[0]) <= 4), `grew: ${sizes}`);
  // One 64 KiB page of blocks and the state arrays, no more.
  assert.ok(sizes[0] < 80_000, `${sizes[0]} bytes for 20 samples`);
  // Only the last two sealed chunks (20 samples) are left.
  const [p] = s.select([], 0, t, 0);
  assert.equal(p.t.length, 20);
  assert.equal(p.t[19], t);
  await s.close();
});

test("HistoryStore: series, label names and values of the series with points in range", async () => {
  const s = await HistoryStore.open();
  const a = s.seriesRef({ __name__: "m", flow: "a", port: "in" }, "counter");
  const b = s.seriesRef({ __name__: "m", flow: "b" }, "counter");
  s.seriesRef({ __name__: "never" }, "gauge");
  s.append(a, 1000, 1);
  s.append(b, 5000, 1);
  assert.deepEqual(s.series([eq("__name__", "m")], 0, 2000), [
    { __name__: "m", flow: "a", port: "in" },
  ]);
  assert.deepEqual(s.labelNames([], 0, 10_000), ["__name__", "flow", "port"]);
  assert.deepEqual(s.labelValues("flow", [], 0, 10_000), ["a", "b"]);
  assert.deepEqual(s.labelValues("__name__", [], 0, 10_000), ["m"]);
  assert.equal(s.stats().series, 3);
  await s.close();
});

test("HistoryStore: series started together seal their first raw chunks at different sizes", async () => {
  await withDir(async (dir) => {
    const s = await HistoryStore.open({
      dir,
      flushIntervalMs: 0,
      now: () => 0,
    });
    const refs = Array.from(
      { length: 50 },
      (_, i) => s.seriesRef({ __name__: "x", i: String(i) }, "gauge"),
    );
    for (let t = 1; t <= 130; t++) {
      for (const r of refs) s.append(r, t * 1000, t);
    }
    await s.flush();
    // Per series, its chunks' rows in order.
    const counts = new Map<number, number[]>();
    for (const file of segmentFiles(dir, "raw")) {
      scanRecords(readFileSync(file), (b, start, end) => {
        const r = parseChunkRecord(b, start, end)!;
        counts.set(r.id, [...counts.get(r.id) ?? [], r.count]);
      });
    }
    // A first chunk per series, cut at 1..120 rows by its id (open chunks
    // then hold 60 rows each on average, not all the same share), and
    // then chunks of 120.
    assert.equal(counts.size, 50);
    const firsts = [...counts.values()].map((c) => c[0]);
    assert.ok(firsts.every((n) => n >= 1 && n <= 120), `${firsts}`);
    assert.ok(new Set(firsts).size > 20, `${firsts}`);
    assert.ok(firsts.some((n) => n < 60), `${firsts}`);
    for (const c of counts.values()) {
      assert.ok(c.length === 1 || (c.length === 2 && c[1] === 120), `${c}`);
      assert.equal(c.length, c[0] <= 10 ? 2 : 1, `${c}`);
    }
    // Every series still has all its samples.
    assert.ok(s.select([], 0, 1e9, 0).every((p) => p.t.length === 130));
    await s.close();
  });
});

test("HistoryStore.open() refuses bad tiers with a clear error", async () => {
  await assert.rejects(
    async () =>
      await HistoryStore.open({
        tiers: [{ name: "raw", resolutionMs: 500, retentionMs: 1 }],
      }),
    /raw tier's resolutionMs must equal intervalMs 1000, received 500/,
  );
  await assert.rejects(
    async () =>
      await HistoryStore.open({
        tiers: [
          { name: "raw", resolutionMs: 1000, retentionMs: 1 },
          { name: "../x", resolutionMs: 60_000, retentionMs: 1 },
        ],
      }),
    /tier names must be distinct words/,
  );
});

test("HistoryStore.appendBatch() stores what append() one by one stores, on every tier (seeded: counters with resets, gauges, gaps, repeated refs, 2.5 hours)", async () => {
  const one = await HistoryStore.open();
  const batch = await HistoryStore.open();
  let seed = 77;
  const r = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const kinds = ["counter", "gauge", "counter", "untyped", "gauge"] as const;
  const refs = kinds.map((kind, i) => {
    const labels = { __name__: `m${i}`, flow: "f" };
    const a = one.seriesRef(labels, kind);
    assert.equal(batch.seriesRef(labels, kind), a);
    return a;
  });
  const values = kinds.map(() => 0);
  for (let s = 1; s <= 9000; s++) {
    const t = s * 1000 + (s > 5000 && s < 5100 ? 7 : 0);
    const ids: number[] = [];
    const vs: number[] = [];
    refs.forEach((ref, i) => {
      if (r() < 0.1) return; // a gap
      values[i] = kinds[i] === "counter"
        ? (r() < 0.01 ? 0 : values[i] + Math.floor(r() * 50))
        : Math.floor(r() * 1000) / 4;
      ids.push(ref);
      vs.push(values[i]);
      if (r() < 0.02) {
        ids.push(ref); // the same series twice: the second is dropped
        vs.push(-1);
      }
    });
    ids.forEach((ref, i) => one.append(ref, t, vs[i]));
    batch.appendBatch(new Int32Array(ids), new Float64Array(vs), ids.length, t);
  }
  for (let tier = 0; tier < 3; tier++) {
    const a = one.select([eq("flow", "f")], 0, 1e8, tier);
    const b = batch.select([eq("flow", "f")], 0, 1e8, tier);
    assert.deepEqual(b, a, `tier ${tier}`);
    assert.ok(a.length === refs.length, `tier ${tier} has every series`);
  }
  const sa = one.stats();
  const sb = batch.stats();
  assert.equal(sb.samplesAppended, sa.samplesAppended);
  assert.equal(sb.outOfOrderDropped, sa.outOfOrderDropped);
  assert.ok(sa.outOfOrderDropped > 0);
  await one.close();
  await batch.close();
});

test("HistoryStore.appendBatch() throws for an unknown ref or a fractional time after appending the samples before it", async () => {
  const s = await HistoryStore.open();
  const a = s.seriesRef({ __name__: "a" }, "gauge");
  assert.throws(
    () =>
      s.appendBatch(new Int32Array([a, 99]), new Float64Array([1, 2]), 2, 1000),
    /no series has ref 99/,
  );
  assert.deepEqual([...s.select([], 0, 5000, 0)[0].value], [1]);
  assert.throws(
    () => s.appendBatch(new Int32Array([a]), new Float64Array([3]), 1, 2000.5),
    /t must be an integer number of ms, received 2000.5/,
  );
  // A time not after the last is dropped and counted, not refused.
  s.appendBatch(new Int32Array([a]), new Float64Array([3]), 1, 500.5);
  assert.equal(s.stats().outOfOrderDropped, 1);
  await s.close();
});

test("HistoryStore: a sample at t = 0 (or -0) makes no minute row, in append() and appendBatch(); it took the row another series had just closed", async () => {
  for (const batch of [false, true]) {
    for (const zero of [0, -0]) {
      const s = await HistoryStore.open();
      const a = s.seriesRef({ __name__: "a" }, "gauge");
      const b = s.seriesRef({ __name__: "b" }, "gauge");
      // b closes its window ending at -60,000 with 222: the aggregator's row.
      s.append(b, -60_000, 222);
      if (batch) {
        s.appendBatch(new Int32Array([a]), new Float64Array([5]), 1, zero);
      } else s.append(a, zero, 5);
      s.append(a, 1000, 6);
      const name = `${batch ? "appendBatch" : "append"} at ${
        Object.is(zero, -0) ? "-0" : "0"
      }`;
      const minute = s.select([eq("__name__", "a")], -1e9, 1e9, 1);
      for (const p of minute) {
        assert.ok(!p.value.includes(222), `${name}: ${[...p.value]}`);
        assert.ok(!Array.from(p.t).includes(0), `${name}: ${[...p.t]}`);
      }
      const raw = s.select([eq("__name__", "a")], -1e9, 1e9, 0);
      assert.deepEqual([...raw[0].value], [5, 6], name);
      await s.close();
    }
  }
});
