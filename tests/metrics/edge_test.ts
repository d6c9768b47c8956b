/**
 * Adversarial tests of the metrics: odd names, the series cap at its edges,
 * flows tracked at every stage, user prom-client metrics of every type in
 * both formats, the process wrapper's corner cases, and `--metrics` on IPv6.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { Counter, Gauge, Histogram, Summary } from "prom-client";
import { CliError } from "../../src/cli/cli_error.ts";
import { main } from "../../src/cli/main.ts";
import { defineComponent } from "../../src/engine/component.ts";
import type { Network } from "../../src/engine/network.ts";
import { fullName, METRICS } from "../../src/metrics/catalogue.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";
import {
  integrationSkip,
  promtoolCheck,
  serveRecording,
  startPrometheus,
} from "../_prometheus.ts";
import {
  gated,
  network,
  overflowNet,
  sinkInto,
  sleep,
  sourceOf,
  until,
} from "../engine/_helpers.ts";
import {
  parseExposition,
  parseFamilies,
  samplesOf,
  valueOf,
} from "./_exposition.ts";

const N = (key: keyof typeof METRICS, ns = "weir") =>
  fullName(METRICS[key], ns);

const ODD_FLOW = 'fl"ow\\ with\nnewline ü 名 🚰';
const ODD_SOURCE = 'S"rc\\\n';
const ODD_SINK = "Outer/Inner";

/** A finished flow whose flow and process names need every escape. */
async function oddFlow(): Promise<Network> {
  const net = network(
    { [ODD_SOURCE]: sourceOf([1, 2, 3]), [ODD_SINK]: sinkInto([]) },
    [{
      from: { process: ODD_SOURCE, port: "out" },
      to: { process: ODD_SINK, port: "in" },
    }],
    { name: ODD_FLOW },
  );
  await net.start();
  await net.finished;
  return net;
}

/**
 * One user metric of every prom-client type, registered in `m`'s registry,
 * and a counter named without `_total` (which promtool's lint rejects).
 */
function userMetrics(m: MetricsCollector, withUnsuffixed = true): void {
  new Counter({
    name: "app_jobs_total",
    help: "Jobs.",
    labelNames: ["queue"],
    registers: [m.registry],
  }).inc({ queue: 'q"1\\' }, 3);
  if (withUnsuffixed) {
    new Counter({
      name: "app_retries",
      help: "A counter registered without _total.",
      registers: [m.registry],
    }).inc();
  }
  new Gauge({
    name: "app_temperature_celsius",
    help: "Temperature.",
    registers: [m.registry],
    collect() {
      this.set(21.5);
    },
  });
  const h = new Histogram({
    name: "app_request_seconds",
    help: "Requests.",
    buckets: [0.1, 1],
    registers: [m.registry],
  });
  h.observe(0.05);
  h.observe(3);
  const s = new Summary({
    name: "app_payload_bytes",
    help: "Payloads.",
    percentiles: [0.5, 0.9],
    registers: [m.registry],
  });
  s.observe(10);
  s.observe(20);
}

/** A collect that resolves after `ms`. */
function slowGauge(m: MetricsCollector, name: string, ms: number): void {
  new Gauge({
    name,
    help: "Slow to collect.",
    registers: [m.registry],
    async collect() {
      await sleep(ms);
      this.set(1);
    },
  });
}

// ---- escaping and format validity ------------------------------------

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

// ---- user collects that fail or hang -----------------------------------

