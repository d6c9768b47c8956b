/**
 * MQTT components on MQTT.js: `mqtt/In` subscribes to topic filters and
 * sends each message into the flow; `mqtt/Out` publishes the messages it
 * takes. MQTT 3.1.1 and 5, QoS 0/1/2, retain, `+`/`#` wildcards, client
 * id, clean or persistent sessions, keepalive, last will, TLS, a user name
 * and a password given only as a secret reference (`env:NAME`,
 * `file:NAME`, from where the operator allows secrets), reconnection with a capped backoff.
 *
 * Back pressure both ways. `mqtt/In` reads no further packet while its
 * `out` connection is full, and acknowledges a QoS 1 or 2 message only
 * once the flow took it, so the broker holds what the flow cannot take yet
 * (up to its own queue limits) and nothing piles up in weir; a message
 * larger than its `maxPayloadBytes` is read past without being held. `mqtt/Out`
 * keeps up to its in-flight window (its process's `concurrency`, default
 * 100) of publishes waiting for the broker's acknowledgement (PUBACK,
 * PUBCOMP) and takes the next message only when one is acknowledged; while
 * the broker is away it waits for it.
 *
 * The settings are control ports, checked when the graph is validated
 * (a broker URL that does not parse, a wildcard in a topic to publish to, a
 * password that is not a secret reference are validation problems with
 * their place in the graph), and read when the flow starts: a secret that
 * cannot be read stops the start with its reference named. They are read
 * once, at the start: a setting fed by a connection rather than an IIP is
 * not seen.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { IClientOptions, IClientPublishOptions } from "mqtt";
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
  type InPortSpec,
} from "../engine/component.ts";
import { ProcessError, type ReportLevel } from "../engine/errors.ts";
import { excerpt } from "../engine/excerpt.ts";
import { restrictable } from "../engine/flow_allow.ts";
import { _jsonDepthProblem } from "../engine/_json_depth.ts";
import { _MqttConnection } from "./_mqtt_connection.ts";
import { _jsonWriteProblem, MAX_JSON_DEPTH } from "./_to_json.ts";
import { _subackOutcome } from "./_mqtt_suback.ts";
import { _HEADROOM, type _TooLarge, _tooLarge } from "./_mqtt_size_guard.ts";
import { _ReportGate } from "./_report_gate.ts";
import { _NO_SECRETS, type SecretPolicy } from "./_secret.ts";
import { _MQTT_METERS, type _MqttSeries, _mqttSeries } from "./_mqtt_meters.ts";
import {
  _brokerParser,
  _clientOptions,
  type _ConnectionSettings,
  _DEFAULT_MAX_PAYLOAD,
  type _Format,
  _parseClientId,
  _parseFormat,
  _parseKeepalive,
  _parseMaxPayloadBytes,
  _parseProtocolVersion,
  _parseQos,
  _parseReconnectDelay,
  _parseTopicFilters,
  _parseTopicName,
  _parseUsername,
  _parseWill,
  type _QoS,
  _tlsPathParser,
  _topicMatches,
} from "./_mqtt_options.ts";

/**
 * A message as `mqtt/In` sends it, and as `mqtt/Out` takes it (where only
 * `payload` is required).
 */
export interface MqttMessage {
  /** The topic it was published to. */
  topic: string;
  /** The payload, as the `format` setting reads it (text, JSON or bytes). */
  payload: unknown;
  /** Its quality of service. */
  qos: 0 | 1 | 2;
  /** Whether it is a retained message (sent on subscribing). */
  retain: boolean;
}

/** Options of {@linkcode mqttIn} and {@linkcode mqttOut}. */
export interface MqttComponentOptions {
  /**
   * The hosts a broker may be on (a flow's `allow.hosts`): `host`,
   * `host:port` or `*.domain`. Default: any host.
   */
  hosts?: readonly string[];
  /**
   * Where the password and the TLS files may come from (the operator's
   * secrets folder and variables). Default nothing: every `env:` and
   * `file:` reference and TLS file is refused at validation.
   */
  secrets?: SecretPolicy;
}

