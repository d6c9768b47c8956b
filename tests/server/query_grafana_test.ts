/**
 * Grafana's Prometheus data source as a client of the query API: the
 * requests it sends, as its code sends them (grafana/grafana
 * `pkg/promlib/healthcheck.go`, `heuristics.go`, `client/client.go` and
 * `packages/grafana-prometheus/src/language_provider.ts`): "Save & test"
 * runs the instant query `1+1` at time 4 (POST form by default, the
 * data source's HTTP method) and reads `/api/v1/status/buildinfo` (no
 * `features` there means "Prometheus", not Mimir); the query editor asks
 * `/api/v1/label/__name__/values` (GET only), `/api/v1/labels` and
 * `/api/v1/series` (POST, falling back to GET on a 400 or 405) with
 * `start`, `end`, `match[]` and `limit`, and `/api/v1/metadata` (GET);
 * panels send `query_range` with `timeout`, and `query_exemplars` beside
 * it; the alerting pages read `/api/v1/rules` and `/api/v1/alerts` of every
 * Prometheus data source. Replayed against weir over a history with data, and side by side
 * with a real Prometheus 2.42 (empty database) for the status, the error
 * type and the data.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "../../src/runtime/serve.ts";
import { queryRoutes } from "../../src/server/query_routes.ts";
import { integrationSkip, startPrometheus } from "../_prometheus.ts";
import { MemoryHistory } from "./_memory_history.ts";

const T = 1_700_000_000;
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

/** A request as Grafana sends it: GET with a query string, or POST with a form. */
interface Sent {
  method: "GET" | "POST";
  path: string;
  params: Record<string, string>;
}

const get = (path: string, params: Record<string, string> = {}): Sent => ({
  method: "GET",
  path,
  params,
});
const post = (path: string, params: Record<string, string>): Sent => ({
  method: "POST",
  path,
  params,
});

/** Grafana's time parameters: whole seconds (getAdjustedInterval) or floats. */
const range = { start: String(T), end: String(T + 3600) };

/** What Grafana sends, in the order a user meets it. */
const GRAFANA: Sent[] = [
  // Save & test: the health check, then the heuristics' buildinfo.
  post("/api/v1/query", { query: "1+1", time: "4" }),
  // The query editor starting: metric names, then label names.
  get("/api/v1/label/__name__/values", { ...range, limit: "40000" }),
  post("/api/v1/labels", { ...range, limit: "40000" }),
  post("/api/v1/labels", {
    ...range,
    "match[]": "weir_process_messages_total",
  }),
  get("/api/v1/label/process/values", {
    ...range,
    "match[]": 'weir_process_messages_total{process=~"P[12]"}',
  }),
  post("/api/v1/series", {
    ...range,
    "match[]": '{__name__!=""}',
    limit: "40000",
  }),
  // A panel: the range query and its exemplars.
  post("/api/v1/query_range", {
    query: "sum by (process) (rate(weir_process_messages_total[1m]))",
    start: String(T + 600),
    end: String(T + 1800.5),
    step: "15",
    timeout: "30s",
  }),
  post("/api/v1/query_exemplars", {
    query: "weir_process_messages_total",
    ...range,
  }),
  // GET, as a data source set to GET (or the fallback) sends them.
  get("/api/v1/query", { query: "1+1", time: "4" }),
  get("/api/v1/labels", { ...range, "match[]": "up" }),
  get("/api/v1/series", { ...range, "match[]": "up", limit: "40000" }),
  // The alerting pages: every data source's rules and alerts.
  get("/api/v1/rules", {}),
  get("/api/v1/rules", { type: "alert" }),
  get("/api/v1/alerts", {}),
];

interface Answer {
  status: number;
  body: { status?: string; errorType?: string; error?: string; data?: unknown };
}

async function send(base: string, r: Sent): Promise<Answer> {
  const query = new URLSearchParams(r.params).toString();
  const res = r.method === "GET"
    ? await fetch(`${base}${r.path}${query ? `?${query}` : ""}`)
    : await fetch(base + r.path, {
      method: "POST",
      headers: FORM,
      body: query,
    });
  return { status: res.status, body: await res.json() };
}

/** Ten counters weir_process_messages_total{flow, process} at 1 s for an hour. */
function history(): MemoryHistory {
  const h = new MemoryHistory();
  for (let s = 0; s < 10; s++) {
    const samples: [number, number][] = [];
    for (let i = 0; i <= 3600; i++) samples.push([(T + i) * 1000, i * (s + 1)]);
    h.add(
      {
        __name__: "weir_process_messages_total",
        flow: `f${s % 2}`,
        process: `P${s % 5}`,
      },
      samples,
      "counter",
    );
  }
  return h;
}

