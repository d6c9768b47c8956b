import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkPortValue,
  defineComponent,
  describeValue,
  parseDuration,
} from "../../src/engine/component.ts";
import { closestName, Registry } from "../../src/engine/registry.ts";
import { checkBuckets, Histogram } from "../../src/engine/histogram.ts";
import { estimateBytes } from "../../src/engine/size.ts";

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

test("defineComponent() rejects a bad declaration with a sentence", () => {
  assert.throws(
    () => defineComponent({ name: "bad name", description: "", process() {} }),
    /name must look like "family\/Name"/,
  );
  assert.throws(
    () => defineComponent({ name: "t/None", description: "" }),
    /give a process or a run function/,
  );
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

test("parseDuration() reads numbers and unit strings", () => {
  assert.equal(parseDuration(250), 250);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration(" 10 "), 10);
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
  assert.equal(describeValue("x".repeat(50)).length, 'string ""'.length + 40);
});

test("Registry resolves names and aliases and suggests the closest name", () => {
  const out = defineComponent({
    name: "core/Output",
    description: "",
    inPorts: { in: {} },
    process() {},
  });
  const r = new Registry().register(out, "noflo/Output");
  assert.equal(r.get("core/Output"), out);
  assert.equal(r.get("noflo/Output"), out);
  assert.deepEqual(r.aliasesOf("core/Output"), ["noflo/Output"]);
  assert.deepEqual(r.components(), [out]);
  assert.equal(r.closest("core/Ouptut"), "core/Output");
  assert.equal(r.closest("Output"), "core/Output");
  assert.equal(r.closest("zzzzzzzz"), undefined);
  assert.throws(() => r.register(out), /the name "core\/Output" is taken/);
  assert.equal(
    closestName("strings/SplitString", ["strings/SplitStr", "core/Kick"]),
    "strings/SplitStr",
  );
});

test("Histogram counts each value in the first bucket whose bound it does not exceed", () => {
  const h = new Histogram([1, 2, 5]);
  for (const v of [0, 1, 1.5, 2, 4.9, 5, 7]) h.observe(v);
  assert.deepEqual(h.snapshot().counts, [2, 2, 2, 1]);
  assert.equal(h.count, 7);
  assert.equal(h.sum, 21.4);
  assert.throws(() => checkBuckets([1, 1]), /must ascend/);
  assert.throws(() => checkBuckets([]), /non-empty/);
  assert.throws(() => checkBuckets([1, Infinity]), /finite/);
});

test("estimateBytes() grows with the value and stays bounded for huge ones", () => {
  assert.equal(estimateBytes(1), 8);
  assert.equal(estimateBytes("abcd"), 24);
  assert.ok(estimateBytes({ a: "x".repeat(1000) }) > 2000);
  assert.equal(estimateBytes(new Uint8Array(100)), 132);
  const huge = Array.from({ length: 100_000 }, (_, i) => i);
  assert.ok(estimateBytes(huge) < 10_000);
});
