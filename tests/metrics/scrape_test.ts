/**
 * Scrape scheduling: users' collects that fail or hang are left out and
 * counted, under one deadline per scrape.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Gauge } from "prom-client";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import {} from "../engine/_helpers.ts";
import { parseExposition, valueOf } from "./_exposition.ts";
import { N } from "./_fixtures.ts";

test("a user collect that rejects asynchronously is left out and counted, and the scrape answers in both formats", async () => {
  const m = new MetricsCollector();
  new Gauge({
    name: "app_flaky",
    help: "Rejects later.",
    registers: [m.registry],
    async collect() {
      await Promise.resolve();
      throw new Error("sensor gone");
    },
  });
  const text = parseExposition(await m.render("text"));
  assert.equal(text.types.has("app_flaky"), false);
  const om = await m.render("openmetrics");
  assert.ok(om.endsWith("\n# EOF\n"));
  assert.equal(om.includes("\n\n"), false);
  assert.equal(
    valueOf(parseExposition(om), N("metricsCollectionErrors"), {
      collector: "app_flaky",
    }),
    2,
  );
});

test("several hung user collects hold a scrape for about collectTimeoutMs, not once per metric", async () => {
  // Prometheus's scrape_timeout is 10 s by default and collectTimeoutMs
  // 5 s: if each hung metric waits its own 5 s, two of them fail every
  // scrape, and with it every weir metric.
  const timeout = 100;
  const m = new MetricsCollector({ collectTimeoutMs: timeout });
  for (let i = 0; i < 5; i++) {
    new Gauge({
      name: `app_hung_${i}`,
      help: "Never answers.",
      registers: [m.registry],
      collect: () => new Promise<void>(() => {}),
    });
  }
  const t0 = performance.now();
  const e = parseExposition(await m.render("text"));
  const took = performance.now() - t0;
  for (let i = 0; i < 5; i++) {
    assert.equal(
      valueOf(e, N("metricsCollectionErrors"), { collector: `app_hung_${i}` }),
      1,
    );
  }
  assert.ok(took < 3 * timeout, `the scrape took ${Math.round(took)} ms`);
});
