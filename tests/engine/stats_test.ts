import { test } from "node:test";
import assert from "node:assert/strict";
import { Histogram } from "../../src/engine/histogram.ts";
import {
  backlogOf,
  DROP_REASONS,
  networkStats,
  partitions,
} from "../../src/engine/stats.ts";
import type { ProcessRuntime } from "../../src/engine/process.ts";
import type { Connection } from "../../src/engine/connection.ts";
import { connect, processOf } from "./_fakes.ts";

function statsOf(
  procs: ProcessRuntime[],
  conns: Connection<ProcessRuntime>[],
) {
  return networkStats({
    name: "net",
    state: "running",
    procs,
    conns,
    latency: new Histogram(),
    bufferedBytes: 0,
    pressure: null,
  });
}

test("networkStats() gives lastErrorAt as an ISO 8601 time, null before any error", () => {
  const a = processOf("A");
  assert.equal(statsOf([a], []).processes[0].lastErrorAt, null);
  a.lastErrorAt = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  assert.equal(
    statsOf([a], []).processes[0].lastErrorAt,
    "2026-01-02T03:04:05.678Z",
  );
});

test("networkStats() counts drops by reason on the connection, its receiver and the total", () => {
  const a = processOf("A");
  const b = processOf("B");
  const c = connect(a, b);
  c.droppedOldest = 1;
  c.droppedNewest = 2;
  c.refused = 3;
  c.droppedUnread = 4;
  c.droppedStopped = 5;
  b.rejected = 6;
  const s = statsOf([a, b], [c]);
  const expected = {
    drop_oldest: 1,
    drop_newest: 2,
    refused: 3,
    circuit_open: 6,
    unread: 4,
    stopped: 5,
  };
  assert.deepEqual(s.connections[0].drops, { ...expected, circuit_open: 0 });
  assert.deepEqual(s.processes[1].drops, expected);
  assert.deepEqual(s.drops, expected);
  assert.deepEqual(Object.keys(s.drops), DROP_REASONS);
});

test("networkStats() counts buffered and parked messages in depth and backlog", () => {
  const a = processOf("A");
  const b = processOf("B");
  const c = connect(a, b, 1);
  c.offer("x", 0, 0);
  void c.offer("y", 0, 0);
  const s = statsOf([a, b], [c]);
  assert.equal(s.connections[0].depth, 2);
  assert.equal(s.processes[1].queueDepth.in, 2);
  assert.equal(s.processes[1].queueCapacity.in, 1);
  assert.equal(s.backlog, 2);
  assert.equal(backlogOf([c]), 2);
  assert.ok(s.processes[1].bufferedBytes > 0);
});

test("networkStats() counts hand-overs (delivered, never buffered) as 0 s of queue wait", () => {
  const a = processOf("A");
  const b = processOf("B");
  const c = connect(a, b);
  c.delivered = 3;
  const wait = statsOf([a, b], [c]).processes[1].queueWait.in;
  assert.equal(wait.count, 3);
  assert.equal(wait.counts[0], 3);
  assert.equal(wait.sum, 0);
});

test("networkStats() names the ends of each connection", () => {
  const a = processOf("A");
  const b = processOf("B.with.dots");
  const c = connect(a, b);
  const s = statsOf([a, b], [c]).connections[0];
  assert.equal(s.from, "A.out");
  assert.equal(s.to, "B.with.dots.in");
  assert.equal(s.toProcess, "B.with.dots");
  assert.equal(s.toPort, "in");
  assert.equal(s.policy, "block");
});

test("networkStats() leaves hidden processes out of the list", () => {
  const a = processOf("A");
  const host = processOf("<outport x>", undefined, { hidden: true });
  const s = statsOf([a, host], []);
  assert.deepEqual(s.processes.map((p) => p.name), ["A"]);
});

test("networkStats() reports a breaker's state, or null without one", () => {
  const a = processOf("A");
  const b = processOf("B", undefined, {
    circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 60_000 },
  });
  b.breaker!.failed(performance.now());
  const s = statsOf([a, b], []);
  assert.equal(s.processes[0].breaker, null);
  assert.equal(s.processes[1].breaker, "open");
});

test("networkStats() counts active processes and connections", () => {
  const a = processOf("A");
  const b = processOf("B");
  const c = connect(a, b);
  b.phase = "finished";
  const s = statsOf([a, b], [c]);
  assert.equal(s.activeProcesses, 1);
  assert.equal(s.activeConnections, 1);
  c.closed = true;
  assert.equal(statsOf([a, b], [c]).activeConnections, 0);
});

test("partitions() counts the connected parts among healthy processes", () => {
  const [a, b, c, d] = ["A", "B", "C", "D"].map((n) => processOf(n));
  const conns = [connect(a, b), connect(c, d)];
  assert.equal(partitions([a, b, c, d], conns, 0), 2);
  conns.push(connect(b, c));
  assert.equal(partitions([a, b, c, d], conns, 0), 1);
});

test("partitions() leaves out finished processes and those behind an open breaker", () => {
  const a = processOf("A");
  const b = processOf("B", undefined, {
    circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 60_000 },
  });
  const c = processOf("C");
  const conns = [connect(a, b), connect(b, c)];
  assert.equal(partitions([a, b, c], conns, 0), 1);
  b.breaker!.failed(0);
  assert.equal(partitions([a, b, c], conns, 1), 2);
  c.phase = "finished";
  assert.equal(partitions([a, b, c], conns, 1), 1);
});
