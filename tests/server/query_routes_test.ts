/**
 * The Prometheus query API's contract through `app.request()`: the
 * parameters as Prometheus reads them (GET and POST form), its JSON and
 * its errors, the series and label endpoints over an in-memory history,
 * and the wiring into the flow app behind the `read` scope.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate } from "node:timers";
import { gunzipSync } from "node:zlib";
import {
  type EvalOptions,
  type EvalResult,
  MAX_MATCH_SELECTORS,
  MAX_QUERY_LENGTH,
  type QueryEngine,
  queryRoutes,
  type QueryRoutesOptions,
} from "../../src/server/query_routes.ts";
import {
  formatSampleValue,
  parseDurationParam,
  parseTimeParam,
} from "../../src/server/_prometheus_api.ts";
import { parseSeriesSelector } from "../../src/server/_series_selector.ts";
import type { HistoryReader } from "../../src/history/types.ts";
import { MemoryHistory } from "./_memory_history.ts";
import { builtins } from "../../src/components/mod.ts";
import { FlowManager, FlowStore } from "../../src/flows/mod.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { flowApp } from "../../src/server/flow_app.ts";
import type { AccessOptions } from "../../src/server/auth.ts";

const T0 = Date.UTC(2026, 0, 1); // 1767225600000

function history(): MemoryHistory {
  const h = new MemoryHistory();
  const up = (i: number) => [T0 + i * 1000, i] as const;
  h.add({ __name__: "weir_up", job: "weir", instance: "a" }, [up(0), up(1)]);
  h.add({ __name__: "weir_up", job: "weir", instance: "b" }, [up(5)]);
  h.add(
    { __name__: "weir_messages_total", flow: "f1", process: "P" },
    [up(0), up(10)],
    "counter",
  );
  h.add({ __name__: "other", job: "x" }, [[T0 + 100_000, 1]]);
  return h;
}

interface Call {
  kind: "instant" | "range";
  query: string;
  times: number[];
  options?: EvalOptions;
}

/** An evaluator that records what it was asked and answers `result`. */
function recording(result: EvalResult | Error): {
  engine: QueryEngine;
  calls: Call[];
} {
  const calls: Call[] = [];
  const answer = () => {
    if (result instanceof Error) throw result;
    return result;
  };
  return {
    calls,
    engine: {
      queryInstant(_r, query, time, options) {
        calls.push({ kind: "instant", query, times: [time], options });
        return answer();
      },
      queryRange(_r, query, start, end, step, options) {
        calls.push({
          kind: "range",
          query,
          times: [start, end, step],
          options,
        });
        return answer();
      },
    },
  };
}

