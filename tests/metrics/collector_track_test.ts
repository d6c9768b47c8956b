/**
 * MetricsCollector.track() and untrack(): flows at every stage of their life.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import {
  gated,
  network,
  overflowNet,
  sinkInto,
  sourceOf,
  until,
} from "../engine/_helpers.ts";
import { parseExposition, samplesOf, valueOf } from "./_exposition.ts";
import { gatedGauge, N, sinks } from "./_fixtures.ts";

test("track() refuses something that is not a network with a TypeError that names the problem", () => {
  const m = new MetricsCollector();
  const track = m.track.bind(m) as (n: unknown) => void;
  for (const bad of [undefined, null, {}, { name: "x" }]) {
    assert.throws(() => track(bad), (e: unknown) => {
      assert.ok(e instanceof TypeError, String(e));
      assert.match(e.message, /^Cannot track/);
      return true;
    });
  }
  assert.deepEqual(m.flows, []);
});

test("a flow tracked before start exports zero counts, then its messages once it ran", async () => {
  const m = new MetricsCollector();
  const net = network(
    { S: sourceOf([1, 2, 3]), K: sinkInto([]) },
    ["S.out>K.in"],
  );
  m.track(net);
  const idle = parseExposition(await m.render("text"));
  assert.equal(valueOf(idle, N("processStarts"), { process: "K" }), 0);
  assert.equal(valueOf(idle, N("flowsActive")), 0);
  await net.start();
  await net.finished;
  const e = parseExposition(await m.render("text"));
  assert.equal(valueOf(e, N("processStarts"), { process: "K" }), 1);
  assert.equal(
    valueOf(e, N("processMessages"), { process: "K", direction: "in" }),
    3,
  );
});

test("a running flow counts as active, and a stopped one keeps its counters until untracked", async () => {
  const m = new MetricsCollector();
  const g = gated();
  const net = network({ S: sourceOf([1, 2, 3]), G: g.component }, [
    "S.out>G.in",
  ]);
  m.track(net);
  await net.start();
  await until(() => net.stats().processes[1].activeActivations === 1);
  const running = parseExposition(await m.render("text"));
  assert.equal(valueOf(running, N("flowsActive")), 1);
  assert.equal(
    valueOf(running, N("processActiveActivations"), { process: "G" }),
    1,
  );
  g.open();
  await net.stop();
  const stopped = parseExposition(await m.render("text"));
  assert.equal(valueOf(stopped, N("flowsActive")), 0);
  assert.equal(valueOf(stopped, N("processStarts"), { process: "G" }), 1);
  assert.equal(valueOf(stopped, N("networkActiveProcesses")), 0);
});

test("two collectors tracking one network export the same counters", async () => {
  const a = new MetricsCollector();
  const b = new MetricsCollector({ namespace: "other" });
  const { net, open } = overflowNet("drop-oldest", []);
  a.track(net);
  b.track(net);
  await net.start();
  await until(() => net.stats().drops.drop_oldest > 0);
  open();
  await net.finished;
  const ea = parseExposition(await a.render("text"));
  const eb = parseExposition(await b.render("text"));
  for (const key of ["processMessages", "messagesDropped"] as const) {
    const left = samplesOf(ea, N(key)).map((s) => s.value);
    const right = samplesOf(eb, N(key, "other")).map((s) => s.value);
    assert.deepEqual(left, right, key);
  }
});

test("untracking a flow while a scrape waits on a slow user collect frees its places and drops it from the next scrape", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 3 });
  const slow = gatedGauge(m, "app_slow");
  const net = sinks(3, "leaving");
  m.track(net);
  const inFlight = m.render("text");
  await slow.collecting;
  assert.equal(m.untrack(net), true);
  m.track(sinks(3, "arriving"));
  slow.open();
  const first = parseExposition(await inFlight);
  assert.equal(valueOf(first, "app_slow"), 1);
  const next = parseExposition(await m.render("text"));
  assert.equal(
    samplesOf(next, N("processStarts"), { flow: "leaving" }).length,
    0,
  );
  assert.equal(
    samplesOf(next, N("processStarts"), { flow: "arriving" }).length,
    3,
  );
  assert.equal(
    valueOf(next, N("metricsSeriesRefused"), { metric: N("processStarts") }),
    0,
  );
});
