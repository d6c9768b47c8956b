/**
 * The settings of `mqtt/In` and `mqtt/Out` (their control ports), each
 * checked by a `parse` when the graph is validated, and the MQTT.js client
 * options made from them when the process starts (the password read from
 * its secret reference, the TLS files read from disk).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import type { IClientOptions } from "mqtt";
import { describeValue, parseDuration } from "../engine/component.ts";
import { excerpt } from "../engine/excerpt.ts";
import { urlShown, urlTextShown } from "../runtime/fetch_error.ts";
import { _PEM_CAP } from "./_bounded_read.ts";
import { _MQTT_MAX_REMAINING } from "./_mqtt_size_guard.ts";
import {
  _NO_SECRETS,
  _parseSecretRef,
  type _SecretRef,
  type SecretPolicy,
} from "./_secret.ts";

/** The URL schemes MQTT.js connects with, and their default ports. */
const SCHEMES: Readonly<Record<string, number>> = {
  "mqtt:": 1883,
  "tcp:": 1883,
  "mqtts:": 8883,
  "ssl:": 8883,
  "tls:": 8883,
  "ws:": 80,
  "wss:": 443,
};

/** A broker's address, from {@linkcode _parseBrokerUrl}. */
export interface _Broker {
  /** MQTT.js's protocol name: `mqtt`, `mqtts`, `ws`, `wss`, ... */
  readonly protocol: string;
  /** The host name, lower case, IPv6 without brackets. */
  readonly host: string;
  /** The port (the scheme's default when the URL has none). */
  readonly port: number;
  /** The path, for WebSocket URLs (`/mqtt`); `""` otherwise. */
  readonly path: string;
  /**
   * The URL as given (it holds no credentials); a message shows it with
   * `urlShown`, without its query, which may hold a token.
   */
  readonly url: string;
}

/**
 * Parses a broker URL (`mqtt://host:1883`, `mqtts://`, `ws://host/mqtt`,
 * `wss://`, `tcp://`, `ssl://`). A URL with credentials in it is refused,
 * without echoing it: the password belongs in the `password` port as a
 * secret reference. A refusal shows the URL without its query (a
 * WebSocket URL's may hold a token) and without credentials.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseBrokerUrl } from "./_mqtt_options.ts";
 *
 * assert.deepEqual(_parseBrokerUrl("mqtt://Broker.local"), {
 *   protocol: "mqtt", host: "broker.local", port: 1883, path: "", url: "mqtt://Broker.local",
 * });
 * assert.equal(_parseBrokerUrl("wss://[::1]:8084/mqtt").host, "::1");
 * assert.throws(() => _parseBrokerUrl("mqtt//broker"), /expected a broker URL/);
 * assert.throws(() => _parseBrokerUrl("http://broker"), /scheme "http:"/);
 * assert.throws(() => _parseBrokerUrl("mqtt://u:pw@broker"), (e: Error) => !e.message.includes("pw"));
 * assert.throws(() => _parseBrokerUrl("ws://b :1/mqtt?token=s3cret"), (e: Error) => e.message.endsWith('received "ws://b :1/mqtt"'));
 * ```
 */
export function _parseBrokerUrl(value: unknown): _Broker {
  const expected =
    'expected a broker URL such as "mqtt://host:1883" (schemes mqtt, mqtts, tcp, ssl, tls, ws, wss)';
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`${expected}, received ${describeValue(value)}`);
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new RangeError(
      `${expected}, received ${JSON.stringify(urlTextShown(value.trim()))}`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new RangeError(
      `a broker URL must not hold credentials (not shown): give the username on the username port and the password as a secret reference ("env:NAME" or "file:NAME") on the password port`,
    );
  }
  const defaultPort = SCHEMES[url.protocol];
  if (defaultPort === undefined) {
    throw new RangeError(
      `${expected}; scheme ${JSON.stringify(url.protocol)} is not one of them`,
    );
  }
  if (url.hostname === "") {
    throw new RangeError(`${expected}; it names no host`);
  }
  if (url.port === "0") {
    // MQTT.js would connect to 1883 instead: no broker listens on port 0.
    throw new RangeError(`${expected}; port 0 names no broker's port`);
  }
  const ws = url.protocol === "ws:" || url.protocol === "wss:";
  if (!ws && (url.pathname !== "" && url.pathname !== "/")) {
    throw new RangeError(
      `${expected}; an ${url.protocol.slice(0, -1)} URL has no path, received ${
        JSON.stringify(excerpt(url.pathname, 60))
      }`,
    );
  }
  return Object.freeze({
    protocol: url.protocol.slice(0, -1),
    host: url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase(),
    port: url.port === "" ? defaultPort : Number(url.port),
    path: ws ? url.pathname + url.search : "",
    url: value.trim(),
  });
}

