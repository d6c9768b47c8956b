/**
 * queryInstant/queryRange as the query API uses them: result shapes,
 * range evaluation agreeing with instant evaluation, Prometheus's errors
 * and limits, and the choice of tier.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate } from "node:timers";
import {
  queryInstant,
  queryRange,
  queryRangeColumns,
  queryRangeSliced,
} from "../../../src/history/promql/mod.ts";
import { errorOf, FakeReader } from "./_fake_reader.ts";

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Counters `msgs_total{process}` growing by `rate` per second, sampled every `intervalMs`. */
function counters(
  reader: FakeReader,
  processes: number,
  fromMs: number,
  toMs: number,
  intervalMs: number,
): void {
  for (let p = 0; p < processes; p++) {
    const t: number[] = [];
    const v: number[] = [];
    for (let x = fromMs; x <= toMs; x += intervalMs) {
      t.push(x);
      v.push((x - fromMs) / 1000 * (p + 1));
    }
    reader.add({ __name__: "msgs_total", process: `p${p}` }, t, v, "counter");
  }
}

/** Queries over `counters()`' series that range evaluation must answer step by step alike. */
const STEP_QUERIES = [
  "sum by (process) (rate(msgs_total[1m]))",
  'msgs_total{process=~"p[01]"} offset 1m',
  "increase(msgs_total[5m]) / on(process) group_left msgs_total",
  "max_over_time(msgs_total[2m]) > bool 100",
  "topk(1, msgs_total)",
  "time() - timestamp(msgs_total)",
];

test("queryRange gives the same values as queryInstant at every step", () => {
  const reader = new FakeReader();
  counters(reader, 3, 0, 20 * MIN, 15 * SEC);
  const queries = STEP_QUERIES;
  for (const q of queries) {
    const range = queryRange(reader, q, 5 * MIN, 20 * MIN, 75 * SEC, {
      nowMs: 20 * MIN,
    });
    assert.equal(range.resultType, "matrix");
    for (let t = 5 * MIN; t <= 20 * MIN; t += 75 * SEC) {
      const instant = queryInstant(reader, q, t, { nowMs: 20 * MIN });
      assert.equal(instant.resultType, "vector", q);
      if (instant.resultType !== "vector" || range.resultType !== "matrix") {
        continue;
      }
      const atT: { metric: unknown; value: number[] }[] = range.result.flatMap((
        s,
      ) =>
        s.values.filter(([x]) => x === t).map(([, v]) => ({
          metric: s.metric,
          value: [t, v],
        }))
      );
      assert.deepEqual(
        atT.map((s) => JSON.stringify(s)).sort(),
        instant.result.map((s) => JSON.stringify(s)).sort(),
        `${q} at ${t}`,
      );
    }
  }
});

test("a scalar range query is one series without labels", () => {
  const reader = new FakeReader();
  const result = queryRange(reader, "1 + 1", 0, 30 * SEC, 15 * SEC);
  assert.deepEqual(result, {
    resultType: "matrix",
    result: [{ metric: {}, values: [[0, 2], [15_000, 2], [30_000, 2]] }],
  });
});

test("an instant query of a range selector is a matrix; a string is a string", () => {
  const reader = new FakeReader();
  reader.add({ __name__: "up" }, [0, 15_000, 30_000], [1, 0, 1]);
  assert.deepEqual(queryInstant(reader, "up[20s]", 30_000), {
    resultType: "matrix",
    result: [{
      metric: { __name__: "up" },
      values: [[15_000, 0], [30_000, 1]],
    }],
  });
  assert.deepEqual(queryInstant(reader, '"hi"', 5), {
    resultType: "string",
    result: [5, "hi"],
  });
});

test("an instant query of a subquery is the inner expression's values at its steps", () => {
  const reader = new FakeReader();
  reader.add({ __name__: "g", a: "1" }, [0, 30_000, 60_000, 90_000], [
    1,
    2,
    3,
    4,
  ]);
  assert.deepEqual(queryInstant(reader, "(g * 10)[1m:30s]", 90_000), {
    resultType: "matrix",
    result: [{
      metric: { a: "1" },
      values: [[30_000, 20], [60_000, 30], [90_000, 40]],
    }],
  });
  const max = queryInstant(
    reader,
    "max_over_time((g * 10)[1m:30s] offset 30s)",
    90_000,
  );
  assert.deepEqual(max, {
    resultType: "vector",
    result: [{ metric: { a: "1" }, value: [90_000, 30] }],
  });
});

