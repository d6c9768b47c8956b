import assert from "node:assert/strict";
import { test } from "node:test";
import { activationCells, stallSince } from "../../src/engine/activation.ts";
import { defineComponent } from "../../src/engine/component.ts";
import type { StallReport } from "../../src/engine/events.ts";
import { Network } from "../../src/engine/network.ts";

/** Ids of a network's processes by name. */
function idsOf(net: Network): Map<string, number> {
  return new Map(net.activationIds().map(([id, name]) => [name, id]));
}

test("the marker names the process whose activation runs, innermost first, and is cleared after", async () => {
  const seen: [string, number][] = [];
  const Pass = defineComponent({
    name: "test/Pass",
    description: "Notes the marker, passes on, notes it again.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      seen.push([`${ctx.process} before`, activationCells[0]]);
      ctx.send("out", v);
      seen.push([`${ctx.process} after`, activationCells[0]]);
    },
  });
  const net = new Network({
    name: "marker",
    processes: [{ name: "A", component: Pass }, { name: "B", component: Pass }],
    connections: [{
      from: { process: "A", port: "out" },
      to: { process: "B", port: "in" },
    }],
    initials: [1, 2, 3].map((data) => ({
      data,
      to: { process: "A", port: "in" },
    })),
  });
  const ids = idsOf(net);
  await net.start();
  await net.finished;
  for (const [what, id] of seen) {
    assert.equal(id, ids.get(what[0]), what);
  }
  // A later message is handed over to B inside A's activation (the first
  // is timed, and its sends wait until it returned): after B, A is named
  // again.
  const order = seen.map(([what]) => what).join(", ");
  assert.match(order, /A before, B before, B after, A after/);
  assert.equal(activationCells[0], 0);
});

test("an activation a watchdog flipped reports a stall naming its process, once it returns", async () => {
  const stalls: StallReport[] = [];
  let sent = 0;
  const Stuck = defineComponent({
    name: "test/Stuck",
    description: "Plays a watchdog that finds it stalled.",
    inPorts: { in: {} },
    process() {
      // What the watchdog's worker does during a stall (stall_watchdog.ts).
      stallSince[0] = Date.now() - 2500;
      Atomics.compareExchange(
        activationCells,
        0,
        activationCells[0],
        -activationCells[0],
      );
    },
  });
  const Source = defineComponent({
    name: "test/Three",
    description: "Sends three.",
    outPorts: { out: {} },
    async run(ctx) {
      for (let i = 0; i < 3 && !ctx.signal.aborted; i++) {
        sent++;
        await ctx.send("out", i);
      }
    },
  });
  const net = new Network({
    name: "stalling",
    processes: [{ name: "S", component: Source }, {
      name: "Stuck",
      component: Stuck,
    }],
    connections: [{
      from: { process: "S", port: "out" },
      to: { process: "Stuck", port: "in" },
    }],
    initials: [],
  });
  net.on("stall", (s) => {
    stalls.push(s);
    void net.stop();
  });
  await net.start();
  assert.equal(await net.finished, "stopped");
  assert.equal(stalls.length, 1);
  assert.equal(stalls[0].network, "stalling");
  assert.equal(stalls[0].process, "Stuck");
  assert.ok(stalls[0].ms >= 2500, `ms ${stalls[0].ms}`);
  // Stopped before its next activation.
  assert.equal(
    net.stats().processes.find((p) => p.name === "Stuck")?.activations,
    1,
  );
  assert.equal(activationCells[0], 0);
  stallSince[0] = 0;
  assert.ok(sent >= 1);
});

test("a stall in a setup stops the start with the reason", async () => {
  const Slow = defineComponent({
    name: "test/SlowSetup",
    description: "Its setup is found stalled.",
    inPorts: { in: {} },
    setup() {
      Atomics.compareExchange(
        activationCells,
        0,
        activationCells[0],
        -activationCells[0],
      );
    },
    process() {},
  });
  const net = new Network({
    name: "setup",
    processes: [{ name: "Slow", component: Slow }],
    connections: [],
    initials: [],
  });
  const stalls: StallReport[] = [];
  net.on("stall", (s) => {
    stalls.push(s);
    void net.stop();
  });
  await assert.rejects(net.start(), /a setup stalled the server/);
  assert.deepEqual(stalls.map((s) => s.process), ["Slow"]);
  assert.equal(activationCells[0], 0);
});
