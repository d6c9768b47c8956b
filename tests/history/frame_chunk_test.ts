import assert from "node:assert/strict";
import { test } from "node:test";
import { ChunkEncoder, CorruptChunkError } from "../../src/history/codec.ts";
import {
  decodeAnyChunk,
  decodeFrameChunk,
  encodeFrameChunk,
  encodeFrameChunkTo,
  FrameReader,
} from "../../src/history/frame_chunk.ts";
import { ByteWriter } from "../../src/history/_bytes.ts";
import { seededRandom } from "../_seeded_random.ts";

/** Bits of a float64 as a string (NaN payloads and -0 compare exactly). */
function bits(x: Float64Array, i: number): string {
  const u = new Uint32Array(x.buffer, x.byteOffset + 8 * i, 2);
  return `${u[0]}:${u[1]}`;
}

/** A column of one of the shapes the downsampled tiers hold. */
function column(rand: () => number, n: number): Float64Array {
  const out = new Float64Array(n);
  const u = new Uint32Array(out.buffer);
  const shape = Math.floor(rand() * 9);
  let acc = Math.floor(rand() * 1e6);
  for (let i = 0; i < n; i++) {
    switch (shape) {
      case 0: // a constant
        out[i] = 60;
        break;
      case 1: // an integer counter
        out[i] = acc += Math.floor(rand() * 50);
        break;
      case 2: // a float gauge
        out[i] = Math.round(rand() * 1e5) / 1000;
        break;
      case 3: // any bits, NaN payloads included
        u[2 * i] = Math.floor(rand() * 2 ** 32);
        u[2 * i + 1] = Math.floor(rand() * 2 ** 32);
        break;
      case 4: // specials
        out[i] = [NaN, -0, 0, Infinity, -Infinity, 5e-324, -1][
          Math.floor(rand() * 7)
        ];
        break;
      case 5: // near 2^53, where a line could lose precision
        out[i] = 2 ** 53 - 1 - Math.floor(rand() * 3) * 2 ** 20;
        break;
      case 6: // a decreasing integer run with a jump
        out[i] = i === n >> 1 ? -1e15 : 1000 - i * 7;
        break;
      case 7: // the stale marker
        u[2 * i] = 2;
        u[2 * i + 1] = 0x7ff00000;
        break;
      default: // a float counter
        out[i] = acc += rand() * 3;
    }
  }
  return out;
}

function times(rand: () => number, n: number): Float64Array {
  const t = new Float64Array(n);
  let x = Math.floor(rand() * 1e12 / 60_000) * 60_000;
  const regular = rand() < 0.5;
  for (let i = 0; i < n; i++) {
    t[i] = x;
    x += regular ? 60_000 : 60_000 * (1 + Math.floor(rand() * 3)) +
      (rand() < 0.1 ? Math.floor(rand() * 999) : 0);
  }
  return t;
}

test(
  "encodeFrameChunk() then decodeFrameChunk() and FrameReader give every time and value back bit for bit (3,000 seeded chunks)",
  { timeout: 60_000 },
  () => {
    const rand = seededRandom(14);
    const reader = new FrameReader();
    for (let k = 0; k < 3000; k++) {
      const n = 1 + Math.floor(rand() * 70);
      const cols = 1 + Math.floor(rand() * 6);
      const t = times(rand, n);
      const columns = Array.from({ length: cols }, () => column(rand, n));
      const bytes = encodeFrameChunk(t, columns);
      const back = decodeFrameChunk(bytes);
      assert.deepEqual([...back.t], [...t], `case ${k}`);
      reader.reset(bytes);
      assert.equal(reader.count, n);
      assert.equal(reader.columns, cols);
      const one = new Float64Array(1);
      for (let c = 0; c < cols; c++) {
        for (let i = 0; i < n; i++) {
          assert.equal(
            bits(back.columns[c], i),
            bits(columns[c], i),
            `case ${k} column ${c} row ${i}`,
          );
          reader.copy(c + 1, i, one, 0);
          assert.equal(
            bits(one, 0),
            bits(columns[c], i),
            `case ${k} copy ${c} ${i}`,
          );
        }
      }
      for (let i = 0; i < n; i++) assert.equal(reader.time(i), t[i]);
    }
  },
);

test("FrameReader.lowerBound() and upperBound() find rows as a scan does, on regular and irregular times", () => {
  const rand = seededRandom(7);
  const reader = new FrameReader();
  for (let k = 0; k < 300; k++) {
    const n = 1 + Math.floor(rand() * 60);
    const t = times(rand, n);
    reader.reset(encodeFrameChunk(t, [new Float64Array(n)]));
    for (let q = 0; q < 20; q++) {
      const x = t[0] - 120_000 +
        Math.floor(rand() * (t[n - 1] - t[0] + 240_000));
      const probe = q % 2 === 0 ? x : t[Math.floor(rand() * n)];
      assert.equal(
        reader.lowerBound(probe),
        t.findIndex((v) => v >= probe) < 0 ? n : t.findIndex((v) => v >= probe),
      );
      assert.equal(
        reader.upperBound(probe),
        t.findIndex((v) => v > probe) < 0 ? n : t.findIndex((v) => v > probe),
      );
    }
  }
});