/** The connection ports both components have. */
function _connectionPorts(
  hosts: readonly string[] | undefined,
  secrets: SecretPolicy,
): Record<string, InPortSpec> {
  const tlsPath = _tlsPathParser(secrets);
  return {
    broker: {
      type: "string",
      control: true,
      required: true,
      parse: _brokerParser(hosts),
      description:
        'The broker\'s URL: "mqtt://host:1883", "mqtts://host:8883", "ws://host/mqtt", "wss://..." (no credentials in it).',
    },
    clientId: {
      type: "string",
      control: true,
      parse: _parseClientId,
      description:
        'The client id. Default "weir-<flow>-<process>" with a persistent session (the session is found again after a restart), a random one with a clean session.',
    },
    clean: {
      type: "boolean",
      control: true,
      default: true,
      parse: _boolean("clean"),
      description:
        "true (default): a clean session; false: a persistent one, in which the broker keeps the subscriptions and queues QoS 1 and 2 messages while the process is away.",
    },
    keepalive: {
      type: "any",
      control: true,
      default: 60,
      parse: _parseKeepalive,
      description:
        'Keepalive: a ping when nothing else was sent for this long, 60 (seconds, default) or "30s"; 0 turns it off.',
    },
    protocolVersion: {
      type: "any",
      control: true,
      default: 4,
      parse: _parseProtocolVersion,
      description:
        '4 (MQTT 3.1.1, default) or 5 (MQTT 5); "3.1.1" and "5" are taken too.',
    },
    username: {
      type: "string",
      control: true,
      parse: _parseUsername,
      description: "The user name, if the broker wants one.",
    },
    password: {
      type: "string",
      control: true,
      parse: (value) => secrets.parse(value),
      secret: true,
      description:
        'The password, as a secret reference only: "env:NAME" (an environment variable the operator allowed with --secret-env) or "file:NAME" (a file in the operator\'s --secrets-dir, one trailing newline dropped). A password written out is a validation error.',
    },
    will: {
      type: "object",
      control: true,
      parse: _parseWill,
      description:
        'A last will the broker publishes when the connection is lost: { "topic", "payload", "qos", "retain" }.',
    },
    ca: {
      type: "string",
      control: true,
      parse: tlsPath,
      description:
        "TLS: the CA certificates (PEM) to trust: a file name in the operator's --secrets-dir (or its absolute path there).",
    },
    cert: {
      type: "string",
      control: true,
      parse: tlsPath,
      description:
        "TLS: the client certificate (PEM): a file name in the operator's --secrets-dir (or its absolute path there).",
    },
    key: {
      type: "string",
      control: true,
      parse: tlsPath,
      description:
        "TLS: the client key (PEM): a file name in the operator's --secrets-dir (or its absolute path there).",
    },
    rejectUnauthorized: {
      type: "boolean",
      control: true,
      default: true,
      parse: _boolean("rejectUnauthorized"),
      description:
        "TLS: refuse a broker whose certificate does not verify (default true).",
    },
    reconnect: {
      type: "duration",
      control: true,
      default: 1000,
      parse: _parseReconnectDelay,
      description:
        'The first reconnect delay (default "1s"); each failed attempt doubles it, up to reconnectMax.',
    },
    reconnectMax: {
      type: "duration",
      control: true,
      default: 30_000,
      parse: _parseReconnectDelay,
      description: 'The longest reconnect delay (default "30s").',
    },
  };
}

function _boolean(port: string): (value: unknown) => boolean {
  return (value) => {
    if (typeof value === "boolean") return value;
    throw new TypeError(
      `expected true or false for ${port}, received ${describeValue(value)}`,
    );
  };
}

/** The connection settings of `ctx`'s process, from its control ports. */
function _settings(ctx: Context<unknown>, name: string): _ConnectionSettings {
  const broker = ctx.control<_ConnectionSettings["broker"] | undefined>(
    "broker",
  );
  if (broker === undefined) {
    throw new TypeError(
      `${name} needs a broker URL (an IIP on its broker port), and none was given`,
    );
  }
  return {
    broker,
    clientId: ctx.control("clientId"),
    clean: ctx.control("clean"),
    keepalive: ctx.control("keepalive"),
    protocolVersion: ctx.control("protocolVersion"),
    username: ctx.control("username"),
    password: ctx.control("password"),
    will: ctx.control("will"),
    ca: ctx.control("ca"),
    cert: ctx.control("cert"),
    key: ctx.control("key"),
    rejectUnauthorized: ctx.control("rejectUnauthorized"),
    connectTimeout: 10_000,
  };
}

