/**
 * mqtt/In over TLS (mqtts://) to a mosquitto whose certificate comes
 * from a throw-away CA made with openssl: trusted with `ca`, refused
 * without it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { findOnPath } from "../_prometheus.ts";
import { makePki } from "../_pki.ts";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import { startMqttNet, until } from "./_mqtt_helpers.ts";

const skip = mosquittoSkip() ||
  (findOnPath("openssl") === undefined ? "openssl is not on PATH" : false);

test(
  "mqtt/In connects over mqtts:// trusting the CA file given on ca, and is refused by TLS without it",
  { skip, timeout: 60_000 },
  async () => {
    await using plain = await startMosquitto();
    // The certificates go in a folder of their own broker's: made first.
    makePki(plain.dir);
    await using broker = await startMosquitto({
      extraConfig: [
        `cafile ${join(plain.dir, "ca.pem")}`,
        `certfile ${join(plain.dir, "server.pem")}`,
        `keyfile ${join(plain.dir, "server.key")}`,
      ],
    });
    const url = broker.url.replace("mqtt://", "mqtts://");
    const run = await startMqttNet(
      `
      '${url}' -> broker Trusting(mqtt/In)
      'a' -> topic Trusting
      'ca.pem' -> ca Trusting
      '${url}' -> broker Wary(mqtt/In)
      'a' -> topic Wary
      '100ms' -> reconnect Wary
      Wary error -> in E(test/Sink)
    `,
      [],
      Promise.resolve(),
      { dir: plain.dir },
    );
    try {
      await until(
        () => run.meter("Trusting", "mqtt_connected") === 1,
        "the TLS connection with the CA",
      );
      await until(
        () =>
          run.meter("Wary", "mqtt_disconnects_total", {
            reason: "unreachable",
          }) >= 1,
        "the TLS refusal",
      );
      assert.equal(run.meter("Wary", "mqtt_connected"), 0);
      assert.match(
        (run.sinks.E[0] as Error).message,
        /cannot connect to broker mqtts:\/\/127\.0\.0\.1:\d+: .*(certificate|self.signed|issuer)/i,
      );
    } finally {
      await run.stop();
    }
  },
);

test(
  "mqtt/In presents the client certificate and key given on cert and key to a broker that requires one",
  { skip, timeout: 60_000 },
  async () => {
    await using plain = await startMosquitto();
    makePki(plain.dir);
    const file = (name: string) => join(plain.dir, name);
    await using broker = await startMosquitto({
      extraConfig: [
        `cafile ${file("ca.pem")}`,
        `certfile ${file("server.pem")}`,
        `keyfile ${file("server.key")}`,
        "require_certificate true",
      ],
    });
    const url = broker.url.replace("mqtt://", "mqtts://");
    const run = await startMqttNet(
      `
      '${url}' -> broker WithCert(mqtt/In)
      'a' -> topic WithCert
      '${file("ca.pem")}' -> ca WithCert
      '${file("client.pem")}' -> cert WithCert
      '${file("client.key")}' -> key WithCert
      '${url}' -> broker Without(mqtt/In)
      'a' -> topic Without
      '${file("ca.pem")}' -> ca Without
      '100ms' -> reconnect Without
      Without error -> in E(test/Sink)
    `,
      [],
      Promise.resolve(),
      { dir: plain.dir },
    );
    try {
      await until(
        () => run.meter("WithCert", "mqtt_connected") === 1,
        "the connection with a client certificate",
      );
      await until(
        () => (run.sinks.E ?? []).length >= 1,
        "the refusal without one",
      );
      assert.equal(run.meter("Without", "mqtt_connected"), 0);
      assert.equal(run.meter("Without", "mqtt_connects_total"), 0);
    } finally {
      await run.stop();
    }
  },
);