test("parse errors are bad_data naming the position as Prometheus does", () => {
  const reader = new FakeReader();
  const cases: [string, RegExp][] = [
    ["foo{", /^1:5: parse error: unexpected end of input/],
    [
      "rate(foo)",
      /expected type range vector in call to function "rate", got instant vector/,
    ],
    [
      "sum(foo[5m])",
      /expected type instant vector in aggregation expression, got range vector/,
    ],
    ["1 > 2", /comparisons between scalars must use BOOL modifier/],
    ["foo and 1", /set operator "and" not allowed in binary scalar expression/],
    ['{job=""}', /vector selector must contain at least one non-empty matcher/],
    ['foo{a=~"("}', /invalid regular expression/],
    ["nosuchfn(foo)", /unknown function with name "nosuchfn"/],
    [
      "histogram_count(foo)",
      /function "histogram_count" is not supported by weir's PromQL/,
    ],
    [
      "limitk(2, foo)",
      /aggregation "limitk" is not supported by weir's PromQL/,
    ],
    [
      "holt_winters(foo[5m], 0.1)",
      /expected 3 argument\(s\) in call to "holt_winters", got 2/,
    ],
    ["rate(foo[5m:1m][1m])", /ranges only allowed for vector selectors/],
    [
      "rate((foo[5m])[5m:1m])",
      /subquery is only allowed on instant vector, got range vector/,
    ],
    [
      "sum(foo) offset 5m",
      /offset modifier must be preceded by an instant vector selector/,
    ],
    [
      "foo + on(a) group_left(a) bar",
      /label "a" must not occur in ON and GROUP clause at once/,
    ],
  ];
  for (const [query, message] of cases) {
    const error = errorOf(() => queryInstant(reader, query, 0));
    assert.equal(error.type, "bad_data", query);
    assert.match(error.message, message, query);
  }
  const multi = errorOf(() => queryInstant(reader, "sum(\n  foo{", 0));
  assert.match(multi.message, /^2:7: parse error/);
});

test("range query limits: step, 11,000 points, range vector result", () => {
  const reader = new FakeReader();
  assert.match(
    errorOf(() => queryRange(reader, "up", 0, 10, 0)).message,
    /zero or negative query resolution step widths are not accepted/,
  );
  assert.match(
    errorOf(() => queryRange(reader, "up", 0, 11_001 * SEC, SEC)).message,
    /exceeded maximum resolution of 11,000 points per timeseries\. Try decreasing the query resolution \(\?step=XX\)/,
  );
  queryRange(reader, "up", 0, 11_000 * SEC, SEC);
  assert.match(
    errorOf(() => queryRange(reader, "up[5m]", 0, 10, 1)).message,
    /invalid expression type "range vector" for range query/,
  );
  assert.match(
    errorOf(() => queryRange(reader, "up", 10, 0, 1)).message,
    /end timestamp must not be before start time/,
  );
});

test("a query over maxSamples is refused with Prometheus's message", () => {
  const reader = new FakeReader();
  counters(reader, 10, 0, 10 * MIN, SEC);
  const error = errorOf(() =>
    queryRange(reader, "rate(msgs_total[1m])", 0, 10 * MIN, 15 * SEC, {
      maxSamples: 1000,
      nowMs: 10 * MIN,
    })
  );
  assert.equal(error.type, "execution");
  assert.match(
    error.message,
    /query processing would load too many samples into memory/,
  );
  queryRange(reader, "rate(msgs_total[1m])", 0, 10 * MIN, 15 * SEC, {
    nowMs: 10 * MIN,
  });
});

/** A raw tier at 15 s and a minute tier, with 20 counters over the 3 hours before `now`. */
function rawAndMinutes(now: number): FakeReader {
  const reader = new FakeReader([
    { name: "raw", resolutionMs: 15 * SEC, retentionMs: DAY },
    { name: "1m", resolutionMs: MIN, retentionMs: 30 * DAY },
  ]);
  counters(reader, 20, now - 3 * HOUR, now, 15 * SEC);
  return reader;
}

