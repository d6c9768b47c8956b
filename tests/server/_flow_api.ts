/**
 * The flow API's edge tests' setup: a flow app over an in-memory store that counts subscriptions and stats calls, request builders, and raw-socket helpers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { builtins } from "../../src/components/mod.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { flowApp, type FlowAppOptions } from "../../src/server/flow_app.ts";
import type { AccessOptions } from "../../src/server/auth.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";

export const GOOD =
  `'1s' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n`;

export const OTHER =
  `'2s' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n`;

export const TOKEN = "t".repeat(24);

export interface Setup {
  app: ReturnType<typeof flowApp>;
  flows: FlowManager;
  store: FlowStore;
  /** Event subscriptions open now. */
  subscriptions(): number;
  /** `flows.stats()` calls so far, by flow id. */
  statsCalls: Map<string, number>;
  close(): Promise<void>;
}

export function setup(
  extra: Partial<FlowAppOptions> & { access?: AccessOptions } = {},
  store: FlowStore = FlowStore.open(":memory:"),
): Setup {
  const metrics = new MetricsCollector();
  // The flows' components too, when given (e.g. builtins({ output })).
  const components = extra.components ?? builtins();
  const flows = new FlowManager({
    store,
    registry: components,
    collector: metrics,
    drainTimeoutMs: 1000,
    log: () => {},
  });
  // Counted from outside: every subscription the app opens, and closes.
  let open = 0;
  const subscribe = flows.subscribe.bind(flows);
  flows.subscribe = (id, listener) => {
    const off = subscribe(id, listener);
    open++;
    let done = false;
    return () => {
      if (!done) open--;
      done = true;
      off();
    };
  };
  const statsCalls = new Map<string, number>();
  const stats = flows.stats.bind(flows);
  flows.stats = (id) => {
    statsCalls.set(id, (statsCalls.get(id) ?? 0) + 1);
    return stats(id);
  };
  const app = flowApp({ flows, metrics, components, ...extra });
  return {
    app,
    flows,
    store,
    subscriptions: () => open,
    statsCalls,
    close: () => flows.close({ timeoutMs: 1000 }),
  };
}

export const fbp = (
  body: string,
  method = "POST",
  headers: Record<string, string> = {},
): RequestInit => ({
  method,
  headers: { "Content-Type": "text/vnd.fbp", ...headers },
  body,
});

export const mergePatch = (
  patch: string,
  headers: Record<string, string> = {},
) => ({
  method: "PATCH",
  headers: { "Content-Type": "application/merge-patch+json", ...headers },
  body: patch,
});

/** The flows as the manager and as the database see them: equal when consistent. */
export function views(s: Setup): { memory: string; stored: string } {
  return {
    memory: JSON.stringify(
      s.flows.list().map(({ id, rev, running }) => ({ id, rev, running })),
    ),
    stored: JSON.stringify(
      s.store.list().map(({ id, rev, running }) => ({ id, rev, running })),
    ),
  };
}

export async function body(res: Response): Promise<Record<string, unknown>> {
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return await res.json();
}

// ---- real sockets ----

/** A raw TCP connection to the server; errors are swallowed. */
export async function openSocket(port: number): Promise<Socket> {
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/** Everything received until `done(text)` holds, or the connection closes. */
export function receive(
  socket: Socket,
  done: (text: string) => boolean = () => false,
): Promise<string> {
  let text = "";
  socket.setEncoding("latin1");
  return new Promise((resolve) => {
    socket.on("data", (d: string) => {
      text += d;
      if (done(text)) resolve(text);
    });
    socket.once("close", () => resolve(text));
  });
}

/** Status of a raw HTTP/1.1 response. */
export function statusOf(reply: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1]);
}
