import assert from "node:assert/strict";
import { test } from "node:test";
import { SegmentIndex } from "../../src/history/segments.ts";

test("SegmentIndex keeps ids and offsets in 32 bits (28 bytes an entry) and turns a column 64-bit, entries kept, when one does not fit", () => {
  const index = new SegmentIndex();
  const n = 5000;
  for (let k = 0; k < n; k++) {
    index.add(
      k * 7,
      1.7e12 + k * 1000,
      1.7e12 + k * 1000 + 999,
      k * 60,
      k * 60 + 60,
    );
  }
  assert.ok(index.id instanceof Uint32Array);
  assert.ok(index.to instanceof Uint32Array);
  // 8192 entries of room: 4 + 8 + 8 + 4 + 4 bytes each.
  assert.equal(index.memoryBytes, 8192 * 28);
  index.add(0xffffffff + 1, 5, 6, 0xffffffff - 3, 0xffffffff + 5);
  assert.ok(index.id instanceof Float64Array);
  assert.ok(index.from instanceof Float64Array);
  assert.ok(index.to instanceof Float64Array);
  assert.equal(index.n, n + 1);
  for (let k = 0; k < n; k++) {
    assert.equal(index.id[k], k * 7);
    assert.equal(index.minT[k], 1.7e12 + k * 1000);
    assert.equal(index.from[k], k * 60);
    assert.equal(index.to[k], k * 60 + 60);
  }
  assert.equal(index.id[n], 0xffffffff + 1);
  assert.equal(index.from[n], 0xffffffff - 3);
  assert.equal(index.to[n], 0xffffffff + 5);
});