/** The client id to use: the port's, or one made from the flow and process. */
function _clientId(ctx: Context<unknown>, s: _ConnectionSettings): string {
  if (s.clientId !== undefined) return s.clientId;
  if (!s.clean) {
    // Stable, so a restarted flow finds its persistent session again.
    return `weir-${ctx.network}-${ctx.process}`.replace(/[^A-Za-z0-9_-]/g, "_");
  }
  return `weir-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * The `report` of a process's connection: a broker down, refusing the
 * credentials or lost is tried again, so it is a warning naming
 * `component`, not a failure of the process, and the connection accepted
 * after it an info (`connected to broker ... again`). The connection writes its
 * messages with the broker and any URL in the socket's words shown without
 * credentials or query (`_MqttConnection`'s text).
 */
function _connectionReport(
  ctx: Context<unknown>,
  component: string,
): (message: string, level: ReportLevel) => void {
  return (message, level) => _report(ctx, message, undefined, level, component);
}

/**
 * Reports a fault that does not end the process (a payload that does not
 * parse, a refused subscription, a connection tried again) through
 * `ctx.report`, as the engine reports a failed activation: an error (the
 * default) is counted in `weir_process_errors_total` as every built-in's
 * failures are; a warning (`level` `"warning"`, a condition the process
 * goes on through) or an info (`"info"`, its end) is not, and is named
 * with its `component`. It goes as
 * a `ProcessError` to the error port when connected, else to the
 * network's `error` event, whose log `weir serve` rate-limits (a publisher
 * sending garbage must not write the device's log line by line); an error
 * port that cannot take it (a full connection whose policy is "error") is
 * reported on the event. `why` may be the error itself (a send the flow
 * refused), which keeps its kind (`overflow`).
 */
function _report(
  ctx: Context<unknown>,
  why: string | Error,
  input?: unknown,
  level: ReportLevel = "error",
  component?: string,
): void {
  ctx.report(
    typeof why === "string"
      ? new ProcessError(why, {
        network: ctx.network,
        process: ctx.process,
        component,
        port: "",
        kind: "exception",
        level,
        input,
      })
      : why,
    input,
    { level },
  );
}

interface InState {
  series: _MqttSeries;
  options: IClientOptions;
  settings: _ConnectionSettings;
  conn: _MqttConnection | undefined;
}

/**
 * `mqtt/In` that reaches only the brokers on `options.hosts` (when given):
 * what a flow with `properties.allow.hosts` gets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mqttIn } from "./mqtt.ts";
 *
 * const In = mqttIn({ hosts: ["broker.local"] });
 * assert.equal(In.name, "mqtt/In");
 * assert.throws(() => In.inPorts.broker.parse!("mqtt://elsewhere"), /allow list/);
 * ```
 */
export function mqttIn(options: MqttComponentOptions = {}): Component {
  const secrets = options.secrets ?? _NO_SECRETS;
  return defineComponent<InState>({
    name: "mqtt/In",
    description:
      "Subscribes to MQTT topic filters and sends each message ({ topic, payload, qos, retain }) on out; QoS 1 and 2 messages are acknowledged once the flow took them.",
    inPorts: {
      ..._connectionPorts(options.hosts, secrets),
      topic: {
        type: "any",
        control: true,
        required: true,
        parse: _parseTopicFilters,
        description:
          'The topic filter, or a list of them, to subscribe to: "sensors/+/temp", "sensors/#", "$share/group/sensors/#".',
      },
      qos: {
        type: "integer",
        control: true,
        default: 0,
        parse: _parseQos,
        description:
          "The subscription's QoS: 0 (default), 1 or 2. With 1 or 2 and a persistent session nothing is lost across a restart.",
      },
      maxPayloadBytes: {
        type: "integer",
        control: true,
        default: _DEFAULT_MAX_PAYLOAD,
        parse: _parseMaxPayloadBytes,
        description:
          `The largest payload taken, in bytes (default ${_DEFAULT_MAX_PAYLOAD}, 16 MiB; at most 268435455, MQTT's largest). A larger message is read past as it arrives, never held whole, acknowledged, not sent on, and counted in mqtt_dropped_total{reason="too_large"} (reported at most once a minute, as a warning naming its size and the bound); the messages after it come as before.`,
      },
      format: {
        type: "string",
        control: true,
        default: "text",
        parse: _parseFormat,
        description:
          'How payloads are read: "text" (UTF-8, default), "json" (the parsed value; one that does not parse, or nests more than 1000 levels, goes to error) or "bytes" (a Uint8Array).',
      },
    },
    outPorts: {
      out: {
        type: "object",
        description: "Each message: { topic, payload, qos, retain }.",
      },
      error: {
        type: "object",
        description:
          'A ProcessError for each payload that does not parse and each subscription the broker refuses (when connected; else the log): failures, counted in weir_process_errors_total. A refusal names each refused filter by its place in topic, from 0, and the broker\'s reason code ("the broker refused the subscription to topic[1] (reason code 0x87, not authorized): "secret/#""); the filters it granted are subscribed. A connection refused or lost, which is tried again, is one of level "warning" that says so ("process "In" (mqtt/In): retrying in 1 s (backing off up to 30 s): cannot connect to broker ..."), not a failure, and the connection made after it one of level "info" ("connected to broker ... again after 4 attempts (down 12.3 s)"; after connections lost within 10 s, once one has held 10 s); so is a subscription the connection cut short (subscribed again once reconnected), and the first message on a topic none of its topics matches (an earlier filter a persistent session keeps), acknowledged and dropped by design (connect once with clean true, or use another clientId, to end that filter); at most once a minute, a message larger than maxPayloadBytes, read past and acknowledged ("dropped a message larger than maxPayloadBytes (16777216): its payload is 209715200 bytes; on topic ..."); and, at most once a minute, a packet whose bytes have been coming for a quarter of the keepalive without it arriving whole, for which the connection is kept and pinged rather than ended ("a packet from broker ws://... is taking more than 15 s to arrive (612345 bytes so far): the connection is kept while its bytes come"; a WebSocket listener may send a large message slowly: mosquitto 2.0 at about 41 KB/s).',
      },
    },
    meters: _MQTT_METERS,
    setup(ctx) {
      const settings = _settings(ctx, "mqtt/In");
      return {
        series: _mqttSeries(ctx, "in"),
        // Here, so that a secret that cannot be read stops the start.
        options: _clientOptions(
          settings,
          _clientId(ctx, settings),
          ctx.control("reconnect"),
          secrets,
        ),
        settings,
        conn: undefined,
      };
    },
    async run(ctx) {
      const state = ctx.state;
      const series = state.series;
      const topics = ctx.control<readonly string[]>("topic");
      const qos = ctx.control<_QoS>("qos");
      const format = ctx.control<_Format>("format");
      const out = ctx.out.out;
      let stopping = false;
      /** Whether a message of a filter no longer subscribed was reported. */
      let unsubscribedReported = false;
      /** Whether the broker answered a subscription (granted or refused). */
      let answered = false;
      // Only a persistent session keeps the filters of an earlier graph.
      const clean = ctx.control<boolean>("clean") !== false;
      /** A send waiting for room in the flow, and what acknowledges it. */
      let pending: Promise<void> | undefined;
      const maxPayloadBytes = ctx.control<number>("maxPayloadBytes");
      /** Too large messages are reported at most once a minute. */
      const tooLargeReports = new _ReportGate();
      /**
       * Counts a message the guard read past, and reports it unless one
       * was reported within the minute: a publisher sending large
       * messages in a loop is a line a minute, saying how many.
       */
      const dropTooLarge = (m: _TooLarge) => {
        series.messages.add(1);
        series.bytes.add(m.payload);
        series.dropped.too_large.add(1);
        const more = tooLargeReports.pass();
        if (more < 0) return;
        const why = m.payload > maxPayloadBytes
          ? `its payload is ${m.payload} bytes`
          : `its topic and properties take ${
            m.packet - m.payload
          } bytes (at most ${_HEADROOM})`;
        // What and why first; the topic last, so that a cut report (200
        // characters) keeps the sizes.
        _report(
          ctx,
          `dropped a message larger than maxPayloadBytes (${maxPayloadBytes}): ${why}${
            more > 0 ? `; ${more} more dropped since the last such report` : ""
          }; on topic ${JSON.stringify(excerpt(m.topic, 60))}`,
          undefined,
          "warning",
          "mqtt/In",
        );
      };
      const conn = new _MqttConnection({
        client: state.options,
        backoffMs: ctx.control("reconnect"),
        maxBackoffMs: Math.max(
          ctx.control<number>("reconnect"),
          ctx.control<number>("reconnectMax"),
        ),
        meters: series,
        report: _connectionReport(ctx, "mqtt/In"),
        broker: new URL(state.settings.broker.url),
        user: state.settings.username,
        guard: {
          maxPayloadBytes,
          protocolVersion: state.settings.protocolVersion,
        },
        onConnect(sessionPresent, first) {
          // A persistent session keeps the subscriptions the broker
          // answered; a first connection subscribes anyway, in case the
          // topics changed, and one whose subscription the connection cut
          // short subscribes again.
          if (sessionPresent && !first && answered) return;
          // A list, not a map: the broker's codes come in its order, which
          // is the topic setting's (a map would put "1" before "a/b").
          conn.client.subscribe([...topics], { qos }, (err, _, packet) => {
            if (stopping) return;
            const outcome = _subackOutcome(topics, err, packet);
            if (outcome.kind !== "lost") answered = true;
            if (outcome.kind === "refused" || outcome.kind === "failed") {
              _report(ctx, outcome.message);
            } else if (outcome.kind === "lost") {
              // The connection's own report says it is tried again; this
              // one says the subscription follows it.
              _report(ctx, outcome.message, undefined, "warning", "mqtt/In");
            }
          });
        },
      });
      state.conn = conn;
      // Before the client's first event (MQTT.js is imported first).
      conn.onClient((client) =>
        client.handleMessage = (packet, done) => {
          // Stopping: neither taken nor acknowledged; a QoS 1 or 2 message
          // comes again in the next session.
          if (stopping) return;
          const payload = packet.payload as Buffer;
          const tooLarge = _tooLarge(packet);
          if (tooLarge !== undefined) {
            dropTooLarge(tooLarge);
            done();
            return;
          }
          series.messages.add(1);
          series.bytes.add(payload.length);
          if (
            !clean && !topics.some((f) => _topicMatches(f, packet.topic))
          ) {
            // A persistent session (clean false) keeps the subscriptions
            // of an earlier graph of this client id, which MQTT cannot
            // list: what they bring is acknowledged, not sent on.
            series.dropped.unsubscribed.add(1);
            if (!unsubscribedReported) {
              unsubscribedReported = true;
              // A warning, once: nothing failed, the message is dropped by
              // design. The topic comes last, so that the excerpt of a report
              // (200 characters) never cuts what happens and why; the metric
              // and how to end it are in the error port's docs and README.
              _report(
                ctx,
                `dropping messages none of its topics match, from an earlier graph's filter kept by the persistent session; the first on ${
                  JSON.stringify(excerpt(packet.topic, 40))
                }`,
                undefined,
                "warning",
                "mqtt/In",
              );
            }
            done();
            return;
          }
          let value: MqttMessage;
          try {
            value = {
              topic: packet.topic,
              payload: format === "text"
                ? payload.toString("utf8")
                : format === "json"
                ? _parseJson(payload.toString("utf8"))
                : payload,
              qos: packet.qos,
              retain: packet.retain,
            };
          } catch (e) {
            series.dropped.invalid.add(1);
            _report(
              ctx,
              // A topic may be 64 KiB: a short excerpt, so the reason fits too.
              `a payload of ${payload.length} bytes on topic ${
                JSON.stringify(excerpt(packet.topic, 60))
              } ${
                e instanceof _TooDeep
                  ? `is ${e.message}`
                  : `is not JSON (${(e as Error).message})`
              }`,
              { topic: packet.topic, payload },
            );
            done();
            return;
          }
          let sent: void | Promise<void>;
          try {
            sent = out.send(value);
          } catch (e) {
            // A full connection whose policy is "error": a failure of
            // kind overflow, as a process's send into one is.
            _report(ctx, e as Error, value);
            done();
            return;
          }
          if (sent === undefined) {
            done();
            return;
          }
          // The flow is full: read nothing more (TCP holds the broker back)
          // and acknowledge once it took the message.
          series.inFlight.set(1);
          conn.hold();
          pending = sent.then(
            () => {
              pending = undefined;
              series.inFlight.set(0);
              conn.release();
              if (!stopping || conn.connected) done();
            },
            (e: unknown) => {
              pending = undefined;
              series.inFlight.set(0);
              conn.release();
              _report(ctx, (e as Error)?.message ?? String(e), value);
              done();
            },
          );
        }
      );
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else {ctx.signal.addEventListener("abort", () => resolve(), {
            once: true,
          });}
      });
      stopping = true;
      // A message the flow was about to take: let it in and acknowledge it
      // (a drain moves the flow on; a stop ends the process anyway).
      if (pending !== undefined) await pending;
      if (state.settings.clean && conn.connected) {
        // A clean session ends its subscriptions; a persistent one keeps
        // them, so the broker queues for the next start.
        await Promise.race([
          conn.client.unsubscribeAsync([...topics]).catch(() => {}),
          new Promise((r) => setTimeout(r, 2000)),
        ]);
      }
      await conn.end(2000);
    },
    teardown(ctx) {
      ctx.state?.conn?.kill();
    },
  });
}

