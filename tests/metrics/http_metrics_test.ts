import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { once } from "node:events";
import process from "node:process";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import {
  connectionMetrics,
  httpMetrics,
  httpMetricsFetch,
  type HttpMetricsOptions,
} from "../../src/metrics/http_metrics.ts";
import { serve } from "../../src/runtime/serve.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";
import { until } from "../engine/_helpers.ts";
import {
  type Exposition,
  parseExposition,
  samplesOf,
  valueOf,
} from "./_exposition.ts";

/** The two ways to measure an app: the same behaviour is expected of both. */
const KINDS = ["httpMetrics", "httpMetricsFetch"] as const;
type Kind = typeof KINDS[number];

interface Client {
  request(path: string, init?: RequestInit): Promise<Response>;
  /** What to serve. */
  fetch(request: Request): Response | Promise<Response>;
}

/**
 * Measures `app` (call it before adding routes): with the middleware, or
 * around the app's fetch. Returns how to send it requests.
 */
function instrument(
  kind: Kind,
  app: Hono,
  collector: MetricsCollector,
  options?: HttpMetricsOptions,
): Client {
  if (kind === "httpMetrics") {
    app.use(httpMetrics(collector, options));
    return {
      request: async (path, init) => await app.request(path, init),
      fetch: app.fetch,
    };
  }
  const fetch = httpMetricsFetch(app, collector, options);
  return {
    request: async (path, init) =>
      await fetch(new Request(new URL(path, "http://localhost"), init)),
    fetch,
  };
}

/** An app measured the `kind` way, with a few routes and a sub-app. */
function measured(kind: Kind, options?: HttpMetricsOptions) {
  const collector = new MetricsCollector();
  const hono = new Hono();
  const app = instrument(kind, hono, collector, options);
  const metrics = { app: hono };
  hono.get("/flows", (c) => c.json([]));
  hono.get("/flows/:id", (c) => c.text(`flow ${c.req.param("id")}`));
  hono.post("/flows", async (c) => c.json(await c.req.json(), 201));
  hono.get("/boom", () => {
    throw new Error("boom");
  });
  hono.get("/teapot", () => {
    throw new HTTPException(418, { message: "short and stout" });
  });
  hono.get("/missing/:id", (c) => c.notFound());
  const sub = new Hono();
  sub.get("/items/:item", (c) => c.text("item"));
  sub.get("/fail", () => {
    throw new Error("sub boom");
  });
  sub.onError((_e, c) => c.text("sub failed", 503));
  hono.route("/api", sub);
  // Errors become responses in one place, as in weir's flow server.
  hono.onError((e, c) =>
    e instanceof HTTPException ? e.getResponse() : c.text("failed", 500)
  );
  return { collector, app, metrics };
}

async function scrape(collector: MetricsCollector): Promise<Exposition> {
  return parseExposition(await collector.render());
}

function requests(
  e: Exposition,
  method: string,
  route: string,
  status: string,
): number | undefined {
  return valueOf(e, "http_requests_total", { method, route, status });
}

