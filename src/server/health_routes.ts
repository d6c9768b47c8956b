/**
 * Liveness, readiness and version: the routes a supervisor or load
 * balancer asks, open to everyone.
 *
 * @module
 */
import { Hono } from "hono";
import type { FlowManager } from "../flows/flow_manager.ts";
import { VERSION } from "../version.ts";
import { _methodNotAllowed } from "./_method_not_allowed.ts";
import { _jsonBody } from "./_json_memo.ts";
import { _json, _jsonResponse } from "./_response.ts";

/**
 * `GET /healthz` (`{ "status": "ok" }` while the server answers),
 * `GET /readyz` (200, or 503 with one reason per flow that should run but
 * does not) and `GET /version` (weir's version and the runtime's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { builtins } from "../components/mod.ts";
 * import { FlowManager, FlowStore } from "../flows/mod.ts";
 * import { healthRoutes } from "./health_routes.ts";
 *
 * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
 * const app = new Hono().route("/", healthRoutes(flows));
 * assert.deepEqual(await (await app.request("/healthz")).json(), { status: "ok" });
 * assert.deepEqual(await (await app.request("/readyz")).json(), { ready: true, reasons: [] });
 * await flows.close();
 * ```
 */
export function healthRoutes(flows: FlowManager): Hono {
  const app = new Hono();
  // The same answer every time: serialized once.
  const healthy = _jsonBody({ status: "ok" }, true);
  app.get("/healthz", (c) => _jsonResponse(c, healthy));
  app.get("/readyz", (c) => {
    const r = flows.readiness();
    return _json(c, r, r.ready ? 200 : 503);
  });
  app.get("/version", (c) => _json(c, { version: VERSION, ..._runtime() }));
  for (const path of ["/healthz", "/readyz", "/version"]) {
    _methodNotAllowed(app, path, "GET, HEAD");
  }
  return app;
}

/** The runtime's name and version, from the Web-standard user agent. */
function _runtime(): { runtime: string; runtimeVersion: string } {
  const ua = globalThis.navigator?.userAgent ?? "";
  const m = /^(Deno|Bun|Node\.js)\/(\S+)/.exec(ua);
  return m === null
    ? { runtime: "unknown", runtimeVersion: "" }
    : { runtime: m[1].toLowerCase(), runtimeVersion: m[2] };
}
