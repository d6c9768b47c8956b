import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ChunkRing,
  EDGE,
  SPAN,
  SPAN_EDGE,
  type StoredChunk,
} from "../../src/history/ring.ts";
import { seededRandom } from "../_seeded_random.ts";

test(
  "ChunkRing keeps each series' newest chunks, bytes and spans intact, through pushes, drops and compaction (seeded, against a model)",
  { timeout: 60_000 },
  () => {
    const rand = seededRandom(5);
    for (const capacity of [1, 3, 40]) {
      const ring = new ChunkRing(capacity);
      const model = new Map<number, StoredChunk[]>();
      const t = [0, 0, 0];
      for (let step = 0; step < 2000; step++) {
        const id = Math.floor(rand() * 3);
        if (rand() < 0.02) {
          const cutoff = t[Math.floor(rand() * 3)] - 50;
          let want = 0;
          for (const [k, list] of model) {
            const keep = list.filter((c) => c.maxT >= cutoff);
            want += list.length - keep.length;
            model.set(k, keep);
          }
          assert.equal(ring.dropBefore(cutoff), want);
          continue;
        }
        const len = 1 + Math.floor(rand() * 300);
        const bytes = Uint8Array.from({ length: len }, () => rand() * 256);
        const chunk = { minT: t[id], maxT: t[id] + 9, count: len, bytes };
        t[id] += 10;
        const list = model.get(id) ?? [];
        list.push({ ...chunk, bytes: bytes.slice() });
        const out = ring.push(id, chunk);
        if (list.length > capacity) {
          const gone = list.shift()!;
          assert.deepEqual(out, gone);
        } else assert.equal(out, undefined);
        model.set(id, list);
        // The series pushed to at every step, all of them now and then.
        for (const [k, want] of model) {
          if (k !== id && step % 25 !== 0) continue;
          const got = ring.chunks(k);
          assert.deepEqual(got.map((c) => c.minT), want.map((c) => c.minT));
          assert.deepEqual(
            got.map((c) => [...c.bytes]),
            want.map((c) => [...c.bytes]),
          );
          const view = ring.view(k);
          assert.equal(view ? view.n - view.first : 0, want.length);
        }
        let bytesHeld = 0;
        for (const list of model.values()) {
          for (const c of list) bytesHeld += c.bytes.length;
        }
        assert.equal(ring.bytes, bytesHeld);
      }
    }
  },
);

test("ChunkRing with capacity 0 keeps nothing and hands the chunk back", () => {
  const ring = new ChunkRing(0);
  const c = { minT: 1, maxT: 2, count: 1, bytes: new Uint8Array(1) };
  assert.equal(ring.push(0, c), c);
  assert.deepEqual(ring.chunks(0), []);
  assert.equal(ring.view(0), undefined);
});

test("ChunkRing keeps each chunk's edge bit for bit beside it, through compaction; a chunk pushed without one has none", () => {
  const ring = new ChunkRing(2);
  const edge = new Float64Array(EDGE);
  const bits = new Uint32Array(edge.buffer);
  for (let k = 0; k < 9; k++) {
    edge[0] = k * 10 + 5;
    for (let c = 1; c < EDGE; c++) edge[c] = k * 100 + c;
    bits[2 * 6] = 2; // a NaN with payload 2 (the stale marker) in column 5
    bits[2 * 6 + 1] = 0x7ff00000;
    const chunk = {
      minT: k * 10,
      maxT: k * 10 + 9,
      count: 2,
      bytes: new Uint8Array(300),
    };
    ring.push(0, chunk, k === 8 ? undefined : edge);
  }
  const view = ring.view(0)!;
  assert.equal(view.n - view.first, 2);
  const s = view.first * SPAN + SPAN_EDGE;
  assert.deepEqual([...view.spans.subarray(s, s + 5)], [
    75,
    701,
    702,
    703,
    704,
  ]);
  assert.deepEqual([...view.spansU32.subarray(2 * (s + 6), 2 * (s + 7))], [
    2,
    0x7ff00000,
  ]);
  assert.ok(Number.isNaN(view.spans[(view.first + 1) * SPAN + SPAN_EDGE]));
});

test("ChunkRing.allocatedBytes counts each series' buffer and span table, room for growth included", () => {
  const ring = new ChunkRing(4);
  assert.equal(ring.allocatedBytes, 0);
  const chunk = (t: number) => ({
    minT: t,
    maxT: t + 9,
    count: 10,
    bytes: new Uint8Array(4).fill(1),
  });
  for (let id = 0; id < 10; id++) ring.push(id, chunk(0));
  // 4 bytes held a series, but each took a 256-byte buffer and a span
  // table of 8 chunks (SPAN float64s each).
  assert.equal(ring.bytes, 40);
  const perSeries = ring.allocatedBytes / 10;
  assert.ok(Number.isInteger(perSeries) && perSeries > 256, `${perSeries}`);
  // Chunks dropped from a full ring free no memory; growth is counted.
  for (let t = 1; t < 200; t++) ring.push(0, chunk(t * 10));
  assert.equal(ring.bytes, 4 * 4 + 36);
  assert.ok(ring.allocatedBytes >= 10 * perSeries);
});
