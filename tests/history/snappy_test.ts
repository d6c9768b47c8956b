import assert from "node:assert/strict";
import { test } from "node:test";
import snappy from "snappyjs";
import { snappyCompress } from "../../src/history/snappy.ts";
import {
  encodeLabels,
  WriteRequestEncoder,
} from "../../src/history/remote_write_proto.ts";
import { seededRandom } from "../_seeded_random.ts";

/** Compresses with weir's snappy and reads back with snappyjs (an independent decoder). */
function roundTrip(input: Uint8Array): Uint8Array {
  const packed = snappyCompress(input);
  assert.deepEqual(snappy.uncompress(packed), input);
  return packed;
}

/** The uncompressed length a snappy block starts with (its varint). */
function preamble(packed: Uint8Array): number {
  let n = 0;
  let shift = 1;
  for (let i = 0;; i++) {
    n += (packed[i] & 0x7f) * shift;
    if (packed[i] < 0x80) return n;
    shift *= 128;
  }
}

test("snappyCompress() reads back as the input across sizes around its block and margin edges", () => {
  const random = seededRandom(11);
  for (
    const n of [
      0,
      1,
      4,
      14,
      15,
      16,
      17,
      60,
      61,
      255,
      256,
      257,
      65535,
      65536,
      65537,
      131072,
      200001,
    ]
  ) {
    // Half repetitive, half random: both copies and literals.
    const input = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      input[i] = i % 1000 < 500 ? (i % 37) : Math.floor(random() * 256);
    }
    const packed = roundTrip(input);
    assert.equal(preamble(packed), n, `length of ${n}`);
  }
});

test("snappyCompress() keeps random bytes within the format's bound and repetitive ones small", () => {
  const random = seededRandom(5);
  const noise = new Uint8Array(100_000);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(random() * 256);
  const packed = roundTrip(noise);
  assert.ok(packed.length <= 32 + noise.length + noise.length / 6);
  const same = new Uint8Array(100_000).fill(42);
  assert.ok(roundTrip(same).length < 5_000);
});

test("snappyCompress() writes long matches, long literals and far and near offsets that decode", () => {
  const random = seededRandom(3);
  const parts: number[] = [];
  const chunk = (n: number) =>
    Array.from({ length: n }, () => Math.floor(random() * 256));
  // A 3000-byte literal, then repeats of it at offsets from 1 to ~60 KiB
  // and match lengths from 4 to 3000 (the copies of 64, 60 and the rest).
  const a = chunk(3000);
  parts.push(...a);
  for (const len of [4, 5, 11, 12, 63, 64, 65, 67, 68, 69, 128, 131, 3000]) {
    parts.push(...chunk(7), ...a.slice(0, len));
  }
  parts.push(...chunk(50_000), ...a.slice(100, 400));
  parts.push(...Array.from({ length: 700 }, (_, i) => i % 3));
  roundTrip(Uint8Array.from(parts));
});

test("snappyCompress() is right on a view into a larger buffer and after other inputs", () => {
  // The hash table is kept between calls: stale positions must never be
  // taken for matches in the next input.
  const random = seededRandom(9);
  for (let round = 0; round < 50; round++) {
    const n = 1 + Math.floor(random() * 70_000);
    const backing = new Uint8Array(n + 64);
    const alphabet = 1 + Math.floor(random() * 8);
    for (let i = 0; i < backing.length; i++) {
      backing[i] = Math.floor(random() * alphabet);
    }
    const at = Math.floor(random() * 64);
    roundTrip(backing.subarray(at, at + n));
  }
});

test("snappyCompress() of a remote write body decodes to the same WriteRequest bytes", () => {
  const e = new WriteRequestEncoder();
  const t = new Float64Array([1764900000000, 1764900001000, 1764900002000]);
  const v = new Float64Array([1, 2.5, NaN]);
  for (let i = 0; i < 700; i++) {
    e.addSeries(
      encodeLabels({
        __name__: "weir_process_messages_total",
        flow: `flow-${i % 40}`,
        process: `p${i}`,
      }),
      t,
      v,
      0,
      3,
    );
  }
  const body = e.bytes().slice();
  const packed = roundTrip(body);
  assert.ok(
    packed.length < body.length / 4,
    `${packed.length} of ${body.length}`,
  );
});
