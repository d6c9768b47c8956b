/**
 * A throw-away `mosquitto` broker for the MQTT tests and benchmarks: started
 * on 127.0.0.1 at a free port with a config file written into a fresh
 * temporary folder, optionally with users (a password file made by
 * `mosquitto_passwd -b`) and persistence, stopped by pid, and restartable on
 * the same port with the same folder (so a persistent broker keeps its
 * sessions and queued messages across the restart).
 *
 * ```ts ignore
 * test("...", { skip: mosquittoSkip(), timeout: 30_000 }, async () => {
 *   await using broker = await startMosquitto({ users: { weir: "pw" } });
 *   // broker.url is "mqtt://127.0.0.1:PORT"
 *   await broker.restart();
 * });
 * ```
 *
 * The broker comes from Debian's `mosquitto` package, whose binary is in
 * `/usr/sbin` (often not on a user's PATH): {@linkcode findMosquitto} looks
 * there too. Without it the tests skip, or fail under
 * `WEIR_REQUIRE_INTEGRATION=1` (see `_prometheus.ts`).
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { accessSync, constants, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { findOnPath, integrationSkip } from "./_prometheus.ts";

const INSTALL_HINT = "apt-get install mosquitto";

/** The mosquitto binary: on PATH, else Debian's `/usr/sbin/mosquitto`. */
export function findMosquitto(): string | undefined {
  const onPath = findOnPath("mosquitto");
  if (onPath !== undefined) return onPath;
  try {
    accessSync("/usr/sbin/mosquitto", constants.X_OK);
    return "/usr/sbin/mosquitto";
  } catch {
    return undefined;
  }
}

/**
 * The `skip` option of a test that needs mosquitto (and, with `users`,
 * `mosquitto_passwd`): `false` when present, else the reason; under
 * `WEIR_REQUIRE_INTEGRATION=1` always `false`, so the test fails.
 */
export function mosquittoSkip(): string | false {
  if (findMosquitto() !== undefined) return false;
  return integrationSkip("mosquitto", INSTALL_HINT);
}

/** Options of {@linkcode startMosquitto}. */
export interface MosquittoOptions {
  /**
   * Users and their passwords: the broker then refuses anonymous clients
   * and wrong passwords. Default none (anonymous clients allowed).
   */
  users?: Record<string, string>;
  /**
   * Keep sessions, subscriptions and queued QoS 1/2 messages on disk, so a
   * {@linkcode Mosquitto.restart} loses none. Default `false`.
   */
  persistence?: boolean;
  /**
   * QoS 1/2 messages queued per client while it is offline or behind
   * (mosquitto's `max_queued_messages`, 1000 by default there). Default
   * `100_000`, so the tests that hold a consumer back lose nothing to it.
   */
  maxQueuedMessages?: number;
  /**
   * An access control list (mosquitto's `acl_file` format, e.g. `"user
   * weir\ntopic write ok/#\n"`), written to the folder. Default none (every
   * client may do everything).
   */
  acl?: string;
  /** More lines for `mosquitto.conf`. */
  extraConfig?: string[];
  /** How long to wait for the port to answer. Default `10_000`. */
  readyTimeoutMs?: number;
}

