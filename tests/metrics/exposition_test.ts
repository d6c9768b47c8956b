import assert from "node:assert/strict";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { acceptsGzip, negotiateFormat } from "../../src/metrics/exposition.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";
import { oddFlow, userMetrics } from "./_fixtures.ts";

test("negotiateFormat() picks OpenMetrics from Prometheus's own Accept header", () => {
  assert.equal(
    negotiateFormat(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    ),
    "openmetrics",
  );
});

test("negotiateFormat() prefers text when the client ranks it higher", () => {
  assert.equal(
    negotiateFormat("application/openmetrics-text;q=0.3, text/plain;q=0.9"),
    "text",
  );
  assert.equal(negotiateFormat("text/plain;version=0.0.4"), "text");
  assert.equal(negotiateFormat("*/*"), "text");
  assert.equal(negotiateFormat(undefined), "text");
});

test("negotiateFormat() falls back to text for malformed headers", () => {
  for (
    const h of [
      "%%%",
      ";;;",
      "application/openmetrics-text;q=abc",
      "application/openmetrics-text;q=2",
      "application/openmetrics-text;=",
      "application/openmetrics-text/extra",
      "application/openmetrics-text;q=0",
      "x".repeat(5000),
    ]
  ) assert.equal(negotiateFormat(h), "text", h);
});

test("acceptsGzip() reads codings and their q values", () => {
  assert.equal(acceptsGzip("gzip"), true);
  assert.equal(acceptsGzip("br, GZIP;q=0.5"), true);
  assert.equal(acceptsGzip("*"), true);
  assert.equal(acceptsGzip("gzip;q=0"), false);
  assert.equal(acceptsGzip("*, gzip;q=0"), false);
  assert.equal(acceptsGzip("identity"), false);
  assert.equal(acceptsGzip(""), false);
});

test("concurrent gzip scrapes of a real collector through metricsApp each read back whole", async () => {
  const m = new MetricsCollector();
  userMetrics(m);
  m.track(await oddFlow());
  const app = metricsApp(m);
  const plain = await m.render("text");
  const responses = await Promise.all(
    Array.from(
      { length: 4 },
      () => app.request("/metrics", { headers: { "Accept-Encoding": "gzip" } }),
    ),
  );
  for (const res of responses) {
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-encoding"), "gzip");
    const body = gunzipSync(new Uint8Array(await res.arrayBuffer()))
      .toString("utf8");
    assert.equal(body, plain);
  }
});

test("HEAD /metrics with Accept-Encoding gzip answers the gzip headers and no body", async () => {
  const m = new MetricsCollector();
  const app = metricsApp(m);
  const res = await app.request("/metrics", {
    method: "HEAD",
    headers: { "Accept-Encoding": "gzip" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-encoding"), "gzip");
  assert.equal(
    res.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  assert.equal((await res.arrayBuffer()).byteLength, 0);
});

test("an Accept header over 4 KiB is answered in text 0.0.4, not refused", async () => {
  const m = new MetricsCollector();
  const app = metricsApp(m);
  const accept = "application/openmetrics-text;version=1.0.0," +
    Array.from({ length: 400 }, (_, i) => `x/y${i};q=0.1`).join(",");
  assert.ok(accept.length > 4096);
  const res = await app.request("/metrics", { headers: { Accept: accept } });
  assert.equal(res.status, 200);
  assert.equal(
    res.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
});
