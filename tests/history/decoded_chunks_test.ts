import assert from "node:assert/strict";
import { test } from "node:test";
import { ChunkEncoder } from "../../src/history/codec.ts";
import { DecodedChunks } from "../../src/history/decoded_chunks.ts";
import { mergeSamples } from "../../src/history/merge.ts";
import { type ChunkSpan, SpanList } from "../../src/history/step_read.ts";
import { HistoryStore } from "../../src/history/store.ts";

/** A raw chunk of samples at times `t` with values `v` (bit for bit). */
function chunk(t: number[], v: Float64Array): ChunkSpan {
  const e = new ChunkEncoder();
  const row = new Float64Array(1);
  for (let i = 0; i < t.length; i++) {
    new Uint32Array(row.buffer).set(new Uint32Array(v.buffer, 8 * i, 2));
    e.appendRow(t[i], row);
  }
  return { minT: t[0], maxT: t[t.length - 1], bytes: e.finish() };
}

const base = { labels: { __name__: "x" }, kind: "counter" as const };

/** The bits of a Float64Array, for comparisons that tell NaN payloads apart. */
const bits = (a: Float64Array) =>
  Array.from(new Uint32Array(a.buffer, a.byteOffset, 2 * a.length));

test("mergeSamples() with a cache: a chunk decoded a second time is kept, and the third read copies it, bit for bit (NaN payloads, irregular times)", () => {
  const cache = new DecodedChunks(1 << 20);
  const staleBits = new Float64Array(3);
  new Uint32Array(staleBits.buffer).set([1, 0x7ff00000, 5, 6, 0, 0x40080000]);
  const a = chunk([1000, 2000, 3000], new Float64Array([1, 2, 4]));
  const b = chunk([4000, 5500, 7500], staleBits); // a NaN with a payload
  const c = chunk([8000, 9000], new Float64Array([9, 10]));
  const read = () => {
    const parts = new SpanList();
    for (const x of [a, b, c]) parts.add(x);
    parts.markOpen(); // c is open: never cached
    cache.beginQuery();
    return mergeSamples(parts, {
      ...base,
      start: 2000,
      end: 9000,
      cache: { chunks: cache, id: 3 },
    })!;
  };
  const first = read();
  assert.equal(cache.misses, 2, "a and b looked up, c (open) not");
  assert.equal(cache.bytes, 0, "a chunk decoded once is not kept");
  read();
  assert.equal(cache.misses, 4);
  assert.equal(cache.bytes, 512 * 1024, "decoded twice: kept (one slab)");
  const second = read();
  assert.equal(cache.hits, 2, "a and b come from the cache");
  assert.equal(cache.misses, 4);
  assert.deepEqual([...second.t], [2000, 3000, 4000, 5500, 7500, 8000, 9000]);
  assert.deepEqual(bits(second.value), bits(first.value));
  assert.deepEqual([...second.t], [...first.t]);
  assert.equal(second.noNaN, false);
  assert.equal(second.rises, false);
});

test("mergeSamples() says a series rises only when no value falls and none is a NaN", () => {
  const up = chunk([1000, 2000], new Float64Array([1, 2]));
  const up2 = chunk([3000, 4000], new Float64Array([2, 5]));
  const fall = chunk([3000, 4000], new Float64Array([1.5, 5]));
  const merge = (...chunks: ChunkSpan[]) => {
    const parts = new SpanList();
    for (const x of chunks) parts.add(x);
    return mergeSamples(parts, { ...base, start: 0, end: 10_000 })!;
  };
  assert.equal(merge(up, up2).rises, true);
  assert.equal(merge(up, fall).rises, false, "a fall between two chunks");
  assert.equal(
    merge(chunk([1000, 2000], new Float64Array([3, 1]))).rises,
    false,
  );
  assert.equal(
    merge(chunk([1000, 2000], new Float64Array([1, NaN]))).rises,
    false,
  );
});

/** Puts the first `n` samples of `t`, `v` as series `id`'s chunk (as a reader does: one buffer). */
function keep(
  cache: DecodedChunks,
  id: number,
  t: Float64Array,
  v: Float64Array,
  n: number,
): void {
  const buf = new Float64Array(2 * n);
  buf.set(t.subarray(0, n));
  buf.set(v.subarray(0, n), n);
  const maxT = n === 10 ? 9000 : t[n - 1];
  cache.put(
    id,
    0,
    maxT,
    50,
    buf,
    0,
    n,
    n,
    false,
    true,
  );
}

