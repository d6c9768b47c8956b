/**
 * The crash-loop guard: a flow whose starts at restore failed or never
 * settled too often within a window is restored stopped, with the reason.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { NO_START, registryOf, SLOW, tempDir } from "./_harness.ts";

function open(path: string, logs: string[] = [], settleMs = 10_000) {
  return new FlowManager({
    store: FlowStore.open(path),
    registry: registryOf([], []),
    log: (m) => logs.push(m),
    crashLoop: { maxStartFailures: 3, windowMs: 60_000, settleMs },
  });
}

test(
  "a flow that failed to start at 3 restores in a row is restored stopped at the 4th, with the reason; the server is ready",
  SLOW,
  async () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "flows.db");
    const seed = FlowStore.open(path);
    seed.create({ id: "bad", text: NO_START, format: "fbp", running: true });
    seed.close();
    for (let i = 1; i <= 3; i++) {
      const flows = open(path);
      const [info] = await flows.restore();
      assert.equal(info.state, "failed", `restore ${i}`);
      await flows.close();
    }
    const logs: string[] = [];
    const flows = open(path, logs);
    const [info] = await flows.restore();
    assert.equal(info.state, "stopped");
    assert.equal(info.running, true);
    assert.match(
      info.reason!,
      /^not started: its last 3 starts within 60 s failed or never settled .*start it with POST \/flows\/:id\/start$/,
    );
    assert.deepEqual(flows.readiness(), { ready: true, reasons: [] });
    assert.ok(
      logs.some((l) => /"bad": not started: its last 3 starts/.test(l)),
    );
    await flows.close();
  },
);

test(
  "starts that never settled (the process died during them) count; a start by hand clears them",
  SLOW,
  async () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "flows.db");
    const seed = FlowStore.open(path);
    const text = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)";
    seed.create({ id: "p", text, format: "fbp", running: true });
    // As a poison flow that blocked or killed weir at three starts leaves it.
    const now = Date.now();
    for (const t of [now - 3000, now - 2000, now - 1000]) {
      seed.recordStartAttempt("p", t, now - 60_000);
    }
    seed.close();
    const flows = open(path);
    const [info] = await flows.restore();
    assert.equal(info.state, "stopped");
    assert.match(info.reason!, /its last 3 starts/);
    assert.equal((await flows.start("p")).state, "running");
    await flows.close();
    const store = FlowStore.open(path);
    assert.deepEqual(store.startAttempts("p"), []);
    store.close();
  },
);

test(
  "a flow held back by the guard and fixed with a replace that starts it is not held back at the next restore",
  SLOW,
  async () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "flows.db");
    const seed = FlowStore.open(path);
    seed.create({ id: "bad", text: NO_START, format: "fbp", running: true });
    seed.close();
    for (let i = 1; i <= 3; i++) {
      const flows = open(path);
      await flows.restore();
      await flows.close();
    }
    let flows = open(path);
    assert.equal((await flows.restore())[0].state, "stopped");
    // The operator's fix: as a start by hand, it takes over from the guard.
    const good = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)";
    const fixed = await flows.replace("bad", { text: good, format: "fbp" });
    assert.equal(fixed.state, "running");
    await flows.close();
    flows = open(path);
    const [again] = await flows.restore();
    assert.equal(again.state, "running", again.reason);
    await flows.close();
  },
);

test(
  "a restored flow that runs settleMs has its start forgotten: later restarts start it",
  SLOW,
  async () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "flows.db");
    const seed = FlowStore.open(path);
    const text = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)";
    seed.create({ id: "ok", text, format: "fbp", running: true });
    seed.close();
    for (let i = 0; i < 4; i++) {
      const flows = open(path, [], 1);
      const [info] = await flows.restore();
      assert.equal(info.state, "running", `restore ${i}`);
      // The settle timer (1 ms) was set before this one, so it fired first.
      await new Promise((r) => setTimeout(r, 20));
      await flows.close();
      const check = FlowStore.open(path);
      assert.deepEqual(check.startAttempts("ok"), [], `restore ${i}`);
      check.close();
    }
  },
);
