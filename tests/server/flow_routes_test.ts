import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono, type MiddlewareHandler } from "hono";
import { builtins } from "../../src/components/mod.ts";
import { FlowManager, FlowStore } from "../../src/flows/mod.ts";
import { errorHandler } from "../../src/server/error_handler.ts";
import { flowRoutes } from "../../src/server/flow_routes.ts";

test("flowRoutes() runs its middleware once per request on every flow route, the list included", async () => {
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: builtins(),
  });
  const seen: string[] = [];
  const count: MiddlewareHandler = async (c, next) => {
    seen.push(`${c.req.method} ${c.req.path}`);
    await next();
  };
  const app = new Hono()
    .route(
      "/flows",
      flowRoutes({
        flows,
        maxBodyBytes: 1024,
        requestTimeoutMs: 5000,
        eventsIntervalMs: 1000,
        middleware: [count],
      }),
    )
    .onError(errorHandler(() => {}));
  try {
    const put = await app.request("/flows/a?start=false", {
      method: "PUT",
      headers: { "Content-Type": "text/vnd.fbp" },
      body: "A(core/Repeat)",
    });
    assert.equal(put.status, 201);
    assert.equal((await app.request("/flows")).status, 200);
    assert.equal((await app.request("/flows/a")).status, 200);
    assert.equal((await app.request("/flows/a/stats")).status, 200);
    assert.deepEqual(seen, [
      "PUT /flows/a",
      "GET /flows",
      "GET /flows/a",
      "GET /flows/a/stats",
    ]);
  } finally {
    await flows.close();
  }
});
