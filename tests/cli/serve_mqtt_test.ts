/**
 * MQTT flows on a real `weir serve` and a real mosquitto: QoS 1 with no
 * loss across a SIGTERM and a restart of weir (a persistent session keeps
 * what arrives while weir is down), the `weir_mqtt_*` metrics on /metrics
 * (promtool-clean), and a broker refusing the credentials (the connected
 * metric at 0, one log line, never the password).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";
import { testClient, until } from "../components/_mqtt_helpers.ts";
import { killLeftovers, startServe, startServeInTemp } from "./_weir.ts";

const skip = mosquittoSkip();

/** The value of the series of `name` whose line holds every label of `labels`. */
async function metric(
  url: string,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith(`${name}{`) &&
    Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))
  );
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

async function postFlow(url: string, fbp: string): Promise<void> {
  const res = await fetch(`${url}/flows`, {
    method: "POST",
    headers: { "Content-Type": "text/vnd.fbp" },
    body: fbp,
  });
  assert.equal(res.status, 201, await res.text());
}

test(
  "weir serve: QoS 1 through mqtt/In -> mqtt/Out loses nothing across a SIGTERM and a restart of weir",
  { skip, timeout: 120_000 },
  async () => {
    await using broker = await startMosquitto();
    const dir = mkdtempSync(join(tmpdir(), "weir-mqtt-serve-"));
    const args = [
      "--listen",
      "127.0.0.1:0",
      "--db",
      join(dir, "weir.db"),
      "--data-dir",
      dir,
      "--no-history",
    ];
    const N = 600;
    const sub = await testClient(broker.url, {
      topics: ["dst/#"],
      qos: 1,
      clientId: "serve-test-sub",
      clean: false,
    });
    const pub = await testClient(broker.url, { clientId: "serve-test-pub" });
    try {
      const first = await startServe(args);
      await postFlow(
        first.url,
        [
          "# @name bridge",
          `'${broker.url}' -> broker In(mqtt/In)`,
          "'src/#' -> topic In",
          "'1' -> qos In",
          "'false' -> clean In",
          "'weir-serve-bridge' -> clientId In",
          "In out -> in M(flow/Map)",
          "'payload' -> expr M",
          "M out -> in Out(mqtt/Out)",
          `'${broker.url}' -> broker Out`,
          "'dst/n' -> topic Out",
          "'1' -> qos Out",
          "",
        ].join("\n"),
      );
      await until(async () => {
        await pub.client.publishAsync("src/probe", "probe", { qos: 1 });
        return sub.received.length > 0;
      }, "the flow's subscription");
      let sent = 0;
      const sending = (async () => {
        for (; sent < N; sent++) {
          await pub.client.publishAsync(`src/${sent}`, String(sent), {
            qos: 1,
          });
          // A steady stream (about 5 ms a message), so that weir stops
          // in the middle of it and messages come while it is down.
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await until(() => sub.received.length > N / 4, "a quarter through");
      const receivedAtStop = sub.received.length;
      process.kill(first.child.pid!, "SIGTERM");
      const exit = await first.exited;
      assert.equal(exit.code, 0, first.log());
      const duringStop = sent;
      assert.ok(receivedAtStop < N, "weir stopped in the middle of the stream");
      assert.ok(duringStop < N, "messages were still coming after weir exited");
      const second = await startServe(args);
      try {
        await sending;
        const missing = new Set(
          Array.from({ length: N }, (_, i) => String(i)),
        );
        await until(
          () => {
            for (const m of sub.received) missing.delete(m.payload);
            return missing.size === 0;
          },
          "every message",
          60_000,
        ).catch((e) => {
          throw new Error(
            `${(e as Error).message}: ${missing.size} missing, e.g. ${
              [...missing].slice(0, 10)
            } (stopped at ${duringStop} sent)`,
          );
        });
        // The restored flow is connected and counted.
        assert.equal(
          await metric(second.url, "weir_mqtt_connected", {
            flow: "bridge",
            process: "In",
          }),
          1,
        );
        assert.ok(
          (await metric(second.url, "weir_mqtt_messages_total", {
            flow: "bridge",
            process: "Out",
            direction: "out",
          }))! > 0,
        );
        process.kill(second.child.pid!, "SIGTERM");
        assert.equal((await second.exited).code, 0, second.log());
      } finally {
        killLeftovers();
      }
    } finally {
      await pub.end();
      await sub.end();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve: a broker refusing the credentials leaves weir_mqtt_connected at 0, logs one line without the password, and /metrics passes promtool",
  {
    skip: skip || integrationSkip("promtool"),
    timeout: 60_000,
  },
  async () => {
    await using broker = await startMosquitto({ users: { weir: "right" } });
    const w = await startServeInTemp("weir-mqtt-creds-", ["--no-history"], {
      env: { ...process.env, MQTT_SERVE_PW: "wrong-pw-41c7" },
    });
    try {
      await postFlow(
        w.url,
        [
          "# @name creds",
          `'${broker.url}' -> broker In(mqtt/In)`,
          "'a/#' -> topic In",
          "'weir' -> username In",
          "'env:MQTT_SERVE_PW' -> password In",
          "'200ms' -> reconnect In",
          "'400ms' -> reconnectMax In",
          "In out -> in D(core/Drop)",
          "",
        ].join("\n"),
      );
      const refused = () =>
        metric(w.url, "weir_mqtt_disconnects_total", {
          flow: "creds",
          process: "In",
          reason: "refused",
        });
      await until(async () => ((await refused()) ?? 0) >= 3, "3 refusals");
      assert.equal(
        await metric(w.url, "weir_mqtt_connected", {
          flow: "creds",
          process: "In",
        }),
        0,
      );
      const lines = w.log().split("\n").filter((l) =>
        l.includes("Not authorized")
      );
      assert.equal(lines.length, 1, w.log());
      assert.match(
        lines[0],
        /cannot connect to broker mqtt:\/\/127\.0\.0\.1:\d+ as user \\?"weir\\?": Connection refused: Not authorized/,
      );
      assert.ok(!w.log().includes("wrong-pw"), "the password is never logged");
      const text = await (await fetch(`${w.url}/metrics`)).text();
      assert.ok(!text.includes("wrong-pw"));
      for (
        const name of [
          "weir_mqtt_connected",
          "weir_mqtt_connects_total",
          "weir_mqtt_disconnects_total",
          "weir_mqtt_messages_total",
          "weir_mqtt_payload_bytes_total",
          "weir_mqtt_in_flight_messages",
          "weir_mqtt_dropped_total",
        ]
      ) {
        assert.ok(text.includes(`\n${name}{`), `${name} is exported`);
        assert.ok(text.includes(`# HELP ${name} `), `${name} has help`);
      }
      const { ok, output } = await promtoolCheck(text);
      assert.ok(ok, output);
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
    } finally {
      w.close();
    }
  },
);

test(
  "weir serve: the broker publishes mqtt/In's last will when weir dies (SIGKILL), not when it stops cleanly (SIGTERM)",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto();
    const sub = await testClient(broker.url, { topics: ["status/#"], qos: 1 });
    const flow = [
      "# @name will",
      `'${broker.url}' -> broker In(mqtt/In)`,
      "'a/#' -> topic In",
      `'{"topic":"status/edge-7","payload":"offline","qos":1}' -> will In`,
      "In out -> in D(core/Drop)",
      "",
    ].join("\n");
    const connected = (url: string) =>
      until(
        async () =>
          (await metric(url, "weir_mqtt_connected", {
            flow: "will",
            process: "In",
          })) === 1,
        "connected",
      );
    try {
      const clean = await startServeInTemp("weir-mqtt-will-", ["--no-history"]);
      try {
        await postFlow(clean.url, flow);
        await connected(clean.url);
        process.kill(clean.child.pid!, "SIGTERM");
        assert.equal((await clean.exited).code, 0, clean.log());
      } finally {
        clean.close();
      }
      const dying = await startServeInTemp("weir-mqtt-will-", [
        "--no-history",
      ]);
      try {
        await postFlow(dying.url, flow);
        await connected(dying.url);
        process.kill(dying.child.pid!, "SIGKILL");
        await dying.exited;
      } finally {
        dying.close();
      }
      await until(() => sub.received.length >= 1, "the last will");
      // Published once: for the death, not for the clean stop before it.
      assert.deepEqual(sub.received, [
        { topic: "status/edge-7", payload: "offline", retain: false },
      ]);
    } finally {
      await sub.end();
    }
  },
);
