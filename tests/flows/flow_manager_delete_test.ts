/**
 * FlowManager.delete() and unknown ids.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import {
  FlowConflictError,
  FlowNotFoundError,
} from "../../src/flows/errors.ts";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import { gated, sourceOf, until } from "../engine/_helpers.ts";
import { harness, rejects, SLOW, ticking, WAIT } from "./_harness.ts";

test(
  "FlowManager.delete() drains the flow, stops tracking it and deletes its row",
  SLOW,
  async () => {
    const sink = gated();
    const registry = builtins()
      .register(sourceOf([1, 2, 3]))
      .register(sink.component);
    const h = await harness({ registry });
    await h.flows.create({
      id: "f",
      text: "Src(test/Source) out -> in Sink(test/Gated)",
      format: "fbp",
    });
    const events: FlowEvent[] = [];
    h.flows.subscribe("f", (e) => events.push(e));
    await until(
      () =>
        h.flows.stats("f").processes.find((p) => p.name === "Src")!.messagesOut
          .out === 3,
      WAIT,
    );
    await rejects(h.flows.delete("f", { rev: 2 }), FlowConflictError);
    assert.equal(h.flows.get("f").state, "running");
    const deleting = h.flows.delete("f", { rev: 1 });
    await until(() => events.some((e) => e.type === "state"), WAIT);
    sink.open();
    await deleting;
    assert.deepEqual(sink.got, [1, 2, 3]);
    assert.deepEqual(h.flows.list(), []);
    assert.equal(h.store.get("f"), undefined);
    assert.deepEqual(h.collector.flows, []);
    assert.deepEqual(events.at(-1), { type: "deleted" });
    assert.throws(() => h.flows.get("f"), FlowNotFoundError);
    await h.flows.close();
  },
);

test(
  "FlowManager: an unknown id is a FlowNotFoundError everywhere",
  SLOW,
  async () => {
    const h = await harness();
    const check = (e: FlowNotFoundError) => {
      assert.equal("status" in e, false, "no HTTP status in the domain");
      assert.equal(e.id, "nope");
      assert.match(e.message, /flow "nope": it does not exist/);
    };
    for (
      const fn of [
        () => h.flows.get("nope"),
        () => h.flows.source("nope"),
        () => h.flows.stats("nope"),
        () => h.flows.subscribe("nope", () => {}),
      ]
    ) {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof FlowNotFoundError);
        check(e);
        return true;
      });
    }
    const input = { text: ticking(), format: "fbp" } as const;
    await rejects(h.flows.replace("nope", input), FlowNotFoundError, check);
    await rejects(h.flows.patch("nope", {}), FlowNotFoundError, check);
    await rejects(h.flows.delete("nope"), FlowNotFoundError, check);
    await rejects(h.flows.start("nope"), FlowNotFoundError, check);
    await rejects(h.flows.stop("nope"), FlowNotFoundError, check);
    assert.deepEqual(h.store.list(), []);
    await h.flows.close();
  },
);

test(
  "FlowManager.delete() past the drain timeout logs how many messages it gave up",
  SLOW,
  async () => {
    const sink = gated();
    const registry = builtins()
      .register(sourceOf([1, 2, 3, 4, 5]))
      .register(sink.component);
    const h = await harness({ registry, drainTimeoutMs: 20 });
    await h.flows.create({
      id: "f",
      text: "Src(test/Source) out -> in Sink(test/Gated)",
      format: "fbp",
    });
    await until(
      () =>
        h.flows.stats("f").processes.find((p) => p.name === "Src")!.messagesOut
          .out === 5,
      WAIT,
    );
    await h.flows.delete("f", { rev: 1 });
    sink.open();
    // 4 buffered, and the one the gated sink took and was holding.
    assert.ok(
      h.logs.includes(
        'flow "f": drain timed out; 5 messages were discarded (4 buffered, 1 in activations)',
      ),
      h.logs.join("\n"),
    );
    await h.flows.close();
  },
);
