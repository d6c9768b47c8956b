/**
 * Initial information packets (IIPs) arrive before any message of a
 * connection.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { network, sinkInto, sourceOf } from "./_helpers.ts";

test("Network delivers IIPs before the first message", async () => {
  const got: unknown[] = [];
  const net = network(
    { S: sourceOf(["a", "b"]), K: sinkInto(got) },
    ["S.out>K.in"],
    { initials: [{ data: "iip", to: { process: "K", port: "in" } }] },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["iip", "a", "b"]);
});

test("Network delivers every IIP of a port before the messages of its connections", async () => {
  const got: unknown[] = [];
  const net = network(
    { S: sourceOf(["a", "b"]), K: sinkInto(got) },
    ["S.out>K.in"],
    {
      initials: [
        { data: "i1", to: { process: "K", port: "in" } },
        { data: "i2", to: { process: "K", port: "in" } },
      ],
    },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["i1", "i2", "a", "b"]);
});

test("Network delivers every IIP of a port to a loop before the messages of its connections", async () => {
  const got: unknown[] = [];
  const Read = defineComponent({
    name: "test/Read",
    description: "Reads until END.",
    inPorts: { in: {} },
    async run(ctx) {
      for await (const v of ctx.input("in")) got.push(v);
    },
  });
  const net = network(
    { S: sourceOf(["a", "b"]), R: Read },
    ["S.out>R.in"],
    {
      initials: [
        { data: "i1", to: { process: "R", port: "in" } },
        { data: "i2", to: { process: "R", port: "in" } },
      ],
    },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["i1", "i2", "a", "b"]);
});