test("a user collect that rejects asynchronously is left out and counted, and the scrape answers in both formats", async () => {
  const m = new MetricsCollector();
  new Gauge({
    name: "app_flaky",
    help: "Rejects later.",
    registers: [m.registry],
    async collect() {
      await sleep(1);
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

test("a collectTimeoutMs beyond what setTimeout can wait is refused, not clamped to 1 ms", () => {
  // The runtimes clamp a delay over 2^31-1 ms to 1 ms, which would time out
  // every collect of a user who meant "effectively never".
  assert.throws(
    () => new MetricsCollector({ collectTimeoutMs: 2 ** 31 }),
    /option "collectTimeoutMs": .*up to 2147483647 .*received 2147483648/,
  );
  const m = new MetricsCollector({ collectTimeoutMs: 2 ** 31 - 1 });
  assert.equal(m.options.collectTimeoutMs, 2 ** 31 - 1);
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

// ---- the series cap ------------------------------------------------------

/** A flow of `n` sinks and nothing else. */
function sinks(n: number, name = "sinks"): Network {
  const procs: Record<string, ReturnType<typeof sinkInto>> = {};
  for (let i = 0; i < n; i++) procs[`P${i}`] = sinkInto([]);
  return network(procs, [], { name });
}

test("a flow that needs exactly maxSeriesPerMetric series is admitted whole", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 5 });
  m.track(sinks(5));
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, N("processStarts")).length, 5);
  assert.equal(
    valueOf(e, N("metricsSeriesRefused"), { metric: N("processStarts") }),
    0,
  );
});

test("one series past maxSeriesPerMetric is refused and counted once", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 5 });
  m.track(sinks(6));
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, N("processStarts")).length, 5);
  assert.equal(
    valueOf(e, N("metricsSeriesRefused"), { metric: N("processStarts") }),
    1,
  );
});

test("tracking and untracking flows 1,000 times gives every place under the cap back", async () => {
  // sinks(3) needs 9 series of process_errors_total (3 kinds), its largest
  // family: exactly the cap.
  const m = new MetricsCollector({ maxSeriesPerMetric: 9 });
  for (let i = 0; i < 1000; i++) {
    const net = sinks(3, `churn-${i % 3}`);
    m.track(net);
    assert.equal(m.untrack(i % 2 === 0 ? net : net.name), true);
  }
  m.track(sinks(3, "last"));
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, N("processErrors")).length, 9);
  assert.deepEqual(m.flows, ["last"]);
  for (const s of samplesOf(e, N("metricsSeriesRefused"))) {
    assert.equal(s.value, 0, s.labels.metric);
  }
});

test("untracking a network that is not the tracked one of its name changes nothing", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 5 });
  const a = sinks(5, "same");
  m.track(a);
  assert.equal(m.untrack(sinks(5, "same")), false);
  assert.equal(m.untrack("other"), false);
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, N("processStarts"), { flow: "same" }).length, 5);
});

test("wrapped functions count against the series cap and are refused past it", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 2 });
  for (let i = 0; i < 3; i++) {
    m.wrapProcess(() => i, { flow: "w", process: `f${i}` })();
  }
  const e = parseExposition(await m.render("text"));
  const count = `${N("processProcessing")}_count`;
  assert.equal(samplesOf(e, count).length, 2);
  assert.equal(
    valueOf(e, N("metricsSeriesRefused"), { metric: N("processProcessing") }),
    1,
  );
});

test("a wrapped function whose tracked process was refused by the cap still exports its calls", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 1 });
  m.track(sinks(1, "first"));
  // The cap is full: the second flow's process series are refused.
  m.track(sinks(1, "second"));
  // Admitted under the cap (its own place), but it defers to the refused
  // series of the tracked process of the same labels.
  m.untrack("first");
  const fn = m.wrapProcess(() => 1, { flow: "second", process: "P0" });
  fn();
  fn();
  const e = parseExposition(await m.render("text"));
  assert.equal(
    valueOf(e, `${N("processProcessing")}_count`, {
      flow: "second",
      process: "P0",
    }),
    2,
  );
});

// ---- the registry's own view ------------------------------------------------

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

test("track() refuses something that is not a network with a TypeError that names the problem", () => {
  const m = new MetricsCollector();
  const track = m.track.bind(m) as (n: unknown) => void;
  for (const bad of [undefined, null, {}, { name: "x" }]) {
    assert.throws(() => track(bad), (e: unknown) => {
      assert.ok(e instanceof TypeError, String(e));
      assert.match(e.message, /^Cannot track/);
      return true;
    });
  }
  assert.deepEqual(m.flows, []);
});

