import assert from "node:assert/strict";
import { test } from "node:test";
import { acceptsGzip, negotiateFormat } from "../../src/metrics/exposition.ts";

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
