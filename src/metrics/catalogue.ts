/**
 * The metric catalogue as code: one definition per metric, from which the
 * collector registers its metrics, `/api/v1/metadata` answers and
 * `METRICS.md` is generated (`npm run metrics:doc`).
 *
 * @module
 */
import { DROP_REASONS } from "../engine/stats.ts";

/** A Prometheus metric type that weir exports. */
export type MetricType = "counter" | "gauge" | "histogram";

/** A label of a catalogue metric. */
export interface LabelDef {
  /** The label name. */
  readonly name: string;
  /** What its value says. */
  readonly help: string;
  /** Its possible values, when they form a fixed set. */
  readonly values?: readonly string[];
}

/** One metric of the catalogue. */
export interface MetricDef {
  /**
   * The name after the namespace prefix (`process_messages_total` becomes
   * `weir_process_messages_total` in the default namespace).
   */
  readonly name: string;
  /** Its type. */
  readonly type: MetricType;
  /** The `# HELP` text: one sentence. */
  readonly help: string;
  /** Its base unit (`seconds`, `bytes`), or `""` for a count or a state. */
  readonly unit: "" | "seconds" | "bytes";
  /** Its labels, in exposition order. */
  readonly labels: readonly LabelDef[];
  /** The catalogue group: which part of weir feeds it. */
  readonly group:
    | "process"
    | "network"
    | "flows"
    | "self"
    | "http"
    | "resources"
    | "history"
    | "remote_write"
    | "component";
  /**
   * `false` for a conventional name shared across exporters
   * (`http_requests_total`, `process_open_fds`), written without the
   * namespace prefix; namespaced when absent.
   */
  readonly namespaced?: boolean;
  /** The seed design's field it stands for. */
  readonly seed: string;
  /** When it moves, and caveats an operator must know. */
  readonly moves: string;
}

const FLOW: LabelDef = { name: "flow", help: "the flow (network) name" };
const PROCESS: LabelDef = {
  name: "process",
  help: "the process name; `Outer/Inner` inside a subgraph",
};
const PORT: LabelDef = { name: "port", help: "the port name" };

/** The error kinds counted in `process_errors_total`. */
export const ERROR_KIND_VALUES: readonly string[] = [
  "exception",
  "timeout",
  "overflow",
];

/** The circuit-breaker states. */
export const BREAKER_STATE_VALUES: readonly string[] = [
  "closed",
  "open",
  "half-open",
];

/** The flow operations a flow server counts. */
export const FLOW_OPERATIONS: readonly string[] = [
  "create",
  "update",
  "delete",
  "start",
  "stop",
];

/** The methods the HTTP metrics name; any other is counted as `OTHER`. */
export const HTTP_METHODS: readonly string[] = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "OTHER",
];

/** The results of a flow operation. */
export const FLOW_OPERATION_RESULTS: readonly string[] = ["success", "error"];

/**
 * Every metric that weir's collector exports, by the key the code uses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { METRICS } from "./catalogue.ts";
 *
 * assert.deepEqual(METRICS.processMessages.name, "process_messages_total");
 * assert.deepEqual(
 *   METRICS.processMessages.labels.map((l) => l.name),
 *   ["flow", "process", "port", "direction"],
 * );
 * ```
 */
