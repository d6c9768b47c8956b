/**
 * `Network.statsInto()`: the snapshot read into the same objects gives
 * exactly what a new `stats()` gives, at every moment of a busy network
 * (drops, control ports, queue waits), through errors, an open breaker
 * and exported ports (whose hidden hosts count in the totals), and makes
 * a new snapshot when the one given is not its own.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { Network } from "../../src/engine/network.ts";
import type { NetworkStats } from "../../src/engine/stats.ts";
import { busyNetwork, network, range, sinkInto, until } from "./_helpers.ts";

test("Network statsInto: equal to stats() at every moment of a busy network, in the same objects", async () => {
  let kept: NetworkStats | null = null;
  let compared = 0;
  const check = () => {
    const fresh = net.stats();
    const again = net.statsInto(kept);
    if (kept !== null) assert.equal(again, kept);
    kept = again;
    assert.deepEqual(again, fresh);
    compared++;
  };
  const net: Network = busyNetwork(check);
  check();
  await net.start();
  await net.finished;
  check();
  assert.ok(compared >= 60);
  const k2 = kept!.processes.find((p) => p.name === "K2")!;
  assert.ok(k2.drops.drop_newest > 0, "the test must see drops");
  assert.equal(kept!.drops.drop_newest, k2.drops.drop_newest);
  assert.equal(kept!.processes.find((p) => p.name === "K1")!.messagesIn.in, 60);
});

test("Network statsInto: errors, the last error's time and an open breaker read as stats() does", async () => {
  let healthy = false;
  const Dep = defineComponent({
    name: "test/Dep",
    description: "Fails until healthy.",
    inPorts: { in: {} },
    outPorts: { out: {}, error: {} },
    process(v, ctx) {
      if (!healthy) throw new Error("down");
      ctx.send("out", v);
    },
  });
  const Feed = defineComponent({
    name: "test/Feed",
    description: "Sends what the test pushes.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async run(ctx) {
      for await (const v of ctx.input("in")) await ctx.send("out", v);
    },
  });
  const errs: unknown[] = [];
  const passed: unknown[] = [];
  const net = network(
    {
      F: Feed,
      D: {
        component: Dep,
        circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 30 },
      },
      OK: sinkInto(passed),
      E: sinkInto(errs),
    },
    ["F.out>D.in", "D.out>OK.in", "D.error>E.in"],
    { inports: { IN: { process: "F", port: "in" } } },
  );
  let kept = net.statsInto(null);
  const same = () => {
    const again = net.statsInto(kept);
    assert.equal(again, kept);
    kept = again;
    assert.deepEqual(kept, net.stats());
    return kept.processes.find((p) => p.name === "D")!;
  };
  await net.start();
  assert.equal(same().lastErrorAt, null);
  await net.send("IN", 1);
  await net.send("IN", 2);
  await until(() => errs.length === 2);
  const open = same();
  assert.equal(open.breaker, "open");
  assert.equal(open.errors.exception, 2);
  assert.equal(typeof open.lastErrorAt, "string");
  await net.send("IN", 3); // rejected while open
  await until(() => errs.length === 3);
  assert.equal(same().drops.circuit_open, 1);
  await until(() => net.stats().processes[1].breaker !== "open");
  healthy = true;
  await net.send("IN", 4);
  await until(() => passed.length === 1);
  assert.equal(same().breaker, "closed");
  net.closeInport("IN");
  await net.finished;
  same();
});

test("Network statsInto: exported ports' hosts count in the totals as in stats(); a snapshot of other parts is not reused", async () => {
  const got: unknown[] = [];
  const a = network({ K: sinkInto(got) }, [], {
    inports: { in: { process: "K", port: "in" } },
  });
  const b = network({ K: sinkInto([]) }, [], {
    inports: { in: { process: "K", port: "in" } },
  });
  const ofA = a.statsInto(null);
  await a.start();
  for (const v of range(5)) await a.send("in", v);
  await until(() => got.length === 5);
  assert.equal(a.statsInto(ofA), ofA);
  assert.deepEqual(ofA, a.stats());
  assert.equal(ofA.processes.find((p) => p.name === "K")!.messagesIn.in, 5);
  // Another network's snapshot (or a plain stats() one) is left alone.
  const fromB = b.statsInto(ofA);
  assert.notEqual(fromB, ofA);
  assert.deepEqual(fromB, b.stats());
  const plain = a.stats();
  assert.notEqual(a.statsInto(plain), plain);
  a.closeInport("in");
  await a.finished;
  assert.deepEqual(a.statsInto(ofA), a.stats());
});
