/**
 * `mqtt/In`'s bound on a message's size, kept before MQTT.js reads the
 * message: the bytes from the broker pass through a
 * {@linkcode _PublishSizeGuard}, which reads each packet's fixed header
 * (its remaining length) and lets a PUBLISH too large go by without
 * holding it. MQTT.js's parser (mqtt-packet) buffers a whole packet before
 * it emits it, and a PUBLISH may be 256 MiB: a 200 MB payload took an
 * `mqtt/In` from 100 MB to 720 MB of RSS on Deno, 67 MB to 683 MB on Bun
 * (README, MQTT, "Message size").
 *
 * A PUBLISH let go by becomes a small one of the same QoS and packet id,
 * on the topic {@linkcode _TOO_LARGE_TOPIC} (a broker never sends a topic
 * with a wildcard), whose payload says the sizes and the topic: MQTT.js
 * acknowledges it as it would the real one (PUBACK; PUBREC, PUBREL,
 * PUBCOMP), in its order among the others, and `mqtt/In` counts and
 * reports it ({@linkcode _tooLarge}). Any other packet larger than the
 * bound is not MQTT a broker sends: the connection ends with an error
 * naming its size (and is made again with the backoff).
 *
 * On MQTT 5 the broker is not told the bound (CONNECT's Maximum Packet
 * Size), though it would spare the link: mosquitto 2.0.11 (Debian 12's)
 * drops each larger QoS 1 or 2 message for the client ("Dropping too
 * large outgoing PUBLISH") but keeps it in the client's in-flight window,
 * so 20 of them (its max_inflight_messages) stopped the subscription
 * (nothing more came), and weir could not count them; read past here, each is counted
 * and acknowledged.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type Duplex, Transform, type Writable } from "node:stream";

/** The largest remaining length an MQTT packet can have: 268,435,455 bytes. */
export const _MQTT_MAX_REMAINING = 268_435_455;

/**
 * Room for a PUBLISH's topic (up to 65,537 bytes), packet id and MQTT 5
 * properties beyond the payload bound: 128 KiB.
 */
export const _HEADROOM = 128 * 1024;

/**
 * The topic of the PUBLISH that stands for one let go by: a topic name
 * never holds `#`, so no broker sends it.
 */
export const _TOO_LARGE_TOPIC = "#weir/too-large";

/** A PUBLISH let go by: its sizes and (the start of) its topic. */
export interface _TooLarge {
  /** Bytes of its payload. */
  payload: number;
  /** Bytes of the whole packet. */
  packet: number;
  /** Its topic, cut to 200 characters. */
  topic: string;
}

/** Options of {@linkcode _PublishSizeGuard}. */
export interface _GuardOptions {
  /** The largest payload let through, bytes. */
  maxPayloadBytes: number;
  /** 4 (MQTT 3.1.1) or 5 (MQTT 5: a PUBLISH has properties). */
  protocolVersion: 4 | 5;
}

const HEADER = 0;
const PASS = 1;
const VARIABLE = 2;
const SKIP = 3;

/**
 * Reads the bytes a broker sends, packet by packet, and returns what to
 * pass on to MQTT.js: everything as it is, except each PUBLISH whose
 * payload is larger than `maxPayloadBytes` (or whose topic and properties
 * take more than {@linkcode _HEADROOM} besides), which is read past and
 * stands as a small PUBLISH on {@linkcode _TOO_LARGE_TOPIC}. It holds at
 * most a fixed header and a PUBLISH's variable header (its topic and
 * packet id, 65,543 bytes), never a payload. Throws (an `Error` with
 * `code` `"ERR_MQTT_TOO_LARGE"`) at any other packet larger than
 * the bound, or one whose header is not MQTT.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Buffer } from "node:buffer";
 * import { _PublishSizeGuard, _TOO_LARGE_TOPIC } from "./_mqtt_size_guard.ts";
 *
 * // A QoS 1 PUBLISH on topic "t", packet id 7, of n zero bytes (n < 123).
 * const publish = (n: number) =>
 *   Buffer.concat([Buffer.of(0x32, 5 + n, 0, 1, 0x74, 0, 7), Buffer.alloc(n)]);
 * const guard = new _PublishSizeGuard({ maxPayloadBytes: 100, protocolVersion: 4 });
 * const input = Buffer.concat([publish(100), publish(101), publish(3)]);
 * // Fed a byte at a time, as a socket may give them.
 * const out = Buffer.concat([...input].flatMap((b) => guard.feed(Buffer.of(b))));
 * assert.deepEqual(out.subarray(0, 107), publish(100));
 * assert.deepEqual(out.subarray(-10), publish(3));
 * // The one between stands in for the 101 bytes, of the same QoS and id.
 * const standIn = out.subarray(107, -10);
 * assert.equal(standIn[0], 0x32);
 * assert.ok(standIn.includes(_TOO_LARGE_TOPIC));
 * assert.ok(standIn.includes('{"payload":101,"packet":108,"topic":"t"}'));
 * ```
 */
