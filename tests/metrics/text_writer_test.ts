/**
 * The exposition text: escaping, format validity in text 0.0.4 and
 * OpenMetrics, and users' prom-client metrics written as prom-client
 * writes them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import { RESOURCE_METRICS } from "../../src/metrics/catalogue.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";
import { parseExposition, parseFamilies, valueOf } from "./_exposition.ts";
import {
  N,
  ODD_FLOW,
  ODD_SINK,
  ODD_SOURCE,
  oddFlow,
  userMetrics,
} from "./_fixtures.ts";

test("flow and process names with quotes, backslashes, newlines and unicode read back unchanged from the text exposition", async () => {
  const m = new MetricsCollector();
  m.track(await oddFlow());
  const e = parseExposition(await m.render("text"));
  const sent = valueOf(e, N("processMessages"), {
    flow: ODD_FLOW,
    process: ODD_SOURCE,
    port: "out",
    direction: "out",
  });
  const taken = valueOf(e, N("processMessages"), {
    flow: ODD_FLOW,
    process: ODD_SINK,
    direction: "in",
  });
  assert.equal(sent, 3);
  assert.equal(taken, 3);
});

test("the text exposition of odd names is exactly prom-client's own formatting of it", async () => {
  const m = new MetricsCollector({ constLabels: { site: "a\nb\\c" } });
  m.track(await oddFlow());
  m.wrapProcess(() => 0, { flow: ODD_FLOW + "!", process: 'w"' })();
  const ours = await m.render("text");
  const reference = await m.registry.metrics();
  const families = (t: string) =>
    t.split("\n\n").map((f) => f.trim()).filter((f) => f !== "").sort();
  assert.deepEqual(families(ours), families(reference));
});

test(
  "promtool accepts the text exposition of odd names, constant labels and user metrics of every type",
  {
    skip: integrationSkip("promtool"),
  },
  async () => {
    const m = new MetricsCollector({ constLabels: { instance: 'gw "7"' } });
    userMetrics(m, false);
    m.track(await oddFlow());
    m.recordFlowOperation("create", "success");
    const { ok, output } = await promtoolCheck(await m.render("text"));
    assert.ok(ok, output);
  },
);

test("OpenMetrics with user metrics of every type has no blank line and ends with one # EOF", async () => {
  const m = new MetricsCollector({ constLabels: { instance: "gw-7" } });
  userMetrics(m);
  m.track(await oddFlow());
  const text = await m.render("openmetrics");
  assert.equal(text.includes("\n\n"), false);
  assert.ok(text.endsWith("\n# EOF\n"));
  assert.equal(text.indexOf("# EOF"), text.length - "# EOF\n".length);
});

test("every family's samples are contiguous and under one # TYPE, in both formats", async () => {
  const m = new MetricsCollector();
  userMetrics(m);
  m.track(await oddFlow());
  for (const format of ["text", "openmetrics"] as const) {
    const text = await m.render(format);
    const typed = new Set<string>();
    for (const line of text.split("\n")) {
      const t = /^# TYPE (\S+) /.exec(line);
      if (t) {
        assert.equal(typed.has(t[1]), false, `${format}: ${t[1]} typed twice`);
        typed.add(t[1]);
      }
    }
    // parseFamilies() starts a new family at each # TYPE, so a sample
    // written away from its family would land under another name.
    for (const f of parseFamilies(text)) {
      for (const s of f.samples) {
        assert.ok(
          s.name === f.name || s.name.startsWith(`${f.name}_`),
          `${format}: sample ${s.name} written under family ${f.name}`,
        );
      }
    }
  }
});

test("in OpenMetrics a user counter registered without _total is one family whose sample ends in _total", async () => {
  const m = new MetricsCollector();
  userMetrics(m);
  const e = parseExposition(await m.render("openmetrics"));
  assert.equal(e.types.get("app_retries"), "counter");
  assert.equal(valueOf(e, "app_retries_total"), 1);
  assert.equal(e.types.get("app_jobs"), "counter");
  assert.equal(valueOf(e, "app_jobs_total", { queue: 'q"1\\' }), 3);
});

test("every histogram's buckets ascend and +Inf equals _count, in both formats", async () => {
  const m = new MetricsCollector();
  userMetrics(m);
  m.track(await oddFlow());
  m.wrapProcess(() => 0, { flow: "w", process: "w" })();
  for (const format of ["text", "openmetrics"] as const) {
    let checked = 0;
    for (const f of parseFamilies(await m.render(format))) {
      if (f.type !== "histogram") continue;
      const series = new Map<string, { le: string; v: number }[]>();
      const counts = new Map<string, number>();
      for (const s of f.samples) {
        const { le, ...rest } = s.labels;
        const key = JSON.stringify(rest);
        if (s.name === `${f.name}_bucket`) {
          if (!series.has(key)) series.set(key, []);
          series.get(key)!.push({ le, v: s.value });
        } else if (s.name === `${f.name}_count`) counts.set(key, s.value);
      }
      for (const [key, buckets] of series) {
        for (let i = 1; i < buckets.length; i++) {
          assert.ok(buckets[i].v >= buckets[i - 1].v, `${f.name} ${key}`);
          const le = (x: string) => x === "+Inf" ? Infinity : Number(x);
          assert.ok(le(buckets[i].le) > le(buckets[i - 1].le));
        }
        assert.equal(buckets.at(-1)!.le, "+Inf");
        assert.equal(buckets.at(-1)!.v, counts.get(key), `${f.name} ${key}`);
        checked++;
      }
    }
    assert.ok(checked > 5, `${format}: ${checked} histogram series checked`);
  }
});

test("constant labels are on every sample of user metrics of every type, in both formats", async () => {
  const m = new MetricsCollector({ constLabels: { instance: "gw-7" } });
  userMetrics(m);
  for (const format of ["text", "openmetrics"] as const) {
    const e = parseExposition(await m.render(format));
    const user = e.samples.filter((s) => s.name.startsWith("app_"));
    assert.ok(user.length >= 12, `${format}: ${user.length} user samples`);
    for (const s of user) assert.equal(s.labels.instance, "gw-7", s.name);
  }
});

// ---- users' metrics written as prom-client writes them ---------------------

/**
 * User metrics of every type, registered in `registries`: labelled and
 * unlabelled, a counter without `_total`, NaN and -Inf values, and (when
 * `exemplars`) a counter and a histogram with exemplars.
 */