/**
 * `mqtt/In`: subscribes to `topic` (filters with `+` and `#`, one or a
 * list) on `broker` and sends each message as `{ topic, payload, qos,
 * retain }`, the payload read as `format` says. While `out` is full it
 * reads nothing more from the broker, and it acknowledges a QoS 1 or 2
 * message only once the flow took it. Reconnects with a backoff; a broker
 * that is down or refuses the credentials is reported once (error port or
 * log) and retried: a `ProcessError` of level `"warning"`, which says
 * what happens next (`retrying in 1 s`), never that the process failed,
 * and shows the broker URL without its query; once connected, one of
 * level `"info"` says so (`connected to broker ... again after 4 attempts
 * (down 12.3 s)`; after connections lost within 10 s, once one has held
 * 10 s, so that it is not the last word while the next is lost). A
 * subscription the broker
 * refuses is a failure naming each refused filter's place in `topic` and
 * the broker's reason code; one the connection cut short is a warning, and
 * is made again once reconnected. When the flow stops, a clean session
 * unsubscribes and disconnects; a persistent one disconnects and keeps its
 * subscriptions. A message whose payload is larger than `maxPayloadBytes`
 * (default 16 MiB) is read past as it arrives, never held whole,
 * acknowledged, counted in `mqtt_dropped_total{reason="too_large"}` and
 * reported at most once a minute, as a warning; the connection stays up.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MqttIn } from "./mqtt.ts";
 *
 * assert.equal(MqttIn.name, "mqtt/In");
 * assert.deepEqual(MqttIn.inPorts.topic.parse!("sensors/+/temp"), ["sensors/+/temp"]);
 * assert.throws(() => MqttIn.inPorts.broker.parse!("mqtt//nowhere"), /expected a broker URL/);
 * assert.throws(() => MqttIn.inPorts.password.parse!("hunter2"), (e: Error) => !e.message.includes("hunter2"));
 * ```
 */
