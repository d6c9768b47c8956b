/**
 * `_matrixJson`: the query API's range answer written from typed arrays
 * is the text `JSON.stringify` makes of the `[seconds, "value"]` matrix,
 * byte for byte, whatever the times and values.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { _matrixJson } from "../../src/server/_matrix_json.ts";
import { formatPointValue } from "../../src/server/_prometheus_api.ts";

/** The text the query API wrote before `_matrixJson`. */
function stringified(
  series: { metric: Record<string, string>; t: number[]; v: number[] }[],
): string {
  return JSON.stringify({
    status: "success",
    data: {
      resultType: "matrix",
      result: series.map(({ metric, t, v }) => ({
        metric,
        values: t.map((x, i) => [x / 1000, formatPointValue(v[i])]),
      })),
    },
  });
}

test("_matrixJson writes the text JSON.stringify makes of the matrix, for awkward times and values", async () => {
  const t = [
    0,
    1,
    10,
    100,
    999,
    1000,
    1001,
    1050,
    1500,
    1_700_000_000_123,
    1_700_000_001_000,
    1_700_000_000_010,
    999_999_999_999_999,
    1e15,
    1e15 + 7,
    8.64e15,
    -1,
    -1500,
    -1_700_000_000_123,
  ];
  const v = [
    0,
    -0,
    1,
    -1,
    9,
    10,
    99,
    100,
    101,
    123456789,
    -987654321,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    2 ** 53,
    1e21,
    -1.5e-7,
    0.1 + 0.2,
    NaN,
    Infinity,
  ];
  const series: { metric: Record<string, string>; t: number[]; v: number[] }[] =
    [
      { metric: { __name__: "x", a: 'q"\\\n', b: "zé😀\ud800" }, t, v },
      { metric: {}, t: [5000], v: [-Infinity] },
      { metric: { e: "" }, t: [], v: [] },
    ];
  // Random ones too: whole ms over the whole range, and integers, halves
  // and fractions.
  const rt: number[] = [];
  const rv: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    rt.push(Math.floor(Math.random() * 1e15));
    const k = Math.random();
    rv.push(
      k < 0.4
        ? Math.floor((Math.random() - 0.5) * 2 ** (Math.random() * 60))
        : k < 0.6
        ? Math.floor(Math.random() * 1e6) / 2
        : (Math.random() - 0.5) * 10 ** (Math.random() * 40 - 20),
    );
  }
  series.push({ metric: { r: "1" }, t: rt, v: rv });
  const bytes = await _matrixJson({
    resultType: "matrix",
    columns: series.map(({ metric, t, v }) => ({
      metric,
      t: new Float64Array(t),
      v: new Float64Array(v),
    })),
  });
  assert.equal(new TextDecoder().decode(bytes), stringified(series));
});

test("_matrixJson lets the event loop run while it writes a long answer", async () => {
  let pauses = 0;
  const n = 100_000;
  const columns = Array.from({ length: 6 }, (_, s) => ({
    metric: { s: String(s) },
    t: new Float64Array(n).map((_, i) => i * 1000),
    v: new Float64Array(n).fill(s),
  }));
  const bytes = await _matrixJson({ resultType: "matrix", columns }, () => {
    pauses++;
    return Promise.resolve();
  });
  // 262,144 points a turn: after the 3rd series and after the 6th.
  assert.equal(pauses, 2);
  assert.equal(
    JSON.parse(new TextDecoder().decode(bytes)).data.result.length,
    6,
  );
});