test("over maxSamples on raw, a query that windows answer exactly reads the minute tier", () => {
  const now = 10 * DAY;
  const reader = rawAndMinutes(now);
  const options = { nowMs: now, maxSamples: 8000 };
  reader.calls.length = 0;
  const r = queryRange(
    reader,
    "sum(rate(msgs_total[5m]))",
    now - 2 * HOUR,
    now,
    5 * MIN,
    options,
  );
  assert.deepEqual([...new Set(reader.calls.map((c) => c.tier))], [0, 1]);
  const viaRaw = queryRange(
    reader,
    "sum(rate(msgs_total[5m]))",
    now - 2 * HOUR,
    now,
    5 * MIN,
    {
      nowMs: now,
      tier: "raw",
    },
  );
  assert.deepEqual(r, viaRaw);
  // Not exact from windows: the limit's error stands.
  const error = errorOf(() =>
    queryRange(
      reader,
      "sum(irate(msgs_total[5m]))",
      now - 2 * HOUR,
      now,
      5 * MIN,
      options,
    )
  );
  assert.match(error.message, /too many samples/);
});

test("duplicate series after dropping the name is an execution error", () => {
  const reader = new FakeReader();
  reader.add({ __name__: "a", x: "1" }, [0], [1]);
  reader.add({ __name__: "b", x: "1" }, [0], [2]);
  const error = errorOf(() => queryInstant(reader, '{x="1"} * 2', 0));
  assert.equal(error.type, "execution");
  assert.match(
    error.message,
    /vector cannot contain metrics with the same labelset/,
  );
  const many = errorOf(() =>
    queryInstant(reader, 'a + ignoring(__name__) {x="1"}', 0)
  );
  assert.match(many.message, /found duplicate series for the match group/);
});

test("offset and @ move the evaluation time, start() and end() included", () => {
  const reader = new FakeReader();
  reader.add({ __name__: "g" }, [0, 60_000, 120_000, 180_000], [0, 1, 2, 3]);
  const values = (q: string) => {
    const r = queryRange(reader, q, 60_000, 180_000, 60_000, {
      nowMs: 180_000,
    });
    return r.resultType === "matrix" ? r.result[0]?.values : undefined;
  };
  assert.deepEqual(values("g offset 1m"), [[60_000, 0], [120_000, 1], [
    180_000,
    2,
  ]]);
  assert.deepEqual(values("g @ 120"), [[60_000, 2], [120_000, 2], [
    180_000,
    2,
  ]]);
  assert.deepEqual(values("g @ start()"), [[60_000, 1], [120_000, 1], [
    180_000,
    1,
  ]]);
  assert.deepEqual(values("g @ end() offset 2m"), [[60_000, 1], [120_000, 1], [
    180_000,
    1,
  ]]);
});

test("the raw tier answers while it holds the query's reach", () => {
  const tiers = [
    { name: "raw", resolutionMs: SEC, retentionMs: DAY },
    { name: "1m", resolutionMs: MIN, retentionMs: 30 * DAY },
    { name: "1h", resolutionMs: HOUR, retentionMs: 730 * DAY },
  ];
  const reader = new FakeReader(tiers);
  const now = 40 * DAY;
  counters(reader, 2, now - 2 * HOUR, now, 15 * SEC);
  queryRange(reader, "rate(msgs_total[1m])", now - HOUR, now, 15 * SEC, {
    nowMs: now,
  });
  assert.deepEqual(new Set(reader.calls.map((c) => c.tier)), new Set([0]));
});

test("a long range within raw retention reads the minute tier when that is exact", () => {
  const tiers = [
    { name: "raw", resolutionMs: SEC, retentionMs: DAY },
    { name: "1m", resolutionMs: MIN, retentionMs: 30 * DAY },
  ];
  const reader = new FakeReader(tiers);
  const now = 10 * DAY;
  counters(reader, 2, now - 13 * HOUR, now, 15 * SEC);
  const tiersRead = (q: string, step: number) => {
    reader.calls.length = 0;
    queryRange(reader, q, now - 12 * HOUR, now, step, { nowMs: now });
    return [...new Set(reader.calls.map((c) => c.tier))];
  };
  assert.deepEqual(tiersRead("rate(msgs_total[5m])", MIN), [1]);
  // Not exact from windows: raw, which holds the whole reach.
  assert.deepEqual(tiersRead("quantile_over_time(0.9, msgs_total[5m])", MIN), [
    0,
  ]);
  assert.deepEqual(tiersRead("rate(msgs_total[5m])", 90 * SEC), [0]);
});

