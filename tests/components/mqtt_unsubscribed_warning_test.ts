/**
 * A message a persistent session brings on a filter of an earlier graph is
 * acknowledged and dropped by design: mqtt/In reports it once, as a
 * warning, never as a failure of the process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import {
  startMqttNet,
  subscribed,
  testClient,
  until,
} from "./_mqtt_helpers.ts";
import { ProcessError } from "../../src/engine/errors.ts";
import { _MQTT_METERS } from "../../src/components/_mqtt_meters.ts";

const skip = mosquittoSkip();

test(
  "mqtt/In reports a message on a filter it no longer subscribes to once, as a warning that says it is dropped, not that the process failed",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto();
    const graph = (topic: string) => `
      '${broker.url}' -> broker In(mqtt/In)
      '${topic}' -> topic In
      '1' -> qos In
      'false' -> clean In
      'weir-unsubscribed-warning' -> clientId In
      In out -> in S(test/Sink)
    `;
    const pub = await testClient(broker.url);
    const first = await startMqttNet(graph("old/#"));
    try {
      await subscribed(pub, first, "old/probe", { what: "the old filter" });
    } finally {
      await first.stop();
    }
    // The graph changed; the broker's session still holds old/#.
    const run = await startMqttNet(graph("new/#"));
    try {
      await subscribed(pub, run, "new/probe", { what: "the new filter" });
      // Probes of the first run sent after it was subscribed may wait in the
      // session too: they arrive first and are dropped the same way.
      const before = run.meter("In", "mqtt_dropped_total", {
        reason: "unsubscribed",
      });
      for (const t of ["old/x", "old/y"]) {
        await pub.client.publishAsync(t, "stale", { qos: 1 });
      }
      await until(
        () =>
          run.meter("In", "mqtt_dropped_total", { reason: "unsubscribed" }) >=
            before + 2,
        "both dropped",
      );
      const reports = run.errors.filter((e) =>
        /none of its topics match/.test(e.message)
      );
      assert.equal(reports.length, 1, "reported once");
      const [w] = reports;
      assert.ok(w instanceof ProcessError);
      assert.equal(w.level, "warning");
      // The first message dropped names its topic: old/x, or a probe that
      // waited in the session; the whole sentence fits a report.
      assert.match(
        w.message,
        /^process "In" \(mqtt\/In\): dropping messages none of its topics match, from an earlier graph's filter kept by the persistent session; the first on "old\/(x|probe)"$/,
      );
      assert.ok(run.errors.every((e) => e.level === "warning"));
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);

test("weir_mqtt_dropped_total's text says an unsubscribed drop is reported once a start, as a warning, and the other drops each as a failure", () => {
  const spec = _MQTT_METERS.find((m) => m.name === "mqtt_dropped_total");
  assert.ok(spec?.moves);
  assert.doesNotMatch(spec.moves, /Each also goes to the error port/);
  assert.match(
    spec.moves,
    /Each goes to the error port \(or the log\) as a failure of the process, except unsubscribed ones: only the first after each start of the flow is reported, as a warning/,
  );
});
