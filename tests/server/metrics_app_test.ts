import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { Hono } from "hono";
import {
  DEFAULT_MAX_CONCURRENT_SCRAPES,
  metricsApp,
} from "../../src/server/metrics_app.ts";
import type {
  ExpositionFormat,
  MetricMetadata,
  MetricsSource,
} from "../../src/metrics/exposition.ts";

const TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";
/** The Accept header Prometheus 2.42 sends on a scrape. */
const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

const EXPOSITION: Record<ExpositionFormat, string> = {
  text: "# HELP up Whether weir is up.\n# TYPE up gauge\nup 1\n",
  openmetrics: "# HELP up Whether weir is up.\n# TYPE up gauge\nup 1\n# EOF\n",
};

const METADATA: Record<string, MetricMetadata[]> = {
  weir_flows_active: [
    { type: "gauge", help: "Flows running.", unit: "", labels: [] },
  ],
  weir_process_messages_total: [{
    type: "counter",
    help: "Messages through a port.",
    unit: "",
    labels: ["flow", "process", "port", "direction"],
  }],
  weir_process_processing_seconds: [{
    type: "histogram",
    help: "Time per activation.",
    unit: "seconds",
    labels: ["flow", "process"],
  }],
};

/** A source whose renders can be held open, made to fail, and counted. */
class TestSource implements MetricsSource {
  /** The format of every render call, in order. */
  readonly formats: ExpositionFormat[] = [];
  /** The exposition each format renders. */
  exposition: Record<ExpositionFormat, string> = { ...EXPOSITION };
  #gate: Promise<void> | undefined;
  #open: () => void = () => {};
  #failure: { error: unknown } | undefined;
  #waiters: { count: number; resolve: () => void }[] = [];

  /** Renders from now on wait until {@linkcode release}. */
  hold(): void {
    this.#gate = new Promise((resolve) => this.#open = resolve);
  }

  /** Lets the held renders (and later ones) finish. */
  release(): void {
    this.#gate = undefined;
    this.#open();
  }

  /** Renders from now on reject with `error`. */
  failWith(error: unknown): void {
    this.#failure = { error };
  }

  /** Renders from now on succeed again. */
  succeed(): void {
    this.#failure = undefined;
  }

  /** Resolves once `count` renders have started in all. */
  started(count: number): Promise<void> {
    if (this.formats.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async render(format: ExpositionFormat): Promise<string> {
    this.formats.push(format);
    for (const w of this.#waiters) {
      if (this.formats.length >= w.count) w.resolve();
    }
    if (this.#gate) await this.#gate;
    if (this.#failure) throw this.#failure.error;
    return this.exposition[format];
  }

  metadata(): Record<string, MetricMetadata[]> {
    return METADATA;
  }
}

function scrape(
  app: Hono,
  headers: Record<string, string> = {},
  path = "/metrics",
): Promise<Response> {
  return Promise.resolve(app.request(path, { headers }));
}

async function json(res: Response): Promise<Record<string, unknown>> {
  assert.equal(res.headers.get("content-type"), "application/json");
  return await res.json();
}

// Content negotiation

test("GET /metrics without Accept serves text 0.0.4 with its exact content type", async () => {
  const source = new TestSource();
  const res = await scrape(metricsApp(source));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), TEXT_TYPE);
  assert.equal(await res.text(), EXPOSITION.text);
  assert.deepEqual(source.formats, ["text"]);
});

test("GET /metrics with Prometheus's own Accept serves OpenMetrics with its exact content type", async () => {
  const source = new TestSource();
  const res = await scrape(metricsApp(source), { Accept: PROMETHEUS_ACCEPT });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), OPENMETRICS_TYPE);
  assert.equal(await res.text(), EXPOSITION.openmetrics);
  assert.deepEqual(source.formats, ["openmetrics"]);
});

test("GET /metrics with Accept text/plain;version=0.0.4 serves text", async () => {
  const source = new TestSource();
  const res = await scrape(metricsApp(source), {
    Accept: "text/plain;version=0.0.4",
  });
  assert.equal(res.headers.get("content-type"), TEXT_TYPE);
  assert.equal(await res.text(), EXPOSITION.text);
});

