/**
 * Real-socket helpers for the metrics endpoint's tests: a source whose renders can be held, big expositions, raw sockets and node:http, and a metrics server to run a test against.
 *
 * @module
 */
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import type {
  ExpositionFormat,
  MetricMetadata,
  MetricsSource,
} from "../../src/metrics/exposition.ts";
import { serve, type Server } from "../../src/runtime/serve.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";

export const TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A source with a fixed exposition whose renders can be held open. */
export class HeldSource implements MetricsSource {
  /** How many renders have started. */
  started = 0;
  #gate: Promise<void> | undefined;
  #open: () => void = () => {};
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(public exposition = "# TYPE up gauge\nup 1\n") {}

  /** Renders from now on wait until {@linkcode release}. */
  hold(): void {
    this.#gate = new Promise((resolve) => this.#open = resolve);
  }

  release(): void {
    this.#gate = undefined;
    this.#open();
  }

  /** Resolves once `count` renders have started in all. */
  whenStarted(count: number): Promise<void> {
    if (this.started >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async render(_format: ExpositionFormat): Promise<string> {
    this.started++;
    for (const w of this.#waiters) if (this.started >= w.count) w.resolve();
    if (this.#gate) await this.#gate;
    return this.exposition;
  }

  metadata(): Record<string, MetricMetadata[]> {
    return {};
  }
}

/** An exposition of about `mb` megabytes, every line distinct. */
export function bigExposition(mb: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < mb * 1_000_000; i++) {
    const line = `weir_process_messages_total{flow="f${
      i % 7
    }",process="p${i}",port="in",direction="in"} ${i * 37}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join("\n") + "\n";
}

/** A connected raw TCP socket to 127.0.0.1:port; errors are swallowed. */
export async function openSocket(
  port: number,
  host = "127.0.0.1",
): Promise<Socket> {
  const socket = connect({ host, port });
  socket.on("error", () => {});
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/** Everything a raw socket receives until the server closes it. */
export function readAll(socket: Socket): Promise<string> {
  let out = "";
  socket.setEncoding("latin1");
  socket.on("data", (d: string) => out += d);
  return new Promise((resolve) => socket.once("close", () => resolve(out)));
}

/** Sends `payload` on a new connection, resolves with the whole reply. */
export async function exchange(port: number, payload: string): Promise<string> {
  const socket = await openSocket(port);
  const all = readAll(socket);
  socket.write(payload);
  return await all;
}

/** Whether `promise` settles within `ms`, and how long it took. */
export async function within(
  promise: Promise<unknown>,
  ms: number,
): Promise<{ settled: boolean; ms: number }> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms)),
  ]);
  clearTimeout(timer);
  return { settled, ms: Math.round(performance.now() - start) };
}

/** `node:http` GET or HEAD: status, headers and the raw (undecoded) body. */
export function nodeHttp(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Runs `body` with the metrics app of `source` served on 127.0.0.1:0. */
export async function withMetricsServer(
  source: MetricsSource,
  body: (server: Server) => Promise<void>,
  maxConcurrentScrapes?: number,
): Promise<void> {
  const server = await serve(
    metricsApp(source, { maxConcurrentScrapes }).fetch,
  );
  try {
    await body(server);
  } finally {
    // A hung close must not hang the suite: the tests that are about
    // closing check it themselves.
    await within(server.close(), 2000);
  }
}
