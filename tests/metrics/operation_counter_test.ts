/**
 * Flow operations counted for flow_operations_total.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { parseExposition, samplesOf } from "./_exposition.ts";
import { N } from "./_fixtures.ts";

test("recordFlowOperation refuses an unknown operation or result with a RangeError and counts nothing", async () => {
  const m = new MetricsCollector();
  const record = m.recordFlowOperation.bind(m) as (
    o: unknown,
    r: unknown,
  ) => void;
  for (
    const [o, r] of [
      ["create", "ok"],
      ["Create", "success"],
      ["create\0success", ""],
      [undefined, "success"],
      ["__proto__", "error"],
    ]
  ) {
    assert.throws(() => record(o, r), RangeError, `${String(o)}/${r}`);
  }
  const e = parseExposition(await m.render("text"));
  const ops = samplesOf(e, N("flowOperations"));
  assert.equal(ops.length, 10);
  for (const s of ops) assert.equal(s.value, 0);
});