for (const kind of KINDS) {
  test(`${kind}: labels requests with the route pattern, never the raw path`, async () => {
    const { collector, app: client } = measured(kind);
    for (const id of ["a", "b", "c"]) {
      assert.equal((await client.request(`/flows/${id}`)).status, 200);
    }
    await client.request("/flows");
    const e = await scrape(collector);
    assert.equal(requests(e, "GET", "/flows/:id", "200"), 3);
    assert.equal(requests(e, "GET", "/flows", "200"), 1);
    assert.equal(
      samplesOf(e, "http_requests_total").some((s) =>
        /\/flows\/[abc]$/.test(s.labels.route)
      ),
      false,
    );
    assert.equal(
      valueOf(e, "http_request_duration_seconds_count", {
        method: "GET",
        route: "/flows/:id",
        status: "200",
      }),
      3,
    );
    assert.equal(e.types.get("http_requests_total"), "counter");
    assert.equal(e.types.get("http_request_duration_seconds"), "histogram");
  });

  test(`${kind}: a handler that makes requests of its own app keeps its own route`, async () => {
    const collector = new MetricsCollector();
    const app = new Hono();
    const client = instrument(kind, app, collector);
    app.get("/inner/:n", (c) => c.text(c.req.param("n")));
    app.get("/outer", async (c) => {
      // One request past the measuring, one through it.
      const a = await app.request("/inner/1");
      const b = await client.request("/inner/2");
      return c.text(`${await a.text()}${await b.text()}`);
    });
    app.get("/sync-outer", (c) => {
      void app.fetch(new Request("http://localhost/inner/3"));
      return c.text("sync");
    });
    assert.equal(await (await client.request("/outer")).text(), "12");
    assert.equal(await (await client.request("/sync-outer")).text(), "sync");
    const e = await scrape(collector);
    const count = (route: string) =>
      valueOf(e, "http_requests_total", {
        method: "GET",
        route,
        status: "200",
      });
    assert.equal(count("/outer"), 1);
    assert.equal(count("/sync-outer"), 1);
    // The middleware sees app.request() too; the wrapper only what it serves.
    assert.equal(count("/inner/:n"), kind === "httpMetrics" ? 3 : 1);
  });

  test(`${kind}: gives routes of a sub-app mounted with app.route() their full pattern`, async () => {
    const { collector, app: client } = measured(kind);
    assert.equal((await client.request("/api/items/42")).status, 200);
    const e = await scrape(collector);
    assert.equal(requests(e, "GET", "/api/items/:item", "200"), 1);
  });

  test(`${kind}: puts every path no route answered under one \`unmatched\` route`, async () => {
    const { collector, app: client } = measured(kind);
    for (const path of ["/nope", "/nope/1", "/flows/a/b/c", "/x?y=z"]) {
      assert.equal((await client.request(path)).status, 404);
    }
    // A method with no route on a known path is not found either.
    assert.equal(
      (await client.request("/flows/a", { method: "DELETE" })).status,
      404,
    );
    const e = await scrape(collector);
    assert.equal(requests(e, "GET", "unmatched", "404"), 4);
    assert.equal(requests(e, "DELETE", "unmatched", "404"), 1);
    // A route that answers 404 itself keeps its pattern.
    await client.request("/missing/7");
    assert.equal(
      requests(await scrape(collector), "GET", "/missing/:id", "404"),
      1,
    );
  });

  test(`${kind}: counts methods outside the fixed list as OTHER`, async () => {
    const { collector, app: client } = measured(kind);
    await client.request("/flows", { method: "PROPFIND" });
    // (Bun's Request turns a method it does not know, such as BREW, into GET.)
    await client.request("/flows", { method: "MKCOL" });
    await client.request("/flows", { method: "HEAD" });
    const e = await scrape(collector);
    assert.equal(requests(e, "OTHER", "unmatched", "404"), 2);
    assert.equal(requests(e, "HEAD", "/flows", "200"), 1);
    assert.deepEqual(
      [
        ...new Set(
          samplesOf(e, "http_requests_total").map((s) => s.labels.method),
        ),
      ]
        .sort(),
      ["HEAD", "OTHER"],
    );
  });

  test(`${kind}: counts a handler's error with the status app.onError made of it`, async () => {
    const { collector, app: client } = measured(kind);
    assert.equal((await client.request("/boom")).status, 500);
    assert.equal((await client.request("/teapot")).status, 418);
    // A sub-app's own onError answers for its routes.
    assert.equal((await client.request("/api/fail")).status, 503);
    const e = await scrape(collector);
    assert.equal(requests(e, "GET", "/boom", "500"), 1);
    assert.equal(requests(e, "GET", "/teapot", "418"), 1);
    assert.equal(requests(e, "GET", "/api/fail", "503"), 1);
    assert.equal(valueOf(e, "http_requests_in_flight"), 0);
  });

  test(`${kind}: counts an error thrown past Hono as a 500 and lets it through`, async () => {
    const collector = new MetricsCollector();
    const app = new Hono();
    const client = instrument(kind, app, collector);
    app.use(async (_c, next) => {
      await next();
      // Not an Error: Hono's compose passes it on rather than to onError.
      throw "not an error";
    });
    app.get("/x", (c) => c.text("x"));
    await assert.rejects(async () => await client.request("/x"));
    const e = await scrape(collector);
    assert.equal(
      valueOf(e, "http_requests_total", { method: "GET", status: "500" }),
      1,
    );
    assert.equal(valueOf(e, "http_requests_in_flight"), 0);
  });

  test(`${kind}: observes request sizes: Content-Length, else (middleware only) the bytes the handler read, 0 with no body`, async () => {
    const { collector, app: client } = measured(kind);
    const body = JSON.stringify({ name: "héllo ✓ 🌊" });
    // client.request() builds the Request in JS: it carries no Content-Length.
    assert.equal(
      (await client.request("/flows", { method: "POST", body })).status,
      201,
    );
    await client.request("/flows", {
      method: "POST",
      body,
      headers: {
        "content-length": String(new TextEncoder().encode(body).length),
      },
    });
    await client.request("/flows/a");
    const e = await scrape(collector);
    const bytes = new TextEncoder().encode(body).length;
    assert.equal(
      valueOf(e, "http_request_size_bytes_sum", {
        method: "POST",
        route: "/flows",
      }),
      // Around fetch, a body with no Content-Length is of unknown size.
      kind === "httpMetrics" ? 2 * bytes : bytes,
    );
    assert.equal(
      valueOf(e, "http_request_size_bytes_count", {
        method: "POST",
        route: "/flows",
      }),
      kind === "httpMetrics" ? 2 : 1,
    );
    assert.equal(
      valueOf(e, "http_request_size_bytes_sum", {
        method: "GET",
        route: "/flows/:id",
      }),
      0,
    );
    assert.equal(
      valueOf(e, "http_request_size_bytes_count", {
        method: "GET",
        route: "/flows/:id",
      }),
      1,
    );
  });

  test(`${kind}: a route that starts sending Content-Length is observed again within 64 responses`, async () => {
    const collector = new MetricsCollector();
    const app = new Hono();
    const client = instrument(kind, app, collector, { sizeBuckets: [10] });
    let sized = false;
    app.get(
      "/mixed",
      (c) =>
        sized
          ? new Response("abc", { headers: { "content-length": "3" } })
          : c.text("no length"),
    );
    const observed = async () =>
      valueOf(await scrape(collector), "http_response_size_bytes_count", {
        method: "GET",
        route: "/mixed",
      }) ?? NaN;
    for (let i = 0; i < 200; i++) await client.request("/mixed");
    assert.equal(await observed(), 0);
    sized = true;
    for (let i = 0; i < 64; i++) await client.request("/mixed");
    const after = await observed();
    assert.ok(after >= 1 && after <= 64, `observed ${after} of 64`);
    // Once seen again, every response is observed.
    for (let i = 0; i < 10; i++) await client.request("/mixed");
    assert.equal(await observed(), after + 10);
    assert.equal(
      valueOf(await scrape(collector), "http_requests_total", {
        method: "GET",
        route: "/mixed",
        status: "200",
      }),
      274,
    );
  });

  test(`${kind}: observes response sizes when Content-Length is known, 0 for HEAD and 204`, async () => {
    const collector = new MetricsCollector();
    const app = new Hono();
    const client = instrument(kind, app, collector, { sizeBuckets: [10, 100] });
    app.get(
      "/sized",
      () => new Response("12345", { headers: { "content-length": "5" } }),
    );
    app.get(
      "/big",
      () =>
        new Response("x".repeat(500), { headers: { "content-length": "500" } }),
    );
    app.get("/unsized", (c) => c.text("no length"));
    app.delete("/gone", (c) => c.body(null, 204));
    await client.request("/sized");
    await client.request("/big");
    await client.request("/unsized");
    await client.request("/gone", { method: "DELETE" });
    await client.request("/sized", { method: "HEAD" });
    const e = await scrape(collector);
    const of = (method: string, route: string) =>
      samplesOf(e, "http_response_size_bytes_bucket", { method, route }).map((
        s,
      ) => [s.labels.le, s.value]);
    assert.deepEqual(of("GET", "/sized"), [["10", 1], ["100", 1], ["+Inf", 1]]);
    assert.deepEqual(of("GET", "/big"), [["10", 0], ["100", 0], ["+Inf", 1]]);
    assert.deepEqual(of("GET", "/unsized"), [["10", 0], ["100", 0], [
      "+Inf",
      0,
    ]]);
    assert.deepEqual(of("DELETE", "/gone"), [["10", 1], ["100", 1], [
      "+Inf",
      1,
    ]]);
    assert.equal(
      valueOf(e, "http_response_size_bytes_sum", {
        method: "HEAD",
        route: "/sized",
      }),
      0,
    );
  });

  test(`${kind}: shows requests in flight while a handler is slow`, async () => {
    const collector = new MetricsCollector();
    const app = new Hono();
    const client = instrument(kind, app, collector);
    const release: (() => void)[] = [];
    app.get(
      "/slow",
      async (c) => {
        await new Promise<void>((r) => release.push(r));
        return c.text("done");
      },
    );
    const inFlight = async () =>
      valueOf(await scrape(collector), "http_requests_in_flight");
    assert.equal(await inFlight(), 0);
    const pending = [client.request("/slow"), client.request("/slow")];
    await until(() => release.length === 2);
    assert.equal(await inFlight(), 2);
    release[0]();
    await pending[0];
    assert.equal(await inFlight(), 1);
    release[1]();
    await pending[1];
    assert.equal(await inFlight(), 0);
    const e = await scrape(collector);
    assert.equal(requests(e, "GET", "/slow", "200"), 2);
  });

  test(`${kind}: times a request from the middleware to its response`, async () => {
    const collector = new MetricsCollector();
    const app = new Hono();
    const client = instrument(kind, app, collector, { buckets: [0.05, 60] });
    let release!: () => void;
    app.get("/held", async (c) => {
      await new Promise<void>((r) => release = r);
      return c.text("ok");
    });
    const started = performance.now();
    const pending = client.request("/held");
    await until(() => release !== undefined);
    // Held for at least 100 ms by the test, which the duration must include.
    await new Promise((r) => setTimeout(r, 100));
    release();
    await pending;
    const elapsed = (performance.now() - started) / 1000;
    const e = await scrape(collector);
    const sum = valueOf(e, "http_request_duration_seconds_sum", {
      route: "/held",
    })!;
    assert.ok(sum >= 0.09 && sum <= elapsed, `${sum} s of ${elapsed} s`);
    assert.equal(
      valueOf(e, "http_request_duration_seconds_bucket", {
        route: "/held",
        le: "0.05",
      }),
      0,
    );
  });
}

