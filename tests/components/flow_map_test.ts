import { test } from "node:test";
import assert from "node:assert/strict";
import { fakeContext, runComponent } from "./_helpers.ts";
import { FlowMap } from "../../src/components/flow.ts";
import type { ProcessError } from "../../src/engine/errors.ts";

test("flow/Map with fn sends fn(value) for each message, in order", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: { fn: (v: unknown) => (v as number) * 10 },
    input: [1, 2, 3],
  });
  assert.deepEqual(outputs.out, [10, 20, 30]);
  assert.deepEqual(errors, []);
});

test("flow/Map with an async fn sends the awaited results in order", async () => {
  const { outputs } = await runComponent(FlowMap, {
    iips: {
      fn: async (v: unknown) => {
        await new Promise((r) => setTimeout(r, 3 - (v as number)));
        return `#${v}`;
      },
    },
    input: [1, 2, 3],
  });
  assert.deepEqual(outputs.out, ["#1", "#2", "#3"]);
});

test("flow/Map with a synchronous fn returns no promise from its activation", () => {
  const { ctx, sent } = fakeContext(FlowMap, { fn: (v: unknown) => [v] });
  const returned = FlowMap.process!(7, ctx);
  assert.equal(returned, undefined);
  assert.deepEqual(sent, [["out", [7]]]);
});

test("flow/Map with a JSONata expr sends the expression's result", async () => {
  const { outputs } = await runComponent(FlowMap, {
    iips: { expr: "{ 'total': price * qty, 'name': $uppercase(name) }" },
    input: [
      { name: "nut", price: 2, qty: 3 },
      { name: "bolt", price: 5, qty: 1 },
    ],
  });
  assert.deepEqual(outputs.out, [
    { total: 6, name: "NUT" },
    { total: 5, name: "BOLT" },
  ]);
});

test("flow/Map sends what a JSONata expr builds as plain objects and arrays", async () => {
  const { outputs } = await runComponent(FlowMap, {
    iips: { expr: "items.{ 'p': price }" },
    input: [{ items: [{ price: 1 }, { price: 2 }] }],
  });
  const [result] = outputs.out as [{ p: number }[]];
  assert.deepEqual(Object.keys(result), ["0", "1"]);
  assert.equal(Object.getPrototypeOf(result[0]), Object.prototype);
  assert.deepEqual(result, [{ p: 1 }, { p: 2 }]);
});

test("flow/Map sends the parts of the input a JSONata expr selects by reference", async () => {
  const inner = { deep: [1, 2] };
  const { outputs } = await runComponent(FlowMap, {
    iips: { expr: "a" },
    input: [{ a: inner }],
  });
  assert.equal(outputs.out[0], inner);
});

test("flow/Map reports a failing fn and goes on with the next message", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: {
      fn: (v: unknown) => {
        if (v === 2) throw new Error("two is not allowed");
        return v;
      },
    },
    input: [1, 2, 3],
  });
  assert.deepEqual(outputs.out, [1, 3]);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /two is not allowed/);
  assert.equal(errors[0].input, 2);
});

test("flow/Map reports a JSONata evaluation error as an Error with its position", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: { expr: "$number(x) + 'a'" },
    input: [{ x: "1" }],
  });
  assert.deepEqual(outputs.out, []);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /JSONata expression failed at position \d+: /,
  );
});

test("flow/Map without fn or expr fails every message with a sentence", async () => {
  const { outputs, errors } = await runComponent(FlowMap, { input: [1, 2] });
  assert.deepEqual(outputs.out, []);
  assert.equal(errors.length, 2);
  assert.match(
    errors[0].message,
    /flow\/Map needs an fn or an expr option, and neither is set/,
  );
});

test("flow/Map with both fn and expr fails the message", async () => {
  const { errors } = await runComponent(FlowMap, {
    iips: { fn: (v: unknown) => v, expr: "$" },
    input: [1],
  });
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /takes an fn or an expr option, not both/);
});

test("flow/Map's expr port rejects a JSONata syntax error, naming the position", () => {
  assert.throws(
    () => FlowMap.inPorts.expr.parse!("price * "),
    (e: unknown) =>
      e instanceof SyntaxError &&
      /^invalid JSONata expression "price \* " at position \d+: /.test(
        e.message,
      ),
  );
});

test("flow/Map's fn port rejects a value that is not a function", () => {
  assert.throws(
    () => FlowMap.inPorts.fn.parse!("x => x"),
    {
      name: "TypeError",
      message:
        'expected a function (value) => result, received string "x => x"',
    },
  );
});

test("flow/Map sends an async fn's rejection to its error port and maps the next", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: {
      fn: async (v: unknown) => {
        await Promise.resolve();
        if (v === 2) throw new RangeError("no twos");
        return (v as number) * 2;
      },
    },
    input: [1, 2, 3],
    capture: ["out", "error"],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, [2, 6]);
  assert.equal(outputs.error.length, 1);
  const e = outputs.error[0] as ProcessError;
  assert.equal(e.input, 2);
  assert.ok(e.cause instanceof RangeError);
  assert.equal(e.message, 'process "T" failed on in-port "in": no twos');
});

test("flow/Map reports a JSONata type error at evaluation with JSONata's own words", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: { expr: "name + 1" },
    input: [{ name: "bolt" }, { name: 2 }],
    capture: ["out", "error"],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, [3]);
  assert.equal(outputs.error.length, 1);
  assert.equal(
    (outputs.error[0] as Error).message,
    'process "T" failed on in-port "in": JSONata expression failed at position 6: The left side of the "+" operator must evaluate to a number',
  );
});

test("flow/Map reports calling an unknown JSONata function with a sentence", async () => {
  const { errors } = await runComponent(FlowMap, {
    iips: { expr: "$nosuch(x)" },
    input: [{ x: 1 }],
  });
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /JSONata expression failed at position \d+: Attempted to invoke a non-function/,
  );
});

test("flow/Map sends undefined when a JSONata path matches nothing", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: { expr: "missing.field" },
    input: [{ a: 1 }, { missing: { field: 7 } }],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, [undefined, 7]);
});
