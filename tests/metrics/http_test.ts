import assert from "node:assert/strict";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { createNetwork } from "../../src/embed.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";
import { parseExposition, valueOf } from "./_exposition.ts";

const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

async function finishedFlow() {
  const metrics = new MetricsCollector();
  const net = createNetwork(
    `'1ms' -> interval Tick(core/Interval)
     20 -> count Tick
     Tick out -> in Drop(core/Drop)`,
    { name: "ticks" },
  );
  metrics.track(net);
  await net.start();
  await net.finished;
  return { metrics, app: metricsApp(metrics) };
}

test("GET /metrics serves a real flow's counters in text 0.0.4", async () => {
  const { app } = await finishedFlow();
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(
    res.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  const e = parseExposition(await res.text());
  assert.equal(
    valueOf(e, "weir_process_messages_total", {
      process: "Drop",
      direction: "in",
    }),
    20,
  );
});

test("GET /metrics answers Prometheus's Accept header in OpenMetrics", async () => {
  const { app } = await finishedFlow();
  const res = await app.request("/metrics", {
    headers: { accept: PROMETHEUS_ACCEPT },
  });
  assert.equal(
    res.headers.get("content-type"),
    "application/openmetrics-text; version=1.0.0; charset=utf-8",
  );
  const body = await res.text();
  assert.ok(body.endsWith("# EOF\n"));
  assert.match(body, /^# TYPE weir_process_messages counter$/m);
});

test("GET /metrics gzips a real exposition when asked, and it reads back whole", async () => {
  const { app, metrics } = await finishedFlow();
  const res = await app.request("/metrics", {
    headers: { "accept-encoding": "gzip" },
  });
  assert.equal(res.headers.get("content-encoding"), "gzip");
  const body = gunzipSync(new Uint8Array(await res.arrayBuffer())).toString();
  assert.equal(body, await metrics.render("text"));
});

test("GET /api/v1/metadata lists the catalogue from a real collector", async () => {
  const { app } = await finishedFlow();
  const res = await app.request(
    "/api/v1/metadata?metric=weir_process_queue_depth",
  );
  const json = await res.json();
  assert.deepEqual(json, {
    status: "success",
    data: {
      weir_process_queue_depth: [{
        type: "gauge",
        help:
          "Messages buffered in a process's in-port queues, senders waiting on a full queue included.",
        unit: "",
        labels: ["flow", "process", "port"],
      }],
    },
  });
});

test("an unknown path under the metrics app is a 404, and the app still serves", async () => {
  const { app } = await finishedFlow();
  const res = await app.request("/metrics/../../etc/passwd%00");
  assert.equal(res.status, 404);
  assert.match((await res.json()).error, /^no route for \//);
  assert.equal((await app.request("/nope")).status, 404);
  assert.equal((await app.request("/metrics")).status, 200);
});
