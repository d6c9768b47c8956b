/**
 * Networks of the MQTT components against a test broker (tests/_mosquitto.ts):
 * a graph from .fbp text with a `test/Sink` that keeps what it takes (and
 * can be held back), meter readings, and MQTT.js clients on the test side.
 *
 * @module
 */
import mqtt, { type MqttClient } from "mqtt";
import { Buffer } from "node:buffer";
import { type AddressInfo, createServer, type Socket } from "node:net";
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

/** A TCP server on 127.0.0.1 that speaks what a test needs of MQTT. */
export interface FakeBroker extends AsyncDisposable {
  /** Its port. */
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every connection it got, in order (closed ones too). */
  readonly connections: readonly Socket[];
}

/**
 * A fake broker (not mosquitto: for what a real one never sends): `serve`
 * is called with each connection and gives the function that takes each
 * whole packet the client sends on it (split by its fixed header). Its
 * disposal ends every connection and closes it.
 */
export async function fakeBroker(
  serve: (socket: Socket) => (packet: Buffer) => void,
): Promise<FakeBroker> {
  const connections: Socket[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    socket.on("error", () => {});
    const take = serve(socket);
    let rest = Buffer.alloc(0);
    socket.on("data", (bytes) => {
      rest = Buffer.concat([rest, bytes]);
      for (;;) {
        // The type, then the remaining length (a varint).
        let length = 0;
        let i = 1;
        for (let mul = 1; i < rest.length; i++, mul *= 128) {
          length += (rest[i] & 0x7f) * mul;
          if ((rest[i] & 0x80) === 0) break;
        }
        if (i >= rest.length || rest.length < i + 1 + length) return;
        const packet = rest.subarray(0, i + 1 + length);
        rest = rest.subarray(i + 1 + length);
        take(packet);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    connections,
    async [Symbol.asyncDispose]() {
      for (const s of connections) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The fixed header's packet type of `packet` (1 CONNECT, 8 SUBSCRIBE, 12 PINGREQ). */
export function packetType(packet: Buffer): number {
  return packet[0] >> 4;
}

/** CONNACK: accepted, no session present. */
export const CONNACK: Buffer = Buffer.of(0x20, 2, 0, 0);

/** The SUBACK of SUBSCRIBE packet `p` (one filter): its packet id, `code` (default 0, QoS 0 granted). */
export function suback(p: Buffer, code = 0): Buffer {
  let at = 1;
  while (p[at] & 0x80) at++;
  at++;
  return Buffer.of(0x90, 3, p[at], p[at + 1], code);
}
