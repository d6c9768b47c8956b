/**
 * `/api/v1/format_query` side by side with Prometheus 2.42: the PromQL
 * compliance queries (tests/history/_compliance_queries.ts, weir's
 * additions too), queries that reach every printing rule, long queries
 * that make the prettifier split lines, queries that do not parse, and
 * random ones (operators, modifiers and postfixes mixed, seeded) go
 * to a real Prometheus and to weir's API. Each must get the same HTTP
 * status, `status` and `errorType`, and for a success the same text.
 * Error texts are counted, not compared: weir words some parse errors
 * differently (positions, lezer's view of where the text went wrong).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { queryRoutes } from "../../src/server/query_routes.ts";
import { integrationSkip, startPrometheus } from "../_prometheus.ts";
import {
  COMPLIANCE_CASES,
  expandCases,
  WEIR_CASES,
} from "../history/_compliance_queries.ts";
import { MemoryHistory } from "./_memory_history.ts";
import { seededRandom } from "../_seeded_random.ts";

/** One printing rule or more each. */
const PRINTING = [
  'foo{b="1",a="2",c!="3",d=~"4.*",e!~"5"}',
  '{__name__="foo"}',
  '{__name__="foo",a="x"}',
  '{__name__=~"foo|bar"}',
  'foo{__name__!="bar"}',
  'foo{a=""}',
  "sum by (b, a) (x)",
  "sum(x) by (job)",
  "sum by () (x)",
  "sum without () (x)",
  "sum without (a,b) (x)",
  "count_values('value', x)",
  "topk(3, x)",
  "bottomk by (a) (3, x)",
  "quantile without (a) (0.9, x)",
  "group(x)",
  "a + ignoring() group_left() b",
  "a + ignoring(c) group_left() b",
  "a + on() b",
  "a + on(c) group_right(d, e) b",
  "a / on(c) group_left b",
  "a > bool b",
  "1 > bool 2",
  "a and on() b",
  "a unless ignoring(a) b",
  "a or b",
  "a atan2 b",
  "1 + on() a",
  "2 ^ -3 ^ x",
  "-1 ^ 2",
  "+1 ^ 2",
  "-x ^ 2",
  "1e3 + 0x1f + 0X1F + Inf + -Inf + +Inf + NaN + nan + 1e100 + 0.1 + 1e-7",
  "1e6 + 123456789 + 1e20 + 1e21 + 0.0001 + 0.00001 + 1.5e-5",
  "123456.7 + 1234567.8 + 0.1e-3 + 5e-324 + 1.7976931348623157e308",
  "100000 + 999999 + 1e5 + 0.5 + .5 + 5. + 010 + -0",
  "x offset 90m @ 1.5",
  "x @ 1.5 offset 90m",
  "x[5m] offset -1m @ start()",
  "x[5m] @ end()",
  "x @ 1e10",
  "x @ -1.0005",
  "x @ 0.0005",
  "x @ -0.0005",
  "x @ 0",
  "x offset 1y",
  "x offset 2w",
  "x offset 8d",
  "x offset 1w1d",
  "x offset 400d",
  "x offset 1d2h3m4s5ms",
  "x offset 61s",
  "x offset 3600s",
  "x[1ms]",
  "x[1y:1w]",
  "x[8d:]",
  "rate(x[5m:])",
  "rate(x[5m:30s] offset 1m @ 100)",
  "max_over_time(rate(x[1m])[1h:5m] @ end() offset -1h)",
  "(((x)))",
  "-(1)",
  "-(-1)",
  "- -1",
  "--x",
  "-+x",
  "+x",
  "+1",
  "+(1)",
  "-x",
  "-(x)",
  "-sum(x)",
  "(x + y) * z",
  "x + (y * z)",
  "(x)[5m:]",
  "rate((x[5m]))",
  "sum((rate(x[5m])))",
  "(1 + 2) > bool (3)",
  '"a\\nb\'ü\\x01"',
  '"\\u2028 \\t \\u00a0 \\ud7ff \\\\"',
  '"\\a\\b\\f\\r\\v\\"\\U0001F600 😀"',
  "`raw\\n`",
  "'single \"quoted\"'",
  'label_join(x, "a", ",", "b", "c")',
  'label_replace(x, "dst", "$1", "src", "(.*)")',
  "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
  "histogram_count(x)",
  "histogram_sum(rate(x[5m]))",
  "histogram_fraction(0, 0.2, x)",
  "holt_winters(x[5m], 0.5, 0.5)",
  "time()",
  "pi()",
  "vector(1)",
  "round(x)",
  "round(x, 0.5)",
  "clamp(x, 0, 1)",
  'absent(nonexistent{job="x"})',
  "day_of_week()",
  "x # a comment\n + y",
  "  x  \n",
  "SUM BY (a) (X)",
  "Rate(x[5m])",
  "x{a='b'}",
  'x{a="\\\\"}',
  'x{a=~"\\\\d+"}',
  "avg(x) without (a)",
  "sum by (inf_x, nanx) (x)",
  'x{inf="1", nan="2"}',
  'on{a="b"}',
  "by + without + bool + offset",
];

