/**
 * `Network.tap()`: what a listener on a connection sees (direct hand-overs,
 * buffered, parked and dropped sends, fan-out), how listeners come and go,
 * and that a tap never hurts the flow.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { Network } from "../../src/engine/network.ts";
import {
  connTo,
  edge,
  gated,
  network,
  overflowNet,
  proc,
  range,
  sinkInto,
  sourceOf,
  until,
} from "./_helpers.ts";

/** Sends 0 .. n-1 in one activation, for each message on `in`. */
function burstOf(n: number) {
  return defineComponent({
    name: "test/Burst",
    description: "Sends 0..n-1 in one activation.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(_v, ctx) {
      for (let i = 0; i < n; i++) ctx.send("out", i);
    },
  });
}

test("Network.tap() sees each value handed over directly, before the receiver runs", async () => {
  const got: unknown[] = [];
  // What the receiver had when the tap saw each value, and what it had
  // right after each send returned (one more when the value was handed
  // over: the receiver ran inside the send).
  const atTap: number[] = [];
  const afterSend: number[] = [];
  const Pass = defineComponent({
    name: "test/Pass",
    description: "Forwards, noting what the receiver has after each send.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      ctx.send("out", v);
      afterSend.push(got.length);
    },
  });
  const net = network({ P: Pass, K: sinkInto(got) }, ["P.out>K.in"], {
    initials: range(10).map((data) => ({
      data,
      to: { process: "P", port: "in" },
    })),
  });
  const seen: unknown[] = [];
  net.tap("P.out", "K.in", (v) => {
    seen.push(v);
    atTap.push(got.length);
  });
  await net.start();
  await net.finished;
  assert.deepEqual(got, range(10));
  assert.deepEqual(seen, range(10));
  assert.deepEqual(atTap, range(10), "the tap is told before the receiver");
  // The hand-over path is the one under test: after the first (timed)
  // activation, whose send is buffered, each send ran the receiver.
  const handedOver = afterSend.filter((n, i) => n === i + 1).length;
  assert.ok(handedOver >= 5, `hand-overs: ${afterSend.join(", ")}`);
  assert.equal(connTo(net.stats(), "P.out", "K.in").delivered, 10);
});

test("Network.tap() sees buffered and parked sends into a busy receiver", async () => {
  const got: unknown[] = [];
  const { component: Gated, open } = gated(got);
  // G takes "first" and waits at its gate; B's 10 then meet a connection
  // of capacity 3 that blocks: 3 buffered, the rest parked.
  const net = network(
    { B: burstOf(10), G: Gated },
    [edge("B.out", "G.in", { capacity: 3 })],
    {
      initials: [
        { data: "first", to: { process: "G", port: "in" } },
        { data: "go", to: { process: "B", port: "in" } },
      ],
    },
  );
  const seen: unknown[] = [];
  net.tap("B.out", "G.in", (v) => seen.push(v));
  await net.start();
  await until(() => proc(net.stats(), "B").activations === 1);
  // Told at once, while the values wait in the buffer.
  assert.deepEqual(seen, range(10));
  assert.deepEqual(got, []);
  open();
  await net.finished;
  assert.deepEqual(got, ["first", ...range(10)]);
  assert.deepEqual(seen, range(10));
});

test("Network.tap() sees the values a full drop-newest connection drops", async () => {
  const got: unknown[] = [];
  const { net, open } = overflowNet("drop-newest", got);
  const seen: unknown[] = [];
  net.tap("B.out", "G.in", (v) => seen.push(v));
  await net.start();
  await until(() => proc(net.stats(), "B").activations === 1);
  open();
  await net.finished;
  assert.deepEqual(got, ["first", 0, 1, 2]);
  assert.equal(net.stats().drops.drop_newest, 7);
  // The seven dropped (3..9) were seen too: the tap comes before the policy.
  assert.deepEqual(seen, range(10));
});