export const MqttIn: Component = mqttInFor(_NO_SECRETS);

/**
 * `mqtt/In` taking its secrets as `secrets` allows, narrowing to a flow's
 * `allow.hosts` when its graph has one: what `builtins({ secrets })`
 * registers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mqttInFor } from "./mqtt.ts";
 * import { SecretPolicy } from "./_secret.ts";
 *
 * const In = mqttInFor(new SecretPolicy({ env: ["MQTT_PW"] }));
 * assert.deepEqual(In.inPorts.password.parse!("env:MQTT_PW"), { kind: "env", name: "MQTT_PW" });
 * assert.throws(() => In.inPorts.password.parse!("env:HOME"), /--secret-env HOME/);
 * ```
 */
export function mqttInFor(secrets: SecretPolicy): Component {
  return restrictable(
    mqttIn({ secrets }),
    (allow) => mqttIn({ hosts: allow.hosts ?? [], secrets }),
  );
}

interface OutState {
  series: _MqttSeries;
  settings: _ConnectionSettings;
  conn: _MqttConnection;
  /** Publish options by QoS and retain, made once. */
  publish: readonly IClientPublishOptions[];
}

const _PUBLISH_OPTIONS: readonly IClientPublishOptions[] = Object.freeze(
  [0, 1, 2].flatMap((qos) =>
    [false, true].map((retain) => Object.freeze({ qos: qos as _QoS, retain }))
  ),
);