class PromQLError extends Error {
  override name = "PromQLError";
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

function app(
  reader: HistoryReader = history(),
  { calls: _calls, ...o }: QueryRoutesOptions & { calls?: Call[] } = {},
) {
  // A recording() is passed whole: its calls are the test's, not an option.
  return queryRoutes(reader, o);
}

async function get(
  a: ReturnType<typeof app>,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await a.request(path);
  return { status: res.status, body: await res.json() };
}

function post(a: ReturnType<typeof app>, path: string, form: string) {
  return a.request(path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
}

const VECTOR_SELECTOR = encodeURIComponent('weir_up{instance=~"a|b"}');

test("GET /api/v1/series lists the matching series, sorted, over all time by default", async () => {
  const { status, body } = await get(
    app(),
    `/api/v1/series?match[]=${VECTOR_SELECTOR}&match[]=other`,
  );
  assert.equal(status, 200);
  assert.deepEqual(body, {
    status: "success",
    data: [
      { __name__: "other", job: "x" },
      { __name__: "weir_up", job: "weir", instance: "a" },
      { __name__: "weir_up", job: "weir", instance: "b" },
    ],
  });
});

test("GET /api/v1/series sorts label values as Prometheus does, by their UTF-8 bytes", async () => {
  const h = new MemoryHistory();
  // U+FFFD is EF BF BD in UTF-8, U+1F600 F0 9F 98 80: Go puts U+FFFD
  // first, where UTF-16 (D83D DE00) would put U+1F600 first.
  for (const v of ["\u{1F600}", "\uFFFD", "z"]) {
    h.add({ __name__: "u", v }, [[T0, 1]]);
  }
  const { status, body } = await get(
    queryRoutes(h),
    `/api/v1/series?match[]=u&match[]=${encodeURIComponent('{v="z"}')}`,
  );
  assert.equal(status, 200);
  assert.deepEqual(
    (body as { data: { v: string }[] }).data.map((s) => s.v),
    ["z", "\uFFFD", "\u{1F600}"],
  );
});

test("GET /api/v1/series limits to start and end (float seconds and RFC 3339)", async () => {
  const start = (T0 + 3000) / 1000;
  const end = new Date(T0 + 6000).toISOString();
  const { body } = await get(
    app(),
    `/api/v1/series?match[]=weir_up&start=${start}&end=${end}`,
  );
  assert.deepEqual(body.data, [{
    __name__: "weir_up",
    job: "weir",
    instance: "b",
  }]);
});

test("GET /api/v1/series takes Prometheus's own all-time boundaries (what clients send)", async () => {
  const { status, body } = await get(
    app(),
    "/api/v1/series?match[]=other&start=-9223372036.854776&end=9223372036.854776",
  );
  assert.equal(status, 200);
  assert.equal((body.data as unknown[]).length, 1);
  const rfc = await get(
    app(),
    "/api/v1/series?match[]=other&start=-292273086-05-16T16:47:06Z&end=292277025-08-18T07:12:54.999999999Z",
  );
  assert.equal(rfc.status, 200);
  assert.equal((rfc.body.data as unknown[]).length, 1);
});

test("POST /api/v1/series with a form answers as GET does", async () => {
  const res = await post(
    app(),
    "/api/v1/series",
    `match[]=${VECTOR_SELECTOR}&match[]=other`,
  );
  assert.equal(res.status, 200);
  const viaGet = await get(
    app(),
    `/api/v1/series?match[]=${VECTOR_SELECTOR}&match[]=other`,
  );
  assert.deepEqual(await res.json(), viaGet.body);
});

test("GET /api/v1/series refuses a request without match[] (400 bad_data)", async () => {
  const { status, body } = await get(app(), "/api/v1/series");
  assert.equal(status, 400);
  assert.deepEqual(body, {
    status: "error",
    errorType: "bad_data",
    error: "no match[] parameter provided",
  });
});

test("GET /api/v1/series refuses a selector that does not parse, a bad regex, or one that matches everything", async () => {
  for (
    const [selector, why] of [
      ['weir_up{job="a"', "parse error"],
      ["sum(weir_up)", "a series selector is"],
      ['weir_up{job=~"("}', "invalid regular expression"],
      ['{job=~".*"}', "at least one non-empty matcher"],
      ['{job=""}', "at least one non-empty matcher"],
    ]
  ) {
    const { status, body } = await get(
      app(),
      `/api/v1/series?match[]=${encodeURIComponent(selector)}`,
    );
    assert.equal(status, 400, selector);
    assert.equal(body.errorType, "bad_data", selector);
    assert.match(
      String(body.error),
      new RegExp(why.replace(/[()]/g, "\\$&")),
      selector,
    );
  }
});

test("GET /api/v1/series with limit truncates and warns", async () => {
  const { body } = await get(app(), "/api/v1/series?match[]=weir_up&limit=1");
  assert.deepEqual(body, {
    status: "success",
    data: [{ __name__: "weir_up", job: "weir", instance: "a" }],
    warnings: ["results truncated due to limit"],
  });
  const bad = await get(app(), "/api/v1/series?match[]=weir_up&limit=-1");
  assert.equal(bad.status, 400);
  assert.match(String(bad.body.error), /limit/);
});

test("limit on /labels and /label/:name/values: at most that many with the warning, 0 for none, a bad one refused (2.42 ignores limit; README says why weir does not)", async () => {
  const names = await get(app(), "/api/v1/labels?limit=2");
  assert.deepEqual(names.body, {
    status: "success",
    data: ["__name__", "flow"],
    warnings: ["results truncated due to limit"],
  });
  const values = await get(app(), "/api/v1/label/__name__/values?limit=0");
  assert.equal(values.status, 200);
  assert.equal(values.body.warnings, undefined);
  for (const limit of ["-1", "abc", "1.5"]) {
    for (const path of ["/api/v1/labels", "/api/v1/label/job/values"]) {
      const bad = await get(app(), `${path}?limit=${limit}`);
      assert.equal(bad.status, 400, `${path} ${limit}`);
      assert.equal(bad.body.errorType, "bad_data", `${path} ${limit}`);
    }
  }
});

test("a limit past the safe integers (limit=99999999999999999999) is a 400 bad_data naming the parameter, not no limit", async () => {
  // It was read as 1e20 and answered everything; later Prometheus versions
  // refuse one past their int64 as a limit they cannot parse.
  for (const limit of ["99999999999999999999", "9007199254740992", "1e3"]) {
    for (
      const path of [
        "/api/v1/series?match[]=weir_up&",
        "/api/v1/labels?",
        "/api/v1/label/job/values?",
      ]
    ) {
      const bad = await get(app(), `${path}limit=${limit}`);
      assert.equal(bad.status, 400, `${path} ${limit}`);
      assert.deepEqual(bad.body, {
        status: "error",
        errorType: "bad_data",
        error:
          `invalid parameter "limit": cannot parse "${limit}" to a valid limit`,
      });
    }
  }
  const largest = await get(app(), "/api/v1/labels?limit=9007199254740991");
  assert.equal(largest.status, 200);
  assert.equal(largest.body.warnings, undefined);
});

test("GET /api/v1/labels lists every label name, or those of the matching series", async () => {
  assert.deepEqual((await get(app(), "/api/v1/labels")).body, {
    status: "success",
    data: ["__name__", "flow", "instance", "job", "process"],
  });
  assert.deepEqual(
    (await get(app(), "/api/v1/labels?match[]=weir_messages_total")).body.data,
    ["__name__", "flow", "process"],
  );
  const res = await post(app(), "/api/v1/labels", "match[]=other");
  assert.deepEqual((await res.json()).data, ["__name__", "job"]);
});

test("GET /api/v1/label/:name/values lists the values, filtered by match[] and time", async () => {
  assert.deepEqual((await get(app(), "/api/v1/label/__name__/values")).body, {
    status: "success",
    data: ["other", "weir_messages_total", "weir_up"],
  });
  assert.deepEqual(
    (await get(app(), "/api/v1/label/job/values?match[]=weir_up")).body.data,
    ["weir"],
  );
  const end = (T0 + 2000) / 1000;
  assert.deepEqual(
    (await get(app(), `/api/v1/label/instance/values?end=${end}`)).body.data,
    ["a"],
  );
  assert.deepEqual(
    (await get(app(), "/api/v1/label/nothing/values")).body.data,
    [],
  );
});

test("GET /api/v1/label/:name/values refuses an invalid label name", async () => {
  const { status, body } = await get(app(), "/api/v1/label/a-b/values");
  assert.equal(status, 400);
  assert.deepEqual(body, {
    status: "error",
    errorType: "bad_data",
    error: 'invalid label name: "a-b"',
  });
});

test("GET /api/v1/query passes the query and its time (ms) to the evaluator", async () => {
  const { engine, calls } = recording({ resultType: "vector", result: [] });
  const a = app(history(), { engine, now: () => 42_000 });
  const q = encodeURIComponent("sum(weir_up)");
  assert.deepEqual(
    (await get(a, `/api/v1/query?query=${q}&time=1700000000.5`)).body,
    {
      status: "success",
      data: { resultType: "vector", result: [] },
    },
  );
  await get(a, `/api/v1/query?query=${q}&time=2023-11-14T22:13:20.25Z`);
  await get(a, `/api/v1/query?query=${q}`);
  assert.deepEqual(calls.map((c) => [c.kind, c.query, ...c.times]), [
    ["instant", "sum(weir_up)", 1_700_000_000_500],
    ["instant", "sum(weir_up)", 1_700_000_000_250],
    ["instant", "sum(weir_up)", 42_000],
  ]);
});

test("POST /api/v1/query takes a form, its fields first, then the URL's", async () => {
  const { engine, calls } = recording({ resultType: "vector", result: [] });
  const a = app(history(), { engine });
  const res = await post(a, "/api/v1/query?time=5", "query=up&time=7");
  assert.equal(res.status, 200);
  assert.deepEqual(calls[0].times, [7000]);
});

test("GET /api/v1/query_range reads start, end and step (seconds or durations)", async () => {
  const { engine, calls } = recording({ resultType: "matrix", result: [] });
  const a = app(history(), { engine });
  for (const step of ["15", "15s", "1m30s", "0.5", "1h"]) {
    const { status } = await get(
      a,
      `/api/v1/query_range?query=up&start=1000&end=2000&step=${step}`,
    );
    assert.equal(status, 200, step);
  }
  assert.deepEqual(calls.map((c) => c.times[2]), [
    15_000,
    15_000,
    90_000,
    500,
    3_600_000,
  ]);
  assert.deepEqual(calls[0].times.slice(0, 2), [1_000_000, 2_000_000]);
});

test("query_range's bad input is a 400 naming the problem, and the evaluator is not called", async () => {
  const { engine, calls } = recording({ resultType: "matrix", result: [] });
  const a = app(history(), { engine });
  const cases: [string, RegExp][] = [
    ["start=1000&end=2000&step=0", /zero or negative query resolution step/],
    ["start=1000&end=2000&step=-1", /zero or negative query resolution step/],
    [
      "start=1000&end=2000&step=abc",
      /invalid parameter "step": cannot parse "abc" to a valid duration/,
    ],
    ["start=1000&end=2000", /invalid parameter "step"/],
    [
      "start=0&end=11001&step=1",
      /exceeded maximum resolution of 11,000 points/,
    ],
    [
      "start=2000&end=1000&step=1",
      /end timestamp must not be before start time/,
    ],
    [
      "start=yesterday&end=1000&step=1",
      /invalid parameter "start": cannot parse "yesterday" to a valid timestamp/,
    ],
    ["start=1000&end=1e300&step=1", /invalid parameter "end": .* out of range/],
    ["start=1000&end=2000&step=1&timeout=soon", /invalid parameter "timeout"/],
  ];
  for (const [params, error] of cases) {
    const { status, body } = await get(
      a,
      `/api/v1/query_range?query=up&${params}`,
    );
    assert.equal(status, 400, params);
    assert.equal(body.status, "error", params);
    assert.equal(body.errorType, "bad_data", params);
    assert.match(String(body.error), error, params);
  }
  const noQuery = await get(a, "/api/v1/query_range?start=1&end=2&step=1");
  assert.equal(noQuery.status, 400);
  assert.match(String(noQuery.body.error), /invalid parameter "query"/);
  assert.equal(calls.length, 0);
  // 11,000 points is still allowed.
  const ok = await get(
    a,
    "/api/v1/query_range?query=up&start=0&end=11000&step=1",
  );
  assert.equal(ok.status, 200);
});

test("a query longer than 16384 characters, or match[] selectors longer together, is refused with 400 before it is parsed", async () => {
  // The parser's time and memory grow with the query: a 1 MB query of
  // unbalanced parentheses held the event loop about 10 s.
  assert.equal(MAX_QUERY_LENGTH, 16_384);
  const { engine, calls } = recording({ resultType: "vector", result: [] });
  const a = app(history(), { engine });
  const long = "(".repeat(MAX_QUERY_LENGTH) + "1";
  for (
    const path of [
      "/api/v1/query",
      "/api/v1/query_range",
      "/api/v1/query_exemplars",
      "/api/v1/format_query",
    ]
  ) {
    const res = await post(
      a,
      path,
      `query=${encodeURIComponent(long)}&start=0&end=10&step=1`,
    );
    assert.equal(res.status, 400, path);
    assert.deepEqual(await res.json(), {
      status: "error",
      errorType: "bad_data",
      error:
        `invalid parameter "query": the query is 16385 characters long; weir reads at most 16384`,
    }, path);
  }
  assert.equal(calls.length, 0);
  const longest = "(".repeat(8191) + "1" + ")".repeat(8192);
  const ok = await post(a, "/api/v1/query", `query=${longest}`);
  assert.equal(ok.status, 200);
  assert.equal(calls.length, 1);
  // match[]: each short, together too long (4100 characters each).
  const four = ["w", "x", "y", "z"].map((c) =>
    `match[]=${encodeURIComponent(`weir_up{job="${c.repeat(4085)}"}`)}`
  );
  for (
    const path of [
      "/api/v1/series",
      "/api/v1/labels",
      "/api/v1/label/job/values",
    ]
  ) {
    const { status, body } = await get(a, `${path}?${four.join("&")}`);
    assert.equal(status, 400, path);
    assert.deepEqual(body, {
      status: "error",
      errorType: "bad_data",
      error:
        `invalid parameter "match[]": the 4 match[] selectors are 16400 characters long together; weir reads at most 16384`,
    }, path);
    const three = await get(a, `${path}?${four.slice(1).join("&")}`);
    assert.equal(three.status, 200, path);
  }
});

test("more than 16 different match[] selectors are refused with 400; the same selector repeated is read once", async () => {
  // Each scans every series: 780 on /api/v1/series over 58,000 series held
  // the server 70 s.
  assert.equal(MAX_MATCH_SELECTORS, 16);
  const a = app();
  const selectors = (n: number) =>
    Array.from(
      { length: n },
      (_, i) => `match[]=${encodeURIComponent(`weir_up{instance!="${i}"}`)}`,
    ).join("&");
  for (
    const path of [
      "/api/v1/series",
      "/api/v1/labels",
      "/api/v1/label/job/values",
    ]
  ) {
    const { status, body } = await get(a, `${path}?${selectors(17)}`);
    assert.equal(status, 400, path);
    assert.deepEqual(body, {
      status: "error",
      errorType: "bad_data",
      error:
        `invalid parameter "match[]": 17 different match[] selectors; weir reads at most 16 in one request`,
    }, path);
    assert.equal((await get(a, `${path}?${selectors(16)}`)).status, 200, path);
    const repeated = Array(500).fill("match[]=weir_up").join("&");
    const once = await get(a, `${path}?match[]=weir_up`);
    const many = await get(a, `${path}?${repeated}`);
    assert.equal(many.status, 200, path);
    assert.deepEqual(many.body, once.body, path);
  }
});

test("a timeout parameter can only shorten the configured query timeout", async () => {
  const { engine, calls } = recording({ resultType: "vector", result: [] });
  const a = app(history(), { engine, timeoutMs: 10_000, maxSamples: 500 });
  await get(a, "/api/v1/query?query=up&time=1&timeout=2s");
  await get(a, "/api/v1/query?query=up&time=1&timeout=1m");
  await get(a, "/api/v1/query?query=up&time=1");
  assert.deepEqual(calls.map((c) => c.options?.timeoutMs), [
    2000,
    10_000,
    10_000,
  ]);
  assert.equal(calls[0].options?.maxSamples, 500);
});

test("results are Prometheus's JSON: values as Go formats them, times in float seconds", async () => {
  const metric = { __name__: "x", a: "1" };
  const vector = recording({
    resultType: "vector",
    result: [{ metric, value: [1_700_000_000_123, 0.1] }],
  });
  assert.deepEqual(
    (await get(app(history(), vector), "/api/v1/query?query=x&time=1")).body,
    {
      status: "success",
      data: {
        resultType: "vector",
        result: [{ metric, value: [1_700_000_000.123, "0.1"] }],
      },
    },
  );
  const matrix = recording({
    resultType: "matrix",
    result: [{
      metric,
      values: [[1000, NaN], [2000, Infinity], [3000, -Infinity], [4000, 1e21], [
        5000,
        -1.5e-7,
      ], [6000, -0]],
    }],
  });
  const m = await get(
    app(history(), matrix),
    "/api/v1/query_range?query=x&start=1&end=6&step=1",
  );
  assert.deepEqual(m.body.data, {
    resultType: "matrix",
    result: [{
      metric,
      values: [
        [1, "NaN"],
        [2, "+Inf"],
        [3, "-Inf"],
        [4, "1e+21"],
        [5, "-1.5e-07"],
        [6, "-0"],
      ],
    }],
  });
  const scalar = recording({ resultType: "scalar", result: [1500, 42] });
  assert.deepEqual(
    (await get(app(history(), scalar), "/api/v1/query?query=42&time=1.5")).body
      .data,
    { resultType: "scalar", result: [1.5, "42"] },
  );
  const string = recording({ resultType: "string", result: [1500, "hi"] });
  assert.deepEqual(
    (await get(app(history(), string), '/api/v1/query?query="hi"&time=1.5'))
      .body.data,
    { resultType: "string", result: [1.5, "hi"] },
  );
});

test("a range answer held in typed arrays (RangeColumns) is written as the same JSON text as the matrix of [t, v] points", async () => {
  const metric = { __name__: "x", "a": 'q"\\\n', "b": "zé😀" };
  const t = [
    1_700_000_000_123,
    1_700_000_001_000,
    3000,
    4000,
    5000,
    6000,
    7000,
  ];
  const v = [0.1 + 0.2, NaN, Infinity, -Infinity, 1e21, -1.5e-7, -0];
  const points = recording({
    resultType: "matrix",
    result: [
      { metric, values: t.map((x, i) => [x, v[i]] as [number, number]) },
      { metric: {}, values: [[1000, 1]] },
    ],
  });
  const columns: QueryEngine = {
    queryInstant: () => ({ resultType: "vector", result: [] }),
    queryRange: () => ({
      resultType: "matrix",
      columns: [
        { metric, t: new Float64Array(t), v: new Float64Array(v) },
        { metric: {}, t: new Float64Array([1000]), v: new Float64Array([1]) },
      ],
    }),
  };
  const path = "/api/v1/query_range?query=x&start=1&end=6&step=1";
  const res = await app(history(), { engine: columns }).request(path);
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.equal(
    text,
    await (await app(history(), points).request(path)).text(),
  );
  assert.equal(
    text,
    '{"status":"success","data":{"resultType":"matrix","result":[' +
      '{"metric":{"__name__":"x","a":"q\\"\\\\\\n","b":"zé😀"},"values":[' +
      '[1700000000.123,"0.30000000000000004"],[1700000001,"NaN"],' +
      '[3,"+Inf"],[4,"-Inf"],[5,"1e+21"],[6,"-1.5e-07"],[7,"-0"]]},' +
      '{"metric":{},"values":[[1,"1"]]}]}}',
  );
  // Empty: no series.
  const none: QueryEngine = {
    ...columns,
    queryRange: () => ({ resultType: "matrix", columns: [] }),
  };
  assert.equal(
    await (await app(history(), { engine: none }).request(path)).text(),
    '{"status":"success","data":{"resultType":"matrix","result":[]}}',
  );
});

test("the evaluator's errors keep their Prometheus type: 400 bad_data, 422 execution, 503 timeout", async () => {
  for (
    const [type, status] of [
      ["bad_data", 400],
      ["execution", 422],
      ["timeout", 503],
    ] as const
  ) {
    const r = recording(new PromQLError(type, `it failed: ${type}`));
    const { status: got, body } = await get(
      app(history(), r),
      "/api/v1/query?query=x",
    );
    assert.equal(got, status, type);
    assert.deepEqual(body, {
      status: "error",
      errorType: type,
      // As 2.42 words an instant query's bad_data errors.
      error: type === "bad_data"
        ? `invalid parameter "query": it failed: ${type}`
        : `it failed: ${type}`,
    });
  }
});

test("an unexpected error answers 500 in Prometheus's shape (errorType internal) with a request id the log names; a runtime limit hit is 422 execution", async () => {
  const told: { requestId: string; error: unknown }[] = [];
  const a = app(history(), {
    ...recording(new TypeError("x is undefined")),
    onInternalError: (r, error) => told.push({ requestId: r.requestId, error }),
  });
  const res = await a.request("/api/v1/query?query=x");
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.equal(body.status, "error");
  assert.equal(body.errorType, "internal");
  assert.equal(told.length, 1);
  assert.equal(res.headers.get("x-request-id"), told[0].requestId);
  assert.ok(String(body.error).includes(told[0].requestId), body.error);
  assert.doesNotMatch(String(body.error), /x is undefined/);
  const big = app(
    history(),
    recording(new RangeError("Invalid string length")),
  );
  const r2 = await big.request("/api/v1/query?query=x");
  assert.equal(r2.status, 422);
  assert.equal((await r2.json()).errorType, "execution");
});

test("GET and POST /api/v1/query_exemplars answer an empty list (weir keeps no exemplars), after checking the query", async () => {
  const ok = await get(
    app(),
    "/api/v1/query_exemplars?query=weir_up&start=1&end=2",
  );
  assert.deepEqual(ok, { status: 200, body: { status: "success", data: [] } });
  const form = await post(app(), "/api/v1/query_exemplars", "query=weir_up");
  assert.equal(form.status, 200);
  const bad = await get(app(), "/api/v1/query_exemplars?query=sum(");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.errorType, "bad_data");
});

test("GET and POST /api/v1/format_query answer the query prettified, as Prometheus 2.42", async () => {
  const ok = await get(
    app(),
    "/api/v1/format_query?query=" +
      encodeURIComponent("sum(rate(weir_up{job='weir'}[90m])) by (job)"),
  );
  assert.deepEqual(ok, {
    status: 200,
    body: {
      status: "success",
      data: 'sum by (job) (rate(weir_up{job="weir"}[1h30m]))',
    },
  });
  const form = await post(app(), "/api/v1/format_query", "query=(1e3)");
  assert.deepEqual(await form.json(), { status: "success", data: "(1000)" });
  // Parsed, not evaluated: 2.42 knows it, weir does not evaluate it.
  const native = await get(
    app(),
    "/api/v1/format_query?query=histogram_sum(x)",
  );
  assert.deepEqual(native.body, {
    status: "success",
    data: "histogram_sum(x)",
  });
});

test("/api/v1/format_query refuses a query that does not parse, or none, in Prometheus's shape", async () => {
  const bad = await get(app(), "/api/v1/format_query?query=sum(");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.status, "error");
  assert.equal(bad.body.errorType, "bad_data");
  assert.match(
    String(bad.body.error),
    /^invalid parameter "query": 1:5: parse error/,
  );
  const none = await get(app(), "/api/v1/format_query");
  assert.deepEqual(none, {
    status: 400,
    body: {
      status: "error",
      errorType: "bad_data",
      error:
        'invalid parameter "query": 1:1: parse error: no expression found in input',
    },
  });
});

