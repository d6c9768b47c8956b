/**
 * FlowManager.patch(): an RFC 7386 merge patch of the graph's JSON form.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphError } from "../../src/graph/graph_error.ts";
import { FlowConflictError, FlowStartError } from "../../src/flows/errors.ts";
import {
  grows,
  harness,
  rejects,
  SLOW,
  snapshot,
  ticking,
} from "./_harness.ts";

test(
  "FlowManager.patch() merges an RFC 7386 patch into the JSON form and stores JSON",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    const info = await h.flows.patch("f", {
      properties: { defaultCapacity: 5 },
      processes: { Extra: { component: "core/Drop" } },
    }, { rev: 1 });
    assert.equal(info.rev, 2);
    assert.equal(info.format, "json");
    assert.equal(info.processes, 3);
    const stored = JSON.parse(h.store.get("f")!.text);
    assert.equal(stored.properties.defaultCapacity, 5);
    assert.equal(stored.processes.Extra.component, "core/Drop");
    assert.equal(stored.processes.Tick.component, "core/Interval");
    const removed = await h.flows.patch("f", { processes: { Extra: null } });
    assert.equal(removed.processes, 2);
    assert.equal(h.flows.source("f").graph.processes?.Extra, undefined);
    // A member named __proto__ is a member, not a prototype.
    await h.flows.patch(
      "f",
      JSON.parse('{"properties": {"__proto__": {"polluted": true}}}'),
    );
    const props = h.flows.source("f").graph.properties!;
    assert.ok(Object.hasOwn(props, "__proto__"));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    await grows(h.got);
    await h.flows.close();
  },
);

test(
  "FlowManager.patch() failures leave the flows and the database unchanged",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await grows(h.got);
    const before = snapshot(h);
    for (const bad of [null, [1], "text", 3]) {
      await rejects(
        h.flows.patch("f", bad),
        TypeError,
        (e) =>
          assert.match(
            e.message,
            /Cannot patch flow "f": a JSON merge patch of a graph must be an object/,
          ),
      );
    }
    await rejects(
      h.flows.patch("f", { processes: { Sink: { component: "no/Such" } } }),
      GraphError,
    );
    await rejects(
      h.flows.patch("f", { processes: { Sink: null } }),
      GraphError,
    );
    await rejects(
      h.flows.patch("f", {
        processes: { Sink: { component: "test/FailStart" } },
      }),
      FlowStartError,
    );
    await rejects(
      h.flows.patch("f", { properties: { x: 1 } }, { rev: 9 }),
      FlowConflictError,
    );
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    await h.flows.close();
  },
);
