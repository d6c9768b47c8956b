import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeChunk } from "../../src/history/codec.ts";
import { HistoryStore } from "../../src/history/store.ts";
import { Tier } from "../../src/history/tier.ts";

// Prometheus's staleness marker is a NaN with payload 2. On Bun (JSC) a
// NaN read into a number loses its payload (JSC keeps one NaN), so every
// path that stores a sample must copy its bits, not its number: these
// failed on Bun while the raw appends and a restored open chunk did.

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

/** Float64Array `a`'s bits, `hi:lo` hex per value. */
function bits(a: Float64Array): string[] {
  const u = new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    out.push(`${u[2 * i + HI].toString(16)}:${u[2 * i + LO].toString(16)}`);
  }
  return out;
}

/** `n` values: `i + 1`, with the staleness marker at index `at`. */
function withStale(n: number, at: number): Float64Array {
  const v = Float64Array.from({ length: n }, (_, i) => i + 1);
  const u = new Uint32Array(v.buffer);
  u[2 * at + HI] = 0x7ff00000;
  u[2 * at + LO] = 2;
  return v;
}

const STALE = "7ff00000:2";

test("HistoryStore.appendBatch() keeps a staleness marker's payload in the raw tier, bit for bit", async () => {
  const store = await HistoryStore.open();
  const a = store.seriesRef({ __name__: "a" }, "gauge");
  const values = withStale(4, 2);
  for (let s = 0; s < 4; s++) {
    store.appendBatch(
      new Int32Array([a]),
      values.subarray(s, s + 1),
      1,
      (s + 1) * 1000,
    );
  }
  const [got] = store.select(
    [{ name: "__name__", type: "=", value: "a" }],
    0,
    10_000,
    0,
  );
  assert.deepEqual([...got.t], [1000, 2000, 3000, 4000]);
  assert.equal(bits(got.value)[2], STALE, "the third sample's bits");
  await store.close();
});

test("Tier.restoreOpen() keeps a staleness marker's payload in a restored open chunk, raw and downsampled", () => {
  for (const index of [0, 1]) {
    const tier = new Tier(
      index,
      {
        name: index === 0 ? "raw" : "1m",
        resolutionMs: index === 0 ? 1000 : 60_000,
        retentionMs: 86_400_000,
      },
      100,
      0,
    );
    tier.ensure(1);
    const t = new Float64Array([60_000, 120_000, 180_000]);
    const columns = index === 0
      ? [withStale(3, 1)]
      : Array.from({ length: 5 }, () => withStale(3, 1));
    tier.restoreOpen(0, t, columns, 0);
    const back = decodeChunk(tier.openChunk(0)!.bytes);
    for (let c = 0; c < columns.length; c++) {
      assert.deepEqual(
        bits(back.columns[c]),
        bits(columns[c]),
        `tier ${index}, column ${c}`,
      );
    }
  }
});

test("HistoryStore.appendBatch() keeps a staleness marker's payload when it copies the batch past a refused sample", async () => {
  const store = await HistoryStore.open();
  const a = store.seriesRef({ __name__: "a" }, "gauge");
  const b = store.seriesRef({ __name__: "b" }, "gauge");
  store.append(a, 5000, 1); // a's next sample at 2000 is refused
  const values = withStale(2, 1);
  store.appendBatch(new Int32Array([a, b]), values, 2, 2000);
  const [got] = store.select(
    [{ name: "__name__", type: "=", value: "b" }],
    0,
    10_000,
    0,
  );
  assert.deepEqual([...got.t], [2000]);
  assert.equal(bits(got.value)[0], STALE);
  await store.close();
});

test("a series the sampler no longer finds ends at once: an instant query after its staleness marker answers nothing, a range function counts only its samples", async () => {
  const { MetricsCollector } = await import("../../src/metrics/collector.ts");
  const { RESOURCE_METRICS } = await import("../../src/metrics/catalogue.ts");
  const { Sampler } = await import("../../src/history/sampler.ts");
  const { queryInstant } = await import("../../src/history/promql/mod.ts");
  const collector = new MetricsCollector();
  let exported = true;
  collector.addFamily(
    { ...RESOURCE_METRICS.threads, name: "app_level", help: "A level." },
    (out) => {
      if (exported) out.sample({}, 7);
    },
  );
  const B = 1_800_000_000_000; // on an hour
  let now = B + 60_000;
  const store = await HistoryStore.open({ now: () => now });
  const sampler = new Sampler(collector, store, {
    include: ["weir_app_level"],
    now: () => now,
  });
  for (let i = 0; i < 3; i++) {
    await sampler.sampleOnce();
    now += 1000;
  }
  exported = false; // the flow that exported it was deleted
  await sampler.sampleOnce(); // at 63 s: the staleness marker
  now += 1000;
  await sampler.sampleOnce(); // nothing more
  const at = (t: number) =>
    queryInstant(store, "weir_app_level", B + t, { nowMs: now }).result;
  assert.equal((at(62_000) as unknown[]).length, 1);
  // Within the 5-minute lookback, but after the marker: gone.
  assert.deepEqual(at(63_000), []);
  assert.deepEqual(at(100_000), []);
  const [raw] = store.select(
    [{ name: "__name__", type: "=", value: "weir_app_level" }],
    B,
    B + 200_000,
    0,
  );
  assert.deepEqual([...raw.t].map((t) => t - B), [
    60_000,
    61_000,
    62_000,
    63_000,
  ]);
  assert.equal(bits(raw.value)[3], STALE);
  const counted = queryInstant(
    store,
    "count_over_time(weir_app_level[1m])",
    B + 120_000,
    { nowMs: now },
  );
  assert.equal(counted.resultType, "vector");
  if (counted.resultType === "vector") {
    assert.deepEqual(counted.result[0]?.value, [B + 120_000, 3]);
  }
  await store.close();
});

test("a series ended by a staleness marker has its minute window closed once the minute is over (at the next flush), not after 5 minutes of silence", async () => {
  const B = 1_800_000_000_000; // on an hour
  const store = await HistoryStore.open({ now: () => B + 130_000 });
  const a = store.seriesRef({ __name__: "a" }, "gauge");
  const b = store.seriesRef({ __name__: "b" }, "gauge");
  const tick = (t: number, values: Float64Array | null) => {
    if (values === null) {
      store.appendBatch(new Int32Array([b]), new Float64Array([1]), 1, t);
    } else store.appendBatch(new Int32Array([a, b]), values, 2, t);
  };
  tick(B + 61_000, new Float64Array([5, 1]));
  tick(B + 62_000, new Float64Array([6, 1]));
  tick(B + 63_000, new Float64Array([7, 1]));
  const marker = withStale(2, 0); // a left the collector
  marker[1] = 1;
  tick(B + 64_000, marker);
  for (let s = 65; s <= 125; s++) tick(B + s * 1000, null);
  await store.flush();
  const [row] = store.select(
    [{ name: "__name__", type: "=", value: "a" }],
    B,
    B + 200_000,
    1,
  );
  assert.ok(row !== undefined, "a's minute window is there");
  assert.deepEqual([...row.t], [B + 120_000]);
  // count, sum, min, max of 5, 6, 7: the marker is no value of it.
  assert.deepEqual(
    [row.count?.[0], row.sum?.[0], row.min?.[0], row.max?.[0]],
    [3, 18, 5, 7],
  );
  await store.close();
});
