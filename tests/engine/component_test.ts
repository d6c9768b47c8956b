import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkPortValue,
  defineComponent,
  describeValue,
  parseDuration,
} from "../../src/engine/component.ts";

test("defineComponent() fills in port defaults", () => {
  const c = defineComponent({
    name: "t/Ports",
    description: "Ports.",
    inPorts: { in: {}, cfg: { control: true } },
    outPorts: { out: { type: "number" } },
    process() {},
  });
  assert.equal(c.inPorts.in.type, "any");
  assert.equal(c.inPorts.in.multiple, true);
  assert.equal(c.inPorts.cfg.multiple, false);
  assert.equal(c.outPorts.out.type, "number");
  assert.equal(c.concurrency, 1);
  assert.ok(Object.isFrozen(c));
});

test("defineComponent() refuses a name not shaped family/Name", () => {
  assert.throws(
    () => defineComponent({ name: "bad name", description: "", process() {} }),
    /name must look like "family\/Name"/,
  );
});

test("defineComponent() refuses a component with neither a process nor a run function", () => {
  assert.throws(
    () => defineComponent({ name: "t/None", description: "" }),
    /give a process or a run function/,
  );
});

test("defineComponent() refuses a component with both a process and a run function", () => {
  assert.throws(
    () =>
      defineComponent({
        name: "t/Both",
        description: "",
        process() {},
        run: async () => {},
      }),
    /not both/,
  );
});

test("defineComponent() refuses an unknown port type and lists the known ones", () => {
  assert.throws(
    () =>
      defineComponent({
        name: "t/Type",
        description: "",
        // @ts-expect-error: an unknown type, as a graph author might write it
        inPorts: { in: { type: "text" } },
        process() {},
      }),
    /in-port "in" has unknown type "text"; use one of any, string/,
  );
});

test("defineComponent() refuses a port name every JavaScript object has", () => {
  assert.throws(
    () =>
      defineComponent({
        name: "t/Reserved",
        description: "",
        inPorts: { constructor: {} },
        process() {},
      }),
    /in-port name "constructor" is reserved/,
  );
});

test("defineComponent() refuses a concurrency below 1 with a RangeError", () => {
  assert.throws(
    () =>
      defineComponent({
        name: "t/Conc",
        description: "",
        concurrency: 0,
        process() {},
      }),
    RangeError,
  );
});

test("parseDuration() reads a bare number as milliseconds and strings with a unit", () => {
  assert.equal(parseDuration(250), 250);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration(" 10 "), 10);
});

test("parseDuration() refuses an unknown unit or a negative number with a RangeError", () => {
  assert.throws(
    () => parseDuration("1x"),
    /expected a duration .* received string "1x"/,
  );
  assert.throws(() => parseDuration(-1), RangeError);
});

test("checkPortValue() says what is wrong with a value", () => {
  assert.equal(checkPortValue("number", 3), undefined);
  assert.equal(
    checkPortValue("number", "3"),
    'expected a number, received string "3"',
  );
  assert.equal(
    checkPortValue("integer", 1.5),
    "expected an integer, received number 1.5",
  );
  assert.equal(
    checkPortValue("object", []),
    "expected an object, received array of 0",
  );
  assert.equal(checkPortValue("array", [1]), undefined);
  assert.equal(checkPortValue("any", null), undefined);
  assert.match(checkPortValue("duration", "soon")!, /expected a duration/);
});

test("describeValue() cuts a long string to 40 characters", () => {
  assert.equal(describeValue("x".repeat(50)).length, 'string ""'.length + 40);
});
