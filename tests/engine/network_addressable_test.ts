/**
 * Addressable (array) ports: an index picks one connection.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { network, sourceOf } from "./_helpers.ts";

test("Network routes addressable out-port indexes and tells the in-port index", async () => {
  const seen: [number, unknown][] = [];
  const Router = defineComponent({
    name: "test/Router",
    description: "Sends evens to [0], odds to [1].",
    inPorts: { in: {} },
    outPorts: { out: { addressable: true } },
    process(v, ctx) {
      ctx.send("out", v, (v as number) % 2);
    },
  });
  const Join = defineComponent({
    name: "test/Join",
    description: "Records the index.",
    inPorts: { in: { addressable: true } },
    process(v, ctx) {
      seen.push([ctx.index, v]);
    },
  });
  const net = network(
    { S: sourceOf([1, 2, 3, 4]), R: Router, J: Join },
    [
      "S.out>R.in",
      {
        from: { process: "R", port: "out", index: 0 },
        to: { process: "J", port: "in", index: 5 },
      },
      {
        from: { process: "R", port: "out", index: 1 },
        to: { process: "J", port: "in", index: 7 },
      },
    ],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(seen.sort((a, b) => (a[1] as number) - (b[1] as number)), [
    [7, 1],
    [5, 2],
    [7, 3],
    [5, 4],
  ]);
});

test("a refused value names the connection with its indexes: two connections of one port pair are told apart", async () => {
  let refused: Error | undefined;
  const Router = defineComponent({
    name: "test/Router",
    description: "Sends everything to [1].",
    inPorts: { in: {} },
    outPorts: { out: { addressable: true } },
    process(v, ctx) {
      try {
        ctx.send("out", v, 1);
      } catch (e) {
        refused ??= e as Error;
      }
    },
  });
  const Hold = defineComponent({
    name: "test/Hold",
    description: "Takes nothing while the test runs.",
    inPorts: { in: { addressable: true } },
    process: () => new Promise<void>(() => {}),
  });
  const net = network(
    { S: sourceOf([1, 2, 3, 4]), R: Router, J: Hold },
    [
      "S.out>R.in",
      {
        from: { process: "R", port: "out", index: 0 },
        to: { process: "J", port: "in", index: 0 },
      },
      {
        from: { process: "R", port: "out", index: 1 },
        to: { process: "J", port: "in", index: 1 },
        capacity: 1,
        policy: "error",
      },
    ],
  );
  await net.start();
  for (let i = 0; i < 50 && refused === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await net.stop();
  assert.match(
    String(refused?.message),
    /R\.out\[1\] -> J\.in\[1\]/,
  );
});
