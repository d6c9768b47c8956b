/**
 * The dashboard names the engine's metrics in the server's namespace,
 * which `/ui/access` tells it (`weir serve --metrics-namespace edge`).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { UI_ASSETS } from "../../src/ui/assets.gen.ts";
import { metricName, metricNames } from "../../src/ui/metric_names.ts";

test("metricName() puts the server's namespace before an engine metric's name", () => {
  assert.equal(
    metricName("process_messages_total"),
    "weir_process_messages_total",
  );
  metricNames.namespace = "edge";
  try {
    assert.equal(metricName("memory_bytes"), "edge_memory_bytes");
  } finally {
    metricNames.namespace = "weir";
  }
});

test("the dashboard's script names no engine metric with a fixed weir_ prefix: its queries follow the namespace", () => {
  const js = UI_ASSETS["/ui/app.js"].body;
  assert.deepEqual(js.match(/weir_[a-z_]+/g) ?? [], []);
  assert.ok(js.includes("process_messages_total"));
});

test("the dashboard asks a flow's event stream for a stats event every second with the parameter the server reads (interval)", () => {
  const js = UI_ASSETS["/ui/app.js"].body;
  assert.ok(js.includes("/events?interval=1000"), "asks for ?interval=1000");
  assert.ok(!js.includes("/events?every="), "never for ?every=");
});