test("the minute tier answers days exactly where windows give the answer", () => {
  // Sampled every 15 s, as the raw tier's resolution says: a full minute
  // window holds 4 samples, its last one at the window's end.
  const tiers = [
    { name: "raw", resolutionMs: 15 * SEC, retentionMs: DAY },
    { name: "1m", resolutionMs: MIN, retentionMs: 30 * DAY },
  ];
  const reader = new FakeReader(tiers);
  const now = 10 * DAY;
  counters(reader, 2, now - 3 * DAY, now, 15 * SEC);
  const start = now - 2 * DAY;
  const queries = [
    "sum by (process) (increase(msgs_total[1h]))",
    "rate(msgs_total[10m])",
    "max_over_time(msgs_total[1h])",
    "min_over_time(msgs_total[1h])",
    "count_over_time(msgs_total[1h])",
    "avg_over_time(msgs_total[30m])",
    "msgs_total",
    "max_over_time(rate(msgs_total[10m])[1h:10m])",
  ];
  for (const q of queries) {
    reader.calls.length = 0;
    const viaMinutes = queryRange(reader, q, start, now, HOUR, { nowMs: now });
    assert.deepEqual(new Set(reader.calls.map((c) => c.tier)), new Set([1]), q);
    const viaRaw = queryRange(reader, q, start, now, HOUR, {
      nowMs: now,
      tier: "raw",
    });
    assert.equal(viaMinutes.resultType, "matrix");
    if (viaMinutes.resultType !== "matrix" || viaRaw.resultType !== "matrix") {
      continue;
    }
    assert.equal(viaMinutes.result.length, viaRaw.result.length, q);
    viaMinutes.result.forEach((s, i) => {
      assert.deepEqual(s.metric, viaRaw.result[i].metric, q);
      s.values.forEach(([t, v], j) => {
        const [rt, rv] = viaRaw.result[i].values[j];
        assert.equal(t, rt, q);
        // Exact up to float rounding (sums added in another order).
        const tolerance = Math.abs(rv) * 1e-12;
        assert.ok(
          Math.abs(v - rv) <= tolerance,
          `${q} at ${t}: ${v} vs raw ${rv}`,
        );
      });
    });
  }
});

test("a window with a gap at the range's start leaves its sample out", () => {
  const tiers = [
    { name: "raw", resolutionMs: 15 * SEC, retentionMs: MIN },
    { name: "1m", resolutionMs: MIN, retentionMs: 30 * DAY },
  ];
  const reader = new FakeReader(tiers);
  const now = 10 * DAY;
  // (raw keeps 1 min: every query here reads the minute tier.)
  // Samples every 15 s over (now - 3 min, now], but none at now - 2 min:
  // the window ending there is not full, so its last sample (at now - 2 min
  // - 15 s, outside [now - 2 min, now]) must not count.
  const t: number[] = [];
  for (let x = now - 3 * MIN + 15 * SEC; x <= now; x += 15 * SEC) {
    if (x !== now - 2 * MIN) t.push(x);
  }
  reader.add({ __name__: "g" }, t, t.map((x) => (now - x) / 1000));
  const at = (q: string) => {
    const r = queryInstant(reader, q, now, { nowMs: now });
    return r.resultType === "vector" ? r.result[0]?.value[1] : undefined;
  };
  assert.equal(at("count_over_time(g[2m])"), 8);
  assert.equal(at("max_over_time(g[2m])"), 105);
  // With the sample there, the full window adds it: 9 samples, max 120.
  reader.add(
    { __name__: "h" },
    [...t, now - 2 * MIN].sort((a, b) => a - b),
    [...t, now - 2 * MIN].sort((a, b) => a - b).map((x) => (now - x) / 1000),
  );
  assert.equal(at("count_over_time(h[2m])"), 9);
  assert.equal(at("max_over_time(h[2m])"), 120);
  // The same for an instant selector's lookback: a series whose last
  // sample is 15 s before now - 5 min is gone, one with a sample at
  // exactly now - 5 min (a full window there) is not.
  const u: number[] = [];
  for (let x = now - 7 * MIN + 15 * SEC; x < now - 5 * MIN; x += 15 * SEC) {
    u.push(x);
  }
  reader.add({ __name__: "stopped" }, u, u.map(() => 1));
  reader.add(
    { __name__: "kept" },
    [...u, now - 5 * MIN],
    [...u, now - 5 * MIN].map(() => 2),
  );
  assert.equal(at("stopped"), undefined);
  assert.equal(at("kept"), 2);
});

