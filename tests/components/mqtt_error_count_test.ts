/**
 * mqtt/In's and mqtt/Out's failures are counted in
 * weir_process_errors_total (and the process's statistics) as every other
 * built-in's failures are, whether they reach the error port or the
 * error event; their warnings (a connection tried again) are not.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { freePort, mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import {
  CONNACK,
  fakeBroker,
  type MqttNet,
  packetType,
  startMqttNet,
  suback,
  subscribed,
  testClient,
  until,
} from "./_mqtt_helpers.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";

const skip = mosquittoSkip();

/** `process`'s errors as the statistics count them, by kind. */
function errorsOf(run: MqttNet, name: string) {
  return run.net.stats().processes.find((p) => p.name === name)!.errors;
}

/** The lines of weir_process_errors_total of `process`, as scraped. */
async function scraped(metrics: MetricsCollector, name: string) {
  const text = await metrics.render("text");
  return text.split("\n").filter((l) =>
    l.startsWith("weir_process_errors_total{") &&
    l.includes(`process="${name}"`)
  );
}

test(
  "mqtt/In counts a payload that is not JSON in weir_process_errors_total, on the error port or the error event",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const run = await startMqttNet(`
      '${broker.url}' -> broker J(mqtt/In)
      'j/#' -> topic J
      'json' -> format J
      J out -> in S(test/Sink)
      J error -> in E(test/Sink)
      '${broker.url}' -> broker K(mqtt/In)
      'k/#' -> topic K
      'json' -> format K
      K out -> in SK(test/Sink)
    `);
    const metrics = new MetricsCollector();
    metrics.track(run.net);
    const pub = await testClient(broker.url);
    try {
      await subscribed(pub, run, "j/probe", { payload: "0" });
      await subscribed(pub, run, "k/probe", { payload: "0", sink: "SK" });
      await pub.client.publishAsync("j/1", "{not json", { qos: 1 });
      await pub.client.publishAsync("k/1", "{not json", { qos: 1 });
      await pub.client.publishAsync("j/2", "[1]", { qos: 1 });
      await until(() => run.sinks.S.length >= 2, "the message after it");
      await until(() => run.errors.length >= 1, "K's error event");
      // J's failure went to its error port, K's to the error event.
      const [e] = run.sinks.E as ProcessError[];
      assert.equal(run.sinks.E.length, 1);
      assert.equal(e.level, "error");
      assert.match(e.message, /^process "J" failed: a payload of 9 bytes/);
      assert.equal(run.errors.length, 1);
      assert.match(run.errors[0].message, /^process "K" failed: a payload/);
      for (const name of ["J", "K"]) {
        assert.deepEqual(
          errorsOf(run, name),
          { exception: 1, timeout: 0, overflow: 0 },
          name,
        );
        assert.deepEqual(await scraped(metrics, name), [
          `weir_process_errors_total{flow="main",process="${name}",kind="exception"} 1`,
          `weir_process_errors_total{flow="main",process="${name}",kind="timeout"} 0`,
          `weir_process_errors_total{flow="main",process="${name}",kind="overflow"} 0`,
        ]);
      }
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);

/**
 * A broker that accepts every connection and refuses every subscription
 * (SUBACK 0x80), with no mosquitto needed (mqtt_subscribe_test.ts has a
 * real one refuse, through its dynamic security plugin).
 */
async function refusingBroker(): Promise<
  { url: string } & AsyncDisposable
> {
  return await fakeBroker((socket) => (p) => {
    const type = packetType(p);
    if (type === 1) socket.write(CONNACK);
    if (type === 8) socket.write(suback(p, 0x80));
    if (type === 12) socket.write(Buffer.from([0xd0, 0]));
  });
}

test("mqtt/In counts a subscription the broker refuses as an error", async () => {
  await using broker = await refusingBroker();
  const run = await startMqttNet(`
    '${broker.url}' -> broker In(mqtt/In)
    'secret/#' -> topic In
    In out -> in S(test/Sink)
    In error -> in E(test/Sink)
  `);
  try {
    await until(() => run.sinks.E?.length, "the refusal");
    const e = run.sinks.E[0] as ProcessError;
    assert.equal(e.level, "error");
    assert.equal(
      e.message,
      'process "In" failed: the broker refused the subscription to topic[0] (reason code 0x80, unspecified error): "secret/#"',
    );
    assert.equal(errorsOf(run, "In").exception, 1);
  } finally {
    await run.stop();
  }
});

test(
  "mqtt/In counts a message its full error-policy out connection refuses as an overflow error",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const run = await startMqttNet(JSON.stringify({
      processes: {
        In: { component: "mqtt/In" },
        S: { component: "test/Sink" },
        E: { component: "test/Sink" },
      },
      connections: [
        { data: broker.url, tgt: { process: "In", port: "broker" } },
        { data: "o/#", tgt: { process: "In", port: "topic" } },
        {
          src: { process: "In", port: "out" },
          tgt: { process: "S", port: "in" },
          metadata: { capacity: 1, policy: "error" },
        },
        {
          src: { process: "In", port: "error" },
          tgt: { process: "E", port: "in" },
        },
      ],
    }));
    const pub = await testClient(broker.url);
    try {
      await subscribed(pub, run, "o/probe", { qos: 0 });
      // S takes one and waits; the connection holds one; the rest overflow.
      run.hold();
      for (let i = 0; i < 4; i++) {
        await pub.client.publishAsync(`o/${i}`, "x", { qos: 0 });
      }
      await until(() => errorsOf(run, "In").overflow >= 2, "two overflows");
      assert.equal(errorsOf(run, "In").exception, 0);
      run.release();
      await until(() => run.sinks.E?.length >= 2, "the errors");
      const e = run.sinks.E[0] as ProcessError;
      assert.deepEqual([e.level, e.kind], ["error", "overflow"]);
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);

test(
  "mqtt/Out counts a message it cannot publish as an error",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker Out(mqtt/Out)
      F(test/Feed) out -> in Out error -> in E(test/Sink)
    `,
      ["no topic anywhere", { topic: "a/#", payload: "wildcard" }],
    );
    try {
      await run.net.finished;
      assert.equal(run.sinks.E.length, 2);
      assert.equal(errorsOf(run, "Out").exception, 2);
    } finally {
      await run.stop();
    }
  },
);

test("a connection mqtt/In and mqtt/Out try again is a warning, not counted as an error", async () => {
  const port = await freePort();
  const run = await startMqttNet(
    `
    'mqtt://127.0.0.1:${port}' -> broker In(mqtt/In)
    'a/#' -> topic In
    '100ms' -> reconnect In
    In out -> in S(test/Sink)
    'mqtt://127.0.0.1:${port}' -> broker Out(mqtt/Out)
    'a/1' -> topic Out
    '100ms' -> reconnect Out
    F(test/Feed) out -> in Out
    `,
    ["waits for the broker"],
    // The feed never ends, so mqtt/Out keeps trying.
    new Promise(() => {}),
  );
  try {
    await until(() => run.errors.length >= 2, "both warnings");
    assert.deepEqual(run.errors.map((e) => [e.process, e.level]).sort(), [
      ["In", "warning"],
      ["Out", "warning"],
    ]);
    for (const name of ["In", "Out"]) {
      assert.deepEqual(errorsOf(run, name), {
        exception: 0,
        timeout: 0,
        overflow: 0,
      });
    }
  } finally {
    await run.stop();
  }
});
