/**
 * A connection mqtt/In or mqtt/Out tries again is reported as a warning
 * that says so, never as a failure of the process, and without a secret.
 * No broker is needed: nothing listens on the port.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { createServer } from "node:net";
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
        `^process "In" \\(mqtt/In\\): retrying in 100 ms \\(backing off up to 300 ms\\): cannot connect to broker mqtt://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`,
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
        `^process "In" \\(mqtt/In\\): retrying in 100 ms \\(backing off up to [^)]+\\): cannot connect to broker ws://127\\.0\\.0\\.1:${port}/mqtt as user "weir": `,
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

test("a retry warning with a long broker host and user keeps what happens next and why whole within a report's 200 characters", async () => {
  // The host appears twice (the URL, and the resolver's "getaddrinfo
  // ENOTFOUND <host>"): the report used to be cut before "retrying in".
  const host = "weir-edge-broker-primary.plant-7.factory.example.invalid";
  const run = await startMqttNet(`
    'mqtt://${host}:1883' -> broker In(mqtt/In)
    'device-gateway-0042' -> username In
    'a/#' -> topic In
    '100ms' -> reconnect In
    '300ms' -> reconnectMax In
    In error -> in E(test/Sink)
  `);
  try {
    await until(() => run.sinks.E?.length, "a report");
    const e = run.sinks.E[0] as ProcessError;
    const prefix = 'process "In" (mqtt/In): ';
    assert.ok(e.message.startsWith(prefix), e.message);
    const detail = e.message.slice(prefix.length);
    assert.ok(detail.length <= 200, `${detail.length}: ${detail}`);
    assert.doesNotMatch(detail, /characters\)$/, "not cut by the report");
    assert.ok(
      detail.startsWith(
        `retrying in 100 ms (backing off up to 300 ms): cannot connect to broker mqtt://${host}:1883 as user "device-gateway-0042": `,
      ),
      detail,
    );
  } finally {
    await run.stop();
  }
});

test("a connection the broker ends at once is a warning naming the likely cause (another client with the client id), whole within 200 characters even with a long user", async () => {
  // A broker that accepts the connection (CONNACK) and closes it at once,
  // as one does when another client takes over the session.
  const server = createServer((socket) => {
    socket.once("data", () => {
      socket.write(new Uint8Array([0x20, 0x02, 0x00, 0x00]));
      setTimeout(() => socket.destroy(), 20);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const user = "device-gateway-0042-line-7-cell-12-plc-bridge-primary";
  const run = await startMqttNet(`
    'mqtt://127.0.0.1:${port}' -> broker In(mqtt/In)
    '${user}' -> username In
    'a/#' -> topic In
    '100ms' -> reconnect In
    '300ms' -> reconnectMax In
    In error -> in E(test/Sink)
  `);
  try {
    const e = await until(
      () =>
        (run.sinks.E as ProcessError[] | undefined)?.find((e) =>
          /lost the connection/.test(e.message)
        ),
      "a lost connection's report",
    );
    assert.equal(e.level, "warning");
    const prefix = 'process "In" (mqtt/In): ';
    const detail = e.message.slice(prefix.length);
    assert.ok(detail.length <= 200, `${detail.length}: ${detail}`);
    assert.match(
      e.message,
      new RegExp(
        `^process "In" \\(mqtt/In\\): retrying in \\d+ ms \\(backing off up to 300 ms\\): lost the connection to broker mqtt://127\\.0\\.0\\.1:${port} as user "device-gat[^"]*" within 10 s \\(is another client using its client id\\?\\): \\S`,
      ),
    );
  } finally {
    await run.stop();
    await new Promise<void>((r) => server.close(() => r()));
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