test("a large answer goes gzipped to a client that takes gzip (as Prometheus sends it); a small one, or one to a client that does not, as it is", async () => {
  const h = new MemoryHistory();
  for (let i = 0; i < 200; i++) {
    h.add({ __name__: "m", i: String(i), site: "edge-gateway-17" }, [[T0, i]]);
  }
  const app = queryRoutes(h, { now: () => T0 });
  const path = "/api/v1/query?query=m&time=" + T0 / 1000;
  const plain = await app.request(path);
  assert.equal(plain.headers.get("Content-Encoding"), null);
  const text = await plain.text();
  assert.ok(text.length > 10_000);
  for (const method of ["GET", "POST"]) {
    const gz = await app.request(
      method === "GET" ? path : "/api/v1/query",
      {
        method,
        headers: {
          "Accept-Encoding": "gzip, deflate, br",
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: method === "GET" ? undefined : `query=m&time=${T0 / 1000}`,
      },
    );
    assert.equal(gz.status, 200);
    assert.equal(gz.headers.get("Content-Encoding"), "gzip");
    assert.equal(gz.headers.get("Content-Type"), "application/json");
    assert.equal(gz.headers.get("Vary"), "Accept-Encoding");
    const bytes = new Uint8Array(await gz.arrayBuffer());
    assert.equal(gz.headers.get("Content-Length"), String(bytes.byteLength));
    assert.ok(bytes.byteLength < text.length / 4, `${bytes.byteLength}`);
    assert.equal(gunzipSync(bytes).toString(), text);
  }
  // A range query's answer, written as bytes from its typed arrays.
  const range = `/api/v1/query_range?query=m&start=${T0 / 1000}&end=${
    T0 / 1000 + 2
  }&step=1`;
  const plainRange = await app.request(range);
  assert.equal(plainRange.headers.get("Content-Encoding"), null);
  assert.equal(plainRange.headers.get("Content-Type"), "application/json");
  const rangeText = await plainRange.text();
  assert.equal(JSON.parse(rangeText).data.result.length, 200);
  const gzRange = await app.request(range, {
    headers: { "Accept-Encoding": "gzip" },
  });
  assert.equal(gzRange.headers.get("Content-Encoding"), "gzip");
  assert.equal(gzRange.headers.get("Content-Type"), "application/json");
  const rangeBytes = new Uint8Array(await gzRange.arrayBuffer());
  assert.equal(
    gzRange.headers.get("Content-Length"),
    String(rangeBytes.byteLength),
  );
  assert.equal(gunzipSync(rangeBytes).toString(), rangeText);
  const refused = await app.request(path, {
    headers: { "Accept-Encoding": "gzip;q=0, identity" },
  });
  assert.equal(refused.headers.get("Content-Encoding"), null);
  assert.equal(await refused.text(), text);
  const small = await app.request("/api/v1/labels", {
    headers: { "Accept-Encoding": "gzip" },
  });
  assert.equal(small.headers.get("Content-Encoding"), null);
  assert.deepEqual((await small.json()).data, ["__name__", "i", "site"]);
});

test("GET /api/v1/status/buildinfo answers for Grafana", async () => {
  const { status, body } = await get(app(), "/api/v1/status/buildinfo");
  assert.equal(status, 200);
  assert.equal(body.status, "success");
  assert.equal(typeof (body.data as { version: string }).version, "string");
});

test("GET /api/v1/rules and /api/v1/alerts answer none (weir evaluates no rules); a bad type is bad_data", async () => {
  const a = app();
  for (const path of ["/api/v1/rules", "/api/v1/rules?type=record"]) {
    assert.deepEqual(await get(a, path), {
      status: 200,
      body: { status: "success", data: { groups: [] } },
    });
  }
  assert.deepEqual(await get(a, "/api/v1/alerts"), {
    status: 200,
    body: { status: "success", data: { alerts: [] } },
  });
  const bad = await get(a, "/api/v1/rules?type=bad");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.errorType, "bad_data");
});

