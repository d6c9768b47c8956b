import { test } from "node:test";
import assert from "node:assert/strict";
import { fakeContext, runComponent } from "./_helpers.ts";
import { FlowFilter } from "../../src/components/flow.ts";

test("flow/Filter with fn forwards truthy messages on out and the rest on rejected", async () => {
  const { outputs } = await runComponent(FlowFilter, {
    iips: { fn: (v: unknown) => (v as number) % 2 === 0 },
    input: [1, 2, 3, 4, 5, 6],
  });
  assert.deepEqual(outputs.out, [2, 4, 6]);
  assert.deepEqual(outputs.rejected, [1, 3, 5]);
});

test("flow/Filter with a JSONata expr forwards the messages it holds for", async () => {
  const readings = [{ temp: 25 }, { temp: 31 }, { temp: 40 }, { temp: 12 }];
  const { outputs } = await runComponent(FlowFilter, {
    iips: { expr: "temp > 30" },
    input: readings,
  });
  assert.deepEqual(outputs.out, [{ temp: 31 }, { temp: 40 }]);
  assert.deepEqual(outputs.rejected, [{ temp: 25 }, { temp: 12 }]);
});

test("flow/Filter with an async fn keeps the order of messages", async () => {
  const { outputs } = await runComponent(FlowFilter, {
    iips: { fn: (v: unknown) => Promise.resolve((v as number) > 1) },
    input: [3, 1, 2],
  });
  assert.deepEqual(outputs.out, [3, 2]);
});

test("flow/Filter drops rejected messages when rejected is not connected", async () => {
  const { outputs, errors } = await runComponent(FlowFilter, {
    iips: { fn: (v: unknown) => v !== "no" },
    input: ["yes", "no", "ok"],
    capture: ["out"],
  });
  assert.deepEqual(outputs, { out: ["yes", "ok"] });
  assert.deepEqual(errors, []);
});

test("flow/Filter with a synchronous fn returns no promise from its activation", () => {
  const { ctx, sent } = fakeContext(FlowFilter, { fn: () => false });
  assert.equal(FlowFilter.process!(1, ctx), undefined);
  assert.deepEqual(sent, [["rejected", 1]]);
});

test("flow/Filter rejects a message whose expr evaluates to undefined", async () => {
  const { outputs } = await runComponent(FlowFilter, {
    iips: { expr: "flag" },
    input: [{ flag: true }, {}, { flag: 0 }],
  });
  assert.deepEqual(outputs.out, [{ flag: true }]);
  assert.deepEqual(outputs.rejected, [{}, { flag: 0 }]);
});

test("flow/Filter sends a JSONata evaluation error to its error port and tests the next", async () => {
  const { outputs, errors } = await runComponent(FlowFilter, {
    iips: { expr: "n > 1" },
    input: [{ n: "x" }, { n: 5 }],
    capture: ["out", "rejected", "error"],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, [{ n: 5 }]);
  assert.deepEqual(outputs.rejected, []);
  assert.equal(outputs.error.length, 1);
  assert.match(
    (outputs.error[0] as Error).message,
    /JSONata expression failed at position \d+: /,
  );
});

test("flow/Filter with a throwing fn sends the error and tests the next", async () => {
  const { outputs, errors } = await runComponent(FlowFilter, {
    iips: {
      fn: (v: unknown) => {
        if (v === null) throw new TypeError("null reading");
        return true;
      },
    },
    input: [1, null, 2],
  });
  assert.deepEqual(outputs.out, [1, 2]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].input, null);
  assert.match(errors[0].message, /null reading$/);
});

test("flow/Filter with both fn and expr fails every message with a sentence", async () => {
  const { outputs, errors } = await runComponent(FlowFilter, {
    iips: { fn: () => true, expr: "true" },
    input: [1, 2],
  });
  assert.deepEqual(outputs.out, []);
  assert.equal(errors.length, 2);
  for (const e of errors) {
    assert.match(
      e.message,
      /flow\/Filter takes an fn or an expr option, not both$/,
    );
  }
});
