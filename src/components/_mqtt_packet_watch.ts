/**
 * Keeps an MQTT connection while a packet is on its way. MQTT.js takes only
 * a whole packet as a sign that the broker is there, and ends the
 * connection ("Keepalive timeout") when none came for 1.5 keepalives,
 * though the bytes of a long one keep coming. mosquitto 2.0.11's websockets
 * listener sends a large message at about 41 KB/s (libwebsockets writes
 * some 4 KB each pass of the broker's loop, which wakes every 100 ms when
 * idle; eclipse-mosquitto/mosquitto#1390): 3 MB took 73 s to reach an
 * `mqtt/In`, and 10 MB never came, on Deno and Bun alike: the connection
 * was ended 89 s into it, and the message lost with the clean session
 * (sent again, and cut again, with a persistent one). A slow link over TCP
 * is the same case.
 *
 * {@linkcode _PacketWatch} is told of the bytes as they come (from the
 * socket under a WebSocket, {@linkcode _watchedWsOptions}, whose
 * messages arrive whole) and keeps the connection while they do.
 *
 * @module
 */
import type { MqttClient } from "mqtt";
import type { ClientRequestArgs } from "node:http";
import {
  connect as netConnect,
  isIP,
  type NetConnectOpts,
  type Socket,
} from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";

/** What {@linkcode _PacketWatch} uses of an MQTT.js client. */
export type _WatchedClient = Pick<
  MqttClient,
  "on" | "connected" | "keepalive" | "sendPing" | "reschedulePing"
>;

/** A packet that is slow to arrive, as {@linkcode _PacketWatch} reports it. */
export interface _SlowPacket {
  /** How long since its first bytes came (the first after a whole packet), ms. */
  ms: number;
  /** Bytes received since (with a WebSocket's framing). */
  bytes: number;
}

/**
 * Watches the bytes of a connection: when they have been coming for a
 * quarter of the keepalive (from the first after the last whole packet)
 * with no whole packet, it sends a ping (the broker
 * expects one within 1.5 keepalives, and sees nothing else of this client
 * meanwhile) and starts MQTT.js's keepalive over, every quarter keepalive
 * while they come; `onSlow` is called once for each such packet. When they
 * stop, MQTT.js's keepalive ends the connection as before. A quarter, not
 * a half: MQTT.js may have sent its ping just before the packet began,
 * and the answer waits behind it, so its keepalive ends half a keepalive
 * into the packet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventEmitter } from "node:events";
 * import { _PacketWatch, type _WatchedClient } from "./_mqtt_packet_watch.ts";
 *
 * let pings = 0;
 * const client = Object.assign(new EventEmitter(), {
 *   connected: true,
 *   keepalive: 0.2, // 200 ms: a quarter is 50 ms
 *   sendPing: () => void pings++,
 *   reschedulePing: () => {},
 * });
 * const slow: number[] = [];
 * const watch = new _PacketWatch(client as unknown as _WatchedClient, (s) => slow.push(s.bytes));
 * client.emit("packetreceive");
 * watch.bytes(4096);
 * assert.equal(pings, 0); // not yet a quarter of the keepalive
 * await new Promise((r) => setTimeout(r, 60));
 * watch.bytes(4096);
 * assert.equal(pings, 1);
 * assert.deepEqual(slow, [8192]);
 * // A whole packet: the next slow one is reported again, timed from its
 * // first bytes.
 * client.emit("packetreceive");
 * await new Promise((r) => setTimeout(r, 60));
 * watch.bytes(10);
 * assert.equal(pings, 1);
 * await new Promise((r) => setTimeout(r, 60));
 * watch.bytes(10);
 * assert.equal(pings, 2);
 * assert.deepEqual(slow, [8192, 20]);
 * ```
 */
export class _PacketWatch {
  readonly #client: _WatchedClient;
  readonly #onSlow: (slow: _SlowPacket) => void;
  /** Bytes received since the last whole packet, and when the first of them came (epoch ms). */
  #bytes = 0;
  #firstAt = 0;
  /** When the connection was last kept (epoch ms). */
  #keptAt = 0;
  /** Whether `onSlow` was called for the packet on its way. */
  #reported = false;

  /** Watches `client`; `onSlow` hears of each packet slow to arrive. */
  constructor(client: _WatchedClient, onSlow: (slow: _SlowPacket) => void) {
    this.#client = client;
    this.#onSlow = onSlow;
    client.on("packetreceive", () => {
      this.#bytes = 0;
      this.#reported = false;
    });
  }

  /** `n` bytes came from the broker. */
  bytes(n: number): void {
    const quarter = this.#client.keepalive * 250;
    if (quarter <= 0) return;
    const now = Date.now();
    if (this.#bytes === 0) this.#firstAt = now;
    this.#bytes += n;
    if (now - this.#firstAt < quarter || now - this.#keptAt < quarter) return;
    // Before the CONNACK (a connection made again) MQTT.js has no
    // keepalive running, and the bytes before may be the old connection's.
    if (!this.#client.connected) return;
    this.#keptAt = now;
    this.#client.sendPing();
    this.#client.reschedulePing(true);
    if (this.#reported) return;
    this.#reported = true;
    this.#onSlow({ ms: now - this.#firstAt, bytes: this.#bytes });
  }
}

/**
 * The `ws` package's options for MQTT.js's WebSocket (`wsOptions`), with a
 * socket whose bytes go to `bytes` as they come: the WebSocket gives a
 * message to MQTT.js only once it is whole. Made as `ws` makes its own
 * (`createConnection`, which `ws` passes to `http.request`; honoured by
 * Deno's and Bun's `node:http` as by Node's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:net";
 * import { _watchedWsOptions } from "./_mqtt_packet_watch.ts";
 *
 * const server = createServer((s) => s.end("hello"));
 * await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
 * const { port } = server.address() as { port: number };
 * let seen = 0;
 * const options = _watchedWsOptions(undefined, false, (n) => seen += n);
 * const socket = options.createConnection({ host: "127.0.0.1", port });
 * await new Promise((r) => socket.on("close", r).resume());
 * assert.equal(seen, 5);
 * server.close();
 * ```
 */
export function _watchedWsOptions(
  wsOptions: object | undefined,
  secure: boolean,
  bytes: (n: number) => void,
): { createConnection(options: ClientRequestArgs): Socket } {
  return {
    ...wsOptions,
    createConnection(options: ClientRequestArgs): Socket {
      let socket: Socket;
      if (secure) {
        // As `ws` does: a name to verify the certificate against, unless
        // the host is an address.
        const o = options as unknown as ConnectionOptions;
        o.path = undefined;
        if (!o.servername && o.servername !== "") {
          o.servername = isIP(o.host ?? "") ? "" : o.host;
        }
        socket = tlsConnect(o);
      } else {
        const o = options as unknown as NetConnectOpts & { path?: string };
        o.path = options.socketPath;
        socket = netConnect(o);
      }
      socket.on("data", (chunk: Uint8Array) => bytes(chunk.length));
      return socket;
    },
  };
}