test("GET /metrics with a malformed Accept header serves text 0.0.4", async () => {
  const malformed = [
    "%%%",
    ";;;",
    ",,,",
    "application/openmetrics-text/1.0.0",
    "application/openmetrics-text;q=abc",
    "application/openmetrics-text;q=2",
    "application/openmetrics-text;q",
    "openmetrics",
    "application/openmetrics-text;version=1.0.0," + "x".repeat(5000),
  ];
  for (const accept of malformed) {
    const source = new TestSource();
    const res = await scrape(metricsApp(source), { Accept: accept });
    assert.equal(res.status, 200, accept);
    assert.equal(res.headers.get("content-type"), TEXT_TYPE, accept);
    assert.equal(await res.text(), EXPOSITION.text, accept);
    assert.deepEqual(source.formats, ["text"], accept);
  }
});

test("GET /metrics is never cached and varies on Accept and Accept-Encoding", async () => {
  const res = await scrape(metricsApp(new TestSource()));
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("vary"), "Accept, Accept-Encoding");
});

test("HEAD /metrics answers the GET headers with no body", async () => {
  const app = metricsApp(new TestSource());
  const res = await app.request("/metrics", {
    method: "HEAD",
    headers: { Accept: PROMETHEUS_ACCEPT },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), OPENMETRICS_TYPE);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(await res.text(), "");
});

// Compression

test("GET /metrics gzips the body when Accept-Encoding accepts gzip", async () => {
  const res = await scrape(metricsApp(new TestSource()), {
    Accept: PROMETHEUS_ACCEPT,
    "Accept-Encoding": "gzip",
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-encoding"), "gzip");
  assert.equal(res.headers.get("content-type"), OPENMETRICS_TYPE);
  const body = new Uint8Array(await res.arrayBuffer());
  assert.equal(gunzipSync(body).toString("utf8"), EXPOSITION.openmetrics);
});

test("GET /metrics gzips a 2 MB exposition intact", async () => {
  const source = new TestSource();
  const lines: string[] = [];
  for (let i = 0; i < 21_000; i++) {
    lines.push(
      `weir_process_messages_total{flow="f${
        i % 7
      }",process="p${i}",port="in",direction="in"} ${i * 37}`,
    );
  }
  source.exposition.text = lines.join("\n") + "\n";
  const res = await scrape(metricsApp(source), {
    "Accept-Encoding": "gzip, deflate, br",
  });
  const body = new Uint8Array(await res.arrayBuffer());
  assert.ok(body.length < source.exposition.text.length / 5);
  assert.equal(gunzipSync(body).toString("utf8"), source.exposition.text);
});

test("GET /metrics without Accept-Encoding serves a plain body", async () => {
  const res = await scrape(metricsApp(new TestSource()));
  assert.equal(res.headers.get("content-encoding"), null);
  assert.equal(await res.text(), EXPOSITION.text);
});

test("GET /metrics with gzip;q=0 or only other encodings serves a plain body", async () => {
  for (const encoding of ["gzip;q=0", "identity", "br, deflate"]) {
    const res = await scrape(metricsApp(new TestSource()), {
      "Accept-Encoding": encoding,
    });
    assert.equal(res.headers.get("content-encoding"), null, encoding);
    assert.equal(await res.text(), EXPOSITION.text, encoding);
  }
});

// The cap on concurrent scrapes

test("GET /metrics beyond maxConcurrentScrapes gets 503 with Retry-After until a slot frees", async () => {
  const source = new TestSource();
  const app = metricsApp(source, { maxConcurrentScrapes: 3 });
  source.hold();
  // Each request reaches its handler synchronously (the app has no
  // middleware), so the three hold their slots before the fourth comes.
  const held = [scrape(app), scrape(app), scrape(app)];
  await source.started(1);

  const refused = await scrape(app);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.deepEqual(await json(refused), {
    error:
      "too many concurrent scrapes: 3 in flight, the cap is 3 (option maxConcurrentScrapes)",
  });
  assert.equal(
    source.formats.length,
    1,
    "the three share one render; a refused scrape does not render",
  );

  source.release();
  for (const res of await Promise.all(held)) {
    assert.equal(res.status, 200);
    assert.equal(await res.text(), EXPOSITION.text);
  }
  const again = await scrape(app);
  assert.equal(again.status, 200);
});

test("GET /metrics allows DEFAULT_MAX_CONCURRENT_SCRAPES (32) concurrent scrapes by default", async () => {
  assert.equal(DEFAULT_MAX_CONCURRENT_SCRAPES, 32);
  const source = new TestSource();
  const app = metricsApp(source);
  source.hold();
  const held = Array.from(
    { length: DEFAULT_MAX_CONCURRENT_SCRAPES },
    () => scrape(app),
  );
  await source.started(1);
  assert.equal((await scrape(app)).status, 503);
  source.release();
  const statuses = (await Promise.all(held)).map((r) => r.status);
  assert.deepEqual(statuses, held.map(() => 200));
  assert.equal(source.formats.length, 1);
});

test("a render that fails releases its scrape slots", async () => {
  const source = new TestSource();
  const app = metricsApp(source, { maxConcurrentScrapes: 2 });
  const statuses = async (scrapes: Promise<Response>[]) =>
    (await Promise.all(scrapes)).map((r) => r.status);
  source.hold();
  const failing = [scrape(app), scrape(app)];
  await source.started(1);
  source.failWith(new Error("boom"));
  source.release();
  assert.deepEqual(await statuses(failing), [500, 500]);

  source.succeed();
  source.hold();
  // Both slots must be free again: a leaked one would make these 503.
  const after = [scrape(app), scrape(app)];
  await source.started(2);
  source.release();
  assert.deepEqual(await statuses(after), [200, 200]);
});

// Failures

test("a render that throws answers 500 with a JSON error and no stack trace", async () => {
  const source = new TestSource();
  source.failWith(new Error("collector exploded"));
  const res = await scrape(metricsApp(source));
  assert.equal(res.status, 500);
  const body = await json(res);
  assert.deepEqual(body, {
    error: "metrics rendering failed: collector exploded",
  });
  assert.doesNotMatch(JSON.stringify(body), /\bat\s|\.ts:\d/);
});

test("a render that rejects with a non-Error still answers 500 JSON", async () => {
  const source = new TestSource();
  source.failWith("just a string");
  const res = await scrape(metricsApp(source));
  assert.equal(res.status, 500);
  assert.deepEqual(await json(res), {
    error: "metrics rendering failed: just a string",
  });
});

// Metadata

test("GET /api/v1/metadata answers Prometheus's shape with every metric", async () => {
  const res = await metricsApp(new TestSource()).request("/api/v1/metadata");
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), { status: "success", data: METADATA });
});

