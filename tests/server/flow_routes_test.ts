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

test("GET /flows/:id answers 304 without a body when If-None-Match names its rev", async () => {
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: builtins(),
  });
  const app = new Hono()
    .route(
      "/flows",
      flowRoutes({
        flows,
        maxBodyBytes: 1024,
        requestTimeoutMs: 5000,
        eventsIntervalMs: 1000,
      }),
    )
    .onError(errorHandler(() => {}));
  try {
    await app.request("/flows/a?start=false", {
      method: "PUT",
      headers: { "Content-Type": "text/vnd.fbp" },
      body: "A(core/Repeat)",
    });
    const get = (inm: string) =>
      app.request("/flows/a", { headers: { "If-None-Match": inm } });
    for (const inm of ['"1"', 'W/"1"', '"7", "1"', "*"]) {
      const res = await get(inm);
      assert.deepEqual(
        [inm, res.status, res.headers.get("etag"), await res.text()],
        [inm, 304, '"1"', ""],
      );
    }
    const stale = await get('"2"');
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get("etag"), '"1"');
    assert.equal((await stale.json()).rev, 1);
  } finally {
    await flows.close();
  }
});
