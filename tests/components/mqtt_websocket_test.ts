/**
 * mqtt/In over WebSocket against a real mosquitto: a message of several
 * MB arrives whole though the broker's websockets listener sends it slowly
 * (mosquitto 2.0.11 about 41 KB/s, so 512 KiB take some 12 s): the connection
 * is kept while its bytes come, and a warning says a packet is slow,
 * rather than MQTT.js ending the connection when no whole packet came for
 * 1.5 keepalives, which lost the message (README, MQTT, "Large messages
 * over WebSocket").
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { freePort, mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import { makePki } from "../_pki.ts";
import { findOnPath } from "../_prometheus.ts";
import {
  type MqttNet,
  startMqttNet,
  subscribed,
  testClient,
  until,
} from "./_mqtt_helpers.ts";
import type { MqttMessage } from "../../src/components/mqtt.ts";

const skip = mosquittoSkip();
const tlsSkip = skip ||
  (findOnPath("openssl") === undefined ? "openssl is not on PATH" : false);

/** `n` bytes that are not all alike. */
function pattern(n: number): Buffer {
  const payload = Buffer.alloc(n);
  for (let i = 0; i < n; i++) payload[i] = (i * 7919) % 251;
  return payload;
}

/**
 * The connections of process In that ended once made, for any reason but
 * a stop (a first attempt may be refused: mosquitto opens its websockets
 * listener just after the port startMosquitto waits for).
 */
function lost(run: { meter: MqttNet["meter"] }): number {
  return ["keepalive", "network", "broker"].reduce(
    (sum, reason) =>
      sum + run.meter("In", "mqtt_disconnects_total", { reason }),
    0,
  );
}

/**
 * Publishes `payload` to `big/one` at QoS 1 and waits up to `ms` for
 * process S to get it. A connection ended while the message comes loses
 * it (the session is clean): no use waiting further.
 */
async function published(
  pub: Awaited<ReturnType<typeof testClient>>,
  run: MqttNet,
  payload: Buffer,
  what: string,
  ms: number,
): Promise<MqttMessage> {
  await pub.client.publishAsync("big/one", payload, { qos: 1 });
  const sink = run.sinks.S as MqttMessage[];
  return await until(
    () => {
      if (lost(run) > 0) {
        throw new Error(
          `the connection was lost before the message came: ${
            run.errors.map((e) => e.message).join("; ")
          }`,
        );
      }
      return sink.find((m) => m.topic === "big/one");
    },
    what,
    ms,
  );
}

/** Bytes of the message: 512 KiB, about 12 s at mosquitto's pace (six keepalives of 2 s). */
const SIZE = 512 * 1024;

test(
  "mqtt/In over WebSocket takes a 512 KiB message the broker sends slower than the keepalive allows, and warns that it is slow",
  { skip, timeout: 90_000 },
  async () => {
    const wsPort = await freePort();
    await using broker = await startMosquitto({
      extraConfig: [`listener ${wsPort} 127.0.0.1`, "protocol websockets"],
    });
    // Keepalive 2 s: without the connection kept, MQTT.js ends it 3 s
    // into the message.
    const run = await startMqttNet(`
      'ws://127.0.0.1:${wsPort}/mqtt' -> broker In(mqtt/In)
      'big/#' -> topic In
      '1' -> qos In
      '2' -> keepalive In
      'bytes' -> format In
      In out -> in S(test/Sink)
    `);
    const pub = await testClient(broker.url);
    try {
      await subscribed(pub, run, "big/probe");
      const payload = pattern(SIZE);
      const got = await published(
        pub,
        run,
        payload,
        "the 512 KiB message over WebSocket",
        80_000,
      );
      assert.ok(
        Buffer.from(got.payload as Uint8Array).equals(payload),
        "the payload arrives whole",
      );
      assert.equal(lost(run), 0);
      assert.equal(run.meter("In", "mqtt_connects_total"), 1);
      const slow = run.errors.filter((e) =>
        /is taking more than \d+ m?s to arrive/.test(e.message)
      );
      assert.equal(slow.length, 1, run.errors.map((e) => e.message).join("\n"));
      assert.equal(slow[0].level, "warning");
      assert.match(
        slow[0].message,
        new RegExp(
          `^process "In" \\(mqtt/In\\): a packet from broker ws://127\\.0\\.0\\.1:${wsPort}/mqtt is taking more than \\d+ m?s to arrive \\(\\d+ bytes so far\\): the connection is kept while its bytes come`,
        ),
      );
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);

test(
  "mqtt/In over wss:// keeps the connection while a message the broker sends slowly comes, the certificate checked against ca",
  { skip: tlsSkip, timeout: 60_000 },
  async () => {
    await using plain = await startMosquitto();
    // The certificates go in a folder of their own broker's: made first.
    makePki(plain.dir);
    const wssPort = await freePort();
    await using broker = await startMosquitto({
      extraConfig: [
        `listener ${wssPort} 127.0.0.1`,
        "protocol websockets",
        `cafile ${join(plain.dir, "ca.pem")}`,
        `certfile ${join(plain.dir, "server.pem")}`,
        `keyfile ${join(plain.dir, "server.key")}`,
      ],
    });
    const run = await startMqttNet(
      `
      'wss://127.0.0.1:${wssPort}/mqtt' -> broker In(mqtt/In)
      'big/#' -> topic In
      '1' -> qos In
      '2' -> keepalive In
      'bytes' -> format In
      'ca.pem' -> ca In
      In out -> in S(test/Sink)
    `,
      [],
      Promise.resolve(),
      { dir: plain.dir },
    );
    const pub = await testClient(broker.url);
    try {
      await subscribed(pub, run, "big/probe");
      // About 8 s at mosquitto's pace: longer than 1.5 keepalives.
      const payload = pattern(320 * 1024);
      const got = await published(
        pub,
        run,
        payload,
        "the message over wss://",
        50_000,
      );
      assert.ok(Buffer.from(got.payload as Uint8Array).equals(payload));
      assert.equal(lost(run), 0);
      assert.equal(run.meter("In", "mqtt_connects_total"), 1);
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);
