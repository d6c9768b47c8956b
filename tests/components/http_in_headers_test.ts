/**
 * The headers of an `http/In` message served by the runtime's own server:
 * the same record on Deno and Bun (names in lower case, a repeated header
 * joined, no credentials), readable after the request was answered,
 * replaceable, and in what a message serializes to. On Bun the record is
 * made when first read (see `_message` in http_in_router.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono } from "hono";
import {
  type HttpInMessage,
  HttpInRouter,
} from "../../src/components/http_in_router.ts";
import { compileRoutePattern } from "../../src/components/http_route_pattern.ts";
import { serve } from "../../src/runtime/serve.ts";
import { httpInRoutes } from "../../src/server/http_in_routes.ts";

test("an http/In message's headers: one record on every runtime, read after the answer, replaceable, serialized", async () => {
  const router = new HttpInRouter();
  const messages: HttpInMessage[] = [];
  router.add({
    flow: "f",
    process: "In",
    methods: ["POST", "GET"],
    pattern: compileRoutePattern("/h"),
    timeoutMs: 5000,
    maxBodyBytes: 1024,
    maxPending: 10,
    // Answered at once: the headers are read only after the answer.
    deliver(m) {
      messages.push(m);
      router.respond("f", m.requestId, new Response("ok"));
    },
  });
  const app = new Hono().route("/", httpInRoutes(router));
  const server = await serve(app.fetch, { hostname: "127.0.0.1", port: 0 });
  try {
    const url = `http://127.0.0.1:${server.port}/in/f/h`;
    const headers = new Headers([
      ["Content-Type", "application/json"],
      ["X-Two", "a"],
      ["X-Two", "b"],
      ["Authorization", "Bearer secret-token"],
      ["Proxy-Authorization", "Basic c2VjcmV0"],
    ]);
    const post = await fetch(url, { method: "POST", headers, body: "[1]" });
    assert.equal(await post.text(), "ok");
    const get = await fetch(url, { headers: { "x-one": "1" } });
    assert.equal(await get.text(), "ok");
    for (let i = 0; i < 4; i++) {
      await (await fetch(url, { headers: { cookie: "sid=abc" } })).text();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));

    const [p, g, n, u, f, c] = messages;
    // Cleared by a process: stays cleared (never made again from the request).
    (n as { headers: unknown }).headers = null;
    (u as { headers: unknown }).headers = undefined;
    assert.equal(n.headers, null);
    assert.equal(u.headers, undefined);
    assert.doesNotMatch(JSON.stringify([n, u]), /sid=abc/);
    // Frozen before its headers were read: they read, and refuse a new value.
    Object.freeze(f);
    assert.equal(f.headers.cookie, "sid=abc");
    assert.throws(() => {
      f.headers = {};
    }, TypeError);
    assert.equal(f.headers.cookie, "sid=abc");
    // Read once, the field is a value's, as a message of any runtime has it.
    assert.equal(c.headers.cookie, "sid=abc");
    const field = Object.getOwnPropertyDescriptor(c, "headers")!;
    assert.equal(field.value, c.headers);
    assert.equal(
      field.writable && field.enumerable && field.configurable,
      true,
    );

    assert.deepEqual(p.body, [1]);
    assert.equal(p.headers["content-type"], "application/json");
    assert.equal(p.headers["content-length"], "3");
    assert.equal(p.headers["x-two"], "a, b");
    assert.equal(p.headers["authorization"], undefined);
    assert.equal(p.headers["proxy-authorization"], undefined);
    assert.equal(p.headers.host, `127.0.0.1:${server.port}`);
    assert.ok(Object.keys(p).includes("headers"));
    // The record is kept: a change to it is seen by the next reader.
    p.headers["x-added"] = "yes";
    assert.equal(p.headers["x-added"], "yes");
    const serialized = JSON.parse(JSON.stringify(p));
    assert.equal(serialized.headers["x-two"], "a, b");
    assert.equal(serialized.headers["x-added"], "yes");
    assert.doesNotMatch(JSON.stringify(p), /secret/);
    assert.deepEqual({ ...g }.headers["x-one"], "1");
    // Replaced whole, as a process that sets the field does.
    g.headers = { "x-new": "2" };
    assert.deepEqual(g.headers, { "x-new": "2" });
    assert.deepEqual(JSON.parse(JSON.stringify(g)).headers, { "x-new": "2" });
    assert.deepEqual(Object.keys(g), [
      "requestId",
      "method",
      "path",
      "params",
      "query",
      "headers",
      "body",
    ]);
  } finally {
    await server.close();
  }
});
