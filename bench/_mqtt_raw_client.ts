/**
 * A minimal MQTT 3.1.1 client on a bare TCP socket for the load side of
 * `bench/mqtt_bench.ts`. The publisher encodes PUBLISH packets into large
 * buffers and writes them as fast as the socket drains, keeping at most
 * `window` QoS 1 packets unacknowledged; the subscriber parses what comes
 * and acknowledges each read's QoS 1 messages in one write.
 *
 * Why not MQTT.js here: its `publish()` (a callback, a store entry and a
 * stream write per message) topped out near 28,000 msg/s and its receive
 * path near 17,000 msg/s on the benchmark machine, under what the flows are
 * asked to carry: the load would have been the bottleneck. Every flow under
 * test (weir, Node-RED, the hand-written relay) still talks MQTT through
 * MQTT.js; the benchmark's "harness ceiling" line shows what this client
 * and the broker carry with no flow between them.
 *
 * Only what the benchmark needs: CONNECT (clean session, keepalive off,
 * so no PINGREQ), SUBSCRIBE, PUBLISH at QoS 0 or 1, PUBACK, DISCONNECT.
 * No TLS, no auth, no QoS 2.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { _varint } from "../src/components/_mqtt_size_guard.ts";

/** The bytes of `n` as MQTT's variable-length "remaining length". */
function remainingLength(n: number): number[] {
  return [..._varint(n)];
}