test("GET /api/v1/metadata?metric= answers only that metric, or {} for an unknown name", async () => {
  const app = metricsApp(new TestSource());
  const one = await json(
    await app.request("/api/v1/metadata?metric=weir_flows_active"),
  );
  assert.deepEqual(one, {
    status: "success",
    data: { weir_flows_active: METADATA.weir_flows_active },
  });
  for (const name of ["nope", "constructor", "__proto__", "toString"]) {
    const res = await app.request(`/api/v1/metadata?metric=${name}`);
    assert.equal(res.status, 200, name);
    assert.deepEqual(await json(res), { status: "success", data: {} }, name);
  }
});

test("GET /api/v1/metadata?limit= answers at most that many metrics", async () => {
  const app = metricsApp(new TestSource());
  const data = async (query: string) =>
    (await json(await app.request(`/api/v1/metadata?${query}`))).data;
  assert.deepEqual(Object.keys(await data("limit=2") as object), [
    "weir_flows_active",
    "weir_process_messages_total",
  ]);
  assert.deepEqual(await data("limit=0"), {});
  assert.deepEqual(await data("limit=99"), METADATA);
  assert.deepEqual(await data("limit="), METADATA, "empty means no limit");
  assert.deepEqual(await data("limit=1&metric=weir_process_messages_total"), {
    weir_process_messages_total: METADATA.weir_process_messages_total,
  });
});

test("GET /api/v1/metadata with a limit that is not a non-negative integer answers 400 naming it", async () => {
  const app = metricsApp(new TestSource());
  // Past the safe integers was read as no limit; 2.42 refuses one past its
  // int64 with bad_data.
  for (
    const limit of [
      "abc",
      "-1",
      "1.5",
      "1e3",
      "+2",
      " 2",
      "99999999999999999999",
      "9007199254740992",
    ]
  ) {
    const res = await app.request(
      `/api/v1/metadata?limit=${encodeURIComponent(limit)}`,
    );
    assert.equal(res.status, 400, limit);
    const body = await json(res);
    assert.equal(body.status, "error");
    assert.equal(body.errorType, "bad_data");
    assert.equal(
      body.error,
      `invalid parameter "limit": must be a non-negative integer, received ${
        JSON.stringify(limit)
      }`,
    );
  }
});