// ---- flows at every stage of their life ------------------------------------

/** The label sets of weir's series, sorted, without values. */
function seriesOf(text: string): string[] {
  return parseExposition(text).samples
    .filter((s) => s.name.startsWith("weir_") && s.labels.flow !== undefined)
    .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
    .sort();
}

test("a flow tracked before start has the same series as one tracked after it finished", async () => {
  const before = new MetricsCollector();
  const net = network(
    { S: sourceOf([1, 2, 3]), K: sinkInto([]) },
    ["S.out>K.in"],
  );
  before.track(net);
  await net.start();
  await net.finished;
  const after = new MetricsCollector();
  after.track(net);
  assert.deepEqual(
    seriesOf(await before.render("text")),
    seriesOf(await after.render("text")),
  );
});

test("a flow tracked before start exports zero counts, then its messages once it ran", async () => {
  const m = new MetricsCollector();
  const net = network(
    { S: sourceOf([1, 2, 3]), K: sinkInto([]) },
    ["S.out>K.in"],
  );
  m.track(net);
  const idle = parseExposition(await m.render("text"));
  assert.equal(valueOf(idle, N("processStarts"), { process: "K" }), 0);
  assert.equal(valueOf(idle, N("flowsActive")), 0);
  await net.start();
  await net.finished;
  const e = parseExposition(await m.render("text"));
  assert.equal(valueOf(e, N("processStarts"), { process: "K" }), 1);
  assert.equal(
    valueOf(e, N("processMessages"), { process: "K", direction: "in" }),
    3,
  );
});

test("a running flow counts as active, and a stopped one keeps its counters until untracked", async () => {
  const m = new MetricsCollector();
  const g = gated();
  const net = network({ S: sourceOf([1, 2, 3]), G: g.component }, [
    "S.out>G.in",
  ]);
  m.track(net);
  await net.start();
  await until(() => net.stats().processes[1].activeActivations === 1);
  const running = parseExposition(await m.render("text"));
  assert.equal(valueOf(running, N("flowsActive")), 1);
  assert.equal(
    valueOf(running, N("processActiveActivations"), { process: "G" }),
    1,
  );
  g.open();
  await net.stop();
  const stopped = parseExposition(await m.render("text"));
  assert.equal(valueOf(stopped, N("flowsActive")), 0);
  assert.equal(valueOf(stopped, N("processStarts"), { process: "G" }), 1);
  assert.equal(valueOf(stopped, N("networkActiveProcesses")), 0);
});

test("two collectors tracking one network export the same counters", async () => {
  const a = new MetricsCollector();
  const b = new MetricsCollector({ namespace: "other" });
  const { net, open } = overflowNet("drop-oldest", []);
  a.track(net);
  b.track(net);
  await net.start();
  await until(() => net.stats().drops.drop_oldest > 0);
  open();
  await net.finished;
  const ea = parseExposition(await a.render("text"));
  const eb = parseExposition(await b.render("text"));
  for (const key of ["processMessages", "messagesDropped"] as const) {
    const left = samplesOf(ea, N(key)).map((s) => s.value);
    const right = samplesOf(eb, N(key, "other")).map((s) => s.value);
    assert.deepEqual(left, right, key);
  }
});

test("untracking a flow while a scrape waits on a slow user collect frees its places and drops it from the next scrape", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 3 });
  slowGauge(m, "app_slow", 20);
  const net = sinks(3, "leaving");
  m.track(net);
  const inFlight = m.render("text");
  await sleep(5);
  assert.equal(m.untrack(net), true);
  m.track(sinks(3, "arriving"));
  const first = parseExposition(await inFlight);
  assert.equal(valueOf(first, "app_slow"), 1);
  const next = parseExposition(await m.render("text"));
  assert.equal(
    samplesOf(next, N("processStarts"), { flow: "leaving" }).length,
    0,
  );
  assert.equal(
    samplesOf(next, N("processStarts"), { flow: "arriving" }).length,
    3,
  );
  assert.equal(
    valueOf(next, N("metricsSeriesRefused"), { metric: N("processStarts") }),
    0,
  );
});

