/**
 * The PromQL compliance test queries of the Prometheus project, adapted
 * to weir-shaped metric names, for tests/history/compliance_test.ts.
 *
 * Source: https://github.com/prometheus/compliance, file
 * `promql/promql-test-queries.yml` (commit 67b8327a2e93dc28f64d4b21bbce00b362f565d5)
 * and the variant values of `promql/testcases/expand.go`. Copyright The
 * Prometheus Authors, licensed under the Apache License, Version 2.0
 * (http://www.apache.org/licenses/LICENSE-2.0). Changes: the demo
 * service's metric names and hosts are replaced by weir-shaped ones (the
 * table below, applied to every query; `original` keeps the query as the
 * source wrote it), and the YAML became this TypeScript module.
 *
 * | compliance (demo service)                   | here                                         |
 * |---------------------------------------------|----------------------------------------------|
 * | demo_memory_usage_bytes{type}               | weir_memory_bytes{type}                      |
 * | demo_num_cpus                               | weir_threads                                 |
 * | demo_cpu_usage_seconds_total{mode}          | weir_process_messages_total{flow,process}    |
 * | demo_disk_usage_bytes                       | weir_process_buffered_bytes{flow,process}    |
 * | demo_batch_last_success_timestamp_seconds   | weir_process_last_error_timestamp_seconds    |
 * | demo_api_request_duration_seconds (histo.)  | weir_process_message_latency_seconds         |
 * | demo_intermittent_metric                    | weir_flows_active                            |
 * | instance demo.promlabs.com:10000..10002     | device.local:9100..9102                      |
 * | job demo                                    | job weir                                     |
 */

/** One test case as the compliance file writes it. */
export interface ComplianceCase {
  /** The query, a Go template over {@linkcode VARIANT_ARGS}. */
  query: string;
  /** The template arguments to vary, outermost first. */
  variantArgs?: string[];
  /** Prometheus refuses the query: the system under test must too. */
  shouldFail?: boolean;
  /** Only checked to succeed, not compared. */
  skipComparison?: boolean;
  /** The query before the names were adapted. */
  original?: string;
}

/** The values of each template argument (`testVariantArgs` in expand.go). */
export const VARIANT_ARGS: Record<string, string[]> = {
  range: ["1s", "15s", "1m", "5m", "15m", "1h"],
  offset: ["1m", "5m", "10m"],
  simpleAggrOp: ["sum", "avg", "max", "min", "count", "stddev", "stdvar"],
  simpleTimeAggrOp: [
    "sum",
    "avg",
    "max",
    "min",
    "count",
    "stddev",
    "stdvar",
    "absent",
    "last",
  ],
  topBottomOp: ["topk", "bottomk"],
  quantile: ["-0.5", "0.1", "0.5", "0.75", "0.95", "0.90", "0.99", "1", "1.5"],
  arithBinOp: ["+", "-", "*", "/", "%", "^"],
  compBinOp: ["==", "!=", "<", ">", "<=", ">="],
  binOp: ["+", "-", "*", "/", "%", "^", "==", "!=", "<", ">", "<=", ">="],
  simpleMathFunc: [
    "abs",
    "ceil",
    "floor",
    "exp",
    "sqrt",
    "ln",
    "log2",
    "log10",
    "round",
  ],
  extrapolatedRateFunc: ["delta", "rate", "increase"],
  clampFunc: ["clamp_min", "clamp_max"],
  instantRateFunc: ["idelta", "irate"],
  dateFunc: [
    "day_of_month",
    "day_of_week",
    "days_in_month",
    "hour",
    "minute",
    "month",
    "year",
  ],
  smoothingFactor: ["0.1", "0.5", "0.8"],
  trendFactor: ["0.1", "0.5", "0.8"],
};

