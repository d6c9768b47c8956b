/**
 * What `mqtt/In` makes of MQTT.js's answer to its SUBSCRIBE.
 *
 * MQTT.js 5.16 calls a `subscribe` callback with an error whenever the
 * broker's SUBACK holds a failure (0x80 on MQTT 3.1.1, a reason code from
 * 0x80 up on MQTT 5): `Subscribe error: Not authorized`, with the SUBACK as
 * the callback's third argument (its `granted`, a code per filter in the
 * order sent), and the filters the broker granted beside it subscribed. A
 * subscription the connection ended before the broker answered gets an
 * error and no SUBACK (`Connection closed`). The second argument holds the
 * QoS asked for, never the broker's codes.
 *
 * @module
 */
import { excerpt } from "../engine/excerpt.ts";

/** How a subscription ended (see {@linkcode _subackOutcome}). */
export type _SubackOutcome =
  /** Every filter granted. */
  | { kind: "granted" }
  /** The broker answered and refused one or more filters: a failure. */
  | { kind: "refused"; message: string; refused: _RefusedFilter[] }
  /** No answer: the connection ended first; subscribed again on reconnect. */
  | { kind: "lost"; message: string }
  /**
   * Any other error: a SUBACK that does not fit the SUBSCRIBE, a filter
   * MQTT.js would not send.
   */
  | { kind: "failed"; message: string };

/** A filter the broker refused. */
export interface _RefusedFilter {
  /** Its place in the `topic` setting, from 0. */
  index: number;
  /** The broker's reason code (0x80 and up). */
  reasonCode: number;
}

/** The reason codes a SUBACK may refuse with (MQTT 5, 3.9.3; 0x80 in 3.1.1). */
const _REASONS: Readonly<Record<number, string>> = {
  0x80: "unspecified error",
  0x83: "implementation specific error",
  0x87: "not authorized",
  0x8f: "topic filter invalid",
  0x91: "packet identifier in use",
  0x97: "quota exceeded",
  0x9e: "shared subscriptions not supported",
  0xa1: "subscription identifiers not supported",
  0xa2: "wildcard subscriptions not supported",
};

/** A reason code as a report writes it: `0x87, not authorized`. */
function _reason(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, "0")}`;
  const name = _REASONS[code];
  return name === undefined ? hex : `${hex}, ${name}`;
}

/**
 * What the callback of `client.subscribe(topics, ...)` was told, for the
 * `topics` sent in that order: granted, refused (with each refused filter's
 * place in `topics` and the broker's reason code; the message names them
 * first, then the filters, cut to excerpts), lost with the connection, or
 * failed otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _subackOutcome } from "./_mqtt_suback.ts";
 *
 * const topics = ["ok/#", "secret/#"];
 * const refused = _subackOutcome(
 *   topics,
 *   new Error("Subscribe error: Not authorized"),
 *   { granted: [1, 0x87] },
 * );
 * assert.equal(refused.kind, "refused");
 * assert.equal(
 *   refused.kind === "refused" && refused.message,
 *   'the broker refused the subscription to topic[1] (reason code 0x87, not authorized): "secret/#"',
 * );
 * assert.deepEqual(_subackOutcome(topics, null, { granted: [1, 1] }), { kind: "granted" });
 * assert.equal(_subackOutcome(topics, new Error("Connection closed"), undefined).kind, "lost");
 * assert.deepEqual(_subackOutcome(topics, new Error("Invalid topic a/#/b"), undefined), {
 *   kind: "failed",
 *   message: "cannot subscribe: Invalid topic a/#/b",
 * });
 * ```
 */
export function _subackOutcome(
  topics: readonly string[],
  err: Error | null | undefined,
  packet: { granted?: readonly unknown[] } | undefined,
): _SubackOutcome {
  const codes = packet?.granted;
  const refused: _RefusedFilter[] = [];
  if (Array.isArray(codes)) {
    codes.forEach((code, index) => {
      // MQTT 3.1.1's 0x80 and MQTT 5's reason codes alike: the high bit.
      if (typeof code === "number" && code >= 0x80 && index < topics.length) {
        refused.push({ index, reasonCode: code });
      }
    });
  }
  if (refused.length > 0) {
    const what = refused.map((r) =>
      `topic[${r.index}] (reason code ${_reason(r.reasonCode)})`
    );
    const which = what.length === 1
      ? what[0]
      : `${what.slice(0, -1).join(", ")} and ${what.at(-1)}`;
    // The places and codes first and whole: a report keeps 200 characters.
    const filters = refused.map((r) =>
      JSON.stringify(excerpt(topics[r.index]!, 60))
    ).join(", ");
    return {
      kind: "refused",
      message: `the broker refused the subscription${
        refused.length === 1 ? "" : "s"
      } to ${which}: ${filters}`,
      refused,
    };
  }
  if (err === null || err === undefined) return { kind: "granted" };
  // MQTT.js's words for a SUBSCRIBE the connection's end left unanswered
  // (or one made as it ended); any other error without a SUBACK (a filter
  // MQTT.js refuses to send) would fail again on the next connection.
  if (
    codes === undefined &&
    /^(Connection closed|client disconnecting)/.test(err.message)
  ) {
    return {
      kind: "lost",
      message:
        `subscribing again once reconnected: the connection ended before the broker answered the subscription (${err.message})`,
    };
  }
  return { kind: "failed", message: `cannot subscribe: ${err.message}` };
}