test("a downsampled tier that cannot answer exactly is refused, naming why", () => {
  const tiers = [
    { name: "raw", resolutionMs: SEC, retentionMs: DAY },
    { name: "1m", resolutionMs: MIN, retentionMs: 30 * DAY },
  ];
  const reader = new FakeReader(tiers);
  const now = 10 * DAY;
  const cases: [string, number, RegExp][] = [
    [
      "quantile_over_time(0.5, msgs_total[1h])",
      HOUR,
      /quantile_over_time\(\) needs raw samples/,
    ],
    [
      "rate(msgs_total[90s])",
      HOUR,
      /the range 90s of rate\(\) is not a multiple of 1m/,
    ],
    ["msgs_total", 90 * SEC, /evaluation times .* are not multiples of 1m/],
    [
      "timestamp(msgs_total)",
      HOUR,
      /timestamp\(\) needs the samples' own times/,
    ],
  ];
  for (const [q, step, message] of cases) {
    const error = errorOf(() =>
      queryRange(reader, q, now - 2 * DAY, now, step, { nowMs: now })
    );
    assert.equal(error.type, "execution", q);
    assert.match(
      error.message,
      /Cannot answer the query exactly from the 1m tier/,
      q,
    );
    assert.match(error.message, message, q);
  }
});

test("a query past its time limit times out", () => {
  const reader = new FakeReader();
  counters(reader, 5, 0, 10 * MIN, SEC);
  const error = errorOf(() =>
    queryRange(reader, "rate(msgs_total[1m])", 0, 10 * MIN, SEC, {
      timeoutMs: -1,
      nowMs: 10 * MIN,
    })
  );
  assert.equal(error.type, "timeout");
});

test("a step much longer than the range reads only each step's reach, same answers", () => {
  const full = new FakeReader();
  counters(full, 3, 0, 2 * HOUR, 15 * SEC);
  const q = "sum by (process) (rate(msgs_total[1m])) + on(process) msgs_total";
  const expected: string[] = [];
  for (let t = 20 * MIN; t <= 2 * HOUR; t += 20 * MIN) {
    const r = queryInstant(full, q, t, { nowMs: 2 * HOUR });
    if (r.resultType !== "vector") continue;
    for (const s of r.result) {
      expected.push(JSON.stringify([s.metric, s.value]));
    }
  }
  for (const reader of [new FakeReader(), new FakeReader().withSelectSteps()]) {
    counters(reader, 3, 0, 2 * HOUR, 15 * SEC);
    const r = queryRange(reader, q, 20 * MIN, 2 * HOUR, 20 * MIN, {
      nowMs: 2 * HOUR,
    });
    assert.equal(r.resultType, "matrix");
    if (r.resultType !== "matrix") continue;
    const got = r.result.flatMap((s) =>
      s.values.map((v) => JSON.stringify([s.metric, v]))
    );
    assert.deepEqual(got.sort(), expected.sort());
    if (reader.selectSteps === undefined) {
      // rate's 1m reaches: one select per step (6); the instant
      // selector's 5 min lookbacks cover enough of the span for one select.
      assert.equal(reader.calls.length, 7);
    } else {
      assert.equal(reader.stepCalls, 1);
      assert.equal(reader.calls.length, 1);
    }
  }
});

