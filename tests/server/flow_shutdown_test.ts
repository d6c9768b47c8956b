/**
 * The flow API while the flow manager shuts down: changes are 503, event streams end at once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "../../src/runtime/serve.ts";
import { until } from "../engine/_helpers.ts";
import {
  body,
  fbp,
  GOOD,
  mergePatch,
  openSocket,
  OTHER,
  receive,
  setup,
  statusOf,
} from "./_flow_api.ts";

test("after the flow manager closes (shutdown), changes are 503 with a sentence, not 500; reads still answer", async () => {
  const s = setup();
  await s.app.request("/flows/a", fbp(GOOD, "PUT"));
  await s.close();
  for (
    const [path, init] of [
      ["/flows", fbp(GOOD)],
      ["/flows/a", fbp(OTHER, "PUT")],
      ["/flows/b", fbp(OTHER, "PUT")],
      ["/flows/a", mergePatch("{}")],
      ["/flows/a", { method: "DELETE" }],
      ["/flows/a/start", { method: "POST" }],
      ["/flows/a/stop", { method: "POST" }],
    ] as [string, RequestInit][]
  ) {
    const res = await s.app.request(path, init);
    assert.equal(res.status, 503, `${init.method} ${path}`);
    assert.match(String((await body(res)).error), /the flow manager is closed/);
  }
  assert.equal((await s.app.request("/flows/a")).status, 200);
  assert.equal((await s.app.request("/readyz")).status, 503);
});

test(
  "shutting down with event-stream clients connected ends their streams at once; close() does not wait for its grace",
  {
    timeout: 60_000,
  },
  async () => {
    const streams = new AbortController();
    const s = setup({ signal: streams.signal });
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    // A grace longer than the test: close() must not need it.
    const server = await serve(s.app.fetch, { closeGraceMs: 600_000 });
    const ends: Promise<string>[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const socket = await openSocket(server.port);
        const got = receive(socket);
        socket.write("GET /flows/a/events HTTP/1.1\r\nHost: localhost\r\n\r\n");
        ends.push(got);
      }
      await until(() => s.subscriptions() === 5, 10_000);
      streams.abort();
      await server.close();
      assert.equal(s.subscriptions(), 0);
      for (const reply of await Promise.all(ends)) {
        assert.equal(statusOf(reply), 200);
        assert.match(reply, /event: state/);
      }
    } finally {
      await server.close();
      await s.close();
    }
  },
);