/** A UTF-8 string with its 2-byte length prefix. */
function mqttString(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

const decoder = new TextDecoder();

/** Called with each PUBLISH received: its topic and payload. */
export type MessageHandler = (topic: string, payload: Uint8Array) => void;

/** A client connected to one broker. */
export class RawClient {
  readonly #socket: Socket;
  #acked = 0;
  #wake: (() => void) | undefined;
  #rest: Uint8Array = new Uint8Array(0);
  #error: Error | undefined;
  #onMessage: MessageHandler | undefined;
  #subacks = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => this.#read(chunk));
    socket.on("error", (err: Error) => {
      this.#error = err;
      this.#wake?.();
    });
    socket.on("close", () => {
      this.#error ??= new Error("the broker closed the connection");
      this.#wake?.();
    });
  }

  /** Connects to `mqtt://host:port` as `clientId`; resolves on CONNACK. */
  static connect(url: string, clientId: string): Promise<RawClient> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port || 1883), u.hostname, () => {
        socket.setNoDelay(true);
        const body = [
          ...mqttString("MQTT"),
          4, // protocol level: 3.1.1
          0x02, // clean session
          0,
          0, // keepalive 0: off
          ...mqttString(clientId),
        ];
        socket.write(
          new Uint8Array([0x10, ...remainingLength(body.length), ...body]),
        );
      });
      socket.once("error", reject);
      socket.once("data", (chunk: Uint8Array) => {
        socket.removeListener("error", reject);
        if (chunk[0] !== 0x20 || chunk[3] !== 0) {
          socket.destroy();
          reject(
            new Error(
              `Cannot connect to ${url}: CONNACK return code ${chunk[3]}`,
            ),
          );
          return;
        }
        const client = new RawClient(socket);
        if (chunk.length > 4) client.#read(chunk.subarray(4));
        resolve(client);
      });
    });
  }

  /** Waits until woken by an acknowledgement or an error. */
  async #sleep(): Promise<void> {
    await new Promise<void>((resolve) => this.#wake = resolve);
    this.#wake = undefined;
    if (this.#error) throw this.#error;
  }

  /** Parses the packets in the bytes the broker sent. */
  #read(chunk: Uint8Array): void {
    let buf = chunk;
    if (this.#rest.length > 0) {
      buf = new Uint8Array(this.#rest.length + chunk.length);
      buf.set(this.#rest);
      buf.set(chunk, this.#rest.length);
    }
    let at = 0;
    let acks = 0;
    const pubacks: number[] = [];
    while (at + 2 <= buf.length) {
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      while (i < buf.length && i < at + 5) {
        const byte = buf[i++];
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || i + length > buf.length) break;
      const type = buf[at] >> 4;
      if (type === 4) acks++;
      else if (type === 9) this.#subacks++;
      else if (type === 3) {
        const qos = (buf[at] >> 1) & 3;
        const topicLength = (buf[i] << 8) | buf[i + 1];
        const topic = decoder.decode(buf.subarray(i + 2, i + 2 + topicLength));
        let payloadAt = i + 2 + topicLength;
        if (qos > 0) {
          pubacks.push(0x40, 2, buf[payloadAt], buf[payloadAt + 1]);
          payloadAt += 2;
        }
        this.#onMessage?.(topic, buf.subarray(payloadAt, i + length));
      }
      at = i + length;
    }
    this.#rest = buf.slice(at);
    if (pubacks.length > 0) this.#socket.write(new Uint8Array(pubacks));
    if (acks > 0) this.#acked += acks;
    if (acks > 0 || this.#subacks > 0) this.#wake?.();
  }

  /** Subscribes to `pattern` at QoS 1; `handler` gets every message. */
  async subscribe(pattern: string, handler: MessageHandler): Promise<void> {
    this.#onMessage = handler;
    const before = this.#subacks;
    const body = [0, 1, ...mqttString(pattern), 1];
    this.#socket.write(
      new Uint8Array([0x82, ...remainingLength(body.length), ...body]),
    );
    while (this.#subacks === before) await this.#sleep();
  }

  /**
   * Publishes `payloadOf(i)` for i in [0, count) to `topic` at `qos`,
   * writing `batch` packets at a time; at QoS 1 at most `window` are
   * unacknowledged. Resolves once every packet was written (QoS 0) or
   * acknowledged (QoS 1).
   */
  async publishAll(
    topic: string,
    qos: 0 | 1,
    count: number,
    payloadOf: (i: number) => string,
    options: { window?: number; batch?: number } = {},
  ): Promise<void> {
    const window = options.window ?? 1000;
    const batch = Math.min(options.batch ?? 256, window);
    const encoder = new TextEncoder();
    const topicBytes = mqttString(topic);
    const ackedAtStart = this.#acked;
    let packetId = 0;
    let next = 0;
    while (next < count) {
      if (this.#error) throw this.#error;
      if (qos === 1) {
        while (next - (this.#acked - ackedAtStart) + batch > window) {
          await this.#sleep();
        }
      }
      const parts: Uint8Array[] = [];
      let size = 0;
      const end = Math.min(count, next + batch);
      for (; next < end; next++) {
        const payload = encoder.encode(payloadOf(next));
        const variable = topicBytes.length + (qos === 1 ? 2 : 0) +
          payload.length;
        const head = [
          qos === 1 ? 0x32 : 0x30,
          ...remainingLength(variable),
          ...topicBytes,
        ];
        if (qos === 1) {
          packetId = packetId === 0xffff ? 1 : packetId + 1;
          head.push(packetId >> 8, packetId & 0xff);
        }
        const packet = new Uint8Array(head.length + payload.length);
        packet.set(head);
        packet.set(payload, head.length);
        parts.push(packet);
        size += packet.length;
      }
      const out = new Uint8Array(size);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      if (qos === 0) {
        // Written to the kernel is what "the broker took it" means at QoS 0.
        await new Promise<void>((resolve, reject) =>
          this.#socket.write(out, (err) => err ? reject(err) : resolve())
        );
      } else if (!this.#socket.write(out)) {
        await new Promise<void>((resolve) =>
          this.#socket.once("drain", () => resolve())
        );
      }
    }
    while (qos === 1 && this.#acked - ackedAtStart < count) {
      await this.#sleep();
    }
  }

  /** Sends DISCONNECT and closes the socket. */
  close(): Promise<void> {
    this.#onMessage = undefined;
    return new Promise((resolve) => {
      this.#socket.end(new Uint8Array([0xe0, 0]), () => resolve());
    });
  }
}
