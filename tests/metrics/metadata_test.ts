/**
 * MetricsCollector.metadata(): every metric with its type, help and labels.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { parseExposition } from "./_exposition.ts";
import { oddFlow, userMetrics } from "./_fixtures.ts";

test("metadata lists user metrics of every type with their type, help and labels", () => {
  const m = new MetricsCollector();
  userMetrics(m);
  const meta = m.metadata();
  assert.deepEqual(meta.app_jobs_total, [{
    type: "counter",
    help: "Jobs.",
    unit: "",
    labels: ["queue"],
  }]);
  assert.equal(meta.app_retries[0].type, "counter");
  assert.equal(meta.app_temperature_celsius[0].type, "gauge");
  assert.equal(meta.app_request_seconds[0].type, "histogram");
  assert.equal(meta.app_payload_bytes[0].type, "summary");
});

test("metadata names every family the text exposition types", async () => {
  const m = new MetricsCollector();
  userMetrics(m);
  m.track(await oddFlow());
  const meta = m.metadata();
  const e = parseExposition(await m.render("text"));
  for (const [name, type] of e.types) {
    assert.equal(meta[name]?.[0].type, type, name);
  }
});