export const METRICS = {
  processMessages: {
    name: "process_messages_total",
    type: "counter",
    help: "Messages a process took from an in-port or sent from an out-port.",
    unit: "",
    labels: [FLOW, PROCESS, PORT, {
      name: "direction",
      help: "`in`: taken from an in-port; `out`: sent from an out-port",
      values: ["in", "out"],
    }],
    group: "process",
    seed: "MessagesProcessed",
    moves:
      "Exact: +1 for every message a process takes (data and control ports, IIPs included) and every message it sends (the `error` port included).",
  },
  processMessageLatency: {
    name: "process_message_latency_seconds",
    type: "histogram",
    help:
      "Time a message waited in a process's in-port queue before the process took it.",
    unit: "seconds",
    labels: [FLOW, PROCESS, PORT],
    group: "process",
    seed: "MessageLatency",
    moves:
      "One observation per message taken from a data in-port. The clock is read once per 128 activations, so single waits are rounded to that clock; the count is exact.",
  },
  processQueueDepth: {
    name: "process_queue_depth",
    type: "gauge",
    help:
      "Messages buffered in a process's in-port queues, senders waiting on a full queue included.",
    unit: "",
    labels: [FLOW, PROCESS, PORT],
    group: "process",
    seed: "QueueDepth",
    moves:
      "Read at scrape time. Equals the connection capacity when a `block` queue is full; above it while senders wait.",
  },
  processProcessing: {
    name: "process_processing_seconds",
    type: "histogram",
    help: "Duration of a process's timed activations.",
    unit: "seconds",
    labels: [FLOW, PROCESS],
    group: "process",
    seed: "ProcessingTime",
    moves:
      "Every asynchronous activation is timed; a synchronous one is timed once in 64 (and at least once per millisecond), so `_count` counts timed activations, not all of them: use `process_messages_total` for rates. Calls of a function wrapped with `wrapProcess()` outside a network are all timed and added here.",
  },
  processBufferedBytes: {
    name: "process_buffered_bytes",
    type: "gauge",
    help: "Estimated bytes of the messages held in a process's in-port queues.",
    unit: "bytes",
    labels: [FLOW, PROCESS],
    group: "process",
    seed: "MemoryUsage (per process)",
    moves:
      "Read at scrape time. An estimate from the messages' shapes (strings at 2 bytes a character, numbers 8, binary data its length, objects walked up to 256 nodes and measured one in 16 per connection), not a heap measurement.",
  },
  processActiveActivations: {
    name: "process_active_activations",
    type: "gauge",
    help: "Activations of a process in flight now.",
    unit: "",
    labels: [FLOW, PROCESS],
    group: "process",
    seed: "GoroutineCount",
    moves:
      "Read at scrape time. At most the process's `concurrency` (1 by default); a looping component counts 1 while its loop runs.",
  },
  processErrors: {
    name: "process_errors_total",
    type: "counter",
    help: "Failed attempts of a process, retried attempts included.",
    unit: "",
    labels: [FLOW, PROCESS, {
      name: "kind",
      help:
        "`exception`: the component threw (its teardown included), or reported a fault (`ctx.report`); `timeout`: `timeoutMs` struck, or a budget was spent (a JSONata expression over its time or depth budget); `overflow`: a send into a full `error`-policy connection",
      values: ERROR_KIND_VALUES,
    }],
    group: "process",
    seed: "ErrorCount",
    moves:
      '+1 per failed attempt, per fault a process reports without failing (`ctx.report`), and per teardown that throws (`exception`; no message failed, so `process_failures_total` does not move). A warning a process reports (a condition it goes on through, such as a broker tried again) is not counted: nothing failed. Messages rejected by an open circuit breaker are drops (`messages_dropped_total{reason="circuit_open"}`), not errors.',
  },
  processLastError: {
    name: "process_last_error_timestamp_seconds",
    type: "gauge",
    help: "When a process last failed, in seconds since the Unix epoch.",
    unit: "seconds",
    labels: [FLOW, PROCESS],
    group: "process",
    seed: "LastError",
    moves:
      "Set at each error (not at a warning). Absent until the process's first error: never a made-up 0.",
  },
  processStarts: {
    name: "process_starts_total",
    type: "counter",
    help: "Times a process was started.",
    unit: "",
    labels: [FLOW, PROCESS],
    group: "process",
    seed: "ProcessStarts",
    moves: "+1 when its network starts.",
  },
  processFailures: {
    name: "process_failures_total",
    type: "counter",
    help: "Messages a process gave up on, after any retries.",
    unit: "",
    labels: [FLOW, PROCESS],
    group: "process",
    seed: "ProcessFailures",
    moves:
      "+1 per message that failed its last attempt (with `retry`, after the last retry).",
  },
  circuitBreakerState: {
    name: "circuit_breaker_state",
    type: "gauge",
    help:
      "State of a process's circuit breaker: 1 on the current state, 0 on the others.",
    unit: "",
    labels: [FLOW, PROCESS, {
      name: "state",
      help: "the breaker state",
      values: BREAKER_STATE_VALUES,
    }],
    group: "process",
    seed: "CircuitBreakers",
    moves:
      "Read at scrape time. Only processes that have a `circuitBreaker` have these series.",
  },
  messagesDropped: {
    name: "messages_dropped_total",
    type: "counter",
    help: "Messages dropped on their way into a process.",
    unit: "",
    labels: [FLOW, PROCESS, {
      name: "reason",
      help:
        "`drop_oldest`/`drop_newest`: a full connection with that policy; `refused`: a full `error`-policy connection refused the send; `circuit_open`: the breaker was open; `unread`: a looping component returned with input left; `stopped`: given up by a stop or a drain timeout (buffered, or taken by an activation the stop cut off, e.g. waiting inside `core/Delay`)",
      values: DROP_REASONS,
    }],
    group: "process",
    seed: "MessageDrops",
    moves:
      "+1 per dropped message. A process has the series of the reasons that can happen to it: `unread` and `stopped` always, the policy reasons when an in-bound connection has that policy, `circuit_open` with a breaker.",
  },
  networkActiveProcesses: {
    name: "network_active_processes",
    type: "gauge",
    help: "Processes of a flow that have not finished.",
    unit: "",
    labels: [FLOW],
    group: "network",
    seed: "ActiveProcesses",
    moves:
      "Read at scrape time; falls as sources end and their downstream finishes.",
  },
  networkActiveConnections: {
    name: "network_active_connections",
    type: "gauge",
    help: "Connections between processes of a flow that are not closed.",
    unit: "",
    labels: [FLOW],
    group: "network",
    seed: "ActiveConnections",
    moves: "Read at scrape time. IIPs and exported ports are not counted.",
  },
  networkLatency: {
    name: "network_latency_seconds",
    type: "histogram",
    help: "Time from a message's source to a sink, end to end.",
    unit: "seconds",
    labels: [FLOW],
    group: "network",
    seed: "NetworkLatency",
    moves:
      "One observation per message that reaches a sink (a process with no connected out-port). The clock is read once per 128 activations, so short latencies are rounded to it.",
  },
  networkBacklog: {
    name: "network_message_backlog",
    type: "gauge",
    help: "Messages buffered in all connections of a flow.",
    unit: "",
    labels: [FLOW],
    group: "network",
    seed: "MessageBacklog",
    moves: "Read at scrape time.",
  },
  networkBufferedBytes: {
    name: "network_buffered_bytes",
    type: "gauge",
    help:
      "Estimated bytes of the messages held in all connection buffers of a flow: what its bytes budget counts.",
    unit: "bytes",
    labels: [FLOW],
    group: "network",
    seed: "(bytes budget)",
    moves:
      "Read at scrape time; kept up to date as messages are buffered and taken. The same estimate as `process_buffered_bytes`. Over the bytes budget per flow (`--flow-bytes-budget`, default 64 MiB) the flow's sources wait.",
  },
  networkBytesPressure: {
    name: "network_bytes_pressure",
    type: "gauge",
    help:
      "Whether a flow's sources wait because its buffers hold more than its bytes budget (1) or not (0).",
    unit: "",
    labels: [FLOW],
    group: "network",
    seed: "(bytes budget)",
    moves:
      'Read at scrape time. The flow\'s state says `pressure: "bytes"` at the same time.',
  },
  networkPartitions: {
    name: "network_partitions",
    type: "gauge",
    help:
      "Connected parts of a flow among its healthy processes (live, breaker not open).",
    unit: "",
    labels: [FLOW],
    group: "network",
    seed: "PartitionCount",
    moves:
      "Read at scrape time. 1 for a healthy connected flow; rises when an open breaker splits it; 0 when nothing is live.",
  },
  flowsActive: {
    name: "flows_active",
    type: "gauge",
    help: "Flows running now (running or draining).",
    unit: "",
    labels: [],
    group: "flows",
    seed: "ActiveFlows",
    moves: "Read at scrape time over the flows the collector tracks.",
  },
  flowOperations: {
    name: "flow_operations_total",
    type: "counter",
    help: "Flow management operations, by operation and result.",
    unit: "",
    labels: [{
      name: "operation",
      help: "what was asked",
      values: FLOW_OPERATIONS,
    }, {
      name: "result",
      help: "`success`, or `error` when the operation was refused or failed",
      values: FLOW_OPERATION_RESULTS,
    }],
    group: "flows",
    seed: "FlowOperations",
    moves:
      "+1 per operation the flow server (or an embedding app) records; every combination is exported from 0.",
  },
  metricsCollectionErrors: {
    name: "metrics_collection_errors_total",
    type: "counter",
    help:
      "Renders of the exposition in which a collector threw and its metrics were left out.",
    unit: "",
    labels: [{
      name: "collector",
      help:
        "`engine` (a flow's statistics), `meters` (a component's meter left out: its name or exposition taken by another metric, or declared otherwise by another flow's component), or the name of a metric registered in the collector's prom-client registry",
    }],
    group: "self",
    seed: "(self)",
    moves:
      "+1 per collector per failed render; the scrape still answers 200. Concurrent scrapes of one format share a render (`GET /metrics`), and count once. `meters`: +1 per meter left out when a flow that declares it is tracked (its flow starts as usual).",
  },
  metricsSeriesRefused: {
    name: "metrics_series_refused_total",
    type: "counter",
    help: "Series left out because their metric reached its series cap.",
    unit: "",
    labels: [{
      name: "metric",
      help: "the full metric name",
    }],
    group: "self",
    seed: "(self)",
    moves:
      "+1 for every series refused when a flow or wrapped function is added past `maxSeriesPerMetric`; the series is refused for as long as its flow is tracked.",
  },
} as const satisfies Record<string, MetricDef>;