test("drops into a process through an in-port whose name has a dot are exported under that process", async () => {
  const m = new MetricsCollector();
  const got: unknown[] = [];
  const { component: Gated, open } = gated(got);
  const Dotted = defineComponent({
    name: "test/DottedGate",
    description: "A gated sink whose in-port is named in.a.",
    inPorts: { "in.a": {} },
    process: Gated.process,
  });
  const Burst = defineComponent({
    name: "test/Burst",
    description: "Sends 0..9 in one activation.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(_v, ctx) {
      for (let i = 0; i < 10; i++) ctx.send("out", i);
    },
  });
  const net = network(
    { B: Burst, G: Dotted },
    [{
      from: { process: "B", port: "out" },
      to: { process: "G", port: "in.a" },
      capacity: 3,
      policy: "drop-oldest",
    }],
    {
      initials: [
        { data: "first", to: { process: "G", port: "in.a" } },
        { data: "go", to: { process: "B", port: "in" } },
      ],
    },
  );
  m.track(net);
  await net.start();
  await until(() => net.stats().drops.drop_oldest > 0);
  open();
  await net.finished;
  const engine = net.stats().processes.find((p) => p.name === "G")!;
  assert.ok(engine.drops.drop_oldest > 0);
  const e = parseExposition(await m.render("text"));
  assert.equal(
    valueOf(e, N("messagesDropped"), { process: "G", reason: "drop_oldest" }),
    engine.drops.drop_oldest,
  );
});

// ---- wrapProcess ---------------------------------------------------------

test("a wrapped function is called with the caller's this", () => {
  const m = new MetricsCollector();
  const obj = {
    base: 40,
    add: m.wrapProcess(function (this: { base: number }, n: number) {
      return this.base + n;
    }, { flow: "w", process: "add" }),
  };
  assert.equal(obj.add(2), 42);
});

test("a wrapped function that throws a non-Error rethrows that very value and counts it", async () => {
  const m = new MetricsCollector();
  const thrown = { code: 7 };
  const fn = m.wrapProcess(() => {
    throw thrown;
  }, { flow: "w", process: "t" });
  assert.throws(() => fn(), (e) => e === thrown);
  const rejects = m.wrapProcess(() => Promise.reject("no"), {
    flow: "w",
    process: "t",
  });
  await assert.rejects(rejects(), (e) => e === "no");
  const e = parseExposition(await m.render("text"));
  assert.equal(
    valueOf(e, N("processErrors"), { process: "t", kind: "exception" }),
    2,
  );
});

test("a wrapped async function that resolves to a thenable is timed until the thenable settles", async () => {
  const m = new MetricsCollector();
  const fn = m.wrapProcess(
    async () =>
      await {
        then(resolve: (v: number) => void) {
          setTimeout(() => resolve(5), 30);
        },
      },
    { flow: "w", process: "thenable" },
  );
  assert.equal(await fn(), 5);
  const e = parseExposition(await m.render("text"));
  const sum = valueOf(e, `${N("processProcessing")}_sum`, {
    process: "thenable",
  })!;
  assert.ok(sum >= 0.025, `timed ${sum} s`);
});

test("wrapping a function that returns a lazy thenable does not run it before the caller awaits", async () => {
  // Query builders (Knex, Mongoose, Drizzle) are thenables that run when
  // `then` is called; the caller chains more before awaiting, or never does.
  let runs = 0;
  const lazy = { then: (ok: (v: number) => void) => (runs++, ok(1)) };
  const m = new MetricsCollector();
  const build = m.wrapProcess(() => lazy, { flow: "w", process: "query" });
  build();
  await sleep(5);
  assert.equal(runs, 0);
});

