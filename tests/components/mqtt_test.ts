/**
 * mqtt/In and mqtt/Out against a real mosquitto: wildcards, payload
 * formats, the message shapes mqtt/Out takes, what it cannot publish.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import {
  startMqttNet,
  subscribed,
  testClient,
  until,
} from "./_mqtt_helpers.ts";
import type { MqttMessage } from "../../src/components/mqtt.ts";

const skip = mosquittoSkip();

test(
  "mqtt/In receives what matches its + and # filters and nothing else, as { topic, payload, qos, retain }",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const run = await startMqttNet(`
      '${broker.url}' -> broker In(mqtt/In)
      '["sensors/+/temp", "alerts/#"]' -> topic In
      '1' -> qos In
      In out -> in S(test/Sink)
    `);
    const pub = await testClient(broker.url);
    try {
      // The subscription follows the connection: probe until it is there.
      await subscribed(pub, run, "sensors/probe/temp");
      const sent = [
        ["sensors/a/temp", "21.5"],
        ["sensors/a/humidity", "no: not temp"],
        ["sensors/a/b/temp", "no: + is one level"],
        ["alerts", "# matches the parent level too"],
        ["alerts/x/y/z", "deep"],
        ["other/alerts", "no"],
        ["sensors/b/temp", "22"],
        // Anything let through by mistake would come before this one.
        ["alerts/end", "end"],
      ];
      for (const [topic, payload] of sent) {
        await pub.client.publishAsync(topic, payload, { qos: 1 });
      }
      const isEnd = (m: unknown) => (m as MqttMessage).topic === "alerts/end";
      await until(() => run.sinks.S.some(isEnd), "the last message");
      const got = run.sinks.S as MqttMessage[];
      assert.deepEqual(got.filter((m) => m.payload !== "p"), [
        { topic: "sensors/a/temp", payload: "21.5", qos: 1, retain: false },
        {
          topic: "alerts",
          payload: "# matches the parent level too",
          qos: 1,
          retain: false,
        },
        { topic: "alerts/x/y/z", payload: "deep", qos: 1, retain: false },
        { topic: "sensors/b/temp", payload: "22", qos: 1, retain: false },
        { topic: "alerts/end", payload: "end", qos: 1, retain: false },
      ]);
      // Every message received reached the sink, the probes included.
      assert.equal(
        run.meter("In", "mqtt_messages_total", { direction: "in" }),
        got.length,
      );
      assert.equal(
        run.meter("In", "mqtt_payload_bytes_total", { direction: "in" }),
        got.reduce((n, m) => n + (m.payload as string).length, 0),
      );
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);

test(
  "mqtt/In with a persistent session drops (and counts) what a subscription of an earlier graph brings, sending on only what its topics match",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto();
    const graph = (topic: string) => `
      '${broker.url}' -> broker In(mqtt/In)
      '${topic}' -> topic In
      '1' -> qos In
      'false' -> clean In
      'weir-changed-topics' -> clientId In
      In out -> in S(test/Sink)
      In error -> in E(test/Sink)
    `;
    const pub = await testClient(broker.url);
    const first = await startMqttNet(graph("old/#"));
    try {
      await subscribed(pub, first, "old/probe", {
        what: "the first subscription",
      });
    } finally {
      await first.stop();
    }
    // The graph changed: the broker's session still holds old/#.
    const run = await startMqttNet(graph("new/#"));
    try {
      await subscribed(pub, run, "new/probe", { what: "the new subscription" });
      await pub.client.publishAsync("old/x", "still-old", { qos: 1 });
      await pub.client.publishAsync("new/x", "new", { qos: 1 });
      const isLast = (m: unknown) => (m as MqttMessage).topic === "new/x";
      await until(() => run.sinks.S.some(isLast), "the last message");
      await until(
        () =>
          run.meter("In", "mqtt_dropped_total", { reason: "unsubscribed" }) >=
            1,
        "the dropped message counted",
      );
      const topics = (run.sinks.S as MqttMessage[]).map((m) => m.topic);
      assert.ok(!topics.includes("old/x"), topics.join(", "));
      assert.ok(topics.includes("new/x"));
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);

test(
  "mqtt/In reads payloads as JSON or bytes per format; one that is not JSON goes to error and the next still comes",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const run = await startMqttNet(`
      '${broker.url}' -> broker J(mqtt/In)
      'j/#' -> topic J
      'json' -> format J
      J out -> in SJ(test/Sink)
      J error -> in E(test/Sink)
      '${broker.url}' -> broker B(mqtt/In)
      'b/#' -> topic B
      'bytes' -> format B
      B out -> in SB(test/Sink)
    `);
    try {
      await until(
        () =>
          run.meter("J", "mqtt_connected") === 1 &&
          run.meter("B", "mqtt_connected") === 1,
        "connected",
      );
      const pub = await testClient(broker.url);
      await until(async () => {
        await pub.client.publishAsync("j/probe", "0", { qos: 1 });
        await pub.client.publishAsync("b/probe", "0", { qos: 1 });
        return (run.sinks.SJ ?? []).length > 0 &&
          (run.sinks.SB ?? []).length > 0;
      }, "the subscriptions");
      const real = (list: unknown[]) =>
        (list as MqttMessage[]).filter((m) => !m.topic.endsWith("/probe"));
      await pub.client.publishAsync("j/1", '{"t":21.5,"ok":true}', { qos: 1 });
      await pub.client.publishAsync("j/2", "{not json", { qos: 1 });
      await pub.client.publishAsync("j/3", "[1,2]", { qos: 1 });
      // Valid JSON nested deeper than MAX_JSON_DEPTH (1,000) is refused too.
      await pub.client.publishAsync(
        "j/4",
        "[".repeat(1_001) + "]".repeat(1_001),
        { qos: 1 },
      );
      await pub.client.publishAsync("b/1", Buffer.from([0, 255, 7]), {
        qos: 1,
      });
      await until(
        () => real(run.sinks.SJ).length >= 2 && real(run.sinks.SB).length >= 1,
        "json and bytes",
      );
      assert.deepEqual(
        real(run.sinks.SJ).map((m) => m.payload),
        [
          { t: 21.5, ok: true },
          [1, 2],
        ],
      );
      const bytes = real(run.sinks.SB)[0].payload;
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual([...bytes], [0, 255, 7]);
      await until(() => (run.sinks.E ?? []).length >= 2, "both errors");
      assert.equal(run.sinks.E.length, 2);
      assert.match(
        (run.sinks.E[0] as Error).message,
        /^process "J" failed: a payload of 9 bytes on topic "j\/2" is not JSON/,
      );
      assert.match(
        (run.sinks.E[1] as Error).message,
        /^process "J" failed: a payload of 2002 bytes on topic "j\/4" is nested too deeply: objects and arrays more than 1000 levels within each other \(line 1, col 1001\)/,
      );
      assert.equal(
        run.meter("J", "mqtt_dropped_total", { reason: "invalid" }),
        2,
      );
      await pub.end();
    } finally {
      await run.stop();
    }
  },
);

test(
  "mqtt/Out publishes each message to its own topic when no topic is set; objects as JSON, bytes as they are, retain kept",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const sub = await testClient(broker.url, { topics: ["out/#"], qos: 1 });
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker Out(mqtt/Out)
      '1' -> qos Out
      '100ms' -> reconnect Out
      F(test/Feed) out -> in Out
    `,
      [
        { topic: "out/a", payload: "text" },
        { topic: "out/b", payload: { t: 30 }, qos: 2 },
        { topic: "out/c", payload: new Uint8Array([1, 2, 3]) },
        { topic: "out/d", payload: [1, "x"] },
        { topic: "out/e", payload: "retained", retain: true },
      ],
    );
    try {
      // The feed ends, mqtt/Out flushes and the network finishes.
      await run.net.finished;
      await until(() => sub.received.length >= 5, "5 messages");
      // QoS 2 takes two more round trips in the broker: it may come later.
      const b = sub.received.findIndex((m) => m.topic === "out/b");
      assert.deepEqual(sub.received.splice(b, 1), [
        { topic: "out/b", payload: '{"t":30}', retain: false },
      ]);
      assert.deepEqual(sub.received, [
        { topic: "out/a", payload: "text", retain: false },
        { topic: "out/c", payload: "\u0001\u0002\u0003", retain: false },
        { topic: "out/d", payload: '[1,"x"]', retain: false },
        // A subscriber that is there gets a retained message without the flag.
        { topic: "out/e", payload: "retained", retain: false },
      ]);
      assert.equal(
        run.meter("Out", "mqtt_messages_total", { direction: "out" }),
        5,
      );
      assert.equal(
        run.meter("Out", "mqtt_payload_bytes_total", { direction: "out" }),
        4 + 8 + 3 + 7 + 8,
      );
      assert.equal(run.meter("Out", "mqtt_connected"), 0);
      assert.equal(
        run.meter("Out", "mqtt_disconnects_total", { reason: "stopped" }),
        1,
      );
      // Ended for good: no reconnection after a few reconnect periods.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(run.meter("Out", "mqtt_connects_total"), 1);
      const late = await testClient(broker.url, {
        topics: ["out/e"],
        qos: 1,
      });
      await until(() => late.received.length >= 1, "the retained message");
      assert.deepEqual(late.received, [
        { topic: "out/e", payload: "retained", retain: true },
      ]);
      await late.end();
    } finally {
      await run.stop();
      await sub.end();
    }
  },
);

test(
  "mqtt/Out's topic setting beats a message's topic, so mqtt/In -> mqtt/Out does not publish back where it read",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const sub = await testClient(broker.url, { topics: ["#"], qos: 1 });
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker In(mqtt/In)
      'src/#' -> topic In
      '1' -> qos In
      In out -> in Out(mqtt/Out)
      '${broker.url}' -> broker Out
      'dst/all' -> topic Out
      '1' -> qos Out
      F(test/Feed) out -> in Out
    `,
      ["plain", { n: 1 }, { topic: "elsewhere", payload: "moved" }],
    );
    try {
      await until(() => run.meter("In", "mqtt_connected") === 1, "connected");
      let probes = 0;
      await until(async () => {
        probes++;
        await sub.client.publishAsync("src/1", "from-src", { qos: 1 });
        return sub.received.some((m) =>
          m.payload === "from-src" && m.topic === "dst/all"
        );
      }, "a message through the flow");
      await until(
        () => sub.received.filter((m) => m.topic === "dst/all").length >= 4,
        "the fed messages",
      );
      const dst = sub.received.filter((m) => m.topic === "dst/all")
        .map((m) => m.payload).filter((p) => p !== "from-src");
      assert.deepEqual(dst, ["plain", '{"n":1}', "moved"]);
      assert.deepEqual(
        sub.received.filter((m) => m.topic !== "dst/all").map((m) => m.topic)
          .filter((t) => t !== "src/1"),
        [],
        "nothing published to the topics of the messages",
      );
      // No loop: src/1 holds the test's own publishes only, and each
      // message mqtt/In read went out once, to dst/all.
      const outOfSrc = () =>
        sub.received.filter((m) =>
          m.topic === "dst/all" && m.payload === "from-src"
        ).length;
      await until(
        () =>
          outOfSrc() ===
            run.meter("In", "mqtt_messages_total", { direction: "in" }),
        "every message read published once",
      );
      const inSrc = () => sub.received.filter((m) => m.topic === "src/1");
      await until(() => inSrc().length >= probes, "the test's publishes");
      assert.equal(inSrc().length, probes);
    } finally {
      await run.stop();
      await sub.end();
    }
  },
);

test(
  "mqtt/Out sends a message without a topic, or with a wildcard topic, to error and publishes the next",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const sub = await testClient(broker.url, { topics: ["#"], qos: 1 });
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker Out(mqtt/Out)
      F(test/Feed) out -> in Out error -> in E(test/Sink)
    `,
      [
        "no topic anywhere",
        { topic: "a/#", payload: "wildcard" },
        { topic: "ok/1", payload: "fine", qos: 1 },
        { topic: "ok/2", payload: "bad qos", qos: 3 },
      ],
    );
    try {
      await run.net.finished;
      await until(() => sub.received.length >= 1, "the good message");
      assert.deepEqual(sub.received.map((m) => m.topic), ["ok/1"]);
      const errors = (run.sinks.E ?? []).map((e) => (e as Error).message);
      assert.equal(errors.length, 3, errors.join("\n"));
      assert.match(
        errors[0],
        /the message has no topic and the topic setting is not given/,
      );
      assert.match(errors[1], /must not hold wildcards \(\+ or #\)/);
      assert.match(errors[2], /QoS of 0, 1 or 2, received number 3/);
      assert.equal(
        run.meter("Out", "mqtt_dropped_total", { reason: "invalid" }),
        3,
      );
    } finally {
      await run.stop();
      await sub.end();
    }
  },
);

test(
  "mqtt/In over MQTT 5 at QoS 2 receives each message once, acknowledged through PUBREC and PUBCOMP",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto();
    const run = await startMqttNet(`
      '${broker.url}' -> broker In(mqtt/In)
      'q2/#' -> topic In
      '2' -> qos In
      '5' -> protocolVersion In
      In out -> in S(test/Sink)
    `);
    const pub = await testClient(broker.url);
    try {
      await subscribed(pub, run, "q2/probe", { qos: 2 });
      for (let i = 0; i < 20; i++) {
        await pub.client.publishAsync("q2/n", String(i), { qos: 2 });
      }
      const real = () =>
        (run.sinks.S as MqttMessage[]).filter((m) => m.topic === "q2/n");
      await until(() => real().length >= 20, "20 messages");
      await pub.client.publishAsync("q2/end", "end", { qos: 2 });
      await until(
        () => (run.sinks.S as MqttMessage[]).some((m) => m.topic === "q2/end"),
        "the last one",
      );
      assert.deepEqual(
        real().map((m) => [m.payload, m.qos]),
        Array.from({ length: 20 }, (_, i) => [String(i), 2]),
      );
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);
