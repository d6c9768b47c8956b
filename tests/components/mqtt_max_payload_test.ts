/**
 * mqtt/In's maxPayloadBytes against a real mosquitto: a payload of the
 * bound arrives whole; a larger one is read past without being held,
 * acknowledged, counted in mqtt_dropped_total{reason="too_large"} and
 * reported, and the messages after it arrive, on the same connection, on
 * MQTT 3.1.1 and 5.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import {
  CONNACK,
  fakeBroker,
  packetType,
  startMqttNet,
  subscribed,
  testClient,
  until,
} from "./_mqtt_helpers.ts";
import type { MqttMessage } from "../../src/components/mqtt.ts";

const skip = mosquittoSkip();

/** The bound the tests set: 1000 bytes. */
const MAX = 1000;

/** A payload of `n` bytes, each the same letter. */
const payload = (n: number, letter = "x") => Buffer.alloc(n, letter);

function graph(url: string, protocolVersion: 4 | 5, qos: 0 | 1 | 2): string {
  return `
    '${url}' -> broker In(mqtt/In)
    'big/#' -> topic In
    '${qos}' -> qos In
    '${protocolVersion}' -> protocolVersion In
    '${MAX}' -> maxPayloadBytes In
    In out -> in S(test/Sink)
  `;
}

for (
  const [protocolVersion, qos] of [[4, 0], [4, 1], [4, 2], [5, 1], [5, 2]] as [
    4 | 5,
    0 | 1 | 2,
  ][]
) {
  test(
    `mqtt/In (MQTT ${
      protocolVersion === 5 ? "5" : "3.1.1"
    }, QoS ${qos}) takes a payload of maxPayloadBytes whole, drops and counts a larger one, and takes the next on the same connection`,
    { skip, timeout: 30_000 },
    async () => {
      // One message in flight at a time: a larger message left
      // unacknowledged would hold back every one after it.
      await using broker = await startMosquitto({
        extraConfig: ["max_inflight_messages 1"],
      });
      const run = await startMqttNet(graph(broker.url, protocolVersion, qos));
      const pub = await testClient(broker.url);
      try {
        await subscribed(pub, run, "big/probe");
        const pubQos = qos === 0 ? 0 : 1;
        await pub.client.publishAsync("big/a", payload(MAX, "a"), {
          qos: pubQos,
        });
        await pub.client.publishAsync("big/b", payload(MAX + 1, "b"), {
          qos: pubQos,
        });
        // Many chunks of the socket, read past.
        await pub.client.publishAsync("big/c", payload(2 * 1024 * 1024, "c"), {
          qos: pubQos,
        });
        await pub.client.publishAsync("big/d", "next", { qos: pubQos });
        const isLast = (m: unknown) => (m as MqttMessage).topic === "big/d";
        await until(() => run.sinks.S.some(isLast), "the next message");
        const got = (run.sinks.S as MqttMessage[]).filter((m) =>
          m.topic !== "big/probe"
        );
        assert.deepEqual(got.map((m) => [m.topic, m.payload]), [
          ["big/a", "a".repeat(MAX)],
          ["big/d", "next"],
        ]);
        // MQTT 5 too: weir does not tell the broker its bound (mosquitto
        // 2.0.11 would drop larger ones uncounted, each holding one of its
        // in-flight slots: with one, big/d would never come).
        assert.equal(
          run.meter("In", "mqtt_dropped_total", { reason: "too_large" }),
          2,
        );
        // Read past, not reconnected.
        assert.equal(run.meter("In", "mqtt_connects_total"), 1);
        // One report for the burst, naming the first's size and the bound.
        const reports = run.errors.filter((e) =>
          /maxPayloadBytes/.test(e.message)
        );
        assert.equal(
          reports.length,
          1,
          reports.map((e) => e.message).join("\n"),
        );
        assert.equal(reports[0].level, "warning");
        assert.equal(
          reports[0].message,
          `process "In" (mqtt/In): dropped a message larger than maxPayloadBytes (${MAX}): its payload is ${
            MAX + 1
          } bytes; on topic "big/b"`,
        );
      } finally {
        await pub.end();
        await run.stop();
      }
    },
  );
}

test(
  "mqtt/In counts each message of a burst over maxPayloadBytes and reports the burst once, then at most once a minute with how many were not reported",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const run = await startMqttNet(graph(broker.url, 4, 1));
    const pub = await testClient(broker.url);
    try {
      await subscribed(pub, run, "big/probe");
      for (let i = 0; i < 3; i++) {
        await pub.client.publishAsync("big/x", payload(MAX + 1), { qos: 1 });
      }
      await until(
        () =>
          run.meter("In", "mqtt_dropped_total", { reason: "too_large" }) === 3,
        "three dropped",
      );
      const reports = () =>
        run.errors.filter((e) => /maxPayloadBytes/.test(e.message));
      assert.equal(reports().length, 1);
      // Counted as received, with their payload's bytes.
      assert.ok(
        run.meter("In", "mqtt_payload_bytes_total", { direction: "in" }) >=
          3 * (MAX + 1),
      );
      // A minute later (the clock moved on, not waited for), the next one
      // is reported again, with how many were not.
      const realNow = Date.now;
      Date.now = () => realNow() + 61_000;
      try {
        await pub.client.publishAsync("big/y", payload(MAX + 2), { qos: 1 });
        await until(() => reports().length === 2, "the second report");
      } finally {
        Date.now = realNow;
      }
      assert.equal(
        reports()[1].message,
        `process "In" (mqtt/In): dropped a message larger than maxPayloadBytes (${MAX}): its payload is ${
          MAX + 2
        } bytes; 2 more dropped since the last such report; on topic "big/y"`,
      );
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);

test(
  "mqtt/In ends the connection at a packet other than a PUBLISH over its bound, saying so in a warning with the size and the bound, and connects again",
  { timeout: 30_000 },
  async () => {
    // Not mosquitto, which sends no such packet: a server that accepts the
    // connection, then answers the subscription with too large a SUBACK.
    // CONNACK on the CONNECT; on the SUBSCRIBE, a SUBACK's fixed header
    // saying 300,000 bytes follow.
    await using broker = await fakeBroker((socket) => (p) => {
      const type = packetType(p);
      if (type === 1) socket.write(CONNACK);
      else if (type === 8) socket.write(Buffer.of(0x90, 0xe0, 0xa7, 0x12));
    });
    const { port, connections } = broker;
    const run = await startMqttNet(`
      'mqtt://127.0.0.1:${port}' -> broker In(mqtt/In)
      'a' -> topic In
      '${MAX}' -> maxPayloadBytes In
      '100ms' -> reconnect In
      In out -> in S(test/Sink)
    `);
    try {
      await until(() => connections.length >= 2, "a second connection");
      const report = await until(
        () => run.errors.find((e) => /over maxPayloadBytes/.test(e.message)),
        "the report",
      );
      assert.equal(report.level, "warning");
      assert.match(
        report.message,
        new RegExp(
          `^process "In" \\(mqtt/In\\): retrying in \\d+ ms \\(backing off up to 30 s\\): lost the connection to broker mqtt://127\\.0\\.0\\.1:${port}: a packet of 300004 bytes \\(type 9\\) is over maxPayloadBytes \\(${MAX}\\)$`,
        ),
      );
    } finally {
      await run.stop();
    }
  },
);