/** The test cases, in the source's order. */
export const COMPLIANCE_CASES: readonly ComplianceCase[] = [
  { query: "42" },
  { query: "1.234" },
  { query: ".123" },
  { query: "1.23e-3" },
  { query: "0x3d" },
  { query: "Inf" },
  { query: "+Inf" },
  { query: "-Inf" },
  { query: "NaN" },
  { query: "weir_memory_bytes", original: "demo_memory_usage_bytes" },
  {
    query: '{__name__="weir_memory_bytes"}',
    original: '{__name__="demo_memory_usage_bytes"}',
  },
  {
    query: 'weir_memory_bytes{type="free"}',
    original: 'demo_memory_usage_bytes{type="free"}',
  },
  {
    query: 'weir_memory_bytes{type!="free"}',
    original: 'demo_memory_usage_bytes{type!="free"}',
  },
  {
    query: 'weir_memory_bytes{instance=~"device.local:.*"}',
    original: 'demo_memory_usage_bytes{instance=~"demo.promlabs.com:.*"}',
  },
  {
    query: 'weir_memory_bytes{instance=~"host"}',
    original: 'demo_memory_usage_bytes{instance=~"host"}',
  },
  {
    query: 'weir_memory_bytes{instance!~".*:9100"}',
    original: 'demo_memory_usage_bytes{instance!~".*:10000"}',
  },
  {
    query: 'weir_memory_bytes{type="free", instance!="device.local:9100"}',
    original:
      'demo_memory_usage_bytes{type="free", instance!="demo.promlabs.com:10000"}',
  },
  {
    query: '{type="free", instance!="device.local:9100"}',
    original: '{type="free", instance!="demo.promlabs.com:10000"}',
  },
  { query: '{__name__=~".*"}', shouldFail: true },
  { query: "nonexistent_metric_name" },
  {
    query: "weir_memory_bytes offset {{.offset}}",
    variantArgs: ["offset"],
    original: "demo_memory_usage_bytes offset {{.offset}}",
  },
  {
    query: "weir_memory_bytes offset -{{.offset}}",
    variantArgs: ["offset"],
    original: "demo_memory_usage_bytes offset -{{.offset}}",
  },
  { query: "weir_flows_active", original: "demo_intermittent_metric" },
  {
    query: "{{.simpleAggrOp}}(weir_memory_bytes)",
    variantArgs: ["simpleAggrOp"],
    original: "{{.simpleAggrOp}}(demo_memory_usage_bytes)",
  },
  {
    query: "{{.simpleAggrOp}}(nonexistent_metric_name)",
    variantArgs: ["simpleAggrOp"],
  },
  {
    query: "{{.simpleAggrOp}} by() (weir_memory_bytes)",
    variantArgs: ["simpleAggrOp"],
    original: "{{.simpleAggrOp}} by() (demo_memory_usage_bytes)",
  },
  {
    query: "{{.simpleAggrOp}} by(instance) (weir_memory_bytes)",
    variantArgs: ["simpleAggrOp"],
    original: "{{.simpleAggrOp}} by(instance) (demo_memory_usage_bytes)",
  },
  {
    query: "{{.simpleAggrOp}} by(instance, type) (weir_memory_bytes)",
    variantArgs: ["simpleAggrOp"],
    original: "{{.simpleAggrOp}} by(instance, type) (demo_memory_usage_bytes)",
  },
  {
    query: "{{.simpleAggrOp}} by(nonexistent) (weir_memory_bytes)",
    variantArgs: ["simpleAggrOp"],
    original: "{{.simpleAggrOp}} by(nonexistent) (demo_memory_usage_bytes)",
  },
  {
    query: "{{.simpleAggrOp}} without() (weir_memory_bytes)",
    variantArgs: ["simpleAggrOp"],
    original: "{{.simpleAggrOp}} without() (demo_memory_usage_bytes)",
  },
  {
    query: "{{.simpleAggrOp}} without(instance) (weir_memory_bytes)",
    variantArgs: ["simpleAggrOp"],
    original: "{{.simpleAggrOp}} without(instance) (demo_memory_usage_bytes)",
  },
  {
    query: "{{.simpleAggrOp}} without(instance, type) (weir_memory_bytes)",
    variantArgs: ["simpleAggrOp"],
    original:
      "{{.simpleAggrOp}} without(instance, type) (demo_memory_usage_bytes)",
  },
  {
    query: "{{.simpleAggrOp}} without(nonexistent) (weir_memory_bytes)",
    variantArgs: ["simpleAggrOp"],
    original:
      "{{.simpleAggrOp}} without(nonexistent) (demo_memory_usage_bytes)",
  },
  {
    query: "{{.topBottomOp}} (3, weir_memory_bytes)",
    variantArgs: ["topBottomOp"],
    original: "{{.topBottomOp}} (3, demo_memory_usage_bytes)",
  },
  {
    query: "{{.topBottomOp}} by(instance) (2, weir_memory_bytes)",
    variantArgs: ["topBottomOp"],
    original: "{{.topBottomOp}} by(instance) (2, demo_memory_usage_bytes)",
  },
  {
    query: "{{.topBottomOp}} without(instance) (2, weir_memory_bytes)",
    variantArgs: ["topBottomOp"],
    original: "{{.topBottomOp}} without(instance) (2, demo_memory_usage_bytes)",
  },
  {
    query: "{{.topBottomOp}} without() (2, weir_memory_bytes)",
    variantArgs: ["topBottomOp"],
    original: "{{.topBottomOp}} without() (2, demo_memory_usage_bytes)",
  },
  {
    query: "quantile({{.quantile}}, weir_memory_bytes)",
    variantArgs: ["quantile"],
    original: "quantile({{.quantile}}, demo_memory_usage_bytes)",
  },
  {
    query: "avg(max by(type) (weir_memory_bytes))",
    original: "avg(max by(type) (demo_memory_usage_bytes))",
  },
  { query: "1 * 2 + 4 / 6 - 10 % 2 ^ 2" },
  {
    query: "weir_threads + (1 {{.compBinOp}} bool 2)",
    variantArgs: ["compBinOp"],
    original: "demo_num_cpus + (1 {{.compBinOp}} bool 2)",
  },
  {
    query: "weir_memory_bytes {{.binOp}} 1.2345",
    variantArgs: ["binOp"],
    original: "demo_memory_usage_bytes {{.binOp}} 1.2345",
  },
  {
    query: "weir_memory_bytes {{.compBinOp}} bool 1.2345",
    variantArgs: ["compBinOp"],
    original: "demo_memory_usage_bytes {{.compBinOp}} bool 1.2345",
  },
  {
    query: "1.2345 {{.compBinOp}} bool weir_memory_bytes",
    variantArgs: ["compBinOp"],
    original: "1.2345 {{.compBinOp}} bool demo_memory_usage_bytes",
  },
  {
    query: "0.12345 {{.binOp}} weir_memory_bytes",
    variantArgs: ["binOp"],
    original: "0.12345 {{.binOp}} demo_memory_usage_bytes",
  },
  {
    query: "(1 * 2 + 4 / 6 - (10%7)^2) {{.binOp}} weir_memory_bytes",
    variantArgs: ["binOp"],
    original: "(1 * 2 + 4 / 6 - (10%7)^2) {{.binOp}} demo_memory_usage_bytes",
  },
  {
    query: "weir_memory_bytes {{.binOp}} (1 * 2 + 4 / 6 - 10)",
    variantArgs: ["binOp"],
    original: "demo_memory_usage_bytes {{.binOp}} (1 * 2 + 4 / 6 - 10)",
  },
  {
    query: "timestamp(weir_memory_bytes * 1)",
    original: "timestamp(demo_memory_usage_bytes * 1)",
  },
  {
    query: "timestamp(-weir_memory_bytes)",
    original: "timestamp(-demo_memory_usage_bytes)",
  },
  {
    query:
      "weir_memory_bytes {{.binOp}} on(instance, job, type) weir_memory_bytes",
    variantArgs: ["binOp"],
    original:
      "demo_memory_usage_bytes {{.binOp}} on(instance, job, type) demo_memory_usage_bytes",
  },
  {
    query:
      "sum by(instance, type) (weir_memory_bytes) {{.binOp}} on(instance, type) group_left(job) weir_memory_bytes",
    variantArgs: ["binOp"],
    original:
      "sum by(instance, type) (demo_memory_usage_bytes) {{.binOp}} on(instance, type) group_left(job) demo_memory_usage_bytes",
  },
  {
    query:
      "weir_memory_bytes {{.compBinOp}} bool on(instance, job, type) weir_memory_bytes",
    variantArgs: ["compBinOp"],
    original:
      "demo_memory_usage_bytes {{.compBinOp}} bool on(instance, job, type) demo_memory_usage_bytes",
  },
  {
    query:
      "weir_memory_bytes / on(instance, job, type, __name__) weir_memory_bytes",
    original:
      "demo_memory_usage_bytes / on(instance, job, type, __name__) demo_memory_usage_bytes",
  },
  {
    query:
      "sum without(job) (weir_memory_bytes) / on(instance, type) weir_memory_bytes",
    original:
      "sum without(job) (demo_memory_usage_bytes) / on(instance, type) demo_memory_usage_bytes",
  },
  {
    query:
      "sum without(job) (weir_memory_bytes) / on(instance, type) group_left weir_memory_bytes",
    original:
      "sum without(job) (demo_memory_usage_bytes) / on(instance, type) group_left demo_memory_usage_bytes",
  },
  {
    query:
      "sum without(job) (weir_memory_bytes) / on(instance, type) group_left(job) weir_memory_bytes",
    original:
      "sum without(job) (demo_memory_usage_bytes) / on(instance, type) group_left(job) demo_memory_usage_bytes",
  },
  {
    query: "weir_memory_bytes / on(instance, job) group_left weir_threads",
    original:
      "demo_memory_usage_bytes / on(instance, job) group_left demo_num_cpus",
  },
  {
    query:
      "weir_memory_bytes / on(instance, type, job, non_existent) weir_memory_bytes",
    original:
      "demo_memory_usage_bytes / on(instance, type, job, non_existent) demo_memory_usage_bytes",
  },
  { query: "weir_threads * Inf", original: "demo_num_cpus * Inf" },
  { query: "weir_threads * -Inf", original: "demo_num_cpus * -Inf" },
  { query: "weir_threads * NaN", original: "demo_num_cpus * NaN" },
  {
    query: "weir_memory_bytes + -(1)",
    original: "demo_memory_usage_bytes + -(1)",
  },
  { query: "-weir_memory_bytes", original: "-demo_memory_usage_bytes" },
  { query: "-1 ^ 2" },
  { query: "1 {{.arithBinOp}} time()", variantArgs: ["arithBinOp"] },
  { query: "time() {{.arithBinOp}} 1", variantArgs: ["arithBinOp"] },
  { query: "time() {{.compBinOp}} bool 1", variantArgs: ["compBinOp"] },
  { query: "1 {{.compBinOp}} bool time()", variantArgs: ["compBinOp"] },
  { query: "time() {{.arithBinOp}} time()", variantArgs: ["arithBinOp"] },
  { query: "time() {{.compBinOp}} bool time()", variantArgs: ["compBinOp"] },
  {
    query: "time() {{.binOp}} weir_memory_bytes",
    variantArgs: ["binOp"],
    original: "time() {{.binOp}} demo_memory_usage_bytes",
  },
  {
    query: "weir_memory_bytes {{.binOp}} time()",
    variantArgs: ["binOp"],
    original: "demo_memory_usage_bytes {{.binOp}} time()",
  },
  {
    query: "{{.simpleTimeAggrOp}}_over_time(weir_memory_bytes[{{.range}}])",
    variantArgs: ["simpleTimeAggrOp", "range"],
    original:
      "{{.simpleTimeAggrOp}}_over_time(demo_memory_usage_bytes[{{.range}}])",
  },
  {
    query: "quantile_over_time({{.quantile}}, weir_memory_bytes[{{.range}}])",
    variantArgs: ["quantile", "range"],
    original:
      "quantile_over_time({{.quantile}}, demo_memory_usage_bytes[{{.range}}])",
  },
  { query: "timestamp(weir_threads)", original: "timestamp(demo_num_cpus)" },
  {
    query: "timestamp(timestamp(weir_threads))",
    original: "timestamp(timestamp(demo_num_cpus))",
  },
  {
    query: "{{.simpleMathFunc}}(weir_memory_bytes)",
    variantArgs: ["simpleMathFunc"],
    original: "{{.simpleMathFunc}}(demo_memory_usage_bytes)",
  },
  {
    query: "{{.simpleMathFunc}}(-weir_memory_bytes)",
    variantArgs: ["simpleMathFunc"],
    original: "{{.simpleMathFunc}}(-demo_memory_usage_bytes)",
  },
  {
    query: "{{.extrapolatedRateFunc}}(nonexistent_metric[5m])",
    variantArgs: ["extrapolatedRateFunc"],
  },
  {
    query: "{{.extrapolatedRateFunc}}(weir_process_messages_total[{{.range}}])",
    variantArgs: ["extrapolatedRateFunc", "range"],
    original:
      "{{.extrapolatedRateFunc}}(demo_cpu_usage_seconds_total[{{.range}}])",
  },
  {
    query: "deriv(weir_process_buffered_bytes[{{.range}}])",
    variantArgs: ["range"],
    original: "deriv(demo_disk_usage_bytes[{{.range}}])",
  },
  {
    query: "predict_linear(weir_process_buffered_bytes[{{.range}}], 600)",
    variantArgs: ["range"],
    original: "predict_linear(demo_disk_usage_bytes[{{.range}}], 600)",
  },
  { query: "time()" },
  {
    query:
      'label_replace(weir_threads, "job", "destination-value-$1", "instance", "device.local:(.*)")',
    original:
      'label_replace(demo_num_cpus, "job", "destination-value-$1", "instance", "demo.promlabs.com:(.*)")',
  },
  {
    query:
      'label_replace(weir_threads, "job", "destination-value-$1", "instance", "host:(.*)")',
    original:
      'label_replace(demo_num_cpus, "job", "destination-value-$1", "instance", "host:(.*)")',
  },
  {
    query:
      'label_replace(weir_threads, "job", "$1-$2", "instance", "local(.*):(.*)")',
    original:
      'label_replace(demo_num_cpus, "job", "$1-$2", "instance", "local(.*):(.*)")',
  },
  {
    query:
      'label_replace(weir_threads, "job", "value-$1", "nonexistent-src", "source-value-(.*)")',
    original:
      'label_replace(demo_num_cpus, "job", "value-$1", "nonexistent-src", "source-value-(.*)")',
  },
  {
    query:
      'label_replace(weir_threads, "job", "value-$1", "nonexistent-src", "(.*)")',
    original:
      'label_replace(demo_num_cpus, "job", "value-$1", "nonexistent-src", "(.*)")',
  },
  {
    query:
      'label_replace(weir_threads, "job", "value-$1", "instance", "non-matching-regex")',
    original:
      'label_replace(demo_num_cpus, "job", "value-$1", "instance", "non-matching-regex")',
  },
  {
    query: 'label_replace(weir_threads, "job", "", "dst", ".*")',
    original: 'label_replace(demo_num_cpus, "job", "", "dst", ".*")',
  },
  {
    query: 'label_replace(weir_threads, "job", "value-$1", "src", "(.*")',
    shouldFail: true,
    original: 'label_replace(demo_num_cpus, "job", "value-$1", "src", "(.*")',
  },
  {
    query: 'label_replace(weir_threads, "~invalid", "", "src", "(.*)")',
    shouldFail: true,
    original: 'label_replace(demo_num_cpus, "~invalid", "", "src", "(.*)")',
  },
  {
    query: 'label_replace(weir_threads, "instance", "", "", "")',
    shouldFail: true,
    original: 'label_replace(demo_num_cpus, "instance", "", "", "")',
  },
  {
    query: 'label_join(weir_threads, "new_label", "-", "instance", "job")',
    original: 'label_join(demo_num_cpus, "new_label", "-", "instance", "job")',
  },
  {
    query: 'label_join(weir_threads, "job", "-", "instance", "job")',
    original: 'label_join(demo_num_cpus, "job", "-", "instance", "job")',
  },
  {
    query: 'label_join(weir_threads, "job", "-", "instance")',
    original: 'label_join(demo_num_cpus, "job", "-", "instance")',
  },
  {
    query: 'label_join(weir_threads, "~invalid", "-", "instance")',
    shouldFail: true,
    original: 'label_join(demo_num_cpus, "~invalid", "-", "instance")',
  },
  { query: "{{.dateFunc}}()", variantArgs: ["dateFunc"] },
  {
    query:
      "{{.dateFunc}}(weir_process_last_error_timestamp_seconds offset {{.offset}})",
    variantArgs: ["dateFunc", "offset"],
    original:
      "{{.dateFunc}}(demo_batch_last_success_timestamp_seconds offset {{.offset}})",
  },
  {
    query: "{{.instantRateFunc}}(weir_process_messages_total[{{.range}}])",
    variantArgs: ["instantRateFunc", "range"],
    original: "{{.instantRateFunc}}(demo_cpu_usage_seconds_total[{{.range}}])",
  },
  {
    query: "{{.clampFunc}}(weir_memory_bytes, 2)",
    variantArgs: ["clampFunc"],
    original: "{{.clampFunc}}(demo_memory_usage_bytes, 2)",
  },
  {
    query: "clamp(weir_memory_bytes, 0, 1)",
    original: "clamp(demo_memory_usage_bytes, 0, 1)",
  },
  {
    query: "clamp(weir_memory_bytes, 0, 1000000000000)",
    original: "clamp(demo_memory_usage_bytes, 0, 1000000000000)",
  },
  {
    query: "clamp(weir_memory_bytes, 1000000000000, 0)",
    original: "clamp(demo_memory_usage_bytes, 1000000000000, 0)",
  },
  {
    query: "clamp(weir_memory_bytes, 1000000000000, 1000000000000)",
    original: "clamp(demo_memory_usage_bytes, 1000000000000, 1000000000000)",
  },
  {
    query: "resets(weir_process_messages_total[{{.range}}])",
    variantArgs: ["range"],
    original: "resets(demo_cpu_usage_seconds_total[{{.range}}])",
  },
  {
    query: "changes(weir_process_last_error_timestamp_seconds[{{.range}}])",
    variantArgs: ["range"],
    original: "changes(demo_batch_last_success_timestamp_seconds[{{.range}}])",
  },
  { query: "vector(1.23)" },
  { query: "vector(time())" },
  {
    query:
      "histogram_quantile({{.quantile}}, rate(weir_process_message_latency_seconds_bucket[1m]))",
    variantArgs: ["quantile"],
    original:
      "histogram_quantile({{.quantile}}, rate(demo_api_request_duration_seconds_bucket[1m]))",
  },
  { query: "histogram_quantile(0.9, nonexistent_metric)" },
  {
    query: "histogram_quantile(0.9, weir_memory_bytes)",
    original: "histogram_quantile(0.9, demo_memory_usage_bytes)",
  },
  {
    query:
      'histogram_quantile(0.9, {__name__=~"weir_process_message_latency_seconds_.+"})',
    original:
      'histogram_quantile(0.9, {__name__=~"demo_api_request_duration_seconds_.+"})',
  },
  {
    query: 'count_values("value", weir_process_message_latency_seconds_bucket)',
    original: 'count_values("value", demo_api_request_duration_seconds_bucket)',
  },
  {
    query: "absent(weir_memory_bytes)",
    original: "absent(demo_memory_usage_bytes)",
  },
  { query: "absent(nonexistent_metric_name)" },
  {
    query:
      "max_over_time((time() - max(weir_process_last_error_timestamp_seconds) < 1000)[5m:10s] offset 5m)",
    original:
      "max_over_time((time() - max(demo_batch_last_success_timestamp_seconds) < 1000)[5m:10s] offset 5m)",
  },
  {
    query: "avg_over_time(rate(weir_process_messages_total[1m])[2m:10s])",
    original: "avg_over_time(rate(demo_cpu_usage_seconds_total[1m])[2m:10s])",
  },
];