/** A key of {@linkcode METRICS}. */
export type MetricKey = keyof typeof METRICS;

const METHOD: LabelDef = {
  name: "method",
  help: "the request method",
  values: HTTP_METHODS,
};
const ROUTE: LabelDef = {
  name: "route",
  help:
    "the matched route pattern (`/flows/:id`), never the raw path; `unmatched` for a path no route matched",
};
const STATUS: LabelDef = {
  name: "status",
  help: "the response status code (`200`, `404`, ...)",
};

/**
 * The HTTP server metrics of weir's flow server (or of any Hono app that
 * uses weir's HTTP metrics middleware). Conventional names, no namespace.
 */
export const HTTP_METRICS = {
  httpRequests: {
    name: "http_requests_total",
    type: "counter",
    help: "HTTP requests answered, by method, route and status.",
    unit: "",
    labels: [METHOD, ROUTE, STATUS],
    group: "http",
    namespaced: false,
    seed: "RequestCount, ResponseStatus",
    moves: "+1 when a response has been produced (its headers are ready).",
  },
  httpRequestDuration: {
    name: "http_request_duration_seconds",
    type: "histogram",
    help: "Time from a request's arrival to its response headers.",
    unit: "seconds",
    labels: [METHOD, ROUTE, STATUS],
    group: "http",
    namespaced: false,
    seed: "RequestLatency",
    moves:
      "One observation per response; a streamed body (server-sent events) is timed to its headers, not its end. Timed on the monotonic clock: on Deno on Linux with FFI granted (`-A`, as `weir serve` runs) read through libc's `clock_gettime`, else `performance.now()`; the same clock either way.",
  },
  httpRequestSize: {
    name: "http_request_size_bytes",
    type: "histogram",
    help: "Size of request bodies.",
    unit: "bytes",
    labels: [METHOD, ROUTE],
    group: "http",
    namespaced: false,
    seed: "RequestSize",
    moves:
      "One observation per request: its `Content-Length`; 0 without a body (a `GET` or `HEAD` is taken to have none); without `Content-Length`, the middleware (`httpMetrics`) observes the bytes the handler read through Hono (`c.req.text()`, `json()`, `arrayBuffer()`, `blob()`); otherwise it is not observed.",
  },
  httpResponseSize: {
    name: "http_response_size_bytes",
    type: "histogram",
    help: "Size of response bodies.",
    unit: "bytes",
    labels: [METHOD, ROUTE],
    group: "http",
    namespaced: false,
    seed: "ResponseSize",
    moves:
      "One observation per response of known size: its `Content-Length`, or 0 for `HEAD`, 1xx, 204 and 304. A body without `Content-Length` is not observed: streams, and Hono's `c.text()`/`c.json()`, which leave the header to the runtime. After 64 responses in a row without it, a method, route and status is looked at only every 64th response (reading headers costs about 5 % of a trivial route's throughput) until one has it again.",
  },
  httpRequestsInFlight: {
    name: "http_requests_in_flight",
    type: "gauge",
    help: "HTTP requests being handled now.",
    unit: "",
    labels: [],
    group: "http",
    namespaced: false,
    seed: "ActiveRequests",
    moves: "+1 when a request arrives, -1 when its response is produced.",
  },
  httpOpenConnections: {
    name: "http_open_connections",
    type: "gauge",
    help: "TCP connections open to the HTTP server now.",
    unit: "",
    labels: [],
    group: "http",
    namespaced: false,
    seed: "OpenConnections",
    moves:
      "Read at scrape time from the server's own sockets (`/proc/self/fd` joined with `/proc/net/tcp`, `tcp6`). While no socket of the process opened or closed since, a count up to 30 s old stands (the metric history reads it every second; a full read walks the kernel's whole socket table): a connection that only changed state (half-closed by its peer) is seen by the next full read. Left out where /proc cannot be read (not Linux; Deno without `-A`).",
  },
  httpConnectionDuration: {
    name: "http_connection_duration_seconds",
    type: "histogram",
    help: "Age of HTTP connections when they closed, from accept to close.",
    unit: "seconds",
    labels: [],
    group: "http",
    namespaced: false,
    seed: "ConnectionAge",
    moves:
      "One observation per closed connection, seen when the server's sockets are next read (every 0.5 s while connections are open, and at every scrape), so an age is late by up to 0.5 s; dated from the connection's first request. Above about 200 requests a second only a sample of requests name their connection (Bun's peer lookup costs a fifth of a trivial request): a connection is then dated by its first sampled request or the first read that finds it, and one that opens and closes within 0.5 s with no sampled request is not observed. Left out where /proc cannot be read.",
  },
} as const satisfies Record<string, MetricDef>;

