/**
 * Concurrent scrapes of `GET /metrics` share renders: eight scrapers at once
 * cost one render (or two, when some came while the first one ran), every
 * answer is whole, and none carries values read before the previous render.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { Gauge } from "prom-client";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { httpMetricsFetch } from "../../src/metrics/http_metrics.ts";
import type {
  ExpositionFormat,
  MetricMetadata,
  MetricsSource,
} from "../../src/metrics/exposition.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";
import { openSocket, readAll, withMetricsServer } from "./_metrics_sockets.ts";

const LINES = 5_000;

/**
 * A source of about 250 KB whose renders block the loop (a render that
 * never yields) and say which render they are and what they read.
 */
class BlockingSource implements MetricsSource {
  renders = 0;
  /** What the next render reads. */
  reading = 0;
  /** Called as a render starts, before it blocks. */
  onRender: () => void = () => {};
  constructor(readonly blockMs: number) {}

  render(format: ExpositionFormat): Promise<string> {
    this.renders++;
    this.onRender();
    const lines = [
      `# TYPE reading gauge`,
      `reading ${this.reading}`,
      `# TYPE render gauge`,
      `render ${this.renders}`,
      `# TYPE filler gauge`,
    ];
    for (let i = 0; i < LINES; i++) {
      lines.push(`filler{series="s${i}",flow="f${i % 100}"} ${i}`);
    }
    lines.push("# TYPE last gauge", "last 1");
    if (format === "openmetrics") lines.push("# EOF");
    const until = performance.now() + this.blockMs;
    while (performance.now() < until) { /* blocks the loop */ }
    return Promise.resolve(lines.join("\n") + "\n");
  }

  metadata(): Record<string, MetricMetadata[]> {
    return {};
  }
}

/** The value of the sample `name` (no labels) in an exposition. */
function valueOf(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  assert.ok(m, `no sample ${name}`);
  return Number(m[1]);
}

/** Whether `text` is a whole exposition of the source (its last sample there). */
function whole(text: string): boolean {
  return text.startsWith("# TYPE reading gauge\n") &&
    text.split("\n").length === LINES + 8 && text.endsWith("\nlast 1\n");
}

test("8 concurrent GET /metrics (plain, gzip, HEAD) share one render, each answer whole and current", async () => {
  const source = new BlockingSource(20);
  const app = metricsApp(source);
  source.reading = 41;
  const requests = Array.from(
    { length: 8 },
    (_, i) =>
      Promise.resolve(app.request("/metrics", {
        method: i === 7 ? "HEAD" : "GET",
        headers: i % 2 === 0 ? { "Accept-Encoding": "gzip" } : {},
      })),
  );
  const answers = await Promise.all(requests);
  assert.equal(source.renders, 1);
  let plainLength = "";
  for (const [i, res] of answers.entries()) {
    assert.equal(res.status, 200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (i === 7) {
      assert.equal(bytes.length, 0);
      assert.equal(res.headers.get("content-length"), plainLength);
      continue;
    }
    const gzipped = i % 2 === 0;
    assert.equal(res.headers.get("content-encoding"), gzipped ? "gzip" : null);
    const text = gzipped
      ? gunzipSync(bytes).toString("utf8")
      : new TextDecoder().decode(bytes);
    assert.ok(whole(text), `answer ${i} is whole`);
    assert.equal(valueOf(text, "reading"), 41);
    assert.equal(valueOf(text, "render"), 1);
    if (!gzipped) plainLength = String(bytes.length);
  }
  // The next scrape, after that render ended, reads anew.
  source.reading = 42;
  const next = await (await app.request("/metrics")).text();
  assert.equal(valueOf(next, "reading"), 42);
  assert.equal(source.renders, 2);
});

test(
  "8 scrapers over real sockets, queued while a render blocks the loop, cost at most two renders; every answer whole and current",
  {
    timeout: 20_000,
  },
  async () => {
    const source = new BlockingSource(100);
    await withMetricsServer(source, async (server) => {
      const sockets = await Promise.all(
        Array.from({ length: 8 }, () => openSocket(server.port)),
      );
      const replies = sockets.map(readAll);
      source.reading = 7;
      // Sent at once: the first one to reach the server starts a render that
      // blocks the loop for 100 ms, and the others wait in their sockets
      // until it ends.
      const request =
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      for (const s of sockets) s.write(request);
      const answers = await Promise.all(replies);
      for (const [i, raw] of answers.entries()) {
        const split = raw.indexOf("\r\n\r\n");
        assert.match(raw.slice(0, split), /^HTTP\/1\.1 200 /, `answer ${i}`);
        const body = raw.slice(split + 4);
        assert.ok(whole(body), `answer ${i} is whole`);
        assert.equal(valueOf(body, "reading"), 7);
      }
      // The first render for the first scrape, at most one more for the
      // seven that queued behind it: never one render per scrape.
      assert.ok(
        source.renders <= 2,
        `${source.renders} renders for 8 scrapes`,
      );
    });
  },
);

test("8 concurrent scrapes of a MetricsCollector share one render with values from after they came", async () => {
  const collector = new MetricsCollector();
  let renders = 0;
  const app = metricsApp({
    render: (format) => {
      renders++;
      return collector.render(format);
    },
    metadata: () => collector.metadata(),
  });
  collector.recordFlowOperation("create", "success");
  const first = await (await app.request("/metrics")).text();
  for (let i = 0; i < 5; i++) collector.recordFlowOperation("start", "error");
  const texts = await Promise.all(
    Array.from(
      { length: 8 },
      async () => await (await app.request("/metrics")).text(),
    ),
  );
  assert.equal(renders, 2);
  const line =
    'weir_flow_operations_total{operation="start",result="error"} 5\n';
  assert.equal(first.includes(line), false);
  for (const t of texts) {
    assert.equal(t, texts[0]);
    assert.ok(t.includes(line));
    assert.ok(
      t.endsWith("\n") && t.includes("weir_metrics_series_refused_total"),
    );
  }
});

test("scrapes that share a render are each counted by the HTTP metrics, and a collector that fails in it once", async () => {
  const collector = new MetricsCollector();
  const app = metricsApp(collector);
  const fetch = httpMetricsFetch(app, collector);
  let collects = 0;
  new Gauge({
    name: "app_broken",
    help: "Throws at every collect.",
    registers: [collector.registry],
    collect() {
      collects++;
      throw new Error("sensor gone");
    },
  });
  const answers = await Promise.all(
    Array.from(
      { length: 8 },
      () => Promise.resolve(fetch(new Request("http://localhost/metrics"))),
    ),
  );
  for (const res of answers) {
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  assert.equal(collects, 1, "one render for the eight scrapes");
  const text = await collector.render("text");
  assert.ok(
    text.includes(
      'http_requests_total{method="GET",route="/metrics",status="200"} 8\n',
    ),
  );
  assert.ok(
    text.includes(
      'http_request_duration_seconds_count{method="GET",route="/metrics",status="200"} 8\n',
    ),
  );
  assert.ok(
    text.includes(
      // The eight scrapes' render, and this one (its own failure is
      // counted before the self metrics are written, last).
      'weir_metrics_collection_errors_total{collector="app_broken"} 2\n',
    ),
  );
});