/**
 * Whether `broker` is on a flow's `allow.hosts` list. An entry is a host
 * (`broker.local`, any port), a host and port (`broker.local:8883`,
 * `[::1]:1883`), or `*.example.com` (any host under example.com); names
 * compare without regard to case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _hostAllowed, _parseBrokerUrl } from "./_mqtt_options.ts";
 *
 * const b = _parseBrokerUrl("mqtts://Edge.example.com");
 * assert.equal(_hostAllowed(b, ["edge.example.com"]), true);
 * assert.equal(_hostAllowed(b, ["edge.example.com:1883"]), false);
 * assert.equal(_hostAllowed(b, ["*.example.com"]), true);
 * assert.equal(_hostAllowed(b, []), false);
 * ```
 */
export function _hostAllowed(
  broker: { host: string; port: number },
  hosts: readonly string[],
): boolean {
  for (const raw of hosts) {
    const entry = raw.trim().toLowerCase();
    let host = entry;
    let port: number | undefined;
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
    if (m !== null) {
      host = m[1];
      port = Number(m[2]);
    }
    host = host.replace(/^\[(.*)\]$/, "$1");
    if (port !== undefined && port !== broker.port) continue;
    if (host === broker.host) return true;
    if (
      host.startsWith("*.") && broker.host.endsWith(host.slice(1)) &&
      broker.host.length > host.length - 1
    ) return true;
  }
  return false;
}

/**
 * `_parseBrokerUrl`, refusing a broker whose host is not on `hosts` (a
 * flow's `allow.hosts`) when a list is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _brokerParser } from "./_mqtt_options.ts";
 *
 * const parse = _brokerParser(["broker.local"]);
 * assert.equal(parse("mqtt://broker.local").port, 1883);
 * assert.throws(() => parse("mqtt://elsewhere"), /not in this flow's allow list \(allow.hosts: "broker.local"\)/);
 * assert.throws(() => parse("ws://elsewhere/mqtt?token=s3cret"), /^RangeError: cannot use broker "ws:\/\/elsewhere\/mqtt": /);
 * ```
 */
export function _brokerParser(
  hosts: readonly string[] | undefined,
): (value: unknown) => _Broker {
  if (hosts === undefined) return _parseBrokerUrl;
  return (value) => {
    const broker = _parseBrokerUrl(value);
    if (!_hostAllowed(broker, hosts)) {
      throw new RangeError(
        `cannot use broker ${
          JSON.stringify(excerpt(urlShown(new URL(broker.url)), 120))
        }: its host is not in this flow's allow list (allow.hosts: ${
          hosts.length === 0
            ? "none"
            : excerpt(hosts.map((h) => JSON.stringify(h)).join(", "), 200)
        })`,
      );
    }
    return broker;
  };
}

/** Throws unless `topic` is a non-empty string of at most 65535 bytes without NUL. */
function _topicText(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `expected ${what} (a non-empty string), received ${describeValue(value)}`,
    );
  }
  if (value.includes("\u0000")) {
    throw new RangeError(`${what} must not contain the NUL character`);
  }
  if (
    value.length > 65535 / 3 && new TextEncoder().encode(value).length > 65535
  ) {
    throw new RangeError(`${what} must be at most 65535 bytes long`);
  }
  return value;
}

