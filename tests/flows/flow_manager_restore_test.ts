/**
 * FlowManager.restore(): flows come back after a restart as they were stored.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  collect,
  grows,
  harness,
  NO_START,
  operations,
  registryOf,
  SLOW,
  tempDir,
  ticking,
} from "./_harness.ts";

test(
  "FlowManager.restore() after reopening a file: running flows run again, stopped ones stay stopped, bad ones fail with a reason",
  SLOW,
  async () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "flows.db");
    const first = await harness({
      path,
      registry: registryOf([], []).register(collect("test/Gone", [])),
    });
    await first.flows.create({ id: "runs", text: ticking(), format: "fbp" });
    await first.flows.create({
      id: "idle",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    await first.flows.create({ id: "paused", text: ticking(), format: "fbp" });
    await first.flows.stop("paused");
    await first.flows.create({
      id: "gone",
      text: ticking("test/Gone"),
      format: "fbp",
    });
    // A row written by an earlier weir whose graph no longer starts.
    first.store.create({
      id: "broken",
      text: NO_START,
      format: "fbp",
      running: true,
    });
    const stored = first.store.list();
    await first.flows.close();

    // The second run has no test/Gone component.
    const second = await harness({ path });
    assert.deepEqual(second.store.list(), stored);
    const byId = Object.fromEntries(second.flows.list().map((f) => [f.id, f]));
    assert.deepEqual(Object.keys(byId), [
      "broken",
      "gone",
      "idle",
      "paused",
      "runs",
    ]);
    assert.equal(byId.runs.state, "running");
    assert.equal(byId.idle.state, "created");
    assert.equal(byId.idle.running, false);
    assert.equal(byId.paused.running, false);
    // Stopped by an operator, not never started (it said created).
    assert.equal(byId.paused.state, "stopped");
    assert.equal(byId.gone.state, "failed");
    assert.match(byId.gone.error!, /unknown component "test\/Gone"/);
    assert.equal(byId.broken.state, "failed");
    assert.match(byId.broken.error!, /did not start: .*no device/);
    // Their statistics say so too (an empty snapshot said "created").
    for (const id of Object.keys(byId)) {
      assert.equal(second.flows.stats(id).state, byId[id].state, id);
    }
    await grows(second.got);
    assert.deepEqual(second.collector.flows.sort(), ["idle", "paused", "runs"]);

    const readiness = second.flows.readiness();
    assert.equal(readiness.ready, false);
    assert.equal(readiness.reasons.length, 2);
    assert.match(
      readiness.reasons[0],
      /^Flow "broken" should run but does not: .*no device/,
    );
    assert.match(
      readiness.reasons[1],
      /^Flow "gone" should run but does not: .*unknown component "test\/Gone"/,
    );
    assert.ok(
      second.logs.some((l) =>
        /flow "gone": its stored graph does not build/.test(l)
      ),
    );
    assert.equal(second.flows.stats("gone").processes.length, 0);
    assert.deepEqual(await operations(second.collector), {
      "start success": 1,
      "start error": 2,
    });

    // Stopping a failed flow says it should not run: readiness drops it.
    await second.flows.stop("gone");
    await second.flows.replace("broken", { text: ticking(), format: "fbp" });
    assert.deepEqual(second.flows.readiness(), { ready: true, reasons: [] });
    // A stopped flow replaced stays stopped, in its info and its stats; a
    // never started one stays created.
    await second.flows.replace("paused", { text: ticking(), format: "fbp" });
    assert.equal(second.flows.get("paused").state, "stopped");
    assert.equal(second.flows.stats("paused").state, "stopped");
    await second.flows.replace("idle", { text: ticking(), format: "fbp" });
    assert.equal(second.flows.get("idle").state, "created");
    await second.flows.close();
  },
);
