/**
 * mqtt/In over TCP keeps the connection while a packet comes slower than
 * the keepalive allows (a slow link), as over WebSocket
 * (mqtt_websocket_test.ts): the bytes it reads are the sign of life. Not
 * mosquitto, which sends at once over TCP: a server that sends a PUBLISH
 * a little at a time and, as a broker would, answers pings behind it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { _varint } from "../../src/components/_mqtt_size_guard.ts";
import {
  CONNACK,
  fakeBroker,
  packetType,
  startMqttNet,
  suback,
  until,
} from "./_mqtt_helpers.ts";
import type { MqttMessage } from "../../src/components/mqtt.ts";

test(
  "mqtt/In over TCP keeps the connection while a PUBLISH comes slower than the keepalive allows, and takes it whole",
  { timeout: 30_000 },
  async () => {
    // 96 KiB, 4 KiB every 100 ms: 2.4 s, where MQTT.js alone ends the
    // connection 1.5 s (1.5 keepalives) after the SUBACK.
    const payload = Buffer.alloc(96 * 1024, "s");
    const topic = Buffer.from("slow/one");
    const body = Buffer.concat([
      Buffer.of(topic.length >> 8, topic.length & 0xff),
      topic,
      payload,
    ]);
    const publish = Buffer.concat([
      Buffer.of(0x30),
      _varint(body.length),
      body,
    ]);
    await using broker = await fakeBroker((socket) => {
      let sending = false;
      let pings = 0;
      return (p) => {
        const type = packetType(p);
        if (type === 1) socket.write(CONNACK);
        else if (type === 12) {
          // Behind the PUBLISH while it goes.
          if (sending) pings++;
          else socket.write(Buffer.of(0xd0, 0));
        } else if (type === 8) {
          // The SUBACK, then the PUBLISH, a little at a time.
          socket.write(suback(p));
          sending = true;
          let sent = 0;
          const timer = setInterval(() => {
            if (socket.destroyed) return clearInterval(timer);
            socket.write(publish.subarray(sent, sent + 4096));
            sent += 4096;
            if (sent >= publish.length) {
              clearInterval(timer);
              sending = false;
              for (; pings > 0; pings--) socket.write(Buffer.of(0xd0, 0));
            }
          }, 100);
        }
      };
    });
    const { port, connections } = broker;
    const run = await startMqttNet(`
      'mqtt://127.0.0.1:${port}' -> broker In(mqtt/In)
      'slow/#' -> topic In
      '1' -> keepalive In
      In out -> in S(test/Sink)
    `);
    try {
      const sink = () => (run.sinks.S ?? []) as MqttMessage[];
      const got = await until(() => {
        if (
          connections.length > 1 ||
          run.errors.some((e) => /lost/.test(e.message))
        ) {
          throw new Error(
            `the connection was lost before the message came: ${
              run.errors.map((e) => e.message).join("; ")
            }`,
          );
        }
        return sink()[0];
      }, "the slow message");
      assert.equal(got.topic, "slow/one");
      assert.equal(got.payload, payload.toString());
      assert.equal(connections.length, 1);
      const slow = run.errors.filter((e) =>
        /is taking more than/.test(e.message)
      );
      assert.equal(slow.length, 1, run.errors.map((e) => e.message).join("\n"));
      assert.match(
        slow[0].message,
        new RegExp(
          `^process "In" \\(mqtt/In\\): a packet from broker mqtt://127\\.0\\.0\\.1:${port} is taking more than \\d+ m?s to arrive \\(\\d+ bytes so far\\): the connection is kept while its bytes come$`,
        ),
      );
    } finally {
      await run.stop();
    }
  },
);

test(
  "mqtt/In that ends a connection for want of a ping's answer says so, without guessing at another client (a broker's takeover closes it from the broker's side)",
  { timeout: 30_000 },
  async () => {
    // A broker that answers CONNECT and SUBSCRIBE, then never a ping.
    await using broker = await fakeBroker((socket) => (p) => {
      const type = packetType(p);
      if (type === 1) socket.write(CONNACK);
      else if (type === 8) socket.write(suback(p));
    });
    const { port } = broker;
    const run = await startMqttNet(`
      'mqtt://127.0.0.1:${port}' -> broker In(mqtt/In)
      'quiet/#' -> topic In
      '1' -> keepalive In
      In out -> in S(test/Sink)
    `);
    try {
      const lost = await until(
        () => run.errors.find((e) => /lost the connection/.test(e.message)),
        "the keepalive's loss",
      );
      assert.match(
        lost.message,
        new RegExp(
          `^process "In" \\(mqtt/In\\): retrying in \\d+ m?s \\(backing off up to [^)]+\\): lost the connection to broker mqtt://127\\.0\\.0\\.1:${port}: Keepalive timeout$`,
        ),
      );
      assert.equal(
        run.meter("In", "mqtt_disconnects_total", { reason: "keepalive" }),
        1,
      );
    } finally {
      await run.stop();
    }
  },
);
