/**
 * The query API as Prometheus 2.42.0 answers (its answers noted beside each
 * request), where a review (session 10) found weir's HTTP answer differing;
 * each test failed before its fix.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { queryRoutes } from "../../src/server/query_routes.ts";
import { MemoryHistory } from "./_memory_history.ts";

const T = 1_700_001_000;

function app() {
  const h = new MemoryHistory();
  h.add({ __name__: "temp", room: "x" }, [[T * 1000 - 15_000, 1], [
    T * 1000,
    2,
  ]]);
  return queryRoutes(h, { now: () => T * 1000 });
}

async function ask(
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await app().request(path);
  } catch (error) {
    assert.fail(`the request threw instead of answering: ${error}`);
  }
  return { status: res.status, body: await res.json() };
}

test("a string escape beyond Unicode in a query is 400 bad_data, not a thrown RangeError", async () => {
  // Prometheus 2.42: 400 "escape sequence is an invalid Unicode code point".
  const q = encodeURIComponent('"\\U00110000"');
  const r = await ask(`/api/v1/query?query=${q}&time=${T}`);
  assert.equal(r.status, 400);
  assert.equal(r.body.errorType, "bad_data");
});

test("a match[] with an escape beyond Unicode is 400 bad_data, not a thrown RangeError", async () => {
  const m = encodeURIComponent('temp{room="\\U00110000"}');
  const r = await ask(`/api/v1/series?match%5B%5D=${m}`);
  assert.equal(r.status, 400);
  assert.equal(r.body.errorType, "bad_data");
});

test("a match[] with an octal escape above \\377 is refused as 2.42 refuses it", async () => {
  const m = encodeURIComponent('temp{room="\\400"}');
  const r = await ask(`/api/v1/series?match%5B%5D=${m}`);
  assert.equal(r.status, 400);
  assert.equal(r.body.errorType, "bad_data");
});

test("vector and matrix sample values use Go's exponent form beyond 1e21 and below 1e-6, as 2.42's marshalPointJSON", async () => {
  // Prometheus 2.42: vector(1e21) -> "1e+21", vector(1.5e-7) -> "1.5e-07"
  // (a scalar result keeps the plain form "1000000000000000000000").
  const big = await ask(
    `/api/v1/query?query=${encodeURIComponent("vector(1e21)")}&time=${T}`,
  );
  assert.deepEqual(big.body.data, {
    resultType: "vector",
    result: [{ metric: {}, value: [T, "1e+21"] }],
  });
  const small = await ask(
    `/api/v1/query?query=${encodeURIComponent("vector(1.5e-7)")}&time=${T}`,
  );
  assert.deepEqual(small.body.data, {
    resultType: "vector",
    result: [{ metric: {}, value: [T, "1.5e-07"] }],
  });
  const range = await ask(
    `/api/v1/query_range?query=${
      encodeURIComponent("vector(1e21)")
    }&start=${T}&end=${T}&step=1`,
  );
  assert.deepEqual(range.body.data, {
    resultType: "matrix",
    result: [{ metric: {}, values: [[T, "1e+21"]] }],
  });
});

test("an RFC 3339 time with a lower-case t or z is refused as 2.42 (Go's time.Parse) refuses it", async () => {
  // Prometheus 2.42: 400 `cannot parse "2023-11-14t22:18:20Z" to a valid timestamp`.
  const r = await ask(
    `/api/v1/query?query=1&time=2023-11-14t22:18:20Z`,
  );
  assert.equal(r.status, 400);
  assert.equal(r.body.errorType, "bad_data");
});

test("a match[] ending in a comment is a valid selector (2.42 answers the series)", async () => {
  const r = await ask(
    `/api/v1/series?match%5B%5D=${encodeURIComponent("temp#comment")}`,
  );
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data, [{ __name__: "temp", room: "x" }]);
});

test("a range of 11,000.5 steps is within the limit (2.42 divides durations as integers and answers 11,001 points)", async () => {
  const r = await ask(
    "/api/v1/query_range?query=time()&start=1000&end=12000.5&step=1",
  );
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 200));
  const data = r.body.data as { result: { values: unknown[] }[] };
  assert.equal(data.result[0].values.length, 11_001);
});

test("a sub-millisecond step is truncated to whole ms as 2.42 does (0.0019 s steps by 1 ms, not 2)", async () => {
  const r = await ask(
    "/api/v1/query_range?query=time()&start=1000&end=1000.006&step=0.0019",
  );
  assert.equal(r.status, 200);
  const data = r.body.data as { result: { values: [number, string][] }[] };
  assert.deepEqual(
    data.result[0].values.map(([t]) => t),
    [1000, 1000.001, 1000.002, 1000.003, 1000.004, 1000.005, 1000.006],
  );
});

test("a POST of multipart/form-data is read as 2.42 reads it (r.FormValue parses multipart forms)", async () => {
  // Prometheus 2.42 (curl -F query=vector(2) -F time=...): success, value "2".
  const form = new FormData();
  form.set("query", "vector(2)");
  form.set("time", String(T));
  let res: Response;
  try {
    res = await app().request("/api/v1/query", { method: "POST", body: form });
  } catch (error) {
    assert.fail(`the request threw instead of answering: ${error}`);
  }
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(body.data, {
    resultType: "vector",
    result: [{ metric: {}, value: [T, "2"] }],
  });
});

test("an RFC 3339 time naming a day that does not exist is refused, not moved to the next month", async () => {
  // Prometheus 2.42: 400 `cannot parse "2023-02-29T00:00:00Z" to a valid timestamp`;
  // weir answered at 2023-03-01.
  for (const time of ["2023-02-29T00:00:00Z", "2023-11-31T12:00:00Z"]) {
    const r = await ask(`/api/v1/query?query=1&time=${time}`);
    assert.equal(r.status, 400, `${time}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.errorType, "bad_data");
  }
});

test("an RFC 3339 time with more than nine fraction digits is refused, as 2.42 (Go's time.Parse) refuses it", async () => {
  // Prometheus 2.42: 400 `cannot parse "2023-11-14T22:13:20.1234567891Z" to
  // a valid timestamp` for time, query_range's start and series' start;
  // nine digits answer 1700000000.123.
  const time = "2023-11-14T22:13:20.1234567891Z";
  for (
    const path of [
      `/api/v1/query?query=1&time=${time}`,
      `/api/v1/query_range?query=1&start=${time}&end=${T}&step=60`,
      `/api/v1/series?match%5B%5D=temp&start=${time}`,
    ]
  ) {
    const r = await ask(path);
    assert.equal(r.status, 400, path);
    assert.equal(r.body.errorType, "bad_data", path);
    assert.match(String(r.body.error), /to a valid timestamp/, path);
  }
  const nine = await ask(
    "/api/v1/query?query=time()&time=2023-11-14T22:13:20.123456789Z",
  );
  assert.deepEqual(nine.body.data, {
    resultType: "scalar",
    result: [1_700_000_000.123, "1700000000.123"],
  });
});

test("an RFC 3339 offset beyond 24 hours or 60 minutes is read as 2.42 reads it, not refused", async () => {
  // Prometheus 2.42, query=time(): 2023-11-14T22:13:20+25:00 -> 1699910000,
  // +01:61 -> 1699992740, -25:00 -> 1700090000, +99:99 -> 1699637660.
  const cases: [string, number][] = [
    ["%2B25:00", 1_699_910_000],
    ["%2B01:61", 1_699_992_740],
    ["-25:00", 1_700_090_000],
    ["%2B99:99", 1_699_637_660],
  ];
  for (const [offset, want] of cases) {
    const r = await ask(
      `/api/v1/query?query=time()&time=2023-11-14T22:13:20${offset}`,
    );
    assert.equal(r.status, 200, `${offset}: ${JSON.stringify(r.body)}`);
    assert.deepEqual(
      r.body.data,
      { resultType: "scalar", result: [want, String(want)] },
      offset,
    );
  }
});

test("a subquery with billions of steps is answered 422 too-many-samples, not a thrown RangeError", async () => {
  const q = encodeURIComponent("max_over_time(vector(1)[1y:1ms])");
  const r = await ask(`/api/v1/query?query=${q}&time=${T}`);
  assert.equal(r.status, 422);
  assert.equal(r.body.errorType, "execution");
});

test("a match[] with quoted names (Prometheus 3 syntax) is refused as 2.42 refuses it, and the plain form answers", async () => {
  for (const m of ['{"temp"}', 'temp{"room"="x"}', '{"temp", room="x"}']) {
    const r = await ask(
      `/api/v1/series?match%5B%5D=${encodeURIComponent(m)}`,
    );
    assert.equal(r.status, 400, m);
    assert.equal(r.body.errorType, "bad_data", m);
    assert.match(String(r.body.error), /unexpected string/, m);
  }
  const ok = await ask(
    `/api/v1/series?match%5B%5D=${encodeURIComponent('temp{room="x"}')}`,
  );
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.data, [{ __name__: "temp", room: "x" }]);
});

test("a match[] naming the metric offset selects it, and atan2 is refused, as in 2.42", async () => {
  const h = new MemoryHistory();
  h.add({ __name__: "offset", job: "x" }, [[T * 1000, 1]]);
  const a = queryRoutes(h, { now: () => T * 1000 });
  const ok = await a.request(
    `/api/v1/series?match%5B%5D=${encodeURIComponent('offset{job="x"}')}`,
  );
  assert.equal(ok.status, 200);
  assert.deepEqual((await ok.json()).data, [{ __name__: "offset", job: "x" }]);
  const bad = await a.request(`/api/v1/series?match%5B%5D=atan2`);
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /unexpected <op:atan2>/);
});

test("a time's fraction is rounded to the ms with halves away from zero, and an RFC 3339 time truncated toward zero, as 2.42", async () => {
  // Prometheus 2.42, query=time(): -0.0005 -> -0.001, -0.0015 -> -0.002,
  // 0.0005 -> 0.001, 1700000000.0005 -> 1700000000 (the float's fraction
  // is 0.00049999...), 1969-12-31T23:59:59.9995Z -> 0.
  const cases: [string, number][] = [
    ["-0.0005", -0.001],
    ["-0.0015", -0.002],
    ["-.0005", -0.001],
    ["0.0005", 0.001],
    ["-1.0005", -1],
    ["1700000000.0005", 1_700_000_000],
    ["1969-12-31T23:59:59.9995Z", 0],
    ["1969-12-31T23:59:59.001Z", -0.999],
  ];
  for (const [time, want] of cases) {
    const r = await ask(`/api/v1/query?query=time()&time=${time}`);
    assert.equal(r.status, 200, time);
    assert.deepEqual(
      r.body.data,
      { resultType: "scalar", result: [want, String(want)] },
      time,
    );
  }
});

test("time, step and timeout read as Go's ParseFloat reads them: hexadecimal with an exponent, _ between digits", async () => {
  // Prometheus 2.42: time=0x1p-1 -> 0.5, time=1_0 -> 10; step=0x1p0 steps
  // by 1 s; time=0x10 (no exponent) -> 400 cannot parse.
  const t = await ask("/api/v1/query?query=time()&time=0x1p-1");
  assert.deepEqual(t.body.data, { resultType: "scalar", result: [0.5, "0.5"] });
  const u = await ask("/api/v1/query?query=time()&time=1_0&timeout=0x1p4");
  assert.deepEqual(u.body.data, { resultType: "scalar", result: [10, "10"] });
  const r = await ask(
    "/api/v1/query_range?query=time()&start=0&end=2&step=0x1p0",
  );
  const data = r.body.data as { result: { values: [number, string][] }[] };
  assert.deepEqual(data.result[0].values.map(([x]) => x), [0, 1, 2]);
  for (const bad of ["0x10", "1__0", "+nan"]) {
    const b = await ask(`/api/v1/query?query=time()&time=${bad}`);
    assert.equal(b.status, 400, bad);
  }
});

test("range points are counted as 2.42 counts them, in ns before the step is truncated to ms: 11,001 s at 1.0001 s is 11,002 points", async () => {
  // Prometheus 2.42: (end - start) / step in Go's int64 ns is 10,999, so
  // the query runs, at the engine's step of 1000 ms: 11,002 points; at a
  // step of 0.9999999 s (999 ms) over 11,000 s, 11,012 points.
  const cases: [string, number, number[]][] = [
    ["start=1000&end=12001&step=1.0001", 11_002, [1000, 1001]],
    ["start=1000&end=12000&step=0.9999999", 11_012, [1000, 1000.999]],
  ];
  for (const [params, points, first] of cases) {
    const r = await ask(`/api/v1/query_range?query=time()&${params}`);
    assert.equal(r.status, 200, `${params}: ${JSON.stringify(r.body)}`);
    const data = r.body.data as { result: { values: [number, string][] }[] };
    assert.equal(data.result[0].values.length, points, params);
    assert.deepEqual(data.result[0].values.slice(0, 2).map(([t]) => t), first);
  }
  // A step of 1 ns: 10 s are 1e10 steps, refused before any evaluation.
  const tiny = await ask(
    "/api/v1/query_range?query=time()&start=0&end=10&step=1e-9",
  );
  assert.equal(tiny.status, 400);
  assert.match(String(tiny.body.error), /exceeded maximum resolution/);
});

test("series, labels and label values with an end before the start answer nothing, as 2.42 does (no error)", async () => {
  // Prometheus 2.42: 200 {"status":"success","data":[]} for each; only
  // query_exemplars refuses it (400 "end timestamp must not be before
  // start timestamp"), as query_range does.
  const times = `start=${T}&end=${T - 60}`;
  for (
    const path of [
      `/api/v1/series?match%5B%5D=temp&${times}`,
      `/api/v1/labels?${times}`,
      `/api/v1/labels?match%5B%5D=temp&${times}`,
      `/api/v1/label/room/values?${times}`,
    ]
  ) {
    const r = await ask(path);
    assert.equal(r.status, 200, path);
    assert.deepEqual(r.body, { status: "success", data: [] }, path);
  }
  const bad = await ask(`/api/v1/series?match%5B%5D=temp%7B&${times}`);
  assert.equal(bad.status, 400, "a bad match[] is still refused");
  const exemplars = await ask(`/api/v1/query_exemplars?query=temp&${times}`);
  assert.equal(exemplars.status, 400);
  assert.equal(
    exemplars.body.error,
    "end timestamp must not be before start timestamp",
  );
});

test("an instant query's bad_data error names the query parameter, a range query's does not, as in 2.42", async () => {
  // Prometheus 2.42: /query?query=sum( -> "invalid parameter \"query\":
  // 1:5: parse error: ..."; /query_range?query=sum( -> "1:5: parse error: ...".
  const instant = await ask(`/api/v1/query?query=sum(&time=${T}`);
  assert.equal(instant.status, 400);
  assert.match(
    String(instant.body.error),
    /^invalid parameter "query": 1:5: parse error: /,
  );
  const range = await ask(
    `/api/v1/query_range?query=sum(&start=${T}&end=${T}&step=1`,
  );
  assert.equal(range.status, 400);
  assert.match(String(range.body.error), /^1:5: parse error: /);
  const failed = await ask(
    `/api/v1/query?query=${
      encodeURIComponent('label_replace(vector(1), "a", "b", "c", "(")')
    }&time=${T}`,
  );
  assert.equal(failed.status, 422);
  assert.match(String(failed.body.error), /^invalid regular expression/);
});