test("parseTimeParam, parseDurationParam read what Prometheus reads", () => {
  assert.equal(parseTimeParam("1.0015", "t"), 1002);
  assert.equal(parseTimeParam("-1.5", "t"), -1500);
  assert.equal(
    parseTimeParam("2026-01-01T00:00:00+01:00", "t"),
    T0 - 3_600_000,
  );
  assert.equal(parseTimeParam("2026-01-01T00:00:00.123456789Z", "t"), T0 + 123);
  for (const bad of ["", " 1", "0x10", "NaN", "Inf", "2026-01-01", "1,5"]) {
    assert.throws(() => parseTimeParam(bad, "t"), /cannot parse/, bad);
  }
  assert.equal(
    parseDurationParam("1y2w3d4h5m6s7ms", "d"),
    365 * 864e5 + 14 * 864e5 + 3 * 864e5 + 4 * 36e5 + 5 * 6e4 + 6007,
  );
  assert.equal(parseDurationParam("0", "d"), 0);
  assert.equal(parseDurationParam("1e3", "d"), 1e6);
  for (const bad of ["", "1.5m", "m", "1s1m", "-1m", "15 s"]) {
    assert.throws(() => parseDurationParam(bad, "d"), /valid duration/, bad);
  }
});

test("parseSeriesSelector reads names, all four matchers and Go string escapes", () => {
  assert.deepEqual(
    parseSeriesSelector(
      `weir_up{a="x\\"y\\n", b!='z', c=~\`a.*\`, d!~"\\x41"}`,
    ),
    [
      { name: "__name__", type: "=", value: "weir_up" },
      { name: "a", type: "=", value: 'x"y\n' },
      { name: "b", type: "!=", value: "z" },
      { name: "c", type: "=~", value: "a.*" },
      { name: "d", type: "!~", value: "A" },
    ],
  );
});