/**
 * The resource metrics of the resource tracker: the process's CPU, memory,
 * event loop, threads, files and network. Names shared with other
 * exporters (`process_*`) have no namespace.
 */
export const RESOURCE_METRICS = {
  processCpuSeconds: {
    name: "process_cpu_seconds_total",
    type: "counter",
    help: "CPU time the process has used, user and system together.",
    unit: "seconds",
    labels: [],
    group: "resources",
    namespaced: false,
    seed: "CPUUsage",
    moves: "Read each tracker tick from `process.cpuUsage()`.",
  },
  cpuUsageRatio: {
    name: "cpu_usage_ratio",
    type: "gauge",
    help: "Share of one core the process used over the last tracker tick.",
    unit: "",
    labels: [{
      name: "mode",
      help: "`user` or `system` CPU time",
      values: ["user", "system"],
    }],
    group: "resources",
    seed: "CPUUsage",
    moves:
      "Set each tracker tick: CPU time used since the previous tick over the wall time between them (above 1 when threads use more than a core).",
  },
  processResidentMemory: {
    name: "process_resident_memory_bytes",
    type: "gauge",
    help: "Resident memory of the process.",
    unit: "bytes",
    labels: [],
    group: "resources",
    namespaced: false,
    seed: "MemoryUsage (server)",
    moves:
      "Set each tracker tick from the runtime's memory usage (`Deno.memoryUsage()`, Bun's `process.memoryUsage()`); no permission needed.",
  },
  memory: {
    name: "memory_bytes",
    type: "gauge",
    help: "Memory of the JavaScript runtime, by type.",
    unit: "bytes",
    labels: [{
      name: "type",
      help:
        "`heap_used`, `heap_total`, `external`, ... (the runtime's own breakdown; a type the runtime cannot measure is left out)",
    }],
    group: "resources",
    seed: "MemoryUsage (server)",
    moves:
      "Set each tracker tick. Deno: V8's `heap_used`, `heap_total`, `external`. Bun: JavaScriptCore's heap size as of its last collection (`heap_used`), its capacity (`heap_total`) and `external`.",
  },
  eventLoopLag: {
    name: "event_loop_lag_seconds",
    type: "histogram",
    help: "How late the event loop ran a timer: time it was blocked.",
    unit: "seconds",
    labels: [],
    group: "resources",
    seed: "Goroutines / event loop",
    moves:
      "One observation per wake-up of the tracker's lag timer (every 40 ms, `lagResolutionMs`): how late it ran. A block of the loop of B ms records one sample of at least B - 40 ms.",
  },
  threads: {
    name: "threads",
    type: "gauge",
    help: "Operating-system threads of the process.",
    unit: "",
    labels: [],
    group: "resources",
    seed: "ThreadCount",
    moves: "Set each tracker tick from `/proc/self/stat` (field 20).",
  },
  processOpenFds: {
    name: "process_open_fds",
    type: "gauge",
    help: "Open file descriptors of the process.",
    unit: "",
    labels: [],
    group: "resources",
    namespaced: false,
    seed: "OpenFiles",
    moves: "Set each tracker tick from `/proc/self/fd`.",
  },
  processMaxFds: {
    name: "process_max_fds",
    type: "gauge",
    help: "Limit on open file descriptors of the process.",
    unit: "",
    labels: [],
    group: "resources",
    namespaced: false,
    seed: "MaxFiles",
    moves:
      "Set from `/proc/self/limits` at start, at each `sample()` and with the TCP sockets (`tcpIntervalMs`, 60 s): the limit changes only by setrlimit.",
  },
  processNetworkReceive: {
    name: "process_network_receive_bytes_total",
    type: "counter",
    help: "Bytes received on the network interfaces the process sees.",
    unit: "bytes",
    labels: [],
    group: "resources",
    namespaced: false,
    seed: "NetworkIO",
    moves:
      "Read each tracker tick from `/proc/self/net/dev`, which counts the whole network namespace (a container's, or the host's), not the process alone.",
  },
  processNetworkTransmit: {
    name: "process_network_transmit_bytes_total",
    type: "counter",
    help: "Bytes sent on the network interfaces the process sees.",
    unit: "bytes",
    labels: [],
    group: "resources",
    namespaced: false,
    seed: "NetworkIO",
    moves:
      "Read each tracker tick from `/proc/self/net/dev` (the whole network namespace).",
  },
  tcpConnections: {
    name: "tcp_connections",
    type: "gauge",
    help: "TCP sockets of the process, by state.",
    unit: "",
    labels: [{
      name: "state",
      help:
        "the kernel's TCP state, lower case (`established`, `listen`, `time_wait`, ...)",
    }],
    group: "resources",
    seed: "TCPConnections",
    moves:
      "Set every 60 s (`tcpIntervalMs`; the kernel's listing costs milliseconds), and once more when `weir serve` (or `weir run --metrics`) listens, so `listen` counts its socket from the first scrape: the process's socket inodes (`/proc/self/fd`) found in `/proc/net/tcp` and `tcp6`. Every state is exported, 0 when none.",
  },
  processStartTime: {
    name: "process_start_time_seconds",
    type: "gauge",
    help: "Start time of the process since the Unix epoch.",
    unit: "seconds",
    labels: [],
    group: "resources",
    namespaced: false,
    seed: "(process)",
    moves: "Constant.",
  },
  buildInfo: {
    name: "build_info",
    type: "gauge",
    help: "Always 1; its labels say which weir runs on which runtime.",
    unit: "",
    labels: [{ name: "version", help: "weir's version" }, {
      name: "runtime",
      help: "`deno` or `bun`",
      values: ["deno", "bun"],
    }, { name: "runtime_version", help: "the runtime's version" }],
    group: "resources",
    seed: "(build)",
    moves: "Constant.",
  },
} as const satisfies Record<string, MetricDef>;

