/**
 * One MQTT client of an `mqtt/In` or `mqtt/Out` process: connection state
 * in the meters, reconnection with a capped exponential backoff (MQTT.js
 * itself retries at a fixed period), one report per distinct failure (a
 * broker that stays down or keeps refusing the credentials is one line,
 * not a line a retry), one when it is connected again after such a line
 * (after connections lost within 10 s, once one has held: the last line
 * says the state the connection is in), a connection kept while the bytes
 * of a slow packet come (`_PacketWatch`, with a warning at most once a
 * minute), and a clean or forced end.
 *
 * @module
 */
import type { IClientOptions, MqttClient } from "mqtt";
import type { Duplex } from "node:stream";
import type { ReportLevel } from "../engine/errors.ts";
import { EXCERPT_LENGTH } from "../engine/excerpt.ts";
import { scrubUrls, urlShown } from "../runtime/fetch_error.ts";
import type { _DisconnectReason, _MqttSeries } from "./_mqtt_meters.ts";
import {
  _PacketWatch,
  type _SlowPacket,
  _watchedWsOptions,
} from "./_mqtt_packet_watch.ts";
import { _ReportGate } from "./_report_gate.ts";
import {
  type _GuardOptions,
  _guardStream,
  _TOO_LARGE_CODE,
} from "./_mqtt_size_guard.ts";

/** MQTT.js's `connect`. */
type _Connect = (options: IClientOptions) => MqttClient;

let _mqtt: Promise<_Connect> | undefined;

/**
 * MQTT.js, imported when a flow first connects to a broker rather than
 * when weir starts: a server whose flows use no MQTT does not hold it
 * (16,000 objects, 1.7 MB of heap on Bun; about 3 MB of RSS from the
 * source, 1.5 MB for the executable; bench/RESULTS.md "Session 16").
 */
function _loadMqtt(): Promise<_Connect> {
  return _mqtt ??= import("mqtt").then((m) => m.default.connect, (e) => {
    // Tried again by the next connection.
    _mqtt = undefined;
    throw e;
  });
}

/** Options of {@linkcode _MqttConnection}. */
export interface _ConnectionOptions {
  /** The client's options (see `_clientOptions`). */
  client: IClientOptions;
  /** The first reconnect delay, ms. */
  backoffMs: number;
  /** The longest reconnect delay, ms. */
  maxBackoffMs: number;
  /** The process's meters. */
  meters: _MqttSeries;
  /**
   * Reports a failure (to the error port or the log); `message` holds no
   * secret. `level` is `"warning"` when the connection is tried again (a
   * broker down, refusing the credentials, or lost: the process goes on),
   * `"error"` when no attempt follows, and `"info"` for a connection
   * accepted after a warning: `connected to broker URL again after 4
   * attempts (down 12.3 s)` (without `again` when none was accepted
   * before), so that the last word on the connection is not the warning.
   * After a warning of connections lost within `stableMs` (the broker
   * ends them at once), the info waits until one has lasted that long,
   * `connected to broker URL again, held 10 s after 6 connections lost
   * within 10 s (over 47.2 s)`: until then each connection is lost again
   * as the warning says, and an info at each would have the last word
   * while the connection is down.
   */
  report: (message: string, level: ReportLevel) => void;
  /** Called on each accepted connection, with whether the broker kept the session. */
  onConnect?: (sessionPresent: boolean, first: boolean) => void;
  /**
   * The broker, for messages: shown without its query (see `urlShown`),
   * and any URL in a socket's error likewise.
   */
  broker: URL;
  /** The user name, for messages (`as user "u"`); none when not given. */
  user?: string;
  /**
   * How long a connection must last to count as held: the backoff and
   * the reports start over then, and a loss sooner is reported as one
   * the broker made at once. Default 10 s.
   */
  stableMs?: number;
  /**
   * The bound on a message received (`mqtt/In`'s maxPayloadBytes): what
   * each connection reads passes through a `_PublishSizeGuard`. Default
   * none (`mqtt/Out` receives only acknowledgements).
   */
  guard?: _GuardOptions;
}