test("a wrapped function hands back the very object its function returned", () => {
  const m = new MetricsCollector();
  const query = {
    where() {
      return this;
    },
    then(ok: (v: unknown[]) => void) {
      ok([]);
    },
  };
  const build = m.wrapProcess(() => query, { flow: "w", process: "builder" });
  const got = build();
  assert.equal(got, query);
});

test("wrapping the same labels twice feeds one series", async () => {
  const m = new MetricsCollector();
  const a = m.wrapProcess(() => 1, { flow: "w", process: "twice" });
  const b = m.wrapProcess(() => 2, { flow: "w", process: "twice" });
  a();
  b();
  b();
  const e = parseExposition(await m.render("text"));
  const count = `${N("processProcessing")}_count`;
  assert.equal(samplesOf(e, count, { process: "twice" }).length, 1);
  assert.equal(valueOf(e, count, { process: "twice" }), 3);
});

test("wrapProcess refuses a non-function and bad labels with a TypeError", () => {
  const m = new MetricsCollector();
  const wrap = m.wrapProcess as (fn: unknown, labels: unknown) => unknown;
  assert.throws(() => wrap.call(m, 42, { flow: "w", process: "p" }), {
    name: "TypeError",
    message: /expected a function, received number/,
  });
  for (const labels of [null, {}, { flow: "w" }, { flow: 1, process: "p" }]) {
    assert.throws(() => wrap.call(m, () => 1, labels), TypeError);
  }
});

test("a wrapped function's own series comes back when the flow of the same labels is untracked", async () => {
  const m = new MetricsCollector();
  const net = sinks(1, "f");
  m.track(net);
  const fn = m.wrapProcess(() => 1, { flow: "f", process: "P0" });
  fn();
  const count = `${N("processProcessing")}_count`;
  const tracked = parseExposition(await m.render("text"));
  assert.equal(samplesOf(tracked, count, { flow: "f" }).length, 1);
  assert.equal(valueOf(tracked, count, { flow: "f" }), 1);
  m.untrack(net);
  fn();
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, count, { flow: "f" }).length, 1);
  assert.equal(valueOf(e, count, { flow: "f" }), 2);
});

// ---- flow operations and metadata ----------------------------------------

test("recordFlowOperation refuses an unknown operation or result with a RangeError and counts nothing", async () => {
  const m = new MetricsCollector();
  const record = m.recordFlowOperation.bind(m) as (
    o: unknown,
    r: unknown,
  ) => void;
  for (
    const [o, r] of [
      ["create", "ok"],
      ["Create", "success"],
      ["create\0success", ""],
      [undefined, "success"],
      ["__proto__", "error"],
    ]
  ) {
    assert.throws(() => record(o, r), RangeError, `${String(o)}/${r}`);
  }
  const e = parseExposition(await m.render("text"));
  const ops = samplesOf(e, N("flowOperations"));
  assert.equal(ops.length, 10);
  for (const s of ops) assert.equal(s.value, 0);
});

test("metadata lists user metrics of every type with their type, help and labels", () => {
  const m = new MetricsCollector();
  userMetrics(m);
  const meta = m.metadata();
  assert.deepEqual(meta.app_jobs_total, [{
    type: "counter",
    help: "Jobs.",
    unit: "",
    labels: ["queue"],
  }]);
  assert.equal(meta.app_retries[0].type, "counter");
  assert.equal(meta.app_temperature_celsius[0].type, "gauge");
  assert.equal(meta.app_request_seconds[0].type, "histogram");
  assert.equal(meta.app_payload_bytes[0].type, "summary");
});

test("metadata names every family the text exposition types", async () => {
  const m = new MetricsCollector();
  userMetrics(m);
  m.track(await oddFlow());
  const meta = m.metadata();
  const e = parseExposition(await m.render("text"));
  for (const [name, type] of e.types) {
    assert.equal(meta[name]?.[0].type, type, name);
  }
});