/**
 * The payload as MQTT.js sends it: a string or bytes as they are, an
 * `ArrayBuffer` as its bytes, `undefined` as nothing, anything else as
 * JSON.
 */
function _payload(value: unknown): string | Buffer {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) {
    return Buffer.isBuffer(value)
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (value === undefined) return "";
  const problem = _jsonWriteProblem(value);
  if (problem !== undefined) {
    throw new TypeError(`cannot publish ${describeValue(value)}: ${problem}`);
  }
  const json = JSON.stringify(value);
  if (json === undefined) {
    throw new TypeError(
      `cannot publish ${describeValue(value)}: it has no JSON form`,
    );
  }
  return json;
}

function _isMessage(value: unknown): value is Partial<MqttMessage> {
  return value !== null && typeof value === "object" &&
    !Array.isArray(value) && !(value instanceof Uint8Array) &&
    "payload" in value;
}

/**
 * `mqtt/Out` that reaches only the brokers on `options.hosts` (when
 * given): what a flow with `properties.allow.hosts` gets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mqttOut } from "./mqtt.ts";
 *
 * const Out = mqttOut({ hosts: ["broker.local:1883"] });
 * const broker = Out.inPorts.broker.parse!("mqtt://broker.local") as { port: number };
 * assert.equal(broker.port, 1883);
 * assert.throws(() => Out.inPorts.broker.parse!("mqtts://broker.local"), /allow list/);
 * ```
 */