test("Network.tap() of one fan-out connection sees only that connection's values; a null from matches every sender into the port", async () => {
  const b: unknown[] = [];
  const c: unknown[] = [];
  const net = network(
    {
      A: sourceOf([1, 2, 3]),
      Z: sourceOf(["z1", "z2"]),
      B: sinkInto(b),
      C: sinkInto(c),
    },
    ["A.out>B.in", "A.out>C.in", "Z.out>C.in"],
  );
  const seen: Record<string, unknown[]> = {
    "A.out>B.in": [],
    "A.out>C.in": [],
    "Z.out>C.in": [],
    "*>C.in": [],
    "*>B.in": [],
  };
  net.tap("A.out", "B.in", (v) => seen["A.out>B.in"].push(v));
  net.tap("A.out", "C.in", (v) => seen["A.out>C.in"].push(v));
  net.tap("Z.out", "C.in", (v) => seen["Z.out>C.in"].push(v));
  net.tap(null, "C.in", (v) => seen["*>C.in"].push(v));
  net.tap(null, "B.in", (v) => seen["*>B.in"].push(v));
  await net.start();
  await net.finished;
  // Each value once per connection it went into, never twice.
  assert.deepEqual(seen["A.out>B.in"], [1, 2, 3]);
  assert.deepEqual(seen["A.out>C.in"], [1, 2, 3]);
  assert.deepEqual(seen["Z.out>C.in"], ["z1", "z2"]);
  assert.deepEqual(seen["*>B.in"], [1, 2, 3]);
  // Both senders into C.in, each in its own order.
  const any = seen["*>C.in"];
  assert.equal(any.length, 5);
  assert.deepEqual(any.filter((v) => typeof v === "number"), [1, 2, 3]);
  assert.deepEqual(any.filter((v) => typeof v === "string"), ["z1", "z2"]);
  assert.deepEqual(b, [1, 2, 3]);
  assert.equal(c.length, 5);
});

test("Network.tap(): two listeners on one connection both see every value", async () => {
  const got: unknown[] = [];
  const net = network(
    { S: sourceOf(range(20)), K: sinkInto(got) },
    ["S.out>K.in"],
  );
  const one: unknown[] = [];
  const two: unknown[] = [];
  net.tap("S.out", "K.in", (v) => one.push(v));
  net.tap(null, "K.in", (v) => two.push(v));
  await net.start();
  await net.finished;
  assert.deepEqual(one, range(20));
  assert.deepEqual(two, range(20));
  assert.deepEqual(got, range(20));
});

test("Network.tap(): off() of one listener leaves the other told; after every off() none is", async () => {
  const got: unknown[] = [];
  const Echo = defineComponent({
    name: "test/Echo",
    description: "Forwards what it gets.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      ctx.send("out", v);
    },
  });
  const net = network({ E: Echo, K: sinkInto(got) }, ["E.out>K.in"], {
    inports: { in: { process: "E", port: "in" } },
  });
  const one: unknown[] = [];
  const two: unknown[] = [];
  const offOne = net.tap("E.out", "K.in", (v) => one.push(v));
  const offTwo = net.tap("E.out", "K.in", (v) => two.push(v));
  await net.start();
  await net.send("in", "a");
  await until(() => got.length === 1);
  offOne();
  offOne(); // twice is harmless, and does not take the other's place
  await net.send("in", "b");
  await until(() => got.length === 2);
  offTwo();
  await net.send("in", "c");
  await until(() => got.length === 3);
  assert.deepEqual(one, ["a"]);
  assert.deepEqual(two, ["a", "b"]);
  assert.deepEqual(got, ["a", "b", "c"]);
  // A new tap after all left is told again.
  const three: unknown[] = [];
  const offThree = net.tap("E.out", "K.in", (v) => three.push(v));
  await net.send("in", "d");
  await until(() => got.length === 4);
  offThree();
  assert.deepEqual(three, ["d"]);
  assert.deepEqual(one, ["a"]);
  assert.deepEqual(two, ["a", "b"]);
  net.closeInport("in");
  await net.finished;
});

