/**
 * The stall watchdog with the flow manager: a flow whose activation blocks
 * the event loop past the threshold is stopped and marked failed with the
 * process named, the others keep running, and a flow that stalls at every
 * start is restored stopped by the crash-loop guard.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { defineComponent } from "../../src/engine/component.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { StallWatchdog } from "../../src/flows/stall_watchdog.ts";
import { until } from "../engine/_helpers.ts";
import { grows, registryOf, SLOW, tempDir, ticking, WAIT } from "./_harness.ts";

/** Blocks the event loop for as many ms as the message says. */
const Block = defineComponent({
  name: "test/Block",
  description: "Busy-waits for the message's number of ms.",
  inPorts: { in: {} },
  process(v) {
    const end = Date.now() + Number(v);
    while (Date.now() < end) {
      // The point: nothing else runs on this thread meanwhile.
    }
  },
});

const THRESHOLD_MS = 300;
let dog: StallWatchdog;
before(async () => {
  dog = await StallWatchdog.start({ thresholdMs: THRESHOLD_MS });
});
after(() => dog.close());

function manager(path: string, got: unknown[], logs: string[]) {
  return new FlowManager({
    store: FlowStore.open(path),
    registry: registryOf(got, []).register(Block),
    log: (m) => logs.push(m),
    watchdog: dog,
    crashLoop: { maxStartFailures: 3, windowMs: 60_000, settleMs: 10_000 },
  });
}

test(
  "a flow whose process blocks the loop past the threshold is failed with the process named; the others run on",
  SLOW,
  async () => {
    const got: unknown[] = [];
    const logs: string[] = [];
    const flows = manager(":memory:", got, logs);
    await flows.restore();
    await flows.create({ id: "ok", text: ticking(), format: "fbp" });
    await grows(got);
    await flows.create({
      id: "poison",
      text: "'1200' -> in Stall(test/Block)",
      format: "fbp",
    });
    await until(() => flows.get("poison").state === "failed", WAIT);
    const info = flows.get("poison");
    assert.match(
      info.error!,
      /^stalled the server for \d+\.\d s in process "Stall"$/,
    );
    const s = Number(/for (\d+\.\d) s/.exec(info.error!)![1]);
    assert.ok(s >= THRESHOLD_MS / 1000 && s < 10, info.error);
    assert.ok(
      logs.some((l) =>
        /flow "poison": stalled the server for .* in process "Stall"/.test(l)
      ),
      logs.join("\n"),
    );
    // Not restarted by a policy; the other flow still runs.
    assert.equal(flows.get("ok").state, "running");
    await grows(got);
    await flows.close();
  },
);

test(
  "a flow that stalls at every start is restored stopped at the 4th restore",
  SLOW,
  async () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "flows.db");
    const seed = FlowStore.open(path);
    seed.create({
      id: "poison",
      text: "'700' -> in Stall(test/Block)",
      format: "fbp",
      running: true,
    });
    seed.close();
    for (let i = 1; i <= 3; i++) {
      const flows = manager(path, [], []);
      await flows.restore();
      await until(() => flows.get("poison").state === "failed", WAIT);
      assert.match(flows.get("poison").error!, /in process "Stall"/);
      await flows.close();
    }
    const flows = manager(path, [], []);
    const [info] = await flows.restore();
    assert.equal(info.state, "stopped");
    assert.match(info.reason!, /its last 3 starts/);
    await flows.close();
  },
);
