/**
 * The only part of weir that touches `Deno.*` or `Bun.*`: one HTTP
 * {@linkcode serve} for both runtimes (with its connections measured from
 * `/proc`), shutdown signals, errors that escape every handler, and the resource readings (memory, CPU,
 * `/proc`) that the metrics' `ResourceTracker` exports.
 *
 * @example Serve a handler on a free loopback port
 * ```ts
 * import assert from "node:assert/strict";
 * import { serve } from "./mod.ts";
 *
 * const server = await serve(() => new Response("hello"));
 * const response = await fetch(server.url);
 * assert.equal(await response.text(), "hello");
 * await server.close();
 * ```
 *
 * @module
 */
export {
  type FetchHandler,
  serve,
  type ServeOptions,
  type Server,
} from "./serve.ts";
export type { ServerConnections } from "./connections.ts";
export {
  onShutdown,
  SHUTDOWN_SIGNALS,
  type ShutdownSignal,
} from "./signals.ts";
export { onUncaught, type UncaughtKind } from "./uncaught.ts";
export {
  bunResourceSource,
  denoResourceSource,
  resourceSource,
} from "./resources.ts";
