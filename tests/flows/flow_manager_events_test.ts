/**
 * FlowManager.subscribe(): a flow's process errors and state changes reach subscribers and the log.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import { until } from "../engine/_helpers.ts";
import { harness, SLOW, WAIT } from "./_harness.ts";

test(
  "FlowManager forwards a flow's process errors and state changes to subscribers and the log",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({
      id: "errs",
      text: "'5ms' -> interval Tick(core/Interval) out -> in X(test/Throw)",
      format: "fbp",
    });
    const events: FlowEvent[] = [];
    const off = h.flows.subscribe("errs", (e) => events.push(e));
    h.flows.subscribe("errs", () => {
      throw new Error("a broken subscriber");
    });
    await until(() => events.some((e) => e.type === "error"), WAIT);
    const error = events.find((e) => e.type === "error")!;
    assert.equal(error.type === "error" && error.process, "X");
    assert.match(
      error.type === "error" ? error.message : "",
      /cannot handle \d+/,
    );
    assert.ok(h.logs.some((l) => /flow "errs": .*cannot handle/.test(l)));
    assert.ok(
      h.logs.some((l) => /a subscriber threw: a broken subscriber/.test(l)),
    );
    await h.flows.stop("errs");
    assert.deepEqual(
      events.filter((e) => e.type === "state").map((e) =>
        e.type === "state" && e.state
      ),
      ["draining", "finished"],
    );
    off();
    const seen = events.length;
    await h.flows.start("errs");
    assert.equal(events.length, seen);
    await h.flows.close();
  },
);
