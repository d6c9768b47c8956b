import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Component,
  defineComponent,
  type Meter,
  type MeterSpec,
  Network,
  Registry,
} from "../../src/engine/mod.ts";
import { Gauge, Histogram } from "prom-client";
import { WEIR_METRIC_NAMES } from "../../src/engine/meters.ts";
import { MetricsCollector } from "../../src/metrics/mod.ts";
import { metricsMarkdown } from "../../src/metrics/metrics_doc.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";

const MESSAGES: MeterSpec = {
  name: "demo_messages_total",
  type: "counter",
  help: "Messages the demo connector moved.",
  moves: "per message",
  labels: [{ name: "direction", help: "in or out", values: ["in", "out"] }],
};
const CONNECTED: MeterSpec = {
  name: "demo_connected",
  type: "gauge",
  help: "1 while connected, else 0.",
  moves: "on connect and disconnect",
};

interface State {
  msgs: Meter;
}

const Connector = defineComponent({
  name: "demo/Connector",
  description: "Counts what it receives and says it is connected.",
  inPorts: { in: {} },
  meters: [MESSAGES, CONNECTED],
  setup(ctx): State {
    ctx.meter("demo_connected").set(1);
    ctx.meter("demo_messages_total", { direction: "out" });
    return { msgs: ctx.meter("demo_messages_total", { direction: "in" }) };
  },
  process(_v, ctx) {
    ctx.state.msgs.add();
  },
});

function network(
  name: string,
  n: number,
  component: Component = Connector,
): Network {
  return new Network({
    name,
    processes: [{ name: "conn", component }],
    connections: [],
    initials: Array.from({ length: n }, (_, i) => ({
      data: i,
      to: { process: "conn", port: "in" },
    })),
  });
}

test(
  "a component's meters are exported with flow and process labels, and pass promtool",
  {
    skip: integrationSkip("promtool"),
  },
  async () => {
    const collector = new MetricsCollector();
    const a = network("a", 3);
    const b = network("b", 1);
    collector.track(a);
    collector.track(b);
    await a.start();
    await b.start();
    await Promise.all([a.finished, b.finished]);
    const text = await collector.render();
    assert.match(text, /# TYPE weir_demo_messages_total counter/);
    assert.match(
      text,
      /weir_demo_messages_total\{flow="a",process="conn",direction="in"\} 3\n/,
    );
    assert.match(
      text,
      /weir_demo_messages_total\{flow="a",process="conn",direction="out"\} 0\n/,
    );
    assert.match(
      text,
      /weir_demo_messages_total\{flow="b",process="conn",direction="in"\} 1\n/,
    );
    assert.match(text, /weir_demo_connected\{flow="b",process="conn"\} 1\n/);
    const { ok, output } = await promtoolCheck(text);
    assert.equal(ok, true, output);
    // Gone with the flow.
    collector.untrack("a");
    const after = await collector.render();
    assert.doesNotMatch(after, /flow="a"/);
    assert.match(after, /flow="b",process="conn",direction="in"\} 1/);
  },
);

test("meters reach the metric history's sampling pass too", async () => {
  const collector = new MetricsCollector();
  const net = network("f", 2);
  collector.track(net);
  await net.start();
  await net.finished;
  const seen: string[] = [];
  let family = "";
  await collector.sample({
    family(name) {
      family = name;
    },
    add(_suffix, labels, _text, value) {
      if (family === "weir_demo_messages_total") {
        seen.push(`${labels.direction}=${value}`);
      }
    },
  });
  assert.deepEqual(seen.sort(), ["in=2", "out=0"]);
});

test("a label value outside the declared set, or an undeclared meter, is refused", async () => {
  const errors: string[] = [];
  const Bad = defineComponent({
    name: "demo/Bad",
    description: "Asks for a label value it did not declare.",
    inPorts: { in: {} },
    meters: [MESSAGES],
    process(_v, ctx) {
      try {
        ctx.meter("demo_messages_total", { direction: "sideways" });
      } catch (e) {
        errors.push((e as Error).message);
      }
      try {
        ctx.meter("demo_topic_total");
      } catch (e) {
        errors.push((e as Error).message);
      }
    },
  });
  const net = network("x", 1, Bad);
  await net.start();
  await net.finished;
  assert.match(
    errors[0],
    /label "direction" must be one of "in", "out", received "sideways"/,
  );
  assert.match(
    errors[1],
    /no meter "demo_topic_total"; it declares "demo_messages_total"/,
  );
});