/** One expanded query. */
export interface ExpandedCase {
  query: string;
  shouldFail: boolean;
  skipComparison: boolean;
}

/**
 * Every variant of every case, in the order expand.go's getVariants()
 * gives them: the first variant argument varies slowest.
 */
export function expandCases(
  cases: readonly ComplianceCase[] = COMPLIANCE_CASES,
): ExpandedCase[] {
  const out: ExpandedCase[] = [];
  for (const c of cases) {
    const fill = (rest: string[], args: Record<string, string>): void => {
      if (rest.length === 0) {
        out.push({
          query: c.query.replace(
            /\{\{\.(\w+)\}\}/g,
            (_, name: string) => args[name],
          ),
          shouldFail: c.shouldFail ?? false,
          skipComparison: c.skipComparison ?? false,
        });
        return;
      }
      const [arg, ...others] = rest;
      for (const value of VARIANT_ARGS[arg]) {
        fill(others, { ...args, [arg]: value });
      }
    };
    fill(c.variantArgs ?? [], {});
  }
  return out;
}

/**
 * weir's additions, not from the compliance project: what issue 14 asks
 * the evaluator for and the compliance file does not reach (`@`, set
 * operators, `group_right`, `scalar()`, `sort`, `quantile by`, the
 * issue's benchmark query, ...), and the constructs weir refuses (which
 * must be errors, never wrong answers). Compared the same way.
 */