/**
 * Whether `topic` (of a message received) matches the topic filter
 * `filter` (checked by {@linkcode _parseTopicFilter}): `+` one level, `#`
 * the rest (and the level above it), a shared subscription (`$share/g/`,
 * EMQX's `$queue/` and `$exclusive/`) by its filter;
 * a topic that starts with `$` only by a filter that names that level.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _topicMatches } from "./_mqtt_options.ts";
 *
 * assert.ok(_topicMatches("sensors/+/temp", "sensors/s1/temp"));
 * assert.ok(_topicMatches("sensors/#", "sensors"));
 * assert.ok(_topicMatches("$share/g/a/#", "a/b/c"));
 * assert.ok(_topicMatches("$queue/a/+", "a/b"));
 * assert.ok(!_topicMatches("sensors/+", "sensors/s1/temp"));
 * assert.ok(!_topicMatches("#", "$SYS/uptime"));
 * ```
 */
export function _topicMatches(filter: string, topic: string): boolean {
  let f = filter.split("/");
  if (f[0] === "$share") f = f.slice(2);
  // EMQX's queue and exclusive subscriptions deliver on the filter's topics.
  else if (f[0] === "$queue" || f[0] === "$exclusive") f = f.slice(1);
  const t = topic.split("/");
  if (t[0].startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Checks one topic filter (a subscription): `+` fills a whole level, `#` is
 * the whole last level; `$share/group/filter` is a shared subscription.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseTopicFilter } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseTopicFilter("sensors/+/temp"), "sensors/+/temp");
 * assert.equal(_parseTopicFilter("sensors/#"), "sensors/#");
 * assert.throws(() => _parseTopicFilter("sensors/te#"), /"#" must be the whole last level/);
 * assert.throws(() => _parseTopicFilter("sensors/a+"), /"\+" must be a whole level/);
 * ```
 */
export function _parseTopicFilter(value: unknown): string {
  const filter = _topicText(value, "a topic filter");
  let levels = filter.split("/");
  if (levels[0] === "$share") {
    if (levels.length < 3 || levels[1] === "" || /[+#]/.test(levels[1])) {
      throw new RangeError(
        `a shared subscription is "$share/GROUP/FILTER", received ${
          JSON.stringify(excerpt(filter, 120))
        }`,
      );
    }
    levels = levels.slice(2);
  }
  levels.forEach((level, i) => {
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      throw new RangeError(
        `in topic filter ${
          JSON.stringify(excerpt(filter, 120))
        }, "#" must be the whole last level (as in "a/b/#")`,
      );
    }
    if (level.includes("+") && level !== "+") {
      throw new RangeError(
        `in topic filter ${
          JSON.stringify(excerpt(filter, 120))
        }, "+" must be a whole level (as in "a/+/c")`,
      );
    }
  });
  return filter;
}

/**
 * `mqtt/In`'s `topic` port: one topic filter or a list of them (at least
 * one, or its JSON as .fbp text gives it), each checked by
 * {@linkcode _parseTopicFilter}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseTopicFilters } from "./_mqtt_options.ts";
 *
 * assert.deepEqual(_parseTopicFilters("a/#"), ["a/#"]);
 * assert.deepEqual(_parseTopicFilters(["a/+", "b"]), ["a/+", "b"]);
 * assert.deepEqual(_parseTopicFilters('["a/+", "b"]'), ["a/+", "b"]);
 * assert.throws(() => _parseTopicFilters([]), /at least one/);
 * ```
 */
export function _parseTopicFilters(value: unknown): readonly string[] {
  // A list written in .fbp text arrives as its JSON.
  if (typeof value === "string" && value.startsWith("[")) {
    try {
      const list = JSON.parse(value);
      if (Array.isArray(list)) value = list;
    } catch {
      // A filter that starts with "[": checked as one.
    }
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      throw new RangeError(
        "expected a topic filter or a list of at least one, received an empty list",
      );
    }
    return Object.freeze(value.map(_parseTopicFilter));
  }
  return Object.freeze([_parseTopicFilter(value)]);
}

/**
 * Checks a topic name to publish to: no wildcards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseTopicName } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseTopicName("alerts/hot"), "alerts/hot");
 * assert.throws(() => _parseTopicName("alerts/#"), /must not hold wildcards \(\+ or #\), received "alerts\/#"/);
 * ```
 */
export function _parseTopicName(value: unknown): string {
  const topic = _topicText(value, "a topic");
  if (topic.includes("+") || topic.includes("#")) {
    throw new RangeError(
      `a topic to publish to must not hold wildcards (+ or #), received ${
        JSON.stringify(excerpt(topic, 120))
      }`,
    );
  }
  return topic;
}