const TIER: LabelDef = {
  name: "tier",
  help:
    "the store's tier: `raw` (the samples) or a downsampled one (`1m`, `1h` by default); in `history_storage_bytes` also `index`, the series file and head log on disk",
};

/**
 * The metric history's own metrics (`src/history/`): what its sampler
 * appends and what its store holds, writes, drops and skips. Registered by
 * `History.attach()` in the collector it samples.
 */
export const HISTORY_METRICS = {
  historySamplesAppended: {
    name: "history_samples_appended_total",
    type: "counter",
    help: "Samples the metric history appended to its store.",
    unit: "",
    labels: [],
    group: "history",
    seed: "(history)",
    moves:
      "+1 for each sample the store took: every series the sampler keeps, at every tick (default 1 s). A sample at or before its series' last time is not counted.",
  },
  historySeries: {
    name: "history_series",
    type: "gauge",
    help: "Series the metric history's store holds.",
    unit: "",
    labels: [],
    group: "history",
    seed: "(history)",
    moves:
      "Read at each scrape. A series stays until retention removes its last point, also after its flow is deleted.",
  },
  historyStorage: {
    name: "history_storage_bytes",
    type: "gauge",
    help: "Bytes the metric history holds, by tier and medium.",
    unit: "bytes",
    labels: [TIER, {
      name: "medium",
      help:
        "`memory` (open chunks, the rings of recent chunks with their room for growth, the window aggregators' state, the index of each tier's open segment file, closed segments' footers not yet written, and the footers read back for queries: a cache of at most 8 MiB for all tiers) or `disk` (chunk files, each closed file ending with its index, about 10 bytes a chunk)",
      values: ["memory", "disk"],
    }],
    group: "history",
    seed: "(history)",
    moves:
      "Read at each scrape. `disk` stays within the byte budget (default 256 MiB, all tiers together) by at most one chunk; 0 when the history has no data dir.",
  },
  historyChunksWritten: {
    name: "history_chunks_written_total",
    type: "counter",
    help: "Compressed chunks the metric history wrote to disk, by tier.",
    unit: "",
    labels: [TIER],
    group: "history",
    seed: "(history)",
    moves: "+1 for each chunk a flush wrote.",
  },
  historyChunksDropped: {
    name: "history_chunks_dropped_total",
    type: "counter",
    help:
      "Chunks the metric history removed, by tier and reason (retention or the byte budget).",
    unit: "",
    labels: [TIER, {
      name: "reason",
      help:
        "`retention`: older than the tier keeps; `budget`: the oldest data made room under the byte budget",
      values: ["retention", "budget"],
    }],
    group: "history",
    seed: "(history)",
    moves: "+1 for each chunk removed, oldest first.",
  },
  historyFlushDuration: {
    name: "history_flush_duration_seconds",
    type: "histogram",
    help: "Time the metric history took to write its recent samples to disk.",
    unit: "seconds",
    labels: [],
    group: "history",
    seed: "(history)",
    moves:
      "One observation per flush: every flush interval (default 10 s) and at close.",
  },
  historyCorruptChunks: {
    name: "history_corrupt_chunks_skipped_total",
    type: "counter",
    help:
      "Chunks the metric history found torn or corrupt when loading, and skipped.",
    unit: "",
    labels: [],
    group: "history",
    seed: "(history)",
    moves:
      "Counted at open (a chunk torn by a power cut or SIGKILL); the rest loads. One warning is logged.",
  },
  historyTicksSkipped: {
    name: "history_sample_ticks_skipped_total",
    type: "counter",
    help:
      "Sampling ticks the metric history skipped because the previous pass was still running or the process was blocked.",
    unit: "",
    labels: [],
    group: "history",
    seed: "(history)",
    moves:
      "+1 for each tick of the interval grid that got no pass: passes are never stacked or run late.",
  },
  historySampleDuration: {
    name: "history_sample_duration_seconds",
    type: "histogram",
    help:
      "Time one sampling pass of the metric history took, reading and appending every series.",
    unit: "seconds",
    labels: [],
    group: "history",
    seed: "(history)",
    moves: "One observation per pass (default every 1 s).",
  },
} as const satisfies Record<string, MetricDef>;

