/**
 * The flow manager's log of changes: every create, update, delete, start,
 * stop, failure and restart once, with the flow's id, its rev and who
 * asked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import type {
  FlowLogFields,
  FlowLogLevel,
} from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { NO_START, registryOf, SLOW, WAIT } from "./_harness.ts";
import { until } from "../engine/_helpers.ts";
import { consoleErrors } from "../_console.ts";

interface Line {
  message: string;
  level?: FlowLogLevel;
  fields?: FlowLogFields;
}

/** A component whose teardown throws an error carrying its settings. */
const Untidy = defineComponent({
  name: "test/Untidy",
  description: "Its teardown throws an error carrying its settings.",
  inPorts: { in: {} },
  process() {},
  teardown() {
    throw Object.assign(new Error("socket already closed"), {
      options: { url: "mqtt://ops:hunter2@broker:1883" },
    });
  },
});

function manager(store = FlowStore.open(":memory:")) {
  const lines: Line[] = [];
  const flows = new FlowManager({
    store,
    registry: registryOf([], []).register(Untidy),
    log: (message, level, fields) => lines.push({ message, level, fields }),
  });
  return { flows, lines, store };
}

const TICK = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)";

test(
  "FlowManager logs each change once, naming the flow, its rev and the token that asked",
  SLOW,
  async () => {
    const { flows, lines } = manager();
    await flows.restore();
    const by = "token-1a2b3c4d";
    await flows.create({ id: "a", text: TICK, format: "fbp", by });
    await flows.put("a", { text: TICK, format: "fbp" }, { by });
    await flows.replace("a", { text: TICK, format: "fbp" }, { by: "ops" });
    await flows.patch("a", { properties: { x: 1 } }, { by });
    await flows.stop("a", { by });
    await flows.start("a", { by });
    // A start of a running flow changes nothing, and says so.
    await flows.start("a", { by: "ops" });
    await flows.delete("a", { by });
    await flows.create({ id: "b", text: TICK, format: "fbp", start: false });
    // Refused operations change nothing and log no change.
    await assert.rejects(flows.delete("a", { by }));
    await assert.rejects(
      flows.replace("b", { text: "(", format: "fbp" }, { by }),
    );
    assert.deepEqual(lines.map((l) => l.message), [
      'flow "a" created (rev 1, running) by token-1a2b3c4d',
      'flow "a" updated (rev 2, running) by token-1a2b3c4d',
      'flow "a" updated (rev 3, running) by ops',
      'flow "a" updated (rev 4, running) by token-1a2b3c4d',
      'flow "a" stopped (rev 5, stopped) by token-1a2b3c4d; 0 messages discarded',
      'flow "a" started (rev 6, running) by token-1a2b3c4d',
      'flow "a" already running (rev 6, running) by ops',
      'flow "a" deleted (rev 6) by token-1a2b3c4d',
      'flow "b" created (rev 1, created)',
    ]);
    assert.deepEqual(lines[0].fields, {
      flow: "a",
      rev: 1,
      op: "create",
      by: "token-1a2b3c4d",
    });
    assert.deepEqual(lines[4].fields?.discarded, 0);
    assert.ok(lines.every((l) => l.level === "info"));
    await flows.close();
  },
);

test(
  "FlowManager logs a failed start once with its rev, and each restart with its delay",
  SLOW,
  async () => {
    const store = FlowStore.open(":memory:");
    store.create({
      id: "bad",
      text:
        `# @restart on-failure\n# @restartDelayMs 1\n# @restartLimit 1\n${NO_START}`,
      format: "fbp",
      running: true,
    });
    const { flows, lines } = manager(store);
    await flows.restore();
    await until(() => flows.get("bad").state === "failed", WAIT);
    const text = lines.map((l) => `${l.level} ${l.message}`);
    assert.equal(text.length, 4, text.join("\n"));
    assert.match(
      text[0],
      /^error flow "bad": it did not start: .*no device.* \(failed, rev 1\)$/,
    );
    assert.match(
      text[1],
      /^warn flow "bad": restart 1 of 1 in 1 ms \(rev 1, policy on-failure\): it did not start/,
    );
    assert.match(
      text[2],
      /^error flow "bad": restart 1 did not start: .*\(failed, rev 1\)$/,
    );
    assert.match(
      text[3],
      /^error flow "bad": not restarted: 1 restarts in a row reached restartLimit 1 \(rev 1, policy on-failure\)$/,
    );
    assert.deepEqual(lines[1].fields, {
      flow: "bad",
      rev: 1,
      op: "restart",
      delayMs: 1,
    });
    assert.deepEqual(lines[0].fields, { flow: "bad", rev: 1, op: "fail" });
    await flows.close();
  },
);