/** Quality of service: 0 (at most once), 1 (at least once), 2 (exactly once). */
export type _QoS = 0 | 1 | 2;

/**
 * Parses a QoS: 0, 1 or 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseQos } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseQos(1), 1);
 * assert.throws(() => _parseQos(3), /0, 1 or 2/);
 * ```
 */
export function _parseQos(value: unknown): _QoS {
  if (value === 0 || value === 1 || value === 2) return value;
  throw new RangeError(
    `expected a QoS of 0, 1 or 2, received ${describeValue(value)}`,
  );
}

/**
 * Parses the MQTT protocol version: 4 (MQTT 3.1.1) or 5 (MQTT 5);
 * `"3.1.1"` and `"5"` are taken too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseProtocolVersion } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseProtocolVersion("3.1.1"), 4);
 * assert.equal(_parseProtocolVersion(5), 5);
 * assert.throws(() => _parseProtocolVersion(3), /4 \(MQTT 3.1.1\) or 5/);
 * ```
 */
export function _parseProtocolVersion(value: unknown): 4 | 5 {
  if (value === 4 || value === "4" || value === "3.1.1") return 4;
  if (value === 5 || value === "5" || value === "5.0") return 5;
  throw new RangeError(
    `expected a protocol version of 4 (MQTT 3.1.1) or 5 (MQTT 5), received ${
      describeValue(value)
    }`,
  );
}

/**
 * Parses a keepalive: a duration (`"60s"`; a bare number is seconds, as
 * MQTT counts it) from 0 (off) to 65535 s, in whole seconds rounded up.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseKeepalive } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseKeepalive(30), 30);
 * assert.equal(_parseKeepalive("30"), 30);
 * assert.equal(_parseKeepalive("1m"), 60);
 * assert.equal(_parseKeepalive("1500ms"), 2);
 * assert.throws(() => _parseKeepalive("20h"), /at most 65535 s/);
 * ```
 */
export function _parseKeepalive(value: unknown): number {
  // A bare number is seconds, also as the string an .fbp IIP gives.
  const seconds = typeof value === "number"
    ? value
    : typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value)
    ? Number(value)
    : parseDuration(value) / 1000;
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(
      `expected a keepalive such as 60 (seconds) or "1m", received ${
        describeValue(value)
      }`,
    );
  }
  const whole = Math.ceil(seconds);
  if (whole > 65535) {
    throw new RangeError(
      `expected a keepalive of at most 65535 s, received ${
        describeValue(value)
      }`,
    );
  }
  return whole;
}

/**
 * Parses a reconnect delay: a duration from 100 ms to 1 h, in ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseReconnectDelay } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseReconnectDelay("2s"), 2000);
 * assert.throws(() => _parseReconnectDelay(5), /from 100 ms to 1 h/);
 * ```
 */
export function _parseReconnectDelay(value: unknown): number {
  const ms = parseDuration(value);
  if (ms >= 100 && ms <= 3_600_000) return ms;
  throw new RangeError(
    `expected a reconnect delay from 100 ms to 1 h, received ${
      describeValue(value)
    }`,
  );
}

/**
 * Parses a client id: 1 to 23 characters is what every broker must take;
 * longer ones (up to 65535 bytes) most brokers take too, so only the
 * characters are checked (no NUL, printable).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseClientId } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseClientId("edge-7"), "edge-7");
 * assert.throws(() => _parseClientId(""), /non-empty string/);
 * ```
 */
