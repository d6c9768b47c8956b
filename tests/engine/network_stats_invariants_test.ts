/**
 * `stats()` invariants that hold at every moment of a busy network: nothing
 * counted twice, nothing lost without a count.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Network } from "../../src/engine/network.ts";
import type { NetworkStats } from "../../src/engine/stats.ts";
import { busyNetwork, connTo, proc } from "./_helpers.ts";

/**
 * A busy network: a source, a map with a control port fed by a loop, a
 * fan-out to a slow async sink (block) and a slow async sink (drop-newest).
 * `probe` sees the stats inside every activation of the slow sink and once
 * after the network finished.
 */
async function probeBusyNetwork(
  probe: (s: NetworkStats) => void,
): Promise<NetworkStats> {
  const net: Network = busyNetwork(() => probe(net.stats()));
  await net.start();
  await net.finished;
  const end = net.stats();
  probe(end);
  return end;
}

test("Network stats: messages taken by processes equal messages delivered by connections, at every moment", async () => {
  const end = await probeBusyNetwork((s) => {
    let taken = 0;
    for (const p of s.processes) {
      for (const n of Object.values(p.messagesIn)) taken += n;
    }
    let delivered = 0;
    for (const c of s.connections) delivered += c.delivered;
    assert.equal(taken, delivered);
  });
  assert.equal(proc(end, "M").messagesIn.in, 60);
  assert.equal(proc(end, "M").messagesIn.factor, 2);
});

test("Network stats: drops by reason equal the sum over processes and over connections", async () => {
  const end = await probeBusyNetwork((s) => {
    for (const reason of Object.keys(s.drops) as (keyof typeof s.drops)[]) {
      let byProc = 0;
      for (const p of s.processes) byProc += p.drops[reason];
      let byConn = 0;
      for (const c of s.connections) byConn += c.drops[reason];
      assert.equal(s.drops[reason], byProc, reason);
      // circuit_open, and messages a stop cuts off inside an activation
      // (stopped; none here: nothing stops mid-run), count on processes only.
      if (reason !== "circuit_open") assert.equal(byProc, byConn, reason);
    }
  });
  // Nothing lost without a count: every message M sent reached K2 or was dropped.
  const k2 = connTo(end, "M.out", "K2.in");
  assert.equal(k2.delivered + k2.drops.drop_newest, 60);
  assert.equal(connTo(end, "M.out", "K1.in").delivered, 60);
});

test("Network stats: backlog equals the sum of the processes' queue depths, at every moment", async () => {
  await probeBusyNetwork((s) => {
    let depth = 0;
    for (const p of s.processes) {
      for (const d of Object.values(p.queueDepth)) depth += d;
    }
    assert.equal(s.backlog, depth);
  });
});

test("Network stats: each port's queue-wait histogram counts the messages taken on it", async () => {
  await probeBusyNetwork((s) => {
    for (const p of s.processes) {
      for (const [port, h] of Object.entries(p.queueWait)) {
        assert.equal(h.count, p.messagesIn[port], `${p.name}.${port}`);
        assert.equal(
          h.counts.reduce((a, b) => a + b, 0),
          h.count,
          `${p.name}.${port} buckets`,
        );
      }
    }
  });
});

test("Network stats: latency counts every activation that completed at a sink", async () => {
  const end = await probeBusyNetwork((s) => {
    const sinks = proc(s, "K1").activations + proc(s, "K2").activations;
    assert.equal(s.latency.count, sinks);
  });
  assert.equal(end.latency.count, 60 + proc(end, "K2").activations);
});

test("Network stats: timed activations never outnumber activations", async () => {
  await probeBusyNetwork((s) => {
    for (const p of s.processes) {
      assert.ok(
        p.processing.count <= p.activations,
        `${p.name}: ${p.processing.count} timed of ${p.activations}`,
      );
    }
  });
});
