import { test } from "node:test";
import assert from "node:assert/strict";
import { _setPath } from "../../src/components/_message_path.ts";

test("_setPath() refuses an index far past the end of the message itself, naming the message", () => {
  assert.throws(() => _setPath([1], [20_000], "x"), {
    name: "RangeError",
    message:
      "cannot write [20000]: index 20000 is 19999 items past the end of the message (1 items), and a write may leave at most 10000 unset before it",
  });
  assert.throws(
    () => _setPath(null, [20_000], "x"),
    /past the end of the message \(0 items\)/,
  );
});

test("_setPath() bounds the holes of an array only: an object takes a far index as a key, and a number or a string fails as no object", () => {
  assert.deepEqual(_setPath({ a: {} }, ["a", 999_999_999], 1), {
    a: { 999999999: 1 },
  });
  assert.throws(() => _setPath({ a: 5 }, ["a", 999_999_999], 1), {
    name: "TypeError",
    message: 'cannot write a[999999999]: "a" holds number 5',
  });
  assert.throws(() => _setPath("text", [999_999_999], 1), {
    name: "TypeError",
    message:
      'cannot write [999999999]: the message is string "text", not an object',
  });
});
