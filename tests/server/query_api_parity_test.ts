/**
 * The query API's parameters and errors side by side with Prometheus 2.42:
 * the same requests (times as floats and RFC 3339, durations, missing and
 * bad parameters, bad selectors, too many points, GET and POST) go to a
 * real Prometheus with an empty database and to weir's API over an empty
 * history, and must get the same HTTP status, the same `status` and
 * `errorType`, and for a success the same data. (Error texts differ in
 * wording: Prometheus's parser positions are not weir's.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { Hono } from "hono";
import { serve } from "../../src/runtime/serve.ts";
import {
  errorHandler,
  logInternalError,
} from "../../src/server/error_handler.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";
import { queryRoutes } from "../../src/server/query_routes.ts";
import { integrationSkip, startPrometheus } from "../_prometheus.ts";
import { MemoryHistory } from "./_memory_history.ts";

const T = 1_700_000_000;

/** Requests whose answer does not depend on the clock. */
const SAME: (string | { post: string; form: string })[] = [
  `/api/v1/query?query=1%2B1&time=${T}`,
  `/api/v1/query?query=1%2B1&time=${T}.123`,
  "/api/v1/query?query=1%2B1&time=2023-11-14T22:13:20Z",
  "/api/v1/query?query=1%2B1&time=2023-11-14T23:13:20.5%2B01:00",
  `/api/v1/query?query=up&time=${T}`,
  `/api/v1/query?query=vector(1)&time=${T}`,
  `/api/v1/query?query=%22text%22&time=${T}`,
  `/api/v1/query?query=time()&time=${T}&timeout=1m30s`,
  `/api/v1/query?query=time()&time=${T}&timeout=10`,
  "/api/v1/query?query=1&time=yesterday",
  "/api/v1/query?query=time()&time=-0.0005",
  "/api/v1/query?query=time()&time=-0.0015",
  "/api/v1/query?query=time()&time=1700000000.0015",
  "/api/v1/query?query=time()&time=1969-12-31T23:59:59.9995Z",
  "/api/v1/query?query=time()&time=2023-11-14T22:13:20.123456789Z",
  "/api/v1/query?query=time()&time=2023-11-14T22:13:20.1234567891Z",
  "/api/v1/query?query=time()&time=2023-11-14T22:13:20%2B25:00",
  "/api/v1/query?query=time()&time=2023-11-14T22:13:20%2B01:61",
  "/api/v1/query?query=time()&time=2023-11-14T22:13:20-99:99",
  `/api/v1/query_range?query=time()&start=2023-11-14T22:13:20.1234567891Z&end=${T}&step=60`,
  "/api/v1/series?match[]=up&start=2023-11-14T22:13:20.1234567891Z",
  "/api/v1/query?query=time()&time=0x1p-1",
  "/api/v1/query?query=time()&time=1_0",
  "/api/v1/query?query=time()&time=0x10",
  "/api/v1/query_range?query=time()&start=0&end=3&step=0x1p0",
  "/api/v1/query_range?query=time()&start=1000&end=12001&step=1.0001",
  "/api/v1/query_range?query=time()&start=1000&end=12000&step=0.9999999",
  "/api/v1/query_range?query=time()&start=0&end=10&step=1e-9",
  `/api/v1/query?query=sum(&time=${T}`,
  `/api/v1/query?query=1&time=${T}&timeout=soon`,
  `/api/v1/query?time=${T}`,
  `/api/v1/query?query=${
    encodeURIComponent('label_replace(vector(1), "a", "b", "c", "(")')
  }&time=${T}`,
  `/api/v1/query?query=${
    encodeURIComponent('label_join(vector(1), "1x", ",", "c")')
  }&time=${T}`,
  `/api/v1/query?query=offset&time=${T}`,
  `/api/v1/query?query=${
    encodeURIComponent("sum(offset) offset 1m")
  }&time=${T}`,
  `/api/v1/query?query=atan2&time=${T}`,
  ...["up offset (1m)", "up offset(1m)", "up offset -(1m)", "up[(1m)]"].map(
    (q) => `/api/v1/query?query=${encodeURIComponent(q)}&time=${T}`,
  ),
  `/api/v1/query?query=${encodeURIComponent("up[5m:(1m)]")}&time=${T}`,
  `/api/v1/query?query=${encodeURIComponent('up{job=~"(?<x>.)"}')}&time=${T}`,
  `/api/v1/query?query=${encodeURIComponent("sum by (inf) (up)")}&time=${T}`,
  `/api/v1/query_range?query=1&start=${T}&end=${T + 100}&step=10`,
  `/api/v1/query_range?query=time()&start=${T}&end=${T + 100}&step=1m30s`,
  `/api/v1/query_range?query=time()&start=${T}&end=${T + 1}&step=0.25`,
  `/api/v1/query_range?query=1&start=2023-11-14T22:13:20Z&end=${
    T + 60
  }&step=15s`,
  `/api/v1/query_range?query=1&start=${T}&end=${T + 100}&step=0`,
  `/api/v1/query_range?query=1&start=${T}&end=${T + 100}&step=-5`,
  `/api/v1/query_range?query=1&start=${T}&end=${T + 100}&step=abc`,
  `/api/v1/query_range?query=1&start=${T}&end=${T + 100}`,
  `/api/v1/query_range?query=1&start=${T + 100}&end=${T}&step=1`,
  `/api/v1/query_range?query=1&start=${T}&end=${T + 11_001}&step=1`,
  `/api/v1/query_range?query=1&start=${T}&end=${T + 11_000}&step=1`,
  `/api/v1/query_range?query=1&end=${T}&step=1`,
  `/api/v1/query_range?query=rate(up)&start=${T}&end=${T + 10}&step=1`,
  "/api/v1/series",
  "/api/v1/series?match[]=up",
  "/api/v1/series?match[]=up&match[]=%7Bjob%3D%22a%22%7D",
  `/api/v1/series?match[]=up&start=${T}&end=${T + 10}`,
  "/api/v1/series?match[]=up&start=later",
  "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D",
  "/api/v1/series?match[]=%7Bjob%3D%22%22%7D",
  "/api/v1/series?match[]=up%7B",
  "/api/v1/series?match[]=up%7Bjob%3D~%22(%22%7D",
  "/api/v1/series?match[]=sum(up)",
  "/api/v1/series?match[]=offset",
  `/api/v1/series?match[]=up&start=${T + 10}&end=${T}`,
  `/api/v1/labels?start=${T + 10}&end=${T}`,
  `/api/v1/label/job/values?start=${T + 10}&end=${T}`,
  `/api/v1/query_exemplars?query=up&start=${T + 10}&end=${T}`,
  "/api/v1/series?match[]=atan2",
  "/api/v1/labels",
  "/api/v1/labels?match[]=up",
  "/api/v1/labels?match[]=%7B",
  "/api/v1/label/__name__/values",
  "/api/v1/label/job/values?match[]=up",
  "/api/v1/label/a-b/values",
  { post: "/api/v1/query", form: `query=1%2B2&time=${T}` },
  {
    post: "/api/v1/query_range",
    form: `query=1&start=${T}&end=${T + 20}&step=10`,
  },
  {
    post: "/api/v1/query_range",
    form: `query=1&start=${T}&end=${T + 20}&step=0`,
  },
  { post: "/api/v1/series", form: "match[]=up" },
  { post: "/api/v1/series", form: "" },
  { post: "/api/v1/labels", form: "match[]=up" },
];

