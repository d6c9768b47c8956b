/**
 * The test broker of tests/_mosquitto.ts: users, persistence across a
 * restart on the same port. Talks to it with MQTT.js directly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";

test(
  "startMosquitto() with users refuses a wrong password and takes the right one",
  { skip: mosquittoSkip(), timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto({ users: { weir: "pw-1" } });
    const refused = await mqtt.connectAsync(broker.url, {
      username: "weir",
      password: "nope",
      reconnectPeriod: 0,
    }).then(
      (c) => {
        c.end(true);
        return "connected";
      },
      (e: Error) => e.message,
    );
    assert.match(refused, /Not authorized|Bad User Name or Password/i);
    const c = await mqtt.connectAsync(broker.url, {
      username: "weir",
      password: "pw-1",
      reconnectPeriod: 0,
    });
    assert.equal(c.connected, true);
    await c.endAsync();
  },
);

test(
  "startMosquitto() with persistence keeps a persistent session's queued message across restart() on the same port",
  { skip: mosquittoSkip(), timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto({ persistence: true });
    const port = broker.port;
    const sub = await mqtt.connectAsync(broker.url, {
      clientId: "helper-sub",
      clean: false,
      reconnectPeriod: 0,
    });
    await sub.subscribeAsync("helper/t", { qos: 1 });
    await sub.endAsync();
    const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await pub.publishAsync("helper/t", "kept", { qos: 1 });
    await pub.endAsync();
    const before = broker.pid;
    await broker.restart();
    assert.equal(broker.port, port);
    assert.notEqual(broker.pid, before);
    // Listening before the connection: the queued message comes at once.
    const again = mqtt.connect(broker.url, {
      clientId: "helper-sub",
      clean: false,
      reconnectPeriod: 0,
    });
    const got = await new Promise<string>((resolve) =>
      again.on("message", (_t, payload) => resolve(payload.toString()))
    );
    assert.equal(got, "kept");
    await again.endAsync();
  },
);