test("formatSampleValue writes the shortest decimal that reads back, without exponent", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 2000; i++) {
    const v = (random() - 0.5) * 10 ** Math.floor(random() * 60 - 30);
    const s = formatSampleValue(v);
    assert.doesNotMatch(s, /e/i, s);
    assert.equal(Number(s), v, s);
  }
  assert.equal(formatSampleValue(123.456), "123.456");
  assert.equal(formatSampleValue(5e-324), "0." + "0".repeat(323) + "5");
});

async function withFlowApp(
  access: AccessOptions | undefined,
  reader: HistoryReader | undefined,
  body: (a: ReturnType<typeof flowApp>) => Promise<void>,
): Promise<void> {
  const metrics = new MetricsCollector();
  const components = builtins();
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: components,
    collector: metrics,
  });
  try {
    await body(
      flowApp({ flows, metrics, components, access, history: reader }),
    );
  } finally {
    await flows.close();
  }
}

const READ = "r".repeat(20);
const METRICS = "m".repeat(20);
const TOKENS: AccessOptions = {
  tokens: [
    { token: READ, scopes: ["read"] },
    { token: METRICS, scopes: ["metrics"] },
  ],
};

test("flowApp without a history answers 404 on the query API's paths", async () => {
  await withFlowApp(undefined, undefined, async (a) => {
    for (
      const path of [
        "/api/v1/query?query=1",
        "/api/v1/series?match[]=up",
        "/api/v1/labels",
      ]
    ) {
      assert.equal((await a.request(path)).status, 404, path);
    }
  });
});