test("a regular minute chunk of a steady counter is a few bytes a row; its times and count column cost nothing", () => {
  const n = 60;
  const t = Float64Array.from({ length: n }, (_, i) => (i + 1) * 60_000);
  const count = new Float64Array(n).fill(60);
  const value = Float64Array.from(
    { length: n },
    (_, i) => 1e6 + i * 1200 + (i % 5),
  );
  const bytes = encodeFrameChunk(t, [value, count]);
  // Header 3 + 3 line descriptors of 14 + value 3 bits a row + 4 pad.
  assert.equal(bytes.length, 3 + 3 * 14 + Math.ceil(3 * n / 8) + 4);
});

test("FrameReader.reset() refuses every truncation, a wrong version, 0 columns and an unknown kind with CorruptChunkError", () => {
  const rand = seededRandom(3);
  const t = times(rand, 20);
  const bytes = encodeFrameChunk(t, [column(rand, 20), column(rand, 20)]);
  const reader = new FrameReader();
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(
      () => reader.reset(bytes.subarray(0, cut)),
      CorruptChunkError,
      `cut ${cut}`,
    );
  }
  const variant = (f: (b: Uint8Array) => void) => {
    const b = bytes.slice();
    f(b);
    return b;
  };
  assert.throws(
    () => reader.reset(variant((b) => b[0] = 1)),
    /not a frame chunk/,
  );
  assert.throws(() => reader.reset(variant((b) => b[1] = 0)), /0 columns/);
  assert.throws(
    () => reader.reset(variant((b) => b[3] = 7)),
    /column 0 has kind 7/,
  );
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.throws(() => reader.reset(longer), /the columns end at byte/);
});

test("encodeFrameChunk() refuses times out of order or not whole, and columns shorter than the times", () => {
  const one = new Float64Array([1]);
  assert.throws(
    () => encodeFrameChunk(new Float64Array([2, 1]), [new Float64Array(2)]),
    /times must be whole ms in order/,
  );
  assert.throws(
    () => encodeFrameChunk(new Float64Array([1.5]), [one]),
    /times must be whole ms in order, received 1.5/,
  );
  assert.throws(
    () => encodeFrameChunk(new Float64Array([1, 2]), [one]),
    /a column has 1 rows, fewer than 2/,
  );
  assert.throws(
    () => encodeFrameChunk(one, []),
    /1 to 255 columns, received 0/,
  );
});

test("decodeAnyChunk() reads both formats: Gorilla chunks written before the frame format still decode", () => {
  const e = new ChunkEncoder(2);
  e.appendRow(60_000, [5, 60]);
  e.appendRow(120_000, [6, 60]);
  const old = decodeAnyChunk(e.finish());
  assert.deepEqual([...old.t], [60_000, 120_000]);
  assert.deepEqual([...old.columns[0]], [5, 6]);
  const now = decodeAnyChunk(encodeFrameChunk(old.t, old.columns));
  assert.deepEqual([...now.columns[1]], [60, 60]);
});

test("encodeFrameChunk() gives a chunk the same bytes whatever was encoded before it (its per-column plans are reused), also from columns that share one buffer at any offset", () => {
  const rand = seededRandom(14);
  // A wide chunk of xor columns (a plan's every field set), then a narrow
  // chunk of line columns: each encoded first and after the other.
  const wideT = Float64Array.from({ length: 90 }, (_, i) => 1000 + i * 7);
  const wide = Array.from(
    { length: 7 },
    () => Float64Array.from({ length: 90 }, () => rand() * 1e9),
  );
  const narrowT = Float64Array.from({ length: 60 }, (_, i) => (i + 1) * 60_000);
  const narrow = [Float64Array.from({ length: 60 }, (_, i) => 5 + 3 * i)];
  const narrowFirst = encodeFrameChunk(narrowT, narrow);
  const wideFirst = encodeFrameChunk(wideT, wide);
  assert.deepEqual(encodeFrameChunk(narrowT, narrow), narrowFirst);
  assert.deepEqual(encodeFrameChunk(wideT, wide), wideFirst);
  // The same columns as views into one buffer, at an odd float offset.
  const one = new Float64Array(1 + 8 * 90);
  const at = (c: number) => one.subarray(1 + c * 90, 1 + (c + 1) * 90);
  at(0).set(wideT);
  wide.forEach((col, c) => at(c + 1).set(col));
  const views = wide.map((_, c) => at(c + 1));
  assert.deepEqual(encodeFrameChunk(at(0), views), wideFirst);
  const back = decodeFrameChunk(wideFirst);
  for (let c = 0; c < 7; c++) {
    for (let i = 0; i < 90; i++) {
      assert.equal(bits(back.columns[c], i), bits(wide[c], i));
    }
  }
});

test("encodeFrameChunkTo() appends the bytes encodeFrameChunk() gives, also into a reused buffer whose old bytes are not zero", () => {
  const rand = seededRandom(26);
  const w = new ByteWriter(64);
  for (let k = 0; k < 500; k++) {
    // Every tenth round starts over in the buffer, now full of old bytes.
    if (k % 10 === 0) {
      w.buffer.fill(0xff);
      w.reset();
    }
    const n = 1 + Math.floor(rand() * 70);
    const t = times(rand, n);
    const cols = Array.from(
      { length: 1 + Math.floor(rand() * 6) },
      () => column(rand, n),
    );
    const before = w.length;
    w.u8(0xaa); // something before the chunk
    const at = encodeFrameChunkTo(w, t, cols, n);
    assert.equal(at, before + 1);
    assert.equal(w.buffer[before], 0xaa);
    assert.deepEqual(w.bytes().subarray(at), encodeFrameChunk(t, cols, n));
  }
});
