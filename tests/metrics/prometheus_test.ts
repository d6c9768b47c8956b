/**
 * weir's exposition against the real tools: `promtool check metrics` and a
 * Prometheus server scraping a running weir (Debian's `prometheus` package;
 * skipped on a laptop without it, mandatory in CI).
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createNetwork } from "../../src/embed.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { builtins } from "../../src/components/mod.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";
import {
  integrationSkip,
  promtoolCheck,
  serveRecording,
  startPrometheus,
} from "../_prometheus.ts";
import { ODD_FLOW, ODD_SINK, oddFlow, userMetrics } from "./_fixtures.ts";

/** A running flow that moves every kind of metric: errors, a breaker, drops. */
function busyFlow(name: string) {
  const registry = builtins().register(defineComponent({
    name: "test/Flaky",
    description: "Fails one message in three.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if ((v as number) % 3 === 0) throw new Error("flaky");
      ctx.send("out", v);
    },
  }));
  const net = createNetwork(
    `
    '2ms' -> interval Tick(core/Interval)
    '$ * 2' -> expr Double(flow/Map)
    Tick out -> (5) in Double out -> in Flaky(test/Flaky) out -> in Sink(core/Drop)
    Flaky error -> in Errors(core/Drop)
    Tick out -> in Slow(core/Delay)
    '50ms' -> delay Slow
    Slow out -> in Sink2(core/Drop)
    `,
    { name, registry },
  );
  net.on("error", () => {});
  return net;
}

test("promtool check metrics passes on the text exposition of a busy flow", {
  skip: integrationSkip("promtool"),
}, async () => {
  const metrics = new MetricsCollector({ constLabels: { instance: "ci" } });
  const net = busyFlow("busy");
  metrics.track(net);
  metrics.recordFlowOperation("start", "success");
  metrics.wrapProcess(() => 1, { flow: "outside", process: "fn" })();
  await net.start();
  try {
    await new Promise((r) => setTimeout(r, 200));
    const text = await metrics.render("text");
    assert.match(
      text,
      /weir_process_errors_total\{flow="busy",process="Flaky",kind="exception",instance="ci"\} [1-9]/,
    );
    const { ok, output } = await promtoolCheck(text);
    assert.equal(output, "");
    assert.equal(ok, true);
  } finally {
    await net.stop();
  }
});

test(
  "a real Prometheus scrapes a running weir: up is 1 and every process's message rate is above 0",
  {
    skip: integrationSkip("prometheus"),
    timeout: 30_000,
  },
  async () => {
    const metrics = new MetricsCollector();
    const net = createNetwork(
      `
    '5ms' -> interval Tick(core/Interval)
    '$ + 1' -> expr Inc(flow/Map)
    Tick out -> in Inc out -> in Sink(core/Drop)
    `,
      { name: "live" },
    );
    metrics.track(net);
    await net.start();
    const { server, contentTypes: served } = await serveRecording(
      metricsApp(metrics).fetch,
    );
    const prometheus = await startPrometheus({
      targets: [`127.0.0.1:${server.port}`],
      scrapeIntervalSeconds: 1,
    });
    try {
      await prometheus.waitFor(async () => {
        const r = await prometheus.query('count_over_time(up{job="weir"}[1m])');
        return r.length === 1 && r[0].value >= 3;
      }, { timeoutMs: 20_000, what: "three scrapes of weir" });
      const up = await prometheus.query('up{job="weir"}');
      assert.equal(up.length, 1);
      assert.equal(up[0].value, 1);
      const rates = await prometheus.query(
        'sum by (process) (rate(weir_process_messages_total{flow="live"}[5s]))',
      );
      const byProcess = Object.fromEntries(
        rates.map((r) => [r.metric.process, r.value]),
      );
      assert.deepEqual(Object.keys(byProcess).sort(), ["Inc", "Sink", "Tick"]);
      for (const [process, rate] of Object.entries(byProcess)) {
        assert.ok(rate > 0, `rate of ${process} is ${rate}`);
      }
      // Prometheus 2.42 asks for OpenMetrics first, so what it parsed was that.
      assert.ok(served.length >= 3);
      assert.ok(
        served.every((t) =>
          t.startsWith("application/openmetrics-text; version=1.0.0")
        ),
        served.join(", "),
      );
    } finally {
      await prometheus.stop();
      await server.close();
      await net.stop();
    }
  },
);

test(
  "a real Prometheus scrapes the OpenMetrics of odd names and user metrics of every type, and finds the odd flow",
  {
    skip: integrationSkip("prometheus"),
    timeout: 30_000,
  },
  async () => {
    const m = new MetricsCollector({ constLabels: { site: 'a "b"\\c' } });
    userMetrics(m);
    m.track(await oddFlow());
    const { server, contentTypes: served } = await serveRecording(
      metricsApp(m).fetch,
    );
    const prometheus = await startPrometheus({
      targets: [`127.0.0.1:${server.port}`],
      scrapeIntervalSeconds: 1,
    });
    try {
      await prometheus.waitFor(async () => {
        const r = await prometheus.query('up{job="weir"}');
        return r.length === 1;
      }, { timeoutMs: 20_000, what: "a scrape of weir" });
      const up = await prometheus.query('up{job="weir"}');
      assert.equal(up[0].value, 1, prometheus.logTail());
      assert.ok(
        served.some((t) => t.startsWith("application/openmetrics-text")),
      );
      const odd = await prometheus.query(
        `weir_process_messages_total{flow=${JSON.stringify(ODD_FLOW)},process=${
          JSON.stringify(ODD_SINK)
        },direction="in"}`,
      );
      assert.equal(odd.length, 1);
      assert.equal(odd[0].value, 3);
      assert.equal(odd[0].metric.site, 'a "b"\\c');
      const summary = await prometheus.query(
        'app_payload_bytes{quantile="0.5"}',
      );
      assert.equal(summary.length, 1);
      const retries = await prometheus.query("app_retries_total");
      assert.equal(retries[0]?.value, 1);
    } finally {
      await prometheus.stop();
      await server.close();
    }
  },
);
