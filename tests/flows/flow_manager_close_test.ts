/**
 * FlowManager.close(): drains, keeps flows stored as running, refuses later operations.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { grows, harness, rejects, SLOW, tempDir, ticking } from "./_harness.ts";

test(
  "FlowManager.close() drains running flows, keeps them stored as running, and refuses later operations",
  SLOW,
  async () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "flows.db");
    const h = await harness({ path });
    await h.flows.create({ id: "runs", text: ticking(), format: "fbp" });
    await h.flows.create({
      id: "idle",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    await grows(h.got);
    const closing = h.flows.close({ timeoutMs: 2000 });
    assert.equal(h.flows.close(), closing);
    assert.equal(h.flows.readiness().ready, false);
    assert.match(h.flows.readiness().reasons[0], /shutting down/);
    await closing;
    assert.equal(h.flows.get("runs").state, "finished");
    assert.deepEqual(h.collector.flows, []);
    await rejects(
      h.flows.create({ id: "x", text: ticking(), format: "fbp" }),
      Error,
      (e) =>
        assert.match(
          e.message,
          /Cannot create flow "x": the flow manager is closed/,
        ),
    );
    await rejects(
      h.flows.start("idle"),
      Error,
      (e) => assert.match(e.message, /closed/),
    );
    await rejects(
      h.flows.restore(),
      Error,
      (e) => assert.match(e.message, /closed/),
    );
    assert.throws(() => h.store.list(), /is closed/);
    const reopened = FlowStore.open(path);
    assert.deepEqual(
      reopened.list().map((f) => [f.id, f.running]),
      [["idle", false], ["runs", true]],
    );
    reopened.close();
  },
);