// Unknown paths and methods

test("an unknown path answers 404 with a JSON error naming it", async () => {
  const app = metricsApp(new TestSource());
  for (const path of ["/", "/nope", "/metrics/", "/api/v1/metadata/x"]) {
    const res = await app.request(path);
    assert.equal(res.status, 404, path);
    assert.deepEqual(await json(res), { error: `no route for ${path}` });
  }
});

test("a wrong method on a known path answers 405 with Allow and a JSON error", async () => {
  const source = new TestSource();
  const app = metricsApp(source);
  for (
    const [method, path, allow] of [
      ["POST", "/metrics", "GET, HEAD"],
      ["PUT", "/metrics", "GET, HEAD"],
      ["DELETE", "/api/v1/metadata", "GET"],
      ["PATCH", "/api/v1/metadata", "GET"],
    ]
  ) {
    const res = await app.request(path, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
    assert.deepEqual(await json(res), {
      error: `method ${method} is not allowed on ${path}: use ${allow}`,
    });
  }
  assert.equal(source.formats.length, 0, "no render for a refused method");
});

test("HEAD /api/v1/metadata answers 405 with Allow: GET, as Prometheus 2.42 does, and reads no metadata", async () => {
  // Prometheus registers the metadata for GET alone (a real 2.42 is asked
  // in tests/server/query_api_parity_test.ts), as the query API's paths.
  const source = new TestSource();
  let reads = 0;
  const metadata = source.metadata.bind(source);
  source.metadata = () => (reads++, metadata());
  const app = new Hono().route("/ops", metricsApp(source));
  const head = await app.request("/ops/api/v1/metadata", { method: "HEAD" });
  assert.deepEqual(
    [head.status, head.headers.get("allow"), await head.text()],
    [405, "GET", ""],
  );
  assert.equal(reads, 0);
  const get = await app.request("/ops/api/v1/metadata");
  assert.equal(get.status, 200);
  assert.equal((await json(get)).status, "success");
  const post = await app.request("/ops/api/v1/metadata", { method: "POST" });
  assert.deepEqual(await json(post), {
    error: "method POST is not allowed on /ops/api/v1/metadata: use GET",
  });
});

// Options

test("metricsApp() rejects a maxConcurrentScrapes that is not a positive integer", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity, "4"]) {
    assert.throws(
      () =>
        metricsApp(new TestSource(), {
          maxConcurrentScrapes: bad as number,
        }),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.includes("maxConcurrentScrapes") &&
        error.message.endsWith(
          `received ${typeof bad === "string" ? `"${bad}"` : String(bad)}`,
        ),
      String(bad),
    );
  }
});

// Mounting

test("metricsApp() mounted at the root of a host serves its routes beside the host's", async () => {
  const host = new Hono()
    .route("/", metricsApp(new TestSource()))
    .get("/healthz", (c) => c.text("ok"));
  const res = await host.request("/metrics", {
    headers: { Accept: PROMETHEUS_ACCEPT },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), OPENMETRICS_TYPE);
  assert.equal(await res.text(), EXPOSITION.openmetrics);
  assert.equal((await host.request("/api/v1/metadata")).status, 200);
  assert.equal(await (await host.request("/healthz")).text(), "ok");
});

test("metricsApp() mounted under a prefix serves /prefix/metrics and keeps its error responses", async () => {
  const source = new TestSource();
  const host = new Hono().route("/ops", metricsApp(source));
  const ok = await host.request("/ops/metrics", {
    headers: { "Accept-Encoding": "gzip" },
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("content-type"), TEXT_TYPE);
  const body = new Uint8Array(await ok.arrayBuffer());
  assert.equal(gunzipSync(body).toString("utf8"), EXPOSITION.text);
  assert.equal((await host.request("/ops/api/v1/metadata")).status, 200);
  assert.equal((await host.request("/metrics")).status, 404);

  const wrong = await host.request("/ops/metrics", { method: "POST" });
  assert.equal(wrong.status, 405);
  assert.deepEqual(await json(wrong), {
    error: "method POST is not allowed on /ops/metrics: use GET, HEAD",
  });

  source.failWith(new Error("boom"));
  const failed = await host.request("/ops/metrics");
  assert.equal(failed.status, 500);
  assert.deepEqual(await json(failed), {
    error: "metrics rendering failed: boom",
  });
});
