import assert from "node:assert/strict";
import { test } from "node:test";
import { AppendTap } from "../../src/history/append_tap.ts";
import type { AppendListener } from "../../src/history/store.ts";

/** A tap fed by hand: `append(t, refs, values)` is what a store reports. */
function fedTap(spanMs = 60_000) {
  let listener: AppendListener | undefined;
  const tap = new AppendTap(
    (l) => {
      listener = l;
      return () => listener = undefined;
    },
    0,
    spanMs,
  );
  const append = (t: number, refs: Int32Array, values: Float64Array) =>
    listener!(t, refs, values, refs.length);
  return { tap, append };
}

/** Every series' samples as `ref: t=v ...`, sorted by ref. */
function readAll(tap: AppendTap, start: number, end: number): string[] {
  const t = new Float64Array(tap.size(start, end));
  const v = new Float64Array(t.length);
  const seen: string[] = [];
  tap.readInto(start, end, t, v, (ref, off, n) => {
    const samples = [];
    for (let i = off; i < off + n; i++) samples.push(`${t[i]}=${v[i]}`);
    seen.push(`${ref}: ${samples.join(" ")}`);
  });
  return seen.sort();
}

test("AppendTap.readInto() gives each series its samples in time order when every tick appended the same series", () => {
  const { tap, append } = fedTap();
  const refs = Int32Array.of(7, 2, 5);
  for (let s = 1; s <= 4; s++) {
    append(s * 1000, refs, Float64Array.of(s, 10 * s, 100 * s));
  }
  assert.deepEqual(readAll(tap, 1000, 4000), [
    "2: 2000=20 3000=30 4000=40",
    "5: 2000=200 3000=300 4000=400",
    "7: 2000=2 3000=3 4000=4",
  ]);
});

test("AppendTap.readInto() reads the same when the series change between ticks or one is appended twice", () => {
  const { tap, append } = fedTap();
  append(1000, Int32Array.of(1, 2), Float64Array.of(1, 2));
  append(2000, Int32Array.of(1, 2, 3), Float64Array.of(11, 12, 13));
  // Series 1 twice in one tick: both samples kept, in the order appended.
  append(3000, Int32Array.of(1, 1, 3), Float64Array.of(21, 22, 23));
  assert.deepEqual(readAll(tap, 0, 3000), [
    "1: 1000=1 2000=11 3000=21 3000=22",
    "2: 1000=2 2000=12",
    "3: 2000=13 3000=23",
  ]);
  // Then ticks that share one set again (the first read of a set checks it).
  const refs = Int32Array.of(3, 1);
  append(4000, refs, Float64Array.of(33, 31));
  append(5000, refs, Float64Array.of(43, 41));
  assert.deepEqual(readAll(tap, 3000, 5000), [
    "1: 4000=31 5000=41",
    "3: 4000=33 5000=43",
  ]);
});

test("AppendTap.readInto() keeps a NaN's bits (the stale marker) when ticks share their series", () => {
  const { tap, append } = fedTap();
  // Written by its bits: read as a number, JavaScriptCore would make it
  // the canonical NaN before the tap saw it.
  const second = Float64Array.of(0, 3);
  new BigUint64Array(second.buffer)[0] = 0x7ff0000000000002n;
  const refs = Int32Array.of(0, 1);
  append(1000, refs, Float64Array.of(1, 2));
  append(2000, refs, second);
  const t = new Float64Array(4);
  const v = new Float64Array(4);
  const bits = new BigUint64Array(v.buffer);
  const got = new Map<number, bigint[]>();
  tap.readInto(0, 2000, t, v, (ref, off, n) => {
    got.set(ref, [...bits.subarray(off, off + n)]);
  });
  assert.deepEqual(got.get(0)?.[1], 0x7ff0000000000002n);
  assert.equal(got.get(1)?.length, 2);
});

test("AppendTap.readPicked() lays out the picked series in the picked order, and refuses a window whose ticks differ or a pick out of range", () => {
  const { tap, append } = fedTap();
  const refs = Int32Array.of(4, 9, 6);
  for (let s = 1; s <= 3; s++) {
    append(s * 1000, refs, Float64Array.of(s, 10 * s, 100 * s));
  }
  const shared = tap.shared(0, 3000);
  assert.deepEqual(shared && [...shared.refs], [4, 9, 6]);
  assert.equal(shared?.ticks, 3);
  const t = new Float64Array(6);
  const v = new Float64Array(6);
  // Series 6 then 4; 9 left out.
  tap.readPicked(0, 3000, Int32Array.of(2, 0), t, v);
  assert.deepEqual([...v], [100, 200, 300, 1, 2, 3]);
  assert.deepEqual([...t], [1000, 2000, 3000, 1000, 2000, 3000]);
  assert.throws(
    () => tap.readPicked(0, 3000, Int32Array.of(3), t, v),
    /index 3 at 0 is not one of the 3 series/,
  );
  assert.throws(
    () => tap.readPicked(0, 3000, Int32Array.of(0, 1, 2), t.subarray(0, 8), v),
    RangeError,
  );
  append(4000, Int32Array.of(4, 9), Float64Array.of(4, 40));
  assert.equal(tap.shared(0, 4000), undefined);
  assert.throws(
    () => tap.readPicked(0, 4000, Int32Array.of(0), t, v),
    /not a window of ticks that share their series/,
  );
});
