/**
 * MQTT.js is imported when a flow first connects to a broker, not when
 * weir starts: a server whose flows use no MQTT does not hold it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import type { IClientOptions } from "mqtt";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findOnPath } from "../_prometheus.ts";
import { makePki } from "../_pki.ts";
import { startMqttNet } from "./_mqtt_helpers.ts";
import type { Context } from "../../src/engine/component.ts";
import { ProcessMeters } from "../../src/engine/meters.ts";
import { _MqttConnection } from "../../src/components/_mqtt_connection.ts";
import {
  _MQTT_METERS,
  _mqttSeries,
} from "../../src/components/_mqtt_meters.ts";

const SRC = fileURLToPath(new URL("../../src", import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

test("no module of weir imports MQTT.js when it is loaded, only types from it", () => {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, "utf8");
    for (
      const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+"mqtt"/gm)
    ) {
      if (m[1] === undefined) found.push(file.slice(SRC.length + 1));
    }
  }
  assert.deepEqual(found, []);
  // And the one place that imports it when a flow connects does.
  const connection = readFileSync(
    join(SRC, "components", "_mqtt_connection.ts"),
    "utf8",
  );
  assert.match(connection, /import\("mqtt"\)/);
});

/** A connection to a TCP server that counts the connections it gets. */
async function countingServer() {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function connection(
  port: number,
  reports: string[],
  client: IClientOptions = {},
) {
  const meters = new ProcessMeters("mqtt/Out", _MQTT_METERS);
  const ctx = {
    meter: (n: string, l?: Record<string, string>) => meters.meter(n, l),
  };
  const series = _mqttSeries(ctx as unknown as Context<unknown>, "out");
  // With its meters, to read.
  return Object.assign(
    new _MqttConnection({
      client: {
        protocol: "mqtt",
        host: "127.0.0.1",
        port,
        log() {},
        ...client,
      },
      backoffMs: 50,
      maxBackoffMs: 100,
      meters: series,
      report: (m) => reports.push(m),
      broker: new URL(`mqtt://127.0.0.1:${port}`),
    }),
    { series },
  );
}

test("a connection ended before MQTT.js is loaded makes no client and never connects", async () => {
  const server = await countingServer();
  try {
    const reports: string[] = [];
    const killed = connection(server.port, reports);
    killed.kill();
    const ended = connection(server.port, reports);
    await ended.end(100);
    assert.equal(await killed.ready, false);
    assert.equal(await ended.ready, false);
    assert.throws(() => killed.client, /not made yet/);
    let called = false;
    killed.onClient(() => (called = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(server.connections, 0);
    assert.equal(called, false);
    assert.deepEqual(reports, []);
  } finally {
    await server.close();
  }
});

test("a connection's client is made once MQTT.js is loaded, and hands it to onClient before it connects", async () => {
  const server = await countingServer();
  const reports: string[] = [];
  const conn = connection(server.port, reports);
  try {
    const seen: unknown[] = [];
    conn.onClient((client) => seen.push(client));
    assert.equal(seen.length, 0);
    assert.equal(await conn.ready, true);
    assert.equal(seen.length, 1);
    assert.equal(seen[0], conn.client);
    assert.equal(server.connections, 0, "no attempt before the next turn");
    // Given once made: at once.
    conn.onClient((client) => seen.push(client));
    assert.equal(seen.length, 2);
    // The server drops it: an attempt was made, reported as a failure.
    await new Promise<void>((resolve, reject) => {
      const start = Date.now();
      const poll = () => {
        if (server.connections > 0 && reports.length > 0) resolve();
        else if (Date.now() - start > 10_000) {
          reject(new Error(`no attempt: ${server.connections}, ${reports}`));
        } else setTimeout(poll, 20);
      };
      poll();
    });
    assert.match(
      reports[0],
      /^retrying in 50 ms \(backing off up to 100 ms\): cannot connect to broker mqtt:\/\/127\.0\.0\.1:/,
    );
  } finally {
    conn.kill();
    await server.close();
  }
});

test(
  "a TLS file that is not PEM, or a key that is not the certificate's, stops the start naming the file, before MQTT.js is loaded",
  {
    skip: findOnPath("openssl") === undefined
      ? "openssl is not on PATH"
      : false,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-mqtt-pem-"));
    try {
      makePki(dir);
      writeFileSync(join(dir, "bad.pem"), "not a certificate\n");
      const start = (settings: string) =>
        startMqttNet(
          `'mqtts://127.0.0.1:1' -> broker Out(mqtt/Out)\n'a' -> topic Out\n${settings}`,
          [],
          Promise.resolve(),
          { dir },
        );
      await assert.rejects(
        start("'bad.pem' -> ca Out"),
        /the TLS CA file \S*bad\.pem cannot be used: /,
      );
      await assert.rejects(
        start("'client.pem' -> cert Out\n'server.key' -> key Out"),
        /the TLS certificate file \S*client\.pem with the TLS key file \S*server\.key cannot be used: .*KEY_VALUES_MISMATCH/,
      );
      // The right pair starts (and then fails to reach port 1, reported).
      const run = await start(
        "'ca.pem' -> ca Out\n'client.pem' -> cert Out\n'client.key' -> key Out",
      );
      await run.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("a TLS file that holds no PEM block of its kind, or one whose body is not base64, stops the start naming the file, on Deno as on Bun", async () => {
  // Deno's TLS took any CA file and skipped what did not parse: each
  // attempt then failed with "unable to verify the first certificate",
  // never naming the file.
  const dir = mkdtempSync(join(tmpdir(), "weir-mqtt-pem-shape-"));
  try {
    writeFileSync(join(dir, "bad.pem"), "not a certificate\n");
    writeFileSync(
      join(dir, "broken.pem"),
      "-----BEGIN CERTIFICATE-----\nQUJD#REVG\n-----END CERTIFICATE-----\n",
    );
    const start = (settings: string) =>
      startMqttNet(
        `'mqtts://127.0.0.1:1' -> broker Out(mqtt/Out)\n'a' -> topic Out\n${settings}`,
        [],
        Promise.resolve(),
        { dir },
      );
    await assert.rejects(
      start("'bad.pem' -> ca Out"),
      /the TLS CA file \S*bad\.pem cannot be used: it holds no PEM block "-----BEGIN CERTIFICATE-----"/,
    );
    await assert.rejects(
      start("'broken.pem' -> ca Out"),
      /the TLS CA file \S*broken\.pem cannot be used: its "CERTIFICATE" block is not base64/,
    );
    await assert.rejects(
      start("'bad.pem' -> cert Out\n'bad.pem' -> key Out"),
      /the TLS certificate file \S*bad\.pem cannot be used: it holds no PEM block/,
    );
    await assert.rejects(
      start("'broken.pem' -> cert Out\n'broken.pem' -> key Out"),
      /the TLS certificate file \S*broken\.pem cannot be used: its "CERTIFICATE" block is not base64/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a client that cannot be made is reported once, with no attempt after it, and whenConnected() settles instead of waiting for a broker", async () => {
  const reports: string[] = [];
  // A persistent session without a client id: connect() throws.
  const conn = connection(1, reports, { clean: false });
  const unreachable = () => conn.series.disconnects.unreachable.value;
  const waiting = conn.whenConnected();
  assert.equal(await conn.ready, false);
  await waiting;
  assert.equal(conn.connected, false);
  assert.match(
    conn.failure?.message ?? "",
    /^cannot connect to broker mqtt:\/\/127\.0\.0\.1:1: Missing clientId/,
  );
  assert.deepEqual(reports, [conn.failure!.message]);
  assert.equal(unreachable(), 1, "one failed attempt");
  await conn.whenConnected();
  conn.kill();
  await conn.end(10);
  assert.equal(reports.length, 1);
  assert.equal(unreachable(), 1);
});
