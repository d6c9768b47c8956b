/**
 * A connection mqtt/In or mqtt/Out tries again is reported as a warning
 * that says so, never as a failure of the process, and without a secret.
 * No broker is needed: nothing listens on the port.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { freePort } from "../_mosquitto.ts";
import { startMqttNet, until } from "./_mqtt_helpers.ts";
import { ProcessError } from "../../src/engine/errors.ts";

test("a broker that refuses the connection is a warning of mqtt/In on the error event: what happens next, not that the process failed", async () => {
  const port = await freePort();
  const run = await startMqttNet(`
    'mqtt://127.0.0.1:${port}' -> broker In(mqtt/In)
    'a/#' -> topic In
    '100ms' -> reconnect In
    '300ms' -> reconnectMax In
    In out -> in S(test/Sink)
  `);
  try {
    await until(
      () =>
        run.meter("In", "mqtt_disconnects_total", { reason: "unreachable" }) >=
          2,
      "two attempts",
    );
    assert.equal(run.errors.length, 1, "one report, however many attempts");
    const [e] = run.errors;
    assert.ok(e instanceof ProcessError);
    assert.equal(e.level, "warning");
    assert.match(
      e.message,
      new RegExp(
        `^process "In" \\(mqtt/In\\): cannot connect to broker mqtt://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*; retrying in 100 ms, backing off up to 300 ms$`,
      ),
    );
    assert.doesNotMatch(e.message, /failed/);
  } finally {
    await run.stop();
  }
});

test("the report of a WebSocket broker that cannot be reached holds neither the URL's token nor the password", async () => {
  const port = await freePort();
  process.env.MQTT_TEST_RETRY_PW = "pw-s3cret";
  const run = await startMqttNet(
    `
    'ws://127.0.0.1:${port}/mqtt?token=tok-s3cret' -> broker In(mqtt/In)
    'a/#' -> topic In
    'weir' -> username In
    'env:MQTT_TEST_RETRY_PW' -> password In
    '100ms' -> reconnect In
    In error -> in E(test/Sink)
  `,
    [],
    Promise.resolve(),
    { env: ["MQTT_TEST_RETRY_PW"] },
  );
  try {
    await until(() => run.sinks.E?.length, "a report");
    const e = run.sinks.E[0] as ProcessError;
    assert.equal(e.level, "warning");
    assert.match(
      e.message,
      new RegExp(
        `^process "In" \\(mqtt/In\\): cannot connect to broker ws://127\\.0\\.0\\.1:${port}/mqtt as user "weir": .*; retrying in 100 ms`,
      ),
    );
    for (const text of [e.message, String(e.cause ?? ""), e.stack ?? ""]) {
      assert.doesNotMatch(text, /s3cret/);
    }
  } finally {
    delete process.env.MQTT_TEST_RETRY_PW;
    await run.stop();
  }
});

test("ProcessError: a warning names the component and the in-port and says nothing failed; a failure reads as before", () => {
  const info = { network: "n", process: "P", port: "in", kind: "exception" };
  const w = new ProcessError("cannot reach x; retrying in 2 s", {
    ...info,
    kind: "exception",
    level: "warning",
    component: "mqtt/In",
  });
  assert.equal(
    w.message,
    'process "P" (mqtt/In) on in-port "in": cannot reach x; retrying in 2 s',
  );
  assert.equal(w.level, "warning");
  const f = new ProcessError("boom", {
    ...info,
    kind: "exception",
    component: "mqtt/In",
  });
  assert.equal(f.message, 'process "P" failed on in-port "in": boom');
  assert.equal(f.level, "error");
});
