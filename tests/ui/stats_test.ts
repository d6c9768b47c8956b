/**
 * The flow page's rates (`src/ui/stats.ts`): worked out from the counters
 * of two `stats` snapshots, never negative when a flow restarted, and not
 * blown up when two snapshots are read at once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type NetworkStats,
  type ProcessStats,
  RateTracker,
} from "../../src/ui/stats.ts";

const NO_HISTOGRAM = { bounds: [1], counts: [0, 0], sum: 0, count: 0 };

/** A snapshot of one process that took `taken` messages on `in`, and its connection. */
function snapshot(taken: number): NetworkStats {
  const process: ProcessStats = {
    name: "P",
    component: "core/Drop",
    phase: "idle",
    activeActivations: 0,
    activations: taken,
    messagesIn: { in: taken },
    messagesOut: {},
    queueDepth: { in: 0 },
    queueCapacity: { in: 10 },
    queueWait: {},
    processing: NO_HISTOGRAM,
    errors: {},
    lastErrorAt: null,
    starts: 1,
    failures: 0,
    breaker: null,
    drops: {},
  };
  return {
    name: "f",
    state: "running",
    processes: [process],
    connections: [{
      from: "S.out",
      to: "P.in",
      toProcess: "P",
      toPort: "in",
      capacity: 10,
      policy: "block",
      depth: 0,
      delivered: taken,
      closed: false,
      drops: {},
    }],
    drops: {},
    backlog: 0,
    bufferedBytes: 0,
  };
}

test("RateTracker answers messages a second from two snapshots' counters", () => {
  const rates = new RateTracker();
  rates.update(snapshot(100), 10_000);
  rates.update(snapshot(150), 12_000);
  assert.equal(rates.processes.get("P")?.in, 25);
  assert.equal(rates.connections.get("S.out->P.in")?.delivered, 25);
});

test("RateTracker counts a counter that went back (the flow restarted) as 0, not a negative rate", () => {
  const rates = new RateTracker();
  rates.update(snapshot(5000), 10_000);
  rates.update(snapshot(3), 11_000);
  assert.equal(rates.processes.get("P")?.in, 0);
  assert.equal(rates.connections.get("S.out->P.in")?.delivered, 0);
  rates.update(snapshot(13), 12_000);
  assert.equal(rates.processes.get("P")?.in, 10);
});

test("RateTracker keeps its rates for a snapshot read right after the last, instead of dividing by milliseconds", () => {
  const rates = new RateTracker();
  rates.update(snapshot(0), 10_000);
  rates.update(snapshot(10), 11_000);
  // The page was busy: the next two snapshots are read 2 ms apart.
  rates.update(snapshot(20), 12_000);
  rates.update(snapshot(30), 12_002);
  assert.equal(rates.processes.get("P")?.in, 10);
  // The next one is measured from the last snapshot the rates were taken from.
  rates.update(snapshot(40), 13_000);
  assert.equal(rates.processes.get("P")?.in, 20);
});

test("RateTracker.reset() forgets the baseline: the next snapshot has no rate", () => {
  const rates = new RateTracker();
  rates.update(snapshot(0), 10_000);
  rates.reset();
  rates.update(snapshot(500), 11_000);
  assert.equal(rates.processes.get("P")?.in, 0);
});