export const WEIR_CASES: readonly ComplianceCase[] = [
  { query: "sum by (process) (rate(weir_process_messages_total[1m]))" },
  { query: "sum(rate(weir_process_messages_total[5m])) by (instance)" },
  { query: "weir_memory_bytes @ start()" },
  { query: "weir_memory_bytes @ end()" },
  { query: "rate(weir_process_messages_total[5m] @ end())" },
  { query: "rate(weir_process_messages_total[5m] offset -1m)" },
  { query: "timestamp(weir_memory_bytes offset 1m)" },
  { query: "weir_memory_bytes and on(instance) weir_threads > 4" },
  { query: "weir_memory_bytes or weir_threads" },
  { query: "weir_memory_bytes unless on(instance) weir_threads > 4" },
  { query: "weir_threads * on(instance) group_right weir_memory_bytes" },
  { query: "weir_memory_bytes / ignoring(type) group_left weir_threads" },
  {
    query:
      "weir_threads + on(instance) group_right(job) sum by (instance, type) (weir_memory_bytes)",
  },
  { query: "weir_threads > bool 4" },
  { query: "4 < weir_threads" },
  { query: 'scalar(weir_threads{instance="device.local:9100"})' },
  { query: "scalar(weir_threads)" },
  { query: "sort(weir_memory_bytes)" },
  { query: "sort_desc(weir_memory_bytes)" },
  { query: "sgn(weir_memory_bytes - 5e8)" },
  { query: "quantile by (instance) (0.5, weir_memory_bytes)" },
  { query: 'count_values by (instance) ("threads", weir_threads)' },
  { query: "max without (type) (weir_memory_bytes)" },
  { query: "group by (instance) (weir_memory_bytes)" },
  { query: "topk(1, weir_memory_bytes) by (instance)" },
  {
    query:
      "histogram_quantile(0.9, sum by (le) (rate(weir_process_message_latency_seconds_bucket[5m])))",
  },
  {
    query:
      "histogram_quantile(0.5, sum by (le, process) (increase(weir_process_message_latency_seconds_bucket[15m])))",
  },
  {
    query:
      "rate(weir_process_message_latency_seconds_sum[5m]) / rate(weir_process_message_latency_seconds_count[5m])",
  },
  { query: "increase(weir_process_message_latency_seconds_count[1h])" },
  { query: "delta(weir_memory_bytes[5m])" },
  { query: "deriv(weir_memory_bytes[10m])" },
  { query: "changes(weir_memory_bytes[5m])" },
  { query: "resets(weir_process_messages_total[1h])" },
  { query: "last_over_time(weir_flows_active[5m])" },
  { query: "present_over_time(weir_flows_active[2m])" },
  { query: 'absent(weir_memory_bytes{type="none", instance="x"})' },
  { query: 'absent_over_time(weir_flows_active{instance="x"}[5m])' },
  { query: "-weir_memory_bytes ^ 2" },
  { query: "weir_memory_bytes % 7 == bool 0" },
  { query: "round(weir_memory_bytes / 1e6, 0.5)" },
  { query: "clamp_min(weir_process_buffered_bytes, 5e4)" },
  { query: "day_of_year(weir_process_last_error_timestamp_seconds)" },
  { query: "weir_threads * on() group_left vector(2)" },
  {
    query:
      'label_replace(rate(weir_process_messages_total[1m]), "p", "$1", "process", "(.).*")',
  },
  { query: 'weir_process_messages_total{process=~"R.*|W.*", flow!~"x|y"}' },
  {
    query:
      "sum(weir_process_messages_total) - sum(weir_process_messages_total offset 5m)",
  },
  // Refused by weir: each must be an error, never an answer.
  {
    query:
      "holt_winters(weir_memory_bytes[10m], {{.smoothingFactor}}, {{.trendFactor}})",
    variantArgs: ["smoothingFactor", "trendFactor"],
  },
  { query: "max_over_time(rate(weir_process_messages_total[1m])[10m:1m])" },
  // Refused by Prometheus too.
  { query: "weir_memory_bytes[5m] + 1", shouldFail: true },
  { query: "sum(weir_memory_bytes", shouldFail: true },
  { query: 'weir_memory_bytes{type=~"("}', shouldFail: true },
  { query: "rate(weir_memory_bytes)", shouldFail: true },
  {
    query: "weir_memory_bytes + on(instance) weir_memory_bytes",
    shouldFail: true,
  },
  {
    query: "weir_memory_bytes * on(instance) group_left weir_memory_bytes",
    shouldFail: true,
  },
];
