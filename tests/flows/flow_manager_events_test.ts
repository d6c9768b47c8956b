/**
 * FlowManager.subscribe(): a flow's process errors and state changes reach subscribers and the log.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import { until } from "../engine/_helpers.ts";
import { harness, SLOW, ticking, WAIT } from "./_harness.ts";

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
      // The stop drained the network to its end: the flow was stopped.
      ["draining", "stopped"],
    );
    off();
    const seen = events.length;
    await h.flows.start("errs");
    assert.equal(events.length, seen);
    await h.flows.close();
  },
);

test(
  "a flow an operator stopped says stopped in its stats and events, as GET /flows/:id does; one whose sources ended says finished",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "ticks", text: ticking(), format: "fbp" });
    const events: string[] = [];
    h.flows.subscribe("ticks", (e) => {
      if (e.type === "state") events.push(e.state);
    });
    await h.flows.stop("ticks");
    assert.equal(h.flows.get("ticks").state, "stopped");
    assert.equal(h.flows.stats("ticks").state, "stopped");
    assert.deepEqual(events, ["draining", "stopped"]);
    await h.flows.create({
      id: "once",
      text:
        "'1' -> count Tick(core/Interval) out -> in D(core/Drop)\n'1ms' -> interval Tick",
      format: "fbp",
    });
    await until(() => h.flows.get("once").state === "finished", WAIT);
    assert.equal(h.flows.stats("once").state, "finished");
    await h.flows.close();
  },
);

test(
  "stopping a flow whose network had ended (finished, or waiting to restart) tells its subscribers it is stopped",
  SLOW,
  async () => {
    const h = await harness();
    const once = "'1' -> count Tick(core/Interval)\n'1ms' -> interval Tick\n" +
      "Tick out -> in D(core/Drop)";
    await h.flows.create({ id: "once", text: once, format: "fbp" });
    await until(() => h.flows.get("once").state === "finished", WAIT);
    const events: string[] = [];
    h.flows.subscribe("once", (e) => {
      if (e.type === "state") events.push(e.state);
    });
    await h.flows.stop("once");
    assert.equal(h.flows.get("once").state, "stopped");
    assert.deepEqual(events, ["stopped"]);

    await h.flows.create({
      id: "again",
      text: `# @restart always\n# @restartDelayMs 60000\n${once}`,
      format: "fbp",
    });
    await until(() => h.flows.get("again").state === "restarting", WAIT);
    const later: string[] = [];
    h.flows.subscribe("again", (e) => {
      if (e.type === "state") later.push(e.state);
    });
    await h.flows.stop("again");
    assert.equal(h.flows.get("again").state, "stopped");
    assert.deepEqual(later, ["stopped"]);
    // Stopping it again changes nothing, and says nothing.
    await h.flows.stop("again");
    assert.deepEqual(later, ["stopped"]);
    await h.flows.close();
  },
);