test("flowApp with a history serves the query API behind the read scope", async () => {
  await withFlowApp(TOKENS, history(), async (a) => {
    const path = "/api/v1/label/__name__/values";
    const none = await a.request(path);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("WWW-Authenticate"), 'Bearer realm="weir"');
    // The server's own refusal (README: "Access and method refusals").
    assert.deepEqual(Object.keys(await none.json()), ["error"]);
    const metricsOnly = await a.request(path, {
      headers: { Authorization: `Bearer ${METRICS}` },
    });
    assert.equal(metricsOnly.status, 403);
    assert.deepEqual(Object.keys(await metricsOnly.json()), ["error"]);
    const ok = await a.request(path, {
      headers: { Authorization: `Bearer ${READ}` },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual((await ok.json()).data, [
      "other",
      "weir_messages_total",
      "weir_up",
    ]);
    // POST is a read too: the read scope suffices.
    const form = await a.request("/api/v1/labels", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${READ}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "match[]=other",
    });
    assert.equal(form.status, 200);
    const formatPath = "/api/v1/format_query?query=up";
    assert.equal((await a.request(formatPath)).status, 401);
    const formatted = await a.request(formatPath, {
      headers: { Authorization: `Bearer ${READ}` },
    });
    assert.deepEqual(await formatted.json(), { status: "success", data: "up" });
    // /api/v1/metadata keeps its own scope.
    const meta = await a.request("/api/v1/metadata", {
      headers: { Authorization: `Bearer ${METRICS}` },
    });
    assert.equal(meta.status, 200);
  });
});

