/// <reference lib="dom" />
/**
 * The PromQL behind each history chart: of a flow, a process, a connection
 * (its target's port series) and the server's resources.
 *
 * @module
 */
import type { ChartQuery, ChartSpec } from "./charts.ts";
import { metricName } from "./metric_names.ts";

/** A label matcher list: `{flow="a",process="b"}` with the values escaped. */
export function matchers(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}=${JSON.stringify(v)}`
  );
  return `{${parts.join(",")}}`;
}

function _quantiles(metric: string, sel: string, by = ""): ChartQuery[] {
  const grouping = by === "" ? "le" : `le, ${by}`;
  return [0.5, 0.9, 0.99].map((q) => ({
    label: `p${q * 100}`,
    expr: (w: string) =>
      `histogram_quantile(${q}, sum by (${grouping}) (rate(${metric}_bucket${sel}[${w}])))`,
  }));
}

/** Charts of a whole flow. */
export function flowSpecs(flow: string): ChartSpec[] {
  const f = matchers({ flow });
  const fin = matchers({ flow, direction: "in" });
  return [
    {
      title: "Messages taken, by process",
      unit: "rate",
      queries: [{
        expr: (w) =>
          `sum by (process) (rate(${
            metricName("process_messages_total")
          }${fin}[${w}]))`,
      }],
    },
    {
      title: "End-to-end latency (source to sink)",
      unit: "seconds",
      queries: _quantiles(metricName("network_latency_seconds"), f),
    },
    {
      title: "Backlog (messages waiting in connections)",
      unit: "count",
      queries: [{
        label: "backlog",
        expr: () => `sum(${metricName("network_message_backlog")}${f})`,
      }],
    },
    {
      title: "Errors and drops",
      unit: "rate",
      queries: [
        {
          label: "errors",
          expr: (w) =>
            `sum by (kind) (rate(${
              metricName("process_errors_total")
            }${f}[${w}]))`,
        },
        {
          label: "dropped",
          expr: (w) =>
            `sum by (reason) (rate(${
              metricName("messages_dropped_total")
            }${f}[${w}]))`,
        },
      ],
    },
  ];
}

/** Charts of one process. */
export function processSpecs(flow: string, process: string): ChartSpec[] {
  const p = matchers({ flow, process });
  return [
    {
      title: "Messages by port",
      unit: "rate",
      queries: [{
        expr: (w) =>
          `sum by (direction, port) (rate(${
            metricName("process_messages_total")
          }${p}[${w}]))`,
      }],
    },
    {
      title: "Processing time",
      unit: "seconds",
      queries: _quantiles(metricName("process_processing_seconds"), p),
    },
    {
      title: "Queue wait (time queued before the process took it)",
      unit: "seconds",
      queries: _quantiles(metricName("process_message_latency_seconds"), p),
    },
    {
      title: "Queue depth by in-port",
      unit: "count",
      queries: [{
        expr: () => `sum by (port) (${metricName("process_queue_depth")}${p})`,
      }],
    },
    {
      title: "Errors and drops",
      unit: "rate",
      queries: [
        {
          label: "errors",
          expr: (w) =>
            `sum by (kind) (rate(${
              metricName("process_errors_total")
            }${p}[${w}]))`,
        },
        {
          label: "dropped",
          expr: (w) =>
            `sum by (reason) (rate(${
              metricName("messages_dropped_total")
            }${p}[${w}]))`,
        },
      ],
    },
  ];
}

/** Charts of a connection: its target port's series. */
export function connectionSpecs(
  flow: string,
  toProcess: string,
  toPort: string,
): ChartSpec[] {
  const port = matchers({ flow, process: toProcess, port: toPort });
  const pin = matchers({
    flow,
    process: toProcess,
    port: toPort,
    direction: "in",
  });
  const proc = matchers({ flow, process: toProcess });
  return [
    {
      title: `Messages into ${toProcess}.${toPort}`,
      unit: "rate",
      queries: [{
        label: "taken",
        expr: (w) =>
          `sum(rate(${metricName("process_messages_total")}${pin}[${w}]))`,
      }],
    },
    {
      title: "Queue wait",
      unit: "seconds",
      queries: _quantiles(metricName("process_message_latency_seconds"), port),
    },
    {
      title: "Queue depth",
      unit: "count",
      queries: [{
        label: "depth",
        expr: () => `sum(${metricName("process_queue_depth")}${port})`,
      }],
    },
    {
      title: `Drops at ${toProcess}`,
      unit: "rate",
      note: "Drops are counted per process, for all its in-ports.",
      queries: [{
        expr: (w) =>
          `sum by (reason) (rate(${
            metricName("messages_dropped_total")
          }${proc}[${w}]))`,
      }],
    },
  ];
}

/** Charts of the server's own resources. */
export function resourceSpecs(): ChartSpec[] {
  return [
    {
      title: "CPU",
      unit: "ratio",
      queries: [
        {
          label: "cpu",
          expr: () => `sum by (mode) (${metricName("cpu_usage_ratio")})`,
        },
        {
          label: "total",
          expr: (w) => `rate(process_cpu_seconds_total[${w}])`,
        },
      ],
    },
    {
      title: "Memory",
      unit: "bytes",
      queries: [
        { label: "resident", expr: () => `process_resident_memory_bytes` },
        {
          label: "js",
          expr: () => `sum by (type) (${metricName("memory_bytes")})`,
        },
      ],
    },
    {
      title: "Event-loop lag",
      unit: "seconds",
      queries: _quantiles(metricName("event_loop_lag_seconds"), ""),
    },
    {
      title: "Open files",
      unit: "count",
      queries: [{ label: "open fds", expr: () => `process_open_fds` }],
    },
    {
      title: "HTTP requests by status",
      unit: "rate",
      queries: [{
        expr: (w) => `sum by (status) (rate(http_requests_total[${w}]))`,
      }],
    },
    {
      title: "HTTP latency",
      unit: "seconds",
      queries: _quantiles("http_request_duration_seconds", ""),
    },
  ];
}