test(
  "FlowManager logs a process error with the flow and the process as fields, as weir run does",
  SLOW,
  async () => {
    const { flows, lines } = manager();
    await flows.create({
      id: "noisy",
      text: "'1' -> in P(test/Throw)",
      format: "fbp",
    });
    await until(() => lines.some((l) => l.level === "error"), WAIT);
    const line = lines.find((l) => l.level === "error")!;
    assert.match(line.message, /^flow "noisy": process "P" failed/);
    assert.deepEqual(line.fields, { flow: "noisy", process: "P" });
    await flows.close();
  },
);

test(
  "FlowManager logs a teardown that throws as an error of its flow and process, at a stop and at the shutdown, with the message alone",
  SLOW,
  async () => {
    const { flows, lines } = manager();
    const printed = await consoleErrors(async () => {
      await flows.create({
        id: "untidy",
        text: "'1s' -> interval T(core/Interval) out -> in U(test/Untidy)",
        format: "fbp",
      });
      assert.equal(flows.get("untidy").state, "running");
      await flows.stop("untidy");
      await flows.start("untidy");
      await flows.close();
    });
    const errors = lines.filter((l) => l.level === "error");
    const want = {
      message:
        'flow "untidy": process "U" failed: its teardown threw: socket already closed',
      level: "error",
      fields: { flow: "untidy", process: "U" },
    };
    assert.deepEqual(errors, [want, want], JSON.stringify(lines));
    assert.deepEqual(printed, []);
    assert.doesNotMatch(JSON.stringify(lines), /hunter2/);
  },
);

test(
  "FlowManager logs a teardown that throws as a flow fails to start, as an error of its flow and process",
  SLOW,
  async () => {
    const { flows, lines } = manager();
    const printed = await consoleErrors(async () => {
      // U is set up, then Bad's setup throws: U's teardown runs as the
      // start fails, while the flow manager still listens.
      await assert.rejects(flows.create({
        id: "half",
        text: `'1' -> in U(test/Untidy)\n${NO_START}`,
        format: "fbp",
      }));
      await flows.close();
    });
    assert.deepEqual(lines.filter((l) => l.level === "error"), [{
      message:
        'flow "half": process "U" failed: its teardown threw: socket already closed',
      level: "error",
      fields: { flow: "half", process: "U" },
    }]);
    assert.deepEqual(printed, []);
  },
);

test(
  "FlowManager.stop() whose drain times out logs a warning with the count discarded, as a delete does",
  SLOW,
  async () => {
    const { flows, lines } = manager();
    await flows.create({
      id: "slow",
      text:
        "'2ms' -> interval T(core/Interval) out -> in D(core/Delay) out -> in X(core/Drop)\n'10s' -> delay D",
      format: "fbp",
    });
    await until(
      () =>
        (flows.stats("slow").processes.find((p) => p.name === "T")!
          .messagesOut.out ?? 0) >= 5,
      WAIT,
    );
    const info = await flows.stop("slow", { timeoutMs: 20 });
    assert.equal(info.drained, false);
    assert.ok(info.discarded > 0);
    const warn = lines.filter((l) => l.level === "warn");
    assert.equal(warn.length, 1, JSON.stringify(lines));
    assert.match(
      warn[0].message,
      new RegExp(
        `^flow "slow": drain timed out; ${info.discarded} messages were discarded \\(\\d+ buffered, \\d+ in activations\\)$`,
      ),
    );
    assert.deepEqual(warn[0].fields, {
      flow: "slow",
      discarded: info.discarded,
    });
    await flows.close();
  },
);
