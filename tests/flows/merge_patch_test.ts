/** mergePatch(): RFC 7386 JSON merge patch. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isPlainObject, mergePatch } from "../../src/flows/merge_patch.ts";

test("mergePatch() merges objects member by member", () => {
  assert.deepEqual(
    mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 4, e: 5 } }),
    { a: 1, b: { c: 2, d: 4, e: 5 } },
  );
});

test("mergePatch() removes a member set to null", () => {
  assert.deepEqual(mergePatch({ a: 1, b: 2 }, { b: null }), { a: 1 });
});

test("mergePatch() replaces arrays and scalars whole", () => {
  assert.deepEqual(mergePatch({ a: [1, 2] }, { a: [3] }), { a: [3] });
  assert.deepEqual(mergePatch({ a: 1 }, "x"), "x");
  assert.deepEqual(mergePatch([1], { a: 1 }), { a: 1 });
});

test("mergePatch() changes neither argument", () => {
  const target = { a: { b: 1 } };
  const patch = { a: { c: 2 } };
  mergePatch(target, patch);
  assert.deepEqual(target, { a: { b: 1 } });
  assert.deepEqual(patch, { a: { c: 2 } });
});

test("mergePatch() keeps a member named __proto__ as a member", () => {
  const merged = mergePatch({}, JSON.parse('{"__proto__":{"polluted":1}}'));
  assert.ok(Object.hasOwn(merged as object, "__proto__"));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test("isPlainObject() is true for objects only, not null or arrays", () => {
  assert.deepEqual(
    [{}, [], null, "x", 1].map(isPlainObject),
    [true, false, false, false, false],
  );
});
