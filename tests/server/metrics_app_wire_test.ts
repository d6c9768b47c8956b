/**
 * The metrics endpoint over a real socket: text and gzip, multi-MB bodies, HEAD's Content-Length, pipelining, query strings, encoded paths and OPTIONS.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";
import {
  bigExposition,
  exchange,
  HeldSource,
  nodeHttp,
  TEXT_TYPE,
  withMetricsServer,
} from "./_metrics_sockets.ts";

// ---- bodies over the wire ---------------------------------------------------

test("a real collector's /metrics arrives over a socket in text 0.0.4, plain and gzipped", async () => {
  const metrics = new MetricsCollector();
  await withMetricsServer(metrics, async (server) => {
    const plain = await nodeHttp(server.port, "/metrics");
    assert.equal(plain.status, 200);
    assert.equal(plain.headers["content-type"], TEXT_TYPE);
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(Number(plain.headers["content-length"]), plain.body.length);
    assert.match(plain.body.toString("utf8"), /^# TYPE \w+ \w+$/m);

    const zipped = await nodeHttp(server.port, "/metrics", {
      headers: { "Accept-Encoding": "gzip" },
    });
    assert.equal(zipped.headers["content-encoding"], "gzip");
    assert.equal(Number(zipped.headers["content-length"]), zipped.body.length);
    assert.match(gunzipSync(zipped.body).toString("utf8"), /^# TYPE /m);
  });
});

test("an 8 MB exposition arrives whole over a socket: fetch (auto-gunzip), node:http gzip, node:http plain", async () => {
  const source = new HeldSource(bigExposition(8));
  await withMetricsServer(source, async (server) => {
    const viaFetch = await fetch(`${server.url}/metrics`, {
      headers: { "Accept-Encoding": "gzip" },
    });
    assert.equal(viaFetch.status, 200);
    assert.equal(viaFetch.headers.get("content-encoding"), "gzip");
    assert.ok(await viaFetch.text() === source.exposition, "fetch body");

    const zipped = await nodeHttp(server.port, "/metrics", {
      headers: { "Accept-Encoding": "gzip" },
    });
    assert.ok(zipped.body.length < source.exposition.length / 5);
    assert.ok(
      gunzipSync(zipped.body).toString("utf8") === source.exposition,
      "node:http gzip body",
    );

    const plain = await nodeHttp(server.port, "/metrics");
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body.length, source.exposition.length);
    assert.ok(plain.body.toString("utf8") === source.exposition);
  });
});

test("HEAD /metrics over a socket announces the Content-Length a GET has, not 0", async () => {
  // RFC 9110 8.6: a Content-Length in a HEAD response must be the size the
  // GET would send; `curl -I` and uptime checkers show it.
  const source = new HeldSource(bigExposition(0.1));
  await withMetricsServer(source, async (server) => {
    const variants: Record<string, string>[] = [{}, {
      "Accept-Encoding": "gzip",
    }];
    for (const headers of variants) {
      const get = await nodeHttp(server.port, "/metrics", { headers });
      const head = await nodeHttp(server.port, "/metrics", {
        method: "HEAD",
        headers,
      });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.equal(
        head.headers["content-encoding"],
        get.headers["content-encoding"],
      );
      const length = head.headers["content-length"];
      assert.ok(
        length === undefined || Number(length) === get.body.length,
        `HEAD says content-length: ${length}, the GET sent ${get.body.length} bytes (${
          JSON.stringify(headers)
        })`,
      );
    }
  });
});

test("a GET /metrics with a body is answered, and so is the request pipelined after it", async () => {
  const source = new HeldSource();
  await withMetricsServer(source, async (server) => {
    const reply = await exchange(
      server.port,
      "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
        "GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const statuses = reply.match(/HTTP\/1\.1 \d{3}/g);
    assert.deepEqual(statuses, ["HTTP/1.1 200", "HTTP/1.1 200"], reply);
    assert.ok(reply.includes(source.exposition));
    assert.ok(reply.endsWith('{"status":"success","data":{}}'), reply);
  });
});

// ---- paths, queries and methods (no socket needed) --------------------------

test("GET /metrics with a query string, as Prometheus `params:` sends, serves the exposition", async () => {
  const source = new HeldSource();
  const app = metricsApp(source);
  for (
    const path of ["/metrics?x=1", "/metrics?module=a&module=b", "/metrics?"]
  ) {
    const res = await app.request(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("content-type"), TEXT_TYPE, path);
    assert.equal(await res.text(), source.exposition, path);
  }
});

test("GET /%6Detrics is /metrics; /metrics%2F and //metrics are not", async () => {
  const app = metricsApp(new HeldSource());
  assert.equal((await app.request("/%6Detrics")).status, 200);
  assert.equal((await app.request("/metrics%2F")).status, 404);
  assert.equal((await app.request("//metrics")).status, 404);
});

test("OPTIONS /metrics answers 405 with Allow: GET, HEAD and renders nothing", async () => {
  const source = new HeldSource();
  const res = await metricsApp(source).request("/metrics", {
    method: "OPTIONS",
  });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "GET, HEAD");
  assert.equal(source.started, 0);
});