export function mqttOut(options: MqttComponentOptions = {}): Component {
  const secrets = options.secrets ?? _NO_SECRETS;
  return defineComponent<OutState>({
    name: "mqtt/Out",
    description:
      "Publishes each message to MQTT: { topic, payload, qos, retain } or a plain payload (the topic setting, when given, beats a message's topic); waits for the broker's acknowledgement beyond its in-flight window.",
    inPorts: {
      in: {
        description:
          "A message { topic?, payload, qos?, retain? } (its qos and retain beat the settings; its topic is used when the topic setting is not given), or a payload alone. Strings and bytes are sent as they are, other values as JSON.",
      },
      ..._connectionPorts(options.hosts, secrets),
      topic: {
        type: "string",
        control: true,
        parse: _parseTopicName,
        description:
          "The topic to publish every message to (no wildcards); leave it out to publish each message to its own topic.",
      },
      qos: {
        type: "integer",
        control: true,
        default: 0,
        parse: _parseQos,
        description:
          "QoS when a message gives none: 0 (default), 1 or 2. At 1 and 2 a message counts as sent once the broker acknowledged it.",
      },
      retain: {
        type: "boolean",
        control: true,
        default: false,
        parse: _boolean("retain"),
        description:
          "Whether the broker keeps the message for later subscribers, when a message does not say (default false).",
      },
    },
    outPorts: {
      error: {
        type: "object",
        description:
          'A ProcessError for each message that could not be published (no topic, a wildcard topic, refused by the broker) (when connected; else the log): failures, counted in weir_process_errors_total. A connection refused or lost, which is tried again, is one of level "warning" that says so, not a failure, and the connection made after it one of level "info" ("connected to broker ... again after 4 attempts (down 12.3 s)"; after connections lost within 10 s, once one has held 10 s).',
      },
    },
    // The in-flight window: publishes waiting for their acknowledgement.
    concurrency: 100,
    meters: _MQTT_METERS,
    setup(ctx) {
      const settings = _settings(ctx, "mqtt/Out");
      const series = _mqttSeries(ctx, "out");
      const client = _clientOptions(
        settings,
        _clientId(ctx, settings),
        ctx.control("reconnect"),
        secrets,
      );
      return {
        series,
        settings,
        publish: _PUBLISH_OPTIONS,
        conn: new _MqttConnection({
          client,
          backoffMs: ctx.control("reconnect"),
          maxBackoffMs: Math.max(
            ctx.control<number>("reconnect"),
            ctx.control<number>("reconnectMax"),
          ),
          meters: series,
          report: _connectionReport(ctx, "mqtt/Out"),
          broker: new URL(settings.broker.url),
          user: settings.username,
        }),
      };
    },
    process(value, ctx) {
      const state = ctx.state;
      let topic: unknown;
      let payload: string | Buffer;
      let qos: unknown;
      let retain: unknown;
      try {
        if (_isMessage(value)) {
          // The setting beats the message's topic: mqtt/In -> mqtt/Out
          // would otherwise publish back to the topic it came from, a loop.
          topic = ctx.control("topic") ?? value.topic;
          qos = value.qos ?? ctx.control("qos");
          retain = value.retain ?? ctx.control("retain");
          payload = _payload(value.payload);
        } else {
          topic = ctx.control("topic");
          qos = ctx.control("qos");
          retain = ctx.control("retain");
          payload = _payload(value);
        }
        if (topic === undefined) {
          throw new TypeError(
            "the message has no topic and the topic setting is not given",
          );
        }
        // The setting was checked at validation; a message's topic here.
        if (topic !== ctx.control("topic")) _parseTopicName(topic);
        if (qos !== 0 && qos !== 1 && qos !== 2) _parseQos(qos);
        if (typeof retain !== "boolean") {
          throw new TypeError(
            `a message's retain is true or false, received ${
              describeValue(retain)
            }`,
          );
        }
      } catch (e) {
        state.series.dropped.invalid.add(1);
        throw e;
      }
      return _publish(
        state,
        topic as string,
        payload,
        state.publish[(qos as number) * 2 + (retain ? 1 : 0)],
      );
    },
    async flush(ctx) {
      // Every publish was acknowledged (flush comes after the last
      // activation settled): a clean DISCONNECT.
      await ctx.state.conn.end(5000);
    },
    teardown(ctx) {
      ctx.state?.conn?.kill();
    },
  });
}