const NAME = "weir_process_message_latency_seconds_bucket";
const SELECTOR =
  `${NAME}{flow="temperature-pipeline",process="Sensor/Read",le="0.25"}`;
const LONG_NAME = "a_metric_with_a_long_name_".repeat(4); // 104 bytes

/** Queries whose one-line text passes 100 bytes, somewhere or everywhere. */
const LONG = [
  `sum by (job) (rate(${SELECTOR}[5m]))`,
  `-sum(rate(${SELECTOR}[5m]))`,
  `-(rate(${SELECTOR}[5m]) + ${SELECTOR})`,
  `max_over_time((rate(${SELECTOR}[5m]) + ${SELECTOR})[10m:1m] offset 5m)`,
  `(rate(${SELECTOR}[5m]) + ${SELECTOR})[10m:1m]`,
  `sum(rate(${SELECTOR}[5m])) > bool on(a) group_left(b) sum(rate(${SELECTOR}[5m]))`,
  `sum(rate(${SELECTOR}[5m])) / ignoring(a) group_right sum(rate(${SELECTOR}[5m]))`,
  `topk(5, ${SELECTOR})`,
  `topk(5, rate(${SELECTOR}[5m]))`,
  `count_values without (instance) ("value", ${SELECTOR})`,
  `quantile by (le) (0.99, ${SELECTOR} * 1000000)`,
  `histogram_quantile(0.99, sum by (le, flow, process) (rate(${SELECTOR}[5m])))`,
  `label_replace(${SELECTOR}, "destination_label", "$1", "source_label", "(.*)")`,
  `label_join(${SELECTOR}, "destination_label", ",", "a", "b", "c")`,
  `((${SELECTOR}))`,
  `(${SELECTOR} + 1)`,
  `sum(max_over_time(rate(${SELECTOR}[5m])[30m:1m]))`,
  `sum(max_over_time(rate(${SELECTOR}[5m])[30m:1m])) by (flow, process, instance, job)`,
  `rate(${SELECTOR}[5m:1m] offset 1h @ 1700000000)`,
  `avg_over_time(${LONG_NAME}[5m])`,
  `${LONG_NAME}`,
  `${LONG_NAME}[5m]`,
  `${LONG_NAME} offset 5m`,
  `-${LONG_NAME}`,
  `-(${LONG_NAME})`,
  `--${LONG_NAME}`,
  `"${"x".repeat(120)}"`,
  `sum("${"x".repeat(50)}" == bool 1 and ${LONG_NAME})`,
  `1 + 2 + 3 + ${LONG_NAME} + 4 + 5`,
  `${SELECTOR} + ${SELECTOR} - ${SELECTOR} * ${SELECTOR}`,
  `(${SELECTOR} + ${SELECTOR}) * (${SELECTOR} - ${SELECTOR})`,
  `${SELECTOR} and on (flow) ${SELECTOR} or ${SELECTOR} unless ${SELECTOR}`,
  `${SELECTOR} > bool 0.5`,
  `clamp(${SELECTOR}, -Inf, +Inf)`,
  `abs(-${SELECTOR})`,
  `-abs(${SELECTOR})`,
  `sum by (flow) (-${SELECTOR})`,
  `sum(${LONG_NAME}[5m:])`,
  `sum(rate(x[5m:]) + ${LONG_NAME})`,
  `max(x[1h:] @ end())`,
  `sum(avg_over_time(${NAME}[5m:1m]) + avg_over_time(${NAME}[5m:1m]))`,
  `sum(avg_over_time((${NAME} + 1)[5m:1m]) + ${LONG_NAME})`,
  // Exactly 100 and 101 bytes, ASCII and not.
  `sum(${"x".repeat(95)})`,
  `sum(${"x".repeat(96)})`,
  `sum(x{a="${"ü".repeat(43)}"})`,
  `sum(x{a="${"ü".repeat(44)}"})`,
  `sum(x{a="${"ü".repeat(45)}"})`,
  `sum(x{a="${"😀".repeat(22)}"})`,
  `-sum(x{a="${"\n".repeat(44)}"})`,
  `sum(vector(1) + vector(2) + vector(3) + vector(4) + vector(5) + vector(6) + vector(7) + vector(8))`,
  `(1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12 + 13 + 14 + 15 + 16 + 17 + 18 + 19 + 20 + 21 + 22 + 23)`,
  `time() - ${LONG_NAME} offset 1m > bool 3600`,
];

