/**
 * FlowManager.replace(): drain the old graph, run the new one; failures and stale revs change nothing; one operation at a time per flow.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphError } from "../../src/graph/graph_error.ts";
import { FlowConflictError, FlowStartError } from "../../src/flows/errors.ts";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import {
  grows,
  harness,
  NO_START,
  operations,
  rejects,
  SLOW,
  snapshot,
  ticking,
  ticks,
} from "./_harness.ts";

test(
  "FlowManager.replace() drains the old graph and runs the new one at the next rev",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    const events: FlowEvent[] = [];
    h.flows.subscribe("f", (e) => events.push(e));
    await grows(h.got);
    const info = await h.flows.replace("f", {
      text: ticking("test/Sink2"),
      format: "fbp",
    }, { rev: 1 });
    assert.equal(info.rev, 2);
    assert.equal(info.state, "running");
    const afterReplace = h.got.length;
    await grows(h.got2);
    // The old network is gone: nothing more reaches its sink.
    assert.equal(h.got.length, afterReplace);
    assert.equal(h.store.get("f")?.text, ticking("test/Sink2"));
    assert.equal(h.store.get("f")?.rev, 2);
    assert.deepEqual(h.collector.flows, ["f"]);
    assert.ok(events.some((e) => e.type === "replaced" && e.rev === 2));
    // The old network was drained, not cut: it finished.
    assert.ok(
      events.some((e) => e.type === "state" && e.state === "finished"),
      JSON.stringify(events),
    );
    await h.flows.close();
  },
);

test(
  "FlowManager.replace() with an invalid graph keeps the old flow running, untouched",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await grows(h.got);
    const before = snapshot(h);
    const sent = ticks(h, "f");
    await rejects(
      h.flows.replace("f", {
        text: "A(no/Such) out -> in B(core/Drop)",
        format: "fbp",
      }),
      GraphError,
    );
    await rejects(
      h.flows.replace(
        "f",
        { text: 7 } as unknown as { text: string; format: "fbp" },
      ),
      TypeError,
    );
    // The same network still runs: its counters went on from where they were.
    assert.ok(ticks(h, "f") >= sent);
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    assert.deepEqual(await operations(h.collector), {
      "create success": 1,
      "update error": 2,
    });
    await h.flows.close();
  },
);

test(
  "FlowManager.replace() with a graph that fails to start runs the old graph again and stores nothing",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await grows(h.got);
    const before = snapshot(h);
    await rejects(
      h.flows.replace("f", { text: NO_START, format: "fbp" }),
      FlowStartError,
      (e) => {
        assert.equal("status" in e, false, "no HTTP status in the domain");
        assert.match(
          e.message,
          /Cannot replace flow "f": the new graph built but did not start: .*no device at \/dev\/ttyUSB0; the previous graph is kept/,
        );
      },
    );
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    assert.equal(h.flows.get("f").state, "running");
    await h.flows.close();
  },
);

test(
  "FlowManager.replace() with a stale rev is a 409 before anything is touched",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await h.flows.replace("f", { text: ticking(), format: "fbp" });
    await grows(h.got);
    const before = snapshot(h);
    const sent = ticks(h, "f");
    await rejects(
      h.flows.replace("f", { text: ticking("test/Sink2"), format: "fbp" }, {
        rev: 1,
      }),
      FlowConflictError,
      (e) => {
        assert.equal("status" in e, false, "no HTTP status in the domain");
        assert.equal(e.expectedRev, 1);
        assert.equal(e.actualRev, 2);
        assert.match(e.message, /rev 1 is stale, the stored rev is 2/);
      },
    );
    assert.ok(ticks(h, "f") >= sent);
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    assert.equal(h.got2.length, 0);
    await h.flows.close();
  },
);

test(
  "FlowManager serializes concurrent replace() calls on one flow",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    const [first, second] = await Promise.allSettled([
      h.flows.replace("f", { text: ticking("test/Sink2"), format: "fbp" }, {
        rev: 1,
      }),
      h.flows.replace("f", { text: ticking(), format: "fbp" }, { rev: 1 }),
    ]);
    assert.equal(first.status, "fulfilled");
    assert.equal(first.value.rev, 2);
    assert.equal(second.status, "rejected");
    assert.ok(second.reason instanceof FlowConflictError);
    assert.equal(second.reason.actualRev, 2);
    // Without a rev, each applies in call order.
    const texts = ["a", "b", "c"].map((x) =>
      `# ${x}\n'5ms' -> interval Tick(core/Interval) out -> in Sink(test/Sink)`
    );
    const infos = await Promise.all(
      texts.map((text) => h.flows.replace("f", { text, format: "fbp" })),
    );
    assert.deepEqual(infos.map((i) => i.rev), [3, 4, 5]);
    // Two creates of one id: the second finds the first's flow.
    const creates = await Promise.allSettled([
      h.flows.create({ id: "g", text: ticking(), format: "fbp" }),
      h.flows.create({ id: "g", text: ticking("test/Sink2"), format: "fbp" }),
    ]);
    assert.equal(creates[0].status, "fulfilled");
    assert.equal(creates[1].status, "rejected");
    assert.ok(creates[1].reason instanceof FlowConflictError);
    assert.equal(h.store.get("g")?.text, ticking());
    await h.flows.delete("g");
    assert.equal(h.store.get("f")?.text, texts[2]);
    assert.equal(h.flows.get("f").state, "running");
    assert.deepEqual(h.collector.flows, ["f"]);
    await grows(h.got);
    await h.flows.close();
  },
);