test("DecodedChunks stays within its bound and keeps what the running query uses", () => {
  const SLAB = 512 * 1024;
  // Two slabs, each room for 6 chunks of 10,000 samples on a regular grid.
  const cache = new DecodedChunks(2 * SLAB);
  const n = 10_000;
  const t = Float64Array.from({ length: n }, (_, i) => 1000 * i);
  const v = Float64Array.from({ length: n }, (_, i) => i);
  const put = (id: number) => keep(cache, id, t, v, n);
  const held = (id: number) => cache.find(id, 0, t[n - 1], 50) !== undefined;
  cache.beginQuery();
  for (let id = 0; id < 13; id++) put(id);
  assert.equal(cache.bytes, 2 * SLAB);
  assert.ok(held(0) && held(11));
  assert.ok(!held(12), "a third slab would pass the bound: not kept");
  // A new query uses chunk 7 (the second slab): the first slab goes.
  cache.beginQuery();
  assert.ok(held(7));
  put(13);
  assert.equal(cache.bytes, 2 * SLAB);
  assert.ok(!held(0) && !held(5), "the oldest slab's chunks are gone");
  assert.ok(held(13) && held(6));
  // This query used both slabs now: nothing more is kept.
  for (let id = 14; id < 20; id++) put(id);
  assert.ok(held(18) && !held(19));
  assert.ok(held(7));
  // Irregular times cost their own 8 bytes a sample, and come back exact.
  const irregular = Float64Array.from(t, (x, i) => x + (i === 5 ? 1 : 0));
  const big = new DecodedChunks(SLAB);
  keep(big, 0, irregular, v, 10);
  const outT = new Float64Array(10);
  big.copy(big.find(0, 0, 9000, 50)!, outT, new Float64Array(10), 0);
  assert.deepEqual([...outT], [...irregular.subarray(0, 10)]);
  // Below a slab, nothing is cached.
  const off = new DecodedChunks(0);
  keep(off, 0, t, v, 10);
  assert.equal(off.find(0, 0, 9000, 50), undefined);
  assert.equal(off.bytes, 0);
  assert.throws(() => new DecodedChunks(-1), /maxBytes must be/);
});

test("HistoryStore queries give the same samples with the decoded-chunk cache on and off, in memory and read back from disk", async () => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "weir-decoded-"));
  try {
    const fill = async (options: Parameters<typeof HistoryStore.open>[0]) => {
      const store = await HistoryStore.open({
        ...options,
        now: () => 2_000_000,
        flushIntervalMs: 0,
      });
      for (let s = 0; s < 3; s++) {
        const ref = store.seriesRef({ __name__: "c", s: String(s) }, "counter");
        for (let i = 1; i <= 700; i++) {
          // A reset at 400 s in series 1; irregular times in series 2.
          const tMs = i * 1000 + (s === 2 && i % 7 === 0 ? 3 : 0);
          store.append(ref, tMs, s === 1 && i >= 400 ? i - 400 : i * (s + 1));
        }
      }
      return store;
    };
    const read = (store: HistoryStore) => {
      const out: string[] = [];
      store.selectEach([], 50_000, 650_000, 0, (p) => {
        out.push(
          `${p.labels.s} ${p.rises} ${[...p.t].join(",")} ${
            [...p.value].join(",")
          }`,
        );
      });
      return out.sort();
    };
    const off = await fill({ decodedCacheBytes: 0 });
    const want = read(off);
    assert.equal(want.length, 3);
    assert.match(want[1], /^1 false /, "series 1 has a reset");
    assert.match(want[0], /^0 true /);
    const on = await fill({ dir });
    await on.flush();
    assert.deepEqual(read(on), want, "first read (decodes)");
    assert.deepEqual(read(on), want, "second read (from the cache)");
    await on.close();
    const again = await HistoryStore.open({ dir, now: () => 2_000_000 });
    assert.deepEqual(read(again), want, "after a restart, from disk");
    assert.deepEqual(read(again), want, "and again");
    await again.close();
    await off.close();
  } finally {
    rmSync(dir, { recursive: true });
  }
});
