/**
 * The meters `mqtt/In` and `mqtt/Out` share (declared identically by both,
 * as one meter name is one metric), and the series one process writes.
 *
 * @module
 */
import type { Context } from "../engine/component.ts";
import type { Meter, MeterSpec } from "../engine/meters.ts";

/**
 * Why a connection ended or an attempt failed: the fixed values of
 * `mqtt_disconnects_total`'s `reason` label.
 */
export const _DISCONNECT_REASONS = [
  "refused",
  "unreachable",
  "network",
  "keepalive",
  "broker",
  "stopped",
] as const;

/** One of {@linkcode _DISCONNECT_REASONS}. */
export type _DisconnectReason = typeof _DISCONNECT_REASONS[number];

/** Why a message was given up: `mqtt_dropped_total`'s `reason` label. */
export const _DROP_REASONS = [
  "invalid",
  "refused",
  "disconnected",
  "stopped",
  "unsubscribed",
  "too_large",
] as const;

/** One of {@linkcode _DROP_REASONS}. */
export type _DropReason = typeof _DROP_REASONS[number];

const DIRECTION = {
  name: "direction",
  help:
    "in: received from the broker (mqtt/In); out: published to it (mqtt/Out)",
  values: ["in", "out"],
} as const;

/**
 * The meters of both MQTT components, as METRICS.md lists them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _MQTT_METERS } from "./_mqtt_meters.ts";
 *
 * assert.ok(_MQTT_METERS.some((m) => m.name === "mqtt_connected"));
 * ```
 */
export const _MQTT_METERS: readonly MeterSpec[] = [
  {
    name: "mqtt_connected",
    type: "gauge",
    help: "1 while the process is connected to its MQTT broker, else 0.",
    moves:
      "Set to 1 when the broker accepts the connection (CONNACK) and to 0 when it ends or an attempt fails; 0 while a broker is down or refuses the credentials.",
  },
  {
    name: "mqtt_connects_total",
    type: "counter",
    help: "Connections to the MQTT broker that the broker accepted.",
    moves:
      "Once per accepted connection, the first and every reconnection; a rise with mqtt_disconnects_total is a flapping link.",
  },
  {
    name: "mqtt_disconnects_total",
    type: "counter",
    help:
      "Connections to the MQTT broker that ended, and attempts that failed, by reason.",
    moves:
      "Once per ended connection or failed attempt; reconnection follows with a backoff (doubling from the first delay up to the cap), so a broker that stays down adds one a cap interval at most.",
    labels: [{
      name: "reason",
      help:
        "refused: the broker refused the connection (bad credentials, not authorized); unreachable: no connection could be made (refused port, DNS, TLS, timeout; or MQTT.js could not make a client, reported once and not retried); network: an established connection broke; keepalive: the broker stopped answering pings; broker: the broker closed it with a DISCONNECT (MQTT 5; a session taken over by another client with the same client id is often only a closed connection, network); stopped: the flow stopped",
      values: _DISCONNECT_REASONS,
    }],
  },
  {
    name: "mqtt_messages_total",
    type: "counter",
    help:
      "MQTT messages received from the broker (in) and published to it (out).",
    moves:
      "in: once per message mqtt/In receives, before the flow takes it; out: once per message mqtt/Out published, when the broker acknowledged it (QoS 1 and 2) or it was written (QoS 0).",
    labels: [DIRECTION],
  },
  {
    name: "mqtt_payload_bytes_total",
    type: "counter",
    unit: "bytes",
    help:
      "Bytes of MQTT message payloads received (in) and published (out), headers and topics not included.",
    moves: "With mqtt_messages_total, by the payload's size.",
    labels: [DIRECTION],
  },
  {
    name: "mqtt_in_flight_messages",
    type: "gauge",
    help:
      "Messages between the broker and the flow: received but not yet taken by the flow (mqtt/In), or published and not yet acknowledged (mqtt/Out).",
    moves:
      "mqtt/In: 1 while a message waits for room in the flow (it is acknowledged to the broker only once taken); mqtt/Out: up to its in-flight window (the process's concurrency), waiting for PUBACK or PUBCOMP.",
  },
  {
    name: "mqtt_dropped_total",
    type: "counter",
    help: "MQTT messages given up, by reason.",
    moves:
      "invalid: a payload mqtt/In could not read in its format (not JSON) or a message mqtt/Out could not publish (no topic, a wildcard topic); refused: the broker refused a publish (MQTT 5 reason code); disconnected: a QoS 0 publish lost with its connection; stopped: a publish still unacknowledged when the flow stopped; unsubscribed: a message mqtt/In received on a topic none of its filters matches (a persistent session kept the subscription of an earlier graph), acknowledged and not sent on; too_large: a message mqtt/In received whose payload is larger than its maxPayloadBytes, read past as it arrived (never held whole), acknowledged and not sent on. Each goes to the error port (or the log) as a failure of the process, except unsubscribed ones: only the first after each start of the flow is reported, as a warning (the drop is by design); and too_large ones: at most one report a minute, a warning naming the size, the bound and how many more were dropped since the last.",
    labels: [{
      name: "reason",
      help:
        "invalid, refused, disconnected, stopped, unsubscribed or too_large (see the text)",
      values: _DROP_REASONS,
    }],
  },
];

/** The series one MQTT process writes, asked for once in `setup`. */
export interface _MqttSeries {
  connected: Meter;
  connects: Meter;
  disconnects: Record<_DisconnectReason, Meter>;
  messages: Meter;
  bytes: Meter;
  inFlight: Meter;
  dropped: Record<_DropReason, Meter>;
}

/**
 * The series of `ctx`'s process for `direction` (`in` for mqtt/In, `out`
 * for mqtt/Out), asked for once (in `setup`): every one of them is
 * exported from the start, at 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Context } from "../engine/component.ts";
 * import { ProcessMeters } from "../engine/meters.ts";
 * import { _MQTT_METERS, _mqttSeries } from "./_mqtt_meters.ts";
 *
 * const meters = new ProcessMeters("mqtt/In", _MQTT_METERS);
 * const ctx = { meter: (n: string, l?: Record<string, string>) => meters.meter(n, l) };
 * const series = _mqttSeries(ctx as unknown as Context<unknown>, "in");
 * series.messages.add(1);
 * assert.equal(meters.meter("mqtt_messages_total", { direction: "in" }).value, 1);
 * assert.equal(meters.list.length, 17);
 * ```
 */
export function _mqttSeries(
  ctx: Context<unknown>,
  direction: "in" | "out",
): _MqttSeries {
  const disconnects = {} as Record<_DisconnectReason, Meter>;
  for (const reason of _DISCONNECT_REASONS) {
    disconnects[reason] = ctx.meter("mqtt_disconnects_total", { reason });
  }
  const dropped = {} as Record<_DropReason, Meter>;
  for (const reason of _DROP_REASONS) {
    dropped[reason] = ctx.meter("mqtt_dropped_total", { reason });
  }
  return {
    connected: ctx.meter("mqtt_connected"),
    connects: ctx.meter("mqtt_connects_total"),
    disconnects,
    messages: ctx.meter("mqtt_messages_total", { direction }),
    bytes: ctx.meter("mqtt_payload_bytes_total", { direction }),
    inFlight: ctx.meter("mqtt_in_flight_messages"),
    dropped,
  };
}
