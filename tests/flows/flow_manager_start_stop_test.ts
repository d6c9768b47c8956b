/**
 * FlowManager.start() and stop(): drain, timeouts, fresh networks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { FlowStartError } from "../../src/flows/errors.ts";
import { gated, sourceOf, until } from "../engine/_helpers.ts";
import {
  harness,
  NO_START,
  rejects,
  SLOW,
  snapshot,
  ticking,
  WAIT,
} from "./_harness.ts";

test(
  "FlowManager.stop() drains: a message taken before the stop reaches the sink",
  SLOW,
  async () => {
    const sink = gated();
    const registry = builtins()
      .register(sourceOf([1, 2, 3, 4, 5]))
      .register(sink.component);
    const h = await harness({ registry });
    await h.flows.create({
      id: "f",
      text: "Src(test/Source) out -> in Sink(test/Gated)",
      format: "fbp",
    });
    // All five are taken from the source; the sink holds the first.
    await until(
      () =>
        h.flows.stats("f").processes.find((p) => p.name === "Src")!.messagesOut
          .out === 5,
      WAIT,
    );
    const stopping = h.flows.stop("f");
    await until(() => h.flows.get("f").state === "draining", WAIT);
    sink.open();
    const info = await stopping;
    assert.equal(info.drained, true);
    assert.equal(info.discarded, 0);
    assert.deepEqual(sink.got, [1, 2, 3, 4, 5]);
    assert.equal(info.running, false);
    assert.equal(info.rev, 2);
    // A stop drains the network to its end; what happened is a stop.
    assert.equal(info.state, "stopped");
    assert.equal(h.store.get("f")?.running, false);
    assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    // Stopping a stopped flow changes nothing.
    assert.equal((await h.flows.stop("f")).rev, 2);
    await h.flows.close();
  },
);

test(
  "FlowManager.stop() past its timeout discards the backlog and the messages in activations, and says how many",
  SLOW,
  async () => {
    const sink = gated();
    const registry = builtins()
      .register(sourceOf([1, 2, 3, 4, 5]))
      .register(sink.component);
    const h = await harness({ registry });
    await h.flows.create({
      id: "f",
      text: "Src(test/Source) out -> in Sink(test/Gated)",
      format: "fbp",
    });
    await until(
      () =>
        h.flows.stats("f").processes.find((p) => p.name === "Src")!.messagesOut
          .out === 5,
      WAIT,
    );
    const info = await h.flows.stop("f", { timeoutMs: 20 });
    assert.equal(info.drained, false);
    // 4 buffered, and the one the gated sink took and was still holding.
    assert.equal(info.discarded, 5);
    assert.equal(info.state, "stopped");
    sink.open();
    await rejects(h.flows.stop("f", { timeoutMs: -1 }), RangeError);
    await h.flows.close();
  },
);

test(
  "FlowManager.start() builds a fresh network for a stopped flow; a start failure changes nothing",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await h.flows.stop("f");
    const stopped = h.got.length;
    const info = await h.flows.start("f");
    assert.equal(info.state, "running");
    assert.equal(info.rev, 3);
    await until(() => h.got.length > stopped + 2, WAIT);
    assert.deepEqual(h.collector.flows, ["f"]);

    await h.flows.create({
      id: "bad",
      text: NO_START,
      format: "fbp",
      start: false,
    });
    const before = snapshot(h);
    await rejects(
      h.flows.start("bad"),
      FlowStartError,
      (e) => assert.match(e.message, /Cannot start flow "bad": .*no device/),
    );
    assert.deepEqual(snapshot(h), before);
    await h.flows.close();
  },
);