test("bad meter declarations are refused when the component is defined", () => {
  const base = { description: "x", process() {} };
  assert.throws(
    () =>
      defineComponent({
        ...base,
        name: "x/A",
        meters: [{ ...MESSAGES, name: "demo_messages" }],
      }),
    /counter "demo_messages" must end in _total/,
  );
  assert.throws(
    () =>
      defineComponent({
        ...base,
        name: "x/B",
        meters: [{
          ...CONNECTED,
          labels: [{ name: "topic", help: "t", values: [] }],
        }],
      }),
    /label "topic" needs its fixed set of values/,
  );
  assert.throws(
    () =>
      defineComponent({
        ...base,
        name: "x/C",
        meters: [{
          ...CONNECTED,
          labels: [{ name: "flow", help: "f", values: ["a"] }],
        }],
      }),
    /label "flow" is reserved/,
  );
  assert.throws(
    () =>
      defineComponent({
        ...base,
        name: "x/D",
        meters: [{ ...CONNECTED, name: "wait_seconds", unit: "bytes" }],
      }),
    /must end in _bytes/,
  );
});

test("a meter named as one of weir's own metrics is refused when the component is defined, with a name to use", () => {
  const base = { description: "x", inPorts: { in: {} }, process() {} };
  // Left out of the exposition, its values silently lost, before.
  assert.throws(
    () =>
      defineComponent({
        ...base,
        name: "shop/Count",
        meters: [{ ...MESSAGES, name: "process_messages_total" }],
      }),
    {
      name: "TypeError",
      message:
        `Cannot define component "shop/Count": meter "process_messages_total" has the name of weir's own metric <namespace>_process_messages_total (weir_process_messages_total in METRICS.md), so its series could never be exported; give it a name of its own, e.g. "shop_process_messages_total"`,
    },
  );
  assert.throws(
    () =>
      defineComponent({
        ...base,
        name: "shop/Lag",
        meters: [{ ...CONNECTED, name: "network_latency_seconds_count" }],
      }),
    /meter "network_latency_seconds_count" would clash with weir's own metric <namespace>_network_latency_seconds /,
  );
  // A counter x_total is family x in OpenMetrics: weir_flows_active's.
  assert.throws(
    () =>
      defineComponent({
        ...base,
        name: "shop/Flows",
        meters: [{ ...MESSAGES, name: "flows_active_total" }],
      }),
    /meter "flows_active_total" would clash with weir's own metric <namespace>_flows_active /,
  );
  // A gauge ending in _count beside a weir gauge takes no series of it.
  defineComponent({
    ...base,
    name: "shop/Depth",
    meters: [{ ...CONNECTED, name: "process_queue_depth_count" }],
  });
});

