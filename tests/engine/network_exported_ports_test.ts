/**
 * Exported ports: the host sends into a network's in-ports and reads its
 * out-ports.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import {
  gate,
  inportNet,
  mapOf,
  network,
  proc,
  scaleOf,
  sinkInto,
  sourceOf,
  within,
} from "./_helpers.ts";

test("Network exported in-port takes values from the host with back pressure", async () => {
  const got: unknown[] = [];
  const net = network(
    { M: mapOf((v) => `<${v}>`), K: sinkInto(got) },
    ["M.out>K.in"],
    { inports: { IN: { process: "M", port: "in" } } },
  );
  await net.start();
  for (let i = 0; i < 50; i++) await net.send("IN", i);
  net.closeInport("IN");
  await net.finished;
  assert.equal(got.length, 50);
  assert.equal(got[49], "<49>");
  assert.throws(
    () => net.send("NOPE", 1),
    /no exported in-port "NOPE"; it has IN/,
  );
});

test("Network.output() reads an exported out-port to its end", async () => {
  const net = network(
    { S: sourceOf([1, 2, 3]), M: mapOf((v) => (v as number) + 100) },
    ["S.out>M.in"],
    { outports: { OUT: { process: "M", port: "out" } } },
  );
  const out = net.output("OUT");
  assert.throws(
    () => net.output("OUT"),
    /call output\(\) once per port, before start\(\)/,
  );
  assert.throws(
    () => net.output("NOPE"),
    /no exported out-port "NOPE"; it has OUT/,
  );
  await net.start();
  const got: unknown[] = [];
  for await (const v of out) got.push(v);
  assert.deepEqual(got, [101, 102, 103]);
  assert.equal(await net.finished, "finished");
  assert.equal(net.stats().processes.length, 2);
});

test("Network leaves an exported out-port nobody reads unconnected", async () => {
  const net = network(
    { S: sourceOf([1, 2, 3]), M: mapOf((v) => v) },
    ["S.out>M.in"],
    { outports: { OUT: { process: "M", port: "out" } } },
  );
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.equal(
    net.stats().processes.find((p) => p.name === "M")!.messagesOut.out,
    3,
  );
});

test("Network send to a closed exported in-port throws an Error naming the port", async () => {
  const net = inportNet([]);
  await net.start();
  net.closeInport("in");
  assert.throws(
    () => net.send("in", 1),
    (e: unknown) =>
      e instanceof Error && /in-port "in"/.test(e.message) &&
      /closed|finished/.test(e.message),
  );
  await net.stop();
});

test("Network send to an exported in-port after stop throws an Error saying so", async () => {
  const net = inportNet([]);
  await net.start();
  await net.stop();
  assert.throws(() => net.send("in", 1), /in-port "in" .*stopped/);
});

test("Network stop releases a host waiting to send into a full exported in-port", async () => {
  const release = gate();
  const Held = defineComponent({
    name: "test/Held",
    description: "Waits at a gate.",
    inPorts: { in: {} },
    async process() {
      await release.promise;
    },
  });
  const net = network({ H: Held }, [], {
    inports: { in: { process: "H", port: "in" } },
    defaultCapacity: 1,
  });
  await net.start();
  net.send("in", 1); // taken by H, which waits at the gate
  net.send("in", 2); // fills the connection
  const blocked = net.send("in", 3);
  assert.ok(blocked instanceof Promise);
  await net.stop();
  assert.equal(await within(blocked.then(() => "released")), "released");
  // 2 buffered or parked, and 1 that H had taken and was holding.
  assert.equal(net.stats().drops.stopped, 3);
  release.open();
});

test("Network.closeInport() of an in-port already closed is harmless", async () => {
  const got: unknown[] = [];
  const net = inportNet(got);
  await net.start();
  await net.send("in", 1);
  net.closeInport("in");
  net.closeInport("in");
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(got, [1]);
  assert.equal(proc(net.stats(), "K").phase, "finished");
});

test("Network.closeInport() of an unknown in-port throws a RangeError", async () => {
  const net = inportNet([]);
  await net.start();
  try {
    assert.throws(() => net.closeInport("inn"), RangeError);
  } finally {
    await net.stop();
  }
});

test("Network exported in-port can feed a control port", async () => {
  const got: unknown[] = [];
  const Scale = scaleOf();
  const net = network({ M: Scale, K: sinkInto(got) }, ["M.out>K.in"], {
    inports: {
      in: { process: "M", port: "in" },
      factor: { process: "M", port: "factor" },
    },
  });
  await net.start();
  await net.send("in", 1);
  // A connected control port with no value yet holds the data back (as in
  // NoFlo): 1 waits for the factor.
  assert.deepEqual(got, []);
  await net.send("factor", 10);
  await net.send("in", 2);
  net.closeInport("factor");
  net.closeInport("factor");
  net.closeInport("in");
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(got, [10, 20]);
  assert.equal(proc(net.stats(), "M").messagesIn.factor, 1);
});
