/**
 * A `mosquitto` broker for the MQTT benchmark (`bench/mqtt_bench.ts`):
 * started on 127.0.0.1 on a free port with a configuration file of its
 * own, pinned to a core, stopped by its pid.
 *
 * The broker queues without limit (`max_queued_messages 0`): mosquitto's
 * default (1000 per client) drops QoS 0 messages for a subscriber that
 * reads slower than the publisher writes, which would hide how fast the
 * flow really is behind a loss the broker chose. With no limit, every
 * message published reaches the flow, and a loss the benchmark reports is
 * the flow's. Everything else is mosquitto's default (20 QoS 1 messages
 * in flight to each client).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import process from "node:process";

/** The mosquitto executable (Debian's package). */
export const MOSQUITTO = "/usr/sbin/mosquitto";

/** A running broker. */
export interface Broker {
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  /** Its port on 127.0.0.1. */
  port: number;
  /** Its pid. */
  pid: number;
  /** Stops it (SIGTERM) and resolves once it exited. */
  stop(): Promise<void>;
}

/** A port of 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null
        ? address.port
        : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts mosquitto on a free port of 127.0.0.1, its configuration in
 * `work`, pinned to `core` when given; resolves once it listens.
 */
export async function startMosquitto(
  options: { work: string; core?: number },
): Promise<Broker> {
  const port = await freePort();
  const conf = join(options.work, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence false",
      "max_queued_messages 0",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information",
      "",
    ].join("\n"),
  );
  const command = options.core === undefined
    ? [MOSQUITTO, "-c", conf]
    : ["taskset", "-c", String(options.core), MOSQUITTO, "-c", conf];
  const child = spawn(command[0], command.slice(1), {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<void>((resolve) =>
    child.on("exit", () => resolve())
  );
  await new Promise<void>((resolve, reject) => {
    let err = "";
    child.on("error", reject);
    const early = (code: number | null) =>
      reject(new Error(`mosquitto exited (${code}) before listening: ${err}`));
    child.on("exit", early);
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      if (err.length < 10_000) err += chunk;
      if (/ running/.test(err)) {
        child.removeListener("exit", early);
        resolve();
      }
    });
  });
  const pid = child.pid!;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid,
    async stop() {
      try {
        process.kill(pid);
      } catch {
        return; // Gone already.
      }
      await exited;
    },
  };
}