test("flowApp's query API: other methods get 405 with Allow, bad input 400 in Prometheus's shape", async () => {
  await withFlowApp(undefined, history(), async (a) => {
    const res = await a.request("/api/v1/query", { method: "DELETE" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("Allow"), "GET, POST");
    assert.deepEqual(Object.keys(await res.json()), ["error"]);
    const rules = await a.request("/api/v1/rules", { method: "POST" });
    assert.equal(rules.status, 405);
    assert.equal(rules.headers.get("Allow"), "GET");
    const bad = await a.request("/api/v1/series?match[]=%7B");
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).errorType, "bad_data");
  });
});

test("flowApp's query API answers HEAD 405 on every path, as Prometheus 2.42's router does, and GET as before", async () => {
  // Prometheus registers GET and POST (GET alone on these three paths),
  // no HEAD: tests/server/query_api_parity_test.ts asks a real one.
  const getOnly = [
    "/api/v1/label/job/values",
    "/api/v1/status/buildinfo",
    "/api/v1/rules",
    "/api/v1/alerts",
  ];
  const paths = [
    "/api/v1/query?query=1",
    "/api/v1/query_range?query=1&start=0&end=10&step=5",
    "/api/v1/series?match[]=up",
    "/api/v1/labels",
    "/api/v1/query_exemplars?query=up",
    "/api/v1/format_query?query=up",
    ...getOnly,
  ];
  await withFlowApp(undefined, history(), async (a) => {
    for (const path of paths) {
      const head = await a.request(path, { method: "HEAD" });
      const allow = getOnly.includes(path) ? "GET" : "GET, POST";
      assert.deepEqual(
        [head.status, head.headers.get("Allow")],
        [405, allow],
        `HEAD ${path}`,
      );
      assert.equal(await head.text(), "", `HEAD ${path}: no body`);
      const get = await a.request(path);
      assert.equal(get.status, 200, `GET ${path}`);
      assert.equal((await get.json()).status, "success", `GET ${path}`);
    }
    const del = await a.request("/api/v1/format_query", { method: "DELETE" });
    assert.equal(
      (await del.json()).error,
      "method DELETE is not allowed on /api/v1/format_query: use GET, POST",
    );
  });
});

