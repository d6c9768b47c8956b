/**
 * `METRICS.md`, generated from the catalogue so the two cannot drift:
 * `npm run metrics:doc` writes it, and a test fails when it is stale.
 *
 * @module
 */
import type { Component } from "../engine/component.ts";
import { CATALOGUE, fullName, type MetricDef } from "./catalogue.ts";
import { meterDef } from "./meter_families.ts";
import { DEFAULT_MAX_SERIES_PER_METRIC } from "./options.ts";

const GROUPS: { group: MetricDef["group"]; title: string; intro: string }[] = [
  {
    group: "process",
    title: "Process metrics",
    intro:
      "One set per process of every tracked flow. Counters are exact; durations are sampled as each metric says.",
  },
  {
    group: "network",
    title: "Network (flow) metrics",
    intro: "One set per tracked flow.",
  },
  {
    group: "flows",
    title: "Flow server metrics",
    intro: "One set per weir instance.",
  },
  {
    group: "http",
    title: "HTTP server metrics",
    intro:
      "Fed by the HTTP metrics middleware of the flow server (or of an embedding app's Hono app). Conventional names, without the namespace.",
  },
  {
    group: "resources",
    title: "Resource metrics",
    intro:
      "Sampled by the resource tracker on an interval (default 5 s). A source the runtime cannot read (no /proc off Linux; Deno without `-A`) is left out, never exported as 0. The `process_*` names are the conventional ones, without the namespace.",
  },
  {
    group: "history",
    title: "Metric history metrics",
    intro:
      "Exported while the metric history samples this collector (`weir serve` by default; `History.attach()` in an embedding app): its sampler and its store.",
  },
  {
    group: "remote_write",
    title: "Remote write metrics",
    intro:
      "Exported for each remote write destination (the `remoteWrite` list of the config file), named as Prometheus's own sender's where they fit.",
  },
  {
    group: "component",
    title: "Component metrics",
    intro:
      "Declared by built-in components (their `meters`) and exported for each process of a tracked flow that uses the component, from its start: `flow` and `process` say which. An operator's own components may declare more (see the README); they are exported the same way but not listed here.",
  },
  {
    group: "self",
    title: "The collector's own metrics",
    intro: "How the metrics themselves are doing.",
  },
];

/**
 * The text of `METRICS.md`: the catalogue, and the meters that
 * `components` (the built-ins, by `npm run metrics:doc`) declare.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metricsMarkdown } from "./metrics_doc.ts";
 *
 * assert.deepEqual(metricsMarkdown().startsWith("# weir metrics"), true);
 * ```
 */
export function metricsMarkdown(
  components: Iterable<Component> = [],
): string {
  const ns = "weir";
  const usedBy = new Map<
    string,
    { spec: Component["meters"][number]; by: string[] }
  >();
  for (const c of components) {
    for (const m of c.meters) {
      const u = usedBy.get(m.name) ?? { spec: m, by: [] };
      if (!u.by.includes(c.name)) u.by.push(c.name);
      usedBy.set(m.name, u);
    }
  }
  const all: MetricDef[] = [
    ...CATALOGUE,
    ...[...usedBy.values()].sort((a, b) => a.spec.name < b.spec.name ? -1 : 1)
      .map((u) => meterDef(u.spec, u.by.sort())),
  ];
  const lines: string[] = [
    "# weir metrics",
    "",
    "<!-- Generated from src/metrics/catalogue.ts and the built-in components' meters by `npm run metrics:doc`; do not edit by hand. -->",
    "",
    "Every metric weir exports on `GET /metrics`, with its type, labels, and when it moves.",
    "",
    "- **Namespace.** Names start with the namespace, `weir` by default (option `namespace`; for the weir command `--metrics-namespace` or `WEIR_METRICS_NAMESPACE`), except the conventional names other exporters share (`http_*`, `process_*`).",
    "- **When values are read.** The collector reads each tracked flow's statistics when a scrape asks. Messages never touch prom-client, and a scrape costs nothing between scrapes.",
    "- **Label values are bounded** by the size of the graphs: flow, process and port names (a flow id and a process name at most 128 characters each; `Outer/Inner` inside a subgraph joins them), and the fixed sets listed below. They are never a message id, topic or payload.",
    `- **Series cap.** One metric holds at most \`maxSeriesPerMetric\` series (label sets; default ${
      DEFAULT_MAX_SERIES_PER_METRIC.toLocaleString("en-US")
    }). Series past the cap are left out and counted in \`${ns}_metrics_series_refused_total\`.`,
    "- **Constant labels.** The option `constLabels` (e.g. `instance`) adds labels to every series. Their names may not clash with the labels below.",
    "- **Series lifetime.** A flow's series appear when the flow is tracked and are gone from the next scrape after it is removed. A flow created again starts its counters from 0, which Prometheus's `rate()` handles as a reset.",
    "- **Histograms** share one bucket list (option `buckets`; default 10 µs to 10 s). The collector exports the engine's own bucket counts.",
    "- **Nothing is faked.** A value that is not known yet, such as the time of the last error before any error, is left out rather than exported as 0.",
    "",
    "| metric | type | labels |",
    "|---|---|---|",
  ];
  for (const d of all) {
    lines.push(
      `| [\`${fullName(d, ns)}\`](#${anchor(fullName(d, ns))}) | ${d.type} | ${
        d.labels.map((l) => l.name).join(", ")
      } |`,
    );
  }
  for (const g of GROUPS) {
    const defs = all.filter((x) => x.group === g.group);
    if (defs.length === 0) continue;
    lines.push("", `## ${g.title}`, "", g.intro);
    for (const d of defs) {
      lines.push(
        "",
        `### ${fullName(d, ns)}`,
        "",
        d.help,
        "",
        `- Type: ${d.type}${d.unit ? `, in ${d.unit}` : ""}.`,
        `- Labels: ${
          d.labels.length === 0
            ? "none."
            : d.labels.map((l) =>
              `\`${l.name}\` (${l.help}${
                l.values
                  ? `; one of ${l.values.map((v) => `\`${v}\``).join(", ")}`
                  : ""
              })`
            ).join("; ") + "."
        }`,
        `- When it moves: ${d.moves}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^a-z0-9_ -]/g, "").replace(/ /g, "-");
}