/**
 * Publishes one message: `undefined` when MQTT.js wrote a QoS 0 message at
 * once, else a promise that settles when the broker acknowledged it (or
 * refused it, or the connection lost a QoS 0 message).
 */
function _publish(
  state: OutState,
  topic: string,
  payload: string | Buffer,
  options: IClientPublishOptions,
): void | Promise<void> {
  const conn = state.conn;
  if (!conn.connected) {
    // QoS 0 is not queued by MQTT.js, and the rest would pile up in its
    // store: the activation waits for the broker (back pressure).
    const failure = conn.failure;
    if (failure !== undefined) throw failure;
    return conn.whenConnected().then(() => {
      if (conn.failure !== undefined) throw conn.failure;
      if (!conn.connected) {
        state.series.dropped.stopped.add(1);
        throw new Error("the flow stopped before the broker was reached");
      }
      return _publish(state, topic, payload, options);
    });
  }
  const series = state.series;
  const size = typeof payload === "string"
    ? Buffer.byteLength(payload)
    : payload.length;
  series.inFlight.add(1);
  let sync = true;
  let failed: Error | undefined;
  let settled = false;
  let resolve: (() => void) | undefined;
  let reject: ((e: Error) => void) | undefined;
  conn.client.publish(topic, payload, options, (err) => {
    series.inFlight.add(-1);
    if (err) {
      const reason = /closed|disconnect/i.test(err.message)
        ? (options.qos === 0 ? "disconnected" : "stopped")
        : "refused";
      series.dropped[reason].add(1);
      failed = new Error(
        `cannot publish to ${
          JSON.stringify(excerpt(topic, 120))
        }: ${err.message}`,
        { cause: err },
      );
    } else {
      series.messages.add(1);
      series.bytes.add(size);
    }
    settled = true;
    if (sync) return;
    if (failed !== undefined) reject!(failed);
    else resolve!();
  });
  sync = false;
  if (settled) {
    if (failed !== undefined) throw failed;
    return undefined;
  }
  return new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
}

/**
 * `mqtt/Out`: publishes each message it takes to `broker`: a message `{
 * topic?, payload, qos?, retain? }` or a plain payload. The `topic` setting,
 * when given, beats a message's topic (so that `mqtt/In -> mqtt/Out` does
 * not publish back where it read); a message's `qos` and `retain` beat the
 * settings. Strings and bytes go as they are, other values as JSON. Up to its in-flight window (the process's
 * `concurrency`, default 100) of publishes wait for the broker's
 * acknowledgement; beyond it the next message waits, and so does every
 * message while the broker is away. A message it cannot publish goes to
 * `error`. When the flow drains, what is in flight is acknowledged before
 * a clean disconnect.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MqttOut } from "./mqtt.ts";
 *
 * assert.equal(MqttOut.name, "mqtt/Out");
 * assert.equal(MqttOut.concurrency, 100);
 * assert.throws(() => MqttOut.inPorts.topic.parse!("alerts/#"), /must not hold wildcards/);
 * ```
 */
export const MqttOut: Component = mqttOutFor(_NO_SECRETS);

/**
 * `mqtt/Out` taking its secrets as `secrets` allows, narrowing to a flow's
 * `allow.hosts` when its graph has one: what `builtins({ secrets })`
 * registers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mqttOutFor } from "./mqtt.ts";
 * import { SecretPolicy } from "./_secret.ts";
 *
 * const Out = mqttOutFor(new SecretPolicy());
 * assert.throws(() => Out.inPorts.password.parse!("file:mqtt"), /--secrets-dir/);
 * ```
 */
export function mqttOutFor(secrets: SecretPolicy): Component {
  return restrictable(
    mqttOut({ secrets }),
    (allow) => mqttOut({ hosts: allow.hosts ?? [], secrets }),
  );
}

/** A JSON payload nested deeper than `MAX_JSON_DEPTH`: what and where. */
class _TooDeep extends Error {}

/**
 * A JSON payload parsed, refused before it is parsed when it nests more
 * than {@linkcode MAX_JSON_DEPTH} objects and arrays within each other, as
 * `json/Parse` refuses such a text: a value that deep takes Bun seconds
 * to write as JSON wherever it goes next.
 */
function _parseJson(text: string): unknown {
  const deep = _jsonDepthProblem(text, MAX_JSON_DEPTH);
  if (deep !== undefined) throw new _TooDeep(deep);
  return JSON.parse(text);
}