test("Grafana's Prometheus data source gets its answers: health check, buildinfo, names, labels, series, a panel's range query and exemplars", async () => {
  const server = await serve(queryRoutes(history()).fetch, { port: 0 });
  try {
    const answers = new Map<Sent, Answer>();
    for (const r of GRAFANA) answers.set(r, await send(server.url, r));
    for (const [r, a] of answers) {
      assert.equal(a.status, 200, `${r.method} ${r.path}: ${a.status}`);
      assert.equal(a.body.status, "success", `${r.method} ${r.path}`);
    }
    const data = (k: number) => answers.get(GRAFANA[k])!.body.data;
    // 1+1 at 4 s: the health check's "Successfully queried".
    assert.deepEqual(data(0), { resultType: "scalar", result: [4, "2"] });
    assert.deepEqual(data(8), data(0));
    assert.deepEqual(data(1), ["weir_process_messages_total"]);
    assert.deepEqual(data(2), ["__name__", "flow", "process"]);
    assert.deepEqual(data(3), ["__name__", "flow", "process"]);
    assert.deepEqual(data(4), ["P1", "P2"]);
    assert.equal((data(5) as unknown[]).length, 10);
    const matrix = data(6) as {
      resultType: string;
      result: { metric: Record<string, string>; values: [number, string][] }[];
    };
    assert.equal(matrix.resultType, "matrix");
    assert.deepEqual(
      matrix.result.map((s) => s.metric),
      ["P0", "P1", "P2", "P3", "P4"].map((process) => ({ process })),
    );
    // 81 steps from T + 600 to T + 1800.5; process P0 sums flows 0 and 5
    // (1 and 6 a second).
    assert.equal(matrix.result[0].values.length, 81);
    assert.deepEqual(matrix.result[0].values[0], [T + 600, "7"]);
    assert.deepEqual(data(7), []);
    assert.deepEqual(data(9), []);
    assert.deepEqual(data(10), []);
    // No rules: Grafana's alert list shows none rather than an error.
    assert.deepEqual(data(11), { groups: [] });
    assert.deepEqual(data(12), { groups: [] });
    assert.deepEqual(data(13), { alerts: [] });
    // buildinfo: the fields Grafana reads, and no `features` (Prometheus).
    const info = await send(server.url, get("/api/v1/status/buildinfo"));
    assert.equal(info.status, 200);
    const fields = info.body.data as Record<string, unknown>;
    for (
      const name of [
        "version",
        "revision",
        "branch",
        "buildUser",
        "buildDate",
        "goVersion",
      ]
    ) assert.equal(typeof fields[name], "string", name);
    assert.equal(fields.features, undefined);
  } finally {
    await server.close();
  }
});

test(
  "Grafana's requests get what Prometheus 2.42 answers them (an empty database: status, error type and data)",
  { skip: integrationSkip("prometheus"), timeout: 120_000 },
  async () => {
    await using prometheus = await startPrometheus({ targets: [] });
    const server = await serve(queryRoutes(new MemoryHistory()).fetch, {
      port: 0,
    });
    try {
      const differences: string[] = [];
      for (const r of GRAFANA) {
        const ref = await send(prometheus.url, r);
        const got = await send(server.url, r);
        const shape = (a: Answer) => ({
          status: a.status,
          bodyStatus: a.body.status,
          errorType: a.body.errorType,
          data: a.body.data,
        });
        try {
          assert.deepEqual(shape(got), shape(ref));
        } catch {
          differences.push(
            `${r.method} ${r.path} ${JSON.stringify(r.params)}: Prometheus ${
              JSON.stringify(ref.body).slice(0, 200)
            } (${ref.status}), weir ${
              JSON.stringify(got.body).slice(0, 200)
            } (${got.status})`,
          );
        }
      }
      // buildinfo: the same fields (the values are each program's own).
      const ref = await send(prometheus.url, get("/api/v1/status/buildinfo"));
      const got = await send(server.url, get("/api/v1/status/buildinfo"));
      assert.equal(got.status, ref.status);
      assert.deepEqual(
        Object.keys(got.body.data as object).sort(),
        Object.keys(ref.body.data as object).sort(),
      );
      assert.deepEqual(differences, []);
    } finally {
      await server.close();
    }
  },
);
