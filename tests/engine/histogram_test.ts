import { test } from "node:test";
import assert from "node:assert/strict";
import { checkBuckets, Histogram } from "../../src/engine/histogram.ts";

test("Histogram counts each value in the first bucket whose bound it does not exceed", () => {
  const h = new Histogram([1, 2, 5]);
  for (const v of [0, 1, 1.5, 2, 4.9, 5, 7]) h.observe(v);
  assert.deepEqual(h.snapshot().counts, [2, 2, 2, 1]);
  assert.equal(h.count, 7);
  assert.equal(h.sum, 21.4);
});

test("checkBuckets() refuses bounds that do not ascend, are empty or are not finite", () => {
  assert.throws(() => checkBuckets([1, 1]), /must ascend/);
  assert.throws(() => checkBuckets([]), /non-empty/);
  assert.throws(() => checkBuckets([1, Infinity]), /finite/);
});