/**
 * A connected (or connecting) MQTT.js client with weir's reconnection,
 * meters and reports. Connects at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Context } from "../engine/component.ts";
 * import { ProcessMeters } from "../engine/meters.ts";
 * import { _MqttConnection } from "./_mqtt_connection.ts";
 * import { _MQTT_METERS, _mqttSeries } from "./_mqtt_meters.ts";
 *
 * const meters = new ProcessMeters("mqtt/Out", _MQTT_METERS);
 * const ctx = { meter: (n: string, l?: Record<string, string>) => meters.meter(n, l) };
 * const series = _mqttSeries(ctx as unknown as Context<unknown>, "out");
 * // Nothing listens on port 1: the attempt fails, is reported once (a
 * // warning: it is tried again), and is retried until the connection is
 * // ended.
 * const reported = Promise.withResolvers<string>();
 * const conn = new _MqttConnection({
 *   client: { protocol: "mqtt", host: "127.0.0.1", port: 1, log() {} },
 *   backoffMs: 100,
 *   maxBackoffMs: 200,
 *   meters: series,
 *   report: (message, level) => reported.resolve(`${level}: ${message}`),
 *   broker: new URL("mqtt://127.0.0.1:1"),
 * });
 * assert.match(
 *   await reported.promise,
 *   /^warning: retrying in 100 ms \(backing off up to 200 ms\): cannot connect to broker mqtt:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/,
 * );
 * conn.kill();
 * assert.equal(series.connected.value, 0);
 * assert.equal(series.disconnects.unreachable.value, 1);
 * // Once a broker answers after such a warning, an info says so (see
 * // tests/components/mqtt_reconnect_report_test.ts).
 * ```
 */
export class _MqttConnection {
  /**
   * Settles once the MQTT.js client is made (MQTT.js is imported with the
   * first connection of the process, see `_loadMqtt`); `false` when it is
   * not: the connection was ended first, or it failed (see
   * {@linkcode _MqttConnection.failure}).
   */
  readonly ready: Promise<boolean>;
  #client: MqttClient | undefined;
  #failure: Error | undefined;
  #onClient: ((client: MqttClient) => void)[] = [];
  readonly #o: _ConnectionOptions;
  #attempt = 0;
  #up = false;
  #ending = false;
  #firstConnect = true;
  #lastError: Error | undefined;
  #brokerClosed = false;
  #reported: string | undefined;
  /** Whether a warning was reported since the last accepted connection. */
  #warned = false;
  /** When the connection was first found lost or refused since then (epoch ms; 0: not). */
  #downAt = 0;
  /** The attempts that failed since then. */
  #failedAttempts = 0;
  /** The connections lost within `stableMs` since then. */
  #briefLosses = 0;
  /**
   * Whether the last warning was of a connection lost within `stableMs`:
   * the info then waits until a connection has held (see `#recovered`).
   */
  #warnedBrief = false;
  #waiters: (() => void)[] = [];
  #pinger: ReturnType<typeof setInterval> | undefined;
  /** When the current connection was accepted (epoch ms). */
  #upAt = 0;
  /** Starts the backoff over once the connection has lasted. */
  #stableTimer: ReturnType<typeof setTimeout> | undefined;
  #holds = 0;
  /** When a message was last held (epoch ms). */
  #lastHold = 0;
  /** Keeps the connection while a packet's bytes come. */
  #watch: _PacketWatch | undefined;
  /** Slow packets are reported at most once a minute. */
  readonly #slowReports = new _ReportGate();

  readonly #stableMs: number;

