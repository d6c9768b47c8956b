/**
 * Networks of the MQTT components against a test broker (tests/_mosquitto.ts):
 * a graph from .fbp text with a `test/Sink` that keeps what it takes (and
 * can be held back), meter readings, and MQTT.js clients on the test side.
 *
 * @module
 */
import mqtt, { type MqttClient } from "mqtt";
import { builtins } from "../../src/components/mod.ts";
import type { SecretPolicyOptions } from "../../src/components/_secret.ts";
import { createNetwork } from "../../src/embed.ts";
import { defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import type { Network } from "../../src/engine/network.ts";

/** A network of MQTT components, its sinks and errors. */
export interface MqttNet {
  net: Network;
  /** What each `test/Sink` process took, by process name. */
  sinks: Record<string, unknown[]>;
  /** The network's error events. */
  errors: ProcessError[];
  /** The value of a meter series of `process` (0 when never asked for). */
  meter(process: string, name: string, labels?: Record<string, string>): number;
  /**
   * Holds every `test/Sink` back (each waits before it takes a message)
   * until `release()`; `pace` is a pause per message when not held.
   */
  hold(): void;
  /** Lets the sinks take messages again. */
  release(): void;
  /** Pauses each sink this long per message (ms), 0 for none. */
  pace(ms: number): void;
  /** Stops the network. */
  stop(): Promise<void>;
}

/**
 * Builds (and starts) a network from .fbp text with the built-ins,
 * `test/Sink`, and `test/Feed`, which sends `feed` in order (waiting for
 * room), once `feedAfter` settled, and ends. `secrets` is where the
 * operator lets secrets come from (default nowhere).
 */
export async function startMqttNet(
  text: string,
  feed: readonly unknown[] = [],
  feedAfter: Promise<unknown> = Promise.resolve(),
  secrets: SecretPolicyOptions = {},
): Promise<MqttNet> {
  const sinks: Record<string, unknown[]> = {};
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  let paceMs = 0;
  const registry = builtins({ secrets }).register(defineComponent({
    name: "test/Sink",
    description: "Keeps every message, by process name; can be held back.",
    inPorts: { in: { description: "Messages to keep." } },
    async process(value, ctx) {
      if (gate !== undefined) await gate;
      if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
      (sinks[ctx.process] ??= []).push(value);
    },
  })).register(defineComponent({
    name: "test/Feed",
    description: "Sends the test's values, then ends.",
    outPorts: { out: { description: "The values." } },
    async run(ctx) {
      await feedAfter;
      for (const value of feed) {
        if (ctx.signal.aborted) return;
        await ctx.send("out", value);
      }
    },
  }));
  const net = createNetwork(text, { registry });
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  await net.start();
  return {
    net,
    sinks,
    errors,
    meter(process, name, labels = {}) {
      let found = 0;
      net.forEachMeter((p, m) => {
        if (p !== process || m.spec.name !== name) return;
        for (const [k, v] of Object.entries(labels)) {
          if (m.labels[k] !== v) return;
        }
        found = m.value;
      });
      return found;
    },
    hold() {
      gate ??= new Promise((r) => open = r);
    },
    release() {
      open?.();
      gate = undefined;
    },
    pace(ms) {
      paceMs = ms;
    },
    async stop() {
      open?.();
      await net.stop();
    },
  };
}

/**
 * Resolves with the first truthy value of `probe`, asked every 20 ms;
 * rejects naming `what` after `ms`.
 */
export async function until<T>(
  probe: () =>
    | T
    | undefined
    | null
    | false
    | Promise<T | undefined | null | false>,
  what: string,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`not seen within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A test-side MQTT client that keeps what it receives. */
export interface TestClient {
  client: MqttClient;
  /** Messages received, in order: topic and payload as text. */
  received: { topic: string; payload: string; retain: boolean }[];
  end(): Promise<void>;
}

/**
 * Connects a test client to `url` (subscribed to `topics` at `qos` when
 * given) and resolves once subscribed.
 */
export async function testClient(
  url: string,
  options: {
    topics?: string[];
    qos?: 0 | 1 | 2;
    clientId?: string;
    clean?: boolean;
    username?: string;
    password?: string;
  } = {},
): Promise<TestClient> {
  const received: TestClient["received"] = [];
  const client = mqtt.connect(url, {
    clientId: options.clientId,
    clean: options.clean ?? true,
    username: options.username,
    password: options.password,
    reconnectPeriod: 200,
    log: () => {},
  });
  client.on("message", (topic, payload, packet) => {
    received.push({
      topic,
      payload: payload.toString(),
      retain: packet.retain,
    });
  });
  client.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  if (options.topics !== undefined) {
    await client.subscribeAsync(options.topics, { qos: options.qos ?? 0 });
  }
  return {
    client,
    received,
    async end() {
      await client.endAsync(true);
    },
  };
}

/**
 * Resolves once `run`'s subscription is there: publishes `payload` to
 * `topic` (at `qos`) until the sink `sink` has taken anything (a
 * subscription follows the connection, so it is probed, not waited for).
 */
export async function subscribed(
  pub: TestClient,
  run: MqttNet,
  topic: string,
  { payload = "p", qos = 1, sink = "S", what = "the subscription" }: {
    payload?: string;
    qos?: 0 | 1 | 2;
    sink?: string;
    what?: string;
  } = {},
): Promise<void> {
  await until(async () => {
    await pub.client.publishAsync(topic, payload, { qos });
    return (run.sinks[sink] ?? []).length > 0;
  }, what);
}
