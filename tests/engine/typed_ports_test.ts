/**
 * Typed ports: a port's declared `type` types, in TypeScript, the value a
 * process receives and what its out-ports accept. The `@ts-expect-error`
 * lines are checked by `deno check` (the static step): each must stay an
 * error. Components whose bodies hold such lines are defined but never run.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkPortValue,
  defineComponent,
  END,
  PORT_TYPES,
  type PortType,
  type PortValue,
  type PortValueMap,
} from "../../src/engine/component.ts";
import { network, sinkInto, sourceOf } from "./_helpers.ts";

/** `true` when `A` and `B` are the same type, else `false`. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends
  (<T>() => T extends B ? 1 : 2) ? true : false;

/** Compiles only when its type argument is `true`. */
function assertType<T extends true>(_proof: T): void {}

test("PortValueMap gives a TypeScript type to every port type, and checkPortValue() accepts a value of each", () => {
  assertType<Equal<keyof PortValueMap, PortType>>(true);
  const samples: { [T in PortType]: PortValueMap[T] } = {
    any: null,
    string: "s",
    number: 1.5,
    integer: 2,
    boolean: true,
    object: { a: 1 },
    array: [1, "two"],
    bang: undefined,
    function: (x: number) => x * 2,
    duration: "1.5s",
  };
  for (const type of PORT_TYPES) {
    assert.equal(checkPortValue(type, samples[type]), undefined, type);
  }
});

test("PortValue maps a declared type to its TypeScript type and an undeclared one to unknown", () => {
  assertType<Equal<PortValue<{ type: "number" }>, number>>(true);
  assertType<Equal<PortValue<{ type: "integer" }>, number>>(true);
  assertType<Equal<PortValue<{ type: "string" }>, string>>(true);
  assertType<Equal<PortValue<{ type: "boolean" }>, boolean>>(true);
  assertType<Equal<PortValue<{ type: "array" }>, unknown[]>>(true);
  assertType<
    Equal<PortValue<{ type: "object" }>, Record<string, unknown>>
  >(true);
  assertType<Equal<PortValue<{ type: "duration" }>, number | string>>(true);
  assertType<Equal<PortValue<{ type: "any" }>, unknown>>(true);
  assertType<Equal<PortValue<{ type: "bang" }>, unknown>>(true);
  assertType<Equal<PortValue<{ description: "untyped" }>, unknown>>(true);
  // @ts-expect-error: a number port's values are not strings
  assertType<Equal<PortValue<{ type: "number" }>, string>>(true);
});

test("defineComponent() types the value of process() from a typed in-port, and a typed pipeline runs", async () => {
  const got: unknown[] = [];
  const Double = defineComponent({
    name: "test/Double",
    description: "Doubles numbers.",
    inPorts: { in: { type: "number" } },
    outPorts: { out: { type: "number" } },
    process(value, ctx) {
      assertType<Equal<typeof value, number>>(true);
      ctx.send("out", value * 2);
    },
  });
  const net = network(
    { S: sourceOf([1, 2, 3]), D: Double, K: sinkInto(got) },
    ["S.out>D.in", "D.out>K.in"],
  );
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.deepEqual(got, [2, 4, 6]);
});