test("Network.tap(): a listener that throws does not hurt the flow nor the other listeners", async () => {
  const got: unknown[] = [];
  const errors: unknown[] = [];
  const net = network(
    { S: sourceOf(range(50)), K: sinkInto(got) },
    ["S.out>K.in"],
  );
  net.on("error", (e) => errors.push(e));
  let calls = 0;
  net.tap("S.out", "K.in", () => {
    calls++;
    throw new Error("a broken dashboard");
  });
  const seen: unknown[] = [];
  net.tap("S.out", "K.in", (v) => seen.push(v));
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.deepEqual(got, range(50));
  assert.equal(calls, 50);
  assert.deepEqual(seen, range(50));
  assert.deepEqual(errors, []);
  const s = net.stats();
  assert.equal(connTo(s, "S.out", "K.in").delivered, 50);
  assert.equal(proc(s, "S").errors.exception, 0);
});

test("Network.tap() of a connection that does not exist is a RangeError naming those that do", () => {
  const net = network(
    { A: sourceOf([1]), B: sinkInto([]), C: sinkInto([]) },
    ["A.out>B.in", "A.out>C.in"],
  );
  for (
    const [from, to] of [
      [null, "B.nope"],
      ["A.out", "X.in"],
      ["C.out", "B.in"], // both ports exist, not that connection
      ["A.nope", "B.in"],
    ] as const
  ) {
    assert.throws(
      () => net.tap(from, to, () => {}),
      (e: unknown) => {
        assert.ok(e instanceof RangeError, String(e));
        assert.match(e.message, new RegExp(`to ${to.replace(".", "\\.")}`));
        assert.match(e.message, /A\.out -> B\.in/);
        assert.match(e.message, /A\.out -> C\.in/);
        return true;
      },
    );
  }
  const empty = network({ B: sinkInto([]) }, []);
  assert.throws(() => empty.tap(null, "B.in", () => {}), /none/);
});

test("Network.tap(): an indexed connection is named as the graph writes it, Sw.out[0] -> Win.in, and can be tapped by that name", async () => {
  const Split = defineComponent({
    name: "test/Split",
    description: "Sends each value to index 0 and its double to index 1.",
    inPorts: { in: {} },
    outPorts: { out: { addressable: true } },
    process(v, ctx) {
      ctx.send("out", v, 0);
      ctx.send("out", (v as number) * 2, 1);
    },
  });
  const Take = defineComponent({
    name: "test/Take",
    description: "Takes.",
    inPorts: { in: {} },
    process() {},
  });
  const net = new Network({
    name: "indexed",
    processes: [
      { name: "Sw", component: Split },
      { name: "Win", component: Take },
      { name: "Other", component: Take },
    ],
    connections: [
      {
        from: { process: "Sw", port: "out", index: 0 },
        to: { process: "Win", port: "in" },
      },
      {
        from: { process: "Sw", port: "out", index: 1 },
        to: { process: "Other", port: "in" },
      },
    ],
    initials: [{ data: 1, to: { process: "Sw", port: "in" } }],
  });
  assert.throws(
    () => net.tap("Sw.out[1]", "Win.in", () => {}),
    (e: unknown) => {
      assert.ok(e instanceof RangeError, String(e));
      assert.match(
        e.message,
        /it has Sw\.out\[0\] -> Win\.in, Sw\.out\[1\] -> Other\.in$/,
      );
      return true;
    },
  );
  const byIndex: unknown[] = [];
  const any: unknown[] = [];
  const offIndex = net.tap("Sw.out[1]", "Other.in", (v) => byIndex.push(v));
  const offAny = net.tap("Sw.out", "Win.in", (v) => any.push(v));
  await net.start();
  await net.finished;
  offIndex();
  offAny();
  assert.deepEqual(byIndex, [2]);
  assert.deepEqual(any, [1]);
});