test("a reader that hands series over one at a time (selectEach) gives the same answers, in the same order", () => {
  const fill = (reader: FakeReader) => {
    counters(reader, 6, 0, 2 * HOUR, 15 * SEC);
    // Ties for topk/bottomk, a gauge that goes stale, and a reset.
    for (let k = 0; k < 4; k++) {
      const t: number[] = [];
      const v = new Float64Array(200);
      for (let i = 0; i < 200; i++) {
        t.push(i * 30 * SEC);
        v[i] = k < 2 ? 7 : i % 50;
      }
      if (k === 3) {
        // The stale marker 0x7ff0000000000002 from sample 150 on.
        const words = new Uint32Array(v.buffer);
        const hi = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
        for (let i = 150; i < 200; i++) {
          words[2 * i + hi] = 0x7ff00000;
          words[2 * i + 1 - hi] = 2;
        }
      }
      reader.add({ __name__: "depth", k: `${k}` }, t, v, "gauge");
    }
  };
  const queries = [
    "sum by (process) (rate(msgs_total[1m]))",
    "rate(msgs_total[5m])",
    "increase(depth[10m])",
    "topk(2, depth)",
    "bottomk(3, max_over_time(depth[2m]))",
    "depth",
    "depth offset 5m * on (k) group_left depth",
    "count_over_time(depth[3m])",
    "msgs_total / ignoring (process) group_left sum(msgs_total)",
  ];
  for (const q of queries) {
    const answers = [new FakeReader(), new FakeReader().withSelectEach()].map(
      (reader) => {
        fill(reader);
        return JSON.stringify(
          queryRange(reader, q, 10 * MIN, 100 * MIN, 30 * SEC, {
            nowMs: 2 * HOUR,
          }),
        );
      },
    );
    assert.ok(answers[0].length > 100, q);
    assert.equal(answers[1], answers[0], q);
  }
});

/** A sliced range query with every step its own slice (unless `options` says otherwise), and how many pauses it made. */
async function slicedStepByStep(
  reader: FakeReader,
  q: string,
  start: number,
  end: number,
  step: number,
  options: Parameters<typeof queryRangeSliced>[5] = {},
) {
  let pauses = 0;
  const result = await queryRangeSliced(reader, q, start, end, step, {
    maxSliceSteps: 1,
    ...options,
    pause: () => {
      pauses++;
      return Promise.resolve();
    },
  });
  return { result, pauses };
}

test("a range query in slices answers what the whole range at once answers", async () => {
  const reader = new FakeReader();
  counters(reader, 3, 0, 20 * MIN, 15 * SEC);
  reader.add({ __name__: "g", site: "a" }, [0, 7 * MIN, 14 * MIN], [1, 5, 2]);
  reader.add({ __name__: "g", site: "b" }, [9 * MIN, 16 * MIN], [3, 4]);
  const queries = [
    ...STEP_QUERIES,
    "msgs_total @ start()",
    "msgs_total @ end() offset 2m",
    "max_over_time(rate(msgs_total[1m])[3m:30s])",
    "sum_over_time(g[4m])",
    'label_replace(g, "dst", "$1", "site", "(.*)")',
    "absent(nope)",
    "scalar(sum(g)) * 2",
    "vector(1) + 1",
  ];
  const steps = Math.floor((20 * MIN - 5 * MIN) / (15 * SEC)) + 1;
  for (const q of queries) {
    const whole = queryRange(reader, q, 5 * MIN, 20 * MIN, 15 * SEC, {
      nowMs: 20 * MIN,
    });
    const { result, pauses } = await slicedStepByStep(
      reader,
      q,
      5 * MIN,
      20 * MIN,
      15 * SEC,
      { nowMs: 20 * MIN },
    );
    assert.deepEqual(result, whole, q);
    assert.equal(pauses, steps - 1, q);
  }
});

