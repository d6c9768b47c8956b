/**
 * mqtt/In and mqtt/Out say when they are connected again after a warning,
 * against a real mosquitto stopped and started again on its port: one
 * info, with the attempts and how long the broker was away, and no secret.
 * After connections the broker ends at once, against a stand-in broker,
 * the info waits until a connection holds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import process from "node:process";
import type { Context } from "../../src/engine/component.ts";
import { ProcessMeters } from "../../src/engine/meters.ts";
import { _MqttConnection } from "../../src/components/_mqtt_connection.ts";
import {
  _MQTT_METERS,
  _mqttSeries,
} from "../../src/components/_mqtt_meters.ts";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import { startMqttNet, until } from "./_mqtt_helpers.ts";
import type { ProcessError } from "../../src/engine/errors.ts";

const skip = mosquittoSkip();

test(
  "mqtt/In and mqtt/Out report one info once the broker they lost answers again, naming the broker and user but no password",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto({
      users: { weir: "pw-s3cret" },
    });
    process.env.MQTT_TEST_RECONNECT_PW = "pw-s3cret";
    // Keeps mqtt/Out's in-port open (its feed sends nothing) until the end.
    const end = Promise.withResolvers<void>();
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker In(mqtt/In)
      'a/#' -> topic In
      'weir' -> username In
      'env:MQTT_TEST_RECONNECT_PW' -> password In
      '100ms' -> reconnect In
      '300ms' -> reconnectMax In
      In error -> in E(test/Sink)
      '${broker.url}' -> broker Out(mqtt/Out)
      'a/x' -> topic Out
      'weir' -> username Out
      'env:MQTT_TEST_RECONNECT_PW' -> password Out
      '100ms' -> reconnect Out
      '300ms' -> reconnectMax Out
      Out error -> in EO(test/Sink)
      F(test/Feed) out -> in Out
    `,
      [],
      end.promise,
      { env: ["MQTT_TEST_RECONNECT_PW"] },
    );
    const reports = (p: "E" | "EO") => (run.sinks[p] ?? []) as ProcessError[];
    try {
      for (const p of ["In", "Out"]) {
        await until(() => run.meter(p, "mqtt_connected") === 1, `${p} up`);
      }
      // The first connection says nothing, as before.
      assert.deepEqual([reports("E"), reports("EO")], [[], []]);
      await broker.stop();
      for (const p of ["In", "Out"]) {
        await until(
          () =>
            run.meter(p, "mqtt_disconnects_total", {
              reason: "unreachable",
            }) >= 2,
          `${p} tried twice more`,
        );
      }
      assert.match(reports("E")[0]!.message, /lost the connection/);
      await broker.start();
      for (const p of ["In", "Out"]) {
        await until(
          () => run.meter(p, "mqtt_connected") === 1,
          `${p} up again`,
        );
      }
      for (const [p, sink] of [["In", "E"], ["Out", "EO"]] as const) {
        // The error port takes it after the meter says connected.
        await until(
          () => reports(sink).at(-1)?.level === "info",
          `${p}'s info`,
        );
        const infos = reports(sink).filter((e) => e.level === "info");
        assert.equal(infos.length, 1, `one info of ${p}`);
        const { message } = infos[0]!;
        assert.match(
          message,
          new RegExp(
            `^process "${p}" \\(mqtt/${p}\\): connected to broker ${
              broker.url.replaceAll(".", "\\.")
            } as user "weir" again after (\\d+) attempts \\(down \\d+\\.\\d s\\)$`,
          ),
        );
        const attempts = Number(/after (\d+) attempts/.exec(message)![1]);
        assert.equal(
          attempts,
          run.meter(p, "mqtt_disconnects_total", { reason: "unreachable" }) +
            1,
          "the attempts since the loss, the last one included",
        );
        // The info comes after the warning, and is the last word.
        assert.equal(reports(sink).at(-1), infos[0]);
        for (const e of reports(sink)) {
          for (const text of [e.message, e.stack ?? ""]) {
            assert.doesNotMatch(text, /s3cret/);
          }
        }
      }
      assert.equal(
        run.errors.length,
        0,
        "all went to the error ports, nothing to the log",
      );
    } finally {
      delete process.env.MQTT_TEST_RECONNECT_PW;
      end.resolve();
      await run.stop();
    }
  },
);

test("after connections the broker ends at once, the info waits until one holds: the last report is never 'connected again' while the connection is down", async () => {
  // A stand-in broker: accepts each connection (CONNACK) and ends the
  // first four 20 ms later, as one does when another client takes the
  // session; the fifth it keeps.
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.once("data", () => {
      socket.write(new Uint8Array([0x20, 0x02, 0x00, 0x00]));
      if (++accepted <= 4) setTimeout(() => socket.destroy(), 20);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const meters = new ProcessMeters("mqtt/In", _MQTT_METERS);
  const ctx = {
    meter: (n: string, l?: Record<string, string>) => meters.meter(n, l),
  };
  const series = _mqttSeries(ctx as unknown as Context<unknown>, "in");
  const reports: { level: string; message: string }[] = [];
  const conn = new _MqttConnection({
    client: {
      protocol: "mqtt",
      host: "127.0.0.1",
      port,
      username: "weir",
      password: "pw-s3cret",
      log() {},
    },
    backoffMs: 50,
    maxBackoffMs: 100,
    meters: series,
    report: (message, level) => reports.push({ level, message }),
    broker: new URL(`mqtt://127.0.0.1:${port}`),
    user: "weir",
    stableMs: 1000,
  });
  const lost = () =>
    series.disconnects.network.value + series.disconnects.broker.value;
  try {
    await until(() => lost() === 4, "four connections lost at once");
    // One warning, and nothing since: each reconnection was lost again.
    assert.deepEqual(reports.map((r) => r.level), ["warning"]);
    assert.match(
      reports[0].message,
      new RegExp(
        `^retrying in \\d+ ms \\(backing off up to 100 ms\\): lost the connection to broker mqtt://127\\.0\\.0\\.1:${port} as user "weir" within 1 s \\(is another client using its client id\\?\\): `,
      ),
    );
    await until(() => series.connected.value === 1, "the fifth connection");
    assert.equal(reports.length, 1, "not said before it has held");
    await until(() => reports.length === 2, "the info once it held");
    assert.equal(reports[1].level, "info");
    assert.match(
      reports[1].message,
      new RegExp(
        `^connected to broker mqtt://127\\.0\\.0\\.1:${port} as user "weir" again, held 1 s after 4 connections lost within 1 s \\(over \\d+\\.\\d s\\)$`,
      ),
    );
    assert.equal(series.connected.value, 1);
    for (const r of reports) assert.doesNotMatch(r.message, /s3cret/);
  } finally {
    conn.kill();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