export class _PublishSizeGuard {
  readonly #max: number;
  readonly #v5: boolean;
  #state = HEADER;
  /** The fixed header: a type byte and up to 4 bytes of length. */
  readonly #head = Buffer.alloc(5);
  #headLength = 0;
  /** The current packet's remaining length. */
  #remaining = 0;
  /** Bytes still to pass on or to read past. */
  #left = 0;
  /** A PUBLISH's variable header, up to its properties' length. */
  #variable: Buffer | undefined;
  #variableLength = 0;

  constructor(options: _GuardOptions) {
    this.#max = options.maxPayloadBytes;
    this.#v5 = options.protocolVersion === 5;
  }

  /** The pieces of `chunk` (and a stand-in) to pass on, in order. */
  feed(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === PASS || this.#state === SKIP) {
        const n = Math.min(this.#left, chunk.length - i);
        if (this.#state === PASS) out.push(chunk.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = HEADER;
      } else if (this.#state === HEADER) {
        const b = chunk[i++];
        this.#head[this.#headLength++] = b;
        if (this.#headLength === 1) continue;
        if ((b & 0x80) !== 0) {
          if (this.#headLength === 5) {
            throw _packetError(
              "the broker sent a packet whose length is not MQTT (more than 4 bytes of it)",
            );
          }
          continue;
        }
        this.#header(out);
      } else {
        i = this.#readVariable(chunk, i, out);
      }
    }
    return out;
  }

  /** A fixed header is whole: decides what to do with its packet. */
  #header(out: Uint8Array[]): void {
    const head = this.#head;
    let remaining = 0;
    for (let k = this.#headLength - 1; k >= 1; k--) {
      remaining = remaining * 128 + (head[k] & 0x7f);
    }
    this.#remaining = remaining;
    const publish = head[0] >> 4 === 3;
    if (remaining <= this.#max) {
      this.#pass(out, remaining);
    } else if (!publish) {
      if (remaining <= this.#max + _HEADROOM) this.#pass(out, remaining);
      else {
        throw _packetError(
          `a packet of ${this.#headLength + remaining} bytes (type ${
            head[0] >> 4
          }) is over maxPayloadBytes (${this.#max})`,
        );
      }
    } else {
      this.#variable ??= Buffer.alloc(2 + 65535 + 2 + 4);
      this.#variableLength = 0;
      this.#state = VARIABLE;
    }
  }

  /** Passes on the fixed header, then `left` bytes. */
  #pass(out: Uint8Array[], left: number): void {
    out.push(Buffer.from(this.#head.subarray(0, this.#headLength)));
    this.#headLength = 0;
    this.#left = left;
    this.#state = left === 0 ? HEADER : PASS;
  }

  /**
   * How many bytes of a PUBLISH's variable header are needed: its topic,
   * packet id and (MQTT 5) properties' length; 0 once they are there.
   */
  #need(): number {
    const v = this.#variable!;
    const n = this.#variableLength;
    if (n < 2) return 2;
    const qos = (this.#head[0] >> 1) & 3;
    const base = 2 + v.readUInt16BE(0) + (qos > 0 ? 2 : 0);
    if (n < base) return base;
    if (!this.#v5) return 0;
    if (n === base) return base + 1;
    if ((v[n - 1] & 0x80) === 0) return 0;
    if (n - base === 4) {
      throw _packetError(
        "the broker sent a PUBLISH whose properties' length is not MQTT",
      );
    }
    return n + 1;
  }

  /** Reads a PUBLISH's variable header from `chunk` at `i`; returns where it stopped. */
  #readVariable(chunk: Uint8Array, i: number, out: Uint8Array[]): number {
    const v = this.#variable!;
    for (let need = this.#need(); need > 0; need = this.#need()) {
      if (need > this.#remaining) {
        throw _packetError(
          "the broker sent a PUBLISH whose topic is longer than the packet",
        );
      }
      const n = Math.min(need - this.#variableLength, chunk.length - i);
      v.set(chunk.subarray(i, i + n), this.#variableLength);
      this.#variableLength += n;
      i += n;
      if (this.#variableLength < need) return i;
    }
    const read = this.#variableLength;
    let properties = 0;
    if (this.#v5) {
      const qos = (this.#head[0] >> 1) & 3;
      const base = 2 + v.readUInt16BE(0) + (qos > 0 ? 2 : 0);
      for (let k = read - 1; k >= base; k--) {
        properties = properties * 128 + (v[k] & 0x7f);
      }
    }
    const payload = this.#remaining - read - properties;
    if (payload < 0) {
      throw _packetError(
        "the broker sent a PUBLISH whose properties are longer than the packet",
      );
    }
    if (payload > this.#max || this.#remaining > this.#max + _HEADROOM) {
      out.push(this.#standIn(payload));
      this.#headLength = 0;
      this.#left = this.#remaining - read;
      this.#state = this.#left === 0 ? HEADER : SKIP;
    } else {
      this.#pass(out, this.#remaining - read);
      out.push(Buffer.from(v.subarray(0, read)));
    }
    return i;
  }

  /** The PUBLISH that stands for the one read past. */
  #standIn(payload: number): Buffer {
    const v = this.#variable!;
    const topicLength = v.readUInt16BE(0);
    const qos = (this.#head[0] >> 1) & 3;
    const topic = v.toString("utf8", 2, 2 + Math.min(topicLength, 800));
    const body = Buffer.from(JSON.stringify({
      payload,
      packet: this.#headLength + this.#remaining,
      topic: topic.length > 200 ? topic.slice(0, 200) : topic,
    }));
    const name = Buffer.from(_TOO_LARGE_TOPIC);
    const id = qos > 0 ? v.subarray(2 + topicLength, 4 + topicLength) : [];
    const variable = Buffer.concat([
      Buffer.of(name.length >> 8, name.length & 0xff),
      name,
      Buffer.from(id),
      this.#v5 ? Buffer.of(0) : Buffer.alloc(0),
    ]);
    const length = variable.length + body.length;
    return Buffer.concat([
      Buffer.of(this.#head[0]),
      _varint(length),
      variable,
      body,
    ]);
  }
}

/**
 * An MQTT variable byte integer (a packet's remaining length, a property
 * length).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _varint } from "./_mqtt_size_guard.ts";
 *
 * assert.deepEqual([..._varint(127)], [0x7f]);
 * assert.deepEqual([..._varint(268_435_455)], [0xff, 0xff, 0xff, 0x7f]);
 * ```
 */
export function _varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** The `code` of the error that ends a connection at a packet refused. */
export const _TOO_LARGE_CODE = "ERR_MQTT_TOO_LARGE";

/** An error that ends the connection (MQTT.js reports one with a `code`). */
function _packetError(message: string): Error {
  return Object.assign(new Error(message), { code: _TOO_LARGE_CODE });
}

/**
 * The sizes and topic of a PUBLISH the guard read past, from the packet
 * that stands for it; `undefined` for any other packet.
 */
export function _tooLarge(
  packet: { topic: string; payload: Uint8Array | string },
): _TooLarge | undefined {
  if (packet.topic !== _TOO_LARGE_TOPIC) return undefined;
  try {
    const text = typeof packet.payload === "string"
      ? packet.payload
      : Buffer.from(packet.payload).toString("utf8");
    const { payload, packet: size, topic } = JSON.parse(text);
    return { payload, packet: size, topic };
  } catch {
    return undefined;
  }
}

/**
 * Makes `stream` (a socket MQTT.js made) pass what it reads through a
 * new {@linkcode _PublishSizeGuard} on its way to MQTT.js, which pipes
 * it to its parser: back pressure holds as before, and writes go to the
 * socket as they did. A packet the guard refuses destroys the stream with
 * its error, which MQTT.js reports and follows with a reconnection.
 * `onChunk`, when given, hears of each chunk's size before it is read.
 */
export function _guardStream<S extends Duplex>(
  stream: S,
  options: _GuardOptions,
  onChunk?: (bytes: number) => void,
): S {
  const guard = new _PublishSizeGuard(options);
  const pipe = stream.pipe.bind(stream);
  (stream as { pipe: unknown }).pipe = (
    destination: Writable,
    pipeOptions?: { end?: boolean },
  ): Writable => {
    const through = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        onChunk?.(chunk.length);
        let pieces: Uint8Array[];
        try {
          pieces = guard.feed(chunk);
        } catch (e) {
          done();
          stream.destroy(e as Error);
          return;
        }
        for (const piece of pieces) this.push(piece);
        done();
      },
    });
    pipe(through);
    return through.pipe(destination, pipeOptions);
  };
  return stream;
}