function everyUserMetric(registries: Registry[], exemplars: boolean): void {
  const jobs = new Counter({
    name: "app_jobs_total",
    help: "Jobs\nin two lines \\ with a backslash.",
    labelNames: ["queue"],
    registers: registries,
    enableExemplars: exemplars,
  });
  // prom-client's own types lack the exemplar forms of inc() and observe().
  const withExemplar = (x: object) => x as never;
  if (exemplars) {
    jobs.inc(withExemplar({
      labels: { queue: 'q"1\\' },
      value: 3,
      exemplarLabels: { trace: "abc" },
    }));
  } else jobs.inc({ queue: 'q"1\\' }, 3);
  new Counter({ name: "app_retries", help: "R.", registers: registries })
    .inc();
  new Gauge({
    name: "app_nan",
    help: "N.",
    labelNames: ["x"],
    registers: registries,
  }).set({ x: "1" }, NaN);
  new Gauge({ name: "app_low", help: "L.", registers: registries })
    .set(-Infinity);
  const h = new Histogram({
    name: "app_request_seconds",
    help: "H.",
    labelNames: ["route"],
    buckets: [0.1, 1],
    registers: registries,
    enableExemplars: exemplars,
  });
  if (exemplars) {
    h.observe(withExemplar({
      labels: { route: "/a" },
      value: 0.05,
      exemplarLabels: { trace: "def" },
    }));
    h.observe(withExemplar({ labels: {}, value: 3, exemplarLabels: {} }));
  } else {
    h.observe({ route: "/a" }, 0.05);
    h.observe(3);
  }
  const s = new Summary({
    name: "app_payload_bytes",
    help: "S.",
    labelNames: ["kind"],
    percentiles: [0.5, 0.9],
    registers: registries,
  });
  s.observe({ kind: "json" }, 10);
  s.observe({ kind: "json" }, 20);
}

/** The families of an exposition whose name starts with `app_`, each whole. */
function appFamilies(text: string): string[] {
  const families: string[][] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line === "# EOF") continue;
    if (line.startsWith("# HELP ")) families.push([]);
    families.at(-1)!.push(line);
  }
  return families.map((f) => f.join("\n"))
    .filter((f) => f.startsWith("# HELP app_")).sort();
}

for (const format of ["text", "openmetrics"] as const) {
  for (
    const [labelled, constLabels] of [
      ["no constant labels", {}],
      ["constant labels", { site: 'a"b\\c' }],
    ] as const
  ) {
    test(`users' metrics of every type are written in ${format} exactly as prom-client writes them, with ${labelled}`, async () => {
      const om = format === "openmetrics";
      const m = new MetricsCollector({ constLabels });
      const reference = new Registry();
      if (om) {
        // prom-client takes exemplars only in OpenMetrics registries (and
        // types a registry for one content type).
        for (const r of [m.registry, reference]) {
          r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
        }
      }
      reference.setDefaultLabels({ ...constLabels });
      everyUserMetric([m.registry, reference], om);
      m.registry.setDefaultLabels({ ...constLabels, app: "gw" });
      reference.setDefaultLabels({ ...constLabels, app: "gw" });
      const ours = appFamilies(await m.render(format));
      // Last: prom-client's OpenMetrics renames its counters in place.
      const theirs = appFamilies(await reference.metrics());
      assert.equal(ours.length, 6);
      assert.deepEqual(ours, theirs);
    });
  }
}

test("a user metric's NaN is written Nan as prom-client writes it, and a NaN of weir's own NaN", async () => {
  const m = new MetricsCollector();
  new Gauge({ name: "app_nan", help: "N.", registers: [m.registry] }).set(NaN);
  m.addFamily(RESOURCE_METRICS.threads, (out) => out.sample({}, NaN));
  const text = await m.render("text");
  assert.ok(text.includes("\napp_nan Nan\n"), text);
  assert.ok(text.includes("\nweir_threads NaN\n"), text);
});