test("defineComponent() types the value of process() as the union of the data in-ports, leaving out control ports", async () => {
  const seen: [string, string][] = [];
  const Both = defineComponent({
    name: "test/Both",
    description: "Records the port and the type of each value.",
    inPorts: {
      n: { type: "number" },
      s: { type: "string" },
      on: { type: "boolean", control: true, default: true },
    },
    process(value, ctx) {
      assertType<Equal<typeof value, number | string>>(true);
      seen.push([ctx.port, typeof value]);
    },
  });
  const net = network(
    { N: sourceOf([1]), S: sourceOf(["a"]), B: Both },
    ["N.out>B.n", "S.out>B.s"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(seen.sort(), [["n", "number"], ["s", "string"]]);
});

test("defineComponent() leaves the value unknown when a data in-port declares no type or type any", () => {
  const Untyped = defineComponent({
    name: "test/Untyped",
    description: "One typed and one untyped data port.",
    inPorts: { a: { type: "number" }, b: {} },
    process(value) {
      assertType<Equal<typeof value, unknown>>(true);
    },
  });
  const Any = defineComponent({
    name: "test/Any",
    description: "A port of type any.",
    inPorts: { in: { type: "any" } },
    process(value) {
      assertType<Equal<typeof value, unknown>>(true);
    },
  });
  const NoPorts = defineComponent({
    name: "test/NoPorts",
    description: "No in-ports declared.",
    process(value) {
      assertType<Equal<typeof value, unknown>>(true);
    },
  });
  assert.deepEqual(
    [Untyped, Any, NoPorts].map((c) => Object.keys(c.inPorts)),
    [["a", "b"], ["in"], []],
  );
});

test("ctx.send() and ctx.out accept only declared out-port names and values of their types", () => {
  const Sender = defineComponent({
    name: "test/Sender",
    description: "Never run: its body is checked by the compiler.",
    inPorts: { in: { type: "string" } },
    outPorts: {
      text: { type: "string" },
      items: { type: "array" },
      raw: {},
    },
    process(value, ctx) {
      ctx.send("text", value);
      ctx.send("items", [value]);
      ctx.send("raw", Symbol("anything"));
      ctx.out.items.send([1, 2]);
      // The error port is there even when not declared, and takes anything.
      ctx.send("error", new Error("no"));
      // @ts-expect-error: "txt" is not an out-port
      ctx.send("txt", value);
      // @ts-expect-error: the text port takes strings
      ctx.send("text", 1);
      // @ts-expect-error: the items port takes arrays
      ctx.out.items.send(value);
      // @ts-expect-error: no out-port "nope" in ctx.out
      ctx.out.nope?.send(value);
    },
  });
  assert.deepEqual(Object.keys(Sender.outPorts).sort(), [
    "error",
    "items",
    "raw",
    "text",
  ]);
});

test("a declared error out-port keeps its own type", () => {
  const Strict = defineComponent({
    name: "test/StrictError",
    description: "Never run: its body is checked by the compiler.",
    inPorts: { in: {} },
    outPorts: { error: { type: "object" } },
    process(_value, ctx) {
      ctx.send("error", { reason: "bad" });
      // @ts-expect-error: the declared error port takes objects
      ctx.send("error", "bad");
    },
  });
  assert.equal(Strict.outPorts.error.type, "object");
});

test("ctx.input() and ctx.receive() yield the declared type of the port (or END) and refuse unknown ports", async () => {
  const got: unknown[] = [];
  const Sum = defineComponent({
    name: "test/Sum",
    description: "Sums numbers from a loop.",
    inPorts: { in: { type: "number" }, label: { type: "string" } },
    outPorts: { out: { type: "string" } },
    async run(ctx) {
      const label = await ctx.receive("label");
      assertType<Equal<typeof label, string | typeof END>>(true);
      let total = 0;
      for await (const n of ctx.input("in")) {
        assertType<Equal<typeof n, number>>(true);
        total += n;
      }
      if (label !== END) await ctx.send("out", `${label}: ${total}`);
    },
  });
  const net = network(
    {
      N: sourceOf([1, 2, 3]),
      L: sourceOf(["sum"]),
      Y: Sum,
      K: sinkInto(got),
    },
    ["N.out>Y.in", "L.out>Y.label", "Y.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["sum: 6"]);
  const Typo = defineComponent({
    name: "test/Typo",
    description: "Never run: its body is checked by the compiler.",
    inPorts: { in: { type: "number" } },
    async run(ctx) {
      // @ts-expect-error: no in-port "inn"
      await ctx.receive("inn");
      // @ts-expect-error: no in-port "inn"
      ctx.input("inn");
    },
  });
  assert.equal(typeof Typo.run, "function");
});

test("ctx.control() refuses, in TypeScript, a control port the component does not declare", () => {
  const Scale = defineComponent({
    name: "test/ScaleTypo",
    description: "Never run: its body is checked by the compiler.",
    inPorts: {
      in: { type: "number" },
      factor: { type: "number", control: true, default: 1 },
    },
    outPorts: { out: { type: "number" } },
    process(value, ctx) {
      ctx.send("out", value * ctx.control<number>("factor"));
      const factor: number = ctx.control("factor");
      // @ts-expect-error: no control port "factr"
      ctx.control<number>("factr");
      // @ts-expect-error: no control port "factr"
      ctx.control("factr");
      return ctx.send("out", factor);
    },
  });
  assert.equal(typeof Scale.process, "function");
});

test("the state type is inferred from setup() alongside typed ports", async () => {
  const got: unknown[] = [];
  const Total = defineComponent({
    name: "test/Total",
    description: "Sums numbers, sends the total on flush.",
    inPorts: { in: { type: "number" } },
    outPorts: { out: { type: "number" } },
    setup: () => ({ total: 0 }),
    process(value, ctx) {
      ctx.state.total += value;
    },
    flush(ctx) {
      ctx.send("out", ctx.state.total);
    },
  });
  const net = network(
    { S: sourceOf([1, 2, 3, 4]), T: Total, K: sinkInto(got) },
    ["S.out>T.in", "T.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [10]);
});

test("an explicit state type argument leaves the ports untyped, as before typed ports", () => {
  const Counted = defineComponent<{ n: number }>({
    name: "test/Counted",
    description: "Never run: its body is checked by the compiler.",
    inPorts: { in: { type: "number" } },
    outPorts: { out: { type: "number" } },
    setup: () => ({ n: 0 }),
    process(value, ctx) {
      assertType<Equal<typeof value, unknown>>(true);
      ctx.state.n++;
      // Any port name and value compile, as they did.
      ctx.send("out", "not checked");
      ctx.send("elsewhere", value);
    },
  });
  assert.equal(Counted.inPorts.in.type, "number");
});

test("typed ports cost nothing at run time: a data message of another type reaches process() unchanged", async () => {
  const got: unknown[] = [];
  const Numbers = defineComponent({
    name: "test/Numbers",
    description: "Declares numbers, keeps whatever comes.",
    inPorts: { in: { type: "number" } },
    process(value) {
      got.push(value);
    },
  });
  const net = network(
    { S: sourceOf(["not a number", 2]), K: Numbers },
    ["S.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["not a number", 2]);
});