export function _parseClientId(value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `expected a client id (a non-empty string), received ${
        describeValue(value)
      }`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value) || value.length > 1000) {
    throw new RangeError(
      `a client id holds up to 1000 printable characters, received ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

/**
 * Parses a user name (not a secret: it may appear in messages).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseUsername } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseUsername("weir"), "weir");
 * ```
 */
export function _parseUsername(value: unknown): string {
  if (typeof value === "string" && value !== "" && value.length <= 1000) {
    return value;
  }
  throw new TypeError(
    `expected a user name (a non-empty string), received ${
      describeValue(value)
    }`,
  );
}

/**
 * The `parse` of a TLS file's port (a CA, a client certificate or key): a
 * file name in the operator's secrets folder (`--secrets-dir`), or an
 * absolute path inside it, checked by real path with `secrets` (the same
 * places a `file:` secret may come from: a key is a secret, and a
 * certificate's content reaches the broker). The file is read when the
 * process starts, bounded (1 MiB) and without blocking.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, realpathSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { _tlsPathParser } from "./_mqtt_options.ts";
 * import { SecretPolicy } from "./_secret.ts";
 *
 * const dir = realpathSync(mkdtempSync(join(tmpdir(), "weir-tls-")));
 * const parse = _tlsPathParser(new SecretPolicy({ dir }));
 * assert.equal(parse("ca.pem"), join(dir, "ca.pem"));
 * assert.throws(() => parse("/etc/ssl/ca.pem"), /outside the secrets folder/);
 * assert.throws(() => _tlsPathParser(new SecretPolicy())("ca.pem"), /--secrets-dir/);
 * ```
 */
export function _tlsPathParser(
  secrets: SecretPolicy = _NO_SECRETS,
): (value: unknown) => string {
  return (value) => {
    if (typeof value !== "string" || value === "" || value.includes("\0")) {
      throw new TypeError(
        `expected a PEM file's name in the secrets folder (or its absolute path there), received ${
          describeValue(value)
        }`,
      );
    }
    return secrets.filePath(
      value,
      `TLS file ${JSON.stringify(excerpt(value, 120))}`,
    );
  };
}

/** What `mqtt/In` makes of a payload. */
export type _Format = "text" | "json" | "bytes";

/**
 * Parses `mqtt/In`'s `format`: `"text"` (UTF-8 string), `"json"` (the
 * parsed value) or `"bytes"` (a `Uint8Array`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseFormat } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseFormat("json"), "json");
 * assert.throws(() => _parseFormat("xml"), /"text", "json" or "bytes"/);
 * ```
 */
export function _parseFormat(value: unknown): _Format {
  if (value === "text" || value === "json" || value === "bytes") return value;
  throw new RangeError(
    `expected a format of "text", "json" or "bytes", received ${
      describeValue(value)
    }`,
  );
}

/** `mqtt/In`'s default `maxPayloadBytes`: 16 MiB. */
export const _DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;

/**
 * Parses `mqtt/In`'s `maxPayloadBytes`: an integer from 1 to 268,435,455
 * (the largest packet MQTT can carry), in bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseMaxPayloadBytes } from "./_mqtt_options.ts";
 *
 * assert.equal(_parseMaxPayloadBytes(1048576), 1048576);
 * assert.equal(_parseMaxPayloadBytes(268435455), 268435455);
 * assert.throws(() => _parseMaxPayloadBytes(0), /from 1 to 268435455 \(bytes\), received number 0/);
 * assert.throws(() => _parseMaxPayloadBytes("16MiB"), /received string "16MiB"/);
 * ```
 */
export function _parseMaxPayloadBytes(value: unknown): number {
  if (
    typeof value === "number" && Number.isInteger(value) && value >= 1 &&
    value <= _MQTT_MAX_REMAINING
  ) {
    return value;
  }
  throw new RangeError(
    `expected a payload size from 1 to ${_MQTT_MAX_REMAINING} (bytes), received ${
      describeValue(value)
    }`,
  );
}

/** A last will, from {@linkcode _parseWill}. */
export interface _Will {
  readonly topic: string;
  readonly payload: string;
  readonly qos: _QoS;
  readonly retain: boolean;
}

/**
 * Parses a last will: `{ topic, payload, qos?, retain? }`, the message the
 * broker publishes when the connection is lost without a clean disconnect.
 * A payload that is not a string is sent as JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseWill } from "./_mqtt_options.ts";
 *
 * assert.deepEqual(_parseWill({ topic: "edge/1/status", payload: "offline", retain: true }), {
 *   topic: "edge/1/status", payload: "offline", qos: 0, retain: true,
 * });
 * assert.throws(() => _parseWill({ payload: "x" }), /a last will is/);
 * ```
 */
export function _parseWill(value: unknown): _Will {
  const shape =
    'a last will is an object { "topic": "...", "payload": ..., "qos": 0|1|2, "retain": true|false }';
  if (
    value === null || typeof value !== "object" || Array.isArray(value) ||
    !("topic" in value)
  ) {
    throw new TypeError(`${shape}, received ${describeValue(value)}`);
  }
  const w = value as Record<string, unknown>;
  for (const key of Object.keys(w)) {
    if (!["topic", "payload", "qos", "retain"].includes(key)) {
      throw new RangeError(`${shape}; it has no field ${JSON.stringify(key)}`);
    }
  }
  if (w.retain !== undefined && typeof w.retain !== "boolean") {
    throw new TypeError(
      `a last will's retain is true or false, received ${
        describeValue(w.retain)
      }`,
    );
  }
  return Object.freeze({
    topic: _parseTopicName(w.topic),
    payload: typeof w.payload === "string"
      ? w.payload
      : w.payload === undefined
      ? ""
      : JSON.stringify(w.payload),
    qos: w.qos === undefined ? 0 : _parseQos(w.qos),
    retain: w.retain === true,
  });
}

/** Re-exported for the port declarations. */
export { _parseSecretRef };

/** The connection settings both components take, as their ports hold them. */
export interface _ConnectionSettings {
  broker: _Broker;
  clientId: string | undefined;
  clean: boolean;
  keepalive: number;
  protocolVersion: 4 | 5;
  username: string | undefined;
  password: _SecretRef | undefined;
  will: _Will | undefined;
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  rejectUnauthorized: boolean;
  /** Connect timeout, ms. */
  connectTimeout: number;
}

/**
 * The MQTT.js options for `settings`: the password read from its
 * reference and the TLS files from the secrets folder, both through
 * `secrets` (so errors name the reference or the file, never a secret). `clientId` is the one to use (the port's, or
 * one made up by the caller). Reconnection is left to the caller's
 * backoff: `reconnectPeriod` is its first delay.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _clientOptions, _parseBrokerUrl } from "./_mqtt_options.ts";
 * import { SecretPolicy } from "./_secret.ts";
 *
 * const options = _clientOptions({
 *   broker: _parseBrokerUrl("mqtt://127.0.0.1:1883"), clientId: undefined, clean: true,
 *   keepalive: 60, protocolVersion: 4, username: "weir", password: { kind: "env", name: "PW" },
 *   will: undefined, ca: undefined, cert: undefined, key: undefined, rejectUnauthorized: true,
 *   connectTimeout: 10_000,
 * }, "weir-1", 1000, new SecretPolicy({ env: ["PW"], environment: { PW: "hunter2" } }));
 * assert.equal(options.password, "hunter2");
 * assert.equal(options.port, 1883);
 * ```
 */
export function _clientOptions(
  settings: _ConnectionSettings,
  clientId: string,
  reconnectPeriod: number,
  secrets: SecretPolicy = _NO_SECRETS,
): IClientOptions {
  const b = settings.broker;
  const options: IClientOptions = {
    protocol: b.protocol as IClientOptions["protocol"],
    host: b.host,
    hostname: b.host,
    port: b.port,
    clientId,
    clean: settings.clean,
    keepalive: settings.keepalive,
    protocolVersion: settings.protocolVersion,
    reconnectPeriod,
    reconnectOnConnackError: true,
    connectTimeout: settings.connectTimeout,
    // mqtt/In subscribes on each connection that has no session: MQTT.js
    // would subscribe a second time.
    resubscribe: false,
    // QoS 0 publishes made while offline are not queued without bound:
    // mqtt/Out waits for the connection itself.
    queueQoSZero: false,
    // MQTT.js's debug logging formats every packet; weir never reads it.
    log: _noop,
  };
  if (settings.protocolVersion === 5 && !settings.clean) {
    // MQTT 5 ends a session with its connection unless the client asks
    // for an expiry: a persistent session lasts as MQTT 3.1.1's does.
    options.properties = { sessionExpiryInterval: 0xffffffff };
  }
  if (b.path !== "") options.path = b.path;
  if (settings.username !== undefined) options.username = settings.username;
  if (settings.password !== undefined) {
    options.password = secrets.resolve(settings.password).reveal();
  }
  if (settings.will !== undefined) {
    const w = settings.will;
    options.will = {
      topic: w.topic,
      payload: new TextEncoder().encode(w.payload) as never,
      qos: w.qos,
      retain: w.retain,
    };
  }
  // Bounded and non-blocking: a FIFO or /dev/zero here must not hold
  // the server (the policy checks the real path again on the descriptor).
  const read = (what: string, path: string | undefined) =>
    path === undefined ? undefined : Buffer.from(
      secrets.readFile(path, _PEM_CAP, `the TLS ${what} file ${path}`),
    );
  const ca = read("CA", settings.ca);
  const cert = read("certificate", settings.cert);
  const key = read("key", settings.key);
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  // Here, so that a file that is not PEM (or a key that is not the
  // certificate's) stops the start, named: MQTT.js is loaded and connects
  // later. Bun checks the files when a TLS context is made; Deno's context
  // takes anything and its connection skips what does not parse (a CA
  // file that is not PEM was "unable to verify the first certificate" at
  // every attempt, the file never named), so the PEM shape is checked here
  // on both.
  if (ca !== undefined) {
    _checkPem(ca, "CERTIFICATE", `the TLS CA file ${settings.ca}`);
    _checkTls({ ca }, `the TLS CA file ${settings.ca}`);
  }
  if (cert !== undefined) {
    _checkPem(cert, "CERTIFICATE", `the TLS certificate file ${settings.cert}`);
  }
  if (key !== undefined) {
    _checkPem(key, "PRIVATE KEY", `the TLS key file ${settings.key}`);
  }
  if (cert !== undefined || key !== undefined) {
    const what = [
      cert !== undefined ? `the TLS certificate file ${settings.cert}` : "",
      key !== undefined ? `the TLS key file ${settings.key}` : "",
    ].filter((x) => x !== "").join(" with ");
    if (cert !== undefined && key !== undefined) _checkPair(cert, key, what);
    _checkTls({ cert, key }, what);
  }
  // MQTT.js sends the host name as SNI itself (never an IP address, which
  // TLS refuses there).
  options.rejectUnauthorized = settings.rejectUnauthorized;
  return options;
}

/**
 * Throws, naming `what`, unless `file` holds a PEM block of `kind`
 * (`CERTIFICATE`, or `PRIVATE KEY` with any algorithm before it) and every
 * such block's body is base64. Text around the blocks is allowed, as
 * OpenSSL allows it (`openssl pkcs12` writes "Bag Attributes" there).
 */
function _checkPem(file: Buffer, kind: string, what: string): void {
  const text = file.toString("latin1");
  // A body stops at the next "-----": one pass over the file, however many
  // BEGIN lines without an END it holds.
  const blocks = [
    ...text.matchAll(
      /-----BEGIN ([A-Z0-9 ]+)-----\r?\n((?:[^-]|-(?!----))*)-----END \1-----/g,
    ),
  ].filter((m) => m[1] === kind || m[1].endsWith(` ${kind}`));
  if (blocks.length === 0) {
    throw new Error(
      `${what} cannot be used: it holds no PEM block "-----BEGIN ${kind}-----"`,
    );
  }
  for (const [, label, body] of blocks) {
    // Lines with a colon are RFC 1421 headers (Proc-Type, DEK-Info).
    const b64 = body.split("\n").filter((line) => !line.includes(":"))
      .join("").replace(/[\r\t ]/g, "");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new Error(
        `${what} cannot be used: its "${label}" block is not base64`,
      );
    }
  }
}

/**
 * Throws, naming `what`, when `key` is not the private key of `cert`'s
 * (first) certificate: Bun's TLS context refuses that pair, Deno's took it
 * and failed at the handshake.
 */
function _checkPair(cert: Buffer, key: Buffer, what: string): void {
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (e) {
    throw new Error(`${what} cannot be used: ${(e as Error).message}`);
  }
  if (!matches) {
    throw new Error(
      `${what} cannot be used: the key is not the certificate's (KEY_VALUES_MISMATCH)`,
    );
  }
}

/** Throws, naming `what`, when a TLS context cannot be made of `files`. */
function _checkTls(
  files: { ca?: Buffer; cert?: Buffer; key?: Buffer },
  what: string,
): void {
  try {
    createSecureContext(files);
  } catch (e) {
    throw new Error(`${what} cannot be used: ${(e as Error).message}`);
  }
}

function _noop(): void {}
