import { test } from "node:test";
import assert from "node:assert/strict";
import { estimateBytes } from "../../src/engine/size.ts";

test("estimateBytes() grows with the value", () => {
  assert.equal(estimateBytes(1), 8);
  assert.equal(estimateBytes("abcd"), 24);
  assert.ok(estimateBytes({ a: "x".repeat(1000) }) > 2000);
  assert.equal(estimateBytes(new Uint8Array(100)), 132);
});

test("estimateBytes() of a huge array visits 256 entries and counts the rest as their average", () => {
  const huge = Array.from({ length: 100_000 }, (_, i) => i);
  assert.equal(estimateBytes(huge), 16 + 100_000 * 16);
  const objects = Array.from({ length: 10_000 }, () => ({ a: 1 }));
  const exact = 16 + 10_000 * (8 + 16 + 16 + 2 + 8);
  assert.ok(Math.abs(estimateBytes(objects) - exact) / exact < 0.01);
});