  /** Connects with `options`. */
  constructor(options: _ConnectionOptions) {
    this.#o = options;
    this.#stableMs = options.stableMs ?? _STABLE_MS;
    this.ready = _loadMqtt().then((connect) => {
      if (this.#ending) return false;
      try {
        this.#connect(connect);
      } catch (e) {
        return this.#fail(e as Error, "");
      }
      return true;
    }, (e) => this.#fail(e as Error, "cannot load MQTT.js: "));
  }

  /**
   * Why no client could be made (MQTT.js not loaded, or its `connect`
   * threw): reported once, and no attempt follows; `undefined` otherwise.
   */
  get failure(): Error | undefined {
    return this.#failure;
  }

  #fail(e: Error, what: string): false {
    if (this.#ending) return false;
    this.#failure = new Error(
      this.#text("cannot connect to ", "", `${what}${_errorText(e)}`),
      { cause: e },
    );
    // A failed attempt: no connection could be made.
    this.#o.meters.disconnects.unreachable.add(1);
    this.#o.report(this.#failure.message, "error");
    for (const w of this.#waiters.splice(0)) w();
    return false;
  }

  /** The MQTT.js client; throws before {@linkcode _MqttConnection.ready}. */
  get client(): MqttClient {
    if (this.#client === undefined) {
      throw new Error("the MQTT client is not made yet: await ready");
    }
    return this.#client;
  }

  /**
   * Calls `fn` with the client once it is made, before any of its events
   * (at once when it is made already; never when it is not made).
   */
  onClient(fn: (client: MqttClient) => void): void {
    if (this.#client !== undefined) fn(this.#client);
    else this.#onClient.push(fn);
  }

  #connect(connect: _Connect): void {
    const options = this.#o;
    // The listeners below are in place before the first connection's
    // events, which come in later turns.
    const guard = options.guard;
    // The bytes of a packet as they come keep the connection (see
    // _PacketWatch): a WebSocket's from its socket, since it hands a
    // message over whole; others' from the guard, when there is one.
    const bytes = (n: number) => this.#watch?.bytes(n);
    const protocol = options.client.protocol;
    const ws = protocol === "ws" || protocol === "wss";
    const client = connect({
      ...options.client,
      ...(ws
        ? {
          wsOptions: _watchedWsOptions(
            options.client.wsOptions,
            protocol === "wss",
            bytes,
          ),
        }
        : {}),
      reconnectPeriod: options.backoffMs,
      // MQTT.js's constructor makes the first stream: with a guard, its
      // stream builder is wrapped first, and the client connected below.
      manualConnect: guard !== undefined,
    });
    this.#watch = new _PacketWatch(client, (slow) => this.#slow(slow));
    if (guard !== undefined) {
      // MQTT.js has no option for it; `streamBuilder` is a field of the
      // client (private in its types), called at each connection.
      const c = client as unknown as {
        streamBuilder: (client: MqttClient) => Duplex;
      };
      const build = c.streamBuilder;
      const onChunk = ws ? undefined : bytes;
      c.streamBuilder = (mc) => _guardStream(build(mc), guard, onChunk);
      // Not manualConnect from here: with it, MQTT.js reconnects even
      // after end().
      client.options.manualConnect = false;
    }
    this.#client = client;
    for (const fn of this.#onClient.splice(0)) fn(client);
    client.on("connect", (connack) => {
      this.#up = true;
      // The backoff and the reports start over once this connection has
      // lasted (see _STABLE_MS), not now; before MQTT.js's own close
      // handler, which arms the next attempt with the delay set then.
      this.#upAt = Date.now();
      // After connections lost at once, that it is connected again is
      // said once this one has held, not now (see #recovered).
      const held = this.#warned && this.#warnedBrief;
      clearTimeout(this.#stableTimer);
      this.#stableTimer = setTimeout(() => {
        this.#stableTimer = undefined;
        if (!this.#up || this.#ending) return;
        this.#attempt = 0;
        client.options.reconnectPeriod = this.#o.backoffMs;
        this.#reported = undefined;
        if (held) this.#recovered(false, true);
      }, this.#stableMs);
      (this.#stableTimer as { unref?: () => void }).unref?.();
      this.#o.meters.connected.set(1);
      this.#o.meters.connects.add(1);
      const first = this.#firstConnect;
      this.#firstConnect = false;
      if (!held) this.#recovered(first, false);
      this.#o.onConnect?.(connack.sessionPresent === true, first);
      for (const w of this.#waiters.splice(0)) w();
    });
    client.on("error", (e) => {
      this.#lastError = e;
    });
    client.on("disconnect", () => {
      this.#brokerClosed = true;
    });
    client.on("reconnect", () => {
      if (this.#ending) return;
      // The delay before the attempt after this one, should it fail too.
      this.#attempt++;
      client.options.reconnectPeriod = this.#delay(this.#attempt);
    });
    client.on("close", () => this.#closed());
    if (guard !== undefined) client.connect();
  }

  /**
   * A packet is slow to arrive, and the connection kept for it: a
   * warning, at most once a minute (a publisher of large messages over a
   * slow listener is a line a minute, saying how many more were slow).
   */
  #slow(slow: _SlowPacket): void {
    const more = this.#slowReports.pass();
    if (more < 0) return;
    this.#o.report(
      this.#text(
        "a packet from ",
        ` is taking more than ${
          _duration(slow.ms)
        } to arrive (${slow.bytes} bytes so far)`,
        `the connection is kept while its bytes come${
          more > 0 ? `; ${more} more were slow since the last such report` : ""
        }`,
      ),
      "warning",
    );
  }

  /** Whether the broker accepted the current connection. */
  get connected(): boolean {
    return this.#up;
  }

  /** Resolves once connected (at once when it is), or once it failed. */
  whenConnected(): Promise<void> {
    if (this.#up || this.#failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Keeps the session alive while the process holds back the packets it
   * receives (mqtt/In waiting for room in the flow): MQTT.js reads no
   * packet then, not even a ping's answer, and would drop the connection
   * after 1.5 keepalives, while the broker drops a client that sends
   * nothing. A ping goes out every half keepalive while a message is held
   * or was within the last keepalive: a slow flow takes one message and
   * holds the next many times a second, and a ping's answer waits behind
   * the held messages all that while.
   */
  hold(): void {
    this.#holds++;
    this.#lastHold = Date.now();
    if (this.#pinger !== undefined) return;
    const keepalive = this.#client?.options.keepalive ?? 0;
    if (keepalive <= 0) return;
    this.#pinger = setInterval(() => {
      if (this.#holds === 0 && Date.now() - this.#lastHold > keepalive * 1000) {
        this.#stopPinger();
        return;
      }
      if (!this.client.connected) return;
      this.client.sendPing();
      this.client.reschedulePing(true);
    }, keepalive * 500);
  }

  /** Ends a {@linkcode _MqttConnection.hold}. */
  release(): void {
    if (this.#holds > 0) this.#holds--;
  }

  #stopPinger(): void {
    if (this.#pinger !== undefined) clearInterval(this.#pinger);
    this.#pinger = undefined;
  }

  /** The connection ends: no more pings, no backoff reset to come. */
  #stopTimers(): void {
    clearTimeout(this.#stableTimer);
    this.#stableTimer = undefined;
    this.#holds = 0;
    this.#stopPinger();
  }

  /**
   * Ends the connection: cleanly (a DISCONNECT once what is in flight is
   * acknowledged) within `graceMs`, then by force. Resolves once closed.
   */
  async end(graceMs: number): Promise<void> {
    this.#stopReconnecting();
    this.#stopTimers();
    for (const w of this.#waiters.splice(0)) w();
    const client = this.#client;
    if (client === undefined) return;
    if (client.connected && graceMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        client.endAsync(false).catch(() => {}),
        new Promise<void>((r) => timer = setTimeout(r, graceMs)),
      ]);
      clearTimeout(timer);
    }
    if (!client.disconnected) {
      // MQTT.js calls back when its stream closes, which a stream that
      // already closed never does again: a bound, so a stop never hangs.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        timer = setTimeout(r, 1000);
        client.end(true, () => r());
      });
      clearTimeout(timer);
    }
    this.#settle("stopped");
  }

  /** Ends the connection at once (teardown: the flow has stopped). */
  kill(): void {
    this.#stopReconnecting();
    this.#stopTimers();
    this.#client?.end(true);
    this.#settle("stopped");
    // Publishes waiting for the broker end as given up (counted there).
    for (const w of this.#waiters.splice(0)) w();
  }

  /** No more attempts, whatever closes next. */
  #stopReconnecting(): void {
    this.#ending = true;
    if (this.#client !== undefined) this.#client.options.reconnectPeriod = 0;
  }

  #delay(attempt: number): number {
    const { backoffMs, maxBackoffMs } = this.#o;
    const base = Math.min(maxBackoffMs, backoffMs * 2 ** Math.min(attempt, 30));
    // A little jitter, so that many clients of one broker spread out.
    return Math.round(
      Math.min(maxBackoffMs, base * (0.85 + 0.3 * Math.random())),
    );
  }

  #closed(): void {
    const e = this.#lastError;
    this.#lastError = undefined;
    const brokerClosed = this.#brokerClosed;
    this.#brokerClosed = false;
    if (this.#ending) {
      this.#settle("stopped");
      return;
    }
    const wasUp = this.#up;
    // A connection that lasted starts the backoff over; one the broker
    // ends at once (another client taking over this client id's session,
    // which takes it back the same way) keeps growing it.
    const brief = wasUp && Date.now() - this.#upAt < this.#stableMs;
    clearTimeout(this.#stableTimer);
    this.#stableTimer = undefined;
    let reason: _DisconnectReason;
    if (!wasUp) {
      reason = e !== undefined && /^Connection refused/.test(e.message)
        ? "refused"
        : "unreachable";
    } else if (brokerClosed) reason = "broker";
    else if (e?.message === "Keepalive timeout") reason = "keepalive";
    else reason = "network";
    this.#up = false;
    this.#o.meters.connected.set(0);
    this.#o.meters.disconnects[reason].add(1);
    if (this.#downAt === 0) this.#downAt = Date.now();
    if (!wasUp) this.#failedAttempts++;
    if (brief) this.#briefLosses++;
    // A packet over mqtt/In's bound: its own words say why (no guess at
    // another client), whole within a report.
    const tooLarge = (e as { code?: unknown } | undefined)?.code ===
      _TOO_LARGE_CODE;
    const detail = e === undefined
      ? "the connection closed"
      : tooLarge
      ? e.message
      : _errorText(e);
    // The guess at another client only where the far side ended it: a
    // keepalive that ran out (a broker or link gone quiet) is this side's.
    const [lead, after] = !wasUp
      ? ["cannot connect to ", ""]
      : brief && !tooLarge && reason !== "keepalive"
      ? [
        "lost the connection to ",
        ` within ${
          _duration(this.#stableMs)
        } (is another client using its client id?)`,
      ]
      : ["lost the connection to ", ""];
    // One report per distinct failure until a connection succeeds: a
    // broker that stays down is one line, not one a retry.
    const key = `${lead}${after}: ${detail}`;
    if (key === this.#reported) return;
    this.#reported = key;
    this.#warned = true;
    this.#warnedBrief = brief;
    // MQTT.js's close handler, which ran before this one, set the next
    // attempt's timer with this delay.
    const next = this.#client?.options.reconnectPeriod ?? this.#o.backoffMs;
    // A warning: the process goes on. What happens next and why come
    // first and whole; the broker, the user and the socket's words are
    // cut to fit a report (see _fit).
    this.#o.report(
      this.#text(
        `retrying in ${_duration(next)} (backing off up to ${
          _duration(this.#o.maxBackoffMs)
        }): ${lead}`,
        after,
        detail,
      ),
      "warning",
    );
  }

  /**
   * A connection was accepted (`held`: and has lasted `stableMs`): after
   * a warning, an info says so, so that the log's last word is not
   * "retrying"; without a warning (the first connection, or one whose
   * loss was reported before and not again) nothing is said. After a
   * warning of a connection lost at once, it is said once a connection
   * has held (`held`), with how many were lost at once: said at each
   * connection, it would be the last word while the next is lost as the
   * warning says (only a loss unlike the last reported is reported
   * again). Otherwise at once, with the attempts it took (this one
   * included) and how long the broker was out of reach.
   */
  #recovered(first: boolean, held: boolean): void {
    const attempts = this.#failedAttempts + 1;
    const lost = this.#briefLosses;
    const downMs = this.#upAt - this.#downAt;
    const warned = this.#warned;
    this.#warned = false;
    this.#warnedBrief = false;
    this.#downAt = 0;
    this.#failedAttempts = 0;
    this.#briefLosses = 0;
    if (!warned) return;
    const { broker, user } = this.#o;
    const stable = _duration(this.#stableMs);
    // The counts are fixed words of the sentence, kept whole (see _fit).
    const after = held
      ? `, held ${stable} after ${lost} ${
        lost === 1 ? "connection" : "connections"
      } lost within ${stable} (over `
      : ` after ${attempts} ${attempts === 1 ? "attempt" : "attempts"} (down `;
    this.#o.report(
      _fit(
        (url, who, how) =>
          `connected to broker ${url}${
            who === undefined ? "" : ` as user ${JSON.stringify(who)}`
          }${first ? "" : " again"}${after}${how})`,
        urlShown(broker),
        user,
        _downFor(downMs),
      ),
      "info",
    );
  }

  /**
   * `${lead}broker URL as user "u"${after}: detail`, at most a report's
   * length: `lead` and `after` whole, the rest cut to fit. The detail
   * drops the broker's host name where it repeats it (`getaddrinfo
   * ENOTFOUND <host>`), since the URL before it names it.
   */
  #text(lead: string, after: string, detail: string): string {
    const { broker, user } = this.#o;
    const host = broker.hostname.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    detail = detail.replace(
      new RegExp(` ${host}(?=$|[\\s,;)])`, "gi"),
      "",
    );
    return _fit(
      (url, who, why) =>
        `${lead}broker ${url}${
          who === undefined ? "" : ` as user ${JSON.stringify(who)}`
        }${after}: ${why}`,
      urlShown(broker),
      user,
      scrubUrls(detail, broker),
    );
  }

  #settle(reason: "stopped"): void {
    if (!this.#up) return;
    this.#up = false;
    this.#o.meters.connected.set(0);
    this.#o.meters.disconnects[reason].add(1);
  }
}

/**
 * How long a connection must last for the backoff to start over at its
 * end: shorter ones (a client id taken over back and forth) keep it
 * growing.
 */
const _STABLE_MS = 10_000;

/** How long a broker was out of reach: `12.3 s`, `4 min 5 s`, `2 h 10 min`. */
function _downFor(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A delay as reports write it: `300 ms`, `2 s`. */
function _duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/**
 * The text `compose` makes of a broker URL, a user name and an error (what
 * varies), at most `max` characters long, so that a report (which keeps
 * its first 200) holds its fixed words whole: the parts are cut with "…",
 * the error first, each to a floor while another may give room (the error
 * keeps 30 characters, the user 12, the URL 40), then further.
 */
function _fit(
  compose: (url: string, user: string | undefined, error: string) => string,
  url: string,
  user: string | undefined,
  error: string,
  max: number = EXCERPT_LENGTH,
): string {
  const parts = [url, user, error];
  const floors = [40, 12, 30];
  const make = () => compose(parts[0]!, parts[1], parts[2]!);
  let text = make();
  for (const pass of ["floor", "any"]) {
    for (let i = parts.length - 1; i >= 0 && text.length > max; i--) {
      const part = parts[i];
      if (part === undefined) continue;
      const floor = pass === "floor" ? floors[i] : 1;
      const keep = Math.max(floor, part.length - (text.length - max));
      if (keep >= part.length) continue;
      parts[i] = _cut(part, keep);
      text = make();
    }
  }
  return text;
}

/** `text` cut to `n` characters (at least 1), its last one "…" when cut. */
function _cut(text: string, n: number): string {
  if (text.length <= n) return text;
  let end = Math.max(0, n - 1);
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** An MQTT.js or socket error as one short line (its code when it has one). */
function _errorText(e: Error): string {
  const code = (e as { code?: unknown }).code;
  const text = e.message || String(code ?? "error");
  return typeof code === "string" && !text.includes(code)
    ? `${code}: ${text}`
    : text;
}
