/**
 * mqtt/In's subscription: one the broker refuses is a failure naming the
 * filter's place in the `topic` setting and the broker's reason code (a
 * real mosquitto refusing it, MQTT 3.1.1 and 5), and one the connection
 * cuts short is a warning, subscribed again once reconnected (with a
 * clean session, and with a persistent one the broker says it kept).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { accessSync, constants, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import {
  type MqttNet,
  startMqttNet,
  subscribed,
  testClient,
  until,
} from "./_mqtt_helpers.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { _subackOutcome } from "../../src/components/_mqtt_suback.ts";

/** `process`'s errors as the statistics count them, by kind. */
function errorsOf(run: MqttNet, name: string) {
  return run.net.stats().processes.find((p) => p.name === name)!.errors;
}

/**
 * mosquitto's dynamic security plugin: what makes mosquitto 2.0 refuse a
 * subscription (its `acl_file` grants every subscription and only
 * withholds the messages a `topic` line denies).
 */
function findDynsec(): string | undefined {
  const dirs = ["/usr/lib", "/usr/local/lib"];
  for (const dir of ["/usr/lib", "/usr/lib64"]) {
    try {
      for (const d of readdirSync(dir)) dirs.push(join(dir, d));
    } catch {
      // No such folder.
    }
  }
  for (const dir of dirs) {
    const file = join(dir, "mosquitto_dynamic_security.so");
    try {
      accessSync(file, constants.R_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

const DYNSEC = findDynsec();

/** mosquitto with its dynamic security plugin, or why the test skips. */
function dynsecSkip(): string | false {
  const skip = mosquittoSkip();
  if (skip !== false || DYNSEC !== undefined) return skip;
  return process.env.WEIR_REQUIRE_INTEGRATION === "1"
    ? false // the test fails, naming the missing plugin
    : "mosquitto_dynamic_security.so not found (Debian's mosquitto package has it)";
}

/**
 * A mosquitto whose access control refuses anonymous clients'
 * subscriptions to `secret/#` and allows everything else.
 */
async function refusingMosquitto() {
  if (DYNSEC === undefined) {
    throw new Error(
      "mosquitto_dynamic_security.so not found: install Debian's mosquitto package",
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "weir-dynsec-"));
  const config = join(dir, "dynamic-security.json");
  await writeFile(
    config,
    JSON.stringify({
      defaultACLAccess: {
        publishClientSend: true,
        publishClientReceive: true,
        subscribe: true,
        unsubscribe: true,
      },
      clients: [],
      groups: [{ groupname: "anonymous", roles: [{ rolename: "no-secrets" }] }],
      roles: [{
        rolename: "no-secrets",
        acls: [{
          acltype: "subscribePattern",
          topic: "secret/#",
          priority: 0,
          allow: false,
        }],
      }],
      anonymousGroup: "anonymous",
    }),
  );
  try {
    const broker = await startMosquitto({
      extraConfig: [`plugin ${DYNSEC}`, `plugin_opt_config_file ${config}`],
    });
    return {
      url: broker.url,
      async [Symbol.asyncDispose]() {
        await broker.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

for (
  const [version, code] of [[4, "0x80, unspecified error"], [
    5,
    "0x87, not authorized",
  ]] as const
) {
  test(
    `mqtt/In reports a subscription a real broker refuses (MQTT ${
      version === 4 ? "3.1.1" : "5"
    }) as a failure with the filter's place and the reason code, and takes what it granted`,
    { skip: dynsecSkip(), timeout: 30_000 },
    async () => {
      await using broker = await refusingMosquitto();
      const run = await startMqttNet(`
        '${broker.url}' -> broker In(mqtt/In)
        '["ok/#", "secret/#"]' -> topic In
        '${version}' -> protocolVersion In
        In out -> in S(test/Sink)
        In error -> in E(test/Sink)
      `);
      const pub = await testClient(broker.url);
      try {
        await until(() => run.sinks.E?.length, "the refusal");
        const e = run.sinks.E[0] as ProcessError;
        assert.equal(e.level, "error");
        assert.equal(
          e.message,
          `process "In" failed: the broker refused the subscription to topic[1] (reason code ${code}): "secret/#"`,
        );
        assert.equal(errorsOf(run, "In").exception, 1);
        // The filter it granted is subscribed.
        await subscribed(pub, run, "ok/probe");
        assert.equal(run.sinks.E.length, 1);
        assert.deepEqual(run.errors, []);
      } finally {
        await pub.end();
        await run.stop();
      }
    },
  );
}

/**
 * A broker that grants every subscription but ends the connection instead
 * of answering the first SUBSCRIBE; it says it kept the session on every
 * connection after the first when `sessionPresent`. It counts the
 * SUBSCRIBEs it received.
 */
async function cuttingBroker(sessionPresent: boolean) {
  const sockets = new Set<Socket>();
  let connects = 0;
  const subscribes: number[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        // A fixed header: the type, then the remaining length (a varint).
        let length = 0;
        let i = 1;
        for (let shift = 0; i < buf.length; i++, shift += 7) {
          length += (buf[i] & 0x7f) << shift;
          if ((buf[i] & 0x80) === 0) break;
        }
        if (i >= buf.length || buf.length < i + 1 + length) return;
        const type = buf[0] >> 4;
        const body = buf.subarray(i + 1, i + 1 + length);
        buf = buf.subarray(i + 1 + length);
        if (type === 1) {
          connects++;
          const present = sessionPresent && connects > 1 ? 1 : 0;
          socket.write(Buffer.from([0x20, 2, present, 0]));
        }
        if (type === 8) {
          subscribes.push(connects);
          if (subscribes.length === 1) {
            socket.destroy();
            return;
          }
          socket.write(Buffer.from([0x90, 3, body[0], body[1], 0]));
        }
        if (type === 12) socket.write(Buffer.from([0xd0, 0]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    /** The connection (1, 2, ...) each SUBSCRIBE came on. */
    subscribes,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

for (const clean of [true, false]) {
  test(
    `mqtt/In warns of a subscription the connection cut short and subscribes again once reconnected (${
      clean ? "clean session" : "persistent session the broker kept"
    })`,
    { timeout: 30_000 },
    async () => {
      await using broker = await cuttingBroker(!clean);
      const run = await startMqttNet(`
        '${broker.url}' -> broker In(mqtt/In)
        'a/#' -> topic In
        '${clean}' -> clean In
        'weir-cut' -> clientId In
        '100ms' -> reconnect In
        In out -> in S(test/Sink)
        In error -> in E(test/Sink)
      `);
      try {
        await until(
          () => broker.subscribes.length === 2,
          "the subscription again on the next connection",
        );
        assert.deepEqual(broker.subscribes, [1, 2]);
        const subscription = (run.sinks.E as ProcessError[]).filter((e) =>
          /subscri/.test(e.message)
        );
        assert.deepEqual(
          subscription.map((e) => [e.level, e.message]),
          [[
            "warning",
            'process "In" (mqtt/In): subscribing again once reconnected: the connection ended before the broker answered the subscription (Connection closed)',
          ]],
        );
        assert.equal(errorsOf(run, "In").exception, 0);
      } finally {
        await run.stop();
      }
    },
  );
}

test("mqtt/In's reading of a subscription: only the connection's end, with no SUBACK, is retried; another error without one is a failure", () => {
  const topics = ["a/#"];
  for (const words of ["Connection closed", "client disconnecting"]) {
    assert.equal(
      _subackOutcome(topics, new Error(words), undefined).kind,
      "lost",
    );
  }
  // A filter MQTT.js will not send fails on every connection: no retry.
  assert.deepEqual(
    _subackOutcome(topics, new Error("Invalid topic a/#/b"), undefined),
    { kind: "failed", message: "cannot subscribe: Invalid topic a/#/b" },
  );
  // A SUBACK with no failure code that MQTT.js still calls an error (its
  // count does not fit the SUBSCRIBE).
  assert.equal(
    _subackOutcome(topics, new Error("Protocol error"), { granted: [] }).kind,
    "failed",
  );
});
