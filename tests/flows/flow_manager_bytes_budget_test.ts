/**
 * The bytes budget per flow through the flow manager: over it, the flow's
 * state says `pressure: "bytes"` and the metrics show it; the buffers stay
 * within it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { until } from "../engine/_helpers.ts";
import { registryOf, SLOW, WAIT } from "./_harness.ts";

/** Sends 1 KiB strings for as long as it may. */
const Flood = defineComponent({
  name: "test/Flood",
  description: "Sends 1 KiB strings until stopped.",
  outPorts: { out: {} },
  async run(ctx) {
    const s = "x".repeat(1024);
    while (!ctx.signal.aborted) await ctx.send("out", s);
  },
});

/** Takes one message and never finishes it. */
const Stuck = defineComponent({
  name: "test/Stuck",
  description: "Never finishes its first message.",
  inPorts: { in: {} },
  process: () => new Promise<void>(() => {}),
});

test(
  "a flow over its bytes budget says pressure bytes in its state and metrics, and buffers no more",
  SLOW,
  async () => {
    const collector = new MetricsCollector();
    const flows = new FlowManager({
      store: FlowStore.open(":memory:"),
      registry: registryOf([], []).register(Flood).register(Stuck),
      collector,
      bytesBudgetPerFlow: 100_000,
      log: () => {},
    });
    await flows.restore();
    await flows.create({
      id: "flood",
      text: "F(test/Flood) out -> (100000) in S(test/Stuck)",
      format: "fbp",
    });
    await until(() => flows.get("flood").pressure === "bytes", WAIT);
    const text = await collector.render();
    assert.match(text, /^weir_network_bytes_pressure\{flow="flood"\} 1$/m);
    const bytes = Number(
      /^weir_network_buffered_bytes\{flow="flood"\} (\d+)$/m.exec(text)?.[1],
    );
    // Over the budget by at most the send that crossed it (2,064 bytes).
    assert.ok(bytes > 100_000 && bytes <= 100_000 + 2064, `${bytes}`);
    const depth = flows.stats("flood").processes.find((p) => p.name === "S")!
      .queueDepth.in;
    assert.ok(depth < 100, `${depth} buffered`);
    await flows.stop("flood", { timeoutMs: 100 });
    assert.equal(flows.get("flood").pressure, undefined);
    await flows.close();
  },
);

test("a flow manager refuses a bytes budget that is not a positive number", () => {
  assert.throws(
    () =>
      new FlowManager({
        store: FlowStore.open(":memory:"),
        registry: registryOf([], []),
        bytesBudgetPerFlow: 0,
      }),
    /bytesBudgetPerFlow must be a positive number of bytes, received 0/,
  );
});
