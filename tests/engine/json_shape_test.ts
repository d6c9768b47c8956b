/**
 * `_jsonShapeProblem`: how deep a value nests and how long its JSON text
 * would at least be, counting shared objects wherever they are written,
 * without walking every path through them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { _jsonShapeProblem } from "../../src/engine/_json_shape.ts";

/** `levels` arrays, each holding the one below twice (2^levels leaves). */
function doubled(levels: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = [v, v];
  return v;
}

test("a value shared in many places counts its text wherever it is written, measured in time linear in its objects", () => {
  // 2^20 leaves: the text is 2^20 "1"s with brackets and commas.
  const v = doubled(20);
  const text = JSON.stringify(v).length;
  assert.equal(_jsonShapeProblem(v, 1000, text), undefined);
  assert.equal(_jsonShapeProblem(v, 1000, text - 1), "long");
  // 2^60 paths: answered from its 60 arrays (walking the paths never ends).
  assert.equal(_jsonShapeProblem(doubled(60), 1000, 1e12), "long");
  assert.equal(_jsonShapeProblem(doubled(60), 50, 1e12), "deep");
});

test("the length is the text's exactly for arrays, objects, one-digit numbers and plain strings, and never more than it", () => {
  const exact: unknown[] = [
    [],
    {},
    [1, [2, 3], { a: "x", bc: [] }],
    { "k": { "l": { "m": "nnn" } }, "o": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
    Array.from({ length: 5000 }, (_, i) => ({ i: i % 10, s: "ab" })),
  ];
  for (const v of exact) {
    const n = JSON.stringify(v).length;
    assert.equal(
      _jsonShapeProblem(v, 1000, n),
      undefined,
      JSON.stringify(v).slice(0, 40),
    );
    assert.equal(
      _jsonShapeProblem(v, 1000, n - 1),
      "long",
      JSON.stringify(v).slice(0, 40),
    );
  }
  // Longer numbers, escapes, true/false/null and left-out members: the
  // count stays under the text.
  const under: unknown[] = [
    [123456.789, true, null, false, 'a"b\n', undefined, () => 1],
    { a: undefined, b: () => 1, c: Symbol("s"), d: 1e21 },
    { bytes: new Uint8Array(10), date: new Date(0) },
  ];
  for (const v of under) {
    const n = JSON.stringify(v).length;
    assert.equal(_jsonShapeProblem(v, 1000, n), undefined);
  }
});

test("a small value is looked at quickly and a large one walked: both give the same answers", () => {
  // 5,000 objects: past the quick look's 4,096.
  const wide = Array.from({ length: 5000 }, () => ({ a: [1] }));
  const n = JSON.stringify(wide).length;
  assert.equal(_jsonShapeProblem(wide, 1000, n), undefined);
  assert.equal(_jsonShapeProblem(wide, 1000, n - 1), "long");
  assert.equal(_jsonShapeProblem(wide, 2, n), "deep");
  assert.equal(_jsonShapeProblem(wide, 3, n), undefined);
  // Deeper than the quick look's 64 levels.
  let deep: unknown = "x";
  for (let i = 0; i < 100; i++) deep = { a: deep };
  const d = JSON.stringify(deep).length;
  assert.equal(_jsonShapeProblem(deep, 100, d), undefined);
  assert.equal(_jsonShapeProblem(deep, 99, d), "deep");
  assert.equal(_jsonShapeProblem(deep, 100, d - 1), "long");
  // A string alone; a cycle is not followed (JSON.stringify says why).
  assert.equal(_jsonShapeProblem("abc", 10, 5), undefined);
  assert.equal(_jsonShapeProblem("abc", 10, 4), "long");
  const loop: Record<string, unknown> = { a: 1 };
  loop.self = loop;
  assert.equal(_jsonShapeProblem(loop, 10, 100), undefined);
});
