/**
 * mqtt/In and mqtt/Out when things go wrong, against a real mosquitto: a
 * broker down at start, a broker restarted (QoS 1, nothing lost), a slow
 * consumer (the flow holds back, memory stays bounded), a broker that
 * stops answering (mqtt/Out's in-flight window), bad credentials.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import {
  startMqttNet,
  subscribed,
  testClient,
  until,
} from "./_mqtt_helpers.ts";
import type { MqttMessage } from "../../src/components/mqtt.ts";
import type { ProcessError } from "../../src/engine/errors.ts";

const skip = mosquittoSkip();

test(
  "a broker down at start: connected 0, one report, retried with backoff; once it is up, messages flow both ways",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto();
    await broker.stop();
    const feed = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker In(mqtt/In)
      'in/#' -> topic In
      '1' -> qos In
      '100ms' -> reconnect In
      '300ms' -> reconnectMax In
      In out -> in S(test/Sink)
      In error -> in E(test/Sink)
      '${broker.url}' -> broker Out(mqtt/Out)
      'in/x' -> topic Out
      '1' -> qos Out
      '100ms' -> reconnect Out
      '300ms' -> reconnectMax Out
      F(test/Feed) out -> in Out
      Out error -> in EO(test/Sink)
    `,
      feed,
    );
    try {
      await until(
        () =>
          run.meter("In", "mqtt_disconnects_total", {
            reason: "unreachable",
          }) >=
            3,
        "three failed attempts",
      );
      assert.equal(run.meter("In", "mqtt_connected"), 0);
      assert.equal(run.meter("Out", "mqtt_connected"), 0);
      assert.equal(run.meter("In", "mqtt_connects_total"), 0);
      // One report each, however many attempts: a warning, since the
      // process goes on and tries again, not a failure.
      assert.equal(run.sinks.E.length, 1);
      const report = run.sinks.E[0] as ProcessError;
      assert.match(
        report.message,
        new RegExp(
          `^process "In" \\(mqtt/In\\): retrying in 100 ms \\(backing off up to 300 ms\\): cannot connect to broker ${broker.url}: .*ECONNREFUSED`,
        ),
      );
      assert.equal(report.level, "warning");
      assert.equal(run.sinks.EO.length, 1);
      assert.match(
        (run.sinks.EO[0] as ProcessError).message,
        /^process "Out" \(mqtt\/Out\): retrying in 100 ms \(backing off up to 300 ms\): cannot connect to broker /,
      );
      // mqtt/Out holds the messages it took (its window), publishes none.
      assert.equal(
        run.meter("Out", "mqtt_messages_total", { direction: "out" }),
        0,
      );
      await broker.start();
      // mqtt/Out publishes what it held, then (its feed ended) disconnects.
      await until(
        () =>
          run.meter("Out", "mqtt_messages_total", { direction: "out" }) === 20,
        "all 20 published",
      );
      await until(
        () => run.meter("In", "mqtt_connected") === 1,
        "In connected",
      );
      assert.equal(run.meter("Out", "mqtt_connects_total"), 1);
      const pub = await testClient(broker.url);
      await until(async () => {
        await pub.client.publishAsync("in/late", "late", { qos: 1 });
        return (run.sinks.S ?? []).some((m) =>
          (m as MqttMessage).payload === "late"
        );
      }, "a message through mqtt/In");
      await pub.end();
      assert.equal(run.meter("In", "mqtt_connects_total"), 1);
      // Once connected, one info says so (not "again": it never was), the
      // last report.
      for (const [p, sink] of [["In", "E"], ["Out", "EO"]] as const) {
        const last = () => run.sinks[sink].at(-1) as ProcessError;
        const info = await until(
          () => last().level === "info" && last(),
          `${p}'s info`,
        );
        assert.match(
          info.message,
          new RegExp(
            `^process "${p}" \\(mqtt/${p}\\): connected to broker ${broker.url} after \\d+ attempts \\(down \\d+\\.\\d s\\)$`,
          ),
        );
        assert.equal(
          run.sinks[sink].filter((e) => (e as ProcessError).level === "info")
            .length,
          1,
        );
      }
    } finally {
      await run.stop();
    }
  },
);

test(
  "QoS 1 across a broker restart: a persistent mqtt/In session and mqtt/Out lose nothing",
  { skip, timeout: 90_000 },
  async () => {
    await using broker = await startMosquitto({ persistence: true });
    const N = 400;
    const sub = await testClient(broker.url, {
      topics: ["dst/#"],
      qos: 1,
      clientId: "test-sub",
      clean: false,
    });
    const run = await startMqttNet(`
      '${broker.url}' -> broker In(mqtt/In)
      'src/#' -> topic In
      '1' -> qos In
      'false' -> clean In
      'weir-resilience-in' -> clientId In
      '100ms' -> reconnect In
      '500ms' -> reconnectMax In
      In out -> in M(flow/Map)
      'payload' -> expr M
      M out -> in Out(mqtt/Out)
      '${broker.url}' -> broker Out
      'dst/n' -> topic Out
      '1' -> qos Out
      '100ms' -> reconnect Out
      '500ms' -> reconnectMax Out
    `);
    const pub = await testClient(broker.url, { clientId: "test-pub" });
    try {
      await until(
        () =>
          run.meter("In", "mqtt_connected") === 1 &&
          run.meter("Out", "mqtt_connected") === 1,
        "connected",
      );
      // The subscription is made once connected: the first message may
      // come before it; wait until one went through.
      await until(async () => {
        await pub.client.publishAsync("src/probe", "probe", { qos: 1 });
        return sub.received.length > 0;
      }, "the flow's subscription");
      const sending = (async () => {
        for (let i = 0; i < N; i++) {
          // MQTT.js keeps an unacknowledged publish and sends it again
          // once it reconnects.
          await pub.client.publishAsync(`src/${i}`, String(i), { qos: 1 });
        }
      })();
      await until(() => sub.received.length > N / 4, "a quarter through");
      await broker.restart();
      await sending;
      const expected = new Set(Array.from({ length: N }, (_, i) => String(i)));
      await until(
        () => {
          for (const m of sub.received) expected.delete(m.payload);
          return expected.size === 0;
        },
        `every message (missing: ${expected.size})`,
        60_000,
      ).catch((e) => {
        throw new Error(
          `${(e as Error).message}; missing ${[...expected].slice(0, 20)}`,
        );
      });
      assert.ok(
        run.meter("In", "mqtt_disconnects_total", { reason: "network" }) +
            run.meter("In", "mqtt_disconnects_total", { reason: "broker" }) >=
          1,
        "mqtt/In saw the connection go",
      );
      assert.ok(
        run.meter("Out", "mqtt_connects_total") >= 2,
        "and reconnected",
      );
    } finally {
      await pub.end();
      await sub.end();
      await run.stop();
    }
  },
);

test(
  "a slow consumer holds mqtt/In back: it takes no more than the flow holds, keeps its session alive with pings, and loses nothing at QoS 1",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto();
    const run = await startMqttNet(`
      '${broker.url}' -> broker In(mqtt/In)
      'slow/#' -> topic In
      '1' -> qos In
      '1' -> keepalive In
      In out -> (2) in S(test/Sink)
    `);
    const pub = await testClient(broker.url);
    try {
      await subscribed(pub, run, "slow/probe", { payload: "-1" });
      run.hold();
      const before = run.sinks.S.length;
      const counted = () =>
        run.meter("In", "mqtt_messages_total", { direction: "in" });
      const start = counted();
      const N = 300;
      for (let i = 0; i < N; i++) {
        await pub.client.publishAsync("slow/n", String(i), { qos: 1 });
      }
      // Held for three keepalives: MQTT.js alone would drop the connection
      // after 1.5 (it reads no ping answer while the flow holds it back).
      await until(
        () => run.meter("In", "mqtt_in_flight_messages") === 1,
        "held",
      );
      await new Promise((r) => setTimeout(r, 3000));
      // The held sink's message, 2 queued, 1 waiting for room: the rest is
      // still at the broker.
      assert.ok(
        counted() - start <= 4,
        `mqtt/In took ${counted() - start} messages while the flow held 4`,
      );
      assert.equal(run.meter("In", "mqtt_in_flight_messages"), 1);
      assert.equal(run.sinks.S.length, before);
      assert.equal(run.meter("In", "mqtt_connects_total"), 1);
      for (const reason of ["keepalive", "network", "broker"]) {
        assert.equal(
          run.meter("In", "mqtt_disconnects_total", { reason }),
          0,
          reason,
        );
      }
      run.release();
      run.pace(1);
      await until(
        () =>
          (run.sinks.S as MqttMessage[]).some((m) =>
            m.payload === String(N - 1)
          ),
        "the last message",
        30_000,
      );
      const got = (run.sinks.S as MqttMessage[]).filter((m) =>
        m.topic === "slow/n"
      ).map((m) => Number(m.payload));
      assert.deepEqual(got, Array.from({ length: N }, (_, i) => i));
      assert.equal(run.meter("In", "mqtt_in_flight_messages"), 0);
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);

test(
  "mqtt/Out's publishes waiting for a broker that never came are counted as dropped (stopped) when the flow stops",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto();
    await broker.stop();
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker Out(mqtt/Out:concurrency=4)
      'w/x' -> topic Out
      '1' -> qos Out
      '100ms' -> reconnect Out
      '300ms' -> reconnectMax Out
      F(test/Feed) out -> in Out
      Out error -> in EO(test/Sink)
    `,
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    );
    await until(
      () =>
        run.meter("Out", "mqtt_disconnects_total", { reason: "unreachable" }) >=
          2,
      "failed attempts",
    );
    await run.stop();
    await until(
      () => run.meter("Out", "mqtt_dropped_total", { reason: "stopped" }) === 4,
      "the 4 publishes that waited counted as dropped",
    );
  },
);

test(
  "two processes with one client id, taking the session from each other, are reported once, naming the likely cause, and not reset to the first backoff at each connection; connected again is said once a connection holds 10 s",
  { skip, timeout: 90_000 },
  async () => {
    await using broker = await startMosquitto();
    const graph = (name: string) => `
      '${broker.url}' -> broker ${name}(mqtt/In)
      'dup/#' -> topic ${name}
      'false' -> clean ${name}
      'weir-same-id' -> clientId ${name}
      '100ms' -> reconnect ${name}
      '2s' -> reconnectMax ${name}
      ${name} out -> in S(test/Sink)
      ${name} error -> in E(test/Sink)
    `;
    const a = await startMqttNet(graph("A"));
    const b = await startMqttNet(graph("B"));
    try {
      await until(
        () =>
          a.meter("A", "mqtt_connects_total") >= 4 &&
          b.meter("B", "mqtt_connects_total") >= 4,
        "the two taking the session from each other",
        40_000,
      );
      for (const [run, name] of [[a, "A"], [b, "B"]] as const) {
        const lost = (run.sinks.E as Error[]).filter((e) =>
          /lost the connection/.test(e.message)
        );
        // Not once a connection (the report and the backoff start over
        // only after a connection that lasted): once a distinct failure
        // (the socket's may read "closed" or a reset).
        assert.ok(lost.length > 0);
        assert.ok(
          lost.length < run.meter(name, "mqtt_connects_total") - 1,
          lost.map((e) => e.message).join("\n"),
        );
        for (const e of lost) {
          assert.match(
            e.message,
            new RegExp(
              `^process "${name}" \\(mqtt/In\\): retrying in \\d+ (ms|s) \\(backing off up to 2 s\\): lost the connection to broker ${broker.url} within 10 s \\(is another client using its client id\\?\\): `,
            ),
          );
        }
        // No "connected again" while each connection is lost at once: the
        // last line is the warning, true whenever it is read.
        const reports = run.sinks.E as ProcessError[];
        assert.deepEqual(
          reports.filter((e) => e.level !== "warning").map((e) => e.message),
          [],
        );
        assert.equal(reports.at(-1)!.level, "warning");
      }
      // B gone, A's next connection holds: once it has for 10 s, one info
      // says so, counting the connections lost at once.
      await b.stop();
      const info = await until(
        () => (a.sinks.E as ProcessError[]).find((e) => e.level === "info"),
        "A's info once a connection held",
        30_000,
      );
      assert.match(
        info.message,
        new RegExp(
          `^process "A" \\(mqtt/In\\): connected to broker ${
            broker.url.replaceAll(".", "\\.")
          } again, held 10 s after (\\d+) connections lost within 10 s \\(over \\d+\\.\\d s\\)$`,
        ),
      );
      assert.ok(Number(/after (\d+) connections/.exec(info.message)![1]) >= 3);
      assert.equal((a.sinks.E as ProcessError[]).at(-1), info);
      assert.equal(a.meter("A", "mqtt_connected"), 1);
    } finally {
      await a.stop();
      await b.stop();
    }
  },
);

test(
  "a consumer slower than what arrives, taking a message more often than every half keepalive, keeps mqtt/In's session: no keepalive timeout, nothing lost or twice at QoS 1",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto();
    const run = await startMqttNet(`
      '${broker.url}' -> broker In(mqtt/In)
      'paced/#' -> topic In
      '1' -> qos In
      '1' -> keepalive In
      In out -> (1) in S(test/Sink)
    `);
    const pub = await testClient(broker.url);
    try {
      await subscribed(pub, run, "paced/probe", { payload: "-1" });
      // One message every 300 ms: the flow takes one and holds the next
      // more often than every half keepalive (500 ms), for 4 keepalives.
      run.pace(300);
      const N = 14;
      for (let i = 0; i < N; i++) {
        await pub.client.publishAsync("paced/n", String(i), { qos: 1 });
      }
      await until(
        () =>
          (run.sinks.S as MqttMessage[]).some((m) =>
            m.payload === String(N - 1)
          ),
        "the last message",
        30_000,
      );
      const got = (run.sinks.S as MqttMessage[]).filter((m) =>
        m.topic === "paced/n"
      ).map((m) => Number(m.payload));
      assert.deepEqual(got, Array.from({ length: N }, (_, i) => i));
      assert.equal(
        run.meter("In", "mqtt_disconnects_total", { reason: "keepalive" }),
        0,
      );
      assert.equal(run.meter("In", "mqtt_connects_total"), 1);
    } finally {
      await pub.end();
      await run.stop();
    }
  },
);

test(
  "mqtt/Out keeps its in-flight window of publishes waiting for PUBACK and takes no more until the broker answers",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto();
    const sub = await testClient(broker.url, { topics: ["w/#"], qos: 1 });
    let go!: () => void;
    const gate = new Promise<void>((r) => go = r);
    const N = 50;
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker Out(mqtt/Out:concurrency=5)
      'w/n' -> topic Out
      '1' -> qos Out
      F(test/Feed) out -> (3) in Out
    `,
      Array.from({ length: N }, (_, i) => i),
      gate,
    );
    try {
      await until(() => run.meter("Out", "mqtt_connected") === 1, "connected");
      // The broker stops answering (its process is paused).
      process.kill(broker.pid, "SIGSTOP");
      go();
      await until(
        () => run.meter("Out", "mqtt_in_flight_messages") === 5,
        "a full window",
      );
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(run.meter("Out", "mqtt_in_flight_messages"), 5);
      assert.equal(
        run.meter("Out", "mqtt_messages_total", { direction: "out" }),
        0,
      );
      // Five taken (its window), the rest waits upstream: the connection
      // holds its 3 and the feed's send waits for room.
      const out = run.net.stats().processes.find((p) => p.name === "Out")!;
      assert.equal(out.activeActivations, 5);
      assert.ok(out.queueDepth.in <= 4, `queued: ${out.queueDepth.in}`);
      process.kill(broker.pid, "SIGCONT");
      await run.net.finished;
      await until(() => sub.received.length >= N, "every message");
      assert.deepEqual(
        sub.received.map((m) => Number(m.payload)),
        Array.from({ length: N }, (_, i) => i),
      );
      assert.equal(
        run.meter("Out", "mqtt_messages_total", { direction: "out" }),
        N,
      );
      assert.equal(run.meter("Out", "mqtt_in_flight_messages"), 0);
    } finally {
      try {
        process.kill(broker.pid, "SIGCONT");
      } catch {
        // Already running or gone.
      }
      await run.stop();
      await sub.end();
    }
  },
);

test(
  "bad credentials: connected stays 0, one report naming the broker and user (never the password), retried with backoff",
  { skip, timeout: 60_000 },
  async () => {
    await using broker = await startMosquitto({ users: { weir: "right-pw" } });
    process.env.MQTT_TEST_WRONG_PW = "wrong-pw-8f3a";
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker In(mqtt/In)
      'a/#' -> topic In
      'weir' -> username In
      'env:MQTT_TEST_WRONG_PW' -> password In
      '100ms' -> reconnect In
      '200ms' -> reconnectMax In
      In out -> in S(test/Sink)
      In error -> in E(test/Sink)
    `,
      [],
      Promise.resolve(),
      { env: ["MQTT_TEST_WRONG_PW"] },
    );
    try {
      const started = Date.now();
      await until(
        () =>
          run.meter("In", "mqtt_disconnects_total", { reason: "refused" }) >= 4,
        "four refused attempts",
      );
      const attempts = run.meter("In", "mqtt_disconnects_total", {
        reason: "refused",
      });
      // Not a hot loop: at least 85 ms (the first delay less jitter) apart.
      assert.ok(
        attempts <= (Date.now() - started) / 85 + 2,
        `${attempts} attempts in ${Date.now() - started} ms`,
      );
      assert.equal(run.meter("In", "mqtt_connected"), 0);
      assert.equal(run.meter("In", "mqtt_connects_total"), 0);
      assert.equal(run.sinks.E.length, 1);
      const message = (run.sinks.E[0] as Error).message;
      assert.match(
        message,
        new RegExp(
          `^process "In" \\(mqtt/In\\): retrying in 100 ms \\(backing off up to 200 ms\\): cannot connect to broker ${broker.url} as user "weir": Connection refused: Not authorized`,
        ),
      );
      assert.ok(!message.includes("wrong-pw"), message);
      assert.ok(!JSON.stringify(run.sinks.E).includes("wrong-pw"));
    } finally {
      delete process.env.MQTT_TEST_WRONG_PW;
      await run.stop();
    }
  },
);

test(
  "the password from a file reference connects",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto({ users: { weir: "file-pw" } });
    const { writeFileSync } = await import("node:fs");
    const file = `${broker.dir}/pw`;
    writeFileSync(file, "file-pw\n");
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker In(mqtt/In)
      'a/#' -> topic In
      'weir' -> username In
      'file:pw' -> password In
      '5' -> protocolVersion In
    `,
      [],
      Promise.resolve(),
      { dir: broker.dir },
    );
    try {
      await until(() => run.meter("In", "mqtt_connected") === 1, "connected");
      assert.equal(run.meter("In", "mqtt_connects_total"), 1);
    } finally {
      await run.stop();
    }
  },
);

test(
  "MQTT 5: a publish the broker refuses (not authorized) goes to error and counts as dropped, and the next one goes on",
  { skip, timeout: 30_000 },
  async () => {
    await using broker = await startMosquitto({
      users: { weir: "pw" },
      acl: "user weir\ntopic readwrite ok/#\n",
    });
    process.env.MQTT_TEST_ACL_PW = "pw";
    const sub = await testClient(broker.url, {
      topics: ["ok/#"],
      qos: 1,
      username: "weir",
      password: "pw",
    });
    const run = await startMqttNet(
      `
      '${broker.url}' -> broker Out(mqtt/Out)
      'weir' -> username Out
      'env:MQTT_TEST_ACL_PW' -> password Out
      '5' -> protocolVersion Out
      '1' -> qos Out
      F(test/Feed) out -> in Out error -> in E(test/Sink)
    `,
      [
        { topic: "ok/1", payload: "a" },
        { topic: "forbidden/1", payload: "b" },
        { topic: "ok/2", payload: "c" },
      ],
      Promise.resolve(),
      { env: ["MQTT_TEST_ACL_PW"] },
    );
    try {
      await run.net.finished;
      await until(() => sub.received.length >= 2, "the allowed messages");
      assert.deepEqual(sub.received.map((m) => m.payload), ["a", "c"]);
      const errors = (run.sinks.E ?? []).map((e) => (e as Error).message);
      assert.equal(errors.length, 1, errors.join("\n"));
      assert.match(
        errors[0],
        /cannot publish to "forbidden\/1": .*Not authorized/i,
      );
      assert.equal(
        run.meter("Out", "mqtt_dropped_total", { reason: "refused" }),
        1,
      );
      assert.equal(
        run.meter("Out", "mqtt_messages_total", { direction: "out" }),
        2,
      );
    } finally {
      delete process.env.MQTT_TEST_ACL_PW;
      await run.stop();
      await sub.end();
    }
  },
);

for (const version of [4, 5]) {
  test(
    `a persistent mqtt/In session (MQTT ${
      version === 5 ? "5" : "3.1.1"
    }) gets the QoS 1 messages published while its flow was stopped`,
    { skip, timeout: 30_000 },
    async () => {
      await using broker = await startMosquitto();
      const fbp = `
        '${broker.url}' -> broker In(mqtt/In)
        'kept/#' -> topic In
        '1' -> qos In
        'false' -> clean In
        '${version}' -> protocolVersion In
        'weir-kept-${version}' -> clientId In
        In out -> in S(test/Sink)
      `;
      const pub = await testClient(broker.url);
      const first = await startMqttNet(fbp);
      await subscribed(pub, first, "kept/probe");
      await first.net.drain(5000);
      for (let i = 0; i < 5; i++) {
        await pub.client.publishAsync("kept/n", String(i), { qos: 1 });
      }
      const second = await startMqttNet(fbp);
      try {
        await until(
          () =>
            (second.sinks.S ?? []).filter((m) =>
              (m as MqttMessage).topic === "kept/n"
            ).length >= 5,
          "the messages kept for it",
        );
        assert.deepEqual(
          (second.sinks.S as MqttMessage[]).filter((m) => m.topic === "kept/n")
            .map((m) => m.payload),
          ["0", "1", "2", "3", "4"],
        );
      } finally {
        await pub.end();
        await second.stop();
      }
    },
  );
}
