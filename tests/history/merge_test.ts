import assert from "node:assert/strict";
import { test } from "node:test";
import { ChunkEncoder, CorruptChunkError } from "../../src/history/codec.ts";
import { mergeSamples } from "../../src/history/merge.ts";
import { type ChunkSpan, SpanList } from "../../src/history/step_read.ts";

/** A raw chunk of samples `t` (ms) with values `t / 1000` unless given. */
function chunk(t: number[], v?: ArrayLike<number>): ChunkSpan {
  const e = new ChunkEncoder();
  const row = new Float64Array(1);
  for (let i = 0; i < t.length; i++) {
    if (v instanceof Float64Array) {
      // Bit for bit (a NaN's payload too).
      new Uint32Array(row.buffer).set(new Uint32Array(v.buffer, 8 * i, 2));
    } else row[0] = v ? v[i] : t[i] / 1000;
    e.appendRow(t[i], row);
  }
  return { minT: t[0], maxT: t[t.length - 1], bytes: e.finish() };
}

/** The chunks as a reader lists them, in the order given. */
function list(...chunks: ChunkSpan[]): SpanList {
  const out = new SpanList();
  for (const c of chunks) out.add(c);
  return out;
}

const range = (from: number, to: number) => {
  const out: number[] = [];
  for (let x = from; x <= to; x += 1000) out.push(x);
  return out;
};

const base = { labels: { __name__: "x" }, kind: "counter" as const };

test("mergeSamples() merges chunks in time order, drops a chunk read twice, and cuts the range's edges", () => {
  const a = chunk(range(1000, 120_000));
  const b = chunk(range(121_000, 240_000));
  const open = chunk(range(241_000, 250_000));
  // Disk and memory may both hold a chunk; the order given is any.
  const p = mergeSamples(list(open, b, a, b, a), {
    ...base,
    start: 60_500,
    end: 245_000,
  })!;
  assert.deepEqual([...p.t], range(61_000, 245_000));
  assert.deepEqual([...p.value], range(61_000, 245_000).map((t) => t / 1000));
  assert.equal(p.noNaN, true);
  assert.equal(p.labels, base.labels);
  assert.equal(p.kind, "counter");
  assert.equal(
    mergeSamples(list(a, b), { ...base, start: 300_000, end: 400_000 }),
    undefined,
  );
  // Ends inclusive.
  assert.deepEqual(
    [...mergeSamples(list(a, b), { ...base, start: 120_000, end: 121_000 })!.t],
    [120_000, 121_000],
  );
});

test("mergeSamples() keeps values bit for bit, stale markers included, and says when there is a NaN", () => {
  const v = new Float64Array([1, 0, -0, Infinity, 5]);
  const words = new Uint32Array(v.buffer);
  const hi = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
  words[2 * 1 + hi] = 0x7ff00000; // the stale marker 0x7ff0000000000002
  words[2 * 1 + 1 - hi] = 2;
  const p = mergeSamples(list(chunk([1000, 2000, 3000, 4000, 5000], v)), {
    ...base,
    start: 0,
    end: 10_000,
  })!;
  const got = new Uint32Array(p.value.buffer, p.value.byteOffset, 10);
  assert.deepEqual([...got], [...words]);
  assert.ok(Object.is(p.value[2], -0));
  assert.equal(p.noNaN, false);
});

test("mergeSamples() keeps only the samples inside the step windows", () => {
  const ends = new Float64Array([10_000, 100_000]);
  const p = mergeSamples(list(chunk(range(1000, 120_000))), {
    ...base,
    start: 7000,
    end: 100_000,
    steps: {
      ends,
      reachMs: 3000,
      overlaps: () => true,
    },
  })!;
  assert.deepEqual([...p.t], [
    7000,
    8000,
    9000,
    10_000,
    97_000,
    98_000,
    99_000,
    100_000,
  ]);
  assert.deepEqual([...p.value], [7, 8, 9, 10, 97, 98, 99, 100]);
});

test("mergeSamples() skips a chunk that does not decode, through onCorrupt, and throws without it", () => {
  const a = chunk(range(1000, 10_000));
  const b = chunk(range(11_000, 20_000));
  const bad = { ...b, bytes: b.bytes.subarray(0, b.bytes.length - 1) };
  const errors: CorruptChunkError[] = [];
  const p = mergeSamples(list(a, bad), {
    ...base,
    start: 0,
    end: 30_000,
    onCorrupt: (e) => errors.push(e),
  })!;
  assert.deepEqual([...p.t], range(1000, 10_000));
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof CorruptChunkError);
  assert.throws(
    () => mergeSamples(list(a, bad), { ...base, start: 0, end: 30_000 }),
    CorruptChunkError,
  );
});

test("mergeSamples() with a buffer decodes into it, series after series, and grows it when short", () => {
  const buffer = { data: new Float64Array(8) };
  const small = mergeSamples(list(chunk([1000, 2000])), {
    ...base,
    start: 0,
    end: 5000,
    buffer,
  })!;
  assert.equal(small.t.buffer, buffer.data.buffer);
  assert.deepEqual([...small.value], [1, 2]);
  const big = mergeSamples(list(chunk(range(1000, 30_000))), {
    ...base,
    start: 0,
    end: 30_000,
    buffer,
  })!;
  assert.ok(buffer.data.length >= 60);
  assert.equal(big.t.buffer, buffer.data.buffer);
  assert.deepEqual([...big.t], range(1000, 30_000));
  assert.deepEqual([...big.value], range(1000, 30_000).map((t) => t / 1000));
});