test("the meter names refused as weir's own are every metric METRICS.md lists outside the components' meters", () => {
  const rows = [
    ...metricsMarkdown().matchAll(
      /^\| \[`weir_([a-z0-9_]+)`\]\(#[a-z0-9_]+\) \| (counter|gauge|histogram) \|/gm,
    ),
  ].map(([, name, type]) => [name, type]);
  assert.ok(rows.length > 40);
  assert.deepEqual(
    Object.fromEntries(rows.sort()),
    Object.fromEntries(Object.entries(WEIR_METRIC_NAMES).sort()),
  );
});

test("two components sharing a meter name must declare it alike", () => {
  const base = { description: "x", process() {} };
  const registry = new Registry().register(Connector);
  const same = defineComponent({
    ...base,
    name: "demo/Other",
    meters: [MESSAGES],
  });
  registry.register(same);
  const differs = defineComponent({
    ...base,
    name: "demo/Differs",
    meters: [{ ...MESSAGES, help: "Something else." }],
  });
  assert.throws(
    () => registry.register(differs),
    /meter "demo_messages_total" differs from the one "demo\/Connector" declares/,
  );
});

test("a meter clashing with another flow's declaration is left out and counted, and the flow still runs", async () => {
  const collector = new MetricsCollector();
  const Clash = defineComponent({
    name: "demo/Clash",
    description: "Declares demo_connected as something else.",
    inPorts: { in: {} },
    meters: [{ ...CONNECTED, help: "Another meaning." }],
    setup: (ctx): { c: Meter } => ({ c: ctx.meter("demo_connected") }),
    process(_v, ctx) {
      ctx.state.c.set(7);
    },
  });
  const a = network("a", 1);
  const b = network("b", 1, Clash);
  collector.track(a);
  collector.track(b);
  await a.start();
  await b.start();
  await Promise.all([a.finished, b.finished]);
  const text = await collector.render();
  assert.match(text, /# HELP weir_demo_connected 1 while connected, else 0\./);
  assert.match(
    text,
    /weir_metrics_collection_errors_total\{collector="meters"\} 1/,
  );
});

test("meter series past the series cap are left out and counted", async () => {
  const collector = new MetricsCollector({ maxSeriesPerMetric: 2 });
  const nets = ["a", "b", "c"].map((n) => network(n, 1));
  for (const n of nets) collector.track(n);
  for (const n of nets) await n.start();
  await Promise.all(nets.map((n) => n.finished));
  const text = await collector.render();
  assert.equal(text.match(/^weir_demo_connected\{/gm)?.length, 2);
  assert.match(
    text,
    /weir_metrics_series_refused_total\{metric="weir_demo_connected"\} 1/,
  );
});

test("METRICS.md documents the meters of the components it is given, with who declares them", () => {
  const doc = metricsMarkdown([Connector]);
  assert.match(
    doc,
    /\| \[`weir_demo_messages_total`\]\(#weir_demo_messages_total\) \| counter \| flow, process, direction \|/,
  );
  assert.match(doc, /## Component metrics/);
  assert.match(
    doc,
    /- When it moves: per message\. Declared by `demo\/Connector`\./,
  );
  assert.doesNotMatch(metricsMarkdown(), /## Component metrics/);
});

test(
  "a meter whose exposition would clash with another metric's (a counter x_total beside a gauge x, a gauge named as a histogram's _count) is left out and counted, and /metrics stays valid",
  { skip: integrationSkip("promtool") },
  async () => {
    const collector = new MetricsCollector();
    // The app's own metrics: weir's are refused at defineComponent already.
    new Histogram({
      name: "weir_app_wait_seconds",
      help: "Waits.",
      registers: [collector.registry],
    });
    new Gauge({
      name: "weir_app_queue",
      help: "Queue.",
      registers: [collector.registry],
    });
    const meter = (
      name: string,
      meterName: string,
      type: "counter" | "gauge",
    ) =>
      defineComponent({
        name,
        description: "Declares a meter.",
        inPorts: { in: {} },
        meters: [{
          name: meterName,
          type,
          help: `Help of ${name}.`,
          moves: "per message",
        }],
        setup: (ctx): { m: Meter } => ({ m: ctx.meter(meterName) }),
        process(_v, ctx) {
          ctx.state.m.add();
        },
      });
    const nets = [
      // The app's: a histogram's sample and a gauge's OpenMetrics family.
      network("a", 1, meter("ops/A", "app_wait_seconds_count", "gauge")),
      network("b", 1, meter("ops/B", "app_queue_total", "counter")),
      // One operator meter against another: the first one stays.
      network("c", 1, meter("ops/C", "ops_things_total", "counter")),
      network("d", 1, meter("ops/D", "ops_things", "gauge")),
    ];
    for (const n of nets) collector.track(n);
    for (const n of nets) await n.start();
    await Promise.all(nets.map((n) => n.finished));
    const text = await collector.render();
    assert.match(
      text,
      /weir_metrics_collection_errors_total\{collector="meters"\} 3/,
    );
    assert.match(text, /^weir_ops_things_total\{flow="c",process="conn"\} 1$/m);
    assert.doesNotMatch(text, /^weir_ops_things\{/m);
    assert.doesNotMatch(text, /^weir_app_queue_total/m);
    assert.doesNotMatch(text, /^# TYPE weir_app_wait_seconds_count /m);
    const { ok, output } = await promtoolCheck(text);
    assert.ok(ok, output);
    const om = await collector.render("openmetrics");
    assert.equal(
      new Set(om.match(/^# TYPE \S+/gm)).size,
      om.match(/^# TYPE \S+/gm)!.length,
      "one TYPE line per family",
    );
  },
);