test("httpMetrics refuses bad buckets and a second registration; remove() takes its metrics out", async () => {
  const collector = new MetricsCollector();
  assert.throws(
    () => httpMetrics(collector, { buckets: [1, 0.5] }),
    /^RangeError: Cannot create histogram: buckets must ascend/,
  );
  const metrics = httpMetrics(collector);
  assert.throws(
    () => httpMetrics(collector),
    /Cannot add metric "http_requests_total": a metric of that name is registered already/,
  );
  metrics.remove();
  assert.ok(!(await collector.render()).includes("http_requests"));
  httpMetrics(collector);
  assert.ok((await collector.render()).includes("http_requests_in_flight 0"));
});

test("connectionMetrics exports the open connections and connection ages of its source", async () => {
  const collector = new MetricsCollector();
  let open: number | null = 2;
  const listeners = new Set<(age: number) => void>();
  const source = {
    open: () => open,
    onClose(listener: (age: number) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const remove = connectionMetrics(collector, source, { buckets: [1, 10] });
  for (const l of listeners) [0.5, 3, 30].forEach(l);
  let e = await scrape(collector);
  assert.equal(valueOf(e, "http_open_connections"), 2);
  assert.deepEqual(
    samplesOf(e, "http_connection_duration_seconds_bucket").map((s) => s.value),
    [1, 2, 3],
  );
  assert.equal(valueOf(e, "http_connection_duration_seconds_sum"), 33.5);
  // A source that cannot tell: both left out, never a made-up zero.
  open = null;
  e = await scrape(collector);
  assert.deepEqual(samplesOf(e, "http_open_connections"), []);
  assert.deepEqual(samplesOf(e, "http_connection_duration_seconds_count"), []);
  remove();
  assert.equal(listeners.size, 0);
  assert.throws(
    () => connectionMetrics(collector, {} as typeof source),
    /^TypeError: Cannot add connection metrics: connections must have open\(\) and onClose\(\) methods$/,
  );
});

test(
  "http metrics of a served app over real sockets: requests, open connections and their ages",
  {
    skip: process.platform !== "linux" && "needs Linux /proc",
    timeout: 60_000,
  },
  async () => {
    const { collector, app } = measured("httpMetricsFetch");
    await using server = await serve(app.fetch);
    const remove = connectionMetrics(collector, server.connections);
    try {
      const sockets = [];
      for (let i = 0; i < 3; i++) {
        const socket = connect(server.port, "127.0.0.1");
        await once(socket, "connect");
        let got = "";
        socket.setEncoding("utf8").on("data", (c) => got += c);
        socket.write(
          `GET /flows/${i} HTTP/1.1\r\nHost: x\r\n\r\n`,
        );
        await until(() => got.endsWith(`flow ${i}`), 20_000);
        sockets.push(socket);
      }
      let e = await scrape(collector);
      assert.equal(valueOf(e, "http_open_connections"), 3);
      assert.equal(requests(e, "GET", "/flows/:id", "200"), 3);
      assert.equal(valueOf(e, "http_connection_duration_seconds_count"), 0);
      for (const s of sockets) s.destroy();
      await until(() => server.connections.open() === 0, 20_000);
      e = await scrape(collector);
      assert.equal(valueOf(e, "http_open_connections"), 0);
      assert.equal(valueOf(e, "http_connection_duration_seconds_count"), 3);
    } finally {
      remove();
    }
  },
);

test(
  "http metrics: promtool accepts the exposition",
  { skip: integrationSkip("promtool") },
  async () => {
    const { collector, app } = measured("httpMetrics", {
      connections: { open: () => 1, onClose: () => () => {} },
    });
    await app.request("/flows/a");
    await app.request("/nope");
    await app.request("/boom");
    await app.request("/flows", { method: "POST", body: "{}" });
    const { ok, output } = await promtoolCheck(await collector.render());
    assert.ok(ok, output);
  },
);