const DESTINATION: LabelDef = {
  name: "destination",
  help:
    "the remote write destination's name (its `name` setting, default the URL's host:port)",
};

/**
 * Remote write's metrics (`src/history/remote_write.ts`), one series per
 * destination, named after Prometheus's own sender's where they fit
 * (`prometheus_remote_storage_samples_total` and its kin).
 */
export const REMOTE_WRITE_METRICS = {
  remoteWriteSamples: {
    name: "remote_write_samples_total",
    type: "counter",
    help: "Samples a remote write receiver acknowledged.",
    unit: "",
    labels: [DESTINATION],
    group: "remote_write",
    seed: "(remote write)",
    moves:
      "+1 for each sample of a request the receiver answered 2xx. A sample sent twice (its request retried after a timeout the receiver had in fact taken) counts twice.",
  },
  remoteWriteSamplesFailed: {
    name: "remote_write_samples_failed_total",
    type: "counter",
    help:
      "Samples of remote write requests that failed: a network error, a timeout or a status other than 2xx.",
    unit: "",
    labels: [DESTINATION],
    group: "remote_write",
    seed: "(remote write)",
    moves:
      "+n for each failed attempt of a request of n samples, whether it is retried (5xx, 429, network) or dropped (other 4xx).",
  },
  remoteWriteSamplesRetried: {
    name: "remote_write_samples_retried_total",
    type: "counter",
    help: "Samples remote write sent again after a failed attempt.",
    unit: "",
    labels: [DESTINATION],
    group: "remote_write",
    seed: "(remote write)",
    moves:
      "+n for each retry of a request of n samples, after a backoff of 30 ms doubling up to 5 s (defaults), with jitter.",
  },
  remoteWriteSamplesDropped: {
    name: "remote_write_samples_dropped_total",
    type: "counter",
    help: "Samples remote write gave up on, by reason.",
    unit: "",
    labels: [DESTINATION, {
      name: "reason",
      help:
        "`rejected`: the receiver answered a 4xx other than 429 (not retried); `too_old`: older than `maxSampleAge` (`maxSampleAgeMs` of `RemoteWriteOptions`), or refused as out of bounds",
      values: ["rejected", "too_old"],
    }],
    group: "remote_write",
    seed: "(remote write)",
    moves:
      "+n when a request of n samples is refused for good, or when n raw samples are older than `maxSampleAge` (their minute windows may go instead: `oldAsAggregates`). One warning is logged per destination and status.",
  },
  remoteWriteBytes: {
    name: "remote_write_bytes_total",
    type: "counter",
    help:
      "Bytes of remote write request bodies sent (snappy-compressed protobuf), retries included.",
    unit: "bytes",
    labels: [DESTINATION],
    group: "remote_write",
    seed: "(remote write)",
    moves: "+the body's size at each attempt.",
  },
  remoteWriteLag: {
    name: "remote_write_lag_seconds",
    type: "gauge",
    help:
      "How far the newest sample a remote write receiver has whole lags behind the history's newest sample.",
    unit: "seconds",
    labels: [DESTINATION],
    group: "remote_write",
    seed: "(remote write)",
    moves:
      "Read at each scrape: between the interval and the interval plus the batch deadline (`batchDeadline`, default 10 s: about 11 s with the default 1 s interval) while caught up; grows while the receiver is unreachable, falls as it catches up. Absent until the destination has a cursor.",
  },
  remoteWritePending: {
    name: "remote_write_pending_samples",
    type: "gauge",
    help:
      "Samples remote write has read for the window it is sending and the receiver has not acknowledged yet: its send queue.",
    unit: "",
    labels: [DESTINATION],
    group: "remote_write",
    seed: "(remote write)",
    moves:
      "Rises when a window is read (at most a window's samples: 60 s of every series sent, by default), falls with each acknowledged or dropped request.",
  },
  remoteWriteInFlight: {
    name: "remote_write_requests_in_flight",
    type: "gauge",
    help: "Remote write requests waiting for their answer.",
    unit: "",
    labels: [DESTINATION],
    group: "remote_write",
    seed: "(remote write)",
    moves:
      "1 at most while caught up; up to `maxShards` (default 8) while behind.",
  },
  remoteWriteRequestDuration: {
    name: "remote_write_request_duration_seconds",
    type: "histogram",
    help:
      "Time a remote write request took until the receiver acknowledged it.",
    unit: "seconds",
    labels: [DESTINATION],
    group: "remote_write",
    seed: "(remote write)",
    moves: "One observation per request answered 2xx.",
  },
} as const satisfies Record<string, MetricDef>;

