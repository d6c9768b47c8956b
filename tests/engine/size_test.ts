import { test } from "node:test";
import assert from "node:assert/strict";
import { estimateBytes } from "../../src/engine/size.ts";

test("estimateBytes() grows with the value", () => {
  assert.equal(estimateBytes(1), 8);
  assert.equal(estimateBytes("abcd"), 24);
  assert.ok(estimateBytes({ a: "x".repeat(1000) }) > 2000);
  assert.equal(estimateBytes(new Uint8Array(100)), 132);
});

test("estimateBytes() stays bounded for a huge value", () => {
  const huge = Array.from({ length: 100_000 }, (_, i) => i);
  assert.ok(estimateBytes(huge) < 10_000);
});
