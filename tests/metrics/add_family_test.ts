import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram } from "../../src/engine/histogram.ts";
import { HTTP_METRICS, RESOURCE_METRICS } from "../../src/metrics/catalogue.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";
import { parseExposition, samplesOf, valueOf } from "./_exposition.ts";

test("addFamily: samples and histograms are written at every scrape, in both formats", async () => {
  const m = new MetricsCollector({
    namespace: "edge",
    constLabels: { site: "a" },
  });
  let threads = 3;
  m.addFamily(RESOURCE_METRICS.threads, (out) => out.sample({}, threads));
  const h = new Histogram([0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(7);
  m.addFamily(
    HTTP_METRICS.httpRequestDuration,
    (out) => out.histogram({ method: "GET", route: "/x", status: "200" }, h),
  );

  let e = parseExposition(await m.render());
  assert.equal(e.types.get("edge_threads"), "gauge");
  assert.equal(valueOf(e, "edge_threads", { site: "a" }), 3);
  // Conventional names keep no namespace.
  assert.equal(e.types.get("http_request_duration_seconds"), "histogram");
  const buckets = samplesOf(e, "http_request_duration_seconds_bucket");
  assert.deepEqual(
    buckets.map((s) => [s.labels.le, s.value]),
    [["0.1", 1], ["1", 2], ["+Inf", 3]],
  );
  assert.equal(buckets[0].labels.site, "a");
  assert.equal(valueOf(e, "http_request_duration_seconds_sum", {}), 7.55);
  assert.equal(valueOf(e, "http_request_duration_seconds_count", {}), 3);

  threads = 9;
  e = parseExposition(await m.render("openmetrics"));
  assert.equal(valueOf(e, "edge_threads", {}), 9);
  assert.equal(
    m.metadata()["http_request_duration_seconds"][0].unit,
    "seconds",
  );
});

test("addFamily: a name registered already is refused; remove() takes the family out", async () => {
  const m = new MetricsCollector();
  const remove = m.addFamily(RESOURCE_METRICS.threads, (o) => o.sample({}, 1));
  assert.throws(
    () => m.addFamily(RESOURCE_METRICS.threads, (o) => o.sample({}, 2)),
    /Cannot add metric "weir_threads": a metric of that name is registered already/,
  );
  assert.ok((await m.render()).includes("weir_threads 1"));
  remove();
  assert.ok(!(await m.render()).includes("weir_threads"));
  // Added again after removal.
  m.addFamily(RESOURCE_METRICS.threads, (o) => o.sample({}, 2));
  assert.ok((await m.render()).includes("weir_threads 2"));
});

test("addFamily: a collect that throws is counted and left out; the scrape still answers", async () => {
  const m = new MetricsCollector();
  m.addFamily(RESOURCE_METRICS.threads, (o) => {
    o.sample({}, 1);
    throw new Error("boom");
  });
  const e = parseExposition(await m.render());
  assert.equal(e.types.has("weir_threads"), false);
  assert.equal(
    valueOf(e, "weir_metrics_collection_errors_total", {
      collector: "weir_threads",
    }),
    1,
  );
});

test(
  "addFamily: promtool accepts the exposition",
  { skip: integrationSkip("promtool") },
  async () => {
    const m = new MetricsCollector();
    const h = new Histogram([100, 1000]);
    h.observe(10);
    m.addFamily(
      HTTP_METRICS.httpResponseSize,
      (o) => o.histogram({ method: "GET", route: "/" }, h),
    );
    m.addFamily(RESOURCE_METRICS.processOpenFds, (o) => o.sample({}, 12));
    const { ok, output } = await promtoolCheck(await m.render());
    assert.ok(ok, output);
  },
);