/** The states a supervised flow reports (`flow_state`). */
export const FLOW_STATE_VALUES: readonly string[] = [
  "created",
  "running",
  "draining",
  "stopping",
  "stopped",
  "finished",
  "failed",
  "restarting",
];

/**
 * The flow manager's supervision metrics (`src/flows/`): each flow's state
 * and what its supervisor did. Registered by a `FlowManager` given a
 * collector.
 */
export const FLOW_METRICS = {
  flowState: {
    name: "flow_state",
    type: "gauge",
    help: "State of each flow: 1 on its current state, 0 on the others.",
    unit: "",
    labels: [FLOW, {
      name: "state",
      help:
        "`running`, `finished` (its sources ended), `stopped`, `failed` (did not build or start, or its supervisor gave up), `restarting` (a restart waits for its delay), and the passing `created`, `draining`, `stopping`",
      values: FLOW_STATE_VALUES,
    }],
    group: "flows",
    seed: "(supervision)",
    moves:
      'Read at scrape time; every state of every flow the manager holds is exported. `sum by (flow) (weir_flow_state{state=~"failed|restarting"})` finds flows in trouble.',
  },
  flowRestarts: {
    name: "flow_restarts_total",
    type: "counter",
    help: "Restarts a flow's supervisor made (its restart policy).",
    unit: "",
    labels: [FLOW],
    group: "flows",
    seed: "(supervision)",
    moves:
      "+1 per restart attempt, successful or not; from 0 when the flow is created or the server starts.",
  },
  flowFailures: {
    name: "flow_failures_total",
    type: "counter",
    help: "Times a flow's network failed to build or start.",
    unit: "",
    labels: [FLOW],
    group: "flows",
    seed: "(supervision)",
    moves:
      "+1 per failed start: at restore, or at a supervised restart. A start an operator asked for that fails is refused instead (the flow keeps what ran).",
  },
} as const satisfies Record<string, MetricDef>;

/** Every catalogue metric: the engine's, then HTTP, resources and history. */
export const CATALOGUE: readonly MetricDef[] = [
  ...Object.values(METRICS),
  ...Object.values(FLOW_METRICS),
  ...Object.values(HTTP_METRICS),
  ...Object.values(RESOURCE_METRICS),
  ...Object.values(HISTORY_METRICS),
  ...Object.values(REMOTE_WRITE_METRICS),
];

/**
 * The full name of a catalogue metric in a namespace.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullName, HTTP_METRICS, METRICS } from "./catalogue.ts";
 *
 * assert.deepEqual(fullName(METRICS.flowsActive, "edge"), "edge_flows_active");
 * assert.deepEqual(
 *   fullName(HTTP_METRICS.httpRequests, "edge"),
 *   "http_requests_total",
 * );
 * ```
 */
export function fullName(def: MetricDef, namespace: string): string {
  return def.namespaced === false ? def.name : `${namespace}_${def.name}`;
}
