/**
 * A network checks its spec when it is built and refuses a bad one with a
 * sentence.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { Network } from "../../src/engine/network.ts";
import { network, sinkInto, sourceOf } from "./_helpers.ts";

test("Network rejects a spec naming an unknown process or port", () => {
  assert.throws(
    () => network({ K: sinkInto([]) }, ["X.out>K.in"]),
    /connection 0 names unknown process "X"/,
  );
  assert.throws(
    () => network({ S: sourceOf([]), K: sinkInto([]) }, ["S.out>K.nope"]),
    /unknown in-port "nope" of "K" \(test\/Sink\); its in-ports are in/,
  );
  assert.throws(
    () =>
      network({ S: sourceOf([]), K: sinkInto([]) }, [
        {
          from: { process: "S", port: "out" },
          to: { process: "K", port: "in" },
          capacity: 0,
        },
      ]),
    /capacity must be a positive integer, received 0/,
  );
});

test("Network rejects a process concurrency that is not a positive integer", () => {
  const W = defineComponent({
    name: "test/W",
    description: "Async work.",
    inPorts: { in: {} },
    async process() {},
  });
  for (const concurrency of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () =>
        new Network({
          name: "bad",
          processes: [{ name: "W", component: W, concurrency }],
          connections: [],
        }),
      RangeError,
      `concurrency ${concurrency}`,
    );
  }
});

test("Network rejects an exported out-port naming an unknown process", () => {
  assert.throws(
    () =>
      new Network({
        name: "bad",
        processes: [{ name: "K", component: sinkInto([]) }],
        connections: [],
        outports: { out: { process: "Nope", port: "out" } },
      }),
    TypeError,
  );
});