/** Queries 2.42 refuses; some weir words differently. */
const BAD = [
  "",
  "   ",
  "# only a comment",
  "foo{",
  "sum(",
  "sum(x",
  "rate(x)",
  "rate(x[5m]",
  "x[5]",
  "x[0s]",
  "x[5m:0s]",
  "x offset 0s",
  "x offset",
  "x @",
  "1 @ 5",
  "(a) offset 5m",
  "a + (b) offset 5m",
  "-(a) offset 5m",
  "x offset 1m offset 2m",
  "x @ 1 @ 2",
  'foo{__name__="x"}',
  "{}",
  '{a=""}',
  '{a=~".*"}',
  "unknown_function(x)",
  "sum by (a) x",
  "topk(x)",
  "count_values(1, x)",
  "a and 1",
  "1 and 1",
  "1 > 2",
  "a + bool b",
  "a + on(x) group_left(x) b",
  "a and on(a) group_left b",
  "sum(x) offset 5m",
  "x[5m][5m]",
  "rate(1)",
  "abs(x[5m])",
  "'unterminated",
  'x{a=~"("}',
  "x ==",
  "(x",
  "x)",
  "1 +",
  'x{a="b"',
  "x y",
  'sum by ("a") (x)',
  'x{"a"="b"}',
  "x[5m] offset 1m[5m]",
  "x[1h:5m:1m]",
  "1h",
  "x offset 5",
  "limitk(1, x)",
  "x @ start",
  'sort_by_label(x, "a")',
  "x[5m] smoothed",
  "$x",
  "x @ 1e100",
];

/**
 * `count` random queries: selectors, functions, aggregations, operators
 * with their modifiers, unary minus, parentheses, and offset, @ and
 * subqueries after any operand (where 2.42 binds them tighter than any
 * operator, or refuses them), some long enough to split.
 */