test("queryRangeColumns holds a range answer in typed arrays: per series its times and values, the points queryRangeSliced answers", async () => {
  const reader = new FakeReader();
  counters(reader, 3, 0, 20 * MIN, 15 * SEC);
  // Met only in later slices: its arrays start there.
  reader.add({ __name__: "g", site: "late" }, [12 * MIN, 13 * MIN], [3, 4]);
  for (const q of ["msgs_total", "g", "rate(msgs_total[1m]) > 0.5", "1 + 1"]) {
    // A slice a step: each series' arrays grow many times over.
    const options = { nowMs: 20 * MIN, maxSliceSteps: 1 };
    const columns = await queryRangeColumns(
      reader,
      q,
      0,
      20 * MIN,
      5 * SEC,
      options,
    );
    const whole = queryRange(reader, q, 0, 20 * MIN, 5 * SEC, options);
    assert.equal(whole.resultType, "matrix");
    if (whole.resultType !== "matrix") continue;
    assert.equal(columns.resultType, "matrix");
    assert.deepEqual(
      columns.columns.map((s) => s.metric),
      whole.result.map((s) => s.metric),
      q,
    );
    for (const [i, s] of columns.columns.entries()) {
      assert.ok(s.t instanceof Float64Array && s.v instanceof Float64Array);
      const values: [number, number][] = whole.result[i].values;
      assert.equal(s.t.length, values.length, q);
      assert.deepEqual(s.t, new Float64Array(values.map(([t]) => t)), q);
      assert.deepEqual(s.v, new Float64Array(values.map(([, v]) => v)), q);
    }
    assert.deepEqual(
      await queryRangeSliced(reader, q, 0, 20 * MIN, 5 * SEC, options),
      whole,
      q,
    );
  }
});

test("a sliced range query lets the event loop run between its slices", async () => {
  const reader = new FakeReader();
  counters(reader, 5, 0, 10 * MIN, SEC);
  let ran = 0;
  const q = "rate(msgs_total[1m])";
  setImmediate(() => ran++);
  const sliced = await queryRangeSliced(reader, q, 0, 10 * MIN, SEC, {
    nowMs: 10 * MIN,
    maxSliceSteps: 100,
  });
  // The callback queued before the query ran before its answer came back.
  assert.equal(ran, 1);
  assert.deepEqual(
    sliced,
    queryRange(reader, q, 0, 10 * MIN, SEC, { nowMs: 10 * MIN }),
  );
});

test("a sliced range query keeps the limits: samples, time, the coarser tier", async () => {
  const reader = new FakeReader();
  counters(reader, 10, 0, 10 * MIN, SEC);
  // Each slice is small; the points answered so far count.
  await assert.rejects(
    slicedStepByStep(reader, "msgs_total", 0, 10 * MIN, SEC, {
      maxSamples: 5000,
      nowMs: 10 * MIN,
    }),
    /query processing would load too many samples into memory/,
  );
  await assert.rejects(
    queryRangeSliced(reader, "rate(msgs_total[1m])", 0, 10 * MIN, SEC, {
      timeoutMs: -1,
      nowMs: 10 * MIN,
    }),
    (e: Error & { type?: string }) => e.type === "timeout",
  );
  const now = 10 * DAY;
  const two = rawAndMinutes(now);
  two.calls.length = 0;
  const q = "sum(rate(msgs_total[5m]))";
  // A slice holds too many raw samples; the minute tier's fit, a slice
  // at a time (the whole range at once would not).
  const options = { nowMs: now, maxSamples: 3000, maxSliceSteps: 32 };
  const { result } = await slicedStepByStep(
    two,
    q,
    now - 2 * HOUR,
    now,
    MIN,
    options,
  );
  assert.deepEqual([...new Set(two.calls.map((c) => c.tier))], [0, 1]);
  assert.throws(
    () => queryRange(two, q, now - 2 * HOUR, now, MIN, options),
    /too many samples/,
  );
  assert.deepEqual(
    result,
    queryRange(two, q, now - 2 * HOUR, now, MIN, { nowMs: now, tier: "1m" }),
  );
  await assert.rejects(
    slicedStepByStep(two, "x", 0, 10, 0),
    /zero or negative query resolution step/,
  );
});

