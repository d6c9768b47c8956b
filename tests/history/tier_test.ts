import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeAnyChunk } from "../../src/history/frame_chunk.ts";
import { Tier } from "../../src/history/tier.ts";
import { MAX_STREAM_BITS, OpenChunks } from "../../src/history/open_chunks.ts";

const RAW = { name: "raw", resolutionMs: 1000, retentionMs: 86_400_000 };

/** Every value `id`'s chunks in memory hold (write queue, then open chunk), in order. */
function valuesOf(tier: Tier, id: number): number[] {
  return tier.pieces(id, -Infinity, Infinity, []).flatMap((p) => [
    ...p.columns[0],
  ]);
}

test("Tier: sealed chunks waiting for the disk are read in order, whether the first read comes before or after more seals, until a flush writes them, and without those the disk budget dropped", () => {
  // No ring (a store with a data dir): reads see sealed chunks only
  // through the write queue.
  const tier = new Tier(0, RAW, 4, 0);
  tier.ensure(3);
  const ids = new Int32Array([0, 2]);
  let s = 0;
  const pass = () => {
    s++;
    tier.appendSamples(ids, new Float64Array([s, -s]), 2, s * 1000);
  };
  const upTo = (n: number, sign = 1) =>
    Array.from({ length: n }, (_, i) => sign * (i + 1));
  for (let i = 0; i < 9; i++) pass(); // two chunks each sealed, one open
  assert.equal(tier.hasPending(0), true);
  assert.equal(tier.hasPending(1), false);
  assert.deepEqual(valuesOf(tier, 0), upTo(9));
  // Seals after a read are seen by the next read.
  for (let i = 0; i < 6; i++) pass();
  assert.deepEqual(valuesOf(tier, 0), upTo(15));
  assert.deepEqual(valuesOf(tier, 2), upTo(15, -1));
  // The budget drops series 0's oldest chunk (the first sealed).
  assert.equal(tier.pending.n, 6);
  assert.equal(tier.pending.id(0), 0);
  tier.dropPending(0);
  assert.deepEqual(valuesOf(tier, 0), upTo(15).slice(4));
  assert.deepEqual(valuesOf(tier, 2), upTo(15, -1));
  // A flush writes the queue: only the open chunk is left in memory, and
  // the queue's buffer takes the next seals.
  tier.clearPending();
  assert.equal(tier.hasPending(0), false);
  assert.deepEqual(valuesOf(tier, 0), [13, 14, 15]);
  pass();
  pass(); // seals 13..16 before anything reads
  assert.deepEqual(valuesOf(tier, 0), [13, 14, 15, 16, 17]);
  assert.deepEqual(
    tier.takePending().map((p) => [p.id, p.chunk.minT]),
    [[0, 13000], [2, 13000]],
  );
});

test("Tier: raw chunks sealed while the write queue's buffer grows each keep their own bytes (no later seal writes over an earlier chunk)", () => {
  const tier = new Tier(0, RAW, 8, 0);
  const n = 3000;
  tier.ensure(n);
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  const values = new Float64Array(n);
  for (let s = 1; s <= 24; s++) {
    // A float per series and second: about 100 bytes a chunk, 9,000 of them.
    for (let i = 0; i < n; i++) values[i] = i + s / 7;
    tier.appendSamples(ids, values, n, s * 1000);
  }
  const taken = tier.takePending();
  assert.equal(taken.length, 3 * n);
  const bytes = taken.reduce((sum, p) => sum + p.chunk.bytes.length, 0);
  assert.ok(bytes > 4 * 65_536, `only ${bytes} bytes`);
  for (const { id, chunk } of taken) {
    const first = chunk.minT / 1000;
    const got = [...decodeAnyChunk(chunk.bytes).columns[0]];
    assert.deepEqual(
      got,
      Array.from({ length: 8 }, (_, k) => id + (first + k) / 7),
      `series ${id} from ${first} s`,
    );
  }
});

test("Tier: chunks of more than 65,535 rows are sealed where the stream passes its bound, each sample kept once", () => {
  // The most rows a chunk holds: steady 2-bit rows until the stream passes
  // MAX_STREAM_BITS.
  const probe = new OpenChunks(1);
  probe.ensure(1);
  let most = 0;
  while (probe.append(0, (most + 1) * 1000, 0) <= MAX_STREAM_BITS) most++;
  most++;
  assert.ok(most > 65_000 && most < 65_535, `${most}`);
  for (const append of ["one", "batch"]) {
    const tier = new Tier(
      0,
      { name: "raw", resolutionMs: 1000, retentionMs: 1e12 },
      1_000_000,
      0,
    );
    tier.ensure(1);
    const ids = new Int32Array([0]);
    const v = new Float64Array([0]);
    for (let i = 1; i <= 70_000; i++) {
      if (append === "one") tier.appendSample(0, i * 1000, 0);
      else tier.appendSamples(ids, v, 1, i * 1000);
    }
    const pending = tier.takePending();
    assert.deepEqual(pending.map((p) => p.chunk.count), [most], append);
    assert.equal(tier.openCount(0), 70_000 - most, append);
  }
});

test("Tier.appendSamples() over more series than a slice seals the same chunks in the same order as appendSample() one by one", () => {
  const series = 10_000;
  const a = new Tier(0, RAW, 3, 0);
  const b = new Tier(0, RAW, 3, 0);
  a.ensure(series);
  b.ensure(series);
  // Every series fills at once (chunks of 3 rows, no stagger), some are
  // left out of a tick.
  for (let s = 1; s <= 7; s++) {
    const ids = Int32Array.from(
      { length: series },
      (_, i) => i,
    ).filter((i) => (i + s) % 9 !== 0);
    const values = Float64Array.from(ids, (i) => i * s);
    a.appendSamples(ids, values, ids.length, s * 1000);
    for (let k = 0; k < ids.length; k++) {
      b.appendSample(ids[k], s * 1000, values[k]);
    }
  }
  const pa = a.takePending();
  const pb = b.takePending();
  assert.equal(pa.length, 2 * series);
  assert.deepEqual(pa.map((p) => p.id), pb.map((p) => p.id));
  for (let k = 0; k < pa.length; k++) {
    assert.deepEqual(pa[k].chunk.bytes, pb[k].chunk.bytes);
  }
  for (let id = 0; id < series; id += 97) {
    assert.deepEqual(valuesOf(a, id), valuesOf(b, id));
  }
});
