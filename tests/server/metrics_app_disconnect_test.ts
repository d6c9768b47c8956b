/**
 * Scrapers that hang up mid-render or mid-body, and the scrape cap over real sockets: the server keeps serving.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  bigExposition,
  HeldSource,
  nodeHttp,
  openSocket,
  withMetricsServer,
} from "./_metrics_sockets.ts";

// ---- clients that go away ---------------------------------------------------

test("a scraper that disconnects mid-render gives its slot back, and the server keeps serving", async () => {
  const source = new HeldSource();
  await withMetricsServer(source, async (server) => {
    source.hold();
    const socket = await openSocket(server.port);
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    await source.whenStarted(1);
    socket.destroy();
    // The slot is taken while the orphaned render runs...
    assert.equal((await fetch(`${server.url}/metrics`)).status, 503);
    source.release();
    // ...and given back once it ends, with nobody left to answer.
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), source.exposition);
  }, 1);
});

test("clients that hang up while a multi-MB body is being written leave the server serving", async () => {
  const source = new HeldSource(bigExposition(4));
  await withMetricsServer(source, async (server) => {
    for (let i = 0; i < 5; i++) {
      const socket = await openSocket(server.port);
      socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
      await new Promise((r) => socket.once("data", r));
      socket.destroy();
    }
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.ok((await res.text()) === source.exposition);
  });
});

// ---- the scrape cap over real sockets ---------------------------------------

test("over real sockets the scraper beyond the cap gets 503 with Retry-After at once, the others 200", async () => {
  const source = new HeldSource();
  await withMetricsServer(source, async (server) => {
    source.hold();
    // Two formats, so two renders: both are known to have started (a
    // scrape of a format that is rendering would join that render).
    const held = ["text/plain", "application/openmetrics-text"].map((accept) =>
      nodeHttp(server.port, "/metrics", { headers: { Accept: accept } })
    );
    await source.whenStarted(2);
    const refused = await nodeHttp(server.port, "/metrics");
    assert.equal(refused.status, 503);
    assert.equal(refused.headers["retry-after"], "1");
    assert.match(refused.body.toString(), /too many concurrent scrapes: 2/);
    assert.equal(source.started, 2, "a refused scrape does not render");
    source.release();
    for (const res of await Promise.all(held)) {
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), source.exposition);
    }
  }, 2);
});