test("a sliced range query counts what it holds as the whole range counts it, and refuses a bad slice size or a client that left", async () => {
  const r = new FakeReader([
    { name: "raw", resolutionMs: 15 * SEC, retentionMs: 1e15 },
  ]);
  counters(r, 6, 0, HOUR, 15 * SEC);
  // A constant `@` range function: its steps are copies, not held again.
  const q = "rate(msgs_total[30m] @ end())";
  const options = { nowMs: HOUR, maxSamples: 1000 };
  const whole = queryRange(r, q, 0, HOUR, 15 * SEC, options);
  assert.equal(whole.resultType, "matrix");
  const { result } = await slicedStepByStep(r, q, 0, HOUR, 15 * SEC, {
    ...options,
    maxSliceSteps: 10,
  });
  assert.deepEqual(result, whole);
  for (const bad of [0, -1, 2.5, NaN]) {
    await assert.rejects(
      queryRangeSliced(r, q, 0, HOUR, 15 * SEC, { maxSliceSteps: bad }),
      /maxSliceSteps must be a positive integer/,
    );
  }
  const left = new AbortController();
  let pauses = 0;
  await assert.rejects(
    queryRangeSliced(r, "msgs_total", 0, HOUR, 15 * SEC, {
      nowMs: HOUR,
      maxSliceSteps: 10,
      signal: left.signal,
      pause: () => {
        if (++pauses === 2) left.abort();
        return Promise.resolve();
      },
    }),
    (e: Error & { type?: string }) =>
      e.type === "canceled" && /client left/.test(e.message),
  );
  assert.equal(pauses, 2);
});

test("a stale marker read step by step stays a stale marker", async () => {
  const values = new Float64Array([1, 2, 3, 0, 10, 11, 12]);
  // Sample 3 is a stale marker: Prometheus's NaN payload.
  const words = new Uint32Array(values.buffer);
  words[6] = 2;
  words[7] = 0x7ff00000;
  const r = new FakeReader([
    { name: "raw", resolutionMs: 15 * SEC, retentionMs: 1e15 },
  ]);
  r.add(
    { __name__: "m_total" },
    [375, 390, 405, 420, 435, 450, 465].map((s) => s * SEC),
    values,
  );
  const q = "rate(m_total[1m])";
  const instant = queryInstant(r, q, 420 * SEC, { nowMs: 40 * MIN });
  assert.equal(instant.resultType, "vector");
  const at420 = instant.resultType === "vector" ? instant.result[0].value : [];
  const expected = {
    resultType: "matrix",
    result: [{ metric: {}, values: [at420] }],
  };
  // A 7 min step reads each step on its own: the marker must survive it.
  assert.deepEqual(
    queryRange(r, q, 0, 40 * MIN, 7 * MIN, { nowMs: 40 * MIN }),
    expected,
  );
  const { result } = await slicedStepByStep(r, q, 0, 40 * MIN, 7 * MIN, {
    nowMs: 40 * MIN,
  });
  assert.deepEqual(result, expected);
});

test("an instant query holds a series read one at a time only while it reads it, as Prometheus counts it: answered where the lookbacks together pass maxSamples", () => {
  const fill = (reader: FakeReader) => {
    // 50 series of a sample a second: 301 in each 5-minute lookback,
    // 15,050 together, one series at a time under the limit of 1,000.
    counters(reader, 50, 0, 10 * MIN, SEC);
    return reader;
  };
  const options = { nowMs: 10 * MIN, maxSamples: 1000 };
  const each = fill(new FakeReader().withSelectEach());
  const r = queryInstant(each, "count(msgs_total)", 10 * MIN, options);
  assert.equal(r.resultType, "vector");
  assert.deepEqual(
    r.result.map((s) => s.value[1]),
    [50],
  );
  assert.deepEqual(
    queryInstant(each, "sum(rate(msgs_total[1m]))", 10 * MIN, options),
    queryInstant(
      fill(new FakeReader()),
      "sum(rate(msgs_total[1m]))",
      10 * MIN,
      {
        nowMs: 10 * MIN,
      },
    ),
  );
  // A reader that hands every series over at once holds them all: refused.
  assert.match(
    errorOf(() =>
      queryInstant(
        fill(new FakeReader()),
        "count(msgs_total)",
        10 * MIN,
        options,
      )
    ).message,
    /too many samples/,
  );
  // What one series alone reads still counts: a lookback of more than
  // the limit is refused either way.
  assert.match(
    errorOf(() =>
      queryInstant(each, "count(msgs_total)", 10 * MIN, {
        ...options,
        maxSamples: 200,
      })
    ).message,
    /too many samples/,
  );
});
