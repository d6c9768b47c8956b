/**
 * Scrape scheduling: users' collects that fail or hang are left out and
 * counted, under one deadline per scrape.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Gauge } from "prom-client";
import { createNetwork } from "../../src/embed.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { Family, WRITE_PART } from "../../src/metrics/family.ts";
import { TextWriter } from "../../src/metrics/text_writer.ts";
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

test("a family of one big flow is written in parts, each asked for, to the same text as in one go", async () => {
  const processes = 3 * WRITE_PART + 10;
  let g = `'1s' -> interval P0(core/Interval)\n`;
  for (let i = 1; i < processes; i++) {
    g += `P${i - 1} out -> in P${i}(core/Repeat)\n`;
  }
  const m = new MetricsCollector();
  m.track(createNetwork(g, { name: "big" }));
  m.track(
    createNetwork("'1s' -> interval T(core/Interval)", { name: "small" }),
  );
  for (const name of [N("processStarts"), N("processProcessing")]) {
    const family = m.registry.getSingleMetric(name) as unknown as Family;
    assert.ok(family instanceof Family);
    // get() reads every flow's statistics, kept until the next microtask:
    // what follows runs before it.
    const done = family.get();
    {
      const whole = new TextWriter(false, {});
      family.write(whole);
      const parted = new TextWriter(false, {});
      let asked = 0;
      let stops = 0;
      for (
        const _ of family.writeParts(parted, () => {
          asked++;
          return asked % 2 === 1;
        })
      ) stops++;
      // 4 parts of "big", then 1 of "small": asked between each two.
      assert.equal(asked, 4, name);
      assert.equal(stops, 2, name);
      assert.equal(parted.text(), whole.text(), name);
      const lines = whole.text().split("\n").filter((l) =>
        l.includes('process="P') && !l.startsWith("#")
      );
      assert.ok(lines.length >= processes, `${name}: ${lines.length} lines`);
      assert.ok(whole.text().includes('flow="small"'), name);
    }
    await done;
  }
});

test("a flow untracked or tracked while a scrape pauses inside a family changes nothing in that scrape: no sample twice, none lost", async () => {
  const m = new MetricsCollector();
  m.track(createNetwork("'1s' -> interval P(core/Interval)", { name: "X" }));
  m.track(createNetwork("'1s' -> interval P(core/Interval)", { name: "Y" }));
  // A wrapped function of X's process P adds into X's own series.
  const wrapped = m.wrapProcess((s: string) => s.length, {
    flow: "X",
    process: "P",
  });
  wrapped("abc");
  const family = m.registry.getSingleMetric(
    N("processProcessing"),
  ) as unknown as Family;
  const writeParts = family.writeParts.bind(family);
  let pauses = 0;
  // Pause between every two parts, and change the tracked flows there.
  family.writeParts = function* (writer) {
    for (const _ of writeParts(writer, () => true)) {
      if (pauses++ === 0) {
        m.untrack("X");
        m.track(
          createNetwork("'1s' -> interval P(core/Interval)", { name: "Z" }),
        );
      }
      yield;
    }
  };
  const text = await m.render();
  assert.ok(pauses >= 2, `paused ${pauses} times`);
  const count = (flow: string) =>
    text.split("\n").filter((l) =>
      l.startsWith(`${N("processProcessing")}_count{flow="${flow}"`)
    );
  assert.equal(count("X").length, 1, count("X").join("\n"));
  // X's series holds the wrapped call: 1 beside its own activations.
  assert.equal(count("Y").length, 1);
  assert.equal(count("Z").length, 0, "Z came after the scrape began");
  // Every other family of the same scrape agrees: X in, Z out.
  assert.ok(text.includes(`${N("processStarts")}{flow="X",process="P"}`));
  assert.ok(!text.includes('flow="Z"'));
  // The next scrape sees the change.
  const next = await m.render();
  assert.equal(
    next.split("\n").filter((l) =>
      l.startsWith(`${N("processProcessing")}_count{flow="X"`)
    ).length,
    1,
    "the wrapped function's own series, now X is gone",
  );
  assert.ok(next.includes('flow="Z"'));
});
