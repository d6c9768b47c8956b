/**
 * Faults: an exception goes to the process's `error` out-port when
 * connected, else to the network's error event; the host never crashes.
 *
 * @module
 */
import { test } from "node:test";
import { consoleErrors } from "../_console.ts";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { ProcessError } from "../../src/engine/errors.ts";
import {
  collectErrors,
  dropsOf,
  edge,
  network,
  proc,
  range,
  sinkInto,
  sourceOf,
  within,
} from "./_helpers.ts";

test("Network routes an exception to the error out-port when connected", async () => {
  const errs: unknown[] = [];
  const ok: unknown[] = [];
  const Boom = defineComponent({
    name: "test/Boom",
    description: "Throws on odd numbers.",
    inPorts: { in: {} },
    outPorts: { out: {}, error: {} },
    process(v, ctx) {
      if ((v as number) % 2) throw new Error(`odd ${v}`);
      ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf([1, 2, 3, 4]), B: Boom, OK: sinkInto(ok), E: sinkInto(errs) },
    ["S.out>B.in", "B.out>OK.in", "B.error>E.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(ok, [2, 4]);
  assert.equal(errs.length, 2);
  const e = errs[0] as ProcessError;
  assert.ok(e instanceof ProcessError);
  assert.equal(e.process, "B");
  assert.equal(e.port, "in");
  assert.equal(e.input, 1);
  assert.equal(e.kind, "exception");
  assert.match(e.message, /odd 1/);
  const b = net.stats().processes.find((p) => p.name === "B")!;
  assert.equal(b.errors.exception, 2);
  assert.equal(b.failures, 2);
  assert.ok(
    b.lastErrorAt !== null &&
      Math.abs(Date.parse(b.lastErrorAt) - Date.now()) < 60_000,
  );
  assert.equal(new Date(b.lastErrorAt).toISOString(), b.lastErrorAt);
});

test("Network emits a rejected promise as an error event and keeps the other processes running", async () => {
  const events: ProcessError[] = [];
  const ok: unknown[] = [];
  const Rejects = defineComponent({
    name: "test/Rejects",
    description: "Rejects on 'bad'.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      await null;
      if (v === "bad") throw new TypeError("bad input");
      await ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf(["a", "bad", "b"]), R: Rejects, K: sinkInto(ok) },
    ["S.out>R.in", "R.out>K.in"],
  );
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(ok, ["a", "b"]);
  assert.equal(events.length, 1);
  assert.equal(events[0].input, "bad");
  assert.ok(events[0].cause instanceof TypeError);
});

test("Network without an error listener writes faults to console.error", async () => {
  const Boom = defineComponent({
    name: "test/Boom2",
    description: "Throws.",
    inPorts: { in: {} },
    process() {
      throw new Error("kaboom");
    },
  });
  const printed = await consoleErrors(async () => {
    const net = network({ B: Boom }, [], {
      initials: [{ data: 1, to: { process: "B", port: "in" } }],
    });
    await net.start();
    await net.finished;
  });
  const lines = printed.map((args) => args.join(" "));
  assert.equal(lines.length, 1);
  assert.match(String(lines[0]), /process "B" failed on in-port "in": kaboom/);
});

test("Network keeps running and calls the other listeners when an error listener throws", async () => {
  const got: unknown[] = [];
  const seen: string[] = [];
  const Boom = defineComponent({
    name: "test/Boom",
    description: "Throws on odd numbers.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if ((v as number) % 2) throw new Error(`odd ${v}`);
      ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf(range(6)), B: Boom, K: sinkInto(got) },
    ["S.out>B.in", "B.out>K.in"],
  );
  const logged = await consoleErrors(async () => {
    net.on("error", () => {
      throw new Error("listener broke");
    });
    net.on("error", (e) => void seen.push(String(e.input)));
    await net.start();
    assert.equal(await within(net.finished), "finished");
  });
  assert.deepEqual(got, [0, 2, 4]);
  assert.deepEqual(seen, ["1", "3", "5"]);
  assert.equal(logged.length, 3);
});

test("Network parks the errors of a concurrent guarded process behind its full error connection and delivers all in order", async () => {
  const errs: ProcessError[] = [];
  const Bad = defineComponent({
    name: "test/Bad",
    description: "Always throws.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v) {
      throw new Error(`bad ${v}`);
    },
  });
  const net = network(
    {
      S: sourceOf(range(10)),
      B: { component: Bad, concurrency: 2, timeoutMs: 1000 },
      E: sinkInto(errs, 1),
    },
    ["S.out>B.in", edge("B.error", "E.in", { capacity: 1 })],
  );
  const events = collectErrors(net);
  await net.start();
  await net.finished;
  assert.deepEqual(errs.map((e) => e.input), range(10));
  assert.ok(errs.every((e) => e instanceof ProcessError));
  assert.equal(events.length, 0);
  const b = proc(net.stats(), "B");
  assert.equal(b.errors.exception, 10);
  assert.equal(b.failures, 10);
  assert.equal(dropsOf(net.stats().drops), 0);
});

test("Network reports a thrown value that is no Error by what it holds, not [object Object]", async () => {
  const Odd = defineComponent({
    name: "test/ThrowsObject",
    description: "Throws a plain object.",
    inPorts: { in: {} },
    process(v) {
      throw { code: 7, input: v };
    },
  });
  const net = network({ S: sourceOf([1]), O: Odd }, ["S.out>O.in"]);
  const errors = collectErrors(net);
  await net.start();
  await net.finished;
  assert.deepEqual(errors.map((e) => e.message), [
    'process "O" failed on in-port "in": {"code":7,"input":1}',
  ]);
});

test("Network.start() names what a setup threw when it is no Error", async () => {
  const NoDevice = defineComponent({
    name: "test/SetupThrowsString",
    description: "Its setup throws a string.",
    inPorts: { in: {} },
    setup() {
      throw "no device at /dev/ttyUSB0";
    },
    process() {},
  });
  const net = network({ S: sourceOf([1]), N: NoDevice }, ["S.out>N.in"]);
  await assert.rejects(net.start(), {
    message:
      'Cannot start network "test": process "N" (test/SetupThrowsString), setup: no device at /dev/ttyUSB0',
  });
});

test("Network emits the fault of a guarded process that threw an unreadable value as an error event of that process, not on console.error", async () => {
  // What it throws cannot even be put into words: its text throws too.
  const Weird = defineComponent({
    name: "test/Weird",
    description: "Throws a value whose JSON and text both throw.",
    inPorts: { in: {} },
    process() {
      throw {
        password: "hunter2",
        toJSON() {
          throw new Error("no JSON");
        },
        [Symbol.toPrimitive]() {
          throw new Error("no text");
        },
      };
    },
  });
  const net = network({ W: { component: Weird, timeoutMs: 1000 } }, [], {
    initials: [{ data: 1, to: { process: "W", port: "in" } }],
  });
  const errors = collectErrors(net);
  const printed = await consoleErrors(async () => {
    await net.start();
    await within(net.finished, 5000);
  });
  assert.deepEqual(printed, []);
  assert.deepEqual(
    errors.map((e) => [e.network, e.process, e.level, e.kind, e.message]),
    [[
      net.name,
      "W",
      "error",
      "exception",
      'process "W" failed on in-port "in": an unreadable value (its class, JSON and text all throw)',
    ]],
  );
  assert.doesNotMatch(errors[0].message, /hunter2/);
});
