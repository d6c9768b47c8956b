/**
 * serve()'s close(): it waits for a scrape under way, and cuts clients that stall.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { serve } from "../../src/runtime/serve.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";
import {
  bigExposition,
  HeldSource,
  nodeHttp,
  openSocket,
  within,
} from "../server/_metrics_sockets.ts";

// ---- closing ----------------------------------------------------------------

test("close() during a gzip scrape waits for it, and closes an idle keep-alive connection", async () => {
  const source = new HeldSource(bigExposition(1));
  const server = await serve(metricsApp(source).fetch);
  const idle = await openSocket(server.port);
  const idleClosed = new Promise((r) => idle.once("close", r));
  idle.write("GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise((r) => idle.once("data", r));

  source.hold();
  const scrape = nodeHttp(server.port, "/metrics", {
    headers: { "Accept-Encoding": "gzip" },
  });
  await source.whenStarted(1);
  let closed = false;
  const closing = server.close().then(() => closed = true);
  await idleClosed;
  assert.equal(closed, false, "close() waits for the scrape in flight");
  source.release();
  const res = await scrape;
  assert.equal(res.status, 200);
  assert.ok(gunzipSync(res.body).toString("utf8") === source.exposition);
  assert.equal((await within(closing, 2000)).settled, true);
  await assert.rejects(fetch(`${server.url}/metrics`), TypeError);
});

test("close() cuts a client that sent half a request after closeGraceMs", {
  timeout: 10_000,
}, async () => {
  const server = await serve(metricsApp(new HeldSource()).fetch, {
    closeGraceMs: 500,
  });
  const socket = await openSocket(server.port);
  try {
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    // The server has read the partial head before close() is called.
    await new Promise((r) => setTimeout(r, 50));
    const { settled, ms } = await within(server.close(), 2500);
    assert.ok(
      settled,
      `close() still pending after ${ms} ms: a half-sent request holds it`,
    );
  } finally {
    socket.destroy();
    await within(server.close(), 1000);
  }
});

test(
  "close() does not wait forever for a scraper that stopped reading its response",
  {
    timeout: 15_000,
  },
  async () => {
    // A stalled scraper (or a paused container) must not keep weir from
    // exiting on SIGTERM: close() needs a bound on how long it lets a
    // response that nobody reads go on.
    const source = new HeldSource(bigExposition(20));
    const server = await serve(metricsApp(source).fetch, {
      closeGraceMs: 1000,
    });
    const socket = await openSocket(server.port);
    try {
      socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
      await new Promise((r) => socket.once("data", r));
      socket.pause();
      const { settled, ms } = await within(server.close(), 6000);
      assert.ok(
        settled,
        `close() still pending after ${ms} ms while a scraper does not read`,
      );
    } finally {
      socket.destroy();
      await within(server.close(), 1000);
    }
  },
);
