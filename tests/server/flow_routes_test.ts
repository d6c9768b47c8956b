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

test("GET /flows/:id answers 304 without a body when If-None-Match names its entity tag, which starts with its rev", async () => {
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
    const tag = (await app.request("/flows/a")).headers.get("etag")!;
    assert.match(tag, /^"1-[0-9a-f]+"$/);
    for (const inm of [tag, `W/${tag}`, `"7", ${tag}`, "*"]) {
      const res = await get(inm);
      assert.deepEqual(
        [inm, res.status, res.headers.get("etag"), await res.text()],
        [inm, 304, tag, ""],
      );
    }
    const stale = await get('"2"');
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get("etag"), tag);
    assert.equal((await stale.json()).rev, 1);
    // The tag of a GET is a good If-Match for a change of the flow.
    const put = await app.request("/flows/a?start=false", {
      method: "PUT",
      headers: { "Content-Type": "text/vnd.fbp", "If-Match": tag },
      body: "B(core/Repeat)",
    });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal((await put.json()).rev, 2);
  } finally {
    await flows.close();
  }
});

test("GET /flows/:id answers 200, not 304, to the entity tag of a body it no longer shows: the flow finished by itself, its rev unchanged", async () => {
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
    // One tick 300 ms after the start: the GET below comes while the flow
    // runs (with 1 ms, a busy machine had it finished before the GET).
    await app.request("/flows/a", {
      method: "PUT",
      headers: { "Content-Type": "text/vnd.fbp" },
      body: "'300ms' -> interval T(core/Interval) out -> in D(core/Drop)\n" +
        "'1' -> count T",
    });
    const first = await app.request("/flows/a");
    const tag = first.headers.get("etag")!;
    assert.equal((await first.json()).state, "running");
    // Its one tick sent, it finishes by itself: no change of rev.
    await new Promise<void>((resolve) => {
      const off = flows.subscribe("a", (e) => {
        if (e.type === "state" && e.state === "finished") {
          off();
          resolve();
        }
      });
      if (flows.get("a").state === "finished") {
        off();
        resolve();
      }
    });
    const again = await app.request("/flows/a", {
      headers: { "If-None-Match": tag },
    });
    assert.equal(again.status, 200);
    const info = await again.json();
    assert.deepEqual([info.state, info.rev], ["finished", 1]);
    assert.notEqual(again.headers.get("etag"), tag);
  } finally {
    await flows.close();
  }
});