function generated(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const durations = ["1s", "90s", "5m", "1h30m", "1d", "7d", "1y", "100ms"];
  const numbers = ["1", "0.5", "1e3", "1e-7", "2e6", "0x10", "Inf", "NaN"];
  const selector = () => {
    const matchers = Array.from(
      { length: Math.floor(random() * 3) },
      () =>
        `${pick(["job", "instance", "le"])}${pick(["=", "!=", "=~", "!~"])}"${
          pick(["a", "b.*", "device.local:9100", "ü\\n", ""])
        }"`,
    );
    return pick(["x", "weir_process_messages_total", LONG_NAME]) +
      (matchers.length > 0 ? `{${matchers.join(", ")}}` : pick(["", "{}"]));
  };
  const modifiers = () =>
    (random() < 0.2 ? ` offset ${pick(["", "-"])}${pick(durations)}` : "") +
    (random() < 0.15
      ? ` @ ${pick(["start()", "end()", "100", "1.5", "1700000000.123"])}`
      : "");
  const vector = (depth: number): string => {
    if (depth <= 0) return selector() + modifiers();
    const inner = () => vector(depth - 1);
    switch (Math.floor(random() * 9)) {
      case 0:
        return `${pick(["rate", "max_over_time", "changes"])}(${selector()}[${
          pick(durations)
        }]${modifiers()})`;
      case 1:
        return `${pick(["sum", "avg", "count", "stddev"])}${
          pick(["", " by (job)", " without (instance, le)", " by ()"])
        }(${inner()})`;
      case 2:
        return `${pick(["topk", "quantile"])}(${pick(numbers)}, ${inner()})`;
      case 3:
        return `${inner()} ${
          pick(["+", "-", "*", "/", "%", "^", "atan2", "==", "> bool", "<="])
        }${
          pick([
            "",
            " on(job)",
            " ignoring(le) group_left(job)",
            " on() group_right",
          ])
        } ${inner()}`;
      case 4:
        return `(${inner()})`;
      case 5:
        return `-${inner()}`;
      case 6:
        return `${
          pick(["abs", "sort", "histogram_count", "timestamp"])
        }(${inner()})`;
      case 7:
        return `${pick(["max_over_time", "rate"])}(${inner()}[${
          pick(durations)
        }:${pick(["", ...durations])}]${modifiers()})`;
      default:
        return `${inner()} ${pick(["and", "or", "unless"])} ${inner()} ${
          pick(["*", "+", "^"])
        } ${pick(numbers)}`;
    }
  };
  return Array.from(
    { length: count },
    () => vector(Math.floor(random() * 4) + 1),
  );
}

interface Answer {
  status: number;
  body: { status?: string; errorType?: string; error?: string; data?: unknown };
}

async function ask(
  request: (path: string, init: RequestInit) => Promise<Response>,
  query: string,
): Promise<Answer> {
  const res = await request("/api/v1/format_query", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ query }).toString(),
  });
  return { status: res.status, body: await res.json() };
}

test(
  "/api/v1/format_query answers as Prometheus 2.42: the compliance queries, every printing rule, split lines, refusals",
  { skip: integrationSkip("prometheus"), timeout: 120_000 },
  async () => {
    await using prometheus = await startPrometheus({ targets: [] });
    const app = queryRoutes(new MemoryHistory());
    const compliance = [
      ...expandCases(COMPLIANCE_CASES),
      ...expandCases(WEIR_CASES),
    ].map((c) => c.query);
    const random = generated(500, 42);
    const corpus = [
      ...new Set([...compliance, ...PRINTING, ...LONG, ...BAD, ...random]),
    ];
    const differences: string[] = [];
    let splits = 0;
    let errors = 0;
    let sameErrorText = 0;
    for (const query of corpus) {
      const ref = await ask(
        (path, init) => fetch(prometheus.url + path, init),
        query,
      );
      const got = await ask(
        async (path, init) => await app.request(path, init),
        query,
      );
      const shape = (a: Answer) => ({
        status: a.status,
        bodyStatus: a.body.status,
        errorType: a.body.errorType,
        data: a.body.data,
      });
      if (typeof ref.body.data === "string" && ref.body.data.includes("\n")) {
        splits++;
      }
      if (ref.body.status === "error") {
        errors++;
        if (ref.body.error === got.body.error) sameErrorText++;
      }
      if (!isDeepStrictEqual(shape(got), shape(ref))) {
        differences.push(
          `${JSON.stringify(query)}: Prometheus ${
            JSON.stringify(ref.body)
          } (${ref.status}), weir ${JSON.stringify(got.body)} (${got.status})`,
        );
      }
    }
    console.log(
      `format_query: ${
        corpus.length - differences.length
      } of ${corpus.length} ` +
        `queries answered as Prometheus 2.42 (${compliance.length} compliance ` +
        `variants, ${random.length} random, ${splits} split over lines, ` +
        `${errors} refused; ` +
        `${sameErrorText} of those with the same error text)`,
    );
    assert.deepEqual(differences, []);
  },
);