// ---- over HTTP -------------------------------------------------------------

test("concurrent gzip scrapes of a real collector through metricsApp each read back whole", async () => {
  const m = new MetricsCollector();
  userMetrics(m);
  m.track(await oddFlow());
  const app = metricsApp(m);
  const plain = await m.render("text");
  const responses = await Promise.all(
    Array.from(
      { length: 4 },
      () => app.request("/metrics", { headers: { "Accept-Encoding": "gzip" } }),
    ),
  );
  for (const res of responses) {
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-encoding"), "gzip");
    const body = gunzipSync(new Uint8Array(await res.arrayBuffer()))
      .toString("utf8");
    assert.equal(body, plain);
  }
});

test("HEAD /metrics with Accept-Encoding gzip answers the gzip headers and no body", async () => {
  const m = new MetricsCollector();
  const app = metricsApp(m);
  const res = await app.request("/metrics", {
    method: "HEAD",
    headers: { "Accept-Encoding": "gzip" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-encoding"), "gzip");
  assert.equal(
    res.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  assert.equal((await res.arrayBuffer()).byteLength, 0);
});

test("an Accept header over 4 KiB is answered in text 0.0.4, not refused", async () => {
  const m = new MetricsCollector();
  const app = metricsApp(m);
  const accept = "application/openmetrics-text;version=1.0.0," +
    Array.from({ length: 400 }, (_, i) => `x/y${i};q=0.1`).join(",");
  assert.ok(accept.length > 4096);
  const res = await app.request("/metrics", { headers: { Accept: accept } });
  assert.equal(res.status, 200);
  assert.equal(
    res.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
});

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

// ---- the command line -------------------------------------------------------

test("weir run --metrics [::1]:0 serves the flow's metrics on IPv6 loopback", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-edge-"));
  const graph = join(dir, "ticks.fbp");
  writeFileSync(
    graph,
    `# @name v6
'20ms' -> interval Tick(core/Interval)
40 -> count Tick
Tick out -> in Sink(core/Drop)
`,
  );
  const log = console.log;
  const error = console.error;
  const err: string[] = [];
  let scraped: Promise<string> | undefined;
  console.log = () => {};
  console.error = (...a: unknown[]) => {
    const line = a.join(" ");
    err.push(line);
    // Printed once the server listens, before the flow starts.
    const url = /metrics at (http:\/\/\S+\/metrics)/.exec(line)?.[1];
    if (url) scraped = fetch(url).then((r) => r.text());
  };
  let code: number;
  try {
    code = await main(["run", graph, "--metrics", "[::1]:0"], {
      env: {},
      isTerminal: true,
    });
  } catch (e) {
    code = e instanceof CliError ? e.code : -1;
    err.push(String(e));
  } finally {
    console.log = log;
    console.error = error;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(code, 0, err.join("\n"));
  assert.match(err.join("\n"), /metrics at http:\/\/\[::1\]:\d+\/metrics/);
  assert.ok(scraped, err.join("\n"));
  const e = parseExposition(await scraped);
  assert.equal(
    typeof valueOf(e, N("processMessages"), {
      flow: "v6",
      process: "Tick",
      port: "out",
      direction: "out",
    }),
    "number",
  );
});

test("weir refuses --metrics with an IPv6 address that is not in brackets or has no port, exit 2", async () => {
  const error = console.error;
  console.error = () => {};
  try {
    for (const bad of ["::1:9464", "[::1]", "[::1]:", "::1"]) {
      await assert.rejects(
        main(["run", "never-read.fbp", "--metrics", bad], { env: {} }),
        (e: unknown) =>
          e instanceof CliError && e.code === 2 &&
          /--metrics needs host:port/.test(e.message),
        bad,
      );
    }
  } finally {
    console.error = error;
  }
});