test("flowApp refuses a query form larger than maxBodyBytes (413)", async () => {
  const metrics = new MetricsCollector();
  const components = builtins();
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: components,
    collector: metrics,
  });
  try {
    const a = flowApp({
      flows,
      metrics,
      components,
      history: history(),
      maxBodyBytes: 100,
    });
    const res = await a.request("/api/v1/query", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "query=" + "x".repeat(200),
    });
    assert.equal(res.status, 413);
    // In Prometheus's shape, as every answer of the query API.
    const body = await res.json();
    assert.equal(body.status, "error");
    assert.equal(body.errorType, "bad_data");
  } finally {
    await flows.close();
  }
});

test("with weir's evaluator: bad queries are 400 bad_data naming the problem, too many samples 422", async () => {
  const a = app(history(), { maxSamples: 2 });
  for (
    const [query, why] of [
      ["sum(weir_up", /parse error/],
      ['weir_up{job=~"("}', /regex|regular expression/i],
      ["rate(weir_up)", /range vector/],
      ["nosuchfunction(weir_up)", /nosuchfunction/],
    ] as const
  ) {
    const { status, body } = await get(
      a,
      `/api/v1/query?time=${T0 / 1000 + 5}&query=${encodeURIComponent(query)}`,
    );
    assert.equal(status, 400, query);
    assert.equal(body.errorType, "bad_data", query);
    assert.match(String(body.error), why, query);
  }
  const many = await get(
    a,
    `/api/v1/query_range?query=weir_up&start=${T0 / 1000}&end=${
      T0 / 1000 + 10
    }&step=1`,
  );
  assert.equal(many.status, 422);
  assert.equal(many.body.errorType, "execution");
  // label_join nested, each doubling a label: refused once a value would
  // pass 65,536 characters (28 levels built gigabytes before).
  let q = 'label_replace(vector(1),"a","xxxxxxxxxx","","")';
  for (let i = 0; i < 28; i++) q = `label_join(${q},"a","","a","a")`;
  const join = await get(a, `/api/v1/query?query=${encodeURIComponent(q)}`);
  assert.equal(join.status, 422);
  assert.equal(join.body.errorType, "execution");
  assert.match(String(join.body.error), /label_join\(\).*more than 65536/);
  const ok = await get(
    app(),
    `/api/v1/query?time=${T0 / 1000 + 5}&query=sum(weir_up)`,
  );
  assert.deepEqual(ok.body, {
    status: "success",
    data: {
      resultType: "vector",
      result: [{ metric: {}, value: [T0 / 1000 + 5, "6"] }],
    },
  });
});

test("with weir's evaluator, a range query lets the server run between its slices, and answers as at once", async () => {
  const h = new MemoryHistory();
  const points: [number, number][] = [];
  for (let i = 0; i <= 3600; i++) points.push([T0 + i * 1000, i % 17]);
  h.add({ __name__: "weir_up", job: "weir", instance: "a" }, points);
  const a = app(h);
  const path = `/api/v1/query_range?query=${
    encodeURIComponent("max_over_time(weir_up[1m])")
  }&start=${T0 / 1000}&end=${T0 / 1000 + 3600}&step=1`;
  // Work queued before the request: with the whole range evaluated at
  // once, the answer would come first.
  let ran = false;
  setImmediate(() => ran = true);
  const { status, body } = await get(a, path);
  assert.equal(status, 200);
  assert.equal(ran, true);
  const result = (body.data as { result: { values: [number, string][] }[] })
    .result;
  assert.equal(result.length, 1);
  const values = result[0].values;
  assert.equal(values.length, 3601);
  // Every step's answer: the largest of the minute that ends there.
  for (const [t, v] of values) {
    const i = t - T0 / 1000;
    let max = 0;
    for (let j = Math.max(0, i - 59); j <= i; j++) max = Math.max(max, j % 17);
    assert.equal(v, String(max), `at ${t}`);
  }
});

test("range queries take turns: the next starts once the one before has answered", async () => {
  const events: string[] = [];
  let release!: () => void;
  const first = new Promise<void>((r) => release = r);
  const answer: EvalResult = { resultType: "matrix", result: [] };
  const engine: QueryEngine = {
    queryInstant: () => ({ resultType: "vector", result: [] }),
    async queryRange(_r, query) {
      events.push(`start ${query}`);
      if (query === "a") await first;
      events.push(`end ${query}`);
      return answer;
    },
  };
  const a = app(history(), { engine });
  const path = (q: string) =>
    `/api/v1/query_range?query=${q}&start=${T0 / 1000}&end=${
      T0 / 1000 + 60
    }&step=15`;
  const one = a.request(path("a"));
  const two = a.request(path("b"));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(events, ["start a"]);
  release();
  assert.equal((await one).status, 200);
  assert.equal((await two).status, 200);
  assert.deepEqual(events, ["start a", "end a", "start b", "end b"]);
});
