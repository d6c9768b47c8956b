/**
 * What README says of a flow's states and of `If-Match`, checked against
 * the code: every state `weir_flow_state` exports is in README's list, and
 * a stop or a start moves `rev`, so a `rev` read before it gets 409.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { builtins } from "../src/components/mod.ts";
import { FlowManager } from "../src/flows/flow_manager.ts";
import { FlowStore } from "../src/flows/flow_store.ts";
import { FLOW_STATE_VALUES } from "../src/metrics/catalogue.ts";
import { MetricsCollector } from "../src/metrics/collector.ts";
import { flowApp } from "../src/server/flow_app.ts";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** README's paragraph that starts with `start`. */
function paragraph(start: string): string {
  const at = README.indexOf(start);
  assert.ok(at >= 0, `README has "${start}"`);
  return README.slice(at, README.indexOf("\n\n", at)).replace(/\s+/g, " ");
}

test("README's list of a flow's states names every state weir_flow_state exports", () => {
  const list = paragraph("A flow's `state` says what happened:");
  for (const state of FLOW_STATE_VALUES) {
    assert.ok(list.includes(`\`${state}\``), `${state} missing from: ${list}`);
  }
});

test("a stop and a start move a flow's rev, so an If-Match read before a stop gets 409, as README says", async () => {
  const note = paragraph("- **Optimistic concurrency.**");
  assert.match(note, /a `rev` read before a stop gets 409/);
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: builtins(),
    drainTimeoutMs: 1000,
    log: () => {},
  });
  const app = flowApp({
    flows,
    metrics: new MetricsCollector(),
    components: builtins(),
  });
  try {
    const graph =
      "'1s' -> interval Tick(core/Interval) out -> in Out(core/Drop)";
    const put = (rev: number, text = graph) =>
      app.request("/flows/t", {
        method: "PUT",
        headers: { "Content-Type": "text/vnd.fbp", "If-Match": `"${rev}"` },
        body: text,
      });
    const created = await app.request("/flows/t", {
      method: "PUT",
      headers: { "Content-Type": "text/vnd.fbp" },
      body: graph,
    });
    assert.equal(created.headers.get("etag"), '"1"');
    const stopped = await app.request("/flows/t/stop", { method: "POST" });
    assert.equal(stopped.status, 200);
    assert.equal((await stopped.json()).rev, 2);
    assert.equal((await put(1)).status, 409);
    const started = await app.request("/flows/t/start", { method: "POST" });
    assert.equal((await started.json()).rev, 3);
    assert.equal((await put(2)).status, 409);
    const replaced = await put(3, graph.replace("1s", "2s"));
    assert.equal(replaced.status, 200);
    assert.equal(replaced.headers.get("etag"), '"4"');
  } finally {
    await flows.close({ timeoutMs: 1000 });
  }
});
