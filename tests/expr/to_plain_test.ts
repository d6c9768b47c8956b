import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression } from "../../src/expr/compile_expression.ts";
import { toPlain } from "../../src/expr/to_plain.ts";

test("toPlain gives an object JSONata built a prototype", async () => {
  const built = await compileExpression("{ 'a': 1 }", { compile: false })
    .evaluate({});
  assert.equal(Object.getPrototypeOf(built), null);
  const plain = toPlain(built);
  assert.equal(Object.getPrototypeOf(plain), Object.prototype);
  assert.deepEqual(plain, { a: 1 });
});

test("toPlain copies an array JSONata flagged as a sequence without the flag", async () => {
  const built = await compileExpression("items.p").evaluate({
    items: [{ p: 1 }, { p: 2 }],
  });
  assert.equal(Object.hasOwn(built as object, "sequence"), true);
  const plain = toPlain(built) as unknown[];
  assert.equal(Object.hasOwn(plain, "sequence"), false);
  assert.deepEqual(plain, [1, 2]);
});

test("toPlain returns parts of the input by reference", () => {
  const input = { items: [{ p: 1 }], at: new Date(0) };
  assert.equal(toPlain(input), input);
  assert.equal(toPlain(input.items), input.items);
});

test("toPlain copies an unflagged array only when an item needed copying", () => {
  const inner = Object.assign(Object.create(null), { a: 1 });
  const kept = { b: 2 };
  const array = [kept, inner];
  const plain = toPlain(array) as unknown[];
  assert.notEqual(plain, array);
  assert.equal(plain[0], kept);
  assert.deepEqual(plain[1], { a: 1 });
  assert.equal(Object.getPrototypeOf(plain[1]), Object.prototype);
});

test("toPlain returns primitives unchanged", () => {
  for (const value of [1, "s", true, null, undefined]) {
    assert.equal(toPlain(value), value);
  }
});

test("toPlain leaves what is nested deeper than 100 levels as it is", () => {
  let deep: Record<string, unknown> = Object.create(null);
  const innermost = deep;
  for (let i = 0; i < 105; i++) {
    const outer: Record<string, unknown> = Object.create(null);
    outer.next = deep;
    deep = outer;
  }
  let plain = toPlain(deep) as Record<string, unknown>;
  let level = 0;
  while (plain !== innermost && level < 200) {
    plain = plain.next as Record<string, unknown>;
    level++;
  }
  assert.equal(plain, innermost);
  assert.equal(level, 105);
});

test("toPlain leaves alone the plain object a compiled object constructor builds", () => {
  const built = compileExpression("{ 'a': x.y, 'b': 1 }").evaluateNow({
    x: [{ y: 1 }, { y: 2 }],
  });
  assert.equal(Object.getPrototypeOf(built), Object.prototype);
  assert.equal(toPlain(built), built);
  assert.equal(Object.hasOwn((built as { a: object }).a, "sequence"), false);
  assert.deepEqual(built, { a: [1, 2], b: 1 });
});
