/**
 * The prom-client bridge: the collector's registry seen through prom-
 * client's own API.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { parseExposition, samplesOf, valueOf } from "./_exposition.ts";
import { N, sinks, userMetrics } from "./_fixtures.ts";

test("prom-client's registry.metrics() counts a flow whose statistics throw once, like a scrape", async () => {
  const m = new MetricsCollector();
  const net = sinks(1, "broken");
  m.track(net);
  net.stats = () => {
    throw new Error("corrupt");
  };
  await m.registry.metrics();
  const e = parseExposition(await m.render("text"));
  // Two reads of the metrics, each failing once for this one flow.
  assert.equal(
    valueOf(e, N("metricsCollectionErrors"), { collector: "engine" }),
    2,
  );
});

test("labels set with registry.setDefaultLabels() are in the rendered exposition, as in registry.metrics()", async () => {
  const m = new MetricsCollector();
  userMetrics(m);
  m.registry.setDefaultLabels({ app: "gateway" });
  const reference = parseExposition(await m.registry.metrics());
  assert.equal(valueOf(reference, "app_temperature_celsius"), 21.5);
  assert.equal(
    samplesOf(reference, "app_temperature_celsius")[0].labels.app,
    "gateway",
  );
  const e = parseExposition(await m.render("text"));
  for (const s of e.samples) assert.equal(s.labels.app, "gateway", s.name);
});

test("src/metrics/_prom.ts is the only source file that imports prom-client (with the types of the one module of it that it loads)", () => {
  const src = new URL("../../src/", import.meta.url);
  const importers: string[] = [];
  const walk = (dir: URL) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const url = new URL(e.name + (e.isDirectory() ? "/" : ""), dir);
      if (e.isDirectory()) walk(url);
      else if (e.name.endsWith(".ts")) {
        const text = readFileSync(url, "utf8");
        if (
          /from\s+["'](npm:)?prom-client(@[^"'/]*)?(\/[^"']*)?["']/.test(text)
        ) {
          importers.push(url.pathname.slice(src.pathname.length));
        }
      }
    }
  };
  walk(src);
  assert.deepEqual(importers.sort(), [
    "metrics/_prom.ts",
    "metrics/_prom_registry.d.ts",
  ]);
});
