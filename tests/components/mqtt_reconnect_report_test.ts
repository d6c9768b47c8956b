/**
 * mqtt/In and mqtt/Out say when they are connected again after a warning,
 * against a real mosquitto stopped and started again on its port: one
 * info, with the attempts and how long the broker was away, and no secret.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
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
