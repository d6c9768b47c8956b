/**
 * `_PublishSizeGuard`, the bytes between the broker and MQTT.js: what it
 * passes on, however the socket cuts them, and what it refuses.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  _HEADROOM,
  _PublishSizeGuard,
  _TOO_LARGE_TOPIC,
  _tooLarge,
  _varint,
} from "../../src/components/_mqtt_size_guard.ts";

const varint = _varint;

/** A PUBLISH; `properties` (MQTT 5) are its properties' bytes. */
function publish(
  topic: string,
  payload: Buffer,
  { qos = 1, id = 9, properties }: {
    qos?: 0 | 1 | 2;
    id?: number;
    properties?: Buffer;
  } = {},
): Buffer {
  const name = Buffer.from(topic);
  const variable = Buffer.concat([
    Buffer.of(name.length >> 8, name.length & 0xff),
    name,
    qos > 0 ? Buffer.of(id >> 8, id & 0xff) : Buffer.alloc(0),
    properties === undefined
      ? Buffer.alloc(0)
      : Buffer.concat([varint(properties.length), properties]),
  ]);
  return Buffer.concat([
    Buffer.of(0x30 | (qos << 1)),
    varint(variable.length + payload.length),
    variable,
    payload,
  ]);
}

/** What the guard passes on of `input`, given `size` bytes at a time. */
function through(
  guard: _PublishSizeGuard,
  input: Buffer,
  size: number,
): Buffer {
  const out: Uint8Array[] = [];
  for (let i = 0; i < input.length; i += size) {
    out.push(...guard.feed(input.subarray(i, i + size)));
  }
  return Buffer.concat(out);
}

const PINGRESP = Buffer.of(0xd0, 0);
const SUBACK = Buffer.of(0x90, 3, 0, 1, 1);

test("_PublishSizeGuard passes packets within the bound as they are and puts a stand-in of the same QoS and id for a larger PUBLISH, however the bytes are cut (MQTT 3.1.1)", () => {
  const max = 300;
  const input = Buffer.concat([
    SUBACK,
    publish("a/b", Buffer.alloc(max, 1), { qos: 1, id: 1 }),
    publish("a/c", Buffer.alloc(max + 1, 2), { qos: 2, id: 2 }),
    PINGRESP,
    publish("a/d", Buffer.alloc(5000, 3), { qos: 0 }),
    publish("a/e", Buffer.from("next"), { qos: 1, id: 3 }),
  ]);
  const standIn = (topic: string, size: number, qos: 0 | 2, id: number) =>
    publish(
      _TOO_LARGE_TOPIC,
      Buffer.from(JSON.stringify({
        payload: size,
        packet: publish(topic, Buffer.alloc(size), { qos, id }).length,
        topic,
      })),
      { qos, id },
    );
  const expected = Buffer.concat([
    SUBACK,
    publish("a/b", Buffer.alloc(max, 1), { qos: 1, id: 1 }),
    standIn("a/c", max + 1, 2, 2),
    PINGRESP,
    standIn("a/d", 5000, 0, 0),
    publish("a/e", Buffer.from("next"), { qos: 1, id: 3 }),
  ]);
  for (const size of [1, 2, 3, 7, 64, 301, 4096, input.length]) {
    const guard = new _PublishSizeGuard({
      maxPayloadBytes: max,
      protocolVersion: 4,
    });
    assert.deepEqual(through(guard, input, size), expected, `by ${size}`);
  }
});

test("_PublishSizeGuard (MQTT 5) bounds the payload, properties apart, and refuses a PUBLISH whose topic and properties take more than the headroom", () => {
  const max = 1000;
  const props = (n: number) =>
    // A user property: name "k", a value of n - 6 bytes.
    Buffer.concat([
      Buffer.of(0x26, 0, 1, 0x6b, (n - 6) >> 8, (n - 6) & 0xff),
      Buffer.alloc(n - 6, 0x76),
    ]);
  const within = publish("t", Buffer.alloc(max), { properties: props(600) });
  const over = publish("t", Buffer.alloc(max + 1), { properties: props(10) });
  // A small payload, properties past the headroom (user properties may
  // repeat up to the packet's size).
  const heavy = publish("t", Buffer.alloc(10), {
    properties: Buffer.concat(
      Array.from({ length: 3 }, () => props(60_000)),
    ),
  });
  assert.ok(heavy.length > max + _HEADROOM);
  const guard = new _PublishSizeGuard({
    maxPayloadBytes: max,
    protocolVersion: 5,
  });
  const out = through(guard, Buffer.concat([within, over, heavy]), 100);
  const standIn = (payload: number, packet: number) =>
    publish(
      _TOO_LARGE_TOPIC,
      Buffer.from(JSON.stringify({ payload, packet, topic: "t" })),
      { properties: Buffer.alloc(0) },
    );
  assert.deepEqual(
    out,
    Buffer.concat([
      within,
      standIn(max + 1, over.length),
      standIn(10, heavy.length),
    ]),
  );
});

test("_tooLarge reads a stand-in's sizes and topic, and nothing of another packet", () => {
  assert.deepEqual(
    _tooLarge({
      topic: _TOO_LARGE_TOPIC,
      payload: Buffer.from('{"payload":5,"packet":12,"topic":"a"}'),
    }),
    { payload: 5, packet: 12, topic: "a" },
  );
  assert.equal(
    _tooLarge({
      topic: "a",
      payload: Buffer.from('{"payload":5,"packet":12,"topic":"a"}'),
    }),
    undefined,
  );
});

test("_PublishSizeGuard ends the connection at another packet larger than the bound, naming its size, and at a length that is not MQTT", () => {
  const guard = new _PublishSizeGuard({
    maxPayloadBytes: 10,
    protocolVersion: 4,
  });
  // A SUBACK of 200,000 bytes: only its header is read.
  const suback = Buffer.concat([Buffer.of(0x90), varint(200_000)]);
  assert.throws(
    () => guard.feed(suback),
    (e: Error & { code?: string }) =>
      e.code === "ERR_MQTT_TOO_LARGE" &&
      e.message ===
        "a packet of 200004 bytes (type 9) is over maxPayloadBytes (10)",
  );
  assert.throws(
    () =>
      new _PublishSizeGuard({ maxPayloadBytes: 10, protocolVersion: 4 })
        .feed(Buffer.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)),
    /whose length is not MQTT/,
  );
  // A topic longer than the packet.
  assert.throws(
    () =>
      new _PublishSizeGuard({ maxPayloadBytes: 10, protocolVersion: 4 })
        .feed(Buffer.of(0x30, 20, 0xff, 0xff)),
    /topic is longer than the packet/,
  );
});