interface Answer {
  status: number;
  body: { status?: string; errorType?: string; error?: string; data?: unknown };
}

async function ask(
  base: string,
  r: string | { post: string; form: string },
): Promise<Answer> {
  const res = typeof r === "string" ? await fetch(base + r) : await fetch(
    base + r.post,
    {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: r.form,
    },
  );
  return { status: res.status, body: await res.json() };
}

test(
  "the query API answers Prometheus 2.42's parameters and errors as Prometheus does",
  {
    skip: integrationSkip("prometheus"),
    timeout: 120_000,
  },
  async () => {
    await using prometheus = await startPrometheus({ targets: [] });
    const server = await serve(queryRoutes(new MemoryHistory()).fetch, {
      port: 0,
    });
    try {
      const differences: string[] = [];
      for (const r of SAME) {
        const ref = await ask(prometheus.url, r);
        const got = await ask(server.url, r);
        const name = typeof r === "string"
          ? `GET ${r}`
          : `POST ${r.post} ${r.form}`;
        const shape = (a: Answer) => ({
          status: a.status,
          bodyStatus: a.body.status,
          errorType: a.body.errorType,
          data: a.body.data,
        });
        // Not assert.deepEqual: the diff it writes of two answers of
        // 11,000 points takes minutes.
        if (!isDeepStrictEqual(shape(got), shape(ref))) {
          differences.push(
            `${name}: Prometheus ${
              JSON.stringify(ref.body).slice(0, 200)
            } (${ref.status}), ` +
              `weir ${JSON.stringify(got.body).slice(0, 200)} (${got.status})`,
          );
        }
      }
      assert.deepEqual(differences, []);
    } finally {
      await server.close();
    }
  },
);

test(
  "the query API and the metadata answer HEAD on each of their paths as Prometheus does: 405, with the methods each takes in Allow",
  {
    skip: integrationSkip("prometheus"),
    timeout: 120_000,
  },
  async () => {
    await using prometheus = await startPrometheus({ targets: [] });
    // With an error table, as flowApp and weir run mount it: the query
    // API leaves its 405s to one. The metadata beside it, from metricsApp,
    // as both serve it.
    const app = new Hono()
      .route("/", queryRoutes(new MemoryHistory()))
      .route("/", metricsApp(new MetricsCollector()))
      .onError(errorHandler(logInternalError));
    const server = await serve(app.fetch, { port: 0 });
    try {
      const paths = [
        "/api/v1/query?query=1",
        "/api/v1/query_range?query=1&start=0&end=10&step=5",
        "/api/v1/series?match[]=up",
        "/api/v1/labels",
        "/api/v1/label/job/values",
        "/api/v1/query_exemplars?query=up",
        "/api/v1/format_query?query=up",
        "/api/v1/status/buildinfo",
        "/api/v1/rules",
        "/api/v1/alerts",
        "/api/v1/metadata",
      ];
      const methods = (allow: string | null) =>
        (allow ?? "").split(",").map((m) => m.trim()).filter((m) => m !== "");
      for (const path of paths) {
        const [ref, got] = await Promise.all(
          [prometheus.url, server.url].map(async (base) => {
            const res = await fetch(base + path, { method: "HEAD" });
            await res.body?.cancel();
            return { status: res.status, allow: res.headers.get("allow") };
          }),
        );
        assert.equal(got.status, ref.status, `HEAD ${path}`);
        // Prometheus lists OPTIONS (answered 204 for CORS) and, on
        // /series, DELETE: weir takes neither, and says so.
        assert.deepEqual(
          methods(got.allow),
          methods(ref.allow).filter((m) => m !== "OPTIONS" && m !== "DELETE"),
          `HEAD ${path}: Allow ${got.allow}, Prometheus's ${ref.allow}`,
        );
      }
    } finally {
      await server.close();
    }
  },
);