/** A running broker, from {@linkcode startMosquitto}. */
export interface Mosquitto {
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  /** Its port on 127.0.0.1 (the same after a restart). */
  readonly port: number;
  /** The pid of the current mosquitto process (changes on restart). */
  readonly pid: number;
  /** The temporary folder: config, password file, persistence. */
  readonly dir: string;
  /** Whether the broker process is running. */
  readonly running: boolean;
  /** What it logged (the last 16 kB). */
  log(): string;
  /** Stops it (SIGTERM by pid, SIGKILL after 5 s); keeps the folder. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same folder and config. */
  start(): Promise<void>;
  /** {@linkcode Mosquitto.stop}, then {@linkcode Mosquitto.start}. */
  restart(): Promise<void>;
  /** Stops it and removes the folder. Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Brokers still running, killed if the test process exits first. */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const [child, dir] of running) {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * Starts mosquitto on a free port of 127.0.0.1 and resolves once the port
 * accepts connections. Rejects with its log when it exits first.
 */
export async function startMosquitto(
  options: MosquittoOptions = {},
): Promise<Mosquitto> {
  const bin = findMosquitto();
  if (bin === undefined) {
    throw new Error(
      `mosquitto is not on PATH nor in /usr/sbin: install it with \`${INSTALL_HINT}\``,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "weir-mosquitto-"));
  try {
    const lines = [
      // As root, mosquitto would switch to the "mosquitto" user, which
      // cannot read a folder made by the tests.
      ...(process.getuid?.() === 0 ? ["user root"] : []),
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information",
      "connection_messages true",
      `max_queued_messages ${options.maxQueuedMessages ?? 100_000}`,
      "max_queued_bytes 0",
    ];
    if (options.users !== undefined) {
      const file = join(dir, "passwd");
      await writeFile(file, "", { mode: 0o600 });
      const passwd = findOnPath("mosquitto_passwd") ??
        "/usr/bin/mosquitto_passwd";
      for (const [user, password] of Object.entries(options.users)) {
        const r = spawnSync(passwd, ["-b", file, user, password], {
          encoding: "utf8",
        });
        if (r.status !== 0) {
          throw new Error(
            `mosquitto_passwd failed (${
              r.status ?? r.error?.message
            }): ${r.stderr}`,
          );
        }
      }
      lines.push("allow_anonymous false", `password_file ${file}`);
    } else {
      lines.push("allow_anonymous true");
    }
    if (options.persistence) {
      lines.push(
        "persistence true",
        `persistence_location ${dir}/`,
        "persistence_file mosquitto.db",
      );
    }
    if (options.acl !== undefined) {
      const file = join(dir, "acl");
      await writeFile(file, options.acl, { mode: 0o600 });
      lines.push(`acl_file ${file}`);
    }
    lines.push(...options.extraConfig ?? []);
    const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
    // A port another process takes between the probe and the listen is
    // retried with a new one.
    for (let attempt = 1;; attempt++) {
      const port = await freePort();
      const config = join(dir, "mosquitto.conf");
      await writeFile(
        config,
        [`listener ${port} 127.0.0.1`, ...lines, ""].join("\n"),
      );
      const broker = new Broker(bin, config, dir, port, readyTimeoutMs);
      try {
        await broker.start();
        return broker;
      } catch (error) {
        if (attempt < 3 && /Address already in use/i.test(broker.log())) {
          continue;
        }
        throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

class Broker implements Mosquitto {
  readonly url: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = "";
  #closed = false;

  constructor(
    readonly bin: string,
    readonly config: string,
    readonly dir: string,
    readonly port: number,
    readonly readyTimeoutMs: number,
  ) {
    this.url = `mqtt://127.0.0.1:${port}`;
  }

  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  log(): string {
    return this.#log;
  }

  async start(): Promise<void> {
    if (this.#closed) throw new Error("Cannot start mosquitto: it was closed");
    if (this.running) return;
    const child = spawn(this.bin, ["-c", this.config], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    installExitHook();
    running.set(child, this.dir);
    this.#child = child;
    const add = (chunk: string) => {
      this.#log = (this.#log + chunk).slice(-16_000);
    };
    child.stdout!.setEncoding("utf8").on("data", add);
    child.stderr!.setEncoding("utf8").on("data", add);
    this.#exited = new Promise((resolve) => {
      child.on("error", (e) => {
        add(`spawn error: ${e.message}\n`);
        running.delete(child);
        resolve();
      });
      child.on("exit", () => {
        running.delete(child);
        resolve();
      });
    });
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      if (!this.running) {
        await this.#exited;
        throw new Error(
          `mosquitto exited (${
            child.exitCode ?? child.signalCode
          }) before it listened:\n${this.#log}`,
        );
      }
      if (await answers(this.port)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(
          `mosquitto did not listen on ${this.port} within ${this.readyTimeoutMs} ms:\n${this.#log}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) {
      await this.#exited;
      return;
    }
    process.kill(child.pid!, "SIGTERM");
    const timer = setTimeout(() => {
      if (this.running) process.kill(child.pid!, "SIGKILL");
    }, 5000);
    await this.#exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port`. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A port free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null
        ? address.port
        : 0;
      server.close(() => resolve(port));
    });
  });
}
